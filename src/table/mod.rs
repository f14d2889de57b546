//! Polars proxy/label tables, their files, and the join that produces the forest's
//! [`crate::forest::Dataset`].
//!
//! # Label table (one row per (arch, dataset, hp))
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `space` | str | `tss` or `sss` |
//! | `dataset` | str | `cifar10`, `cifar100` or `imagenet16-120` (normalised, see [`normalize_dataset`]) |
//! | `arch_index` | i64 | official NATS-Bench index |
//! | `arch` | str | official arch string |
//! | `hp` | str | NATS-Bench training schedule (`200` TSS / `90` SSS = final training) |
//! | `test_acc` | f64, nullable | test accuracy, % (NATS-Bench `get_more_info(..., is_random=False)`) |
//! | `valid_acc` | f64, nullable | `x-valid` accuracy, % (null for `cifar10`) |
//! | `valtest_acc` | f64, nullable | `ori-test` accuracy of `cifar100` / `ImageNet16-120`, % |
//! | `train_acc` | f64, nullable | final-epoch train accuracy, % |
//! | `params_m`, `flops_m` | f64, nullable | parameters / FLOPs in millions |
//! | `latency_s` | f64, nullable | latency in seconds |
//!
//! The nullable columns are null when the source does not carry them (e.g. the TSS test-accuracy
//! CSV has no validation accuracy, the SSS validation-accuracy CSV no test accuracy); an import
//! from the official archives ([`import_nats`]) fills them all. A label table needs at least
//! one accuracy column; what a label is ([`crate::provenance::LabelKind`]: which accuracy, which
//! `hp`) follows from the column and the `hp` column, and [`LabelTable::kinds`] lists them.
//!
//! # Proxy table (one row per (arch, dataset))
//!
//! `space`, `dataset`, `arch_index`, `arch`, then one f64 column per feature (proxy), plus the
//! optional `status` (str; `ok` for a usable row) and `error` (str) columns. Every column other
//! than these six is a feature. Rows whose `status` is not `ok` are excluded from training and
//! counted in the [`JoinReport`]. The proxy configuration that produced the table (the
//! extraction's [`Manifest`]) is stored as JSON text in the Parquet file's key-value metadata
//! under [`PROXY_CONFIG_KEY`] (polars 0.55 writes it with
//! `ParquetWriter::with_key_value_metadata` and exposes it on read through
//! `ParquetReader::get_metadata().key_value_metadata()`, so no sidecar file is needed); text
//! there that is not a manifest makes the table unreadable, named in the error.
//!
//! # Files
//!
//! [`read_any`] dispatches on the extension (`.parquet` / `.csv`); it recognises, besides the two
//! schemas above, the official TSS label CSV (`index, arch_str, unique_str, cifar10_test_acc,
//! cifar100_test_acc, imagenet16_120_test_acc`, made with `get_more_info(i, ds, hp=200,
//! is_random=False)['test-accuracy']`; see `shared/data/PROVENANCE.md` §1), the SSS
//! validation-accuracy CSV (`index, arch_str, cifar10_valid_acc, cifar100_valid_acc,
//! imagenet16_120_valid_acc`: `x-valid` after 90 epochs, seed 777; §11) and the
//! NAS-Bench-Suite-Zero joined CSVs (`nats_index, arch_str, naslib_net, <13 proxies>,
//! naslib_val_acc, nats_test_acc_hp200`; §6b). Parquet files are written atomically
//! (`<out>.tmp`, then rename), so a file that exists is complete.

mod correlate;
mod io;
mod join;

pub use correlate::{proxy_taus, ProxyTau};
pub use io::{
    import_csv, import_nats, read_any, read_labels, read_labels_as, read_naslib_timings, read_nats,
    read_proxies, read_proxies_as, read_suite_zero_csv, read_tss_label_csv, write_labels,
    write_proxies, AnyTable, ImportCsvOptions, NaslibTiming, PlainLayout,
};
pub use join::{features_for_predict, fnv1a64, join, JoinOptions, JoinReport, PredictRow};

use crate::provenance::{Accuracy, LabelKind, Manifest};
use crate::space::{NatsDataset, Space};
use polars::prelude::*;
use std::path::PathBuf;

/// Parquet key-value metadata key holding the proxy configuration (JSON text).
pub const PROXY_CONFIG_KEY: &str = "greenfactory.proxy_config";

/// Key columns of a proxy table; every other column except [`STATUS_COLUMNS`] is a feature.
pub const PROXY_KEY_COLUMNS: [&str; 4] = ["space", "dataset", "arch_index", "arch"];
/// Optional bookkeeping columns of a proxy table.
pub const STATUS_COLUMNS: [&str; 2] = ["status", "error"];
/// Columns of a label table, in order.
pub const LABEL_COLUMNS: [&str; 12] = [
    "space",
    "dataset",
    "arch_index",
    "arch",
    "hp",
    "test_acc",
    "valid_acc",
    "valtest_acc",
    "train_acc",
    "params_m",
    "flops_m",
    "latency_s",
];
/// The label columns that may be used as a join target.
pub const TARGET_COLUMNS: [&str; 4] = ["test_acc", "valid_acc", "valtest_acc", "train_acc"];
/// The label columns that hold an arch's cost (HW-NAS-Bench), never a label.
pub const COST_COLUMNS: [&str; 3] = ["params_m", "flops_m", "latency_s"];

