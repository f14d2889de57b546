//! Proxy ⋈ label join into the forest's [`Dataset`], and the feature matrix for prediction.
//!
//! Policy (nothing is dropped silently; every exclusion is counted in [`JoinReport`]):
//! * duplicate archs (same `arch_index` twice for the dataset) on either side: error;
//! * the same index with different arch strings on the two sides, or an arch string that is not
//!   the official one for its index: error;
//! * proxy archs without a label (or with a null target): error, unless
//!   [`JoinOptions::allow_missing_labels`], then dropped and counted; label archs without proxies
//!   are only counted (a proxy table usually covers a subset, e.g. Suite-Zero's 9,445 archs);
//! * non-finite (NaN, ±inf, null) features: error naming arch and column, unless
//!   [`JoinOptions::drop_non_finite`], then dropped and counted;
//! * rows whose `status` is not `ok`: excluded and counted;
//! * an expected feature list (e.g. from a trained model) that differs from the table's as a set:
//!   error naming the missing and extra features; the output uses the expected order.

use super::io::check_arch;
use super::{f64_col, i64_col, invalid, str_col, LabelTable, ProxyTable, Result, TableError};
use crate::forest::Dataset;
use crate::provenance::Accuracy;
use crate::space::{NatsDataset, Space, TssArch};
use std::collections::{HashMap, HashSet};

/// Options of [`join`]; the default is the strict policy of the module docs.
#[derive(Debug, Clone, Default)]
pub struct JoinOptions {
    /// Drop (and count) proxy archs that have no label or a null target instead of failing.
    pub allow_missing_labels: bool,
    /// Drop (and count) rows with a non-finite feature instead of failing.
    pub drop_non_finite: bool,
    /// The feature list the result must have (e.g. a trained model's), in this order.
    pub expected_features: Option<Vec<String>>,
    /// Use only labels of this hp (needed when a label table holds several).
    pub hp: Option<String>,
}

/// What [`join`] did: every row that did not make it into the dataset is counted here.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinReport {
    pub dataset: NatsDataset,
    pub target: Accuracy,
    pub space: Space,
    /// Proxy rows of the dataset.
    pub proxy_rows: usize,
    /// Excluded because `status` is not `ok`.
    pub failed_status: usize,
    /// Proxy archs without a label (dropped: only with `allow_missing_labels`).
    pub missing_labels: usize,
    /// Labelled archs whose target is null (dropped: only with `allow_missing_labels`).
    pub null_target: usize,
    /// Labelled archs of the dataset without a proxy row (not used; not an error).
    pub labels_without_proxies: usize,
    /// Dropped for a non-finite feature (only with `drop_non_finite`).
    pub non_finite: usize,
    /// Rows in the dataset.
    pub rows: usize,
    pub features: Vec<String>,
}

/// 64-bit FNV-1a: a fixed, platform-independent hash (std's hasher is randomly seeded), used
/// for the group ids so that group-wise splits are reproducible across runs and machines.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn is_ok_status(s: &Option<String>) -> bool {
    matches!(s.as_deref(), None | Some("ok"))
}

/// The table's features reordered to `expected`, or the mismatch error.
fn resolve_features(table: &ProxyTable, expected: Option<&[String]>) -> Result<Vec<String>> {
    let have = table.feature_names();
    let Some(expected) = expected else {
        return Ok(have);
    };
    let hs: HashSet<&String> = have.iter().collect();
    let es: HashSet<&String> = expected.iter().collect();
    let missing: Vec<String> = expected
        .iter()
        .filter(|f| !hs.contains(f))
        .cloned()
        .collect();
    let extra: Vec<String> = have.iter().filter(|f| !es.contains(f)).cloned().collect();
    if !missing.is_empty() || !extra.is_empty() || es.len() != expected.len() {
        return Err(TableError::FeatureMismatch {
            path: table.source.clone(),
            missing,
            extra,
        });
    }
    Ok(expected.to_vec())
}

