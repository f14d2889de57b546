//! NAS-Bench-101: the network of PROVENANCE §13 against the labelled cells (data tier): every
//! cell's parameter count and module hash, and the label file read as labels.
mod common;

use greenfactory::space::{Arch, NatsDataset, Space};
use greenfactory::table::read_labels;

/// The data file's rows: (module hash, cell string, params).
fn cells() -> Vec<(String, String, u64)> {
    let path = common::data_dir().join("nasbench101/nb101_valid_acc_30k.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (h, m, o, p) = (col("module_hash"), col("matrix"), col("ops"), col("params"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[h].to_string(),
                format!("{};{}", f[m], f[o]),
                f[p].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn params_and_module_hashes_equal_the_benchmark_for_all_30001_cells() {
    let rows = cells();
    assert_eq!(rows.len(), 30_001);
    let mut indices = std::collections::HashSet::new();
    for (hash, cell, params) in &rows {
        let arch = Space::Nb101.parse(cell).unwrap();
        let Arch::Nb101(c) = arch else { panic!() };
        assert_eq!(c.module_hash(), *hash, "{cell}");
        assert_eq!(
            arch.graph(NatsDataset::Cifar10).param_count(),
            *params,
            "{cell}"
        );
        assert_eq!(Space::Nb101.arch(arch.index()).unwrap(), arch);
        indices.insert(arch.index());
    }
    assert_eq!(indices.len(), rows.len());
}

#[test]
fn the_label_file_reads_as_nb101_labels() {
    let t = read_labels(&common::data_dir().join("nasbench101/nb101_valid_acc_30k.csv")).unwrap();
    let rows = t.rows().unwrap();
    assert_eq!(rows.len(), 30_001);
    assert!(rows
        .iter()
        .all(|r| r.space == Space::Nb101 && r.hp == "108"));
    let first = cells().into_iter().next().unwrap();
    let arch = Space::Nb101.parse(&first.1).unwrap();
    let row = rows
        .iter()
        .find(|r| r.arch_index == arch.index() as i64)
        .unwrap();
    // 00005c14…: 93.0489 after 108 epochs, one run's validation accuracy (PROVENANCE §13).
    assert_eq!((row.valid_acc, row.test_acc), (Some(93.0489), None));
    assert_eq!(row.arch, arch.to_string());
    assert!(t.frame().column("valid_acc_e36").is_ok());
}
