//! DARTS arch features and counts, from the genotype alone.
//!
//! Per cell (`n_` normal, `r_` reduction):
//! * `{c}_e{k}_{op}` — the op on edge k (0–7, edges 2i and 2i+1 feed node i, inputs
//!   increasing), one-hot, 56 entries; `{c}_e{k}_in{j}` — the input of edge k, one-hot over
//!   0–4, 40 entries: the encoding of the published baselines;
//! * `{c}_{op}` — how many edges carry each op; `{c}_depth` — the longest chain of nodes from
//!   a cell input to the output (1–4); `{c}_input_uses` — edges reading the two cell inputs;
//! * `params_m`, `mflops` — the size of NAS-Bench-301's network.
//! * `darts_normal_conv`, `darts_reduce_conv`, `darts_normal_skip`, `darts_normal_pool` — the
//!   counts the engine writes as static proxies (separable and dilated convs, skips, pools).

use super::{DartsArch, DartsCell, DartsOp, DARTS_EDGES, DARTS_NODES};
use crate::space::SearchSpace;
use std::sync::OnceLock;

const CELLS: [&str; 2] = ["n", "r"];
/// Inputs an edge can read: 0–4.
const INPUTS: usize = DARTS_NODES + 1;

fn short(op: DartsOp) -> &'static str {
    match op {
        DartsOp::MaxPool3x3 => "max3",
        DartsOp::AvgPool3x3 => "avg3",
        DartsOp::SkipConnect => "skip",
        DartsOp::SepConv3x3 => "sep3",
        DartsOp::SepConv5x5 => "sep5",
        DartsOp::DilConv3x3 => "dil3",
        DartsOp::DilConv5x5 => "dil5",
    }
}

/// Names of the arch features, in column order.
pub fn feature_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = Vec::new();
        for c in CELLS {
            for k in 0..DARTS_EDGES {
                names.extend(
                    DartsOp::ALL
                        .iter()
                        .map(|&o| format!("{c}_e{k}_{}", short(o))),
                );
                names.extend((0..INPUTS).map(|j| format!("{c}_e{k}_in{j}")));
            }
            names.extend(DartsOp::ALL.iter().map(|&o| format!("{c}_{}", short(o))));
            names.push(format!("{c}_depth"));
            names.push(format!("{c}_input_uses"));
        }
        names.extend(["params_m".to_string(), "mflops".to_string()]);
        names
    })
}

fn cell_features(cell: &DartsCell, f: &mut Vec<f64>) {
    for &(input, op) in &cell.edges {
        f.extend(DartsOp::ALL.iter().map(|&o| f64::from(u8::from(o == op))));
        f.extend((0..INPUTS).map(|j| f64::from(u8::from(j == input as usize))));
    }
    for o in DartsOp::ALL {
        f.push(cell.edges.iter().filter(|e| e.1 == o).count() as f64);
    }
    f.push(depth(cell) as f64);
    f.push(cell.edges.iter().filter(|e| e.0 < 2).count() as f64);
}

/// The longest chain of nodes: node i's depth is 1 + the deepest node it reads.
fn depth(cell: &DartsCell) -> usize {
    let mut d = [0usize; DARTS_NODES + 2];
    for node in 0..DARTS_NODES {
        d[node + 2] = 1
            + (0..2)
                .map(|k| d[cell.edges[2 * node + k].0 as usize])
                .max()
                .unwrap_or(0);
    }
    d[2..].iter().copied().max().unwrap_or(0)
}

/// The arch features of `a`, in [`feature_names`] order.
pub fn features(a: &DartsArch) -> Vec<f64> {
    let mut f = Vec::with_capacity(feature_names().len());
    cell_features(&a.normal, &mut f);
    cell_features(&a.reduce, &mut f);
    let g = a.graph(crate::space::NatsDataset::Cifar10);
    f.push(g.param_count() as f64 / 1e6);
    f.push(g.flop_count().expect("the DARTS graph is well formed") as f64 / 1e6);
    f
}

/// Names of the counts, in column order.
pub const COUNT_NAMES: [&str; 4] = [
    "darts_normal_conv",
    "darts_reduce_conv",
    "darts_normal_skip",
    "darts_normal_pool",
];

/// The counts of `a`, in [`COUNT_NAMES`] order.
pub fn counts(a: &DartsArch) -> Vec<f64> {
    let count = |c: &DartsCell, ops: &[DartsOp]| {
        c.edges.iter().filter(|e| ops.contains(&e.1)).count() as f64
    };
    let conv = [
        DartsOp::SepConv3x3,
        DartsOp::SepConv5x5,
        DartsOp::DilConv3x3,
        DartsOp::DilConv5x5,
    ];
    vec![
        count(&a.normal, &conv),
        count(&a.reduce, &conv),
        count(&a.normal, &[DartsOp::SkipConnect]),
        count(&a.normal, &[DartsOp::MaxPool3x3, DartsOp::AvgPool3x3]),
    ]
}
