//! The random forest (Breiman 2001): bootstrapped CART trees grown in parallel, averaged for the
//! prediction, with the spread of the trees as an uncertainty.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::tree::{fit_tree, TrainData, Tree, TreeRules, TreeWire};
use super::{Dataset, ForestError, ForestParams, MaxFeatures};
use crate::rng::derive_seed;

/// A forest's prediction for one row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Mean of the trees' predictions (sklearn `RandomForestRegressor.predict`).
    pub mean: f64,
    /// Population standard deviation (ddof 0) of the trees' predictions: how much the
    /// bootstrapped trees disagree, a cheap uncertainty for ranking or acquisition functions.
    pub std: f64,
}

/// A fitted random forest regressor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ForestWire")]
pub struct Forest {
    n_features: usize,
    trees: Vec<Tree>,
    importances: Vec<f64>,
}

/// Model-file form of a forest. Its trees stay in their file form until [`Forest::try_from`]
/// checks them, so a model reader can validate after decoding and report which tree is wrong
/// (postcard drops the message of an error raised inside a deserializer).
#[derive(Deserialize)]
pub(crate) struct ForestWire {
    n_features: usize,
    trees: Vec<TreeWire>,
    importances: Vec<f64>,
}

impl TryFrom<ForestWire> for Forest {
    type Error = String;

    /// Checks what prediction relies on, so a corrupt file can never index out of bounds.
    fn try_from(w: ForestWire) -> Result<Self, String> {
        if w.trees.is_empty() {
            return Err("forest without trees".into());
        }
        if w.importances.len() != w.n_features {
            return Err("importances do not match the feature count".into());
        }
        if w.n_features >= u32::MAX as usize {
            return Err("too many features".into());
        }
        let mut trees = Vec::with_capacity(w.trees.len());
        for (i, t) in w.trees.into_iter().enumerate() {
            let mut t = Tree::try_from(t).map_err(|e| format!("tree {i}: {e}"))?;
            if t.features_used() > w.n_features {
                return Err(format!(
                    "tree {i} splits on feature {} of {}",
                    t.features_used() - 1,
                    w.n_features
                ));
            }
            t.set_pad(w.n_features);
            trees.push(t);
        }
        Ok(Forest {
            n_features: w.n_features,
            trees,
            importances: w.importances,
        })
    }
}

/// Rows scored per pass. Prediction runs tree-major: each thread takes whole trees and streams
/// the rows of a pass through one tree at a time, so the tree (~150 kB) stays in L2 and the rows
/// are read sequentially; a forest (~15 MB) is read once per pass instead of once per row block.
/// The per-tree outputs of a pass take `PASS_ROWS · n_trees · 8` bytes (13 MB for 100 trees).
const PASS_ROWS: usize = 16_384;

/// Runs `f` on a local pool of `n` threads, or on the current pool for `None`.
pub(crate) fn with_threads<T: Send>(
    n: Option<usize>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, ForestError> {
    match n {
        None => Ok(f()),
        Some(k) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build()
                .map_err(|e| ForestError::ThreadPool(e.to_string()))?;
            Ok(pool.install(f))
        }
    }
}

impl Forest {
    /// Fits on a [`Dataset`]; errors name the first non-finite value's row and feature.
    pub fn fit(data: &Dataset, params: &ForestParams) -> Result<Forest, ForestError> {
        Self::fit_impl(
            &data.x,
            data.n_rows(),
            data.n_features(),
            &data.y,
            Some(&data.feature_names),
            params,
        )
    }

    /// Fits on row-major `x` (`n_rows × n_features`) and targets `y`.
    pub fn fit_xy(
        x: &[f64],
        n_rows: usize,
        n_features: usize,
        y: &[f64],
        params: &ForestParams,
    ) -> Result<Forest, ForestError> {
        Self::fit_impl(x, n_rows, n_features, y, None, params)
    }

