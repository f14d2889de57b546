//! A proxy formula ([`crate::formula`]) as a proxy: evaluated on the full per-layer tensors of
//! the engine's labelled pass (or on the initial weights alone when it reads nothing else).

use super::{ArchContext, Pass, Proxy, ProxyError};
use crate::formula::{Formula, Node, Op, Signature, Terminal, Ty, EXP_MAX};
use tch::{Kind, Tensor};

/// A parsed formula; its name is its text.
pub struct FormulaProxy {
    formula: Formula,
    name: String,
}

impl FormulaProxy {
    pub fn new(formula: Formula) -> FormulaProxy {
        FormulaProxy {
            name: formula.to_string(),
            formula,
        }
    }

    pub fn formula(&self) -> &Formula {
        &self.formula
    }
}

impl Proxy for FormulaProxy {
    fn name(&self) -> &str {
        &self.name
    }
    fn pass(&self) -> Pass {
        if self.formula.needs_data() {
            Pass::Labelled
        } else {
            Pass::Static
        }
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let layers = layer_tensors(cx, self.formula.needs_data())?;
        evaluate(&self.formula, &layers)
    }
}

/// The terminals of one layer (full tensors, float32), in [`Terminal::ALL`] order. `Z` is
/// empty (0 elements) for a layer that did not run; gradients the loss does not reach are 0.
pub struct LayerTensors {
    pub terminals: [Tensor; 4],
    /// The searched block of the layer ([`crate::formula::cell_of`]).
    pub cell: Option<u32>,
}

impl LayerTensors {
    pub fn get(&self, t: Terminal) -> &Tensor {
        &self.terminals[t as usize]
    }
}

/// The formula layers of the arch (its Conv2d and Linear weights, [`ArchContext::layer_weights`]).
/// Without `with_data` only `W` is filled (the other terminals are empty) and no pass runs.
pub fn layer_tensors(cx: &ArchContext, with_data: bool) -> Result<Vec<LayerTensors>, ProxyError> {
    let layers = cx.layer_weights();
    let empty = || Tensor::f_zeros([0], (Kind::Float, cx.device));
    if !with_data {
        return layers
            .iter()
            .map(|&i| {
                Ok(LayerTensors {
                    terminals: [
                        cx.init.tensors[i].shallow_clone(),
                        empty()?,
                        empty()?,
                        empty()?,
                    ],
                    cell: cx.net.graph().params[i].block,
                })
            })
            .collect();
    }
    // The pass records gradients: no guard before it runs.
    let pass = cx.labelled()?;
    let _guard = tch::no_grad_guard();
    layers
        .iter()
        .map(|&i| {
            let w = pass.weights.tensors[i].f_detach()?;
            let g = if pass.grads[i].defined() {
                pass.grads[i].shallow_clone()
            } else {
                w.f_zeros_like()?
            };
            let module = cx.init.names[i].trim_end_matches(".weight");
            let (z, gz) = match pass.activations.iter().find(|(m, _, _)| m == module) {
                Some((_, z, gz)) => {
                    let gz = if gz.defined() {
                        gz.shallow_clone()
                    } else {
                        z.f_zeros_like()?
                    };
                    (z.shallow_clone(), gz)
                }
                None => (empty()?, empty()?),
            };
            Ok(LayerTensors {
                terminals: [w, g, z, gz],
                cell: cx.net.graph().params[i].block,
            })
        })
        .collect()
}

/// `mineig` of a terminal tensor: the smallest eigenvalue (float64) of the Pearson correlation
/// matrix of its channels, NaN entries 0; 0 for an empty tensor or a single channel.
pub fn min_eig(t: &Tensor, ty: Ty) -> Result<f64, ProxyError> {
    let _guard = tch::no_grad_guard();
    if t.numel() == 0 || t.dim() < 2 {
        return Ok(0.0);
    }
    let rows = match ty {
        Ty::Output => t.f_transpose(0, 1)?.f_contiguous()?,
        _ => t.shallow_clone(),
    };
    let c = rows.size()[0];
    if c < 2 {
        return Ok(0.0);
    }
    let m = rows.f_reshape([c, -1])?;
    let p = m
        .f_corrcoef()?
        .f_nan_to_num(0.0, 0.0, 0.0)?
        .f_to_kind(Kind::Double)?
        .f_to_device(tch::Device::Cpu)?;
    let eig = p.f_linalg_eigvalsh("L")?;
    Ok(eig.f_min()?.f_double_value(&[])?)
}

