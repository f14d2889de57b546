//! `l2_norm` (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021, baseline):
//! `Σ_layers ‖W_l‖₂` — the Frobenius norm of every Conv2d and Linear weight of the initial
//! network (biases and BN parameters excluded), summed over layers. Static: no data, float32
//! norms summed in f64.
//! Reference: NASLib `zerocost` `naslib/predictors/utils/pruners/measures/l2_norm.py`
//! (`@measure('l2_norm', copy_net=False, mode='param')`, `get_layer_metric_array(net, lambda l:
//! l.weight.norm(), mode)`, summed by `find_measures`'s `sum_arr`). Choices that change the number:
//! the initialisation (PyTorch default kaiming-uniform drawn from the arch seed) and the set of
//! layers (conv + linear weights only).

use super::{sum_f64, ArchContext, Pass, Proxy, ProxyError};

pub struct L2Norm;

impl Proxy for L2Norm {
    fn name(&self) -> &str {
        "l2_norm"
    }
    fn pass(&self) -> Pass {
        Pass::Static
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let layers = cx.layer_weights();
        sum_f64(layers.iter().map(|&i| &cx.init.tensors[i]), |w| w.f_norm())
    }
}
