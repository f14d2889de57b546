//! The native NATS-Bench archive reader against the official sample archives
//! (`shared/data/nats_bench_raw`, PROVENANCE §10) and the values derived from them with the
//! official semantics (`nats_fixtures/nats_fixture_summary.csv`, §3).
#![cfg(feature = "table")]

mod common;

use greenfactory::nats::{self, pickle, Archive, NatsError};
use greenfactory::space::Space;
use greenfactory::table;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

fn raw(space: &str) -> PathBuf {
    common::data_dir().join("nats_bench_raw").join(match space {
        "tss" => "NATS-tss-v1_0-3ffb9-simple",
        _ => "NATS-sss-v1_0-50262-simple",
    })
}

/// A fresh scratch directory for one test (no tempfile crate needed).
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gf-nats-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(1.0)
}

#[test]
fn fixture_summary_matches_every_row() {
    let path = common::data_dir().join("nats_fixtures/nats_fixture_summary.csv");
    let (h, rows) = common::read_csv(&path);
    assert_eq!(rows.len(), 60);
    let tss = Archive::open(&raw("tss")).unwrap();
    let sss = Archive::open(&raw("sss")).unwrap();
    for row in &rows {
        let get = |c: &str| row[common::col(&h, c)].as_str();
        let num = |c: &str| get(c).parse::<f64>().unwrap();
        let opt = |c: &str| (!get(c).is_empty()).then(|| num(c));
        let archive = if get("space") == "tss" { &tss } else { &sss };
        let index: usize = get("index").parse().unwrap();
        let rec = archive.read_record(index).unwrap();
        assert_eq!(rec.arch, get("arch_str"));
        let info = rec.more_info(get("dataset"), get("hp")).unwrap();
        let ctx = format!("{row:?} vs {info:?}");
        let mut seeds = info.seeds.clone();
        seeds.sort();
        let want: Vec<i64> = get("seeds")
            .split(' ')
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(seeds, want, "{ctx}");
        assert_eq!(info.seeds.len(), num("n_seeds") as usize, "{ctx}");
        assert!(close(info.train_acc, num("train_acc")), "{ctx}");
        assert!(close(info.params_m, num("params_M")), "{ctx}");
        assert!(close(info.flops_m, num("flops_M")), "{ctx}");
        assert!(close(info.latency_s.unwrap(), num("latency_s")), "{ctx}");
        for (got, col) in [
            (info.valid_acc, "valid_acc"),
            (info.test_acc, "test_acc"),
            (info.valtest_acc, "valtest_acc"),
        ] {
            match (got, opt(col)) {
                (Some(g), Some(w)) => assert!(close(g, w), "{col}: {ctx}"),
                (None, None) => {}
                _ => panic!("{col} presence differs: {ctx}"),
            }
        }
    }
}

#[test]
fn meta_is_the_official_order() {
    let t = Archive::open(&raw("tss")).unwrap();
    assert_eq!((t.space(), t.archs().len()), (Space::Tss, 15_625));
    let s = Archive::open(&raw("sss")).unwrap();
    assert_eq!((s.space(), s.archs().len()), (Space::Sss, 32_768));
    assert_eq!(s.archs()[0], "8:8:8:8:8");
    assert_eq!(t.present_indices().unwrap(), vec![0, 11, 284]);
}

