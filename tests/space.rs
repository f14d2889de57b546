//! The search spaces against the official NATS-Bench lists and isomorphism grouping.
mod common;

use greenfactory::space::{SssArch, TssArch, SSS_SIZE, TSS_SIZE};
use std::collections::{HashMap, HashSet};

#[test]
fn tss_order_equals_official_list_line_for_line() {
    let path = common::data_dir().join("nats_tss/nats_tss_arch_strings.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), TSS_SIZE);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(
            TssArch::from_index(i).unwrap().to_string(),
            *line,
            "index {i}"
        );
        assert_eq!(line.parse::<TssArch>().unwrap().index(), i);
    }
}

#[test]
fn sss_order_equals_official_list_line_for_line() {
    let path = common::data_dir().join("nats_sss/nats_sss_arch_strings.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), SSS_SIZE);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(
            SssArch::from_index(i).unwrap().to_string(),
            *line,
            "index {i}"
        );
        assert_eq!(line.parse::<SssArch>().unwrap().index(), i);
    }
}

#[test]
fn tss_unique_str_equals_nats_bench_for_all_archs() {
    let (h, rows) =
        common::read_csv(&common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv"));
    let (ia, iu) = (common::col(&h, "arch_str"), common::col(&h, "unique_str"));
    assert_eq!(rows.len(), TSS_SIZE);
    let mut ours: HashMap<String, HashSet<String>> = HashMap::new();
    for r in &rows {
        let arch: TssArch = r[ia].parse().unwrap();
        let u = arch.unique_str();
        assert_eq!(u, r[iu], "{}", r[ia]);
        ours.entry(u).or_default().insert(r[ia].clone());
    }
    assert_eq!(ours.len(), 6466);
}

/// `known_accuracy` is chance level exactly for the archs whose output ignores the input, and
/// NATS-Bench agrees on all three datasets. (The converse does not hold: a few live archs
/// diverged in training and also sit at chance on ImageNet16-120; those are the forest's job.)
#[test]
fn archs_whose_output_ignores_the_input_train_to_chance() {
    use greenfactory::space::{Arch, NatsDataset};
    let (h, rows) =
        common::read_csv(&common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv"));
    let ia = common::col(&h, "arch_str");
    let cols = [
        (NatsDataset::Cifar10, common::col(&h, "cifar10_test_acc")),
        (NatsDataset::Cifar100, common::col(&h, "cifar100_test_acc")),
        (
            NatsDataset::ImageNet16_120,
            common::col(&h, "imagenet16_120_test_acc"),
        ),
    ];
    let mut dead = 0;
    for r in &rows {
        let arch = Arch::Tss(r[ia].parse().unwrap());
        for (ds, c) in cols {
            let acc: f64 = r[c].parse().unwrap();
            if let Some(k) = arch.known_accuracy(ds) {
                assert!((k - acc).abs() < 1e-6, "{} {ds}: {k} vs {acc}", r[ia]);
                assert_eq!(k, 100.0 / ds.num_classes() as f64);
            }
        }
        dead += usize::from(arch.known_accuracy(NatsDataset::Cifar10).is_some());
    }
    assert_eq!(dead, 341);
}

/// What `archs` prints is what `--arch-file` reads: header and `index,arch` rows, each row's
/// index checked against its string.
#[test]
fn arch_lists_read_the_csv_that_archs_writes() {
    use greenfactory::space::Space;
    for space in [Space::Tss, Space::Sss] {
        let idx = space.sample_indices(5, 3);
        let mut csv = String::from("index,arch\n");
        for &i in &idx {
            csv += &format!("{i},{}\n", space.arch(i).unwrap());
        }
        let got: Vec<usize> = space
            .parse_arch_list(&csv)
            .unwrap()
            .iter()
            .map(|a| a.index())
            .collect();
        assert_eq!(got, idx);
        let wrong = format!("{},{}\n", idx[0] + 1, space.arch(idx[0]).unwrap());
        let (line, e) = space.parse_arch_list(&wrong).unwrap_err();
        assert_eq!(line, 1);
        assert!(e.to_string().contains("does not name"), "{e}");
    }
    // `search --out` rows: rank first; the header says where index and arch are.
    let a = Space::Tss.arch(6111).unwrap();
    let got = Space::Tss
        .parse_arch_list(&format!("rank,index,arch,predicted\n1,6111,{a},94.3\n"))
        .unwrap();
    assert_eq!(got[0].index(), 6111);
    // Plain lists still work.
    let a = Space::Sss.parse_arch_list("284\n8:8:8:8:8\n").unwrap();
    assert_eq!((a[0].index(), a[1].index()), (284, 0));
}
