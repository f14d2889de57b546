//! Held-out evaluation: repeated train/test splits and k-fold cross-validation.

use serde::{Deserialize, Serialize};

use super::split::{group_rows, shuffle};
use super::{Dataset, Forest, ForestError, ForestParams, Metrics, Protocol, Split, SplitSize};
use crate::rng::{derive_seed, SplitMix64};

/// Metrics of every repeat and their mean ± sample standard deviation (ddof 1; NaN for a single
/// repeat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub protocol: Protocol,
    pub split: SplitSize,
    /// Training rows per repeat (a group split may overshoot the target).
    pub n_train: Vec<usize>,
    pub repeats: Vec<Metrics>,
    /// Field-wise mean over repeats (`n`: mean test size, rounded).
    pub mean: Metrics,
    /// Field-wise sample std over repeats (`n`: std of the test sizes, rounded; 0 for random
    /// splits).
    pub std: Metrics,
}

/// What one repeat of [`evaluate_detailed`] predicted: its test rows, their true and predicted
/// targets (in test-row order), and the feature importances of its forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatPredictions {
    /// Test rows as indices into the evaluated [`Dataset`].
    pub test_rows: Vec<usize>,
    /// True targets of the test rows.
    pub y_true: Vec<f64>,
    /// Forest predictions (mean over trees) of the test rows.
    pub y_pred: Vec<f64>,
    /// Impurity-based feature importances of this repeat's forest
    /// ([`Forest::feature_importances`]), in the dataset's feature order.
    pub importances: Vec<f64>,
}

/// An [`EvalReport`] with what every repeat predicted, for plots and outside analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Exactly what [`evaluate`] returns for the same arguments.
    pub report: EvalReport,
    /// One entry per repeat, in repeat order.
    pub repeats: Vec<RepeatPredictions>,
}

impl Evaluation {
    /// Feature importances averaged over the repeats' forests (dataset feature order).
    pub fn mean_importances(&self) -> Vec<f64> {
        let p = self.repeats.first().map_or(0, |r| r.importances.len());
        let mut out = vec![0.0; p];
        for r in &self.repeats {
            for (o, v) in out.iter_mut().zip(&r.importances) {
                *o += v;
            }
        }
        let k = self.repeats.len().max(1) as f64;
        out.iter_mut().for_each(|o| *o /= k);
        out
    }
}

/// The seed of repeat `r` of an evaluation with `seed`: its split is drawn with it, its forest
/// with `derive_seed(s_r, 1)`.
pub fn repeat_seed(seed: u64, r: usize) -> u64 {
    derive_seed(seed, r as u64)
}

/// Repeats `repeats` times: split with seed `s_r = derive_seed(seed, r)`, fit with forest seed
/// `derive_seed(s_r, 1)` (so `params.seed` is not used), score the test side.
pub fn evaluate(
    data: &Dataset,
    protocol: Protocol,
    split: SplitSize,
    params: &ForestParams,
    repeats: usize,
    seed: u64,
) -> Result<EvalReport, ForestError> {
    Ok(evaluate_detailed(data, protocol, split, params, repeats, seed)?.report)
}

/// [`evaluate`], also returning every repeat's test predictions and forest importances. The
/// report is the same, bit for bit.
pub fn evaluate_detailed(
    data: &Dataset,
    protocol: Protocol,
    split: SplitSize,
    params: &ForestParams,
    repeats: usize,
    seed: u64,
) -> Result<Evaluation, ForestError> {
    if repeats == 0 {
        return Err(ForestError::InvalidParam {
            name: "repeats",
            reason: "must be at least 1".into(),
        });
    }
    let mut all = Vec::with_capacity(repeats);
    let mut n_train = Vec::with_capacity(repeats);
    let mut details = Vec::with_capacity(repeats);
    for r in 0..repeats {
        let s_r = repeat_seed(seed, r);
        let sp = Split::new(data, protocol, split, s_r)?;
        let p = params.with_seed(derive_seed(s_r, 1));
        let forest = Forest::fit(&data.subset(&sp.train), &p)?;
        let test = data.subset(&sp.test);
        let pred: Vec<f64> = forest.predict(&test.x)?.iter().map(|p| p.mean).collect();
        all.push(Metrics::compute(&test.y, &pred)?);
        n_train.push(sp.train.len());
        details.push(RepeatPredictions {
            test_rows: sp.test,
            y_true: test.y,
            y_pred: pred,
            importances: forest.feature_importances().to_vec(),
        });
    }
    Ok(Evaluation {
        report: EvalReport {
            protocol,
            split,
            n_train,
            mean: Metrics::combine(&all, mean),
            std: Metrics::combine(&all, sample_std),
            repeats: all,
        },
        repeats: details,
    })
}

