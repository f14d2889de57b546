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
