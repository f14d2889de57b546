//! # greenfactory
//!
//! Predicts the trained accuracy of NATS-Bench networks without training them: many zero-cost
//! proxies per network, ensembled by a random forest that predicts absolute test accuracy
//! (GreenFactory, Cortês et al.).
//!
//! Module map (data flow: `space` → `net` → `proxy` → `extract` → `table` → `forest`):
//!
//! | module | owns | feature |
//! |---|---|---|
//! | [`space`] | TSS/SSS arch types, official order, canonical form, sampling | always |
//! | [`forest`] | random forest, metrics, model file, prediction | always |
//! | `net` | NATS-Bench networks in tch | `torch` |
//! | `proxy` | zero-cost proxies and the pass-sharing engine | `torch` |
//! | `nats`, `table` | NATS-Bench archives, Polars tables and joins | `table` |
//!
//! With `default-features = false` only [`space`] and [`forest`] are built: no libtorch, no Polars.

pub mod forest;
pub mod rng;
pub mod space;

#[cfg(feature = "torch")]
pub mod net;

#[cfg(feature = "table")]
pub mod nats;
#[cfg(feature = "table")]
pub mod table;