    fn fit_impl(
        x: &[f64],
        n: usize,
        p: usize,
        y: &[f64],
        names: Option<&[String]>,
        params: &ForestParams,
    ) -> Result<Forest, ForestError> {
        if n == 0 {
            return Err(ForestError::Empty);
        }
        if p == 0 {
            return Err(ForestError::Shape("no features".into()));
        }
        if n > u32::MAX as usize {
            return Err(ForestError::Shape(format!("{n} rows exceed 2^32")));
        }
        check_shape(x, n, p, "x")?;
        if y.len() != n {
            return Err(ForestError::Shape(format!(
                "y has {} values for {n} rows",
                y.len()
            )));
        }
        if let MaxFeatures::Count(c) = params.max_features() {
            if c > p {
                return Err(ForestError::InvalidParam {
                    name: "max_features",
                    reason: format!("count {c} exceeds the {p} features"),
                });
            }
        }
        check_finite(x, p, names)?;
        if let Some(r) = y.iter().position(|v| !v.is_finite()) {
            return Err(ForestError::NonFiniteTarget {
                row: r,
                value: y[r],
            });
        }

        let rules = TreeRules {
            max_features: params.max_features().resolve(p),
            max_depth: params.max_depth(),
            min_samples_split: params.min_samples_split(),
            min_samples_leaf: params.min_samples_leaf(),
            bootstrap: params.bootstrap(),
            random_thresholds: params.splitter() == super::Splitter::Random,
        };
        let seed = params.seed();
        let n_trees = params.n_trees();
        let grown = with_threads(params.n_threads(), || {
            let data = TrainData::new(x, n, p, y);
            (0..n_trees)
                .into_par_iter()
                .map(|t| fit_tree(&data, &rules, derive_seed(seed, t as u64)))
                .collect::<Vec<_>>()
        })?;

        // sklearn: each tree's importances normalised to 1 (trees without a split skipped),
        // averaged over trees, normalised again.
        let mut importances = vec![0.0; p];
        let mut trees = Vec::with_capacity(n_trees);
        for (tree, imp) in grown {
            let total: f64 = imp.iter().sum();
            if tree.n_nodes() > 1 && total > 0.0 {
                for (a, v) in importances.iter_mut().zip(&imp) {
                    *a += v / total;
                }
            }
            trees.push(tree);
        }
        let total: f64 = importances.iter().sum();
        if total > 0.0 {
            importances.iter_mut().for_each(|v| *v /= total);
        }
        Ok(Forest {
            n_features: p,
            trees,
            importances,
        })
    }

    pub fn n_features(&self) -> usize {
        self.n_features
    }

    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Total node count over all trees.
    pub fn n_nodes(&self) -> usize {
        self.trees.iter().map(Tree::n_nodes).sum()
    }

    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Impurity-based importances (mean decrease in squared error), summing to 1, as sklearn's
    /// `feature_importances_`. Biased towards high-cardinality features; use permutation
    /// importance for conclusions.
    pub fn feature_importances(&self) -> &[f64] {
        &self.importances
    }

    /// Predictions for row-major `x` (`k × n_features`) on the current rayon pool (install a
    /// pool to limit threads): trees in parallel over all rows of a pass (tree-major, see
    /// 16,384 rows per pass), then the per-row mean/std in parallel over rows. Each row's result depends
    /// only on that row, never on the threads, so it equals [`Forest::predict_row`] bit for bit.
    pub fn predict(&self, x: &[f64]) -> Result<Vec<Prediction>, ForestError> {
        let p = self.n_features;
        if x.len() % p != 0 {
            return Err(ForestError::Shape(format!(
                "{} values are not a whole number of rows of {p} features",
                x.len()
            )));
        }
        check_finite(x, p, None)?;
        let mut out = Vec::with_capacity(x.len() / p);
        for pass in x.chunks(p * PASS_ROWS) {
            out.extend(self.predict_pass(pass));
        }
        Ok(out)
    }

    /// Prediction for one row.
    pub fn predict_row(&self, row: &[f64]) -> Result<Prediction, ForestError> {
        let v = self.per_tree(row)?;
        Ok(summarise(v.len(), |j| v[j]))
    }

    /// Every tree's prediction for one row, in tree order.
    pub fn per_tree(&self, row: &[f64]) -> Result<Vec<f64>, ForestError> {
        if row.len() != self.n_features {
            return Err(ForestError::Shape(format!(
                "row has {} features, the forest {}",
                row.len(),
                self.n_features
            )));
        }
        check_finite(row, self.n_features, None)?;
        Ok(self.trees.iter().map(|t| t.predict(row)).collect())
    }

    /// One pass of [`Forest::predict`]: trees in parallel, then rows in parallel.
    fn predict_pass(&self, block: &[f64]) -> Vec<Prediction> {
        let p = self.n_features;
        let k = block.len() / p;
        let mut padded = Vec::with_capacity(k * (p + 1));
        for row in block.chunks_exact(p) {
            padded.extend_from_slice(row);
            padded.push(f64::INFINITY);
        }
        let per_tree: Vec<Vec<f64>> = self
            .trees
            .par_iter()
            .map(|tree| {
                let mut col = vec![0.0; k];
                tree.predict_block(&padded, p + 1, |r, v| col[r] = v);
                col
            })
            .collect();
        (0..k)
            .into_par_iter()
            .with_min_len(256)
            .map(|r| summarise(per_tree.len(), |j| per_tree[j][r]))
            .collect()
    }
}

