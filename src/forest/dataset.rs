//! The plain, dependency-free training table the forest consumes: one row per arch, one column
//! per feature, one target. The Polars pipeline (`table`) produces it; the forest never sees
//! Polars types, so the forest-only library builds without Polars.

/// Rows of feature vectors with their targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Feature (column) names, in column order.
    pub feature_names: Vec<String>,
    /// Row-major features: `x[row * feature_names.len() + col]`.
    pub x: Vec<f64>,
    /// Target per row (e.g. test accuracy in percent).
    pub y: Vec<f64>,
    /// The caller's key of each row (the training data of `greenfactory::training` puts the
    /// arch's official index here); may be empty.
    pub row_keys: Vec<usize>,
    /// The caller's name of each row (there: the arch string); may be empty.
    pub row_names: Vec<String>,
    /// Group id per row for group-wise splits (e.g. the TSS isomorphism class), if known.
    pub groups: Option<Vec<u64>>,
}

impl Dataset {
    pub fn n_rows(&self) -> usize {
        self.y.len()
    }

    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// The features of one row.
    pub fn row(&self, i: usize) -> &[f64] {
        let p = self.n_features();
        &self.x[i * p..(i + 1) * p]
    }

    /// The given rows, in the given order (groups too, if present). Panics if a row is out of
    /// range; `row_keys`/`row_names` entries missing in `self` are skipped.
    pub fn subset(&self, rows: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(rows.len() * self.n_features());
        for &r in rows {
            x.extend_from_slice(self.row(r));
        }
        Dataset {
            feature_names: self.feature_names.clone(),
            x,
            y: rows.iter().map(|&r| self.y[r]).collect(),
            row_keys: rows
                .iter()
                .filter_map(|&r| self.row_keys.get(r).copied())
                .collect(),
            row_names: rows
                .iter()
                .filter_map(|&r| self.row_names.get(r).cloned())
                .collect(),
            groups: self
                .groups
                .as_ref()
                .map(|g| rows.iter().map(|&r| g[r]).collect()),
        }
    }
}
