//! The DARTS cell space (Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019;
//! `quark0/darts`) and NAS-Bench-301's network on it (Siems et al., "NAS-Bench-301 and the Case
//! for Surrogate Benchmarks for Neural Architecture Search", 2020; `automl/nasbench301`).
//!
//! **An arch** is a genotype: a normal and a reduction cell, each with 4 intermediate nodes that
//! take two distinct earlier inputs through one op each (inputs 0 and 1 are the two previous
//! cells' outputs, input `j ≥ 2` is node `j − 2`), 7 ops (`none` excluded); the cell outputs
//! the concatenation of its 4 nodes. About 10^18 genotypes.
//!
//! **Notation.** DARTS's own text form, as DARTS and its successors print a genotype, is read
//! and written: `Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), …],
//! normal_concat=[2, 3, 4, 5], reduce=[…], reduce_concat=[2, 3, 4, 5])`; NASLib's compact form
//! `[[(0, 3), (1, 2), …], [(…)]]` (8 `(input, op)` pairs per cell, op codes 0 max_pool_3x3,
//! 1 avg_pool_3x3, 2 skip_connect, 3 sep_conv_3x3, 4 sep_conv_5x5, 5 dil_conv_3x3, 6
//! dil_conv_5x5) is read too. The canonical form lists each node's two inputs in increasing
//! input order. There is no official index: the index here is the canonical genotype in mixed
//! radix (a name, not an order; see [`DartsArch::index`]).
//!
//! **The network** ([`net`]): NAS-Bench-301's, as NAS-Bench-Suite-Zero computed its proxies
//! (PROVENANCE §14): DARTS's `NetworkCIFAR` with 32 initial channels, 8 cells, reductions at
//! cells 2 and 5, no auxiliary head, and operation BNs without affine parameters; its parameter
//! count equals the files' for all 1,218 labelled genotypes (`tests/darts.rs`).

pub mod features;
pub mod net;

use super::{shown, Arch, NatsDataset, SearchSpace, Space, SpaceError};
use crate::graph::Graph;
use crate::rng::SplitMix64;
use std::fmt;
use std::str::FromStr;

/// Intermediate nodes per cell.
pub const DARTS_NODES: usize = 4;
/// Edges (op, input) per cell: two per node.
pub const DARTS_EDGES: usize = 2 * DARTS_NODES;

/// A DARTS op, numbered as NASLib's compact form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DartsOp {
    MaxPool3x3,
    AvgPool3x3,
    SkipConnect,
    SepConv3x3,
    SepConv5x5,
    DilConv3x3,
    DilConv5x5,
}

impl DartsOp {
    pub const ALL: [DartsOp; 7] = [
        DartsOp::MaxPool3x3,
        DartsOp::AvgPool3x3,
        DartsOp::SkipConnect,
        DartsOp::SepConv3x3,
        DartsOp::SepConv5x5,
        DartsOp::DilConv3x3,
        DartsOp::DilConv5x5,
    ];

    /// DARTS's name (`sep_conv_3x3`).
    pub fn name(self) -> &'static str {
        match self {
            DartsOp::MaxPool3x3 => "max_pool_3x3",
            DartsOp::AvgPool3x3 => "avg_pool_3x3",
            DartsOp::SkipConnect => "skip_connect",
            DartsOp::SepConv3x3 => "sep_conv_3x3",
            DartsOp::SepConv5x5 => "sep_conv_5x5",
            DartsOp::DilConv3x3 => "dil_conv_3x3",
            DartsOp::DilConv5x5 => "dil_conv_5x5",
        }
    }

    fn by_name(name: &str) -> Option<DartsOp> {
        DartsOp::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// One cell: `edges[2i]` and `edges[2i + 1]` are the (input, op) of node `i`, inputs
/// increasing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DartsCell {
    pub edges: [(u8, DartsOp); DARTS_EDGES],
}

/// Genotypes of one cell: Π over nodes of C(i + 2, 2) input pairs × 49 op pairs.
const CELL_SIZE: usize = 49 * 147 * 294 * 490;