/// Joins the proxy rows of `dataset` with their labels: features in the table's order (or
/// `options.expected_features`), `y` = the label column `target` (`test_acc`, `valid_acc`,
/// `valtest_acc`, `train_acc` or an own label column of `labels`), rows in proxy-table order. `groups` is the FNV-1a hash of
/// the TSS isomorphism class (`TssArch::unique_str`) for TSS, `None` for SSS. See the module
/// docs for the policy on duplicates, missing labels, non-finite features and failed rows.
pub fn join(
    proxies: &ProxyTable,
    labels: &LabelTable,
    dataset: NatsDataset,
    target: &Accuracy,
    options: &JoinOptions,
) -> Result<(Dataset, JoinReport)> {
    let ds = dataset.name();
    let columns = labels.label_columns();
    let target_column = target.column();
    if !columns.contains(target) {
        let held: Vec<&str> = columns.iter().map(|c| c.column()).collect();
        return Err(invalid(
            &labels.source,
            format!(
                "no label column {target_column:?} (label columns: {})",
                held.join(", ")
            ),
        ));
    }
    let side = ProxySide::read(proxies, ds, options.expected_features.as_deref())?;
    let labelled = label_side(labels, side.space, ds, target_column, options.hp.as_deref())?;
    if labelled.is_empty() {
        if let Some(e) = labels.other_space(side.space)? {
            return Err(e);
        }
    }
    let mut report = JoinReport {
        dataset,
        target: target.clone(),
        space: side.space,
        proxy_rows: side.index.len(),
        failed_status: 0,
        missing_labels: 0,
        null_target: 0,
        labels_without_proxies: 0,
        non_finite: 0,
        rows: 0,
        features: side.features.clone(),
    };
    let (out, excluded) = side.match_labels(&labelled, &mut report)?;
    excluded.refuse_unless_allowed(&side, &report, labels, target_column, options)?;
    let proxy_set: HashSet<i64> = side.index.iter().flatten().copied().collect();
    report.labels_without_proxies = labelled.keys().filter(|i| !proxy_set.contains(i)).count();
    report.rows = out.y.len();
    if report.rows == 0 {
        return Err(invalid(
            &side.source,
            format!("no rows left after the join for {ds}: {report:?}"),
        ));
    }
    Ok((out, report))
}

/// The proxy rows of one dataset, column by column.
struct ProxySide {
    source: String,
    dataset: &'static str,
    space: Space,
    features: Vec<String>,
    index: Vec<Option<i64>>,
    arch: Vec<Option<String>>,
    /// `None` for every row when the table has no `status` column.
    status: Vec<Option<String>>,
    /// One column per feature.
    cols: Vec<Vec<Option<f64>>>,
}

impl ProxySide {
    /// The rows of `dataset` of `proxies`: one search space, no arch twice.
    fn read(
        proxies: &ProxyTable,
        dataset: &'static str,
        expected: Option<&[String]>,
    ) -> Result<Self> {
        let pp = proxies.source.as_str();
        let px = proxies.filter_dataset(dataset)?;
        if px.height() == 0 {
            return Err(invalid(
                pp,
                format!(
                    "no proxy rows for {dataset} (has {:?})",
                    proxies.datasets()?
                ),
            ));
        }
        let features = resolve_features(&px, expected)?;
        let spaces = str_col(&px.df, "space", pp)?;
        let space_name = spaces[0].clone().unwrap_or_default();
        if spaces
            .iter()
            .any(|s| s.as_deref() != Some(space_name.as_str()))
        {
            return Err(invalid(
                pp,
                format!("proxy rows of {dataset} mix search spaces"),
            ));
        }
        let has_status = px
            .df
            .get_column_names()
            .iter()
            .any(|c| c.as_str() == "status");
        let side = ProxySide {
            source: pp.to_string(),
            dataset,
            space: space_name
                .parse()
                .map_err(|e| invalid(pp, format!("{e}")))?,
            index: i64_col(&px.df, "arch_index", pp)?,
            arch: str_col(&px.df, "arch", pp)?,
            status: if has_status {
                str_col(&px.df, "status", pp)?
            } else {
                vec![None; px.height()]
            },
            cols: features
                .iter()
                .map(|f| f64_col(&px.df, f, pp))
                .collect::<Result<_>>()?,
            features,
        };
        side.refuse_duplicates()?;
        Ok(side)
    }

    /// Duplicates on the proxy side (all rows of the dataset, failed or not) are an error.
    fn refuse_duplicates(&self) -> Result<()> {
        let mut count: HashMap<i64, usize> = HashMap::new();
        for i in self.index.iter().flatten() {
            *count.entry(*i).or_default() += 1;
        }
        let Some(r) = self
            .index
            .iter()
            .position(|i| count[&i.unwrap_or_default()] > 1)
        else {
            return Ok(());
        };
        let i = self.index[r].unwrap_or_default();
        Err(TableError::Duplicate {
            path: self.source.clone(),
            side: "proxy",
            index: i,
            arch: self.arch[r].clone().unwrap_or_default(),
            dataset: self.dataset.into(),
            count: count[&i],
        })
    }

