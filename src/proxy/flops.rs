//! `flops`: FLOPs of one forward pass on one image in millions, as NATS-Bench reports it
//! (xautodl `get_model_infos`, `utils/flop_benchmark.py`; see `net::count` for what is
//! counted). Static: no pass.

use super::{ArchContext, Needs, Pass, Precision, Proxy, ProxyError};
use crate::net::BnMode;

pub struct Flops;

impl Proxy for Flops {
    fn name(&self) -> &'static str {
        "flops"
    }
    fn needs(&self) -> Needs {
        Needs {
            pass: Pass::Static,
            labels: false,
            bn: BnMode::Train,
            precision: Precision::F64,
        }
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        Ok(cx.net.flops_m())
    }
}
