//! The topology and size counts of `space::counts` as static proxies of the engine, so that an
//! extraction writes them as columns beside the measured proxies.

use super::{ArchContext, Pass, Proxy, ProxyError};
pub use crate::space::counts::{Topo, TOPOLOGY};

impl Proxy for Topo {
    fn name(&self) -> &str {
        self.name
    }
    fn pass(&self) -> Pass {
        Pass::Static
    }
    fn applies_to(&self, space: crate::space::Space) -> bool {
        space.arch(0).is_ok_and(|a| (self.f)(&a).is_some())
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let arch = cx.net.arch();
        (self.f)(arch).ok_or_else(|| {
            ProxyError::Undefined(format!("not applicable to {}", arch.space().name()))
        })
    }
}
