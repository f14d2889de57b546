//! `grad_norm` (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021):
//! `Σ_layers ‖∂L/∂W_l‖₂` over every Conv2d and Linear weight, L the mean cross-entropy of one
//! labelled batch, BN in train mode, float32.
//! Reference: NASLib `zerocost` `naslib/predictors/utils/pruners/measures/grad_norm.py`
//! (`get_layer_metric_array(..., mode="param")`, summed over layers), same in foresight
//! `foresight/pruners/measures/grad_norm.py`.

use super::{sum_f64, ArchContext, Pass, Proxy, ProxyError};

pub struct GradNorm;

impl Proxy for GradNorm {
    fn name(&self) -> &str {
        "grad_norm"
    }
    fn pass(&self) -> Pass {
        Pass::Labelled
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let pass = cx.labelled()?;
        let layers = cx.layer_weights();
        sum_f64(layers.iter().map(|&i| &pass.grads[i]), |g| g.f_norm())
    }
}
