//! `greenfactory train` and `greenfactory evaluate`: the forest on joined proxy + label tables.

use super::args::{load_labels, with_flags};
use super::charts::{create_plot_dir, evaluate_charts, TrainCharts};
use crate::forest::{
    evaluate_detailed, repeat_seed, Dataset, ForestParams, Metrics, Protocol, Split, SplitSize,
};
use crate::table::{self, PlainLayout, ProxyTable};
use crate::training::{self, Selection, TrainOptions, TrainingData};
use anyhow::bail;
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

/// Where the features and labels come from.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Proxy table: a greenfactory extraction (.parquet), a NAS-Bench-Suite-Zero joined CSV, or
    /// your own CSV/Parquet with an arch column (`arch`, `arch_str`, or `arch_index`/`index`)
    /// and one numeric column per feature.
    /// Repeat it to use several tables as one (e.g. a sample and its extension); extractions
    /// must then agree in everything their values depend on.
    #[arg(long, required = true)]
    pub features: Vec<PathBuf>,
    /// Search space of plain feature tables without a `space` column (default: told by their
    /// arch strings).
    #[arg(long)]
    pub space: Option<crate::space::Space>,
    /// Labels: a table from `import`, the NATS-Bench label CSVs in ../shared/data (TSS hp=200
    /// test accuracy, SSS hp=90 validation accuracy), NAS-Bench-Macro's benchmark JSON (3-seed
    /// mean test accuracy; `--target test_acc_seed0..2` or `test_acc_std`), or your own CSV/Parquet with an arch
    /// column (`arch`, `arch_str`, `index` or `arch_index`) and numeric label columns, e.g.
    /// `arch,my_acc` with `--target my_acc`. Labels may cover any subset of the archs: archs
    /// without one are left out and counted.
    #[arg(long)]
    pub labels: PathBuf,
    /// cifar10, cifar100 or imagenet16-120.
    #[arg(long)]
    pub dataset: crate::space::NatsDataset,
    /// Label to learn: test_acc, valid_acc, valtest_acc, train_acc (optionally with the
    /// NATS-Bench schedule, "valid_acc hp=90") or the name of your own label column. Default:
    /// the labels' test accuracy, else their validation accuracy (the SSS labels are hp=90
    /// validation accuracies), else their one own label column.
    #[arg(long)]
    pub target: Option<String>,
    /// Drop rows with a non-finite feature (counted) instead of stopping with an error.
    #[arg(long)]
    pub drop_non_finite: bool,
    /// Only these features (comma-separated), in this order.
    #[arg(long)]
    pub only: Vec<String>,
    /// Add the exact architecture features of the space (op-on-edge one-hot and live-graph
    /// features for TSS, channel one-hot for SSS, choice-per-layer one-hot, per-stage counts
    /// and per-layer MFLOPs for Macro, adjacency, op one-hot and path statistics for NB101),
    /// computed from each row's arch string: the default (this flag only says so).
    #[arg(long, overrides_with = "no_arch_features")]
    pub arch_features: bool,
    /// Leave the architecture features out: the proxies alone.
    #[arg(long)]
    pub no_arch_features: bool,
}