    /// The dataset: every row with an `ok` status, a label with a target and finite features,
    /// in table order. The rows left out are counted in `report`, and the first of each kind
    /// is returned for [`Excluded::refuse_unless_allowed`].
    fn match_labels(
        &self,
        labelled: &HashMap<i64, (String, Option<f64>)>,
        report: &mut JoinReport,
    ) -> Result<(Dataset, Excluded)> {
        let mut out = Dataset {
            feature_names: self.features.clone(),
            x: Vec::new(),
            y: Vec::new(),
            row_keys: Vec::new(),
            row_names: Vec::new(),
            groups: self.space.has_isomorphs().then(Vec::new),
        };
        let mut excluded = Excluded::default();
        for r in 0..self.index.len() {
            let index = self.index[r].unwrap_or_default();
            let arch = self.arch[r].clone().unwrap_or_default();
            if !is_ok_status(&self.status[r]) {
                report.failed_status += 1;
                continue;
            }
            check_arch(self.space, index, &arch, &self.source)?;
            let Some((l_arch, y)) = labelled.get(&index) else {
                report.missing_labels += 1;
                excluded.missing_label.get_or_insert(index);
                continue;
            };
            if *l_arch != arch {
                return Err(TableError::ArchMismatch {
                    path: self.source.clone(),
                    index,
                    proxy: arch,
                    label: l_arch.clone(),
                });
            }
            let Some(y) = *y else {
                report.null_target += 1;
                excluded.null_target.get_or_insert(index);
                continue;
            };
            if let Some(c) = self
                .cols
                .iter()
                .position(|c| !c[r].is_some_and(f64::is_finite))
            {
                report.non_finite += 1;
                excluded.non_finite.get_or_insert((r, c));
                continue;
            }
            out.x
                .extend(self.cols.iter().map(|c| c[r].expect("finite")));
            out.y.push(y);
            out.row_keys.push(index as usize);
            if let Some(g) = out.groups.as_mut() {
                let t = TssArch::from_index(index as usize).expect("checked");
                g.push(fnv1a64(t.unique_str().as_bytes()));
            }
            out.row_names.push(arch);
        }
        Ok((out, excluded))
    }
}

/// `(arch string, target)` of each labelled arch of `space`, `dataset` (and `hp`) by index; an
/// arch labelled twice is an error.
fn label_side(
    labels: &LabelTable,
    space: Space,
    dataset: &str,
    target: &str,
    hp: Option<&str>,
) -> Result<HashMap<i64, (String, Option<f64>)>> {
    let lp = labels.source.as_str();
    let mut lab: HashMap<i64, (String, Option<f64>)> = HashMap::new();
    let mut lab_count: HashMap<i64, usize> = HashMap::new();
    let rows = labels.rows()?;
    let tcol = f64_col(&labels.df, target, lp)?;
    for (r, row) in rows.iter().enumerate() {
        if row.space != space || row.dataset.name() != dataset || hp.is_some_and(|h| h != row.hp) {
            continue;
        }
        *lab_count.entry(row.arch_index).or_default() += 1;
        lab.insert(row.arch_index, (row.arch.clone(), tcol[r]));
    }
    if let Some((&i, &c)) = lab_count.iter().filter(|e| *e.1 > 1).min_by_key(|e| *e.0) {
        return Err(TableError::Duplicate {
            path: lp.into(),
            side: "label",
            index: i,
            arch: lab[&i].0.clone(),
            dataset: dataset.into(),
            count: c,
        });
    }
    Ok(lab)
}

/// The first row left out of the join for each reason that is an error unless allowed.
#[derive(Default)]
struct Excluded {
    /// Arch index of the first proxy arch without a label.
    missing_label: Option<i64>,
    /// Arch index of the first labelled arch with a null target.
    null_target: Option<i64>,
    /// (row, feature column) of the first non-finite feature.
    non_finite: Option<(usize, usize)>,
}

