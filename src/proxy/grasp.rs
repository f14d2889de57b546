//! `grasp` (Wang, Zhang & Grosse, "Picking Winning Tickets Before Training by Preserving
//! Gradient Flow", ICLR 2020; as a zero-cost proxy in Abdelfattah et al. 2021):
//!
//! ```text
//! g      = ∂L/∂θ                       (first pass, treated as a constant)
//! Hg     = ∂/∂θ ( Σ_l g_l · ∂L/∂θ_l )    (second pass with create_graph: Hessian-gradient product)
//! grasp  = Σ_l Σ −θ_l ⊙ (Hg)_l
//! ```
//!
//! θ = every Conv2d and Linear weight (biases and BN parameters are not in the product), L the
//! mean cross-entropy of the labelled batch with temperature T = 1 (`outputs / T`), one batch
//! (`num_iters = 1`, `split_data = 1`), BN in train mode, float32.
//! Reference: NASLib `zerocost` `naslib/predictors/utils/pruners/measures/grasp.py`
//! (`@measure('grasp', bn=True, mode='param')`; foresight `measures/grasp.py` is the same),
//! summed over every element by `find_measures`. Sign: the reference returns `−θ ⊙ Hg` (its
//! comment: "accuracy seems to be negatively correlated with this metric, so we add -ve sign").
//! The first-pass gradient `g` is exactly the shared labelled pass's weight gradient (same
//! initial weights, batch, loss and BN mode), so it is read from there. The engine plans the
//! labelled pass with `create_graph` when grasp is in the vector, so `∂L/∂θ` with its graph is
//! that same backward and only the double backward is grasp's own; alone (no plan) grasp runs
//! its own float32 forward and backward with `create_graph`, which gives the same numbers. A layer whose `Hg` does not exist (no path
//! from its weight to the loss's gradient) contributes 0, as the reference's `grad is None` rule.

use super::{sum_f64, ArchContext, Pass, Proxy, ProxyError};
use crate::net::{BnMode, ForwardOptions};
use tch::{Kind, Tensor};

pub struct Grasp;

impl Proxy for Grasp {
    fn name(&self) -> &str {
        "grasp"
    }
    fn pass(&self) -> Pass {
        Pass::LabelledGraph
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let layers = cx.layer_weights();
        let first = cx.labelled()?;
        // ∂L/∂θ with its graph: from the engine's shared pass when planned (same weights,
        // batch, loss and BN mode), else from a forward of our own.
        let own;
        let (lw, grad_f): (Vec<&Tensor>, Vec<Option<Tensor>>) = match cx.grasp_graph()? {
            Some(g) => (
                layers.iter().map(|&i| &first.weights.tensors[i]).collect(),
                g.layer_grads
                    .iter()
                    .map(|t| t.as_ref().map(Tensor::shallow_clone))
                    .collect(),
            ),
            None => {
                own = cx.init.fresh(Kind::Float, cx.device, true)?;
                let logits = cx.net.forward(
                    &own,
                    &cx.batch.x,
                    ForwardOptions { bn: BnMode::Train },
                    None,
                )?;
                let loss = cx.cross_entropy(&logits)?;
                let lw: Vec<&Tensor> = layers.iter().map(|&i| &own.tensors[i]).collect();
                let g = Tensor::f_run_backward(&[&loss], &lw, true, true)?;
                (
                    lw,
                    g.into_iter().map(|t| t.defined().then_some(t)).collect(),
                )
            }
        };
        let mut z: Option<Tensor> = None;
        for (&i, gf) in layers.iter().zip(&grad_f) {
            let gw = &first.grads[i];
            let Some(gf) = gf else { continue };
            if !gw.defined() {
                continue;
            }
            let term = gw.f_detach()?.f_mul(gf)?.f_sum(Kind::Float)?;
            z = Some(match z {
                None => term,
                Some(acc) => acc.f_add(&term)?,
            });
        }
        let z = match z {
            Some(z) if z.requires_grad() => z,
            // No layer's gradient depends on the weights: Hg = 0 everywhere.
            _ => return Ok(0.0),
        };
        let hg = Tensor::f_run_backward(&[&z], &lw, false, false)?;
        // −Σ θ·Hg over the layers Hg reaches; `0 − Σ` equals subtracting term by term.
        let reached = lw.iter().zip(&hg).filter(|(_, h)| h.defined());
        let sum = sum_f64(reached, |(w, h)| w.f_detach()?.f_mul(h)?.f_sum(Kind::Float))?;
        Ok(0.0 - sum)
    }
}