/// Forest hyper-parameters (scikit-learn's meanings).
#[derive(Args, Debug, Clone)]
pub struct ForestArgs {
    /// extra-trees (extremely randomized trees: one random threshold per feature, every row in
    /// each tree; the default, which ranked best by cross-validation on the complete tables:
    /// benches/README.md, "Forest") or random-forest (GreenFactory's: best thresholds,
    /// bootstrap samples).
    #[arg(long, value_enum)]
    pub forest: Option<ForestKind>,
    /// Trees in the forest.
    #[arg(long, default_value_t = 100)]
    pub n_trees: usize,
    /// Features each node considers: all, sqrt, log2, a fraction in (0,1] or a count
    /// (default 0.5).
    #[arg(long)]
    pub max_features: Option<String>,
    /// Deepest tree level (default: grow until the leaves are pure or --min-samples-leaf
    /// stops them).
    #[arg(long)]
    pub max_depth: Option<usize>,
    /// Fewest training archs in a leaf. Default: the best measured per space (benches/README.md,
    /// "Forest"): 3 for TSS (within 0.002 τ of 1 at a quarter of the model size), 5 for SSS,
    /// whose single-seed labels are noisy, 1 for Macro.
    #[arg(long)]
    pub min_samples_leaf: Option<usize>,
    /// Threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

impl ForestArgs {
    /// [`crate::model::recommended_params`] for `space`, with what the options set.
    pub fn params(&self, seed: u64, space: crate::space::Space) -> anyhow::Result<ForestParams> {
        let mut p = crate::model::recommended_params(space).to_builder();
        if let Some(kind) = self.forest {
            p = p.splitter(match kind {
                ForestKind::ExtraTrees => crate::forest::Splitter::Random,
                ForestKind::RandomForest => crate::forest::Splitter::Best,
            });
            // Each forest's own sampling: bootstrap for the random forest, all rows for
            // extra-trees (scikit-learn's defaults).
            p = p.bootstrap(kind == ForestKind::RandomForest);
        }
        if let Some(m) = &self.max_features {
            p = p.max_features(m.parse()?);
        }
        if let Some(leaf) = self.min_samples_leaf {
            p = p.min_samples_leaf(leaf);
        }
        p.n_trees(self.n_trees)
            .max_depth(self.max_depth)
            .seed(seed)
            .n_threads(self.threads)
            .build()
            .map_err(|e| match e {
                // The library names its parameters; the user typed flags.
                crate::forest::ForestError::InvalidParam { name, reason } => {
                    let flag = match name {
                        "n_threads" => "--threads",
                        "n_trees" => "--n-trees",
                        "max_features" => "--max-features",
                        "min_samples_leaf" => "--min-samples-leaf",
                        "max_depth" => "--max-depth",
                        other => other,
                    };
                    anyhow::anyhow!("{flag}: {reason}")
                }
                e => e.into(),
            })
    }
}

/// `--forest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ForestKind {
    /// Random forest (Breiman 2001), as GreenFactory and scikit-learn's RandomForestRegressor.
    RandomForest,
    /// Extremely randomized trees (Geurts et al. 2006), scikit-learn's ExtraTreesRegressor.
    ExtraTrees,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    /// Rows shuffled at random.
    Random,
    /// Every TSS isomorphism class wholly in train or test.
    Isomorphism,
}

/// Reads a proxy table: our Parquet/CSV schema, a Suite-Zero joined CSV, or a plain feature
/// table (an arch or index column and feature columns; `layout` says its space and dataset).
pub fn load_features(path: &Path, layout: &PlainLayout) -> anyhow::Result<ProxyTable> {
    Ok(table::read_proxies_as(path, layout)?)
}

/// Reads one or more proxy tables as one (see [`DataArgs::features`]).
pub fn load_feature_tables(paths: &[PathBuf], layout: &PlainLayout) -> anyhow::Result<ProxyTable> {
    if let [one] = paths {
        return load_features(one, layout);
    }
    let tables = paths
        .iter()
        .map(|p| load_features(p, layout))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(ProxyTable::concat(&tables)?)
}

/// Reads the tables `d` names and joins them ([`training::training_data`]), printing the
/// join report.
pub fn load_dataset(d: &DataArgs) -> anyhow::Result<TrainingData> {
    let layout = PlainLayout {
        space: d.space,
        dataset: Some(d.dataset),
    };
    let features = load_feature_tables(&d.features, &layout)?;
    let labels = load_labels(
        &d.labels,
        &PlainLayout {
            space: Some(features.space()?),
            dataset: Some(d.dataset),
        },
    )?;
    let selection = Selection {
        dataset: d.dataset,
        target: d.target.clone(),
        only: crate::formula::split_lists(&d.only),
        arch_features: !d.no_arch_features,
        drop_non_finite: d.drop_non_finite,
    };
    let t = training::training_data(features, &labels, &selection).map_err(with_flags)?;
    let report = &t.report;
    eprintln!("labels: {} ({})", t.target.describe(), labels.source);
    eprintln!(
        "joined {} {} rows × {} features (proxy rows {}, failed status {}, without label {}, non-finite dropped {}, labels without proxies {})",
        report.rows,
        report.dataset,
        report.features.len(),
        report.proxy_rows,
        report.failed_status,
        report.missing_labels,
        report.non_finite,
        report.labels_without_proxies
    );
    if report.missing_labels + report.null_target > 0 {
        eprintln!(
            "notice: {} of the {} feature rows have no {} in {}: left out",
            report.missing_labels + report.null_target,
            report.proxy_rows,
            t.target.describe(),
            labels.source
        );
    }
    Ok(t)
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Train on N rows and report metrics on the rest.
    #[arg(long, conflicts_with = "train_frac")]
    pub n_train: Option<usize>,
    /// Train on this fraction of the rows and report metrics on the rest (1 = all rows).
    #[arg(long)]
    pub train_frac: Option<f64>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Cross-validation folds on the training rows (0 = none).
    #[arg(long, default_value_t = 5)]
    pub cv: usize,
    #[command(flatten)]
    pub forest: ForestArgs,
    /// Model file to write. An existing file is not replaced unless --force is given.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace an existing --out file.
    #[arg(long)]
    pub force: bool,
    /// Write PNG charts into this folder (created if missing): the cross-validation
    /// predictions against the truth (train_cv_pred_vs_true.png), the held-out ones with
    /// --n-train/--train-frac (train_holdout_pred_vs_true.png) and the model's feature
    /// importances (train_importance.png).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
}

