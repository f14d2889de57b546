//! NATS-Bench SSS end to end: the hp=90 validation-accuracy labels (PROVENANCE §11), the
//! committed complete tables, the shipped SSS models, and the refusals when spaces or label
//! kinds are mixed.
#![cfg(feature = "cli")]
mod common;

use common::{assert_one_line_error, gf};
use greenfactory::provenance::{Accuracy, LabelKind};
use greenfactory::space::{NatsDataset, Space};
use greenfactory::table::{self, read_labels, read_proxies, ImportCsvOptions, JoinOptions};
use std::path::PathBuf;

fn sss_csv() -> PathBuf {
    common::data_dir().join("nats_sss/nats_sss_valid_acc_hp90.csv")
}

fn tss_csv() -> PathBuf {
    common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv")
}

/// `greenfactory search --space sss` on `dataset` with its shipped model and complete table,
/// plus `extra`.
fn sss_search(dataset: &str, extra: &[&str]) -> std::process::Output {
    let model = repo(&format!("models/sss_{dataset}.gfm"));
    let table = repo(&format!("datasets/sss_{dataset}_all.parquet"));
    let mut a = vec![
        "search",
        "--space",
        "sss",
        "--dataset",
        dataset,
        "--model",
        &model,
        "--features",
        &table,
    ];
    a.extend_from_slice(extra);
    gf(&a)
}

