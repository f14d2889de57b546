//! `params`: number of parameters in millions, as NATS-Bench reports it
//! (xautodl `count_parameters_in_MB`; NASLib `zerocost` `measures/params.py` counts the same
//! `nn.Parameter`s). Static: no pass.

use super::{ArchContext, Pass, Proxy, ProxyError};

pub struct Params;

impl Proxy for Params {
    fn name(&self) -> &str {
        "params"
    }
    fn pass(&self) -> Pass {
        Pass::Static
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        Ok(cx.net.params_m())
    }
}
