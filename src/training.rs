//! Training a model on a proxy table and labels: the workflow behind `greenfactory train` and
//! `evaluate`, for any program that links the crate. Tables go in (already read), a model and
//! what was measured on the way come out; nothing is printed or written.
//!
//! ```no_run
//! use greenfactory::forest::SplitSize;
//! use greenfactory::space::{NatsDataset, Space};
//! use greenfactory::table::{read_labels_as, read_proxies_as, PlainLayout};
//! use greenfactory::model::recommended_params;
//! use greenfactory::training::{train, training_data, Selection, TrainOptions};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layout = PlainLayout { space: None, dataset: Some(NatsDataset::Cifar10) };
//! let features = read_proxies_as("datasets/tss_cifar10_all.parquet".as_ref(), &layout)?;
//! let labels = read_labels_as("own_labels.csv".as_ref(), &layout)?;
//! let data = training_data(features, &labels, &Selection::new(NatsDataset::Cifar10))?;
//! let options = TrainOptions {
//!     holdout: Some(SplitSize::TrainFrac(0.8)),
//!     ..TrainOptions::new(recommended_params(Space::Tss))
//! };
//! let trained = train(&data, &options)?;
//! println!("held-out tau {:.3}", trained.holdout.unwrap().metrics.kendall_tau);
//! trained.model.save("own.gfm")?;
//! # Ok(()) }
//! ```

use crate::forest::{
    cross_validate_detailed, CrossValidation, Dataset, ForestError, ForestParams, Metrics,
    Protocol, Split, SplitSize,
};
use crate::model::{About, Model};
use crate::provenance::LabelKind;
use crate::space::{NatsDataset, Space};
use crate::table::{self, JoinOptions, JoinReport, LabelTable, ProxyTable, TableError};

/// Why a model could not be trained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Forest(#[from] ForestError),
    /// The target names no label the table holds (or several).
    #[error("{target}: {why}")]
    Target { target: String, why: String },
    /// A chosen feature is not in the table.
    #[error("{0}")]
    Only(#[source] TableError),
    #[error("only {rows} rows after the join: too few to train")]
    TooFewRows { rows: usize },
}

/// Which rows and columns a model learns from.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub dataset: NatsDataset,
    /// The label to learn, as text (`test_acc`, `"valid_acc hp=90"`, an own column's name);
    /// `None`: the labels' test accuracy, else their validation accuracy, else their one own
    /// label ([`LabelTable::default_kind`]).
    pub target: Option<String>,
    /// Only these features, in this order; empty: every feature of the table.
    pub only: Vec<String>,
    /// Add the exact arch features of the space (on by default: the best-measured model).
    pub arch_features: bool,
    /// Drop rows with a non-finite feature (counted) instead of failing.
    pub drop_non_finite: bool,
}

impl Selection {
    /// Every feature, arch features added, the default target.
    pub fn new(dataset: NatsDataset) -> Selection {
        Selection {
            dataset,
            target: None,
            only: Vec::new(),
            arch_features: true,
            drop_non_finite: false,
        }
    }
}

/// Features and labels joined into the forest's rows.
#[derive(Debug, Clone)]
pub struct TrainingData {
    pub data: Dataset,
    /// What the join kept and left out, counted.
    pub report: JoinReport,
    /// The feature table the rows came from (arch features added, features selected).
    pub features: ProxyTable,
    /// What the labels are.
    pub target: LabelKind,
}

/// The label kind `target` (or the table's default) names for `space` and `dataset`, with the
/// table's `hp` filled in when the target does not say it and the table has one.
pub fn resolve_target(
    target: Option<&str>,
    labels: &LabelTable,
    space: Space,
    dataset: NatsDataset,
) -> Result<LabelKind, TrainError> {
    let Some(t) = target else {
        return Ok(labels.default_kind(space, dataset)?);
    };
    let bad = |why: String| TrainError::Target {
        target: t.to_string(),
        why,
    };
    let mut kind: LabelKind = t.parse().map_err(|e| bad(format!("{e}")))?;
    if kind.hp.is_none() {
        let hps: Vec<LabelKind> = labels
            .kinds(space, dataset)?
            .into_iter()
            .filter(|k| k.accuracy == kind.accuracy)
            .collect();
        match hps.as_slice() {
            [] => {
                return Err(bad(format!(
                    "{} has no {space} {dataset} {}",
                    labels.source,
                    kind.accuracy.words()
                )))
            }
            [one] => kind.hp = one.hp.clone(),
            several => {
                return Err(bad(format!(
                    "{} holds it for several hp; name one, e.g. \"{}\"",
                    labels.source, several[0]
                )))
            }
        }
    }
    Ok(kind)
}

