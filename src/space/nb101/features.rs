//! NAS-Bench-101 arch features and counts, from the cell alone.
//!
//! * `e{i}_{j}` — the adjacency of the cell padded to 7 vertices (the output moved to vertex 6,
//!   as NASLib pads pruned cells), 21 entries;
//! * `v{k}_conv3x3` … `v{k}_maxpool` — the op one-hot of interior slots 1–5 (all zero for an
//!   absent vertex), 15 entries: with the adjacency, the encoding of the published predictors'
//!   baselines (the one-hot forest);
//! * graph statistics in the spirit of GRAF (Kadlecová et al., "Surprisingly Strong Performance
//!   Prediction with Neural Graph Features", ICML 2024): `vertices`, `edges`, `depth` (longest
//!   input→output path, in edges), `shortest` (shortest one), `paths` (number of input→output
//!   paths), `input_out_degree`, `output_in_degree`, `input_to_output` (the skip edge), and for
//!   each op the number of input→output paths through a vertex of that op
//!   (`paths_conv3x3`, …) and the largest count of that op on one path (`max_conv3x3`, …);
//! * `width_{op}` — the share of the cell's output channels produced by vertices of each op
//!   (NAS-Bench-101 splits the output among the vertices feeding it);
//! * `params_m`, `mflops` — the size of the benchmark's network (millions of parameters and
//!   of multiply-accumulates for one 32×32 image), whatever copy of it the proxies were
//!   computed on (`--stem`).
//!
//! * `nb101_conv3x3`, `nb101_conv1x1`, `nb101_maxpool`, `nb101_depth` — the counts the engine
//!   writes as static proxies.

use super::{vertex_channels, Nb101Arch, Nb101Op, NB101_MAX_VERTICES};
use std::sync::OnceLock;

/// Names of the arch features, in column order.
pub fn feature_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let n = NB101_MAX_VERTICES;
        let mut names: Vec<String> = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| format!("e{i}_{j}")))
            .collect();
        for k in 1..n - 1 {
            names.extend(Nb101Op::ALL.iter().map(|o| format!("v{k}_{}", o.short())));
        }
        names.extend(
            [
                "vertices",
                "edges",
                "depth",
                "shortest",
                "paths",
                "input_out_degree",
                "output_in_degree",
                "input_to_output",
            ]
            .map(String::from),
        );
        for prefix in ["paths", "max", "width"] {
            names.extend(
                Nb101Op::ALL
                    .iter()
                    .map(|o| format!("{prefix}_{}", o.short())),
            );
        }
        names.extend(["params_m".to_string(), "mflops".to_string()]);
        names
    })
}

/// The arch features of `a`, in [`feature_names`] order.
pub fn features(a: &Nb101Arch) -> Vec<f64> {
    let n = a.vertices();
    let full = NB101_MAX_VERTICES;
    let place = |v: usize| if v == n - 1 { full - 1 } else { v };
    let mut padded = vec![vec![false; full]; full];
    for i in 0..n {
        for j in 0..n {
            padded[place(i)][place(j)] = a.edge(i, j);
        }
    }
    let mut f: Vec<f64> = (0..full)
        .flat_map(|i| (i + 1..full).map(move |j| (i, j)))
        .map(|(i, j)| f64::from(u8::from(padded[i][j])))
        .collect();
    for k in 1..full - 1 {
        let op = (k < n - 1).then(|| a.op(k));
        f.extend(
            Nb101Op::ALL
                .iter()
                .map(|&o| f64::from(u8::from(op == Some(o)))),
        );
    }
    let paths = input_output_paths(a);
    let lens = paths.iter().map(|p| p.len() - 1);
    f.extend([
        n as f64,
        a.edges() as f64,
        lens.clone().max().unwrap_or(0) as f64,
        lens.min().unwrap_or(0) as f64,
        paths.len() as f64,
        (0..n).filter(|&j| a.edge(0, j)).count() as f64,
        (0..n).filter(|&i| a.edge(i, n - 1)).count() as f64,
        f64::from(u8::from(a.edge(0, n - 1))),
    ]);
    let on =
        |p: &Vec<usize>, o: Nb101Op| p[1..p.len() - 1].iter().filter(|&&v| a.op(v) == o).count();
    for o in Nb101Op::ALL {
        f.push(paths.iter().filter(|p| on(p, o) > 0).count() as f64);
    }
    for o in Nb101Op::ALL {
        f.push(paths.iter().map(|p| on(p, o)).max().unwrap_or(0) as f64);
    }
    let w = vertex_channels(a, 128, 128);
    for o in Nb101Op::ALL {
        let share: i64 = (1..n.saturating_sub(1))
            .filter(|&v| a.edge(v, n - 1) && a.op(v) == o)
            .map(|v| w[v])
            .sum();
        f.push(share as f64 / 128.0);
    }
    use crate::space::SearchSpace;
    let g = a.graph(crate::space::NatsDataset::Cifar10);
    f.push(g.param_count() as f64 / 1e6);
    f.push(g.flop_count().expect("the NB101 graph is well formed") as f64 / 1e6);
    f
}

