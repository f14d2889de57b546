//! The `--plot` charts of `train` and `evaluate`: predicted against true accuracy, feature
//! importances, τ and MAE per repeat.

use crate::forest::{CrossValidation, Dataset, Evaluation, Metrics};
use crate::plot::{self, BarsSpec, Legend, LinesSpec, Panel, ScatterSpec, Series};
use crate::provenance::LabelKind;
use crate::training::HeldOut;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Creates the `--plot` folder before the (long) fitting, so that a bad path fails at once.
pub(super) fn create_plot_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("--plot {}", dir.display()))
}

/// How a label kind reads on an axis.
fn target_text(target: &LabelKind) -> String {
    format!("{}{}", target.describe(), target.unit())
}

/// The unit of an error in the target (accuracies in % have errors in percentage points).
fn error_unit(target: &LabelKind) -> &'static str {
    if target.unit().is_empty() {
        ""
    } else {
        " (% points)"
    }
}

/// Bars of at most this many features.
const TOP_FEATURES: usize = 25;

/// Predicted-against-true scatter with the y = x line.
fn pred_vs_true(title: String, target: &LabelKind, series: Vec<Series>) -> ScatterSpec {
    let t = target_text(target);
    ScatterSpec {
        title,
        x_label: format!("true {t}"),
        y_label: format!("predicted {t}"),
        series,
        diagonal: true,
        legend: Legend::UpperLeft,
        ..ScatterSpec::default()
    }
}

fn importance_bars(title: String, names: &[String], importances: &[f64]) -> BarsSpec {
    BarsSpec {
        title,
        value_label: "impurity importance (share of the total)".into(),
        bars: plot::top_k(names, importances, TOP_FEATURES),
        ..BarsSpec::default()
    }
}

fn top_of(names: &[String]) -> String {
    if names.len() > TOP_FEATURES {
        format!("top {TOP_FEATURES} of {}", names.len())
    } else {
        format!("all {}", names.len())
    }
}

/// What `train --plot` draws.
pub(super) struct TrainCharts<'a> {
    pub(super) dataset: &'a str,
    pub(super) target: &'a LabelKind,
    pub(super) features: &'a [String],
    pub(super) train: &'a Dataset,
    pub(super) cv: Option<&'a CrossValidation>,
    pub(super) holdout: Option<&'a HeldOut>,
    pub(super) importances: &'a [f64],
}

impl TrainCharts<'_> {
    pub(super) fn write(&self, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        if let Some(cv) = self.cv {
            let k = cv.fold.iter().max().map_or(0, |f| f + 1);
            let series = (0..k)
                .map(|f| {
                    let points = (0..self.train.n_rows())
                        .filter(|&i| cv.fold[i] == f)
                        .map(|i| (self.train.y[i], cv.y_pred[i]))
                        .collect();
                    Series::points(format!("fold {}", f + 1), points)
                })
                .collect();
            let title = format!(
                "{}: {k}-fold CV on {} rows, τ {:.3}, MAE {:.2}",
                self.dataset, cv.metrics.n, cv.metrics.kendall_tau, cv.metrics.mae
            );
            let path = dir.join("train_cv_pred_vs_true.png");
            plot::scatter(&path, &pred_vs_true(title, self.target, series))?;
            written.push(path);
        }
        if let Some(HeldOut {
            data: h,
            predicted: pred,
            metrics: m,
        }) = self.holdout
        {
            let points = h.y.iter().copied().zip(pred.iter().copied()).collect();
            let title = format!(
                "{}: held-out {} rows, τ {:.3}, MAE {:.2}",
                self.dataset, m.n, m.kendall_tau, m.mae
            );
            let series = vec![Series::points("held-out rows", points)];
            let path = dir.join("train_holdout_pred_vs_true.png");
            plot::scatter(&path, &pred_vs_true(title, self.target, series))?;
            written.push(path);
        }
        let title = format!(
            "{}: feature importance of the model ({})",
            self.dataset,
            top_of(self.features)
        );
        let path = dir.join("train_importance.png");
        plot::bars(
            &path,
            &importance_bars(title, self.features, self.importances),
        )?;
        written.push(path);
        Ok(written)
    }
}

/// What `evaluate --plot` draws.
pub(super) fn evaluate_charts(
    dir: &Path,
    ev: &Evaluation,
    dataset: &str,
    target: &LabelKind,
    protocol: &str,
    features: &[String],
) -> anyhow::Result<Vec<PathBuf>> {
    let r = &ev.report;
    let k = r.repeats.len();
    let spread = |m: f64, s: f64, digits: usize| {
        if s.is_finite() {
            format!("{m:.digits$} ± {s:.digits$}")
        } else {
            format!("{m:.digits$}")
        }
    };
    let mut written = Vec::new();

    let series = ev
        .repeats
        .iter()
        .zip(&r.repeats)
        .enumerate()
        .map(|(i, (p, m))| {
            let points = p.y_true.iter().copied().zip(p.y_pred.iter().copied());
            Series::points(
                format!("repeat {} (τ {:.3})", i + 1, m.kendall_tau),
                points.collect(),
            )
        })
        .collect();
    let title = format!(
        "{dataset}, {protocol} splits: τ {} over {k} repeat{}",
        spread(r.mean.kendall_tau, r.std.kendall_tau, 3),
        if k == 1 { "" } else { "s" }
    );
    let path = dir.join("evaluate_pred_vs_true.png");
    plot::scatter(&path, &pred_vs_true(title, target, series))?;
    written.push(path);

    let per_repeat = |f: fn(&Metrics) -> f64| -> Vec<(f64, f64)> {
        r.repeats
            .iter()
            .enumerate()
            .map(|(i, m)| ((i + 1) as f64, f(m)))
            .collect()
    };
    let mean_line = |v: f64| Series::line("mean", vec![(1.0, v), (k as f64, v)]);
    let panel = |title: String, y_label: String, f: fn(&Metrics) -> f64, mean: f64| Panel {
        title,
        y_label,
        series: std::iter::once(Series::points_and_line("repeat", per_repeat(f)))
            .chain((k > 1).then(|| mean_line(mean)))
            .collect(),
    };
    let spec = LinesSpec {
        title: format!("{dataset}, {protocol} splits: test metrics per repeat"),
        x_label: "repeat".into(),
        panels: vec![
            panel(
                format!(
                    "Kendall τ {}",
                    spread(r.mean.kendall_tau, r.std.kendall_tau, 3)
                ),
                "Kendall τ".into(),
                |m| m.kendall_tau,
                r.mean.kendall_tau,
            ),
            panel(
                format!("MAE {}", spread(r.mean.mae, r.std.mae, 2)),
                format!("mean absolute error{}", error_unit(target)),
                |m| m.mae,
                r.mean.mae,
            ),
        ],
        legend: Legend::LowerRight,
        ..LinesSpec::default()
    };
    let path = dir.join("evaluate_repeats.png");
    plot::lines(&path, &spec)?;
    written.push(path);

    let title = format!(
        "{dataset}: feature importance, mean of {k} forest{} ({})",
        if k == 1 { "" } else { "s" },
        top_of(features)
    );
    let path = dir.join("evaluate_importance.png");
    plot::bars(
        &path,
        &importance_bars(title, features, &ev.mean_importances()),
    )?;
    written.push(path);
    Ok(written)
}
