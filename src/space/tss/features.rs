//! TSS arch features, computed from the cell string alone (edges 0→1, 0→2, 1→2, 0→3, 1→3, 2→3;
//! ops none, skip, conv1x1, conv3x3, pool):
//! * `edge01_none` … `edge23_pool` — the op-on-edge one-hot encoding, 6 edges × 5 ops. It
//!   identifies the arch exactly; a forest trained on it alone ranks held-out archs at
//!   τ ≈ 0.89 when 80 % of the space is labelled (benches/README.md, "Default vector").
//! * Graph features in the spirit of GRAF (Kadlecová et al., "Surprisingly Strong Performance
//!   Prediction with Neural Graph Features", ICML 2024), on the **live graph**: the edges that
//!   lie on some input→output path without `none` (an edge off every such path cannot change
//!   the cell's output):
//!   - `live_skip`, `live_conv1x1`, `live_conv3x3`, `live_pool`: live edges carrying each op;
//!   - `live_paths`: input→output paths without `none` (of the 4: 0→3, 0→1→3, 0→2→3, 0→1→2→3);
//!   - `path_len_min`, `path_len_max`: fewest / most edges on a live path (1–3);
//!   - `path_ops_min`, `path_ops_max`: fewest / most ops other than skip (convs and pools) on a
//!     live path — the depth the signal actually passes through;
//!   - `in_deg_1`, `in_deg_2`, `in_deg_3`, `out_deg_0`, `out_deg_1`, `out_deg_2`: live edges
//!     into / out of each node.
//!
//!   A cell without a live path has 0 for all of them.

use super::{Op, TssArch, TSS_EDGES};
use std::sync::OnceLock;

/// Short op names used in feature names, in [`Op::ALL`] order.
const OP_SHORT: [&str; 5] = ["none", "skip", "conv1x1", "conv3x3", "pool"];

/// The graph features after the one-hot block, in column order.
const TSS_GRAPH: [&str; 15] = [
    "live_skip",
    "live_conv1x1",
    "live_conv3x3",
    "live_pool",
    "live_paths",
    "path_len_min",
    "path_len_max",
    "path_ops_min",
    "path_ops_max",
    "in_deg_1",
    "in_deg_2",
    "in_deg_3",
    "out_deg_0",
    "out_deg_1",
    "out_deg_2",
];

/// The 4 input→output paths as indices into [`TSS_EDGES`].
pub const TSS_PATHS: [&[usize]; 4] = [&[3], &[0, 4], &[1, 5], &[0, 2, 5]];

/// Names of the TSS arch features, in column order.
pub fn feature_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut v: Vec<String> = TSS_EDGES
            .iter()
            .flat_map(|&(i, j)| OP_SHORT.iter().map(move |o| format!("edge{i}{j}_{o}")))
            .collect();
        v.extend(TSS_GRAPH.iter().map(|s| s.to_string()));
        v
    })
}

/// Whether each edge (in [`TSS_EDGES`] order) lies on an input→output path without `none`.
pub fn live_edges(a: &TssArch) -> [bool; 6] {
    let mut from0 = [true, false, false, false];
    for (k, &(i, j)) in TSS_EDGES.iter().enumerate() {
        if from0[i] && a.ops[k] != Op::None {
            from0[j] = true;
        }
    }
    let mut to3 = [false, false, false, true];
    for (k, &(i, j)) in TSS_EDGES.iter().enumerate().rev() {
        if to3[j] && a.ops[k] != Op::None {
            to3[i] = true;
        }
    }
    let mut on = [false; 6];
    for (k, &(i, j)) in TSS_EDGES.iter().enumerate() {
        on[k] = a.ops[k] != Op::None && from0[i] && to3[j];
    }
    on
}

/// The input→output paths without `none`, as edge-index lists.
pub fn live_paths(a: &TssArch) -> impl Iterator<Item = &'static [usize]> + '_ {
    TSS_PATHS
        .iter()
        .copied()
        .filter(|p| p.iter().all(|&k| a.ops[k] != Op::None))
}

fn min_max(v: impl Iterator<Item = usize>) -> (f64, f64) {
    let v: Vec<usize> = v.collect();
    (
        v.iter().copied().min().unwrap_or(0) as f64,
        v.iter().copied().max().unwrap_or(0) as f64,
    )
}

