//! `plain` (Abdelfattah et al. 2021, baseline): `Σ_layers Σ ∂L/∂W ⊙ W` over Conv2d and Linear
//! weights (no absolute value, so it can be negative). Mean cross-entropy, BN train mode, f32.
//! Reference: NASLib `zerocost` `measures/plain.py`; foresight `measures/plain.py`.

use super::{sum_f64, ArchContext, Pass, Proxy, ProxyError};
use tch::Kind;

pub struct Plain;

impl Proxy for Plain {
    fn name(&self) -> &str {
        "plain"
    }
    fn pass(&self) -> Pass {
        Pass::Labelled
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let pass = cx.labelled()?;
        let layers = cx.layer_weights();
        sum_f64(layers.iter().copied(), |i| {
            pass.grads[i]
                .f_mul(&pass.weights.tensors[i])?
                .f_sum(Kind::Float)
        })
    }
}
