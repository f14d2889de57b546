//! Label/proxy tables and the join on the real files (PROVENANCE §1, §6b), and the documented
//! error policy on small bad tables written to scratch directories.
#![cfg(feature = "table")]

mod common;

use greenfactory::provenance::{Accuracy, Manifest, ProxyConfig};
use greenfactory::space::{NatsDataset, Space, TssArch};
use greenfactory::table::{
    self, features_for_predict, join, read_any, read_labels, read_proxies, AnyTable,
    ImportCsvOptions, JoinOptions, ProxyTable, TableError,
};
use polars::prelude::{KeyValueMetadata, ParquetReader, ParquetWriter, SerReader};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gf-table-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tss_csv() -> PathBuf {
    common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv")
}

fn suite_zero(ds: &str) -> PathBuf {
    common::data_dir().join(format!(
        "zc_nasbench_suite_zero/nb201_{ds}_zc_proxies_joined.csv"
    ))
}

use common::SUITE_ZERO_PROXIES as PROXIES;

#[test]
fn tss_label_csv_import() {
    let d = scratch("import");
    let out = d.join("labels.parquet");
    let s = table::import_csv(&tss_csv(), &out, &ImportCsvOptions::default()).unwrap();
    assert_eq!((s.rows, s.archs), (15_625 * 3, 15_625));
    assert_eq!(s.datasets, ["cifar10", "cifar100", "imagenet16-120"]);
    assert_eq!(s.hp.as_deref(), Some("200"));
    assert!(!d.join("labels.parquet.tmp").exists());
    let labels = read_labels(&out).unwrap();
    assert_eq!(labels.height(), 46_875);
    let names: Vec<String> = labels
        .frame()
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(names, table::LABEL_COLUMNS);
    let rows = labels.rows().unwrap();
    let (h, csv) = common::read_csv(&tss_csv());
    for idx in [0usize, 11, 284] {
        for (ds, col) in [
            ("cifar10", "cifar10_test_acc"),
            ("cifar100", "cifar100_test_acc"),
            ("imagenet16-120", "imagenet16_120_test_acc"),
        ] {
            let r = rows
                .iter()
                .find(|r| r.arch_index == idx as i64 && r.dataset.name() == ds)
                .unwrap();
            let want: f64 = csv[idx][common::col(&h, col)].parse().unwrap();
            assert_eq!(r.test_acc, Some(want), "{idx} {ds}");
            assert_eq!(r.arch, TssArch::from_index(idx).unwrap().to_string());
            assert_eq!((r.space, r.hp.as_str()), (Space::Tss, "200"));
        }
    }
    // Same values as the official archive records (fixture summary, hp 200).
    let (fh, fixture) =
        common::read_csv(&common::data_dir().join("nats_fixtures/nats_fixture_summary.csv"));
    let mut checked = 0;
    for f in fixture
        .iter()
        .filter(|f| f[0] == "tss" && f[common::col(&fh, "hp")] == "200")
    {
        let Ok(ds) = table::normalize_dataset(&f[common::col(&fh, "dataset")]) else {
            continue;
        };
        if f[common::col(&fh, "dataset")] == "cifar10-valid" {
            continue;
        }
        let idx: i64 = f[common::col(&fh, "index")].parse().unwrap();
        let r = rows
            .iter()
            .find(|r| r.arch_index == idx && r.dataset.name() == ds)
            .unwrap();
        let want: f64 = f[common::col(&fh, "test_acc")].parse().unwrap();
        assert!((r.test_acc.unwrap() - want).abs() < 1e-6, "{idx} {ds}");
        checked += 1;
    }
    assert_eq!(checked, 9);
    // read_any on the raw CSV recognises it as labels too.
    assert!(matches!(read_any(&tss_csv()).unwrap(), AnyTable::Labels(l) if l.height() == 46_875));
    std::fs::remove_dir_all(&d).unwrap();
}

