//! Random tensors the proxies draw, exported for the PyTorch reference scripts
//! (`tests/reference/`), so both sides compute with identical draws.

use super::{meco, zen, ArchContext, ProxyError};
use tch::Tensor;

/// Every random tensor of this arch's proxies, by name (CPU):
/// * `zen.x`, `zen.eps`: zen's Gaussian inputs; `zen.w.<param>`: zen's re-initialised weights
///   (every parameter: Gaussian conv/linear weights, ones/zeros elsewhere);
/// * `meco_opt.idx`: `[calls, 8]` int64 channel indices of meco_opt, one row per hook call in
///   hook order (the reference side must fire its hooks in the same order).
pub fn golden_extra(cx: &ArchContext) -> Result<Vec<(String, Tensor)>, ProxyError> {
    let mut out = Vec::new();
    let d = zen::zen_draws(cx)?;
    out.push(("zen.x".to_string(), d.x));
    out.push(("zen.eps".to_string(), d.eps));
    for (n, t) in d.weights.names.iter().zip(d.weights.tensors) {
        out.push((format!("zen.w.{n}"), t));
    }
    let feats = meco::meco_features(cx)?;
    let mut rows = Vec::with_capacity(feats.len());
    for (k, f) in feats.iter().enumerate() {
        let idx = meco::meco_opt_indices(cx.arch_seed, k as u64, f.size()[0] as usize)?;
        rows.push(Tensor::f_from_slice(&idx)?);
    }
    out.push(("meco_opt.idx".to_string(), Tensor::f_stack(&rows, 0)?));
    Ok(out)
}
