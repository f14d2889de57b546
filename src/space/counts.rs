//! Topology and size features: data-free, static, one column each ([`TOPOLOGY`]).
//!
//! TSS (cell = 4 nodes, edges 0→1, 0→2, 1→2, 0→3, 1→3, 2→3):
//! * `op_none`, `op_skip`, `op_conv1x1`, `op_conv3x3`, `op_pool`: how many of the 6 edges carry
//!   each op;
//! * `path_skip`, `path_conv1x1`, `path_conv3x3`, `path_pool`: the same counts over the edges that
//!   lie on some input→output path without `none` (node 0 reaches the edge's tail and the edge's
//!   head reaches node 3, through non-`none` edges); a `none` edge is never on such a path;
//! * `num_paths`: how many of the 4 input→output paths (0→3, 0→1→3, 0→2→3, 0→1→2→3) have no
//!   `none` edge;
//! * `conv_path_max`, `conv_path_min`: the most / fewest conv ops (1×1 or 3×3) along a `none`-free
//!   input→output path; 0 when there is no such path (the cell then outputs zeros);
//! * `output_reachable`: 1 when some input→output path has no `none` ([`TssArch::output_reachable`]).
//!
//! SSS: `ch_mean`, `ch_min`, `ch_max`, `ch_std` (population std) of the 5 channel counts, and each
//! count `c1` … `c5`.
//!
//! A feature of the other space has no value (`None`; the engine reports it as
//! "not applicable to sss"). No paper: these are GreenFactory-style structural descriptors,
//! computed exactly from the arch string.

use super::features::{live_edges, live_paths};
use super::{Arch, Op, SssArch, TssArch};

/// One count: its column name and its value for an arch (`None` when it does not apply to the
/// arch's space). The proxy engine computes these as static proxies (`proxy::topology`), and a
/// table that lacks them gets them from its arch strings ([`count_by_name`]): the same numbers.
pub struct Topo {
    pub name: &'static str,
    pub f: fn(&Arch) -> Option<f64>,
}

/// The count named `name`, if it is one of [`TOPOLOGY`].
pub fn count_by_name(name: &str) -> Option<&'static Topo> {
    TOPOLOGY.iter().find(|t| t.name == name)
}

fn tss(a: &Arch) -> Option<&TssArch> {
    match a {
        Arch::Tss(t) => Some(t),
        Arch::Sss(_) => None,
    }
}

fn sss(a: &Arch) -> Option<&SssArch> {
    match a {
        Arch::Sss(s) => Some(s),
        Arch::Tss(_) => None,
    }
}

/// Number of edges carrying `op`.
pub fn op_count(a: &TssArch, op: Op) -> usize {
    a.ops.iter().filter(|&&o| o == op).count()
}

/// Whether each edge (in `TSS_EDGES` order) lies on a `none`-free input→output path.
pub fn on_path(a: &TssArch) -> [bool; 6] {
    live_edges(a)
}

/// Conv counts along each `none`-free input→output path.
pub fn path_convs(a: &TssArch) -> Vec<usize> {
    live_paths(a)
        .map(|p| p.iter().filter(|&&k| a.ops[k].is_conv()).count())
        .collect()
}

fn path_count(a: &TssArch, op: Op) -> usize {
    let on = on_path(a);
    (0..6).filter(|&k| on[k] && a.ops[k] == op).count()
}

fn channels(a: &Arch) -> Option<[f64; 5]> {
    sss(a).map(|s| s.channels.map(|c| c as f64))
}

fn mean(c: &[f64; 5]) -> f64 {
    c.iter().sum::<f64>() / 5.0
}

macro_rules! topo {
    ($name:expr, $f:expr) => {
        Topo { name: $name, f: $f }
    };
}

