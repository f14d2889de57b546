//! Arch → predicted trained accuracy: the proxies of the model's own configuration, computed by
//! an [`Engine`], then the model's forest. Archs whose output ignores the input get chance
//! accuracy by rule ([`Arch::known_accuracy`]): they have no Jacobian-based proxy value, and
//! NATS-Bench records chance for every one of them.
//!
//! The one place `predict` and `demo` (and any search tool linking the library with `torch`)
//! turn an arch into a number, so the rule and the checks are never applied in one and
//! forgotten in the other.

//!
//! The forest side (a proxy vector → a prediction, the chance rule) needs no libtorch; computing
//! the proxies ([`predict_arch`]) needs the `torch` feature.

use crate::forest::ForestError;
use crate::model::Model;
#[cfg(feature = "torch")]
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
    /// One proxy's value, not an accuracy (`search --proxy`: ranking without a model).
    Proxy,
}

impl Basis {
    /// The `basis` column of `predict`.
    pub fn describe(self) -> &'static str {
        match self {
            Basis::Forest => "forest",
            Basis::Chance => "chance: output ignores input",
            Basis::Proxy => "proxy value",
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

impl ArchPrediction {
    /// The forest's prediction (mean and spread of its trees).
    pub fn forest(p: crate::forest::Prediction) -> ArchPrediction {
        ArchPrediction {
            mean: p.mean,
            std: p.std,
            basis: Basis::Forest,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PredictError {
    /// One arch has no prediction; other archs may well have one.
    #[error("{arch}: no prediction, proxy {reason}")]
    NoProxyValue { arch: String, reason: String },
    /// A search or a table lookup met an arch its proxy table does not hold.
    #[error("arch {index} ({arch}) is not in the proxy table {source_name}: give a table of the whole space, or no table so that the proxies are computed")]
    NotInTable {
        index: usize,
        arch: String,
        source_name: String,
    },
    /// The engine does not compute what the model was trained on: every number would be wrong.
    #[error("the engine computes {engine} but the model was trained on {model}")]
    Mismatch { engine: String, model: String },
    #[error("{what} is unreadable: {detail}")]
    Unreadable { what: String, detail: String },
    /// The model was trained on a plain or Suite-Zero table: no engine computes its features.
    #[error("the model was trained on external features (no proxy configuration): predict from a table of those features")]
    ExternalFeatures,
    #[error("{table} was computed with another proxy configuration than the model was trained on ({diff}): their values do not mix")]
    OtherConfiguration { table: String, diff: String },
    #[cfg(feature = "table")]
    #[error("{0}")]
    Table(#[from] crate::table::TableError),
    #[cfg(feature = "torch")]
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
#[cfg(feature = "torch")]
pub fn predict_arch(
    engine: &Engine,
    model: &Model,
    arch: &Arch,
) -> Result<ArchPrediction, PredictError> {
    check_engine(engine, model, arch.space())?;
    if let Some(p) = by_rule(arch, engine.dataset) {
        return Ok(p);
    }
    let v = engine.score(arch)?;
    predict_vector(model, arch, &v)
}

/// Whether `engine` computes what `model` was trained on: its dataset, and the model's proxy
/// features of `space` in the model's order.
#[cfg(feature = "torch")]
pub fn check_engine(engine: &Engine, model: &Model, space: Space) -> Result<(), PredictError> {
    let meta = model.meta();
    if engine.dataset != meta.dataset {
        return Err(PredictError::Mismatch {
            engine: format!("dataset {}", engine.dataset.name()),
            model: format!("dataset {}", meta.dataset),
        });
    }
    let names = engine.names();
    let proxy_features = model_proxies(model, space);
    if names != proxy_features {
        return Err(PredictError::Mismatch {
            engine: format!("proxies {}", names.join(",")),
            model: format!("proxy features {}", proxy_features.join(",")),
        });
    }
    Ok(())
}

/// The forest's prediction for `arch` from its proxy vector `v` (an engine's output for the
/// model's proxies, checked by [`check_engine`]): the first failed proxy is a
/// [`PredictError::NoProxyValue`]; the model's arch features are computed from `arch`.
#[cfg(feature = "torch")]
pub fn predict_vector(
    model: &Model,
    arch: &Arch,
    v: &crate::proxy::ProxyVector,
) -> Result<ArchPrediction, PredictError> {
    if let Some(reason) = v.first_error() {
        return Err(PredictError::NoProxyValue {
            arch: arch.to_string(),
            reason,
        });
    }
    Ok(predict_proxy_values(model, arch, &v.names, &v.values)?)
}

/// The forest's prediction for `arch` from proxy values named `names` (which must include every
/// proxy feature of the model; a missing one is an error naming it); the model's arch features
/// are computed from `arch`.
pub fn predict_proxy_values(
    model: &Model,
    arch: &Arch,
    names: &[impl AsRef<str>],
    values: &[f64],
) -> Result<ArchPrediction, ForestError> {
    let space = arch.space();
    let arch_names = arch_feature_names(space);
    let arch_values = arch_features(arch);
    let x: Vec<f64> = model
        .feature_names()
        .iter()
        .map(|n| match names.iter().position(|m| m.as_ref() == n) {
            Some(k) => Ok(values[k]),
            None => arch_names
                .iter()
                .position(|m| m == n)
                .map(|k| arch_values[k])
                .ok_or_else(|| ForestError::Shape(format!("no value for the model's feature {n}"))),
        })
        .collect::<Result<_, _>>()?;
    Ok(ArchPrediction::forest(model.predict_ordered(&x)?[0]))
}

/// The engine that computes what `model` was trained on (its proxies, batch, seed, sharing) on
/// `device`, with the model's space and dataset. The one place `predict --arch`, `demo` and
/// `search` build it, so none can compute a vector the forest was not trained on.
#[cfg(feature = "torch")]
pub fn engine_for(
    model: &Model,
    device: tch::Device,
) -> Result<(Engine, Space, NatsDataset), PredictError> {
    let manifest = model
        .meta()
        .extraction
        .as_ref()
        .ok_or(PredictError::ExternalFeatures)?;
    let (space, dataset) = (manifest.space, manifest.dataset);
    if manifest.proxies != model_proxies(model, space) {
        return Err(PredictError::Mismatch {
            engine: format!("configuration proxies {}", manifest.proxies.join(",")),
            model: format!("features {}", model.feature_names().join(",")),
        });
    }
    let proxies =
        crate::proxy::proxies_by_name(&manifest.proxies).map_err(|e| PredictError::Unreadable {
            what: "the model's proxy list".into(),
            detail: e.to_string(),
        })?;
    let engine = Engine::new(proxies, manifest.config.clone(), dataset, device)?;
    Ok((engine, space, dataset))
}

/// What [`check_table_config`] could check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigCheck {
    /// The table's values were computed with the model's proxy configuration.
    Same,
    /// The table records no configuration (a plain or Suite-Zero table): nothing could be
    /// checked, which a tool should tell its user.
    TableHasNone,
    /// The model was trained on a table without one: there is nothing to compare with.
    ModelHasNone,
}

/// Whether a proxy table's values were computed with the model's proxy configuration (batch,
/// input, seed, engine version, isomorphism sharing, TF32, engine): values of another configuration would be
/// scored silently wrong, so that is an error. (The proxies themselves are checked by name
/// against the model's features when the rows are read, [`crate::table::features_for_predict`].)
#[cfg(feature = "table")]
pub fn check_table_config(
    table: &crate::table::ProxyTable,
    model: &Model,
) -> Result<ConfigCheck, PredictError> {
    let Some(theirs) = &table.config else {
        return Ok(ConfigCheck::TableHasNone);
    };
    // A model made from another kind of table (e.g. Suite-Zero's) has no manifest to compare.
    let Some(ours) = &model.meta().extraction else {
        return Ok(ConfigCheck::ModelHasNone);
    };
    match theirs.config.first_difference(&ours.config) {
        Some(diff) => Err(PredictError::OtherConfiguration {
            table: table.source.clone(),
            diff,
        }),
        None => Ok(ConfigCheck::Same),
    }
}

/// Reads the proxy table at `path` for `model`: a plain table's space and dataset are the
/// model's, and its configuration is checked against the model's ([`check_table_config`], whose
/// answer comes with it). The rows are not filtered: [`model_table`] and the scorers do that.
#[cfg(feature = "table")]
pub fn read_table_for(
    model: &Model,
    path: &std::path::Path,
) -> Result<(crate::table::ProxyTable, ConfigCheck), PredictError> {
    let layout = crate::table::PlainLayout {
        space: Some(model.meta().space),
        dataset: Some(model.meta().dataset),
    };
    let table = crate::table::read_proxies_as(path, &layout)?;
    let check = check_table_config(&table, model)?;
    Ok((table, check))
}

/// One row of a proxy table with its prediction, or why it has none.
#[cfg(feature = "table")]
#[derive(Debug, Clone, PartialEq)]
pub struct TablePrediction {
    pub index: usize,
    pub arch: String,
    pub prediction: Result<ArchPrediction, String>,
}

/// The rows of `table` the model can score: those of its dataset, with the arch features added
/// when the model uses them, and the topology counts it uses computed from the arch strings
/// when the table lacks them ([`crate::table::ProxyTable::with_counts`]). A table without such
/// rows is an error.
#[cfg(feature = "table")]
pub fn model_table(
    model: &Model,
    table: &crate::table::ProxyTable,
) -> Result<crate::table::ProxyTable, PredictError> {
    let meta = model.meta();
    let table = table.filter_dataset(meta.dataset.name())?;
    if table.height() == 0 {
        return Err(crate::table::TableError::Invalid {
            path: table.source.clone(),
            what: format!("no {} rows to predict", meta.dataset),
        }
        .into());
    }
    // Counts the arch string says (op_conv3x3, num_paths, …) need not be in the table.
    let table = table.with_counts(model.feature_names())?;
    let uses_arch_features = model
        .feature_names()
        .iter()
        .any(|n| is_arch_feature(meta.space, n));
    Ok(if uses_arch_features {
        table.with_arch_features()?
    } else {
        table
    })
}

/// Predicts every row of a proxy table ([`model_table`]'s output), in table order: the forest
/// scores the complete rows at once; a row without a usable feature vector gets chance
/// accuracy when its arch's output ignores the input ([`by_rule`]: dead cells have no Jacobian
/// proxies), else the reason it has no prediction. No row is dropped.
#[cfg(feature = "table")]
pub fn predict_table(
    model: &Model,
    table: &crate::table::ProxyTable,
) -> Result<Vec<TablePrediction>, PredictError> {
    let meta = model.meta();
    let rows = crate::table::features_for_predict(table, model.feature_names())?;
    let x: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.features.as_ref().ok())
        .flatten()
        .copied()
        .collect();
    let mut forest = if x.is_empty() {
        Vec::new()
    } else {
        model.predict_ordered(&x)?
    }
    .into_iter();
    rows.into_iter()
        .map(|r| {
            let prediction = match &r.features {
                Ok(_) => {
                    let p = forest.next().ok_or_else(|| {
                        ForestError::Shape("the forest returned too few rows".into())
                    })?;
                    Ok(ArchPrediction::forest(p))
                }
                Err(reason) => meta
                    .space
                    .parse(&r.arch)
                    .ok()
                    .and_then(|a| by_rule(&a, meta.dataset))
                    .ok_or_else(|| reason.clone()),
            };
            Ok(TablePrediction {
                index: r.index,
                arch: r.arch,
                prediction,
            })
        })
        .collect()
}