/// Why a table could not be read, written, validated or joined. One line; names the file
/// (or `<memory>` for a table built in memory) and, for join problems, an example arch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    #[error("{path}: {source}")]
    Polars { path: String, source: PolarsError },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: unknown table extension (expected .parquet or .csv)")]
    UnknownExtension { path: String },
    #[error("{path}: missing column {column:?} for a {kind} table")]
    MissingColumn {
        path: String,
        column: String,
        kind: &'static str,
    },
    #[error("{path}: column {column:?} has type {dtype}, expected {expected}")]
    ColumnType {
        path: String,
        column: String,
        dtype: String,
        expected: &'static str,
    },
    #[error("{path}: {what}")]
    Invalid { path: String, what: String },
    /// A plain table that does not say its space or dataset, read without the layout saying it.
    #[error("{path}: {why}: the {what} must be given")]
    LayoutNeeds {
        path: String,
        /// `space` or `dataset`.
        what: &'static str,
        why: &'static str,
    },
    #[error("unknown dataset {0:?} (expected cifar10, cifar100 or imagenet16-120)")]
    UnknownDataset(String),
    #[error("{path}: duplicate arch in the {side} table: arch_index {index} ({arch}) appears {count} times for {dataset}")]
    Duplicate {
        path: String,
        side: &'static str,
        index: i64,
        arch: String,
        dataset: String,
        count: usize,
    },
    #[error("{path}: {count} proxy archs have no {dataset} label (e.g. arch_index {example})")]
    MissingLabels {
        path: String,
        dataset: String,
        count: usize,
        example: i64,
    },
    #[error("{path}: arch_index {index} is {proxy:?} in the proxies but {label:?} in the labels")]
    ArchMismatch {
        path: String,
        index: i64,
        proxy: String,
        label: String,
    },
    #[error("{path}: non-finite feature {column:?} = {value} for arch_index {index} ({arch}); such rows can be dropped and counted instead")]
    NonFinite {
        path: String,
        column: String,
        value: String,
        index: i64,
        arch: String,
    },
    #[error("{path}: feature mismatch: missing {missing:?}, extra {extra:?}")]
    FeatureMismatch {
        path: String,
        missing: Vec<String>,
        extra: Vec<String>,
    },
    #[error(transparent)]
    Nats(#[from] crate::nats::NatsError),
}

pub type Result<T, E = TableError> = std::result::Result<T, E>;

/// Canonical dataset name of a label/proxy table: `cifar10`, `cifar100` or `imagenet16-120`,
/// from any name [`crate::space::NatsDataset`] parses (official NATS-Bench names, the
/// underscore form of file and column names, …).
pub fn normalize_dataset(name: &str) -> Result<&'static str> {
    parse_dataset(name).map(|d| d.name())
}

/// The dataset `name` names ([`normalize_dataset`]'s rules), as a table error if none.
pub fn parse_dataset(name: &str) -> Result<crate::space::NatsDataset> {
    name.parse()
        .map_err(|_| TableError::UnknownDataset(name.chars().take(60).collect()))
}

/// One label-table row (see the module docs for the columns).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRow {
    pub space: Space,
    pub dataset: NatsDataset,
    pub arch_index: i64,
    pub arch: String,
    pub hp: String,
    pub test_acc: Option<f64>,
    pub valid_acc: Option<f64>,
    pub valtest_acc: Option<f64>,
    pub train_acc: Option<f64>,
    pub params_m: Option<f64>,
    pub flops_m: Option<f64>,
    pub latency_s: Option<f64>,
}

/// A validated label table.
#[derive(Debug, Clone)]
pub struct LabelTable {
    pub(crate) df: DataFrame,
    /// Where it came from (for error messages); `<memory>` if built in memory.
    pub source: String,
}

/// A validated proxy table and the manifest of the extraction that made it (`None` for
/// external tables: Suite-Zero, plain feature tables).
#[derive(Debug, Clone)]
pub struct ProxyTable {
    pub(crate) df: DataFrame,
    pub config: Option<Manifest>,
    pub source: String,
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    /// The file or directory read.
    pub source: PathBuf,
    /// The Parquet file written, if any.
    pub out: Option<PathBuf>,
    pub space: Option<crate::space::Space>,
    pub hp: Option<String>,
    /// Rows in the table (archs × datasets).
    pub rows: usize,
    /// Distinct archs.
    pub archs: usize,
    pub datasets: Vec<String>,
    /// Archs listed in the archive's meta (archive imports only): `archs` of them were found.
    pub meta_archs: Option<usize>,
}

pub(crate) const MEMORY: &str = "<memory>";

fn pe(path: &str) -> impl FnOnce(PolarsError) -> TableError + '_ {
    move |source| TableError::Polars {
        path: path.to_string(),
        source,
    }
}

