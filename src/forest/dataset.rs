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
    /// NATS-Bench index of each row's arch.
    pub arch_index: Vec<usize>,
    /// Arch string of each row.
    pub arch: Vec<String>,
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
    /// range; `arch`/`arch_index` entries missing in `self` are skipped.
    pub fn subset(&self, rows: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(rows.len() * self.n_features());
        for &r in rows {
            x.extend_from_slice(self.row(r));
        }
        Dataset {
            feature_names: self.feature_names.clone(),
            x,
            y: rows.iter().map(|&r| self.y[r]).collect(),
            arch_index: rows
                .iter()
                .filter_map(|&r| self.arch_index.get(r).copied())
                .collect(),
            arch: rows
                .iter()
                .filter_map(|&r| self.arch.get(r).cloned())
                .collect(),
            groups: self
                .groups
                .as_ref()
                .map(|g| rows.iter().map(|&r| g[r]).collect()),
        }
    }
}
