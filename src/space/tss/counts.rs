//! TSS counts: data-free, static, one column each (cell = 4 nodes, edges 0→1, 0→2, 1→2, 0→3,
//! 1→3, 2→3). The engine writes them as static proxies beside the measured ones.
//!
//! * `op_none`, `op_skip`, `op_conv1x1`, `op_conv3x3`, `op_pool`: how many of the 6 edges carry
//!   each op;
//! * `path_skip`, `path_conv1x1`, `path_conv3x3`, `path_pool`: the same counts over the edges that
//!   lie on some input→output path without `none` (node 0 reaches the edge's tail and the edge's
//!   head reaches node 3, through non-`none` edges); a `none` edge is never on such a path. These
//!   are the arch features `live_skip` … `live_pool` under the names the shipped tables carry;
//! * `num_paths`: how many of the 4 input→output paths (0→3, 0→1→3, 0→2→3, 0→1→2→3) have no
//!   `none` edge;
//! * `conv_path_max`, `conv_path_min`: the most / fewest conv ops (1×1 or 3×3) along a `none`-free
//!   input→output path; 0 when there is no such path (the cell then outputs zeros);
//! * `output_reachable`: 1 when some input→output path has no `none` ([`TssArch::output_reachable`]).
//!
//! No paper: these are GreenFactory-style structural descriptors, computed exactly from the
//! arch string.

use super::features::{live_edges, live_paths};
use super::{Op, TssArch};

/// Names of the TSS counts, in column order.
pub const COUNT_NAMES: [&str; 13] = [
    "op_none",
    "op_skip",
    "op_conv1x1",
    "op_conv3x3",
    "op_pool",
    "path_skip",
    "path_conv1x1",
    "path_conv3x3",
    "path_pool",
    "num_paths",
    "conv_path_max",
    "conv_path_min",
    "output_reachable",
];

/// Number of edges carrying `op`.
pub fn op_count(a: &TssArch, op: Op) -> usize {
    a.ops.iter().filter(|&&o| o == op).count()
}

/// Conv counts along each `none`-free input→output path.
pub fn path_convs(a: &TssArch) -> Vec<usize> {
    live_paths(a)
        .map(|p| p.iter().filter(|&&k| a.ops[k].is_conv()).count())
        .collect()
}

/// The TSS counts of `a`, in [`COUNT_NAMES`] order.
pub fn counts(a: &TssArch) -> Vec<f64> {
    let on = live_edges(a);
    let path_count = |op: Op| (0..6).filter(|&k| on[k] && a.ops[k] == op).count() as f64;
    let convs = path_convs(a);
    let mut v: Vec<f64> = Op::ALL.iter().map(|&op| op_count(a, op) as f64).collect();
    v.extend(
        [
            Op::SkipConnect,
            Op::NorConv1x1,
            Op::NorConv3x3,
            Op::AvgPool3x3,
        ]
        .map(path_count),
    );
    v.extend([
        convs.len() as f64,
        convs.iter().copied().max().unwrap_or(0) as f64,
        convs.iter().copied().min().unwrap_or(0) as f64,
        if a.output_reachable() { 1.0 } else { 0.0 },
    ]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(s: &str) -> Vec<(&'static str, f64)> {
        let a: TssArch = s.parse().unwrap();
        COUNT_NAMES.into_iter().zip(counts(&a)).collect()
    }

    fn get(v: &[(&'static str, f64)], name: &str) -> f64 {
        v.iter().find(|(n, _)| *n == name).unwrap().1
    }

    #[test]
    fn all_none_cell() {
        let v = values("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
        assert_eq!(get(&v, "op_none"), 6.0);
        assert_eq!(get(&v, "op_conv3x3"), 0.0);
        for n in [
            "path_skip",
            "path_conv1x1",
            "path_conv3x3",
            "path_pool",
            "num_paths",
        ] {
            assert_eq!(get(&v, n), 0.0, "{n}");
        }
        assert_eq!(get(&v, "conv_path_max"), 0.0);
        assert_eq!(get(&v, "conv_path_min"), 0.0);
        assert_eq!(get(&v, "output_reachable"), 0.0);
    }

    #[test]
    fn unreachable_output_with_dangling_convs() {
        // 0→1 conv, 0→2 conv, 1→2 conv, but nothing reaches node 3.
        let v = values("|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|none~1|none~2|");
        assert_eq!(get(&v, "op_conv3x3"), 2.0);
        assert_eq!(get(&v, "op_conv1x1"), 1.0);
        assert_eq!(get(&v, "path_conv3x3"), 0.0);
        assert_eq!(get(&v, "path_conv1x1"), 0.0);
        assert_eq!(get(&v, "num_paths"), 0.0);
        assert_eq!(get(&v, "output_reachable"), 0.0);
    }

    #[test]
    fn partially_dead_cell() {
        // node 1 is dead (0→1 none): 1→2 and 1→3 are off every path.
        let v = values(
            "|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
        );
        assert_eq!(get(&v, "path_pool"), 0.0);
        assert_eq!(get(&v, "path_conv1x1"), 0.0);
        assert_eq!(get(&v, "path_conv3x3"), 2.0);
        assert_eq!(get(&v, "path_skip"), 1.0);
        assert_eq!(get(&v, "num_paths"), 2.0); // 0→3, 0→2→3
        assert_eq!(get(&v, "conv_path_max"), 2.0);
        assert_eq!(get(&v, "conv_path_min"), 0.0);
        assert_eq!(get(&v, "output_reachable"), 1.0);
    }

    #[test]
    fn best_cell() {
        let v = values(
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        );
        assert_eq!(get(&v, "op_conv3x3"), 5.0);
        assert_eq!(get(&v, "op_skip"), 1.0);
        assert_eq!(get(&v, "op_none"), 0.0);
        assert_eq!(get(&v, "path_conv3x3"), 5.0);
        assert_eq!(get(&v, "path_skip"), 1.0);
        assert_eq!(get(&v, "num_paths"), 4.0);
        // 0→3 skip: 0 convs; 0→1→2→3: 3 convs.
        assert_eq!(get(&v, "conv_path_max"), 3.0);
        assert_eq!(get(&v, "conv_path_min"), 0.0);
        assert_eq!(get(&v, "output_reachable"), 1.0);
    }

    /// The path counts are the live-graph arch features under their table names.
    #[test]
    fn agree_with_the_live_graph_features_everywhere() {
        let names = crate::space::tss::features::feature_names();
        for t in TssArch::all() {
            assert_eq!(!path_convs(&t).is_empty(), t.output_reachable());
            assert_eq!(live_edges(&t).iter().any(|&b| b), t.output_reachable());
            let (c, f) = (counts(&t), crate::space::tss::features::features(&t));
            for (count, feature) in [
                ("path_skip", "live_skip"),
                ("path_conv1x1", "live_conv1x1"),
                ("path_conv3x3", "live_conv3x3"),
                ("path_pool", "live_pool"),
                ("num_paths", "live_paths"),
            ] {
                let i = COUNT_NAMES.iter().position(|n| *n == count).unwrap();
                let j = names.iter().position(|n| n == feature).unwrap();
                assert_eq!(c[i], f[j], "{t} {count}");
            }
        }
    }
}
