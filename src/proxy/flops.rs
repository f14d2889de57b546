//! `flops`: FLOPs of one forward pass on one image in millions, as NATS-Bench reports it
//! (xautodl `get_model_infos`, `utils/flop_benchmark.py`; see `net::count` for what is
//! counted). Static: no pass.

use super::{ArchContext, Pass, Proxy, ProxyError};

pub struct Flops;

impl Proxy for Flops {
    fn name(&self) -> &str {
        "flops"
    }
    fn pass(&self) -> Pass {
        Pass::Static
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        Ok(cx.net.flops_m())
    }
}