/// The TSS arch features of `a`, in [`feature_names`] order.
pub fn features(a: &TssArch) -> Vec<f64> {
    let mut v = Vec::with_capacity(45);
    for op in a.ops {
        v.extend(Op::ALL.iter().map(|&o| if o == op { 1.0 } else { 0.0 }));
    }
    let live = live_edges(a);
    for op in [
        Op::SkipConnect,
        Op::NorConv1x1,
        Op::NorConv3x3,
        Op::AvgPool3x3,
    ] {
        v.push((0..6).filter(|&k| live[k] && a.ops[k] == op).count() as f64);
    }
    v.push(live_paths(a).count() as f64);
    let (lmin, lmax) = min_max(live_paths(a).map(<[usize]>::len));
    let ops_on = |p: &[usize]| p.iter().filter(|&&k| a.ops[k] != Op::SkipConnect).count();
    let (omin, omax) = min_max(live_paths(a).map(ops_on));
    v.extend([lmin, lmax, omin, omax]);
    let deg = |pick: fn((usize, usize)) -> usize, node: usize| {
        TSS_EDGES
            .iter()
            .enumerate()
            .filter(|&(k, &e)| live[k] && pick(e) == node)
            .count() as f64
    };
    for n in 1..4 {
        v.push(deg(|e| e.1, n));
    }
    for n in 0..3 {
        v.push(deg(|e| e.0, n));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(s: &str) -> Vec<(String, f64)> {
        let a: TssArch = s.parse().unwrap();
        feature_names().iter().cloned().zip(features(&a)).collect()
    }

    fn get(v: &[(String, f64)], n: &str) -> f64 {
        v.iter()
            .find(|(k, _)| k == n)
            .unwrap_or_else(|| panic!("{n}"))
            .1
    }

    #[test]
    fn one_hot_identifies_every_tss_arch() {
        let mut seen = std::collections::HashSet::new();
        for t in TssArch::all() {
            let f = features(&t);
            assert_eq!(f[..30].iter().sum::<f64>(), 6.0);
            let key: Vec<u8> = f[..30].iter().map(|&x| x as u8).collect();
            assert!(seen.insert(key));
        }
        assert_eq!(seen.len(), 15_625);
    }

    #[test]
    fn best_cell_by_hand() {
        // 0→1 conv3, 0→2 conv3, 1→2 conv3, 0→3 skip, 1→3 conv3, 2→3 conv1.
        let v = named(
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
        );
        assert_eq!(get(&v, "edge01_conv3x3"), 1.0);
        assert_eq!(get(&v, "edge01_none"), 0.0);
        assert_eq!(get(&v, "edge03_skip"), 1.0);
        assert_eq!(get(&v, "edge23_conv1x1"), 1.0);
        assert_eq!(get(&v, "live_conv3x3"), 4.0);
        assert_eq!(get(&v, "live_conv1x1"), 1.0);
        assert_eq!(get(&v, "live_skip"), 1.0);
        assert_eq!(get(&v, "live_paths"), 4.0);
        assert_eq!(get(&v, "path_len_min"), 1.0); // 0→3
        assert_eq!(get(&v, "path_len_max"), 3.0); // 0→1→2→3
        assert_eq!(get(&v, "path_ops_min"), 0.0); // the skip 0→3
        assert_eq!(get(&v, "path_ops_max"), 3.0);
        assert_eq!(get(&v, "in_deg_3"), 3.0);
        assert_eq!(get(&v, "in_deg_2"), 2.0);
        assert_eq!(get(&v, "out_deg_0"), 3.0);
        assert_eq!(get(&v, "out_deg_1"), 2.0);
        assert_eq!(get(&v, "out_deg_2"), 1.0);
    }

    #[test]
    fn partially_dead_cell_by_hand() {
        // 0→1 none kills node 1's edges; live: 0→2 conv3, 0→3 skip, 2→3 conv3.
        let v = named(
            "|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
        );
        assert_eq!(get(&v, "edge01_none"), 1.0);
        assert_eq!(get(&v, "edge12_pool"), 1.0);
        assert_eq!(get(&v, "live_pool"), 0.0);
        assert_eq!(get(&v, "live_conv1x1"), 0.0);
        assert_eq!(get(&v, "live_conv3x3"), 2.0);
        assert_eq!(get(&v, "live_paths"), 2.0);
        assert_eq!(get(&v, "path_len_min"), 1.0);
        assert_eq!(get(&v, "path_len_max"), 2.0);
        assert_eq!(get(&v, "path_ops_max"), 2.0);
        assert_eq!(get(&v, "in_deg_1"), 0.0);
        assert_eq!(get(&v, "in_deg_2"), 1.0);
        assert_eq!(get(&v, "out_deg_1"), 0.0);
        assert_eq!(get(&v, "in_deg_3"), 2.0);
    }

    #[test]
    fn dead_cell_has_no_live_graph() {
        let v = named("|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|none~1|none~2|");
        for n in &TSS_GRAPH {
            assert_eq!(get(&v, n), 0.0, "{n}");
        }
        assert_eq!(get(&v, "edge12_conv3x3"), 1.0);
    }
}
