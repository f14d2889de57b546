//! Random forest regression: fit, predict with uncertainty, metrics, evaluation protocols and
//! the model file.
//!
//! The forest follows scikit-learn's `RandomForestRegressor` (Breiman 2001) in defaults and
//! split semantics, trains trees in parallel with results independent of the thread count,
//! gives per-tree predictions (the uncertainty) and rejects NaN instead of splitting on it.
//!
//! Why not a crate: measured on 12,500 × 20 rows, 100 trees, 2 cores, smartcore
//! 0.7.0 has no threads and no per-tree predictions (its trees are private), predicts 10× slower
//! than scikit-learn (1.9 s vs 0.18 s), defaults to sklearn-incompatible settings (10 trees,
//! √p features, depth off by one) and splits silently wrong on NaN; linfa 0.8.1 has no random
//! forest regressor at all. Ours matches scikit-learn's R² and is faster than it
//! (`benches/README.md`, "Forest vs scikit-learn").
//!
//! | file | concern |
//! |---|---|
//! | `dataset.rs` | [`Dataset`], the table the Polars pipeline hands over |
//! | `params.rs` | [`ForestParams`], [`MaxFeatures`]: sklearn names and defaults |
//! | `tree.rs` | one CART regression tree |
//! | `forest.rs` | [`Forest`], [`Prediction`] |
//! | `metrics.rs` | [`Metrics`]: Kendall τ-b, Spearman, Pearson, R², MAE, RMSE |
//! | `split.rs` | [`Protocol`], [`SplitSize`], [`Split`]: random and group train/test splits |
//! | `evaluate.rs` | [`evaluate`], [`cross_validate`], [`EvalReport`]; their `_detailed` forms also return the predictions |
//!
//! # Example: a search tool ranking candidates
//!
//! ```
//! use greenfactory::forest::{Forest, ForestParams};
//! use greenfactory::model::{Model, ModelMeta, Written};
//! use greenfactory::provenance::{Accuracy, LabelKind};
//! use greenfactory::space::{NatsDataset, Space};
//!
//! // Training table: two proxies per arch and the trained accuracy (synthetic here).
//! let names = vec!["synflow".to_string(), "nwot".to_string()];
//! let (mut x, mut y) = (Vec::new(), Vec::new());
//! for i in 0..300 {
//!     let (a, b) = ((i % 17) as f64, (i % 23) as f64);
//!     x.extend([a, b]);
//!     y.push(60.0 + 1.5 * a + 0.5 * b);
//! }
//! let params = ForestParams::builder().n_trees(20).seed(7).build()?;
//! let forest = Forest::fit_xy(&x, 300, 2, &y, &params)?;
//! let meta = ModelMeta {
//!     feature_names: names.clone(),
//!     space: Space::Tss,
//!     dataset: NatsDataset::Cifar10,
//!     target: LabelKind::new(Accuracy::Test, Some("200")), // NATS-Bench hp=200 test accuracy
//!     n_train: 300,
//!     extraction: None, // external features: no extraction manifest
//!     cv_metrics: None,
//!     params,
//!     written: Written::now(),
//! };
//! let model = Model::new(meta, forest)?;
//!
//! // Ship it, load it in the search tool.
//! let dir = std::env::temp_dir().join(format!("gf-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("tss_cifar10.gfm");
//! model.save(&path)?;
//! let model = Model::load(&path)?;
//!
//! // Score three candidates (proxy values in the model's feature order) and rank them.
//! let candidates = [[16.0, 22.0], [1.0, 2.0], [8.0, 11.0]];
//! let rows: Vec<f64> = candidates.iter().flatten().copied().collect();
//! let pred = model.predict(&names, &rows)?;
//! let mut ranking: Vec<usize> = (0..candidates.len()).collect();
//! ranking.sort_by(|&a, &b| pred[b].mean.total_cmp(&pred[a].mean));
//! assert_eq!(ranking, vec![0, 2, 1]);
//! println!("best: {:?} ± {:.2}", candidates[ranking[0]], pred[ranking[0]].std);
//! std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), greenfactory::forest::ForestError>(())
//! ```

mod dataset;
mod evaluate;
#[allow(clippy::module_inception)]
mod forest;
mod metrics;
mod params;
mod split;
mod tree;

pub use dataset::Dataset;
pub use evaluate::{
    cross_validate, cross_validate_detailed, evaluate, evaluate_detailed, repeat_seed,
    CrossValidation, EvalReport, Evaluation, RepeatPredictions,
};
pub(crate) use forest::ForestWire;
pub use forest::{Forest, Prediction};
pub use metrics::{kendall_tau_b, mae, pearson, r2_score, rmse, spearman, Metrics};
pub use params::{ForestParams, ForestParamsBuilder, MaxFeatures, Splitter};
pub use split::{Protocol, Split, SplitSize};
pub use tree::Tree;

use std::path::PathBuf;

/// Everything that can go wrong in the forest module; each message is one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForestError {
    #[error("invalid forest parameter {name}: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    #[error("no training rows")]
    Empty,
    #[error("shape mismatch: {0}")]
    Shape(String),
    #[error("non-finite feature value {value} at row {row}, column {column} ({name})")]
    NonFinite {
        row: usize,
        column: usize,
        name: String,
        value: f64,
    },
    #[error("non-finite target value {value} at row {row}")]
    NonFiniteTarget { row: usize, value: f64 },
    #[error("feature names differ from the model's: {0}")]
    FeatureMismatch(String),
    #[error("split: {0}")]
    Split(String),
    #[error("thread pool: {0}")]
    ThreadPool(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a greenfactory model (bad magic bytes)")]
    NotAModel { path: PathBuf },
    #[error("{path}: model format version {found}, this build reads versions 1 to {supported}")]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{path}: corrupt or truncated model: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    /// The file decodes, but a metadata value is not one this build knows (a space, dataset or
    /// proxy configuration it cannot type).
    #[error("{path}: unusable model metadata: {detail}")]
    Metadata { path: PathBuf, detail: String },
}
