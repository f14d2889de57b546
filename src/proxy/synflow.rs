//! `synflow` (Tanaka, Kunin, Yamins & Ganguli, "Pruning neural networks without any data by
//! iteratively conserving synaptic flow", NeurIPS 2020; as a zero-cost proxy in Abdelfattah et
//! al. 2021):
//!
//! ```text
//! R       = Σ f_{|θ|}(1)            (network with every parameter replaced by |θ|, float64,
//!                                    no BN layers, one all-ones input [1, 3, H, W])
//! synflow = Σ_l Σ |θ_l ⊙ ∂R/∂θ_l|     over every Conv2d and Linear weight
//! ```
//!
//! Reference: NASLib `zerocost` `naslib/predictors/utils/pruners/measures/synflow.py`
//! (`@measure('synflow', bn=False, mode='param')`: BN forwards replaced by identities,
//! `net.double()`, every `state_dict` entry `abs_()`'d — classifier bias included —, input
//! `torch.ones([1] + input_dim).double()`, `torch.sum(output).backward()`, per-layer
//! `|W ⊙ W.grad|` summed by `find_measures`). foresight `measures/synflow.py` is the same.
//! Choices that change the number: BN off (the `synflow_bn` variant keeps it), float64, the
//! input size (32 or 16), the absolute value of the biases, no log.
//! Overflow: R grows with the product of the layers' |W| sums; in float64 it stays finite for every
//! NATS-Bench network (the largest values are ~1e30 orders below f64's range). If it were not
//! finite the engine would record NaN with the non-finite value as the reason.

use super::{sum_f64, ArchContext, Pass, Proxy, ProxyError};
use crate::net::{BnMode, ForwardOptions, Weights};
use tch::{Kind, Tensor};

pub struct Synflow;

impl Proxy for Synflow {
    fn name(&self) -> &str {
        "synflow"
    }
    fn pass(&self) -> Pass {
        Pass::Own
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let mut tensors = Vec::with_capacity(cx.init.tensors.len());
        for t in &cx.init.tensors {
            tensors.push(
                t.f_detach()?
                    .f_to_kind(Kind::Double)?
                    .f_abs()?
                    .f_to_device(cx.device)?
                    .set_requires_grad(true),
            );
        }
        let weights = Weights {
            names: cx.init.names.clone(),
            tensors,
        };
        let [_, s, _] = cx.net.input_shape();
        let x = Tensor::f_ones([1, 3, s, s], (Kind::Double, cx.device))?;
        let out = cx
            .net
            .forward(&weights, &x, ForwardOptions { bn: BnMode::Off }, None)?;
        let r = out.f_sum(Kind::Double)?;
        let layers = cx.layer_weights();
        let lw: Vec<&Tensor> = layers.iter().map(|&i| &weights.tensors[i]).collect();
        let grads = Tensor::f_run_backward(&[&r], &lw, false, false)?;
        // Layers the output does not reach (no gradient) contribute 0.
        let reached = lw.iter().zip(&grads).filter(|(_, g)| g.defined());
        sum_f64(reached, |(w, g)| {
            w.f_detach()?.f_mul(g)?.f_abs()?.f_sum(Kind::Double)
        })
    }
}
