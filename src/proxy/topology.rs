//! The topology and size counts of `space::counts` as static proxies of the engine, so that an
//! extraction writes them as columns beside the measured proxies.

use super::{ArchContext, Pass, Proxy, ProxyError};
pub use crate::space::counts::{topology, Topo};

impl Proxy for Topo {
    fn name(&self) -> &str {
        self.name
    }
    fn pass(&self) -> Pass {
        Pass::Static
    }
    fn applies_to(&self, space: crate::space::Space) -> bool {
        space == self.space
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        cx.net.graph().count(self.name).ok_or_else(|| {
            ProxyError::Undefined(format!("not applicable outside {}", self.space.name()))
        })
    }
}