#[test]
fn import_dir_reads_the_samples() {
    let (labels, summary) = table::read_nats(&raw("tss"), None).unwrap();
    assert_eq!(summary.rows, 9);
    assert_eq!(summary.archs, 3);
    assert_eq!(summary.meta_archs, Some(15_625));
    assert_eq!(summary.hp.as_deref(), Some("200"));
    let rows = labels.rows().unwrap();
    // TSS hp=200 test accuracies agree with the official label CSV (PROVENANCE §1).
    let (h, csv) =
        common::read_csv(&common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv"));
    for r in &rows {
        let line = &csv[r.arch_index as usize];
        let col = match r.dataset.name() {
            "cifar10" => "cifar10_test_acc",
            "cifar100" => "cifar100_test_acc",
            _ => "imagenet16_120_test_acc",
        };
        let want: f64 = line[common::col(&h, col)].parse().unwrap();
        assert!(close(r.test_acc.unwrap(), want), "{r:?} vs {want}");
        assert_eq!(r.arch, line[common::col(&h, "arch_str")]);
        assert!(r.params_m.is_some() && r.flops_m.is_some() && r.train_acc.is_some());
        assert_eq!(r.valid_acc.is_none(), r.dataset.name() == "cifar10");
    }
    let (sss_labels, sss) = table::read_nats(&raw("sss"), None).unwrap();
    assert_eq!((sss.rows, sss.hp.as_deref()), (9, Some("90")));
    let r = sss_labels.rows().unwrap();
    let r0 = r
        .iter()
        .find(|r| r.arch_index == 0 && r.dataset.name() == "cifar10")
        .unwrap();
    assert!(close(r0.test_acc.unwrap(), 79.79) && close(r0.params_m.unwrap(), 0.011714));
    // hp "12" is also importable.
    let (_, h12) = table::read_nats(&raw("sss"), Some("12")).unwrap();
    assert_eq!(h12.hp.as_deref(), Some("12"));
    let e = nats::import_dir(&raw("tss"), Some("90")).unwrap_err();
    // Files are read in parallel: whichever fails first is named.
    assert!(
        e.to_string().contains(".pickle.pbz2") && e.to_string().contains("no hp \"90\""),
        "{e}"
    );
}

#[test]
fn corrupt_files_give_one_line_errors_naming_the_file() {
    let d = scratch("corrupt");
    copy_dir(&raw("tss"), &d);
    let f = d.join("000011.pickle.pbz2");
    // Truncated bzip2 stream.
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    let a = Archive::open(&d).unwrap();
    let e = a.read_record(11).unwrap_err();
    assert!(matches!(e, NatsError::Bzip2 { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("000011.pickle.pbz2") && !msg.contains('\n'),
        "{msg}"
    );
    assert!(nats::import_dir(&d, None).is_err());
    // Not bzip2 at all.
    std::fs::write(&f, b"garbage, not bzip2").unwrap();
    assert!(matches!(a.read_record(11), Err(NatsError::Bzip2 { .. })));
    // Valid bzip2 of a truncated pickle.
    let pickle_bytes = decompress(&raw("tss").join("000011.pickle.pbz2"));
    let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    enc.write_all(&pickle_bytes[..pickle_bytes.len() - 100])
        .unwrap();
    std::fs::write(&f, enc.finish().unwrap()).unwrap();
    let e = a.read_record(11).unwrap_err();
    assert!(matches!(e, NatsError::Pickle { .. }), "{e:?}");
    assert!(e.to_string().contains("000011.pickle.pbz2"), "{e}");
    // Corrupt meta.
    std::fs::write(d.join("meta.pickle.pbz2"), b"BZh9 broken").unwrap();
    let e = Archive::open(&d).unwrap_err();
    assert!(e.to_string().contains("meta.pickle.pbz2"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn missing_arch_and_unknown_layout() {
    let a = Archive::open(&raw("tss")).unwrap();
    let e = a.read_record(5).unwrap_err();
    assert!(
        matches!(e, NatsError::MissingArch { index: 5, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("000005.pickle.pbz2"), "{e}");
    let e = a.read_record(15_625).unwrap_err();
    assert!(matches!(e, NatsError::MissingArch { .. }), "{e:?}");
    let d = scratch("nometa");
    std::fs::copy(
        raw("tss").join("000000.pickle.pbz2"),
        d.join("000000.pickle.pbz2"),
    )
    .unwrap();
    let e = Archive::open(&d).unwrap_err();
    assert!(matches!(e, NatsError::NotArchive { .. }), "{e:?}");
    assert!(e.to_string().contains("gf-nats-"), "{e}");
    assert!(nats::import_dir(&d, None).is_err());
    // A record file under the wrong name (arch 0's record as arch 11) is a layout error.
    let d2 = scratch("wrongname");
    std::fs::copy(
        raw("tss").join("meta.pickle.pbz2"),
        d2.join("meta.pickle.pbz2"),
    )
    .unwrap();
    std::fs::copy(
        raw("tss").join("000000.pickle.pbz2"),
        d2.join("000011.pickle.pbz2"),
    )
    .unwrap();
    let e = Archive::open(&d2).unwrap().read_record(11).unwrap_err();
    assert!(matches!(e, NatsError::Layout { .. }), "{e:?}");
    // Only an empty archive: no arch files.
    std::fs::remove_file(d2.join("000011.pickle.pbz2")).unwrap();
    assert!(matches!(
        nats::import_dir(&d2, None),
        Err(NatsError::Empty { .. })
    ));
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::remove_dir_all(&d2).unwrap();
}

fn decompress(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    bzip2::read::BzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Truncations of a real record must error, byte flips must not panic.
#[test]
fn pickle_fuzz_truncations_and_flips() {
    let data = decompress(&raw("sss").join("000011.pickle.pbz2"));
    assert!(pickle::loads(&data).is_ok());
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let cut = (next() % data.len() as u64) as usize;
        assert!(pickle::loads(&data[..cut]).is_err(), "cut at {cut}");
    }
    for _ in 0..300 {
        let mut d = data.clone();
        for _ in 0..4 {
            let i = (next() % d.len() as u64) as usize;
            d[i] = next() as u8;
        }
        let _ = pickle::loads(&d);
    }
}