fn check_suite_zero_join(ds_file: &str, ds: NatsDataset) {
    let proxies = read_proxies(&suite_zero(ds_file)).unwrap();
    assert_eq!(proxies.height(), 9_445);
    assert_eq!(proxies.feature_names(), PROXIES);
    let labels = read_labels(&tss_csv()).unwrap();
    let (data, report) = join(
        &proxies,
        &labels,
        ds,
        &Accuracy::Test,
        &JoinOptions::default(),
    )
    .unwrap();
    assert_eq!(data.n_rows(), 9_445);
    assert_eq!(data.feature_names, PROXIES);
    assert_eq!(report.rows, 9_445);
    assert_eq!(report.labels_without_proxies, 15_625 - 9_445);
    assert_eq!(
        (
            report.missing_labels,
            report.failed_status,
            report.non_finite
        ),
        (0, 0, 0)
    );
    let (h, csv) = common::read_csv(&suite_zero(ds_file));
    let by_index: HashMap<usize, &Vec<String>> = csv
        .iter()
        .map(|r| (r[common::col(&h, "nats_index")].parse().unwrap(), r))
        .collect();
    for i in 0..data.n_rows() {
        let line = by_index[&data.row_keys[i]];
        let want: f64 = line[common::col(&h, "nats_test_acc_hp200")]
            .parse()
            .unwrap();
        assert!((data.y[i] - want).abs() < 1e-6, "arch {}", data.row_keys[i]);
        assert_eq!(data.row_names[i], line[common::col(&h, "arch_str")]);
        let synflow: f64 = line[common::col(&h, "synflow")].parse().unwrap();
        assert_eq!(data.row(i)[11], synflow);
    }
    let groups = data.groups.as_ref().unwrap();
    assert_eq!(groups.len(), 9_445);
    let mut g = groups.clone();
    g.sort();
    g.dedup();
    assert!(g.len() > 1000 && g.len() <= 6_466, "{}", g.len());
    // Same isomorphism class ⇔ same group.
    let a = TssArch::from_index(data.row_keys[0]).unwrap();
    assert_eq!(groups[0], table::fnv1a64(a.unique_str().as_bytes()));
}

#[test]
fn suite_zero_cifar10_join_matches_joined_labels() {
    check_suite_zero_join("cifar10", NatsDataset::Cifar10);
}

#[test]
fn suite_zero_imagenet_join_matches_joined_labels() {
    check_suite_zero_join("imagenet16_120", NatsDataset::ImageNet16_120);
}

/// A small proxy CSV: archs `indices` with features f1, f2 (from `value`), optional status.
fn write_proxy_csv(path: &Path, rows: &[(usize, &str, &str)], status: bool) {
    let mut s = String::from("space,dataset,arch_index,arch,f1,f2");
    s += if status { ",status\n" } else { "\n" };
    for (i, f2, st) in rows {
        let arch = TssArch::from_index(*i).unwrap();
        s += &format!("tss,cifar10,{i},{arch},{},{f2}", *i as f64 * 0.5);
        s += &if status {
            format!(",{st}\n")
        } else {
            "\n".into()
        };
    }
    std::fs::write(path, s).unwrap();
}

