//! `zico` (Li et al., "ZiCo: Zero-shot NAS via Inverse Coefficient of Variation on Gradients",
//! ICLR 2023): per layer, the summed inverse coefficient of variation of the weight gradients
//! across batches, log-summed over layers.
//!
//! `zico = Σ_l log( Σ_{θ ∈ l, σ_θ ≠ 0} mean_b |g_{b,θ}| / σ_θ )` where `g_b = ∂L_b/∂W_l` for batch
//! `b`, `σ_θ` the population std (numpy `np.std`, ddof 0) of `g_{·,θ}` over the batches, `L_b`
//! the mean cross-entropy of batch `b`; a layer whose sum is 0 is skipped.
//!
//! Reference: `SLDGroup/ZiCo` `ZeroShotProxy/compute_zico.py` (`getzico`, `caculate_zico`:
//! `nsr_mean_sum_abs`). Choices that change the number:
//! * batches: the engine's batch split into two halves (first N/2, last N − N/2 images), as
//!   MeCo's foresight port (`correlation/foresight/pruners/measures/zico.py`, `split_data=2`)
//!   does; but the gradients are zeroed between the halves as in ZiCo's `getzico` (the foresight
//!   port accumulates them — a bug we do not copy);
//! * layers: every Conv2d and Linear weight (not biases, not BN); own pass on a fresh copy of the
//!   initial weights; BN in train mode (batch statistics of each half); float32 gradients;
//! * the ratio and sums in float64 (the reference: numpy float32); natural log.

use super::{read_scalars, ArchContext, Pass, Proxy, ProxyError};
use crate::net::{BnMode, ForwardOptions};
use tch::{Kind, Tensor};

pub struct Zico;

/// Conv/linear weight gradients of the mean cross-entropy of images `[start, end)`.
fn half_grads(
    cx: &ArchContext,
    start: i64,
    end: i64,
    layers: &[usize],
) -> Result<Vec<Tensor>, ProxyError> {
    let w = cx.init.fresh(Kind::Float, cx.device, true)?;
    let x = cx.batch.x.f_narrow(0, start, end - start)?;
    let y = cx.batch.y.f_narrow(0, start, end - start)?;
    let logits = cx
        .net
        .forward(&w, &x, ForwardOptions { bn: BnMode::Train }, None)?;
    let loss = super::cross_entropy(&logits, &y)?;
    let inputs: Vec<&Tensor> = layers.iter().map(|&i| &w.tensors[i]).collect();
    Ok(Tensor::f_run_backward(&[&loss], &inputs, false, false)?)
}

impl Proxy for Zico {
    fn name(&self) -> &str {
        "zico"
    }
    fn pass(&self) -> Pass {
        Pass::Own
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let n = cx.batch.len();
        if n < 2 {
            return Err(ProxyError::Undefined("zico needs at least 2 images".into()));
        }
        let layers = cx.layer_weights();
        let g1 = half_grads(cx, 0, n / 2, &layers)?;
        let g2 = half_grads(cx, n / 2, n, &layers)?;
        let mut sums = Vec::with_capacity(g1.len());
        for (a, b) in g1.iter().zip(&g2) {
            let a = a.f_to_kind(Kind::Double)?.f_reshape([-1])?;
            let b = b.f_to_kind(Kind::Double)?.f_reshape([-1])?;
            let mean_abs = a.f_abs()?.f_add(&b.f_abs()?)?.f_mul_scalar(0.5)?;
            // population std of two values: |a − b| / 2
            let std = a.f_sub(&b)?.f_abs()?.f_mul_scalar(0.5)?;
            let nz = std.f_ne(0.0)?;
            let ratio = mean_abs
                .f_masked_select(&nz)?
                .f_div(&std.f_masked_select(&nz)?)?;
            sums.push(ratio.f_sum(Kind::Double)?);
        }
        let mut total = 0.0;
        for s in read_scalars(&sums)? {
            if s != 0.0 {
                total += s.ln();
            }
        }
        Ok(total)
    }
}