/// Every input→output path of `a`, as vertex lists.
fn input_output_paths(a: &Nb101Arch) -> Vec<Vec<usize>> {
    fn walk(a: &Nb101Arch, path: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        let v = *path.last().expect("a path starts at the input");
        if v == a.vertices() - 1 {
            out.push(path.clone());
            return;
        }
        for w in v + 1..a.vertices() {
            if a.edge(v, w) {
                path.push(w);
                walk(a, path, out);
                path.pop();
            }
        }
    }
    let mut out = Vec::new();
    walk(a, &mut vec![0], &mut out);
    out
}

/// Names of the counts, in column order.
pub const COUNT_NAMES: [&str; 4] = [
    "nb101_conv3x3",
    "nb101_conv1x1",
    "nb101_maxpool",
    "nb101_depth",
];

/// The counts of `a`, in [`COUNT_NAMES`] order.
pub fn counts(a: &Nb101Arch) -> Vec<f64> {
    let mut c: Vec<f64> = Nb101Op::ALL
        .iter()
        .map(|&o| a.interior_ops().iter().filter(|&&x| x == o).count() as f64)
        .collect();
    let depth = input_output_paths(a)
        .iter()
        .map(|p| p.len() - 1)
        .max()
        .unwrap_or(0);
    c.push(depth as f64);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_of_one_cell_by_hand() {
        // 0→1, 0→2, 1→3, 2→3, 0→3 with conv3x3 and maxpool.
        let a: Nb101Arch = "0111/0001/0001/0000;input|conv3x3-bn-relu|maxpool3x3|output"
            .parse()
            .unwrap();
        let f = features(&a);
        let names = feature_names();
        assert_eq!(f.len(), names.len());
        let get = |n: &str| f[names.iter().position(|x| x == n).unwrap()];
        // Padded: the output moves to vertex 6.
        assert_eq!(
            (get("e0_1"), get("e1_6"), get("e1_3"), get("e0_6")),
            (1.0, 1.0, 0.0, 1.0)
        );
        assert_eq!(
            (get("v1_conv3x3"), get("v2_maxpool"), get("v3_conv1x1")),
            (1.0, 1.0, 0.0)
        );
        assert_eq!(
            (get("depth"), get("shortest"), get("paths")),
            (2.0, 1.0, 3.0)
        );
        assert_eq!(
            (get("input_out_degree"), get("output_in_degree")),
            (3.0, 3.0)
        );
        assert_eq!((get("paths_conv3x3"), get("max_maxpool")), (1.0, 1.0));
        assert_eq!((get("width_conv3x3"), get("width_maxpool")), (0.5, 0.5));
        assert_eq!(counts(&a), vec![1.0, 0.0, 1.0, 2.0]);
    }
}
