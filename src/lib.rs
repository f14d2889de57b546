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
//! | `extract` | many archs → checkpointed proxy table, CPU/GPU workers | `torch` + `table` |
//! | `predict` | arch → predicted accuracy (proxies, then forest; chance for dead cells) | `torch` |
//!
//! With `default-features = false` only [`space`] and [`forest`] are built: no libtorch, no Polars.

#[cfg(feature = "cli")]
pub mod cli;
pub mod forest;
pub mod rng;
pub mod space;

#[cfg(feature = "cli")]
pub mod bench;
#[cfg(feature = "torch")]
pub mod data;
#[cfg(all(feature = "torch", feature = "table"))]
pub mod extract;
#[cfg(feature = "table")]
pub mod nats;
#[cfg(feature = "torch")]
pub mod net;
#[cfg(feature = "torch")]
pub mod predict;
#[cfg(feature = "torch")]
pub mod proxy;
#[cfg(feature = "table")]
pub mod table;