impl DartsCell {
    /// Validates and orders the (input, op) pairs of one cell; `why` names the node.
    fn new(pairs: &[(usize, DartsOp)], which: &str) -> Result<DartsCell, String> {
        if pairs.len() != DARTS_EDGES {
            return Err(format!(
                "the {which} cell has {} (op, input) pairs, expected 8 (two per node)",
                pairs.len()
            ));
        }
        let mut edges = [(0u8, DartsOp::MaxPool3x3); DARTS_EDGES];
        for node in 0..DARTS_NODES {
            let (mut a, mut b) = (pairs[2 * node], pairs[2 * node + 1]);
            for (input, _) in [a, b] {
                if input >= node + 2 {
                    return Err(format!(
                        "{which} node {node} reads input {input}, which does not exist yet (inputs 0..={})",
                        node + 1
                    ));
                }
            }
            if a.0 == b.0 {
                return Err(format!(
                    "{which} node {node} reads input {} twice: a node takes two distinct inputs",
                    a.0
                ));
            }
            if a.0 > b.0 {
                std::mem::swap(&mut a, &mut b);
            }
            edges[2 * node] = (a.0 as u8, a.1);
            edges[2 * node + 1] = (b.0 as u8, b.1);
        }
        Ok(DartsCell { edges })
    }

    fn code(&self) -> usize {
        let mut code = 0;
        for node in (0..DARTS_NODES).rev() {
            let n = node + 2;
            let ((a, oa), (b, ob)) = (self.edges[2 * node], self.edges[2 * node + 1]);
            let (a, b) = (a as usize, b as usize);
            // Rank of the pair (a, b), a < b < n, among C(n, 2) pairs in (b, a) order.
            let pair = b * (b - 1) / 2 + a;
            let node_code = (pair * 7 + oa as usize) * 7 + ob as usize;
            code = code * (n * (n - 1) / 2 * 49) + node_code;
        }
        code
    }

    fn from_code(mut code: usize) -> DartsCell {
        let mut edges = [(0u8, DartsOp::MaxPool3x3); DARTS_EDGES];
        for node in 0..DARTS_NODES {
            let n = node + 2;
            let radix = n * (n - 1) / 2 * 49;
            let c = code % radix;
            code /= radix;
            let (pair, ops) = (c / 49, c % 49);
            let mut b = 1;
            while (b + 1) * b / 2 <= pair {
                b += 1;
            }
            let a = pair - b * (b - 1) / 2;
            edges[2 * node] = (a as u8, DartsOp::ALL[ops / 7]);
            edges[2 * node + 1] = (b as u8, DartsOp::ALL[ops % 7]);
        }
        DartsCell { edges }
    }

    fn random(rng: &mut SplitMix64) -> DartsCell {
        DartsCell::from_code(rng.below(CELL_SIZE as u64) as usize)
    }
}

/// A DARTS genotype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DartsArch {
    pub normal: DartsCell,
    pub reduce: DartsCell,
}

impl DartsArch {
    /// The genotype in mixed radix: the normal cell's code times the number of cells, plus the
    /// reduction cell's; a cell's code runs over its nodes (node 0 least significant), each
    /// node's digit being its input pair's rank among `C(i + 2, 2)` then its two ops.
    pub fn index(&self) -> usize {
        self.normal.code() * CELL_SIZE + self.reduce.code()
    }

    pub fn from_index(index: usize) -> Result<DartsArch, SpaceError> {
        if index >= CELL_SIZE * CELL_SIZE {
            return Err(SpaceError::IndexOutOfRange {
                space: Space::Darts,
                index,
                size: CELL_SIZE * CELL_SIZE,
            });
        }
        Ok(DartsArch {
            normal: DartsCell::from_code(index / CELL_SIZE),
            reduce: DartsCell::from_code(index % CELL_SIZE),
        })
    }

    /// NASLib's compact form.
    pub fn compact(&self) -> String {
        let cell = |c: &DartsCell| {
            let v: Vec<String> = c
                .edges
                .iter()
                .map(|(i, o)| format!("({i}, {})", *o as u8))
                .collect();
            format!("[{}]", v.join(", "))
        };
        format!("[{}, {}]", cell(&self.normal), cell(&self.reduce))
    }
}

