//! `fisher` (Theis et al. 2018 "Faster gaze prediction with dense networks and Fisher pruning";
//! Turner et al., "BlockSwap", ICLR 2020; as a zero-cost proxy in Abdelfattah et al., "Zero-Cost
//! Proxies for Lightweight NAS", ICLR 2021).
//!
//! For every Conv2d and Linear layer `l` with output activation `a` (`[N, C, H, W]` or `[N, C]`)
//! and `g = ∂L/∂a` (L the mean cross-entropy of one labelled batch, BN in train mode, float32):
//!
//! ```text
//! g_nc   = Σ_{h,w} a_nchw · g_nchw              (no spatial sum for Linear)
//! Δ_c    = ½ · mean_n g_nc²
//! fisher = Σ_l  Σ_c |Δ_c| · numel(W_l) / C_l      (numel(W_l)/C_l = C_in·k·k, or `in` for Linear)
//! ```
//!
//! Reference: NASLib `zerocost` `naslib/predictors/utils/pruners/measures/fisher.py`
//! (foresight `measures/fisher.py` is the same): `@measure('fisher', bn=True, mode='channel')`,
//! a backward hook on an identity after each conv/linear output (pre-BN), one batch
//! (`split_data=1`). The reference then broadcasts each per-channel value over
//! `weight.shape[1:]` (`reshape_elements`) and `find_measures` sums every element, so each
//! channel counts `C_in·k·k` times — we reproduce that factor, it changes the number.
//! Choices that change the number: batch 64, BN train mode (batch statistics), mean CE loss,
//! activation = conv output before BN / logits with bias, the broadcast factor above.
//! Every conv runs in the forward pass (a `none` edge multiplies by 0 but stays in the graph), so
//! dead layers contribute 0, as in the reference.

use super::{read_scalars, ArchContext, Pass, Proxy, ProxyError};
use tch::Kind;

pub struct Fisher;

impl Proxy for Fisher {
    fn name(&self) -> &str {
        "fisher"
    }
    fn pass(&self) -> Pass {
        Pass::Labelled
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let pass = cx.labelled()?;
        // Σ_c |Δ_c| of each layer and its broadcast factor; read back in one transfer.
        let mut terms = Vec::with_capacity(pass.activations.len());
        let mut multipliers = Vec::with_capacity(pass.activations.len());
        for (module, act, grad) in &pass.activations {
            let wname = format!("{module}.weight");
            let idx = cx
                .init
                .names
                .iter()
                .position(|n| *n == wname)
                .ok_or_else(|| ProxyError::Undefined(format!("no weight {wname} for fisher")))?;
            let shape = cx.init.tensors[idx].size();
            let per_channel: i64 = shape[1..].iter().product();
            if !grad.defined() {
                continue; // no gradient reached this layer: contributes 0
            }
            let prod = act.f_mul(grad)?;
            let g_nk = if prod.dim() > 2 {
                let dims: Vec<i64> = (2..prod.dim() as i64).collect();
                prod.f_sum_dim_intlist(dims.as_slice(), false, Kind::Float)?
            } else {
                prod
            };
            let del_k = g_nk
                .f_pow_tensor_scalar(2)?
                .f_mean_dim(0, false, Kind::Float)?
                .f_mul_scalar(0.5)?;
            terms.push(del_k.f_abs()?.f_sum(Kind::Float)?);
            multipliers.push(per_channel as f64);
        }
        let mut total = 0.0;
        for (s, m) in read_scalars(&terms)?.into_iter().zip(multipliers) {
            total += s * m;
        }
        Ok(total)
    }
}
