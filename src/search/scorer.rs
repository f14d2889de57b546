//! What turns an arch into a predicted accuracy inside a search.

use std::collections::HashMap;

use super::SearchError;
use crate::model::Model;
use crate::predict::{by_rule, ArchPrediction, PredictError};
use crate::space::{Arch, NatsDataset};

/// Predicts archs for a search. Implement it to search with proxies computed elsewhere (a
/// Python engine, a cluster job); [`FeatureScorer`] and `EngineScorer` are the two built in.
pub trait Scorer {
    /// The arch's predicted test accuracy (%). Scoring an arch is what a search's budget
    /// counts. A [`PredictError::NoProxyValue`] marks only this arch as unscored; any other
    /// error stops the search.
    fn predict(&mut self, arch: &Arch) -> Result<ArchPrediction, PredictError>;

    /// [`Scorer::predict`] of each arch, in order. A scorer that can score several archs at
    /// once (in parallel) overrides it; the results must not depend on how it splits them.
    fn predict_many(&mut self, archs: &[Arch]) -> Vec<Result<ArchPrediction, PredictError>> {
        archs.iter().map(|a| self.predict(a)).collect()
    }

    /// The arch's parameters and FLOPs in millions (as NATS-Bench counts them), if known;
    /// cheap, costs no budget. Constraints on them need it.
    fn params_flops(&mut self, arch: &Arch) -> Option<(f64, f64)>;

    /// Seconds spent computing proxies so far (0 for looked-up values).
    fn proxy_seconds(&self) -> f64 {
        0.0
    }
}

/// Scores archs from precomputed feature rows (a proxy table of the model's features), with the
/// model's forest; archs whose output ignores the input get chance accuracy by rule
/// ([`by_rule`]) as in `predict`.
pub struct FeatureScorer<'m> {
    model: &'m Model,
    dataset: NatsDataset,
    /// Official index → the row's features in the model's order, or why it has none.
    rows: HashMap<usize, Result<Vec<f64>, String>>,
    /// Official index → (params M, FLOPs M).
    costs: HashMap<usize, (f64, f64)>,
    /// Where the rows came from, for the error of an arch without one.
    source: String,
}

impl<'m> FeatureScorer<'m> {
    /// A scorer over `rows`: (official index, features in the model's order or why there are
    /// none, (params M, FLOPs M) if known). Rows must have the model's feature count.
    pub fn new(
        model: &'m Model,
        dataset: NatsDataset,
        rows: impl IntoIterator<Item = (usize, Result<Vec<f64>, String>, Option<(f64, f64)>)>,
        source: impl Into<String>,
    ) -> Result<FeatureScorer<'m>, SearchError> {
        let n = model.feature_names().len();
        let mut map = HashMap::new();
        let mut costs = HashMap::new();
        for (index, features, cost) in rows {
            if let Ok(f) = &features {
                if f.len() != n {
                    return Err(
                        PredictError::Forest(crate::forest::ForestError::Shape(format!(
                            "row of arch {index} has {} features, the model {n}",
                            f.len()
                        )))
                        .into(),
                    );
                }
            }
            if let Some(c) = cost {
                costs.insert(index, c);
            }
            map.insert(index, features);
        }
        Ok(FeatureScorer {
            model,
            dataset,
            rows: map,
            costs,
            source: source.into(),
        })
    }

    /// [`FeatureScorer::from_table`] for the model's own space and dataset.
    #[cfg(feature = "table")]
    pub fn for_model(
        model: &'m Model,
        table: &crate::table::ProxyTable,
    ) -> Result<FeatureScorer<'m>, SearchError> {
        let (space, dataset) = (model.meta().space, model.meta().dataset);
        Self::from_table(model, space, dataset, table)
    }

    /// A scorer over a proxy table holding the model's features (the arch features are added
    /// when the model uses them); params and FLOPs come from its `params` and `flops` columns
    /// when it has them. The table must hold `dataset` only.
    #[cfg(feature = "table")]
    pub fn from_table(
        model: &'m Model,
        space: crate::space::Space,
        dataset: NatsDataset,
        table: &crate::table::ProxyTable,
    ) -> Result<FeatureScorer<'m>, SearchError> {
        // A table of another dataset would be filtered to nothing: model_table says so.
        super::check_model(model, space, dataset)?;
        let table = crate::predict::model_table(model, table)?;
        let rows = crate::table::features_for_predict(&table, model.feature_names())?;
        let have = table.feature_names();
        let cost_cols = if have.iter().any(|n| n == "params") && have.iter().any(|n| n == "flops") {
            Some((table.feature("params")?, table.feature("flops")?))
        } else {
            None
        };
        let source = table.source.clone();
        let rows = rows.into_iter().enumerate().map(|(r, row)| {
            let cost = cost_cols
                .as_ref()
                .and_then(|(p, f)| Some((p[r]?, f[r]?)))
                .filter(|(p, f)| p.is_finite() && f.is_finite());
            (row.index, row.features, cost)
        });
        FeatureScorer::new(model, dataset, rows, source)
    }
}