/// `kdet` of a terminal tensor: ln|det K| (float64) of the Hamming kernel of its rows' codes
/// `x > 0` (rows along dim 0), `K[i,j]` the positions where rows i and j agree, as NASWOT's
/// kernel (Mellor et al., ICML 2021, K_H = N_A − d_H); 0 for fewer than two rows or a singular
/// kernel (the language's protected log).
pub fn kernel_logdet(t: &Tensor) -> Result<f64, ProxyError> {
    let _guard = tch::no_grad_guard();
    if t.numel() == 0 || t.dim() < 1 || t.size()[0] < 2 {
        return Ok(0.0);
    }
    let n = t.size()[0];
    let codes = t
        .f_reshape([n, -1])?
        .f_gt(0.0)?
        .f_to_kind(Kind::Double)?
        .f_to_device(tch::Device::Cpu)?;
    let off = codes.f_neg()?.f_add_scalar(1.0)?;
    let k = codes
        .f_matmul(&codes.f_transpose(0, 1)?)?
        .f_add(&off.f_matmul(&off.f_transpose(0, 1)?)?)?;
    let (_, logabs) = k.f_slogdet()?;
    let v = logabs.f_double_value(&[])?;
    Ok(if v.is_finite() { v } else { 0.0 })
}

/// `swap` of a terminal tensor: the number of distinct sample-wise activation patterns, the
/// codes `x > 0` of each position of dims ≥ 1 down dim 0 (for outputs: one bit per image), as
/// SWAP (Peng et al., "SWAP-NAS: Sample-Wise Activation Patterns for Ultra-fast NAS", ICLR
/// 2024) counts the distinct sample-wise patterns, here per layer: a sum over layers counts a
/// pattern that two layers share twice, where SWAP's whole-network set counts it once. 0 for
/// an empty tensor.
pub fn distinct_patterns(t: &Tensor) -> Result<f64, ProxyError> {
    let _guard = tch::no_grad_guard();
    if t.numel() == 0 || t.dim() < 1 {
        return Ok(0.0);
    }
    let flat = t
        .f_reshape([-1])?
        .f_to_kind(Kind::Float)?
        .f_to_device(tch::Device::Cpu)?;
    let rows = t.size()[0] as usize;
    Ok(count_distinct_patterns(&Vec::<f32>::try_from(&flat)?, rows) as f64)
}

/// The number of distinct columns of the codes `x > 0` of `values`, a row-major matrix of
/// `rows` rows (one bit per row, packed into 64-bit words); 0 when empty.
fn count_distinct_patterns(values: &[f32], rows: usize) -> usize {
    if rows == 0 || values.is_empty() {
        return 0;
    }
    let cols = values.len() / rows;
    let words = rows.div_ceil(64);
    let mut packed = vec![0u64; cols * words];
    for (i, row) in values.chunks(cols).enumerate() {
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        for (j, &x) in row.iter().enumerate() {
            if x > 0.0 {
                packed[j * words + word] |= bit;
            }
        }
    }
    let distinct: std::collections::HashSet<&[u64]> = packed.chunks(words).collect();
    distinct.len()
}

/// A statistic of [`Op::TERMINAL_STATISTICS`] of a terminal tensor: the one dispatch the
/// engine's evaluator and the evolution's tensor cache share.
pub fn of_terminal(op: Op, t: &Tensor, ty: Ty) -> Result<f64, ProxyError> {
    match op {
        Op::KDet => kernel_logdet(t),
        Op::Swap => distinct_patterns(t),
        Op::MinEig => min_eig(t, ty),
        _ => unreachable!("{op:?} is not a statistic of a terminal"),
    }
}

enum Val {
    T(Tensor, Ty),
    S(f64),
}

fn scalar(v: Val) -> f64 {
    match v {
        Val::S(x) => x,
        Val::T(..) => f64::NAN,
    }
}

fn read(t: Tensor) -> Result<f64, ProxyError> {
    Ok(t.f_double_value(&[])?)
}

