//! What a search ranks archs by, assembled into a [`Scorer`] in one place: a forest's predictions
//! (proxies looked up in a table or computed by engines), or one proxy or formula without any
//! model or label (zero-shot). `greenfactory search` and a search tool linking the crate call
//! [`scorer`] and get the same scorer for the same request.

use std::path::Path;

use super::{Scorer, SearchError};
use crate::model::Model;
use crate::space::{NatsDataset, Space};

/// The source of a search's scores.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Ranking<'a> {
    /// A forest's predictions, its features looked up in a proxy table (a complete table of
    /// the model's proxy configuration: other configurations are refused).
    #[cfg(feature = "table")]
    ModelTable { model: &'a Model, table: &'a Path },
    /// A forest's predictions, its proxies computed by `workers` engines of the model's
    /// configuration on `device`.
    #[cfg(feature = "torch")]
    ModelEngine {
        model: &'a Model,
        device: tch::Device,
        workers: usize,
    },
    /// The value of one proxy or formula (its name as written, e.g. `meco` or a formula) in a
    /// column of a proxy table of `space` (its rows of `dataset`): zero-shot, no model and no
    /// label.
    #[cfg(feature = "table")]
    ProxyColumn {
        table: &'a Path,
        proxy: &'a str,
        space: Space,
        dataset: NatsDataset,
    },
    /// One proxy or formula computed by `workers` engines of kind `engine` on `device` with the
    /// default proxy configuration (the dataset's real images when cached, batch 20, seed 0,
    /// isomorphic archs sharing their class's values): zero-shot, no model and no label.
    #[cfg(feature = "torch")]
    ProxyEngine {
        proxy: &'a str,
        space: Space,
        dataset: NatsDataset,
        engine: crate::provenance::EngineKind,
        device: tch::Device,
        workers: usize,
    },
}

/// A scorer with what its user should be told about it.
pub struct Assembled<'a> {
    pub scorer: Box<dyn Scorer + 'a>,
    /// One-line notices (e.g. a table that records no proxy configuration, so that its values
    /// could not be checked against the model's; synthetic images standing in for real ones).
    pub notices: Vec<String>,
}

impl std::fmt::Debug for Assembled<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembled")
            .field("notices", &self.notices)
            .finish_non_exhaustive()
    }
}

/// The scorer of `ranking`. A model scores archs of its own space and dataset (the search's
/// space is then `model.meta().space`); a table is read as one of them when it does not say.
pub fn scorer(ranking: Ranking<'_>) -> Result<Assembled<'_>, SearchError> {
    let mut notices = Vec::new();
    let scorer: Box<dyn Scorer + '_> = match ranking {
        #[cfg(feature = "table")]
        Ranking::ModelTable { model, table } => {
            let (table, check) = crate::predict::read_table_for(model, table)?;
            if check == crate::predict::ConfigCheck::TableHasNone {
                notices.push(format!(
                    "notice: {} records no proxy configuration: its values cannot be checked against the model's",
                    table.source
                ));
            }
            Box::new(super::FeatureScorer::for_model(model, &table)?)
        }
        #[cfg(feature = "torch")]
        Ranking::ModelEngine {
            model,
            device,
            workers,
        } => {
            let engines = (0..check_workers(workers)?)
                .map(|_| crate::predict::engine_for(model, device).map(|(e, _, _)| e))
                .collect::<Result<Vec<_>, _>>()?;
            Box::new(super::EngineScorer::new(
                engines,
                model,
                model.meta().space,
            )?)
        }
        #[cfg(feature = "table")]
        Ranking::ProxyColumn {
            table,
            proxy,
            space,
            dataset,
        } => {
            let name = one_proxy(proxy)?;
            let layout = crate::table::PlainLayout {
                space: Some(space),
                dataset: Some(dataset),
            };
            let table = crate::table::read_proxies_as(table, &layout)?;
            Box::new(super::ProxyColumnScorer::from_table(
                &table, space, dataset, &name,
            )?)
        }
        #[cfg(feature = "torch")]
        Ranking::ProxyEngine {
            proxy,
            space,
            dataset,
            engine,
            device,
            workers,
        } => {
            let name = one_proxy(proxy)?;
            let (data, notice) = crate::data::default_source(dataset, 0);
            notices.extend(notice);
            let config = crate::provenance::ProxyConfig {
                batch_size: 20,
                seed: 0,
                data,
                // Every SSS arch is its own class: sharing would change nothing but the record.
                share_isomorphic: space.has_isomorphs(),
                tf32: crate::net::tf32_in_use(device),
                engine,
                ..crate::provenance::ProxyConfig::default()
            };
            let engines = (0..check_workers(workers)?)
                .map(|_| {
                    let proxies = crate::proxy::proxies_by_name(std::slice::from_ref(&name))?;
                    Ok(
                        crate::proxy::Engine::new(proxies, config.clone(), dataset, device)
                            .map_err(crate::predict::PredictError::from)?,
                    )
                })
                .collect::<Result<Vec<_>, SearchError>>()?;
            Box::new(super::EngineScorer::by_proxy(engines)?)
        }
    };
    Ok(Assembled { scorer, notices })
}

/// The one proxy name or formula of `text`, in its canonical spelling (a formula as it
/// prints, so that it matches the column an extraction wrote).
fn one_proxy(text: &str) -> Result<String, SearchError> {
    let names = crate::formula::split_list(text);
    match names.as_slice() {
        [one] => Ok(match one.parse::<crate::formula::Formula>() {
            Ok(formula) => formula.to_string(),
            Err(_) => one.trim().to_string(),
        }),
        _ => Err(SearchError::InvalidParam {
            name: "proxy",
            reason: format!(
                "one proxy name or formula to rank by, found {}",
                names.len()
            ),
        }),
    }
}

#[cfg(feature = "torch")]
fn check_workers(workers: usize) -> Result<usize, SearchError> {
    if workers == 0 {
        return Err(SearchError::InvalidParam {
            name: "workers",
            reason: "must be at least 1".into(),
        });
    }
    Ok(workers)
}
