//! Static counts of a network, read off its graph ([`crate::graph::Graph::param_count`],
//! [`crate::graph::Graph::flop_count`]), in the units the benchmarks report.

use super::build::Network;

impl Network {
    /// Number of parameters (scalars): all weights, biases and BN affine parameters.
    pub fn param_count(&self) -> u64 {
        self.graph.param_count()
    }

    /// Parameters in millions (NATS-Bench `params`).
    pub fn params_m(&self) -> f64 {
        self.param_count() as f64 / 1e6
    }

    /// Multiply-accumulates of one forward pass on one image ([`crate::graph::Graph::flop_count`]).
    pub fn flop_count(&self) -> u64 {
        self.graph.flops_of(&self.shapes)
    }

    /// FLOPs in millions (NATS-Bench `flops`).
    pub fn flops_m(&self) -> f64 {
        self.flop_count() as f64 / 1e6
    }
}