impl SearchSpace for DartsArch {
    const SPACE: Space = Space::Darts;
    const SIZE: usize = CELL_SIZE * CELL_SIZE;
    const NAMES: &'static [&'static str] = &["darts", "nb301", "nas-bench-301", "nasbench301"];
    const FINAL_HP: &'static str = "nb301";
    const DATASETS: &'static [NatsDataset] = &[NatsDataset::Cifar10];
    /// Measured on 60 labelled genotypes (benches/README.md, "DARTS default vector"): the
    /// proxies with τ ≥ 0.33 at ≤ 0.5 CPU-s each; zico (0.35 for 1.1 s) and the gradient
    /// family (negative τ, ≥ 1.2 s) left out to keep ≥ 2 genotypes/s on 2 cores.
    const DEFAULT_PROXIES: &'static [&'static str] =
        &["params", "flops", "l2_norm", "nwot", "meco"];
    const MIN_SAMPLES_LEAF: usize = 1;
    /// NAS-Bench-301's surrogate prediction of the CIFAR-10 validation accuracy.
    const DEFAULT_LABEL: &'static str = "valid_acc hp=nb301";
    const LABEL_FILE: &'static str = "nasbench301/zc_nasbench301_suite_zero_725.json";
    const BENCHMARK: &'static str = "NAS-Bench-301";
    const HAS_ISOMORPHS: bool = false;
    const INDEX_ORDER: bool = false;

    fn from_index(index: usize) -> Result<Self, SpaceError> {
        DartsArch::from_index(index)
    }
    fn index(&self) -> usize {
        DartsArch::index(self)
    }
    fn random(rng: &mut SplitMix64) -> Self {
        DartsArch {
            normal: DartsCell::random(rng),
            reduce: DartsCell::random(rng),
        }
    }
    /// One edge of one cell changed: its op to another op, or its input to another valid
    /// input of its node (NASLib's DARTS mutation changes one op or one input of one cell).
    fn mutate(&self, rng: &mut SplitMix64) -> Self {
        let mut out = *self;
        let reduce = rng.below(2) == 1;
        let cell = if reduce {
            &mut out.reduce
        } else {
            &mut out.normal
        };
        loop {
            let e = rng.below(DARTS_EDGES as u64) as usize;
            let node = e / 2;
            let mut pairs: Vec<(usize, DartsOp)> =
                cell.edges.iter().map(|&(i, o)| (i as usize, o)).collect();
            if rng.below(2) == 0 {
                let others: Vec<DartsOp> = DartsOp::ALL
                    .into_iter()
                    .filter(|&o| o != pairs[e].1)
                    .collect();
                pairs[e].1 = others[rng.below(others.len() as u64) as usize];
            } else {
                let other = pairs[e ^ 1].0;
                let free: Vec<usize> = (0..node + 2)
                    .filter(|&i| i != other && i != pairs[e].0)
                    .collect();
                if free.is_empty() {
                    continue;
                }
                pairs[e].0 = free[rng.below(free.len() as u64) as usize];
            }
            *cell = DartsCell::new(&pairs, "").expect("a mutation keeps the rules");
            return out;
        }
    }
    fn notation_of(s: &str) -> bool {
        s.starts_with("Genotype(") || s.starts_with("[[")
    }
    fn feature_names() -> &'static [String] {
        features::feature_names()
    }
    fn features(&self) -> Vec<f64> {
        features::features(self)
    }
    fn count_names() -> &'static [&'static str] {
        &features::COUNT_NAMES
    }
    fn counts(&self) -> Vec<f64> {
        features::counts(self)
    }
    fn graph(&self, dataset: NatsDataset) -> Graph {
        net::graph(self, dataset, &net::NB301)
    }
    fn into_arch(self) -> Arch {
        Arch::Darts(self)
    }
}

impl fmt::Display for DartsArch {
    /// DARTS's text form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cell = |c: &DartsCell| {
            let v: Vec<String> = c
                .edges
                .iter()
                .map(|(i, o)| format!("('{}', {i})", o.name()))
                .collect();
            format!("[{}]", v.join(", "))
        };
        write!(
            f,
            "Genotype(normal={}, normal_concat=[2, 3, 4, 5], reduce={}, reduce_concat=[2, 3, 4, 5])",
            cell(&self.normal),
            cell(&self.reduce)
        )
    }
}