/// k-fold cross-validation: every row is predicted once by a forest that did not see it (nor,
/// for [`Protocol::Group`], any row of its group), and the metrics are computed on these pooled
/// out-of-fold predictions. Random folds are a seeded shuffle cut into `k` near-equal parts;
/// group folds take groups in seeded order, each into the currently smallest fold. The forest
/// of fold `i` uses seed `derive_seed(params.seed, i)`.
pub fn cross_validate(
    data: &Dataset,
    protocol: Protocol,
    k: usize,
    params: &ForestParams,
    seed: u64,
) -> Result<Metrics, ForestError> {
    Ok(cross_validate_detailed(data, protocol, k, params, seed)?.metrics)
}

/// Out-of-fold predictions of [`cross_validate_detailed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Exactly what [`cross_validate`] returns for the same arguments.
    pub metrics: Metrics,
    /// Out-of-fold prediction of every row of the dataset (row order).
    pub y_pred: Vec<f64>,
    /// The fold that predicted each row (`0..k`).
    pub fold: Vec<usize>,
}

/// [`cross_validate`], also returning every row's out-of-fold prediction and fold. The
/// metrics are the same, bit for bit; the true targets are the dataset's `y`.
pub fn cross_validate_detailed(
    data: &Dataset,
    protocol: Protocol,
    k: usize,
    params: &ForestParams,
    seed: u64,
) -> Result<CrossValidation, ForestError> {
    let n = data.n_rows();
    if k < 2 || k > n {
        return Err(ForestError::InvalidParam {
            name: "k",
            reason: format!("{k} folds for {n} rows (need 2..=rows)"),
        });
    }
    let mut rng = SplitMix64::new(seed);
    let mut fold = vec![0usize; n];
    match protocol {
        Protocol::Random => {
            let mut idx: Vec<usize> = (0..n).collect();
            shuffle(&mut idx, &mut rng);
            for (pos, &i) in idx.iter().enumerate() {
                fold[i] = pos * k / n;
            }
        }
        Protocol::Group => {
            let groups = group_rows(data)?;
            if groups.len() < k {
                return Err(ForestError::Split(format!(
                    "{} groups cannot fill {k} folds",
                    groups.len()
                )));
            }
            let mut order: Vec<usize> = (0..groups.len()).collect();
            shuffle(&mut order, &mut rng);
            let mut sizes = vec![0usize; k];
            for &g in &order {
                let f = (0..k).min_by_key(|&f| (sizes[f], f)).unwrap_or(0);
                sizes[f] += groups[g].len();
                groups[g].iter().for_each(|&i| fold[i] = f);
            }
        }
    }
    let mut pred = vec![0.0; n];
    for f in 0..k {
        let train: Vec<usize> = (0..n).filter(|&i| fold[i] != f).collect();
        let test: Vec<usize> = (0..n).filter(|&i| fold[i] == f).collect();
        let p = params.with_seed(derive_seed(params.seed(), f as u64));
        let forest = Forest::fit(&data.subset(&train), &p)?;
        let out = forest.predict(&data.subset(&test).x)?;
        for (&i, o) in test.iter().zip(out) {
            pred[i] = o.mean;
        }
    }
    Ok(CrossValidation {
        metrics: Metrics::compute(&data.y, &pred)?,
        y_pred: pred,
        fold,
    })
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn sample_std(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return f64::NAN;
    }
    let m = mean(v);
    (v.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> Dataset {
        let mut r = SplitMix64::new(11);
        let x: Vec<f64> = (0..2 * n).map(|_| r.next_f64()).collect();
        let y = (0..n)
            .map(|i| 50.0 + 30.0 * x[2 * i] + 5.0 * x[2 * i + 1])
            .collect();
        Dataset {
            feature_names: vec!["a".into(), "b".into()],
            x,
            y,
            row_keys: (0..n).collect(),
            row_names: vec![String::new(); n],
            groups: Some((0..n).map(|i| (i / 3) as u64).collect()),
        }
    }

    #[test]
    fn evaluate_reports_mean_and_std() {
        let d = data(300);
        let p = ForestParams::builder().n_trees(10).build().unwrap();
        let rep = evaluate(&d, Protocol::Random, SplitSize::TrainFrac(0.8), &p, 3, 1).unwrap();
        assert_eq!(rep.repeats.len(), 3);
        assert!(rep.mean.r2 > 0.9, "{:?}", rep.mean);
        assert!(rep.std.r2 >= 0.0 && rep.std.r2 < 0.1);
        assert_eq!(rep.mean.n, 60);
        let again = evaluate(&d, Protocol::Random, SplitSize::TrainFrac(0.8), &p, 3, 1).unwrap();
        assert_eq!(rep, again);
        let g = evaluate(&d, Protocol::Group, SplitSize::TrainFrac(0.8), &p, 2, 1).unwrap();
        assert!(g.mean.r2 > 0.8);
    }

    #[test]
    fn cross_validation_pools_out_of_fold_predictions() {
        let d = data(200);
        let p = ForestParams::builder().n_trees(10).build().unwrap();
        let m = cross_validate(&d, Protocol::Random, 5, &p, 2).unwrap();
        assert_eq!(m.n, 200);
        assert!(m.r2 > 0.9, "{m:?}");
        let g = cross_validate(&d, Protocol::Group, 5, &p, 2).unwrap();
        assert!(g.r2 > 0.8, "{g:?}");
        assert!(cross_validate(&d, Protocol::Random, 1, &p, 2).is_err());
    }

    #[test]
    fn detailed_forms_report_the_same_numbers_and_their_predictions() {
        let d = data(200);
        let p = ForestParams::builder().n_trees(8).build().unwrap();
        let rep = evaluate(&d, Protocol::Random, SplitSize::TrainFrac(0.75), &p, 3, 5).unwrap();
        let det =
            evaluate_detailed(&d, Protocol::Random, SplitSize::TrainFrac(0.75), &p, 3, 5).unwrap();
        assert_eq!(det.report, rep);
        assert_eq!(det.repeats.len(), 3);
        for (r, m) in det.repeats.iter().zip(&rep.repeats) {
            assert_eq!(r.test_rows.len(), m.n);
            let y: Vec<f64> = r.test_rows.iter().map(|&i| d.y[i]).collect();
            assert_eq!(r.y_true, y);
            assert_eq!(&Metrics::compute(&r.y_true, &r.y_pred).unwrap(), m);
            assert_eq!(r.importances.len(), 2);
            assert!((r.importances.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        let imp = det.mean_importances();
        // y depends 6x more on feature a than on b.
        assert!(imp[0] > imp[1], "{imp:?}");
        let cv = cross_validate(&d, Protocol::Random, 4, &p, 9).unwrap();
        let cvd = cross_validate_detailed(&d, Protocol::Random, 4, &p, 9).unwrap();
        assert_eq!(cvd.metrics, cv);
        assert_eq!(Metrics::compute(&d.y, &cvd.y_pred).unwrap(), cv);
        assert_eq!(cvd.fold.len(), 200);
        assert!(cvd.fold.iter().all(|&f| f < 4));
    }
}
