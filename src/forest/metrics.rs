//! Regression and ranking metrics for predicted vs true accuracy. NAS cares most about ranking
//! (Kendall τ, Spearman ρ); R², MAE and RMSE judge the absolute accuracy GreenFactory predicts.

use serde::{Deserialize, Serialize};

use super::ForestError;

/// All metrics of one prediction set. Undefined correlations (a constant input) are NaN, as in
/// scipy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub kendall_tau: f64,
    pub spearman: f64,
    pub pearson: f64,
    pub r2: f64,
    pub mae: f64,
    pub rmse: f64,
    pub n: usize,
}

impl Metrics {
    /// Computes every metric; errors when the lengths differ or there are fewer than 2 rows.
    pub fn compute(y_true: &[f64], y_pred: &[f64]) -> Result<Metrics, ForestError> {
        if y_true.len() != y_pred.len() {
            return Err(ForestError::Shape(format!(
                "{} true values vs {} predictions",
                y_true.len(),
                y_pred.len()
            )));
        }
        if y_true.len() < 2 {
            return Err(ForestError::Shape("metrics need at least 2 rows".into()));
        }
        Ok(Metrics {
            kendall_tau: kendall_tau_b(y_true, y_pred),
            spearman: spearman(y_true, y_pred),
            pearson: pearson(y_true, y_pred),
            r2: r2_score(y_true, y_pred),
            mae: mae(y_true, y_pred),
            rmse: rmse(y_true, y_pred),
            n: y_true.len(),
        })
    }

    /// Applies `f` field by field over several metric sets (`n` from `f` too, rounded).
    pub(crate) fn combine(all: &[Metrics], f: impl Fn(&[f64]) -> f64) -> Metrics {
        let get = |g: fn(&Metrics) -> f64| f(&all.iter().map(g).collect::<Vec<_>>());
        Metrics {
            kendall_tau: get(|m| m.kendall_tau),
            spearman: get(|m| m.spearman),
            pearson: get(|m| m.pearson),
            r2: get(|m| m.r2),
            mae: get(|m| m.mae),
            rmse: get(|m| m.rmse),
            n: get(|m| m.n as f64).round() as usize,
        }
    }
}

/// Kendall's τ-b with ties in both inputs, in `O(n log n)` (Knight 1966, as in
/// `scipy.stats.kendalltau`): sort by `(a, b)`, count discordant pairs as the inversions of `b`
/// with a merge sort, and correct with the tie counts:
/// `τ_b = (n₀ − n₁ − n₂ + n₃ − 2·dis) / √((n₀ − n₁)(n₀ − n₂))`, `n₀ = n(n−1)/2`, `n₁`/`n₂` pairs
/// tied in `a`/`b`, `n₃` pairs tied in both. NaN when either input is constant.
pub fn kendall_tau_b(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return f64::NAN;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&i, &j| a[i].total_cmp(&a[j]).then(b[i].total_cmp(&b[j])));
    let pairs = |c: u64| c * (c.saturating_sub(1)) / 2;
    let (mut tie_a, mut tie_ab) = (0u64, 0u64);
    let (mut run_a, mut run_ab) = (1u64, 1u64);
    for k in 1..n {
        let (p, q) = (idx[k - 1], idx[k]);
        if a[p] == a[q] {
            run_a += 1;
            if b[p] == b[q] {
                run_ab += 1;
            } else {
                tie_ab += pairs(run_ab);
                run_ab = 1;
            }
        } else {
            tie_a += pairs(run_a);
            tie_ab += pairs(run_ab);
            run_a = 1;
            run_ab = 1;
        }
    }
    tie_a += pairs(run_a);
    tie_ab += pairs(run_ab);

    let mut seq: Vec<f64> = idx.iter().map(|&i| b[i]).collect();
    let mut buf = vec![0.0; n];
    let dis = count_inversions(&mut seq, &mut buf);
    // seq is now sorted: ties in b.
    let mut tie_b = 0u64;
    let mut run = 1u64;
    for k in 1..n {
        if seq[k] == seq[k - 1] {
            run += 1;
        } else {
            tie_b += pairs(run);
            run = 1;
        }
    }
    tie_b += pairs(run);

    let tot = pairs(n as u64);
    if tot == tie_a || tot == tie_b {
        return f64::NAN;
    }
    let num = tot as f64 - tie_a as f64 - tie_b as f64 + tie_ab as f64 - 2.0 * dis as f64;
    (num / ((tot - tie_a) as f64).sqrt() / ((tot - tie_b) as f64).sqrt()).clamp(-1.0, 1.0)
}

/// Sorts `v` (merge sort) and returns the number of pairs `i < j` with `v[i] > v[j]`.
fn count_inversions(v: &mut [f64], buf: &mut [f64]) -> u64 {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut inv = {
        let (l, r) = v.split_at_mut(mid);
        let (bl, br) = buf.split_at_mut(mid);
        count_inversions(l, bl) + count_inversions(r, br)
    };
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        if v[j] < v[i] {
            buf[k] = v[j];
            inv += (mid - i) as u64;
            j += 1;
        } else {
            buf[k] = v[i];
            i += 1;
        }
        k += 1;
    }
    buf[k..k + mid - i].copy_from_slice(&v[i..mid]);
    k += mid - i;
    buf[k..k + n - j].copy_from_slice(&v[j..n]);
    v.copy_from_slice(&buf[..n]);
    inv
}