impl Excluded {
    /// The error for the first exclusion that `options` does not allow.
    fn refuse_unless_allowed(
        &self,
        side: &ProxySide,
        report: &JoinReport,
        labels: &LabelTable,
        target: &str,
        options: &JoinOptions,
    ) -> Result<()> {
        let ds = side.dataset;
        if let Some(example) = self.missing_label.filter(|_| !options.allow_missing_labels) {
            return Err(TableError::MissingLabels {
                path: labels.source.clone(),
                dataset: ds.into(),
                count: report.missing_labels,
                example,
            });
        }
        if let Some(example) = self.null_target.filter(|_| !options.allow_missing_labels) {
            return Err(invalid(
                &labels.source,
                format!(
                    "{} labelled archs have a null {target} for {ds} (e.g. arch_index {example}); archs without a label cannot be learnt from",
                    report.null_target
                ),
            ));
        }
        if let Some((r, c)) = self.non_finite.filter(|_| !options.drop_non_finite) {
            return Err(TableError::NonFinite {
                path: side.source.clone(),
                column: side.features[c].clone(),
                value: side.cols[c][r].map_or("null".into(), |v| v.to_string()),
                index: side.index[r].unwrap_or_default(),
                arch: side.arch[r].clone().unwrap_or_default(),
            });
        }
        Ok(())
    }
}

/// One row of a proxy table for `predict --features F`.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictRow {
    pub arch: String,
    pub index: usize,
    /// The row's features in the model's order, or why it has none: a failed `status` (with the
    /// row's `error` when the table has one) or a missing / non-finite value. Such a row gets
    /// no forest prediction, and the caller says so in its output rather than dropping it.
    pub features: std::result::Result<Vec<f64>, String>,
}

/// The rows of a proxy table for `predict --features F`, in table order, with the feature
/// columns in `expected` order (a trained model's feature list; a different set is a
/// [`TableError::FeatureMismatch`]). The table must hold a single dataset (see
/// [`ProxyTable::filter_dataset`]). A row without a usable feature vector is kept, with the
/// reason ([`PredictRow::features`]): an extraction records dead cells as failed rows, and a
/// table that cannot be predicted because of them would be useless.
pub fn features_for_predict(proxies: &ProxyTable, expected: &[String]) -> Result<Vec<PredictRow>> {
    let pp = proxies.source.as_str();
    let datasets = proxies.datasets()?;
    if datasets.len() > 1 {
        return Err(invalid(
            pp,
            format!("proxy table holds several datasets {datasets:?}; select one first"),
        ));
    }
    let features = resolve_features(proxies, Some(expected))?;
    let index = i64_col(&proxies.df, "arch_index", pp)?;
    let arch = str_col(&proxies.df, "arch", pp)?;
    let column = |name: &str| -> Result<Option<Vec<Option<String>>>> {
        let has = proxies
            .df
            .get_column_names()
            .iter()
            .any(|c| c.as_str() == name);
        has.then(|| str_col(&proxies.df, name, pp)).transpose()
    };
    let status = column("status")?;
    let error = column("error")?;
    let cols: Vec<Vec<Option<f64>>> = features
        .iter()
        .map(|f| f64_col(&proxies.df, f, pp))
        .collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(proxies.height());
    for r in 0..proxies.height() {
        let index = usize::try_from(index[r].unwrap_or(-1))
            .map_err(|_| invalid(pp, "missing or negative arch_index"))?;
        let features = match status.as_ref().map(|s| &s[r]) {
            Some(s) if !is_ok_status(s) => {
                // First line only: tables made before errors were cut to one line hold
                // libtorch's C++ backtraces.
                let why = error
                    .as_ref()
                    .and_then(|e| e[r].as_deref().and_then(|e| e.lines().next()))
                    .map(|e| e.trim_end().to_string())
                    .filter(|e| !e.is_empty());
                Err(format!(
                    "status {:?}{}",
                    s.clone().unwrap_or_default(),
                    why.map_or(String::new(), |w| format!(" ({w})"))
                ))
            }
            _ => cols
                .iter()
                .zip(&features)
                .map(|(col, name)| match col[r] {
                    Some(v) if v.is_finite() => Ok(v),
                    v => Err(format!(
                        "{name} is {}",
                        v.map_or("missing".into(), |v| v.to_string())
                    )),
                })
                .collect(),
        };
        out.push(PredictRow {
            arch: arch[r].clone().unwrap_or_default(),
            index,
            features,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::fnv1a64;

    #[test]
    fn fnv1a64_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }
}
