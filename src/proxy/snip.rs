//! `snip` (Lee et al., "SNIP: Single-shot Network Pruning based on Connection Sensitivity",
//! ICLR 2019, as a proxy in Abdelfattah et al. 2021): `Σ_layers Σ |W ⊙ ∂L/∂W|` over Conv2d and
//! Linear weights — the references take the gradient w.r.t. a multiplicative all-ones mask,
//! which equals `W ⊙ ∂L/∂W`. Mean cross-entropy, BN train mode, float32.
//! Reference: NASLib `zerocost` `measures/snip.py`; foresight `measures/snip.py`.

use super::{sum_f64, ArchContext, Pass, Proxy, ProxyError};
use tch::Kind;

pub struct Snip;

impl Proxy for Snip {
    fn name(&self) -> &str {
        "snip"
    }
    fn pass(&self) -> Pass {
        Pass::Labelled
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let pass = cx.labelled()?;
        let layers = cx.layer_weights();
        sum_f64(layers.iter().copied(), |i| {
            pass.weights.tensors[i]
                .f_mul(&pass.grads[i])?
                .f_abs()?
                .f_sum(Kind::Float)
        })
    }
}