/// Mean and population std of `get(0..t)`, summed in tree order (so every caller gets the same
/// bits), two-pass (no cancellation for values near 90 %).
fn summarise(t: usize, get: impl Fn(usize) -> f64) -> Prediction {
    let n = t as f64;
    let mean = (0..t).fold(0.0, |s, j| s + get(j)) / n;
    let var = (0..t).fold(0.0, |s, j| {
        let d = get(j) - mean;
        s + d * d
    }) / n;
    Prediction {
        mean,
        std: var.sqrt(),
    }
}

fn check_shape(x: &[f64], n: usize, p: usize, what: &str) -> Result<(), ForestError> {
    match n.checked_mul(p) {
        Some(len) if len == x.len() => Ok(()),
        _ => Err(ForestError::Shape(format!(
            "{what} has {} values, expected {n} rows × {p} features",
            x.len()
        ))),
    }
}

/// Rejects NaN/±inf: comparisons with NaN would silently send rows right.
pub(crate) fn check_finite(
    x: &[f64],
    p: usize,
    names: Option<&[String]>,
) -> Result<(), ForestError> {
    match x.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => {
            let col = i % p;
            Err(ForestError::NonFinite {
                row: i / p,
                column: col,
                name: names
                    .and_then(|n| n.get(col))
                    .cloned()
                    .unwrap_or_else(|| format!("#{col}")),
                value: x[i],
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synth(n: usize, p: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut r = crate::rng::SplitMix64::new(seed);
        let x: Vec<f64> = (0..n * p).map(|_| r.next_f64()).collect();
        let y = (0..n)
            .map(|i| 10.0 * x[i * p] + 5.0 * x[i * p + 1] * x[i * p + 1] + r.next_f64())
            .collect();
        (x, y)
    }

    #[test]
    fn learns_and_is_deterministic_across_threads() {
        let (x, y) = synth(600, 4, 1);
        let params = ForestParams::builder()
            .n_trees(20)
            .n_threads(Some(1))
            .build()
            .unwrap();
        let a = Forest::fit_xy(&x, 600, 4, &y, &params).unwrap();
        let b = Forest::fit_xy(
            &x,
            600,
            4,
            &y,
            &params.to_builder().n_threads(Some(3)).build().unwrap(),
        )
        .unwrap();
        assert_eq!(a, b);
        let (xt, yt) = synth(200, 4, 2);
        let pred = a.predict(&xt).unwrap();
        let mse: f64 = pred
            .iter()
            .zip(&yt)
            .map(|(p, y)| (p.mean - y).powi(2))
            .sum::<f64>()
            / 200.0;
        assert!(mse < 0.5, "mse {mse}");
        let imp = a.feature_importances();
        assert!((imp.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(imp[0] > imp[2] && imp[1] > imp[3], "{imp:?}");
        let row = &xt[..4];
        let pt = a.per_tree(row).unwrap();
        assert_eq!(pt.len(), 20);
        assert_eq!(a.predict_row(row).unwrap(), pred[0]);
    }

    #[test]
    fn any_batch_size_matches_row_by_row() {
        let (x, y) = synth(300, 3, 8);
        let params = ForestParams::builder().n_trees(7).build().unwrap();
        let f = Forest::fit_xy(&x, 300, 3, &y, &params).unwrap();
        assert!(f.predict(&[]).unwrap().is_empty());
        for k in [1, 3, 8, 9, 17, 300] {
            let pred = f.predict(&x[..3 * k]).unwrap();
            for (r, p) in pred.iter().enumerate() {
                assert_eq!(
                    *p,
                    f.predict_row(&x[3 * r..3 * r + 3]).unwrap(),
                    "k {k} row {r}"
                );
            }
        }
    }

    #[test]
    fn rejects_bad_input() {
        let (mut x, y) = synth(50, 3, 1);
        let p = ForestParams::default();
        assert!(matches!(
            Forest::fit_xy(&x, 50, 4, &y, &p),
            Err(ForestError::Shape(_))
        ));
        x[7] = f64::NAN;
        match Forest::fit_xy(&x, 50, 3, &y, &p) {
            Err(ForestError::NonFinite { row, column, .. }) => assert_eq!((row, column), (2, 1)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Forest::fit_xy(&[], 0, 3, &[], &p),
            Err(ForestError::Empty)
        ));
    }

    #[test]
    fn no_bootstrap_full_depth_interpolates_training_data() {
        let (x, y) = synth(100, 2, 5);
        let params = ForestParams::builder()
            .n_trees(3)
            .bootstrap(false)
            .build()
            .unwrap();
        let f = Forest::fit_xy(&x, 100, 2, &y, &params).unwrap();
        let pred = f.predict(&x).unwrap();
        for (p, y) in pred.iter().zip(&y) {
            assert!((p.mean - y).abs() < 1e-12);
            assert!(p.std < 1e-12);
        }
    }
}
