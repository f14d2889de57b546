//! Arch → predicted trained accuracy: the proxies of the model's own configuration, computed by
//! an [`Engine`], then the model's forest. Archs whose output ignores the input get chance
//! accuracy by rule ([`Arch::known_accuracy`]): they have no Jacobian-based proxy value, and
//! NATS-Bench records chance for every one of them.
//!
//! The one place `predict` and `demo` (and any search tool linking the library with `torch`)
//! turn an arch into a number, so the rule and the checks are never applied in one and
//! forgotten in the other.

use crate::forest::{ForestError, Model};
use crate::proxy::{Engine, ProxyError};
use crate::space::features::{arch_feature_names, arch_features, is_arch_feature};
use crate::space::{Arch, NatsDataset, Space};

/// The model's features that a proxy engine computes: all but the exact arch features of
/// `space` ([`crate::space::features`]), which come from the arch string, in model order.
pub fn model_proxies(model: &Model, space: Space) -> Vec<&str> {
    model
        .feature_names()
        .iter()
        .map(String::as_str)
        .filter(|n| !is_arch_feature(space, n))
        .collect()
}

/// How a prediction was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The model's forest, from the arch's proxy vector.
    Forest,
    /// Chance accuracy (100 / classes): the arch's output ignores its input.
    Chance,
}

impl Basis {
    /// The `basis` column of `predict`.
    pub fn describe(self) -> &'static str {
        match self {
            Basis::Forest => "forest",
            Basis::Chance => "chance: output ignores input",
        }
    }
}

/// Predicted test accuracy (%) of one arch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArchPrediction {
    pub mean: f64,
    /// Spread of the trees' predictions (0 for [`Basis::Chance`]).
    pub std: f64,
    pub basis: Basis,
}

#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// One arch has no prediction; other archs may well have one.
    #[error("{arch}: no prediction, proxy {reason}")]
    NoProxyValue { arch: String, reason: String },
    /// The engine does not compute what the model was trained on: every number would be wrong.
    #[error("the engine computes {engine} but the model was trained on {model}")]
    Mismatch { engine: String, model: String },
    #[error("proxy engine: {0}")]
    Engine(#[from] ProxyError),
    #[error("forest: {0}")]
    Forest(#[from] ForestError),
}

/// The prediction that needs no model: chance accuracy (100 / classes, uncertainty 0) for an
/// arch whose output ignores its input; `None` for every other arch. `predict --features`
/// applies it to the failed rows of a proxy table (dead cells have no Jacobian proxies).
pub fn by_rule(arch: &Arch, dataset: NatsDataset) -> Option<ArchPrediction> {
    arch.known_accuracy(dataset).map(|acc| ArchPrediction {
        mean: acc,
        std: 0.0,
        basis: Basis::Chance,
    })
}

/// Predicts `arch`'s test accuracy with `model`, its proxies computed by `engine`, which must
/// compute the model's proxy features ([`model_proxies`]), in its order, for its dataset
/// (checked; build the engine from the model's stored configuration); the model's arch
/// features are computed from `arch`.
pub fn predict_arch(
    engine: &Engine,
    model: &Model,
    arch: &Arch,
) -> Result<ArchPrediction, PredictError> {
    let meta = model.meta();
    if engine.dataset.name() != meta.dataset {
        return Err(PredictError::Mismatch {
            engine: format!("dataset {}", engine.dataset.name()),
            model: format!("dataset {}", meta.dataset),
        });
    }
    let names = engine.names();
    let space = arch.space();
    let proxy_features = model_proxies(model, space);
    if names != proxy_features {
        return Err(PredictError::Mismatch {
            engine: format!("proxies {}", names.join(",")),
            model: format!("proxy features {}", proxy_features.join(",")),
        });
    }
    if let Some(p) = by_rule(arch, engine.dataset) {
        return Ok(p);
    }
    let v = engine.score(arch)?;
    if let Some(reason) = v.first_error() {
        return Err(PredictError::NoProxyValue {
            arch: arch.to_string(),
            reason,
        });
    }
    let arch_names = arch_feature_names(space);
    let arch_values = arch_features(arch);
    let x: Vec<f64> = model
        .feature_names()
        .iter()
        .map(|n| match names.iter().position(|m| m == n) {
            Some(k) => v.values[k],
            None => arch_names
                .iter()
                .position(|m| m == n)
                .map_or(f64::NAN, |k| arch_values[k]),
        })
        .collect();
    let p = model.predict_ordered(&x)?[0];
    Ok(ArchPrediction {
        mean: p.mean,
        std: p.std,
        basis: Basis::Forest,
    })
}
