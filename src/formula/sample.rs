//! Formulas evaluated on a sample of each layer's tensor elements: the fitness cache of the
//! evolution (`crate::evolve`), where a formula is scored on hundreds of archs in milliseconds.
//!
//! Each layer keeps at most `k` elements of each terminal, drawn at the same positions for the
//! two terminals of one shape kind (so `mul(W,G)` pairs the right elements), the element counts
//! of the full tensors, and the statistics `mineig`, `kdet` and `swap` of each full terminal.
//! Elementwise operations are exact on the kept elements; `sum`, `norm` and `l1` scale the kept
//! elements' sums by `n / k` (unbiased for `sum` and `l1`), `mean`, `cos`, `hamming` and `zscore` use the kept elements'
//! statistics, `size` the full count. With `k` ≥ every tensor's size the values are the
//! formula's (up to float32 vs f64 summation), which the tests check against the engine.

use super::{map_f32, map_f64, zip_f32, zip_f64, Formula, Node, Op, Signature, Terminal, Ty};
use serde::{Deserialize, Serialize};

/// The kept elements of one layer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LayerSample {
    /// Element counts of the full weight-shaped and output-shaped tensors.
    pub numel: [usize; 2],
    /// Kept elements of `W`, `G`, `Z`, `GZ` (in [`Terminal::ALL`] order).
    pub values: [Vec<f32>; 4],
    /// Each statistic of [`Op::TERMINAL_STATISTICS`] (`mineig`, `kdet`, `swap`) of each full
    /// terminal, in [`Terminal::ALL`] order.
    pub stats: [[f64; 4]; Op::TERMINAL_STATISTICS.len()],
    /// The searched block of the layer ([`super::cell_of`]), for `cell_sum`.
    #[serde(default)]
    pub cell: Option<u32>,
}

/// The kept elements of every layer of one arch, in layer order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ArchSample {
    pub layers: Vec<LayerSample>,
}

impl ArchSample {
    /// Bytes held (the cache's memory).
    pub fn bytes(&self) -> usize {
        self.layers
            .iter()
            .map(|l| {
                std::mem::size_of::<LayerSample>()
                    + 4 * l.values.iter().map(Vec::len).sum::<usize>()
            })
            .sum()
    }
}

fn kind_index(ty: Ty) -> usize {
    match ty {
        Ty::Weight => 0,
        _ => 1,
    }
}

enum Val {
    T(Vec<f32>, Ty),
    S(f64),
}

impl Val {
    fn scalar(&self) -> f64 {
        match self {
            Val::S(x) => *x,
            Val::T(..) => f64::NAN,
        }
    }
}

fn sum(v: &[f32], f: impl Fn(f32) -> f64) -> f64 {
    v.iter().map(|&x| f(x)).fold(0.0, |a, b| a + b)
}

