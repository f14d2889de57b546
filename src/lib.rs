//! # greenfactory
//!
//! Predicts the trained accuracy of neural networks without training them: many zero-cost
//! proxies per network, ensembled by a random forest that predicts absolute test accuracy
//! (GreenFactory, Cortês et al.), on NATS-Bench (TSS, SSS) and NAS-Bench-Macro. Every space
//! lays out its networks as one network graph ([`graph`]) that the engine runs.
//!
//! The modules follow the data flow `space` → `graph` → `net` → `proxy` → `extract` → `table` →
//! `training` → `forest`/`model` → `predict` → `search`, with `provenance` (what values depend on) travelling along from
//! `extract` to tables and models; the module map (what each owns, which cargo feature builds
//! it) is the README's, the only one.
//!
//! With `default-features = false` only [`space`], [`provenance`], [`forest`], [`model`], [`predict`]'s
//! forest side and [`search`]'s strategies are built: no libtorch, no Polars.

/// Serializes a type as its `Display` text and reads it back with `FromStr` (spaces, datasets,
/// device kinds: files hold their names).
macro_rules! serde_as_text {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod atomic;
#[cfg(feature = "cli")]
pub mod cli;
pub mod forest;
pub mod formula;
pub mod graph;
pub mod model;
pub mod rng;
pub mod search;
pub mod space;

#[cfg(feature = "cli")]
pub mod bench;
#[cfg(feature = "torch")]
pub mod data;
#[cfg(feature = "torch")]
pub mod evolve;
#[cfg(all(feature = "torch", feature = "table"))]
pub mod extract;
#[cfg(feature = "table")]
pub mod nats;
#[cfg(feature = "torch")]
pub mod net;
#[cfg(feature = "plot")]
pub mod plot;
pub mod predict;
pub mod provenance;
#[cfg(feature = "torch")]
pub mod proxy;
#[cfg(feature = "table")]
pub mod table;
#[cfg(feature = "table")]
pub mod training;
