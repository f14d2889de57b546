//! Extra tensors the golden-test exporter writes for randomised proxies (Gaussian re-inits,
//! sample choices…), so that the PyTorch reference in `tests/reference/` uses exactly the random
//! draws of the engine. Proxies without randomness need nothing here.

use super::{ArchContext, ProxyError};
use tch::Tensor;

/// `(name, tensor)` pairs written to the arch's `extra.safetensors` and handed to the reference
/// functions as `ctx.extra[name]`. None for the proxies of this file's branch.
pub fn golden_extra(cx: &ArchContext) -> Result<Vec<(String, Tensor)>, ProxyError> {
    let _ = cx;
    Ok(vec![])
}