/// The row a table holds for `arch` (by official index), or why there is none.
fn looked_up<'r, T>(
    rows: &'r HashMap<usize, Result<T, String>>,
    arch: &Arch,
    source: &str,
) -> Result<&'r T, PredictError> {
    match rows.get(&arch.index()) {
        Some(Ok(x)) => Ok(x),
        Some(Err(reason)) => Err(PredictError::NoProxyValue {
            arch: arch.to_string(),
            reason: reason.clone(),
        }),
        None => Err(PredictError::NotInTable {
            index: arch.index(),
            arch: arch.to_string(),
            source_name: source.to_string(),
        }),
    }
}

impl Scorer for FeatureScorer<'_> {
    fn predict(&mut self, arch: &Arch) -> Result<ArchPrediction, PredictError> {
        if let Some(p) = by_rule(arch, self.dataset) {
            return Ok(p);
        }
        let x = looked_up(&self.rows, arch, &self.source)?;
        Ok(ArchPrediction::forest(self.model.predict_ordered(x)?[0]))
    }

    fn params_flops(&mut self, arch: &Arch) -> Option<(f64, f64)> {
        self.costs.get(&arch.index()).copied()
    }
}

/// Ranks archs by one proxy column of a table, without a model or labels: true zero-shot
/// search over looked-up values (`EngineScorer::by_proxy` computes them instead, with the same
/// results when the table was extracted with the engine's default configuration). Archs whose
/// output ignores the input have no score, as there: a proxy value is not an accuracy.
#[cfg(feature = "table")]
pub struct ProxyColumnScorer {
    dataset: NatsDataset,
    /// Official index → the proxy's value, or why it has none.
    values: HashMap<usize, Result<f64, String>>,
    costs: HashMap<usize, (f64, f64)>,
    source: String,
}

#[cfg(feature = "table")]
impl ProxyColumnScorer {
    /// The scorer of column `proxy` of `table`, which must be of `space` and hold `dataset`
    /// (its rows of other datasets are ignored).
    pub fn from_table(
        table: &crate::table::ProxyTable,
        space: crate::space::Space,
        dataset: NatsDataset,
        proxy: &str,
    ) -> Result<ProxyColumnScorer, SearchError> {
        let have = table.space()?;
        if have != space {
            return Err(SearchError::ModelMismatch {
                model: format!("a table of the {have} space"),
                wanted: format!("the {space} space"),
            });
        }
        let table = table.filter_dataset(dataset.name())?;
        if table.height() == 0 {
            return Err(SearchError::MissingCost {
                what: format!("ranking by {proxy} on {dataset}"),
                needs: format!("rows of {dataset} in {}", table.source),
            });
        }
        let column = table.feature(proxy)?;
        let indices = table.arch_indices()?;
        let names = table.feature_names();
        let cost_cols = if names.iter().any(|n| n == "params") && names.iter().any(|n| n == "flops")
        {
            Some((table.feature("params")?, table.feature("flops")?))
        } else {
            None
        };
        let mut values = HashMap::new();
        let mut costs = HashMap::new();
        for (r, (&index, v)) in indices.iter().zip(&column).enumerate() {
            let index = index as usize;
            let value = match v {
                Some(x) if x.is_finite() => Ok(*x),
                _ => Err(format!("{proxy} has no value in {}", table.source)),
            };
            values.insert(index, value);
            if let Some((p, f)) = &cost_cols {
                if let (Some(p), Some(f)) = (p[r], f[r]) {
                    if p.is_finite() && f.is_finite() {
                        costs.insert(index, (p, f));
                    }
                }
            }
        }
        Ok(ProxyColumnScorer {
            dataset,
            values,
            costs,
            source: table.source.clone(),
        })
    }
}

#[cfg(feature = "table")]
impl Scorer for ProxyColumnScorer {
    fn predict(&mut self, arch: &Arch) -> Result<ArchPrediction, PredictError> {
        if by_rule(arch, self.dataset).is_some() {
            return Err(PredictError::NoProxyValue {
                arch: arch.to_string(),
                reason: "none: the output ignores the input".into(),
            });
        }
        Ok(ArchPrediction {
            mean: *looked_up(&self.values, arch, &self.source)?,
            std: 0.0,
            basis: crate::predict::Basis::Proxy,
        })
    }

    fn params_flops(&mut self, arch: &Arch) -> Option<(f64, f64)> {
        self.costs.get(&arch.index()).copied()
    }
}