/// Column access helpers that turn Polars' type errors into [`TableError`]s naming the file.
pub(crate) fn str_col(df: &DataFrame, name: &str, path: &str) -> Result<Vec<Option<String>>> {
    let c = df.column(name).map_err(pe(path))?;
    let s = if c.dtype() == &DataType::String {
        c.clone()
    } else if c.dtype().is_primitive_numeric() {
        c.cast(&DataType::String).map_err(pe(path))?
    } else {
        return Err(TableError::ColumnType {
            path: path.into(),
            column: name.into(),
            dtype: c.dtype().to_string(),
            expected: "str",
        });
    };
    Ok(s.str()
        .map_err(pe(path))?
        .iter()
        .map(|o| o.map(str::to_string))
        .collect())
}

pub(crate) fn f64_col(df: &DataFrame, name: &str, path: &str) -> Result<Vec<Option<f64>>> {
    let c = df.column(name).map_err(pe(path))?;
    if !(c.dtype().is_primitive_numeric() || c.dtype() == &DataType::Null) {
        return Err(TableError::ColumnType {
            path: path.into(),
            column: name.into(),
            dtype: c.dtype().to_string(),
            expected: "numeric",
        });
    }
    let c = c.cast(&DataType::Float64).map_err(pe(path))?;
    Ok(c.f64().map_err(pe(path))?.iter().collect())
}

pub(crate) fn i64_col(df: &DataFrame, name: &str, path: &str) -> Result<Vec<Option<i64>>> {
    let c = df.column(name).map_err(pe(path))?;
    if !c.dtype().is_integer() {
        return Err(TableError::ColumnType {
            path: path.into(),
            column: name.into(),
            dtype: c.dtype().to_string(),
            expected: "integer",
        });
    }
    let c = c.cast(&DataType::Int64).map_err(pe(path))?;
    Ok(c.i64().map_err(pe(path))?.iter().collect())
}

fn require(df: &DataFrame, cols: &[&str], path: &str, kind: &'static str) -> Result<()> {
    let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
    for c in cols {
        if !names.contains(c) {
            return Err(TableError::MissingColumn {
                path: path.into(),
                column: c.to_string(),
                kind,
            });
        }
    }
    Ok(())
}

pub(crate) fn has_column(df: &DataFrame, col: &str) -> bool {
    df.get_column_names().iter().any(|c| c.as_str() == col)
}

fn invalid(path: &str, what: impl Into<String>) -> TableError {
    TableError::Invalid {
        path: path.into(),
        what: what.into(),
    }
}

/// Checks non-null keys (space parses, dataset normalises) and returns the normalised
/// `(space, dataset, arch_index, arch)` columns.
type Keys = (Vec<String>, Vec<String>, Vec<i64>, Vec<String>);

fn key_columns(df: &DataFrame, path: &str) -> Result<Keys> {
    let space = str_col(df, "space", path)?;
    let dataset = str_col(df, "dataset", path)?;
    let index = i64_col(df, "arch_index", path)?;
    let arch = str_col(df, "arch", path)?;
    let n = df.height();
    let (mut s, mut d, mut i, mut a) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in 0..n {
        let (Some(sp), Some(ds), Some(ix), Some(ar)) = (&space[r], &dataset[r], index[r], &arch[r])
        else {
            return Err(invalid(
                path,
                format!("row {r}: null space/dataset/arch_index/arch"),
            ));
        };
        let sp: crate::space::Space = sp
            .parse()
            .map_err(|e| invalid(path, format!("row {r}: {e}")))?;
        let ds = normalize_dataset(ds).map_err(|e| invalid(path, format!("row {r}: {e}")))?;
        s.push(sp.name().to_string());
        d.push(ds.to_string());
        i.push(ix);
        a.push(ar.clone());
    }
    Ok((s, d, i, a))
}

fn str_column(name: &str, v: Vec<String>) -> Column {
    Column::new(name.into(), v)
}

impl LabelTable {
    /// The rows as a Polars frame, read-only: the schema is the table's to keep.
    pub fn frame(&self) -> &DataFrame {
        &self.df
    }