fn write_label_csv(path: &Path, indices: &[usize]) {
    let mut s = String::from("space,dataset,arch_index,arch,hp,test_acc\n");
    for i in indices {
        let arch = TssArch::from_index(*i).unwrap();
        s += &format!("tss,CIFAR10,{i},{arch},200,{}\n", 50.0 + *i as f64);
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn join_policy_on_small_bad_tables() {
    let d = scratch("bad");
    let lp = d.join("labels.csv");
    write_label_csv(&lp, &[0, 1, 2, 3]);
    let labels = read_labels(&lp).unwrap();
    let opts = JoinOptions::default();
    let pp = d.join("p.csv");

    // Clean: 3 rows, y from labels, groups present.
    write_proxy_csv(&pp, &[(0, "1", ""), (1, "2", ""), (2, "3", "")], false);
    let p = read_proxies(&pp).unwrap();
    let (data, rep) = join(&p, &labels, NatsDataset::Cifar10, &Accuracy::Test, &opts).unwrap();
    assert_eq!(data.y, [50.0, 51.0, 52.0]);
    assert_eq!(data.x, [0.0, 1.0, 0.5, 2.0, 1.0, 3.0]);
    assert_eq!(rep.labels_without_proxies, 1);

    // Duplicate proxy arch.
    write_proxy_csv(&pp, &[(0, "1", ""), (1, "2", ""), (1, "3", "")], false);
    let e = join(
        &read_proxies(&pp).unwrap(),
        &labels,
        NatsDataset::Cifar10,
        &Accuracy::Test,
        &opts,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            TableError::Duplicate {
                side: "proxy",
                index: 1,
                count: 2,
                ..
            }
        ),
        "{e}"
    );

    // Duplicate label arch.
    write_label_csv(&d.join("dup.csv"), &[0, 1, 1]);
    write_proxy_csv(&pp, &[(0, "1", ""), (1, "2", "")], false);
    let p = read_proxies(&pp).unwrap();
    let dup = read_labels(&d.join("dup.csv")).unwrap();
    let e = join(&p, &dup, NatsDataset::Cifar10, &Accuracy::Test, &opts).unwrap_err();
    assert!(
        matches!(
            e,
            TableError::Duplicate {
                side: "label",
                index: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("dup.csv"), "{e}");

    // Missing labels: error, or dropped and counted.
    write_proxy_csv(&pp, &[(0, "1", ""), (7, "2", ""), (9, "2", "")], false);
    let p = read_proxies(&pp).unwrap();
    let e = join(&p, &labels, NatsDataset::Cifar10, &Accuracy::Test, &opts).unwrap_err();
    assert!(
        matches!(
            e,
            TableError::MissingLabels {
                count: 2,
                example: 7,
                ..
            }
        ),
        "{e}"
    );
    let allow = JoinOptions {
        allow_missing_labels: true,
        ..JoinOptions::default()
    };
    let (data, rep) = join(&p, &labels, NatsDataset::Cifar10, &Accuracy::Test, &allow).unwrap();
    assert_eq!((data.n_rows(), rep.missing_labels), (1, 2));

    // A null target (valid_acc is absent in these labels) is a missing label too.
    write_proxy_csv(&pp, &[(0, "1", "")], false);
    let p = read_proxies(&pp).unwrap();
    let e = join(&p, &labels, NatsDataset::Cifar10, &Accuracy::Valid, &opts).unwrap_err();
    assert!(e.to_string().contains("null valid_acc"), "{e}");

    // Non-finite feature: error naming arch and column, or dropped and counted.
    write_proxy_csv(&pp, &[(0, "1", ""), (1, "NaN", ""), (2, "inf", "")], false);
    let p = read_proxies(&pp).unwrap();
    let e = join(&p, &labels, NatsDataset::Cifar10, &Accuracy::Test, &opts).unwrap_err();
    match &e {
        TableError::NonFinite {
            column,
            index,
            arch,
            ..
        } => {
            assert_eq!((column.as_str(), *index), ("f2", 1));
            assert_eq!(*arch, TssArch::from_index(1).unwrap().to_string());
        }
        _ => panic!("{e}"),
    }
    let drop = JoinOptions {
        drop_non_finite: true,
        ..JoinOptions::default()
    };
    let (data, rep) = join(&p, &labels, NatsDataset::Cifar10, &Accuracy::Test, &drop).unwrap();
    assert_eq!((data.n_rows(), rep.non_finite), (1, 2));

    // Failed status rows are excluded and counted.
    write_proxy_csv(
        &pp,
        &[(0, "1", "ok"), (1, "2", "failed"), (2, "3", "ok")],
        true,
    );
    let p = read_proxies(&pp).unwrap();
    let (data, rep) = join(&p, &labels, NatsDataset::Cifar10, &Accuracy::Test, &opts).unwrap();
    assert_eq!((data.n_rows(), rep.failed_status), (2, 1));
    assert_eq!(data.row_keys, [0, 2]);
    // predict keeps a failed row, with the reason instead of features.
    let rows = features_for_predict(&p, &["f1".into(), "f2".into()]).unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].features.is_ok() && rows[2].features.is_ok());
    let why = rows[1].features.as_ref().unwrap_err();
    assert!(why.contains("failed"), "{why}");

    // Expected feature list: reordered when equal as a set, error naming differences otherwise.
    write_proxy_csv(&pp, &[(0, "1", ""), (1, "2", "")], false);
    let p = read_proxies(&pp).unwrap();
    let want = JoinOptions {
        expected_features: Some(vec!["f2".into(), "f1".into()]),
        ..JoinOptions::default()
    };
    let (data, _) = join(&p, &labels, NatsDataset::Cifar10, &Accuracy::Test, &want).unwrap();
    assert_eq!(
        (data.feature_names.clone(), data.row(1).to_vec()),
        (vec!["f2".to_string(), "f1".into()], vec![2.0, 0.5])
    );
    let bad = JoinOptions {
        expected_features: Some(vec!["f1".into(), "snip".into()]),
        ..JoinOptions::default()
    };
    match join(&p, &labels, NatsDataset::Cifar10, &Accuracy::Test, &bad).unwrap_err() {
        TableError::FeatureMismatch { missing, extra, .. } => {
            assert_eq!(
                (missing, extra),
                (vec!["snip".to_string()], vec!["f2".to_string()])
            )
        }
        e => panic!("{e}"),
    }
    let rows = features_for_predict(&p, &["f2".into(), "f1".into()]).unwrap();
    let idx: Vec<usize> = rows.iter().map(|r| r.index).collect();
    let x: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.features.clone().unwrap())
        .collect();
    assert_eq!((idx, x), (vec![0, 1], vec![1.0, 0.0, 2.0, 0.5]));
    assert_eq!(rows[1].arch, TssArch::from_index(1).unwrap().to_string());
    assert!(matches!(
        features_for_predict(&p, &["f1".into()]),
        Err(TableError::FeatureMismatch { .. })
    ));

    // An arch string that is not the official one for its index.
    std::fs::write(
        &pp,
        format!(
            "space,dataset,arch_index,arch,f1\ntss,cifar10,0,{},1\n",
            TssArch::from_index(1).unwrap()
        ),
    )
    .unwrap();
    let e = join(
        &read_proxies(&pp).unwrap(),
        &labels,
        NatsDataset::Cifar10,
        &Accuracy::Test,
        &opts,
    )
    .unwrap_err();
    assert!(e.to_string().contains("arch_index 0"), "{e}");

    // Unknown dataset / extension, and a label table given as proxies.
    assert!(matches!(
        table::normalize_dataset("mnist"),
        Err(TableError::UnknownDataset(_))
    ));
    let e = read_any(&d.join("x.xlsx")).unwrap_err();
    assert!(matches!(e, TableError::UnknownExtension { .. }) && e.to_string().contains("x.xlsx"));
    // JSON is NAS-Bench-Macro's benchmark file, nothing else.
    let bad = d.join("other.json");
    std::fs::write(&bad, r#"{"12012201": {"acc": 91.0}}"#).unwrap();
    let e = read_any(&bad).unwrap_err().to_string();
    assert!(
        e.contains("other.json") && e.contains("not NAS-Bench-Macro's benchmark file"),
        "{e}"
    );
    std::fs::write(
        &bad,
        r#"{"1201220": {"test_acc": [1, 2, 3], "mean_acc": 2, "std": 1, "params": 1, "flops": 1}}"#,
    )
    .unwrap();
    let e = read_any(&bad).unwrap_err().to_string();
    assert!(
        e.contains("key \"1201220\"") && e.contains("expected 8 digits"),
        "{e}"
    );
    assert!(read_proxies(&lp).is_err());
    let e = read_labels(&d.join("nope.csv")).unwrap_err();
    assert!(e.to_string().contains("nope.csv"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// A manifest for the rows of `t` (a Suite-Zero table here: the values do not matter).
fn manifest(t: &ProxyTable) -> Manifest {
    Manifest {
        space: Space::Tss,
        dataset: NatsDataset::Cifar10,
        proxies: t.feature_names(),
        config: ProxyConfig::default(),
        archs: t
            .arch_indices()
            .unwrap()
            .iter()
            .map(|&i| i as usize)
            .collect(),
        chunk_size: 50,
        device_kind: "cpu".parse().unwrap(),
        shard: None,
    }
}

#[test]
fn concat_merges_comparable_extractions_only() {
    let all = read_proxies(&suite_zero("cifar10")).unwrap();
    let part = |range: std::ops::Range<usize>, device: &str| {
        let df = all.frame().slice(range.start as i64, range.len());
        let mut t = ProxyTable::from_df(df, None, &format!("rows {range:?}")).unwrap();
        let mut m = manifest(&t);
        m.device_kind = device.parse().unwrap();
        t.config = Some(m);
        t
    };
    let (a, b) = (part(0..100, "cuda"), part(100..250, "cpu"));
    let both = ProxyTable::concat(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(both.height(), 250);
    let m = both.config.unwrap();
    assert_eq!(m.archs, manifest(&all).archs[..250].to_vec());
    assert_eq!(m.device_kind.to_string(), "cuda+cpu");
    // Another run seed: the values are not comparable.
    let mut c = part(250..300, "cpu");
    c.config.as_mut().unwrap().config.seed = 7;
    let e = ProxyTable::concat(&[a.clone(), b, c])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("rows 250..300")
            && e.contains("proxy configuration")
            && e.contains("rows 0..100"),
        "{e}"
    );
    // An external table does not go with an extraction.
    let mut ext = part(300..310, "cpu");
    ext.config = None;
    let e = ProxyTable::concat(&[a, ext]).unwrap_err().to_string();
    assert!(e.contains("not a greenfactory extraction"), "{e}");
}

#[test]
fn proxy_parquet_round_trip_keeps_config() {
    let d = scratch("roundtrip");
    let proxies = read_proxies(&suite_zero("cifar10")).unwrap();
    let mut t = proxies.clone();
    t.config = Some(manifest(&proxies));
    let out = d.join("proxies.parquet");
    table::write_proxies(&t, &out).unwrap();
    assert!(!d.join("proxies.parquet.tmp").exists());
    let back = read_proxies(&out).unwrap();
    assert_eq!(back.config, t.config);
    assert!(back.frame().equals_missing(t.frame()));
    // A configuration that is not a manifest is refused on read, naming the file.
    let bad = d.join("bad.parquet");
    let mut df = t.frame().clone();
    ParquetWriter::new(std::fs::File::create(&bad).unwrap())
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![(
            table::PROXY_CONFIG_KEY.into(),
            r#"{"proxies":["synflow"],"batch_size":64}"#.into(),
        )])))
        .finish(&mut df)
        .unwrap();
    let e = read_proxies(&bad).unwrap_err().to_string();
    assert!(
        e.contains("bad.parquet") && e.contains("unreadable proxy configuration"),
        "{e}"
    );
    // Label tables round-trip too and carry no proxy config.
    let labels = read_labels(&tss_csv()).unwrap();
    let lo = d.join("labels.parquet");
    table::write_labels(&labels, &lo).unwrap();
    assert!(read_labels(&lo)
        .unwrap()
        .frame()
        .equals_missing(labels.frame()));
    // Writing to a non-.parquet path is refused.
    assert!(table::write_labels(&labels, &d.join("labels.csv")).is_err());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn import_nats_writes_parquet() {
    let d = scratch("nats");
    let out = d.join("sss.parquet");
    let dir = common::data_dir().join("nats_bench_raw/NATS-sss-v1_0-50262-simple");
    let s = table::import_nats(&dir, &out, None).unwrap();
    assert_eq!((s.rows, s.archs, s.meta_archs), (9, 3, Some(32_768)));
    let l = read_labels(&out).unwrap();
    assert_eq!(l.height(), 9);
    assert!(l
        .rows()
        .unwrap()
        .iter()
        .all(|r| r.space == Space::Sss && r.hp == "90"));
    std::fs::remove_dir_all(&d).unwrap();
}

/// The manifests stored in the shipped tables parse into [`Manifest`] and serialize back to the
/// exact text stored: a table rewritten by this build keeps its metadata byte for byte.
#[test]
fn shipped_table_manifests_round_trip_as_text() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let mut reader = ParquetReader::new(std::fs::File::open(&path).unwrap());
        let raw = reader
            .get_metadata()
            .unwrap()
            .key_value_metadata()
            .as_ref()
            .and_then(|kv| kv.iter().find(|k| k.key == table::PROXY_CONFIG_KEY))
            .and_then(|k| k.value.clone())
            .expect("a shipped extraction records its manifest");
        let manifest = read_proxies(&path).unwrap().config.unwrap();
        assert_eq!(manifest.to_json(), raw, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 7, "only {seen} shipped tables");
}
