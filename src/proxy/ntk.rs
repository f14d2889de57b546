//! `ntk` (Chen, Gong & Wang, "Neural Architecture Search on ImageNet in Four GPU Hours: A
//! Theoretically Inspired Perspective" (TE-NAS), ICLR 2021): the condition number of the
//! empirical neural tangent kernel at initialisation.
//!
//! `J[i] = ∂(Σ_k logits[i, k])/∂θ` for each image `i` of the batch (θ = every parameter whose
//! name contains `weight`), `Θ = J Jᵀ`, `ntk = λ_max(Θ) / λ_min(Θ)`; a NaN ratio (e.g. an all-zero
//! kernel) is 100000 as in the reference's `np.nan_to_num(…, nan=100000.0)`.
//!
//! Reference: `VITA-Group/TENAS` `lib/procedures/ntk.py` (`get_ntk_n`, called from
//! `prune_tenas.py` with `train_mode=True, num_batch=1`). Choices that change the number:
//! * batch: the first [`NTK_BATCH`] images of the engine's batch (TE-NAS uses 72 on NAS-Bench-201;
//!   one backward per image on CPU makes 64 too slow), BN in train mode over those images, and
//!   `J[i]` is taken in that full-batch graph (BN couples the images, as in the reference);
//! * θ: conv, BN and classifier weights (the reference's `'weight' in name`; no biases);
//! * own pass on a fresh float32 copy of the initial weights; gradients float32; `Θ` and its
//!   eigenvalues in float64 (the reference: float32 `einsum` and `symeig`);
//! * an infinite ratio (λ_min = 0 exactly) is reported as non-finite (the reference's
//!   `nan_to_num` would turn it into 1.8e308).

use super::{ArchContext, Pass, Proxy, ProxyError};
use crate::graph::ParamRole;
use crate::net::{BnMode, ForwardOptions};
use tch::{Kind, Tensor};

pub struct Ntk;

/// Images used for the kernel.
pub const NTK_BATCH: i64 = 16;

impl Proxy for Ntk {
    fn name(&self) -> &str {
        "ntk"
    }
    fn pass(&self) -> Pass {
        Pass::Own
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let n = cx.batch.len().min(NTK_BATCH);
        let w = cx.init.fresh(Kind::Float, cx.device, true)?;
        let params: Vec<&Tensor> = cx
            .net
            .graph()
            .params
            .iter()
            .zip(&w.tensors)
            .filter(|(p, _)| p.role.is_layer_weight() || p.role == ParamRole::BnWeight)
            .map(|(_, t)| t)
            .collect();
        let x = cx.batch.x.f_narrow(0, 0, n)?;
        let logits = cx
            .net
            .forward(&w, &x, ForwardOptions { bn: BnMode::Train }, None)?;
        let mut rows = Vec::with_capacity(n as usize);
        for i in 0..n {
            let s = logits.f_select(0, i)?.f_sum(Kind::Float)?;
            let grads = Tensor::f_run_backward(&[&s], &params, true, false)?;
            let flat: Vec<Tensor> = grads
                .iter()
                .map(|g| g.f_reshape([-1]))
                .collect::<Result<_, _>>()?;
            rows.push(Tensor::f_cat(&flat, 0)?.f_to_kind(Kind::Double)?);
        }
        let j = Tensor::f_stack(&rows, 0)?;
        let gram = j.f_matmul(&j.f_tr()?)?;
        let eig = gram.f_linalg_eigvalsh("L")?.f_to_device(tch::Device::Cpu)?;
        let lo = eig.f_double_value(&[0])?;
        let hi = eig.f_double_value(&[n - 1])?;
        let cond = hi / lo;
        Ok(if cond.is_nan() { 100000.0 } else { cond })
    }
}