fn eval(node: &Node, layer: &LayerSample) -> Val {
    match node {
        Node::Term(t) => Val::T(layer.values[*t as usize].clone(), t.ty()),
        Node::Op(op, args) => {
            if op.signature() == Signature::OfTerminal {
                let Node::Term(t) = &args[0] else {
                    return Val::S(f64::NAN);
                };
                return Val::S(
                    op.statistic_index()
                        .map_or(f64::NAN, |i| layer.stats[i][*t as usize]),
                );
            }
            let a = eval(&args[0], layer);
            match (op.signature(), a) {
                (Signature::Map | Signature::TensorMap, Val::S(x)) => Val::S(map_f64(*op, x)),
                (Signature::Map | Signature::TensorMap, Val::T(mut v, ty)) => {
                    if *op == Op::Zscore {
                        let n = v.len().max(1) as f64;
                        let mean = sum(&v, f64::from) / n;
                        let var = sum(&v, |x| (f64::from(x) - mean).powi(2)) / n;
                        let sd = var.sqrt();
                        for x in &mut v {
                            *x = if sd > 0.0 {
                                ((f64::from(*x) - mean) / sd) as f32
                            } else {
                                0.0
                            };
                        }
                    } else {
                        for x in &mut v {
                            *x = map_f32(*op, *x);
                        }
                    }
                    Val::T(v, ty)
                }
                (Signature::Zip, Val::S(x)) => {
                    Val::S(zip_f64(*op, x, eval(&args[1], layer).scalar()))
                }
                (Signature::Zip, Val::T(mut v, ty)) => {
                    if let Val::T(w, _) = eval(&args[1], layer) {
                        for (x, y) in v.iter_mut().zip(&w) {
                            *x = zip_f32(*op, *x, *y);
                        }
                    }
                    Val::T(v, ty)
                }
                (Signature::Reduce, Val::T(v, ty)) => {
                    let n = layer.numel[kind_index(ty)];
                    let scale = if v.is_empty() {
                        0.0
                    } else {
                        n as f64 / v.len() as f64
                    };
                    Val::S(match op {
                        Op::Sum => sum(&v, f64::from) * scale,
                        Op::Mean if v.is_empty() => 0.0,
                        Op::Mean => sum(&v, f64::from) / v.len() as f64,
                        Op::Norm => (sum(&v, |x| f64::from(x).powi(2)) * scale).sqrt(),
                        Op::L1 => sum(&v, |x| f64::from(x).abs()) * scale,
                        Op::Size => n as f64,
                        _ => f64::NAN,
                    })
                }
                (Signature::Reduce2, Val::T(v, _)) => {
                    let Val::T(w, _) = eval(&args[1], layer) else {
                        return Val::S(f64::NAN);
                    };
                    Val::S(match op {
                        Op::Cos => {
                            let dot: f64 = v
                                .iter()
                                .zip(&w)
                                .map(|(&a, &b)| f64::from(a) * f64::from(b))
                                .sum();
                            let na = sum(&v, |x| f64::from(x).powi(2)).sqrt();
                            let nb = sum(&w, |x| f64::from(x).powi(2)).sqrt();
                            if na == 0.0 || nb == 0.0 {
                                0.0
                            } else {
                                dot / (na * nb)
                            }
                        }
                        _ if v.is_empty() => 0.0,
                        _ => {
                            let differ = v
                                .iter()
                                .zip(&w)
                                .filter(|(&a, &b)| map_f32(Op::Sign, a) != map_f32(Op::Sign, b))
                                .count();
                            differ as f64 / v.len() as f64
                        }
                    })
                }
                _ => Val::S(f64::NAN),
            }
        }
    }
}

/// The formula's value on the kept elements of `arch`, or `None` where a per-layer number or
/// the score is not finite.
pub fn evaluate(formula: &Formula, arch: &ArchSample) -> Option<f64> {
    let mut per_layer = Vec::with_capacity(arch.layers.len());
    for layer in &arch.layers {
        let v = eval(&formula.body, layer).scalar();
        if !v.is_finite() {
            return None;
        }
        per_layer.push((v, layer.cell));
    }
    let score = formula.aggregate.apply(&per_layer);
    score.is_finite().then_some(score)
}

/// Positions `0..n` kept when at most `k` are: all of them, or `k` drawn without replacement
/// (Floyd's algorithm), sorted, from `rng`.
pub fn keep_positions(n: usize, k: usize, rng: &mut crate::rng::SplitMix64) -> Vec<usize> {
    if n <= k {
        return (0..n).collect();
    }
    let mut chosen = std::collections::BTreeSet::new();
    for j in (n - k)..n {
        let t = rng.below(j as u64 + 1) as usize;
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    chosen.into_iter().collect()
}

/// A layer from its full terminal tensors (flattened float32, in [`Terminal::ALL`] order), the
/// statistics of each ([`LayerSample::stats`]) and its searched block, keeping at most `k`
/// elements per kind at positions drawn from `rng`.
pub fn layer_sample(
    full: [&[f32]; 4],
    stats: [[f64; 4]; Op::TERMINAL_STATISTICS.len()],
    cell: Option<u32>,
    k: usize,
    rng: &mut crate::rng::SplitMix64,
) -> LayerSample {
    let numel = [full[0].len(), full[2].len()];
    let keep = [
        keep_positions(numel[0], k, rng),
        keep_positions(numel[1], k, rng),
    ];
    let pick = |t: Terminal| {
        let src = full[t as usize];
        let pos = &keep[kind_index(t.ty())];
        if src.len() == numel[kind_index(t.ty())] {
            pos.iter().map(|&i| src[i]).collect()
        } else {
            // A gradient the loss does not reach is 0 (the caller passes an empty slice).
            vec![0.0; pos.len()]
        }
    };
    LayerSample {
        numel,
        values: Terminal::ALL.map(pick),
        stats,
        cell,
    }
}