fn repo(rel: &str) -> String {
    format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gf-sss-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const DATASETS: [(NatsDataset, &str); 3] = [
    (NatsDataset::Cifar10, "cifar10_valid_acc"),
    (NatsDataset::Cifar100, "cifar100_valid_acc"),
    (NatsDataset::ImageNet16_120, "imagenet16_120_valid_acc"),
];

/// The SSS CSV reads as hp=90 validation accuracies (never test accuracies), and on the three
/// official fixture archs it equals what the official NATS-Bench archive records: `x-valid`
/// after 90 epochs of the single seed (PROVENANCE §11: index 0 is 76.89 / 32.24 / 16.60).
#[test]
fn sss_labels_are_hp90_validation_accuracies_equal_to_the_official_archive() {
    let labels = read_labels(&sss_csv()).unwrap();
    assert_eq!(labels.height(), 32_768 * 3);
    let rows = labels.rows().unwrap();
    assert!(rows.iter().all(|r| r.space == Space::Sss && r.hp == "90"));
    assert!(rows
        .iter()
        .all(|r| r.test_acc.is_none() && r.valid_acc.is_some()));
    let valid90 = LabelKind::new(Accuracy::Valid, Some("90"));
    for (ds, _) in DATASETS {
        assert_eq!(labels.kinds(Space::Sss, ds).unwrap(), vec![valid90.clone()]);
        assert_eq!(labels.default_kind(Space::Sss, ds).unwrap(), valid90);
    }
    // The official fixture records (PROVENANCE §3), hp=90: CIFAR-10's `x-valid` is the
    // `cifar10-valid` run's.
    let (h, fixtures) =
        common::read_csv(&common::data_dir().join("nats_fixtures/nats_fixture_summary.csv"));
    let mut checked = 0;
    for f in &fixtures {
        let field = |c: &str| f[common::col(&h, c)].as_str();
        let ds = match field("dataset") {
            "cifar10-valid" => "cifar10",
            "cifar100" => "cifar100",
            "ImageNet16-120" => "imagenet16-120",
            _ => continue,
        };
        if field("space") != "sss" || field("hp") != "90" {
            continue;
        }
        let index: i64 = field("index").parse().unwrap();
        let r = rows
            .iter()
            .find(|r| r.arch_index == index && r.dataset.name() == ds)
            .unwrap();
        assert_eq!(r.arch, field("arch_str"));
        let want: f64 = field("valid_acc").parse().unwrap();
        // Both files hold %.10g of the archive's value.
        assert!(
            (r.valid_acc.unwrap() - want).abs() < 1e-7,
            "{r:?} vs {want}"
        );
        checked += 1;
    }
    assert_eq!(checked, 9);
    let idx0 = |ds: &str| {
        rows.iter()
            .find(|r| r.arch_index == 0 && r.dataset.name() == ds)
            .unwrap()
            .valid_acc
            .unwrap()
    };
    assert!((idx0("cifar10") - 76.89).abs() < 0.005);
    assert!((idx0("cifar100") - 32.24).abs() < 0.005);
    assert!((idx0("imagenet16-120") - 16.60).abs() < 0.005);
    // Asking these labels for test accuracies is an error that says what they hold.
    let test = LabelKind::new(Accuracy::Test, Some("90"));
    let e = labels
        .accuracies(Space::Sss, NatsDataset::Cifar10, &test)
        .unwrap_err()
        .to_string();
    assert!(e.contains("hp=90 validation accuracy"), "{e}");
}

/// `import csv` of the SSS CSV writes the label table; naming the other space is refused.
#[test]
fn sss_label_import_and_refused_space() {
    let d = scratch("import");
    let out = d.join("sss.parquet");
    let s = table::import_csv(&sss_csv(), &out, &ImportCsvOptions::default()).unwrap();
    assert_eq!((s.rows, s.archs), (32_768 * 3, 32_768));
    assert_eq!((s.space, s.hp.as_deref()), (Some(Space::Sss), Some("90")));
    let back = read_labels(&out).unwrap();
    assert_eq!(
        back.rows().unwrap(),
        read_labels(&sss_csv()).unwrap().rows().unwrap()
    );
    let o = gf(&[
        "import",
        "csv",
        sss_csv().to_str().unwrap(),
        "--space",
        "tss",
        "--out",
        d.join("x.parquet").to_str().unwrap(),
    ]);
    assert_one_line_error(&o, "the NATS-Bench SSS label CSV, not a TSS one");
    assert!(!d.join("x.parquet").exists());
}

/// The committed complete tables join with the labels on every arch; the static columns of
/// the fixture archs are NATS-Bench's own params/FLOPs and the channel counts of the string.
#[test]
fn complete_sss_tables_join_every_arch_and_hold_official_costs() {
    let labels = read_labels(&sss_csv()).unwrap();
    let (archive, _) = table::read_nats(
        &common::data_dir().join("nats_bench_raw/NATS-sss-v1_0-50262-simple"),
        Some("90"),
    )
    .unwrap();
    let official = archive.rows().unwrap();
    for (ds, _) in DATASETS {
        let t = read_proxies(&PathBuf::from(repo(&format!(
            "datasets/sss_{}_all.parquet",
            ds.name()
        ))))
        .unwrap();
        let m = t.config.as_ref().expect("an extraction manifest");
        assert_eq!(m.space, Space::Sss);
        assert_eq!(m.archs.len(), 32_768);
        let names: Vec<String> = greenfactory::proxy::default_proxies_for(Space::Sss)
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        assert_eq!(m.proxies, names, "the table holds the SSS default vector");
        let opts = JoinOptions {
            hp: Some("90".into()),
            ..JoinOptions::default()
        };
        let (data, rep) = table::join(&t, &labels, ds, &Accuracy::Valid, &opts).unwrap();
        assert_eq!(
            (rep.rows, rep.failed_status, rep.missing_labels),
            (32_768, 0, 0)
        );
        let col = |name: &str| data.feature_names.iter().position(|f| f == name).unwrap();
        for o in official.iter().filter(|o| o.dataset == ds) {
            let r = data
                .row_keys
                .iter()
                .position(|&i| i as i64 == o.arch_index)
                .unwrap();
            let x = &data.x[r * data.n_features()..(r + 1) * data.n_features()];
            let params = x[col("params")];
            let flops = x[col("flops")];
            assert!(
                (params - o.params_m.unwrap()).abs() < 1e-6,
                "{o:?} {params}"
            );
            assert!(
                (flops - o.flops_m.unwrap()).abs() / o.flops_m.unwrap() < 1e-6,
                "{o:?} {flops}"
            );
            let channels: Vec<f64> = o.arch.split(':').map(|c| c.parse().unwrap()).collect();
            for (k, c) in channels.iter().enumerate() {
                assert_eq!(x[col(&format!("c{}", k + 1))], *c);
            }
            assert!(x[col("synflow")].is_finite() && x[col("synflow")] > 0.0);
        }
    }
}

/// `predict --space sss` with the shipped model, by arch string and by index; the output says
/// what is predicted (hp=90 validation accuracy), and the value is a plausible CIFAR-10 one.
#[test]
fn predict_sss_archs_with_the_shipped_model() {
    let model = repo("models/sss_cifar10.gfm");
    let o = gf(&[
        "predict",
        "--model",
        &model,
        "--space",
        "sss",
        "--arch",
        "8:16:24:32:64",
        "--arch",
        "284",
        "--device",
        "cpu",
        "--format",
        "csv",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("hp=90 validation accuracy"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(row[1], "8:16:24:32:64");
    assert_eq!(
        row[0],
        Space::Sss
            .parse("8:16:24:32:64")
            .unwrap()
            .index()
            .to_string()
    );
    let (csv_h, csv) = common::read_csv(&sss_csv());
    let truth = |i: usize| -> f64 {
        csv[i][common::col(&csv_h, "cifar10_valid_acc")]
            .parse()
            .unwrap()
    };
    for line in &lines[1..] {
        let row: Vec<&str> = line.split(',').collect();
        let i: usize = row[0].parse().unwrap();
        let p: f64 = row[2].parse().unwrap();
        assert_eq!(row[4], "forest");
        assert!((p - truth(i)).abs() < 2.0, "{line}: truth {}", truth(i));
    }
    // Computing the proxies reproduces the shipped table's row of that arch.
    let t = read_proxies(&PathBuf::from(repo("datasets/sss_cifar10_all.parquet"))).unwrap();
    let o2 = gf(&[
        "predict",
        "--model",
        &model,
        "--features",
        t.source.as_str(),
        "--format",
        "csv",
    ]);
    assert!(
        o2.status.success(),
        "{}",
        String::from_utf8_lossy(&o2.stderr)
    );
    let from_table = String::from_utf8_lossy(&o2.stdout);
    let want = from_table
        .lines()
        .find(|l| l.starts_with("284,"))
        .unwrap()
        .to_string();
    assert_eq!(lines[2], want, "predict --arch and --features agree");
}

/// Mixing spaces or label kinds is refused with one line naming the space or the kind.
#[test]
fn mixed_spaces_and_label_kinds_are_refused() {
    let tss_model = repo("models/tss_cifar10.gfm");
    // A TSS model and an SSS arch.
    let o = gf(&[
        "predict",
        "--model",
        &tss_model,
        "--arch",
        "8:16:24:32:64",
        "--device",
        "cpu",
    ]);
    assert_one_line_error(&o, "arch of the SSS space");
    let o = gf(&[
        "predict", "--model", &tss_model, "--space", "sss", "--arch", "0",
    ]);
    assert_one_line_error(&o, "predicts TSS archs only");
    // SSS labels for a TSS table.
    let o = gf(&[
        "evaluate",
        "--features",
        &repo("datasets/tss_imagenet16-120_all.parquet"),
        "--labels",
        sss_csv().to_str().unwrap(),
        "--dataset",
        "imagenet16-120",
        "--repeats",
        "1",
    ]);
    assert_one_line_error(&o, "holds SSS labels and no TSS labels");
    // An SSS model scored against TSS labels, or against labels of another kind.
    let o = sss_search(
        "cifar10",
        &["--budget", "20", "--labels", tss_csv().to_str().unwrap()],
    );
    assert_one_line_error(&o, "holds TSS labels and no SSS labels");
    let d = scratch("kinds");
    let wrong = d.join("sss_test.csv");
    std::fs::write(
        &wrong,
        "space,dataset,arch_index,arch,hp,test_acc\nsss,cifar10,0,8:8:8:8:8,90,79.79\n",
    )
    .unwrap();
    let o = sss_search(
        "cifar10",
        &["--budget", "20", "--labels", wrong.to_str().unwrap()],
    );
    assert_one_line_error(&o, "it holds hp=90 test accuracy");
}

/// `search --space sss` on the complete table, with labels: the true accuracy column and the
/// summary name the validation accuracy.
#[test]
fn search_sss_reports_validation_accuracy() {
    let o = sss_search(
        "cifar10",
        &[
            "--budget",
            "50",
            "--seed",
            "3",
            "--labels",
            sss_csv().to_str().unwrap(),
            "--format",
            "csv",
            "--top",
            "3",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines().next().unwrap().ends_with("true_valid_acc"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(err.contains("true hp=90 validation accuracy"), "{err}");
    assert!(!err.contains("test accuracy"), "{err}");
}

/// SSS has no hardware costs: its front is predicted accuracy against params (or FLOPs), and
/// along the front both rise strictly; every scored arch is dominated by or on the front.
#[test]
fn sss_params_front() {
    let d = scratch("front");
    let out = d.join("front.csv");
    let png = d.join("front.png");
    let o = sss_search(
        "imagenet16-120",
        &[
            "--strategy",
            "random",
            "--budget",
            "300",
            "--objective",
            "pareto-params",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
            "--plot",
            png.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (h, rows) = common::read_csv(&out);
    let (pc, ac) = (common::col(&h, "params_m"), common::col(&h, "predicted"));
    assert!(rows.len() >= 3, "{rows:?}");
    for w in rows.windows(2) {
        let p: Vec<f64> = w.iter().map(|r| r[pc].parse().unwrap()).collect();
        let a: Vec<f64> = w.iter().map(|r| r[ac].parse().unwrap()).collect();
        assert!(p[0] < p[1] && a[0] < a[1], "{w:?}");
    }
    assert_eq!(common::png_size(&png).0, 900);
    // The hardware-cost front stays TSS-only, said in one line.
    let o = sss_search("cifar10", &["--objective", "pareto"]);
    assert_one_line_error(&o, "HW-NAS-Bench");
}
