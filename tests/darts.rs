//! DARTS / NAS-Bench-301: the network of PROVENANCE §14 against NAS-Bench-Suite-Zero's files
//! (data tier): every genotype's parameter count, both notations, the files read as labels.
mod common;

use common::run;
use greenfactory::space::{Arch, NatsDataset, Space};
use greenfactory::table::read_labels;

/// (compact genotype, params in millions) of both files, 725 + 500 records.
fn records() -> Vec<(String, f64)> {
    let dir = common::data_dir().join("nasbench301");
    let mut out = Vec::new();
    let a: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("zc_nasbench301_suite_zero_725.json")).unwrap(),
    )
    .unwrap();
    for r in a["cifar10"].as_object().unwrap().values() {
        out.push((
            r["arch"].as_str().unwrap().to_string(),
            r["params"]["score"].as_f64().unwrap(),
        ));
    }
    let b: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("zc_nasbench301_suite_zero_500.json")).unwrap(),
    )
    .unwrap();
    for (k, r) in b["nasbench301"]["cifar10"].as_object().unwrap() {
        out.push((k.clone(), r["params"].as_f64().unwrap()));
    }
    out
}

#[test]
fn params_equal_suite_zeros_for_every_genotype_and_both_forms_round_trip() {
    let rs = records();
    assert_eq!(rs.len(), 1_225);
    let mut distinct = std::collections::HashSet::new();
    for (compact, params) in &rs {
        let arch = Space::Darts.parse(compact).unwrap();
        let Arch::Darts(d) = arch else { panic!() };
        assert_eq!(Space::Darts.parse(&d.compact()).unwrap(), arch);
        assert_eq!(Space::Darts.parse(&arch.to_string()).unwrap(), arch);
        assert_eq!(Space::Darts.arch(arch.index()).unwrap(), arch);
        let ours = arch.graph(NatsDataset::Cifar10).param_count() as f64 / 1e6;
        assert!(
            (ours - params).abs() < 1e-6,
            "{compact}: {ours} vs {params}"
        );
        distinct.insert(arch.index());
    }
    assert_eq!(distinct.len(), 1_218);
}

#[test]
fn the_suite_zero_files_read_as_darts_labels() {
    let path = common::data_dir().join("nasbench301/zc_nasbench301_suite_zero_725.json");
    let t = read_labels(&path).unwrap();
    let rows = t.rows().unwrap();
    assert_eq!(rows.len(), 1_218, "both files, 7 genotypes in both once");
    assert!(rows
        .iter()
        .all(|r| r.space == Space::Darts && r.hp == "nb301"));
    let acc: Vec<f64> = rows.iter().map(|r| r.valid_acc.unwrap()).collect();
    assert!(
        acc.iter().all(|a| (85.0..96.0).contains(a)),
        "surrogate accuracies"
    );
    // DARTS labels are not TSS labels.
    common::assert_refused_for_tss_features(
        path.to_str().unwrap(),
        "DARTS labels and no TSS labels",
    );
    // One genotype's static proxies on the command line.
    let (ok, out, err) = run(&[
        "proxies",
        "--space",
        "darts",
        "--arch",
        &rows[0].arch,
        "--only",
        "params",
        "--format",
        "csv",
        "--device",
        "cpu",
    ]);
    assert!(ok && out.lines().count() == 2, "{err}");
}