/// Every topology/size feature, in column order.
pub static TOPOLOGY: [Topo; 22] = [
    topo!("op_none", |a| tss(a).map(|t| op_count(t, Op::None) as f64)),
    topo!("op_skip", |a| tss(a)
        .map(|t| op_count(t, Op::SkipConnect) as f64)),
    topo!("op_conv1x1", |a| tss(a)
        .map(|t| op_count(t, Op::NorConv1x1) as f64)),
    topo!("op_conv3x3", |a| tss(a)
        .map(|t| op_count(t, Op::NorConv3x3) as f64)),
    topo!("op_pool", |a| tss(a)
        .map(|t| op_count(t, Op::AvgPool3x3) as f64)),
    topo!("path_skip", |a| tss(a)
        .map(|t| path_count(t, Op::SkipConnect) as f64)),
    topo!("path_conv1x1", |a| tss(a)
        .map(|t| path_count(t, Op::NorConv1x1) as f64)),
    topo!("path_conv3x3", |a| tss(a)
        .map(|t| path_count(t, Op::NorConv3x3) as f64)),
    topo!("path_pool", |a| tss(a)
        .map(|t| path_count(t, Op::AvgPool3x3) as f64)),
    topo!("num_paths", |a| tss(a).map(|t| path_convs(t).len() as f64)),
    topo!("conv_path_max", |a| tss(a)
        .map(|t| path_convs(t).into_iter().max().unwrap_or(0) as f64)),
    topo!("conv_path_min", |a| tss(a)
        .map(|t| path_convs(t).into_iter().min().unwrap_or(0) as f64)),
    topo!("output_reachable", |a| tss(a).map(|t| {
        if t.output_reachable() {
            1.0
        } else {
            0.0
        }
    })),
    topo!("ch_mean", |a| channels(a).map(|c| mean(&c))),
    topo!("ch_min", |a| channels(a)
        .map(|c| c.iter().cloned().fold(f64::INFINITY, f64::min))),
    topo!("ch_max", |a| channels(a)
        .map(|c| c.iter().cloned().fold(f64::NEG_INFINITY, f64::max))),
    topo!("ch_std", |a| channels(a).map(|c| {
        let m = mean(&c);
        (c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / 5.0).sqrt()
    })),
    topo!("c1", |a| channels(a).map(|c| c[0])),
    topo!("c2", |a| channels(a).map(|c| c[1])),
    topo!("c3", |a| channels(a).map(|c| c[2])),
    topo!("c4", |a| channels(a).map(|c| c[3])),
    topo!("c5", |a| channels(a).map(|c| c[4])),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn values(s: &str) -> Vec<(&'static str, Option<f64>)> {
        let a = Arch::Tss(s.parse().unwrap());
        TOPOLOGY.iter().map(|t| (t.name, (t.f)(&a))).collect()
    }

    fn get(v: &[(&'static str, Option<f64>)], name: &str) -> Option<f64> {
        v.iter().find(|(n, _)| *n == name).unwrap().1
    }

    #[test]
    fn all_none_cell() {
        let v = values("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
        assert_eq!(get(&v, "op_none"), Some(6.0));
        assert_eq!(get(&v, "op_conv3x3"), Some(0.0));
        for n in [
            "path_skip",
            "path_conv1x1",
            "path_conv3x3",
            "path_pool",
            "num_paths",
        ] {
            assert_eq!(get(&v, n), Some(0.0), "{n}");
        }
        assert_eq!(get(&v, "conv_path_max"), Some(0.0));
        assert_eq!(get(&v, "conv_path_min"), Some(0.0));
        assert_eq!(get(&v, "output_reachable"), Some(0.0));
        assert_eq!(get(&v, "ch_mean"), None);
    }

    #[test]
    fn unreachable_output_with_dangling_convs() {
        // 0→1 conv, 0→2 conv, 1→2 conv, but nothing reaches node 3.
        let v = values("|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|none~1|none~2|");
        assert_eq!(get(&v, "op_conv3x3"), Some(2.0));
        assert_eq!(get(&v, "op_conv1x1"), Some(1.0));
        assert_eq!(get(&v, "path_conv3x3"), Some(0.0));
        assert_eq!(get(&v, "path_conv1x1"), Some(0.0));
        assert_eq!(get(&v, "num_paths"), Some(0.0));
        assert_eq!(get(&v, "output_reachable"), Some(0.0));
    }

    #[test]
    fn partially_dead_cell() {
        // node 1 is dead (0→1 none): 1→2 and 1→3 are off every path.
        let v = values(
            "|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
        );
        assert_eq!(get(&v, "path_pool"), Some(0.0));
        assert_eq!(get(&v, "path_conv1x1"), Some(0.0));
        assert_eq!(get(&v, "path_conv3x3"), Some(2.0));
        assert_eq!(get(&v, "path_skip"), Some(1.0));
        assert_eq!(get(&v, "num_paths"), Some(2.0)); // 0→3, 0→2→3
        assert_eq!(get(&v, "conv_path_max"), Some(2.0));
        assert_eq!(get(&v, "conv_path_min"), Some(0.0));
        assert_eq!(get(&v, "output_reachable"), Some(1.0));
    }

    #[test]
    fn best_cell() {
        let v = values(
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        );
        assert_eq!(get(&v, "op_conv3x3"), Some(5.0));
        assert_eq!(get(&v, "op_skip"), Some(1.0));
        assert_eq!(get(&v, "op_none"), Some(0.0));
        assert_eq!(get(&v, "path_conv3x3"), Some(5.0));
        assert_eq!(get(&v, "path_skip"), Some(1.0));
        assert_eq!(get(&v, "num_paths"), Some(4.0));
        // 0→3 skip: 0 convs; 0→1→2→3: 3 convs.
        assert_eq!(get(&v, "conv_path_max"), Some(3.0));
        assert_eq!(get(&v, "conv_path_min"), Some(0.0));
        assert_eq!(get(&v, "output_reachable"), Some(1.0));
    }

    #[test]
    fn sss_channels() {
        let a = Arch::Sss("8:8:40:32:40".parse().unwrap());
        let g = |n: &str| (TOPOLOGY.iter().find(|t| t.name == n).unwrap().f)(&a);
        assert_eq!(g("ch_mean"), Some(25.6));
        assert_eq!(g("ch_min"), Some(8.0));
        assert_eq!(g("ch_max"), Some(40.0));
        assert_eq!(g("c3"), Some(40.0));
        let sd = g("ch_std").unwrap();
        assert!((sd - 215.04f64.sqrt()).abs() < 1e-12, "{sd}");
        assert_eq!(g("op_none"), None);
    }

    #[test]
    fn agrees_with_output_reachable_everywhere() {
        for t in TssArch::all() {
            assert_eq!(!path_convs(&t).is_empty(), t.output_reachable());
            assert_eq!(on_path(&t).iter().any(|&b| b), t.output_reachable());
        }
    }
}