    /// Builds a label table from rows (normalising nothing: rows are trusted to be canonical;
    /// [`LabelTable::from_df`] re-validates).
    pub fn from_rows(rows: &[LabelRow]) -> Result<LabelTable> {
        let s = |f: fn(&LabelRow) -> &String| rows.iter().map(|r| f(r).clone()).collect::<Vec<_>>();
        let o = |f: fn(&LabelRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
        let cols = vec![
            str_column(
                "space",
                rows.iter().map(|r| r.space.name().to_string()).collect(),
            ),
            str_column(
                "dataset",
                rows.iter().map(|r| r.dataset.name().to_string()).collect(),
            ),
            Column::new(
                "arch_index".into(),
                rows.iter().map(|r| r.arch_index).collect::<Vec<i64>>(),
            ),
            str_column("arch", s(|r| &r.arch)),
            str_column("hp", s(|r| &r.hp)),
            Column::new("test_acc".into(), o(|r| r.test_acc)),
            Column::new("valid_acc".into(), o(|r| r.valid_acc)),
            Column::new("valtest_acc".into(), o(|r| r.valtest_acc)),
            Column::new("train_acc".into(), o(|r| r.train_acc)),
            Column::new("params_m".into(), o(|r| r.params_m)),
            Column::new("flops_m".into(), o(|r| r.flops_m)),
            Column::new("latency_s".into(), o(|r| r.latency_s)),
        ];
        let df = DataFrame::new(rows.len(), cols).map_err(pe(MEMORY))?;
        LabelTable::from_df(df, MEMORY)
    }

    /// Validates and normalises a data frame with the label schema: the key columns
    /// (`space, dataset, arch_index, arch`) and at least one label column (an accuracy column,
    /// or a numeric column of the user's own, kept after the schema's) must exist, the
    /// schema's other columns are added as nulls when absent, `hp` defaults to the space's final
    /// training, types are cast, dataset names are normalised and the columns put in
    /// [`LABEL_COLUMNS`] order.
    pub fn from_df(df: DataFrame, source: &str) -> Result<LabelTable> {
        require(
            &df,
            &["space", "dataset", "arch_index", "arch"],
            source,
            "label",
        )?;
        let own: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .filter(|c| {
                !LABEL_COLUMNS.contains(&c.as_str())
                    && !STATUS_COLUMNS.contains(&c.as_str())
                    && matches!(Accuracy::from_column(c), Some(Accuracy::Own(_)))
            })
            .filter(|c| {
                df.column(c)
                    .is_ok_and(|col| col.dtype().is_primitive_numeric())
            })
            .collect();
        if own.is_empty() && !TARGET_COLUMNS.iter().any(|c| has_column(&df, c)) {
            let costs: Vec<&str> = COST_COLUMNS
                .into_iter()
                .filter(|c| has_column(&df, c))
                .collect();
            if !costs.is_empty() {
                return Err(invalid(
                    source,
                    format!(
                        "no label column: {} {} the label schema's cost name{}, not a label; \
                         a label is an accuracy column ({}) or a numeric column of another name \
                         (e.g. my_acc)",
                        costs.join(", "),
                        if costs.len() == 1 { "is" } else { "are" },
                        if costs.len() == 1 { "" } else { "s" },
                        TARGET_COLUMNS.join(", ")
                    ),
                ));
            }
            return Err(TableError::MissingColumn {
                path: source.into(),
                column: "test_acc (or valid_acc, valtest_acc, train_acc)".into(),
                kind: "label",
            });
        }
        let (space, dataset, index, arch) = key_columns(&df, source)?;
        let n = df.height();
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let hp: Vec<String> = if names.iter().any(|c| c == "hp") {
            str_col(&df, "hp", source)?
                .into_iter()
                .enumerate()
                .map(|(r, h)| h.ok_or_else(|| invalid(source, format!("row {r}: null hp"))))
                .collect::<Result<_>>()?
        } else {
            space
                .iter()
                .map(|s| {
                    let sp: crate::space::Space = s.parse().expect("validated");
                    sp.final_hp().to_string()
                })
                .collect()
        };
        let mut cols = vec![
            str_column("space", space),
            str_column("dataset", dataset),
            Column::new("arch_index".into(), index),
            str_column("arch", arch),
            str_column("hp", hp),
        ];
        for name in &LABEL_COLUMNS[5..] {
            let v = if names.iter().any(|c| c == name) {
                f64_col(&df, name, source)?
            } else {
                vec![None; n]
            };
            cols.push(Column::new((*name).into(), v));
        }
        for name in &own {
            cols.push(Column::new(
                name.as_str().into(),
                f64_col(&df, name, source)?,
            ));
        }
        let df = DataFrame::new(n, cols).map_err(pe(source))?;
        Ok(LabelTable {
            df,
            source: source.to_string(),
        })
    }

    pub fn height(&self) -> usize {
        self.df.height()
    }

    /// The label columns: NATS-Bench's four accuracies, then the user's own numeric columns
    /// (any column after the label schema's: see [`LabelTable::from_df`]).
    pub fn label_columns(&self) -> Vec<Accuracy> {
        let mut out: Vec<Accuracy> = Accuracy::ALL.to_vec();
        for c in self.df.get_column_names() {
            if !LABEL_COLUMNS.contains(&c.as_str()) {
                if let Some(a) = Accuracy::from_column(c.as_str()) {
                    out.push(a);
                }
            }
        }
        out
    }

    /// `(arch_index, value)` of label column `acc` for `dataset`'s archs in `space` (and `hp`,
    /// when given), rows with a value only.
    fn values(
        &self,
        space: Space,
        dataset: NatsDataset,
        acc: &Accuracy,
        hp: Option<&str>,
    ) -> Result<Vec<(i64, String, f64)>> {
        let p = self.source.as_str();
        let sp = str_col(&self.df, "space", p)?;
        let ds = str_col(&self.df, "dataset", p)?;
        let hps = str_col(&self.df, "hp", p)?;
        let idx = i64_col(&self.df, "arch_index", p)?;
        let v = f64_col(&self.df, acc.column(), p)?;
        Ok((0..self.df.height())
            .filter(|&r| sp[r].as_deref() == Some(space.name()))
            .filter(|&r| ds[r].as_deref() == Some(dataset.name()))
            .filter(|&r| hp.is_none_or(|h| hps[r].as_deref() == Some(h)))
            .filter_map(|r| Some((idx[r]?, hps[r].clone().unwrap_or_default(), v[r]?)))
            .collect())
    }

    /// The kinds of label this table holds for `dataset`'s archs in `space`: each label column
    /// with a value, per `hp`, in [`LabelTable::label_columns`] order. An empty `hp` (a plain
    /// label file says none) is an unknown schedule.
    pub fn kinds(&self, space: Space, dataset: NatsDataset) -> Result<Vec<LabelKind>> {
        let mut out: Vec<LabelKind> = Vec::new();
        for acc in self.label_columns() {
            for (_, hp, _) in self.values(space, dataset, &acc, None)? {
                let hp = (!hp.is_empty()).then_some(hp.as_str());
                let k = LabelKind::new(acc.clone(), hp);
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
        Ok(out)
    }

    /// When the table holds labels of another space than `space` (the SSS labels given for TSS
    /// archs, or the reverse): the error that says so.
    pub(crate) fn other_space(&self, space: Space) -> Result<Option<TableError>> {
        let spaces = str_col(&self.df, "space", &self.source)?;
        Ok(spaces
            .iter()
            .flatten()
            .find(|s| s.as_str() != space.name())
            .map(|o| {
                invalid(
                    &self.source,
                    format!(
                        "holds {} labels and no {} labels: the archs are {} archs",
                        o.to_uppercase(),
                        space.name().to_uppercase(),
                        space.name().to_uppercase()
                    ),
                )
            }))
    }

    /// The error for a table without `what` of `space`/`dataset` ([`LabelTable::other_space`]'s
    /// when it holds another space's labels).
    fn none_for(&self, space: Space, dataset: NatsDataset, what: &str) -> Result<TableError> {
        Ok(self
            .other_space(space)?
            .unwrap_or_else(|| invalid(&self.source, format!("no {space} {dataset} {what}"))))
    }

    /// The label kind to learn when none is asked for: the table's test accuracy, else its
    /// validation accuracy, else its validation+test accuracy, else its one own label column,
    /// for `dataset`'s archs in `space`.
    /// Several `hp` of that accuracy is an error (choose one with a target that names it).
    pub fn default_kind(&self, space: Space, dataset: NatsDataset) -> Result<LabelKind> {
        let kinds = self.kinds(space, dataset)?;
        let nats = kinds
            .iter()
            .find(|k| !matches!(k.accuracy, Accuracy::Train | Accuracy::Own(_)));
        let own: Vec<&LabelKind> = kinds
            .iter()
            .filter(|k| matches!(k.accuracy, Accuracy::Own(_)))
            .collect();
        let first = match (nats, own.as_slice()) {
            (Some(k), _) => k,
            (None, [one]) => *one,
            (None, []) => {
                return Err(self.none_for(space, dataset, "test or validation accuracies")?)
            }
            (None, many) => {
                return Err(invalid(
                    &self.source,
                    format!(
                        "holds several label columns ({}); name the one to learn",
                        many.iter()
                            .map(|k| k.accuracy.column().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ))
            }
        };
        let same: Vec<&LabelKind> = kinds
            .iter()
            .filter(|k| k.accuracy == first.accuracy)
            .collect();
        if same.len() > 1 {
            return Err(invalid(
                &self.source,
                format!(
                    "{space} {dataset} labels hold {} for several hp ({}); name one, e.g. \"{}\"",
                    first.accuracy.words(),
                    same.iter()
                        .map(|k| k.hp.clone().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(", "),
                    same[0]
                ),
            ));
        }
        Ok(first.clone())
    }

    /// Official index → accuracy of kind `kind` of `dataset`'s archs in `space` (what `search`
    /// and `demo` print beside a prediction). A table without labels of that kind (another
    /// accuracy, another `hp`) is an error naming what it holds: a model's predictions are only
    /// compared with labels of the kind it learnt.
    pub fn accuracies(
        &self,
        space: Space,
        dataset: NatsDataset,
        kind: &LabelKind,
    ) -> Result<std::collections::HashMap<usize, f64>> {
        let map: std::collections::HashMap<usize, f64> = if self
            .df
            .get_column_names()
            .iter()
            .any(|c| c.as_str() == kind.accuracy.column())
        {
            self.values(space, dataset, &kind.accuracy, kind.hp.as_deref())?
                .into_iter()
                .filter_map(|(i, _, v)| Some((usize::try_from(i).ok()?, v)))
                .collect()
        } else {
            Default::default()
        };
        if map.is_empty() {
            let held = self.kinds(space, dataset)?;
            let held = if held.is_empty() {
                return Err(self.none_for(
                    space,
                    dataset,
                    &format!("{} labels", kind.describe()),
                )?);
            } else {
                held.iter()
                    .map(LabelKind::describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(invalid(
                &self.source,
                format!(
                    "no {space} {dataset} {} labels (it holds {held})",
                    kind.describe()
                ),
            ));
        }
        Ok(map)
    }

    /// The rows as structs.
    pub fn rows(&self) -> Result<Vec<LabelRow>> {
        let p = self.source.as_str();
        let st = |n| str_col(&self.df, n, p);
        let fl = |n| f64_col(&self.df, n, p);
        let (space, dataset, arch, hp) = (st("space")?, st("dataset")?, st("arch")?, st("hp")?);
        let index = i64_col(&self.df, "arch_index", p)?;
        let (test, valid, valtest, train) = (
            fl("test_acc")?,
            fl("valid_acc")?,
            fl("valtest_acc")?,
            fl("train_acc")?,
        );
        let (params, flops, lat) = (fl("params_m")?, fl("flops_m")?, fl("latency_s")?);
        (0..self.df.height())
            .map(|r| {
                Ok(LabelRow {
                    space: space[r]
                        .as_deref()
                        .unwrap_or_default()
                        .parse()
                        .map_err(|e| invalid(p, format!("row {r}, column \"space\": {e}")))?,
                    dataset: parse_dataset(dataset[r].as_deref().unwrap_or_default())?,
                    arch_index: index[r].unwrap_or_default(),
                    arch: arch[r].clone().unwrap_or_default(),
                    hp: hp[r].clone().unwrap_or_default(),
                    test_acc: test[r],
                    valid_acc: valid[r],
                    valtest_acc: valtest[r],
                    train_acc: train[r],
                    params_m: params[r],
                    flops_m: flops[r],
                    latency_s: lat[r],
                })
            })
            .collect()
    }
}

/// The manifest of `tables` used as one ([`ProxyTable::concat`]).
fn merged_manifest(tables: &[ProxyTable]) -> Result<Option<Manifest>> {
    if tables.iter().all(|t| t.config.is_none()) {
        return Ok(None);
    }
    if let Some(t) = tables.iter().find(|t| t.config.is_none()) {
        return Err(invalid(
            &t.source,
            "not a greenfactory extraction and the other tables are: their values are not comparable",
        ));
    }
    let manifests: Vec<Manifest> = tables.iter().filter_map(|t| t.config.clone()).collect();
    Manifest::merge(&manifests).map_err(|e| {
        invalid(
            &tables[e.position].source,
            format!(
                "made with a different {} than {}: their values are not comparable",
                e.field, tables[0].source
            ),
        )
    })
}

/// Whether a row has its whole vector: `ok`, or `failed` (some proxy has no value; the reason
/// is in the row's `error`). Stored under these names in extraction chunks and in the proxy
/// schema's `status` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowStatus {
    Ok,
    Failed,
}

impl RowStatus {
    /// The text of the `status` column.
    pub fn name(self) -> &'static str {
        match self {
            RowStatus::Ok => "ok",
            RowStatus::Failed => "failed",
        }
    }
}

/// One arch's row as a table writer produces it: the arch, one value per proxy (`None` where
/// the proxy has none) and why a value is missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProxyRow<'a> {
    /// Official index.
    pub index: usize,
    pub arch: &'a str,
    pub values: &'a [Option<f64>],
    pub status: RowStatus,
    /// The first missing value's reason, `proxy: reason` (empty when none is missing).
    pub error: &'a str,
}

impl ProxyTable {
    /// The rows as a Polars frame, read-only: the schema is the table's to keep.
    pub fn frame(&self) -> &DataFrame {
        &self.df
    }

    /// A table of `proxies` of one space and dataset in the proxy schema (the key columns, one
    /// column per proxy in the given order, `status` and `error`), checked as a table that is
    /// read ([`ProxyTable::from_df`]). Every row must hold one value per proxy.
    pub fn from_rows<'a>(
        space: Space,
        dataset: NatsDataset,
        proxies: &[String],
        rows: &[ProxyRow<'a>],
        config: Option<Manifest>,
        source: &str,
    ) -> Result<ProxyTable> {
        if let Some(r) = rows.iter().find(|r| r.values.len() != proxies.len()) {
            return Err(invalid(
                source,
                format!(
                    "arch {} has {} values for {} proxies",
                    r.index,
                    r.values.len(),
                    proxies.len()
                ),
            ));
        }
        let n = rows.len();
        let mut cols = vec![
            Column::new("space".into(), vec![space.name(); n]),
            Column::new("dataset".into(), vec![dataset.name(); n]),
            Column::new(
                "arch_index".into(),
                rows.iter().map(|r| r.index as i64).collect::<Vec<_>>(),
            ),
            Column::new(
                "arch".into(),
                rows.iter().map(|r| r.arch).collect::<Vec<_>>(),
            ),
        ];
        for (j, name) in proxies.iter().enumerate() {
            let v: Vec<Option<f64>> = rows.iter().map(|r| r.values[j]).collect();
            cols.push(Column::new(name.as_str().into(), v));
        }
        cols.push(Column::new(
            "status".into(),
            rows.iter().map(|r| r.status.name()).collect::<Vec<_>>(),
        ));
        cols.push(Column::new(
            "error".into(),
            rows.iter().map(|r| r.error).collect::<Vec<_>>(),
        ));
        let df = DataFrame::new(n, cols).map_err(pe(source))?;
        ProxyTable::from_df(df, config, source)
    }

    /// Validates and normalises a data frame with the proxy schema: key columns present and
    /// non-null, dataset names normalised, every feature column numeric (cast to f64),
    /// `status`/`error` strings if present.
    pub fn from_df(df: DataFrame, config: Option<Manifest>, source: &str) -> Result<ProxyTable> {
        require(&df, &PROXY_KEY_COLUMNS, source, "proxy")?;
        let (space, dataset, index, arch) = key_columns(&df, source)?;
        let n = df.height();
        let mut cols = vec![
            str_column("space", space),
            str_column("dataset", dataset),
            Column::new("arch_index".into(), index),
            str_column("arch", arch),
        ];
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut n_features = 0;
        for name in &names {
            if PROXY_KEY_COLUMNS.contains(&name.as_str()) || STATUS_COLUMNS.contains(&name.as_str())
            {
                continue;
            }
            cols.push(Column::new(
                name.as_str().into(),
                f64_col(&df, name, source)?,
            ));
            n_features += 1;
        }
        if n_features == 0 {
            return Err(invalid(source, "proxy table has no feature columns"));
        }
        for name in STATUS_COLUMNS {
            if names.iter().any(|c| c == name) {
                cols.push(Column::new(name.into(), str_col(&df, name, source)?));
            }
        }
        let df = DataFrame::new(n, cols).map_err(pe(source))?;
        Ok(ProxyTable {
            df,
            config,
            source: source.to_string(),
        })
    }

    pub fn height(&self) -> usize {
        self.df.height()
    }

    /// The rows of `tables`, one table after the other, as one table. The tables must have the
    /// same columns and be extractions whose values are comparable ([`Manifest::merge`]: the
    /// result's manifest lists their archs one after the other and merges their device kinds),
    /// or all be external tables; duplicate archs are left to [`join`] to refuse.
    pub fn concat(tables: &[ProxyTable]) -> Result<ProxyTable> {
        let Some((first, rest)) = tables.split_first() else {
            return Err(invalid(MEMORY, "no proxy tables to put together"));
        };
        let config = merged_manifest(tables)?;
        let columns: Vec<String> = first
            .df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let mut df = first.df.clone();
        for t in rest {
            let mut theirs: Vec<String> =
                t.df.get_column_names()
                    .iter()
                    .map(|c| c.to_string())
                    .collect();
            let mut ours = columns.clone();
            theirs.sort();
            ours.sort();
            if theirs != ours {
                return Err(invalid(
                    &t.source,
                    format!(
                        "its columns differ from those of {} ({} vs {})",
                        first.source,
                        t.feature_names().join(","),
                        first.feature_names().join(",")
                    ),
                ));
            }
            let aligned =
                t.df.select(columns.iter().map(String::as_str))
                    .map_err(pe(&t.source))?;
            df.vstack_mut(&aligned).map_err(pe(&t.source))?;
        }
        let sources: Vec<&str> = tables.iter().map(|t| t.source.as_str()).collect();
        Ok(ProxyTable {
            df,
            config,
            source: sources.join(" + "),
        })
    }

    /// The table with only the key columns, the features `only` (in that order) and the status
    /// columns. A name that is not a feature of the table is an error listing the features.
    pub fn select_features(&self, only: &[String]) -> Result<ProxyTable> {
        let have = self.feature_names();
        if let Some(f) = only.iter().find(|f| !have.contains(f)) {
            return Err(invalid(
                &self.source,
                format!(
                    "{f:?} is not a feature of the table (has {})",
                    have.join(", ")
                ),
            ));
        }
        let present = |c: &&str| self.df.get_column_names().iter().any(|n| n.as_str() == *c);
        let cols: Vec<&str> = PROXY_KEY_COLUMNS
            .iter()
            .copied()
            .chain(only.iter().map(String::as_str))
            .chain(STATUS_COLUMNS.iter().copied().filter(present))
            .collect();
        Ok(ProxyTable {
            df: self.df.select(cols).map_err(pe(&self.source))?,
            config: self.config.clone(),
            source: self.source.clone(),
        })
    }

    /// The search space of the table's first row (the join checks that no row differs).
    pub fn space(&self) -> Result<Space> {
        let p = &self.source;
        let spaces = str_col(&self.df, "space", p)?;
        let Some(Some(first)) = spaces.first() else {
            return Err(invalid(p, "no rows"));
        };
        first.parse().map_err(|e| invalid(p, format!("row 0: {e}")))
    }

    /// Each row's arch, parsed from its `space` and `arch` columns; the error names the row.
    fn archs(&self) -> Result<Vec<crate::space::Arch>> {
        let p = &self.source;
        let spaces = str_col(&self.df, "space", p)?;
        let archs = str_col(&self.df, "arch", p)?;
        spaces
            .iter()
            .zip(&archs)
            .enumerate()
            .map(|(r, (sp, arch))| {
                let space: Space = sp
                    .as_deref()
                    .unwrap_or_default()
                    .parse()
                    .map_err(|e| invalid(p, format!("row {r}, column \"space\": {e}")))?;
                space
                    .parse(arch.as_deref().unwrap_or_default())
                    .map_err(|e| invalid(p, format!("row {r}, column \"arch\": {e}")))
            })
            .collect()
    }

    /// The table with `columns` (name, one value per row) appended as feature columns.
    fn with_columns<'n>(
        &self,
        columns: impl IntoIterator<Item = (&'n str, Vec<f64>)>,
    ) -> Result<ProxyTable> {
        let mut df = self.df.clone();
        for (n, c) in columns {
            df.with_column(Column::new(n.into(), c))
                .map_err(pe(&self.source))?;
        }
        Ok(ProxyTable {
            df,
            config: self.config.clone(),
            source: self.source.clone(),
        })
    }

    /// The table with the exact arch features of its space ([`crate::space::features`])
    /// appended as feature columns, computed from each row's `arch` string (a table that has
    /// them all is returned as it is). A table that has some of those columns, mixes spaces, or
    /// holds an arch string that does not parse is refused, naming the row.
    pub fn with_arch_features(&self) -> Result<ProxyTable> {
        let p = &self.source;
        if self.height() == 0 {
            return Err(invalid(p, "no rows to compute arch features for"));
        }
        let space = self.space()?;
        let names = crate::space::features::arch_feature_names(space);
        let have = self.feature_names();
        if names.iter().all(|n| have.contains(n)) {
            return Ok(self.clone());
        }
        if let Some(n) = names.iter().find(|n| have.contains(n)) {
            return Err(invalid(
                p,
                format!("already has a column {n:?}: its arch features would clash"),
            ));
        }
        let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(self.height()); names.len()];
        for (r, a) in self.archs()?.iter().enumerate() {
            if a.space() != space {
                return Err(invalid(
                    p,
                    format!(
                        "row {r}: space {} in a {space} table; arch features need one space",
                        a.space()
                    ),
                ));
            }
            for (c, v) in cols.iter_mut().zip(a.features()) {
                c.push(v);
            }
        }
        self.with_columns(names.iter().map(String::as_str).zip(cols))
    }

    /// The table with those of `wanted` that are topology or size counts
    /// ([`crate::space::counts`]) and that it lacks, computed from its arch strings: exactly
    /// the values an extraction writes for them, so a table of one's own needs only the
    /// measured proxies.
    pub fn with_counts(&self, wanted: &[String]) -> Result<ProxyTable> {
        let have = self.feature_names();
        let missing: Vec<&'static crate::space::counts::Topo> = wanted
            .iter()
            .filter(|n| !have.contains(n))
            .filter_map(|n| crate::space::counts::count_by_name(n))
            .collect();
        if missing.is_empty() {
            return Ok(self.clone());
        }
        let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(self.height()); missing.len()];
        for a in self.archs()? {
            for (c, t) in cols.iter_mut().zip(&missing) {
                c.push(t.value(&a).unwrap_or(f64::NAN));
            }
        }
        self.with_columns(missing.iter().map(|t| t.name).zip(cols))
    }

    /// Feature column names, in table order.
    pub fn feature_names(&self) -> Vec<String> {
        self.df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .filter(|c| {
                !PROXY_KEY_COLUMNS.contains(&c.as_str()) && !STATUS_COLUMNS.contains(&c.as_str())
            })
            .collect()
    }

    /// One feature column as f64 values (null → `None`), in row order.
    pub fn feature(&self, name: &str) -> Result<Vec<Option<f64>>> {
        f64_col(&self.df, name, &self.source)
    }

    /// The `arch_index` column, in row order.
    pub fn arch_indices(&self) -> Result<Vec<i64>> {
        Ok(i64_col(&self.df, "arch_index", &self.source)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect())
    }

    /// Distinct (normalised) datasets, sorted.
    pub fn datasets(&self) -> Result<Vec<String>> {
        let mut d: Vec<String> = str_col(&self.df, "dataset", &self.source)?
            .into_iter()
            .flatten()
            .collect();
        d.sort();
        d.dedup();
        Ok(d)
    }

    /// The rows of one dataset.
    pub fn filter_dataset(&self, dataset: &str) -> Result<ProxyTable> {
        let ds = normalize_dataset(dataset)?;
        let mask: BooleanChunked = str_col(&self.df, "dataset", &self.source)?
            .iter()
            .map(|d| d.as_deref() == Some(ds))
            .collect();
        let df = self.df.filter(&mask).map_err(pe(&self.source))?;
        Ok(ProxyTable {
            df,
            config: self.config.clone(),
            source: self.source.clone(),
        })
    }
}