impl FromStr for DartsArch {
    type Err = SpaceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = |why: String| SpaceError::Malformed {
            space: Space::Darts,
            shown: shown(s),
            why,
        };
        if t.is_empty() {
            return Err(SpaceError::Empty);
        }
        let cells = if let Some(body) = t.strip_prefix("Genotype(") {
            parse_genotype(body.strip_suffix(')').ok_or_else(|| bad("no closing ')'".into()))?)
        } else if t.starts_with("[[") {
            parse_compact(t)
        } else {
            Err("expected DARTS's Genotype(normal=[...], normal_concat=..., reduce=[...], reduce_concat=...) or NASLib's [[(input, op), ...], [...]]".into())
        }
        .map_err(bad)?;
        let normal = DartsCell::new(&cells[0], "normal").map_err(bad)?;
        let reduce = DartsCell::new(&cells[1], "reduce").map_err(bad)?;
        Ok(DartsArch { normal, reduce })
    }
}

/// Splits `s` into the top-level items of a bracketed list body (commas inside brackets or
/// parentheses kept).
fn items(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !s[start..].trim().is_empty() {
        out.push(s[start..].trim());
    }
    out
}

fn bracketed<'a>(s: &'a str, open: char, close: char, what: &str) -> Result<&'a str, String> {
    s.trim()
        .strip_prefix(open)
        .and_then(|r| r.strip_suffix(close))
        .ok_or_else(|| format!("{what} {:?} is not written {open}…{close}", shown(s)))
}

fn parse_genotype(body: &str) -> Result<[Vec<(usize, DartsOp)>; 2], String> {
    let mut normal = None;
    let mut reduce = None;
    for field in items(body) {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| format!("field {} is not key=value", shown(field)))?;
        match key.trim() {
            "normal" => normal = Some(named_pairs(value)?),
            "reduce" => reduce = Some(named_pairs(value)?),
            k @ ("normal_concat" | "reduce_concat") => {
                let v: Vec<&str> = items(bracketed(value, '[', ']', k)?);
                if v != ["2", "3", "4", "5"] && !value.contains("range(2, 6)") {
                    return Err(format!(
                        "{k} must be [2, 3, 4, 5] (every node is concatenated)"
                    ));
                }
            }
            k => return Err(format!("unknown field {k:?}")),
        }
    }
    Ok([
        normal.ok_or("no normal=[...]")?,
        reduce.ok_or("no reduce=[...]")?,
    ])
}

fn named_pairs(list: &str) -> Result<Vec<(usize, DartsOp)>, String> {
    items(bracketed(list, '[', ']', "a cell")?)
        .into_iter()
        .map(|p| {
            let inner = items(bracketed(p, '(', ')', "an edge")?);
            let [op, input] = inner[..] else {
                return Err(format!("edge {} is not ('op', input)", shown(p)));
            };
            let name = op.trim_matches(|c| c == '\'' || c == '"');
            let op = DartsOp::by_name(name).ok_or_else(|| {
                format!(
                    "unknown op {}: {}",
                    shown(name),
                    DartsOp::ALL.map(DartsOp::name).join(", ")
                )
            })?;
            let input = input
                .parse()
                .map_err(|_| format!("input {} is not a number", shown(input)))?;
            Ok((input, op))
        })
        .collect()
}

fn parse_compact(t: &str) -> Result<[Vec<(usize, DartsOp)>; 2], String> {
    let cells = items(bracketed(t, '[', ']', "a genotype")?);
    let [normal, reduce] = cells[..] else {
        return Err(format!("{} cells, expected [normal, reduce]", cells.len()));
    };
    let cell = |c: &str| -> Result<Vec<(usize, DartsOp)>, String> {
        items(bracketed(c, '[', ']', "a cell")?)
            .into_iter()
            .map(|p| {
                let inner = items(bracketed(p, '(', ')', "an edge")?);
                let [input, op] = inner[..] else {
                    return Err(format!("edge {} is not (input, op)", shown(p)));
                };
                let input = input
                    .parse()
                    .map_err(|_| format!("input {} is not a number", shown(input)))?;
                let op = op
                    .parse::<usize>()
                    .ok()
                    .and_then(|o| DartsOp::ALL.get(o).copied())
                    .ok_or_else(|| format!("op code {} is not 0..=6", shown(op)))?;
                Ok((input, op))
            })
            .collect()
    };
    Ok([cell(normal)?, cell(reduce)?])
}

#[cfg(test)]
mod tests;