fn eval(node: &Node, layer: &LayerTensors) -> Result<Val, ProxyError> {
    let Node::Op(op, args) = node else {
        let Node::Term(t) = node else { unreachable!() };
        return Ok(Val::T(layer.get(*t).shallow_clone(), t.ty()));
    };
    if op.signature() == Signature::OfTerminal {
        let Node::Term(t) = &args[0] else {
            return Ok(Val::S(f64::NAN));
        };
        return Ok(Val::S(of_terminal(*op, layer.get(*t), t.ty())?));
    }
    let a = eval(&args[0], layer)?;
    Ok(match (op.signature(), a) {
        (Signature::Map | Signature::TensorMap, Val::S(x)) => {
            Val::S(crate::formula::map_f64(*op, x))
        }
        (Signature::Map | Signature::TensorMap, Val::T(x, ty)) => Val::T(map(*op, &x)?, ty),
        (Signature::Zip, Val::S(x)) => {
            let y = scalar(eval(&args[1], layer)?);
            Val::S(crate::formula::zip_f64(*op, x, y))
        }
        (Signature::Zip, Val::T(x, ty)) => {
            let Val::T(y, _) = eval(&args[1], layer)? else {
                return Ok(Val::S(f64::NAN));
            };
            Val::T(zip(*op, &x, &y)?, ty)
        }
        (Signature::Reduce, Val::T(x, _)) => Val::S(match op {
            Op::Sum => read(x.f_sum(Kind::Float)?)?,
            Op::Mean if x.numel() == 0 => 0.0,
            Op::Mean => read(x.f_mean(Kind::Float)?)?,
            Op::Norm => read(x.f_norm()?)?,
            Op::L1 => read(x.f_abs()?.f_sum(Kind::Float)?)?,
            Op::Size => x.numel() as f64,
            _ => f64::NAN,
        }),
        (Signature::Reduce2, Val::T(x, _)) => {
            let Val::T(y, _) = eval(&args[1], layer)? else {
                return Ok(Val::S(f64::NAN));
            };
            Val::S(match op {
                Op::Cos => {
                    let dot = read(x.f_mul(&y)?.f_sum(Kind::Float)?)?;
                    let (na, nb) = (read(x.f_norm()?)?, read(y.f_norm()?)?);
                    if na == 0.0 || nb == 0.0 {
                        0.0
                    } else {
                        dot / (na * nb)
                    }
                }
                _ if x.numel() == 0 => 0.0,
                _ => read(
                    x.f_sign()?
                        .f_ne_tensor(&y.f_sign()?)?
                        .f_to_kind(Kind::Float)?
                        .f_mean(Kind::Float)?,
                )?,
            })
        }
        _ => Val::S(f64::NAN),
    })
}

/// `where(keep, x, 0)`.
fn masked(x: Tensor, keep: &Tensor) -> Result<Tensor, ProxyError> {
    let zeros = x.f_zeros_like()?;
    Ok(x.f_where_self(keep, &zeros)?)
}

fn map(op: Op, x: &Tensor) -> Result<Tensor, ProxyError> {
    Ok(match op {
        Op::Abs => x.f_abs()?,
        Op::Neg => x.f_neg()?,
        Op::Sq => x.f_mul(x)?,
        Op::Sqrt => x.f_abs()?.f_sqrt()?,
        Op::Log => {
            let a = x.f_abs()?;
            masked(a.f_log()?, &a.f_gt(0.0)?)?
        }
        Op::Exp => x.f_clamp_max(f64::from(EXP_MAX))?.f_exp()?,
        Op::Inv => masked(x.f_reciprocal()?, &x.f_ne(0.0)?)?,
        Op::Relu => x.f_relu()?,
        Op::Sign => x.f_sign()?,
        Op::Step => x.f_gt(0.0)?.f_to_kind(Kind::Float)?,
        Op::Sigmoid => x.f_sigmoid()?,
        Op::Tanh => x.f_tanh()?,
        Op::Zscore => {
            if x.numel() == 0 {
                return Ok(x.shallow_clone());
            }
            let xd = x.f_to_kind(Kind::Double)?;
            let mean = read(xd.f_mean(Kind::Double)?)?;
            let sd = read(xd.f_sub_scalar(mean)?.f_square()?.f_mean(Kind::Double)?)?.sqrt();
            if sd > 0.0 {
                xd.f_sub_scalar(mean)?
                    .f_div_scalar(sd)?
                    .f_to_kind(Kind::Float)?
            } else {
                x.f_zeros_like()?
            }
        }
        _ => x.shallow_clone(),
    })
}

fn zip(op: Op, a: &Tensor, b: &Tensor) -> Result<Tensor, ProxyError> {
    Ok(match op {
        Op::Add => a.f_add(b)?,
        Op::Sub => a.f_sub(b)?,
        Op::Mul => a.f_mul(b)?,
        Op::Div => masked(a.f_div(b)?, &b.f_ne(0.0)?)?,
        _ => a.shallow_clone(),
    })
}

/// The formula's value on full per-layer tensors; a per-layer number or a score that is not
/// finite is [`ProxyError::NonFinite`].
pub fn evaluate(formula: &Formula, layers: &[LayerTensors]) -> Result<f64, ProxyError> {
    let _guard = tch::no_grad_guard();
    let mut per_layer = Vec::with_capacity(layers.len());
    for layer in layers {
        let v = scalar(eval(&formula.body, layer)?);
        if !v.is_finite() {
            return Err(ProxyError::NonFinite(v));
        }
        per_layer.push((v, layer.cell));
    }
    Ok(formula.aggregate.apply(&per_layer))
}