/// Joins `features` and `labels` as `selection` says. Labels for some of the archs are the
/// normal case: the others are counted in the report and left out.
pub fn training_data(
    features: ProxyTable,
    labels: &LabelTable,
    selection: &Selection,
) -> Result<TrainingData, TrainError> {
    let features = if selection.arch_features {
        features.with_arch_features()?
    } else {
        features
    };
    let features = if selection.only.is_empty() {
        features
    } else {
        features
            .select_features(&selection.only)
            .map_err(TrainError::Only)?
    };
    let target = resolve_target(
        selection.target.as_deref(),
        labels,
        features.space()?,
        selection.dataset,
    )?;
    let options = JoinOptions {
        drop_non_finite: selection.drop_non_finite,
        expected_features: (!selection.only.is_empty()).then(|| selection.only.clone()),
        allow_missing_labels: true,
        hp: target.hp.clone(),
    };
    let (data, report) = table::join(
        &features,
        labels,
        selection.dataset,
        &target.accuracy,
        &options,
    )?;
    if data.n_rows() < 4 {
        return Err(TrainError::TooFewRows {
            rows: data.n_rows(),
        });
    }
    Ok(TrainingData {
        data,
        report,
        features,
        target,
    })
}

/// How a model is fitted and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    pub params: ForestParams,
    /// Rows held out at random (seeded by `seed`) and predicted after fitting; `None`: every
    /// row trains.
    pub holdout: Option<SplitSize>,
    /// Cross-validation folds on the training rows (below 2: none).
    pub cv_folds: usize,
    pub seed: u64,
}

impl TrainOptions {
    /// `params`, every row trains, 5-fold cross-validation, seed 0 (`greenfactory train`'s
    /// defaults).
    pub fn new(params: ForestParams) -> TrainOptions {
        TrainOptions {
            params,
            holdout: None,
            cv_folds: 5,
            seed: 0,
        }
    }
}

/// Rows the model did not see, with its predictions of them.
#[derive(Debug, Clone)]
pub struct HeldOut {
    pub data: Dataset,
    pub predicted: Vec<f64>,
    pub metrics: Metrics,
}

/// A trained model and what was measured while training it.
#[derive(Debug, Clone)]
pub struct Trained {
    pub model: Model,
    /// The rows it was fitted on.
    pub train: Dataset,
    pub cv: Option<CrossValidation>,
    pub holdout: Option<HeldOut>,
}

/// Fits a model on `data` as `options` say: the held-out rows split off first, cross-validation
/// on the training rows, then the forest on all of them, its metadata recording what it learnt.
pub fn train(data: &TrainingData, options: &TrainOptions) -> Result<Trained, TrainError> {
    let (rows, held) = match options.holdout {
        Some(size) => {
            let split = Split::new(&data.data, Protocol::Random, size, options.seed)?;
            (
                data.data.subset(&split.train),
                Some(data.data.subset(&split.test)),
            )
        }
        None => (data.data.clone(), None),
    };
    let cv = if options.cv_folds >= 2 {
        Some(cross_validate_detailed(
            &rows,
            Protocol::Random,
            options.cv_folds,
            &options.params,
            options.seed,
        )?)
    } else {
        None
    };
    let about = About {
        feature_names: data.report.features.clone(),
        space: data.report.space,
        dataset: data.report.dataset,
        target: data.target.clone(),
        extraction: data.features.config.clone(),
    };
    let model = Model::fit(
        &rows,
        about,
        &options.params,
        cv.as_ref().map(|c| c.metrics),
    )?;
    let holdout = match held {
        Some(h) => {
            let predicted: Vec<f64> = model
                .forest()
                .predict(&h.x)?
                .iter()
                .map(|p| p.mean)
                .collect();
            let metrics = Metrics::compute(&h.y, &predicted)?;
            Some(HeldOut {
                data: h,
                predicted,
                metrics,
            })
        }
        None => None,
    };
    Ok(Trained {
        model,
        train: rows,
        cv,
        holdout,
    })
}