/// Ranks starting at 1, ties given their average rank (scipy `rankdata(method="average")`).
fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut ranks = vec![0.0; v.len()];
    let mut s = 0;
    while s < idx.len() {
        let mut e = s + 1;
        while e < idx.len() && v[idx[e]] == v[idx[s]] {
            e += 1;
        }
        let r = (s + e + 1) as f64 / 2.0; // mean of ranks s+1 ..= e
        for &i in &idx[s..e] {
            ranks[i] = r;
        }
        s = e;
    }
    ranks
}

/// Spearman's ρ: Pearson's r of the average ranks (Spearman 1904; scipy `spearmanr`).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&average_ranks(a), &average_ranks(b))
}

/// Pearson's r, two-pass. NaN when either input is constant.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return f64::NAN;
    }
    let ma = a[..n].iter().sum::<f64>() / n as f64;
    let mb = b[..n].iter().sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa == 0.0 || sbb == 0.0 {
        return f64::NAN;
    }
    (sab / (saa.sqrt() * sbb.sqrt())).clamp(-1.0, 1.0)
}

/// Coefficient of determination as sklearn's `r2_score`: `1 − SS_res / SS_tot`; for a constant
/// `y_true` 1.0 if the prediction is perfect, else 0.0 (sklearn `force_finite=True`).
pub fn r2_score(y_true: &[f64], y_pred: &[f64]) -> f64 {
    let n = y_true.len().min(y_pred.len());
    if n < 2 {
        return f64::NAN;
    }
    let m = y_true[..n].iter().sum::<f64>() / n as f64;
    let ss_res: f64 = y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p) * (t - p))
        .sum();
    let ss_tot: f64 = y_true[..n].iter().map(|t| (t - m) * (t - m)).sum();
    if ss_tot == 0.0 {
        return if ss_res == 0.0 { 1.0 } else { 0.0 };
    }
    1.0 - ss_res / ss_tot
}

/// Mean absolute error.
pub fn mae(y_true: &[f64], y_pred: &[f64]) -> f64 {
    let n = y_true.len().min(y_pred.len());
    y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p).abs())
        .sum::<f64>()
        / n as f64
}

/// Root mean squared error.
pub fn rmse(y_true: &[f64], y_pred: &[f64]) -> f64 {
    let n = y_true.len().min(y_pred.len());
    (y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p) * (t - p))
        .sum::<f64>()
        / n as f64)
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from scipy 1.17.1 / scikit-learn 1.9.1:
    //   st.kendalltau(a,b), st.spearmanr(a,b), st.pearsonr(a,b), r2_score(a,b),
    //   mean_absolute_error(a,b), mean_squared_error(a,b)**0.5
    const A: [f64; 12] = [1., 2., 2., 3., 4., 4., 4., 5., 6., 7.5, 2., 9.];
    const B: [f64; 12] = [2., 1., 3., 3., 5., 4., 4., 6., 5., 9., 1., 8.5];

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn match_scipy_with_ties() {
        let m = Metrics::compute(&A, &B).unwrap();
        close(m.kendall_tau, 0.8197822947299411);
        close(m.spearman, 0.9321666372073315);
        close(m.pearson, 0.9362484355418154);
        close(m.r2, 0.8517073170731707);
        close(m.mae, 0.75);
        close(m.rmse, 0.8897565210026093);
        assert_eq!(m.n, 12);
        let c = [3., 1., 4., 1., 5., 9., 2., 6., 5., 3., 5.];
        let d = [2., 7., 1., 8., 2., 8., 1., 8., 2., 8., 4.];
        close(kendall_tau_b(&c, &d), 0.14757295747452434);
        close(spearman(&c, &d), 0.1384567651467695);
    }

    #[test]
    fn kendall_matches_quadratic_definition() {
        let mut r = crate::rng::SplitMix64::new(4);
        let a: Vec<f64> = (0..300).map(|_| r.below(20) as f64).collect();
        let b: Vec<f64> = (0..300).map(|_| r.below(15) as f64).collect();
        let (mut s, mut ta, mut tb) = (0i64, 0i64, 0i64);
        let n0 = 300 * 299 / 2;
        for i in 0..300 {
            for j in i + 1..300 {
                let (da, db) = (a[i] - a[j], b[i] - b[j]);
                s += (da.signum() * db.signum()) as i64 * (da != 0.0 && db != 0.0) as i64;
                ta += (da == 0.0) as i64;
                tb += (db == 0.0) as i64;
            }
        }
        let expect = s as f64 / (((n0 - ta) * (n0 - tb)) as f64).sqrt();
        close(kendall_tau_b(&a, &b), expect);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(kendall_tau_b(&[1., 2., 3.], &[3., 2., 1.]), -1.0);
        assert!(kendall_tau_b(&[1., 1., 1.], &[1., 2., 3.]).is_nan());
        assert!(pearson(&[1., 1.], &[1., 2.]).is_nan());
        assert_eq!(r2_score(&[2., 2.], &[2., 2.]), 1.0);
        assert_eq!(r2_score(&[2., 2.], &[2., 3.]), 0.0);
        assert!(Metrics::compute(&[1.0], &[1.0]).is_err());
        assert!(Metrics::compute(&[1.0, 2.0], &[1.0]).is_err());
    }
}