fn metrics_line(m: &Metrics) -> String {
    format!(
        "tau {:.4}  rho {:.4}  pearson {:.4}  R2 {:.4}  MAE {:.3}  RMSE {:.3}  (n {})",
        m.kendall_tau, m.spearman, m.pearson, m.r2, m.mae, m.rmse, m.n
    )
}

pub fn train(a: TrainArgs) -> anyhow::Result<()> {
    // Before the (long) fitting: a model already there is kept unless the user says otherwise.
    if a.out.exists() && !a.force {
        bail!(
            "--out {} exists: pass --force to replace it",
            a.out.display()
        );
    }
    // And a folder that is not there fails now, not after the fitting, naming the user's path.
    super::args::check_parent("--out", &a.out)?;
    // The forest flags are checked before the data is read (their defaults depend on the
    // space, their validity does not).
    a.forest.params(a.seed, crate::space::Space::Tss)?;
    let data = load_dataset(&a.data)?;
    let holdout = match (a.n_train, a.train_frac) {
        (Some(n), _) => Some(SplitSize::NTrain(n)),
        (None, Some(f)) if f < 1.0 => Some(SplitSize::TrainFrac(f)),
        (None, Some(f)) if f > 1.0 => bail!("--train-frac {f} must be in (0, 1]"),
        _ => None,
    };
    if let Some(dir) = &a.plot {
        create_plot_dir(dir)?;
    }
    let options = TrainOptions {
        params: a.forest.params(a.seed, data.report.space)?,
        holdout,
        cv_folds: a.cv,
        seed: a.seed,
    };
    let trained = training::train(&data, &options).map_err(with_flags)?;
    if let Some(cv) = &trained.cv {
        eprintln!(
            "{}-fold CV on {} training rows: {}",
            a.cv,
            trained.train.n_rows(),
            metrics_line(&cv.metrics)
        );
    }
    if let Some(h) = &trained.holdout {
        eprintln!(
            "held-out {} rows: {}",
            h.data.n_rows(),
            metrics_line(&h.metrics)
        );
    }
    let (model, report, kind) = (&trained.model, &data.report, &data.target);
    model.save(&a.out)?;
    let size = std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or(0);
    let imp = model.forest().feature_importances();
    let mut top: Vec<(usize, f64)> = imp.iter().copied().enumerate().collect();
    top.sort_by(|x, y| y.1.total_cmp(&x.1));
    let top: Vec<String> = top
        .iter()
        .take(5)
        .map(|(i, v)| format!("{} {:.3}", report.features[*i], v))
        .collect();
    eprintln!("top features: {}", top.join(", "));
    eprintln!("wrote {} ({:.1} MB)", a.out.display(), size as f64 / 1e6);
    if let Some(dir) = &a.plot {
        let charts = TrainCharts {
            dataset: report.dataset.name(),
            target: kind,
            features: &report.features,
            train: &trained.train,
            cv: trained.cv.as_ref(),
            holdout: trained.holdout.as_ref(),
            importances: imp,
        };
        for path in charts.write(dir)? {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// How test archs are drawn: random (GreenFactory's protocol) or isomorphism (TSS: whole
    /// isomorphism classes in train or test).
    #[arg(long, value_enum, default_value_t = ProtocolArg::Random)]
    pub protocol: ProtocolArg,
    /// Fraction of the archs each repeat trains on (default 0.8); the rest are the test archs.
    #[arg(long, conflicts_with = "n_train")]
    pub train_frac: Option<f64>,
    /// Train each repeat on this many archs instead (the learning-curve setting); the rest are
    /// the test archs.
    #[arg(long)]
    pub n_train: Option<usize>,
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub forest: ForestArgs,
    /// Write the joined table (CSV) and each repeat's train/test row indices (JSON) here, for
    /// an independent model on identical splits (scripts/evaluate_sklearn.py).
    #[arg(long)]
    pub dump_splits: Option<PathBuf>,
    /// Write PNG charts into this folder (created if missing): every repeat's test
    /// predictions against the truth (evaluate_pred_vs_true.png), τ and MAE per repeat
    /// (evaluate_repeats.png) and the feature importances averaged over the repeats' forests
    /// (evaluate_importance.png).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
}

pub fn evaluate_cmd(a: EvaluateArgs) -> anyhow::Result<()> {
    a.forest.params(a.seed, crate::space::Space::Tss)?;
    let TrainingData {
        data,
        report,
        target: kind,
        ..
    } = load_dataset(&a.data)?;
    let protocol = match a.protocol {
        ProtocolArg::Random => Protocol::Random,
        ProtocolArg::Isomorphism => {
            if data.groups.is_none() {
                bail!("--protocol isomorphism needs TSS archs (isomorphism classes)");
            }
            Protocol::Group
        }
    };
    let split = match (a.n_train, a.train_frac) {
        (Some(n), _) => SplitSize::NTrain(n),
        (None, Some(f)) => SplitSize::TrainFrac(f),
        (None, None) => SplitSize::TrainFrac(0.8),
    };
    let params = a.forest.params(a.seed, report.space)?;
    if let Some(dir) = &a.plot {
        create_plot_dir(dir)?;
    }
    let ev = evaluate_detailed(&data, protocol, split, &params, a.repeats, a.seed)?;
    let r = &ev.report;
    if let Some(dir) = &a.dump_splits {
        dump_splits(dir, &data, protocol, split, a.repeats, a.seed)?;
    }
    println!(
        "{} {}: {}, {} split, {}, {} repeat{} ({} archs, {} features)",
        report.space,
        report.dataset,
        kind.describe(),
        match a.protocol {
            ProtocolArg::Random => "random",
            ProtocolArg::Isomorphism => "isomorphism-class",
        },
        match split {
            SplitSize::TrainFrac(f) => format!("{:.0} % train", f * 100.0),
            SplitSize::NTrain(n) => format!("{n} training archs"),
        },
        a.repeats,
        if a.repeats == 1 { "" } else { "s" },
        data.n_rows(),
        data.n_features()
    );
    println!("metric    mean     std");
    for (name, m, s) in [
        ("tau", r.mean.kendall_tau, r.std.kendall_tau),
        ("rho", r.mean.spearman, r.std.spearman),
        ("pearson", r.mean.pearson, r.std.pearson),
        ("R2", r.mean.r2, r.std.r2),
        ("MAE", r.mean.mae, r.std.mae),
        ("RMSE", r.mean.rmse, r.std.rmse),
    ] {
        // One repeat has no spread: print "–" rather than a NaN.
        let s = if s.is_finite() {
            format!("{s:>6.4}")
        } else {
            format!("{:>6}", "–")
        };
        println!("{name:<8} {m:>7.4}  {s}");
    }
    if let Some(dir) = &a.plot {
        let paths = evaluate_charts(
            dir,
            &ev,
            report.dataset.name(),
            &kind,
            match a.protocol {
                ProtocolArg::Random => "random",
                ProtocolArg::Isomorphism => "isomorphism",
            },
            &data.feature_names,
        )?;
        for path in paths {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// The splits `evaluate` used, repeat by repeat (same seeds), for an outside model.
fn dump_splits(
    dir: &Path,
    data: &Dataset,
    protocol: Protocol,
    split: SplitSize,
    repeats: usize,
    seed: u64,
) -> anyhow::Result<()> {
    use std::fmt::Write;
    std::fs::create_dir_all(dir)?;
    let mut csv = String::new();
    writeln!(csv, "arch_index,{},y", data.feature_names.join(","))?;
    for i in 0..data.n_rows() {
        let row: Vec<String> = data.row(i).iter().map(|v| format!("{v}")).collect();
        writeln!(csv, "{},{},{}", data.row_keys[i], row.join(","), data.y[i])?;
    }
    std::fs::write(dir.join("data.csv"), csv)?;
    let mut splits = Vec::new();
    for r in 0..repeats {
        let sp = Split::new(data, protocol, split, repeat_seed(seed, r))?;
        splits.push(serde_json::json!({"train": sp.train, "test": sp.test}));
    }
    std::fs::write(dir.join("splits.json"), serde_json::to_string(&splits)?)?;
    Ok(())
}
