//! Reading and writing label/proxy tables (Parquet, CSV), the known source CSV layouts, and the
//! import entry points the CLI calls.

use super::{
    f64_col, i64_col, invalid, normalize_dataset, parse_dataset, pe, str_col, ImportSummary,
    LabelRow, LabelTable, ProxyTable, Result, TableError, PROXY_CONFIG_KEY,
};
use crate::provenance::{Accuracy, Manifest};
use crate::space::{Arch, NatsDataset, Space};
use polars::prelude::*;
use std::path::Path;

/// Either kind of table, as recognised by [`read_any`].
#[derive(Debug, Clone)]
// One value per file read: the size difference costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum AnyTable {
    Labels(LabelTable),
    Proxies(ProxyTable),
}

fn disp(p: &Path) -> String {
    p.display().to_string()
}

#[derive(PartialEq)]
enum Ext {
    Parquet,
    Csv,
    /// NAS-Bench-Macro's benchmark file.
    Json,
}

fn ext(path: &Path) -> Result<Ext> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("parquet") | Some("pq") => Ok(Ext::Parquet),
        Some("csv") => Ok(Ext::Csv),
        Some("json") => Ok(Ext::Json),
        _ => Err(TableError::UnknownExtension { path: disp(path) }),
    }
}

fn open(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|source| TableError::Io {
        path: disp(path),
        source,
    })
}

/// Reads a Parquet file and its proxy configuration metadata, if any.
fn read_parquet(path: &Path) -> Result<(DataFrame, Option<Manifest>)> {
    let p = disp(path);
    let mut reader = ParquetReader::new(open(path)?);
    let config = reader
        .get_metadata()
        .map_err(pe(&p))?
        .key_value_metadata()
        .as_ref()
        .and_then(|kv| kv.iter().find(|k| k.key == PROXY_CONFIG_KEY))
        .and_then(|k| k.value.clone())
        .map(|text| {
            Manifest::from_json(&text)
                .map_err(|e| invalid(&p, format!("unreadable proxy configuration ({e})")))
        })
        .transpose()?;
    let df = reader.finish().map_err(pe(&p))?;
    Ok((df, config))
}

fn read_csv(path: &Path) -> Result<DataFrame> {
    let p = disp(path);
    // Fail early with our own message: polars' message for a missing file is less specific.
    open(path)?;
    // Spreadsheets and pandas write a missing value as NA, N/A, nan or an empty cell.
    let missing = ["NA", "N/A", "nan", "NaN", "null", "None"].map(PlSmallStr::from);
    // Arch columns are text even when they look like numbers (Macro keys: `00000012`).
    let header = {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(open(path)?)
            .read_line(&mut line)
            .map_err(|source| TableError::Io {
                path: p.clone(),
                source,
            })?;
        line
    };
    let text_columns: Schema = header
        .trim_end()
        .split(',')
        .map(|h| h.trim().trim_matches('"'))
        .filter(|h| PLAIN_ARCH.contains(h))
        .map(|h| Field::new(h.into(), DataType::String))
        .collect();
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .with_schema_overwrite(Some(std::sync::Arc::new(text_columns)))
        .map_parse_options(|o| o.with_null_values(Some(NullValues::AllColumns(missing.to_vec()))))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .map_err(pe(&p))?
        .finish()
        .map_err(pe(&p))
}

fn read_frame(path: &Path) -> Result<(DataFrame, Option<Manifest>)> {
    match ext(path)? {
        Ext::Parquet => read_parquet(path),
        Ext::Csv => Ok((read_csv(path)?, None)),
        Ext::Json if is_nb301_json(path)? => Ok((read_nb301_json(path)?, None)),
        Ext::Json => Ok((read_macro_json(path)?, None)),
    }
}

/// The two NAS-Bench-301 files of PROVENANCE §14 (NAS-Bench-Suite-Zero's, 725 and 500 archs):
/// one benchmark split over two files.
const NB301_FILES: [&str; 2] = [
    "zc_nasbench301_suite_zero_725.json",
    "zc_nasbench301_suite_zero_500.json",
];

/// Whether `path` is a NAS-Bench-301 file of Suite-Zero's (its top-level key is `cifar10` or
/// `nasbench301`), told from its first bytes.
fn is_nb301_json(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut head = [0u8; 64];
    let n = open(path)?
        .read(&mut head)
        .map_err(|source| TableError::Io {
            path: disp(path),
            source,
        })?;
    let head = String::from_utf8_lossy(&head[..n]);
    let key = head.trim_start().trim_start_matches('{').trim_start();
    Ok(key.starts_with("\"cifar10\"") || key.starts_with("\"nasbench301\""))
}

/// (genotype in NASLib's compact form, validation accuracy, params in millions) of one file.
fn nb301_records(path: &Path) -> Result<Vec<(String, f64, Option<f64>)>> {
    let p = disp(path);
    let text = std::fs::read_to_string(path).map_err(|source| TableError::Io {
        path: p.clone(),
        source,
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid(&p, format!("not JSON: {e}")))?;
    let score = |x: &serde_json::Value| x.as_f64().or_else(|| x.get("score")?.as_f64());
    let (records, keyed_by_arch) = match (v.get("nasbench301"), v.get("cifar10")) {
        (Some(n), _) => (n.get("cifar10"), true),
        (None, Some(c)) => (Some(c), false),
        _ => (None, false),
    };
    let records = records.and_then(|r| r.as_object()).ok_or_else(|| {
        invalid(&p, "not a NAS-Bench-301 file of Suite-Zero's ({\"cifar10\": {key: {arch, val_accuracy, …}}} or {\"nasbench301\": {\"cifar10\": {arch: {…}}}})")
    })?;
    records
        .iter()
        .map(|(key, r)| {
            let arch = if keyed_by_arch {
                key.clone()
            } else {
                r.get("arch")
                    .and_then(|a| a.as_str())
                    .ok_or_else(|| invalid(&p, format!("record {key}: no arch")))?
                    .to_string()
            };
            let acc = r
                .get("val_accuracy")
                .and_then(score)
                .ok_or_else(|| invalid(&p, format!("record {key}: no val_accuracy")))?;
            Ok((arch, acc, r.get("params").and_then(score)))
        })
        .collect()
}

/// NAS-Bench-301's labels as NAS-Bench-Suite-Zero recorded them (PROVENANCE §14: DARTS
/// genotypes in NASLib's compact form with NAS-Bench-301's surrogate validation accuracy) as a
/// label table: space `darts`, dataset `cifar10`, hp "nb301", `valid_acc`. Reading one of the
/// two files reads the other too when it lies beside it (one benchmark, two files); an arch
/// in both (7) gets the mean of its two values (they differ by 0.01–0.09 points).
fn read_nb301_json(path: &Path) -> Result<DataFrame> {
    let mut paths = vec![path.to_path_buf()];
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if let Some(k) = NB301_FILES.iter().position(|f| *f == name) {
        let other = path.with_file_name(NB301_FILES[1 - k]);
        if other.is_file() {
            paths.push(other);
        }
    }
    let mut by_arch: std::collections::BTreeMap<usize, (String, Vec<f64>, Option<f64>)> =
        Default::default();
    for file in &paths {
        let p = disp(file);
        for (key, acc, params) in nb301_records(file)? {
            let arch = Space::Darts
                .parse(&key)
                .map_err(|e| invalid(&p, format!("arch {}: {e}", shown_key(&key))))?;
            let e = by_arch
                .entry(arch.index())
                .or_insert_with(|| (arch.to_string(), Vec::new(), params));
            e.1.push(acc);
        }
    }
    let rows: Vec<LabelRow> = by_arch
        .into_iter()
        .map(|(index, (arch, accs, params))| LabelRow {
            space: Space::Darts,
            dataset: NatsDataset::Cifar10,
            arch_index: index as i64,
            arch,
            hp: Space::Darts.final_hp().into(),
            test_acc: None,
            valid_acc: Some(accs.iter().sum::<f64>() / accs.len() as f64),
            valtest_acc: None,
            train_acc: None,
            params_m: params,
            flops_m: None,
            latency_s: None,
        })
        .collect();
    let mut t = LabelTable::from_rows(&rows)?;
    t.source = paths
        .iter()
        .map(|p| disp(p))
        .collect::<Vec<_>>()
        .join(" + ");
    Ok(t.df)
}

fn shown_key(key: &str) -> String {
    key.chars().take(60).collect()
}

/// One arch of NAS-Bench-Macro's benchmark file.
#[derive(serde::Deserialize)]
struct MacroRecord {
    test_acc: Vec<f64>,
    mean_acc: f64,
    std: f64,
    params: f64,
    flops: f64,
}

/// The own label columns of a NAS-Bench-Macro label table beside `test_acc` (the mean of the
/// three seeds): each seed's CIFAR-10 test accuracy and their standard deviation.
pub const MACRO_LABEL_COLUMNS: [&str; 4] = [
    "test_acc_seed0",
    "test_acc_seed1",
    "test_acc_seed2",
    "test_acc_std",
];

/// NAS-Bench-Macro's benchmark file (`nas-bench-macro_cifar10.json`, PROVENANCE §12: arch key →
/// three CIFAR-10 test accuracies, their mean and std, params, FLOPs) as a label table: space
/// `macro`, dataset `cifar10`, `test_acc` the 3-seed mean, each seed and the std as own label
/// columns ([`MACRO_LABEL_COLUMNS`]), `params_m`/`flops_m` in millions. Every key must be an
/// arch of the space.
fn read_macro_json(path: &Path) -> Result<DataFrame> {
    let p = disp(path);
    let text = std::fs::read_to_string(path).map_err(|source| TableError::Io {
        path: p.clone(),
        source,
    })?;
    let records: std::collections::BTreeMap<String, MacroRecord> = serde_json::from_str(&text)
        .map_err(|e| {
            invalid(
                &p,
                format!("not NAS-Bench-Macro's benchmark file (arch key → {{test_acc: [3 seeds], mean_acc, std, params, flops}}): {e}"),
            )
        })?;
    let mut rows = Vec::with_capacity(records.len());
    let mut own: Vec<Vec<f64>> = (0..4).map(|_| Vec::with_capacity(records.len())).collect();
    for (key, r) in &records {
        let arch = Space::Macro
            .parse(key)
            .map_err(|e| invalid(&p, format!("key {key:?}: {e}")))?;
        let [s0, s1, s2] = r.test_acc[..] else {
            return Err(invalid(
                &p,
                format!(
                    "{key}: {} test accuracies, expected 3 seeds",
                    r.test_acc.len()
                ),
            ));
        };
        for (col, v) in own.iter_mut().zip([s0, s1, s2, r.std]) {
            col.push(v);
        }
        rows.push(LabelRow {
            space: Space::Macro,
            dataset: NatsDataset::Cifar10,
            arch_index: arch.index() as i64,
            arch: arch.to_string(),
            hp: Space::Macro.final_hp().into(),
            test_acc: Some(r.mean_acc),
            valid_acc: None,
            valtest_acc: None,
            train_acc: None,
            params_m: Some(r.params / 1e6),
            flops_m: Some(r.flops / 1e6),
            latency_s: None,
        });
    }
    let mut df = LabelTable::from_rows(&rows)?.df;
    for (name, values) in MACRO_LABEL_COLUMNS.iter().zip(own) {
        df.with_column(Column::new((*name).into(), values))
            .map_err(pe(&p))?;
    }
    Ok(df)
}

/// The own label columns of a NAS-Bench-101 label table beside `valid_acc` (the 108-epoch
/// value): the same run's validation accuracy after 4, 12 and 36 epochs.
pub const NB101_LABEL_COLUMNS: [&str; 3] = ["valid_acc_e4", "valid_acc_e12", "valid_acc_e36"];

fn is_nb101(df: &DataFrame) -> bool {
    ["module_hash", "matrix", "ops", "valid_acc_e108"]
        .iter()
        .all(|c| has(df, c))
}

/// The NAS-Bench-101 label CSV (`nasbench101/nb101_valid_acc_30k.csv`, PROVENANCE §13: module
/// hash, matrix, ops, one run's validation accuracy at 4, 12, 36 and 108 epochs, params) as a
/// label table: space `nb101`, dataset `cifar10`, hp "108", `valid_acc` the 108-epoch value,
/// the shorter budgets as own label columns ([`NB101_LABEL_COLUMNS`]). Each cell must parse,
/// and its module hash must be the one recorded.
fn nb101_to_labels(df: &DataFrame, p: &str) -> Result<LabelTable> {
    let hash = str_col(df, "module_hash", p)?;
    let matrix = str_col(df, "matrix", p)?;
    let ops = str_col(df, "ops", p)?;
    let acc = f64_col(df, "valid_acc_e108", p)?;
    let params = f64_col(df, "params", p).ok();
    let mut rows = Vec::with_capacity(df.height());
    let mut seen = std::collections::HashMap::new();
    for r in 0..df.height() {
        let (Some(h), Some(m), Some(o)) = (&hash[r], &matrix[r], &ops[r]) else {
            return Err(invalid(
                p,
                format!("row {r}: null module_hash, matrix or ops"),
            ));
        };
        let arch = Space::Nb101
            .parse(&format!("{m};{o}"))
            .map_err(|e| invalid(p, format!("row {r} ({h}): {e}")))?;
        let Arch::Nb101(cell) = arch else {
            unreachable!("an nb101 string parses to an nb101 arch")
        };
        if cell.module_hash() != *h {
            return Err(invalid(
                p,
                format!(
                    "row {r}: the cell's module hash is {}, not {h}",
                    cell.module_hash()
                ),
            ));
        }
        if let Some(prev) = seen.insert(arch.index(), r) {
            return Err(invalid(
                p,
                format!("rows {prev} and {r} hold the same cell"),
            ));
        }
        rows.push(LabelRow {
            space: Space::Nb101,
            dataset: NatsDataset::Cifar10,
            arch_index: arch.index() as i64,
            arch: arch.to_string(),
            hp: Space::Nb101.final_hp().into(),
            test_acc: None,
            valid_acc: Some(
                acc[r].ok_or_else(|| invalid(p, format!("row {r}: null valid_acc_e108")))?,
            ),
            valtest_acc: None,
            train_acc: None,
            params_m: params.as_ref().and_then(|c| c[r]).map(|v| v / 1e6),
            flops_m: None,
            latency_s: None,
        });
    }
    let mut t = LabelTable::from_rows(&rows)?;
    for name in NB101_LABEL_COLUMNS {
        let values = f64_col(df, name, p)?;
        t.df.with_column(Column::new(name.into(), values))
            .map_err(pe(p))?;
    }
    t.source = p.to_string();
    Ok(t)
}

use super::has_column as has;

/// Column names of the official TSS label CSV (PROVENANCE §1), with their datasets.
const TSS_WIDE: [(&str, &str); 3] = [
    ("cifar10_test_acc", "cifar10"),
    ("cifar100_test_acc", "cifar100"),
    ("imagenet16_120_test_acc", "imagenet16-120"),
];

fn is_tss_wide(df: &DataFrame) -> bool {
    has(df, "index") && has(df, "arch_str") && TSS_WIDE.iter().any(|(c, _)| has(df, c))
}

/// Column names of the SSS validation-accuracy CSV (PROVENANCE §11), with their datasets.
const SSS_WIDE: [(&str, &str); 3] = [
    ("cifar10_valid_acc", "cifar10"),
    ("cifar100_valid_acc", "cifar100"),
    ("imagenet16_120_valid_acc", "imagenet16-120"),
];

fn is_sss_wide(df: &DataFrame) -> bool {
    has(df, "index") && has(df, "arch_str") && SSS_WIDE.iter().any(|(c, _)| has(df, c))
}

/// Whether `df` has the label schema's keys and an accuracy column.
fn is_label_schema(df: &DataFrame) -> bool {
    has(df, "arch_index") && super::TARGET_COLUMNS.iter().any(|c| has(df, c))
}

fn is_suite_zero(df: &DataFrame) -> bool {
    has(df, "nats_index") && has(df, "arch_str")
}

/// The layouts a table file can have, told by its columns alone. Every reader asks [`sniff`],
/// so that one file is read as the same kind everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileLayout {
    /// The official TSS label CSV (`index, arch_str`, one test-accuracy column per dataset).
    TssWide,
    /// The SSS validation-accuracy CSV (PROVENANCE §11).
    SssWide,
    /// The NAS-Bench-101 label CSV (PROVENANCE §13).
    Nb101,
    /// `arch_index` and an accuracy column; `keyed`: with every key column of the schema.
    LabelSchema { keyed: bool },
    /// A NAS-Bench-Suite-Zero joined CSV (`nats_index, arch_str` and proxy columns).
    SuiteZero,
    /// Every key column of the proxy schema.
    ProxySchema,
    /// An arch or index column and other columns: a user's own table.
    Plain,
    /// None of the above.
    Other,
}

fn sniff(df: &DataFrame) -> FileLayout {
    let keyed = super::PROXY_KEY_COLUMNS.iter().all(|c| has(df, c));
    if is_tss_wide(df) {
        FileLayout::TssWide
    } else if is_sss_wide(df) {
        FileLayout::SssWide
    } else if is_nb101(df) {
        FileLayout::Nb101
    } else if is_label_schema(df) {
        FileLayout::LabelSchema { keyed }
    } else if is_suite_zero(df) {
        FileLayout::SuiteZero
    } else if keyed {
        FileLayout::ProxySchema
    } else if is_plain(df) {
        FileLayout::Plain
    } else {
        FileLayout::Other
    }
}

/// Reads any supported table file: `.parquet` or `.csv` with the label schema (an accuracy
/// column such as `test_acc` or `valid_acc`), the proxy schema, the official TSS label CSV, the
/// SSS validation-accuracy CSV or a Suite-Zero joined CSV. Unknown extensions are an error.
pub fn read_any(path: &Path) -> Result<AnyTable> {
    let (df, config) = read_frame(path)?;
    let p = disp(path);
    Ok(match sniff(&df) {
        FileLayout::TssWide => AnyTable::Labels(tss_wide_to_long(&df, &p, "200")?),
        FileLayout::SssWide => AnyTable::Labels(sss_wide_to_long(&df, &p)?),
        FileLayout::Nb101 => AnyTable::Labels(nb101_to_labels(&df, &p)?),
        FileLayout::SuiteZero => {
            let ds = dataset_from_file_name(path)?;
            AnyTable::Proxies(suite_zero_to_proxies(&df, ds, &p)?)
        }
        FileLayout::LabelSchema { .. } => AnyTable::Labels(LabelTable::from_df(df, &p)?),
        FileLayout::ProxySchema | FileLayout::Plain | FileLayout::Other => {
            AnyTable::Proxies(ProxyTable::from_df(df, config, &p)?)
        }
    })
}

/// Reads a label table (label schema in Parquet/CSV, the official TSS label CSV or the SSS
/// validation-accuracy CSV).
pub fn read_labels(path: &Path) -> Result<LabelTable> {
    match read_any(path)? {
        AnyTable::Labels(l) => Ok(l),
        AnyTable::Proxies(_) => Err(invalid(
            &disp(path),
            "expected a label table (arch_index and an accuracy column such as test_acc or valid_acc), found a proxy table",
        )),
    }
}

/// Reads labels in any layout: the files [`read_labels`] reads, or a plain label file of the
/// user's own (an arch column `arch`/`arch_str` and/or `index`/`arch_index`, optional `space`
/// and `dataset` columns, and numeric label columns, e.g. `arch,my_acc`), with `layout` saying
/// the space and dataset it does not. A plain file's columns keep their names: `test_acc` is
/// read as a test accuracy, any other name as the user's own label; their `hp` is unknown.
/// Labels may cover any subset of the archs.
pub fn read_labels_as(path: &Path, layout: &PlainLayout) -> Result<LabelTable> {
    let (df, _) = read_frame(path)?;
    let p = disp(path);
    match sniff(&df) {
        FileLayout::TssWide => return tss_wide_to_long(&df, &p, "200"),
        FileLayout::SssWide => return sss_wide_to_long(&df, &p),
        FileLayout::Nb101 => return nb101_to_labels(&df, &p),
        FileLayout::LabelSchema { keyed: true } => return LabelTable::from_df(df, &p),
        FileLayout::Other => {
            return Err(invalid(
                &p,
                "not a label table: it needs an arch column (arch, arch_str, index or arch_index) and label columns",
            ))
        }
        // A plain file (or another table given as labels): its numeric columns are labels.
        FileLayout::LabelSchema { keyed: false }
        | FileLayout::SuiteZero
        | FileLayout::ProxySchema
        | FileLayout::Plain => {}
    }
    let keyed = plain_to_proxies(&df, layout, &p)?;
    let mut ldf = keyed.df.drop_many(super::STATUS_COLUMNS);
    let n = ldf.height();
    ldf.with_column(Column::new("hp".into(), vec![""; n]))
        .map_err(pe(&p))?;
    LabelTable::from_df(ldf, &p)
}

/// Reads a proxy table (proxy schema in Parquet/CSV, or a Suite-Zero joined CSV).
pub fn read_proxies(path: &Path) -> Result<ProxyTable> {
    match read_any(path)? {
        AnyTable::Proxies(p) => Ok(p),
        AnyTable::Labels(_) => Err(invalid(
            &disp(path),
            "expected a proxy table, found a label table (it has an accuracy column)",
        )),
    }
}

/// The official TSS label CSV (`nats_tss/nats_tss_test_acc_hp200.csv`, one column per dataset)
/// as a long label table with hp "200"; its row index must be the NATS index and the arch string
/// the official one (both checked).
pub fn read_tss_label_csv(path: &Path) -> Result<LabelTable> {
    let df = read_csv(path)?;
    let p = disp(path);
    if !is_tss_wide(&df) {
        return Err(invalid(
            &p,
            "not the TSS label CSV (needs index, arch_str and <dataset>_test_acc columns)",
        ));
    }
    tss_wide_to_long(&df, &p, "200")
}

fn tss_wide_to_long(df: &DataFrame, p: &str, hp: &str) -> Result<LabelTable> {
    wide_to_long(df, p, Space::Tss, hp, &TSS_WIDE, Accuracy::Test)
}

/// The SSS validation-accuracy CSV (`nats_sss/nats_sss_valid_acc_hp90.csv`, one column per
/// dataset: final-epoch `x-valid` accuracy after 90 epochs, seed 777) as a long label table with
/// hp "90" and the values in `valid_acc` (`test_acc` null: these are not test accuracies); its
/// row index must be the NATS index and the arch string the official one (both checked).
fn sss_wide_to_long(df: &DataFrame, p: &str) -> Result<LabelTable> {
    let hp = Space::Sss.final_hp();
    wide_to_long(df, p, Space::Sss, hp, &SSS_WIDE, Accuracy::Valid)
}

/// A wide label CSV of `space` (`index, arch_str` and one accuracy column per dataset, named by
/// `columns`) as a long label table with `hp`, the values stored as accuracy `acc`.
fn wide_to_long(
    df: &DataFrame,
    p: &str,
    space: Space,
    hp: &str,
    columns: &[(&str, &str)],
    acc: Accuracy,
) -> Result<LabelTable> {
    let index = i64_col(df, "index", p)?;
    let arch = str_col(df, "arch_str", p)?;
    let mut rows = Vec::with_capacity(df.height() * columns.len());
    for &(col, ds) in columns {
        if !has(df, col) {
            continue;
        }
        let values = f64_col(df, col, p)?;
        for r in 0..df.height() {
            let (Some(i), Some(a)) = (index[r], &arch[r]) else {
                return Err(invalid(p, format!("row {r}: null index or arch_str")));
            };
            check_arch(space, i, a, p)?;
            let v = Some(
                values[r]
                    .ok_or_else(|| invalid(p, format!("row {r}: null {col} (arch_index {i})")))?,
            );
            rows.push(LabelRow {
                space,
                dataset: parse_dataset(ds)?,
                arch_index: i,
                arch: a.clone(),
                hp: hp.into(),
                test_acc: v.filter(|_| acc == Accuracy::Test),
                valid_acc: v.filter(|_| acc == Accuracy::Valid),
                valtest_acc: None,
                train_acc: None,
                params_m: None,
                flops_m: None,
                latency_s: None,
            });
        }
    }
    let mut t = LabelTable::from_rows(&rows)?;
    t.source = p.to_string();
    Ok(t)
}

/// Checks that `arch` is the official arch string of `index` in `space`.
pub(crate) fn check_arch(space: Space, index: i64, arch: &str, p: &str) -> Result<()> {
    let official = usize::try_from(index)
        .ok()
        .and_then(|i| space.arch(i).ok())
        .ok_or_else(|| invalid(p, format!("arch_index {index} out of range for {space}")))?;
    if official.to_string() != arch {
        return Err(invalid(
            p,
            format!(
                "arch_index {index} is {official} in the official {space} order, not {:?}",
                arch.chars().take(120).collect::<String>()
            ),
        ));
    }
    Ok(())
}

/// The dataset of a Suite-Zero file from its name (`nb201_cifar10_…`, `…imagenet16_120…`).
fn dataset_from_file_name(path: &Path) -> Result<&'static str> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let ds = if name.contains("imagenet16") {
        "imagenet16-120"
    } else if name.contains("cifar100") {
        "cifar100"
    } else if name.contains("cifar10") {
        "cifar10"
    } else {
        return Err(invalid(
            &disp(path),
            "cannot tell the dataset from the file name (use read_suite_zero_csv with a dataset)",
        ));
    };
    Ok(ds)
}

/// Columns of the Suite-Zero joined CSVs that are not proxies.
const SUITE_ZERO_NON_FEATURES: [&str; 5] = [
    "nats_index",
    "arch_str",
    "naslib_net",
    "naslib_val_acc",
    "nats_test_acc_hp200",
];

/// One arch's row of NASLib's per-proxy CPU timings.
#[derive(Debug, Clone, PartialEq)]
pub struct NaslibTiming {
    pub arch_index: i64,
    /// `(proxy, seconds)` for every `<proxy>_time_s` column, in file order.
    pub seconds: Vec<(String, f64)>,
}

/// NASLib's recorded CPU seconds per proxy and arch
/// (`zc_nasbench_suite_zero/naslib_zc_nasbench201_partial_1bdbd960_long.csv`, PROVENANCE §6c):
/// the rows of `dataset`, in file order, keyed by `nats_index`.
pub fn read_naslib_timings(path: &Path, dataset: &str) -> Result<Vec<NaslibTiming>> {
    let df = read_csv(path)?;
    let p = disp(path);
    let want = normalize_dataset(dataset)?;
    let datasets = str_col(&df, "dataset", &p)?;
    let index = i64_col(&df, "nats_index", &p)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .filter(|c| c.ends_with("_time_s"))
        .map(|c| c.to_string())
        .collect();
    if names.is_empty() {
        return Err(invalid(&p, "no <proxy>_time_s columns"));
    }
    let cols = names
        .iter()
        .map(|c| f64_col(&df, c, &p))
        .collect::<Result<Vec<_>>>()?;
    let mut rows = Vec::new();
    for r in 0..df.height() {
        let ds = datasets[r].as_deref().unwrap_or_default();
        if normalize_dataset(ds).ok() != Some(want) {
            continue;
        }
        let arch_index = index[r].ok_or_else(|| invalid(&p, format!("row {r}: no nats_index")))?;
        let seconds = names
            .iter()
            .zip(&cols)
            .map(|(c, v)| {
                let name = c.trim_end_matches("_time_s").to_string();
                v[r].map(|s| (name, s))
                    .ok_or_else(|| invalid(&p, format!("row {r}: no {c}")))
            })
            .collect::<Result<Vec<_>>>()?;
        rows.push(NaslibTiming {
            arch_index,
            seconds,
        });
    }
    Ok(rows)
}

/// A NAS-Bench-Suite-Zero joined CSV (`zc_nasbench_suite_zero/nb201_*_zc_proxies_joined.csv`,
/// PROVENANCE §6b) as a TSS proxy table: `nats_index` → `arch_index`, `arch_str` → `arch`, the
/// 13 proxies as features; the accuracies and NASLib columns are not features. `dataset` defaults
/// to the one named in the file name.
pub fn read_suite_zero_csv(path: &Path, dataset: Option<&str>) -> Result<ProxyTable> {
    let df = read_csv(path)?;
    let p = disp(path);
    if !is_suite_zero(&df) {
        return Err(invalid(
            &p,
            "not a Suite-Zero joined CSV (needs nats_index and arch_str)",
        ));
    }
    let ds = match dataset {
        Some(d) => normalize_dataset(d)?,
        None => dataset_from_file_name(path)?,
    };
    suite_zero_to_proxies(&df, ds, &p)
}

fn suite_zero_to_proxies(df: &DataFrame, ds: &str, p: &str) -> Result<ProxyTable> {
    let n = df.height();
    let index = i64_col(df, "nats_index", p)?;
    let arch = str_col(df, "arch_str", p)?;
    let mut idx = Vec::with_capacity(n);
    let mut archs = Vec::with_capacity(n);
    for r in 0..n {
        let (Some(i), Some(a)) = (index[r], &arch[r]) else {
            return Err(invalid(p, format!("row {r}: null nats_index or arch_str")));
        };
        check_arch(Space::Tss, i, a, p)?;
        idx.push(i);
        archs.push(a.clone());
    }
    let mut cols = vec![
        Column::new("space".into(), vec!["tss"; n]),
        Column::new("dataset".into(), vec![ds; n]),
        Column::new("arch_index".into(), idx),
        Column::new("arch".into(), archs),
    ];
    for c in df.get_column_names() {
        if !SUITE_ZERO_NON_FEATURES.contains(&c.as_str()) {
            cols.push(Column::new(c.clone(), f64_col(df, c, p)?));
        }
    }
    let out = DataFrame::new(n, cols).map_err(pe(p))?;
    ProxyTable::from_df(out, None, p)
}

/// What a plain feature table does not say itself: its space and dataset (`--space`,
/// `--dataset`). A column in the file wins over neither: a file whose `space`/`dataset`
/// column disagrees with a given value is refused.
#[derive(Debug, Clone, Default)]
pub struct PlainLayout {
    pub space: Option<Space>,
    pub dataset: Option<NatsDataset>,
}

/// Whether `df` is a plain feature table: it lacks some proxy-schema key column but has an
/// arch column (`arch`, `arch_str`) or an index column (`arch_index`, `index`).
fn is_plain(df: &DataFrame) -> bool {
    let proxy_schema = super::PROXY_KEY_COLUMNS.iter().all(|c| has(df, c));
    !proxy_schema && PLAIN_ARCH.iter().chain(&PLAIN_INDEX).any(|c| has(df, c))
}

/// Arch and index column names a plain table may use, in order of preference.
const PLAIN_ARCH: [&str; 2] = ["arch", "arch_str"];
const PLAIN_INDEX: [&str; 2] = ["arch_index", "index"];

/// A plain feature table (users' own proxies: an arch or index column and feature columns,
/// NASLib output, a spreadsheet export) as a proxy table. The arch comes from the arch string,
/// the index, or both (then they must agree); the space from a `space` column, `layout.space`,
/// or the arch strings (TSS strings start with `|`); the dataset from a `dataset` column or
/// `layout.dataset`. Every other column except `status`/`error` is a feature and must be
/// numeric. A bad row is refused with its row number (0-based, header not counted) and column.
fn plain_to_proxies(df: &DataFrame, layout: &PlainLayout, p: &str) -> Result<ProxyTable> {
    let n = df.height();
    let arch_col = PLAIN_ARCH.iter().copied().find(|c| has(df, c));
    let index_col = PLAIN_INDEX.iter().copied().find(|c| has(df, c));
    let archs = arch_col.map(|c| str_col(df, c, p)).transpose()?;
    let indices = index_col.map(|c| i64_col(df, c, p)).transpose()?;
    let spaces = has(df, "space")
        .then(|| str_col(df, "space", p))
        .transpose()?;
    let datasets = has(df, "dataset")
        .then(|| str_col(df, "dataset", p))
        .transpose()?;
    let given_ds = layout.dataset.map(NatsDataset::name);
    let mut out_space = Vec::with_capacity(n);
    let mut out_ds = Vec::with_capacity(n);
    let mut out_index = Vec::with_capacity(n);
    let mut out_arch = Vec::with_capacity(n);
    for r in 0..n {
        let bad = |col: &str, why: String| invalid(p, format!("row {r}, column {col:?}: {why}"));
        let arch_s = archs.as_ref().map(|v| v[r].clone());
        let col_space = spaces.as_ref().map(|v| v[r].clone());
        let space = match (&col_space, layout.space) {
            (Some(Some(s)), given) => {
                let s: Space = s.parse().map_err(|e| bad("space", format!("{e}")))?;
                if given.is_some_and(|g| g != s) {
                    return Err(bad(
                        "space",
                        format!("{s} but the given space is {}", given.unwrap()),
                    ));
                }
                s
            }
            (Some(None), _) => return Err(bad("space", "empty".into())),
            (None, Some(g)) => g,
            (None, None) => match &arch_s {
                Some(Some(a)) => Space::of_notation(a).ok_or_else(|| {
                    bad(
                        arch_col.unwrap_or("arch"),
                        format!(
                            "{} is written in no space's notation (TSS |op~0|+…, SSS c1:c2:c3:c4:c5)",
                            crate::space::shown(a)
                        ),
                    )
                })?,
                _ => {
                    return Err(TableError::LayoutNeeds {
                        path: p.to_string(),
                        what: "space",
                        why: "no space column and no arch strings",
                    })
                }
            },
        };
        let arch = match (&arch_s, indices.as_ref().map(|v| v[r])) {
            (Some(Some(a)), idx) => {
                let col = arch_col.unwrap_or("arch");
                let arch = space.parse(a).map_err(|e| bad(col, e.to_string()))?;
                if let Some(Some(i)) = idx {
                    if i != arch.index() as i64 {
                        return Err(bad(
                            index_col.unwrap_or("index"),
                            format!(
                                "index {i} but the arch string is arch {} of {space}",
                                arch.index()
                            ),
                        ));
                    }
                }
                arch
            }
            (_, Some(Some(i))) => usize::try_from(i)
                .ok()
                .and_then(|i| space.arch(i).ok())
                .ok_or_else(|| {
                    bad(
                        index_col.unwrap_or("index"),
                        format!("{i} is not an index of {space} (0..{})", space.size()),
                    )
                })?,
            _ => {
                return Err(bad(
                    arch_col.or(index_col).unwrap_or("arch"),
                    "empty: every row needs its arch".into(),
                ))
            }
        };
        let ds = match (datasets.as_ref().map(|v| v[r].clone()), given_ds) {
            (Some(Some(d)), _) => {
                normalize_dataset(&d).map_err(|e| bad("dataset", e.to_string()))?
            }
            (Some(None), _) => return Err(bad("dataset", "empty".into())),
            (None, Some(g)) => g,
            (None, None) => {
                return Err(TableError::LayoutNeeds {
                    path: p.to_string(),
                    what: "dataset",
                    why: "no dataset column",
                })
            }
        };
        out_space.push(space.name());
        out_ds.push(ds);
        out_index.push(arch.index() as i64);
        out_arch.push(arch.to_string());
    }
    let keys: Vec<&str> = PLAIN_ARCH
        .iter()
        .chain(&PLAIN_INDEX)
        .chain(&["space", "dataset"])
        .copied()
        .collect();
    let mut cols = vec![
        Column::new("space".into(), out_space),
        Column::new("dataset".into(), out_ds),
        Column::new("arch_index".into(), out_index),
        Column::new("arch".into(), out_arch),
    ];
    for c in df.get_column_names() {
        if keys.contains(&c.as_str()) {
            continue;
        }
        if super::STATUS_COLUMNS.contains(&c.as_str()) {
            cols.push(Column::new(c.clone(), str_col(df, c, p)?));
            continue;
        }
        let values = f64_col(df, c, p)?;
        cols.push(Column::new(c.clone(), values));
    }
    let out = DataFrame::new(n, cols).map_err(pe(p))?;
    ProxyTable::from_df(out, None, p)
}

/// Reads a proxy table in any layout [`read_proxies`] knows, or a plain feature table
/// ([`PlainLayout`]: an arch or index column and feature columns).
pub fn read_proxies_as(path: &Path, layout: &PlainLayout) -> Result<ProxyTable> {
    // One read of the file; the layout is told by its columns.
    let (df, config) = read_frame(path)?;
    let p = disp(path);
    let t = match sniff(&df) {
        FileLayout::TssWide
        | FileLayout::SssWide
        | FileLayout::Nb101
        | FileLayout::LabelSchema { .. } => {
            return Err(invalid(
                &p,
                "expected a proxy table, found a label table (it has an accuracy column)",
            ))
        }
        FileLayout::SuiteZero => {
            let ds = match layout.dataset {
                Some(d) => d.name(),
                None => dataset_from_file_name(path)?,
            };
            suite_zero_to_proxies(&df, ds, &p)?
        }
        FileLayout::Plain => plain_to_proxies(&df, layout, &p)?,
        FileLayout::ProxySchema | FileLayout::Other => ProxyTable::from_df(df, config, &p)?,
    };
    if let Some(ds) = layout.dataset.map(NatsDataset::name) {
        let have = t.datasets()?;
        if !have.is_empty() && !have.iter().any(|d| d == ds) {
            return Err(invalid(
                &disp(path),
                format!("holds {} rows, not {ds}", have.join(", ")),
            ));
        }
    }
    if let Some(space) = layout.space {
        let spaces = str_col(&t.df, "space", &t.source)?;
        if let Some(Some(s)) = spaces.iter().find(|s| s.as_deref() != Some(space.name())) {
            return Err(invalid(
                &disp(path),
                format!("holds {s} archs, not {space}"),
            ));
        }
    }
    Ok(t)
}

/// Writes `df` to `out` atomically ([`crate::atomic::write_atomic_with`]), so a file at `out`
/// is always complete. `out` must end in `.parquet`.
fn write_parquet_atomic(df: &mut DataFrame, out: &Path, config: Option<String>) -> Result<()> {
    let p = disp(out);
    if ext(out)? != Ext::Parquet {
        return Err(invalid(&p, "tables are written as Parquet (.parquet)"));
    }
    let kv = config
        .as_ref()
        .map(|c| KeyValueMetadata::from_static(vec![(PROXY_CONFIG_KEY.into(), c.clone())]));
    crate::atomic::write_atomic_with(
        out,
        |f| {
            ParquetWriter::new(f)
                .with_key_value_metadata(kv)
                .finish(df)
                .map(|_| ())
                .map_err(pe(&p))
        },
        |path, source| TableError::Io {
            path: disp(path),
            source,
        },
    )
}

/// Writes a label table as Parquet, atomically.
pub fn write_labels(labels: &LabelTable, out: &Path) -> Result<()> {
    write_parquet_atomic(&mut labels.df.clone(), out, None)
}

/// Writes a proxy table as Parquet, atomically, with its configuration in the key-value
/// metadata under [`PROXY_CONFIG_KEY`].
pub fn write_proxies(proxies: &ProxyTable, out: &Path) -> Result<()> {
    write_parquet_atomic(
        &mut proxies.df.clone(),
        out,
        proxies.config.as_ref().map(Manifest::to_json),
    )
}

fn summarize(labels: &LabelTable, source: &Path, out: &Path) -> Result<ImportSummary> {
    let rows = labels.rows()?;
    let mut archs: Vec<(Space, i64)> = rows.iter().map(|r| (r.space, r.arch_index)).collect();
    archs.sort();
    archs.dedup();
    let mut datasets: Vec<String> = rows.iter().map(|r| r.dataset.name().to_string()).collect();
    datasets.sort();
    datasets.dedup();
    let mut spaces: Vec<Space> = rows.iter().map(|r| r.space).collect();
    spaces.dedup();
    let mut hps: Vec<&str> = rows.iter().map(|r| r.hp.as_str()).collect();
    hps.sort();
    hps.dedup();
    Ok(ImportSummary {
        source: source.to_path_buf(),
        out: Some(out.to_path_buf()),
        space: match spaces.as_slice() {
            [s] => Some(*s),
            _ => None,
        },
        hp: match hps.as_slice() {
            [h] => Some(h.to_string()),
            _ => None,
        },
        rows: rows.len(),
        archs: archs.len(),
        datasets,
        meta_archs: None,
    })
}

/// Imports an official NATS-Bench archive directory (all arch files present, `hp` default =
/// final training) into a Parquet label table at `out`.
pub fn import_nats(dir: &Path, out: &Path, hp: Option<&str>) -> Result<ImportSummary> {
    let (labels, mut s) = read_nats(dir, hp)?;
    write_labels(&labels, out)?;
    s.out = Some(out.to_path_buf());
    Ok(s)
}

/// An official NATS-Bench archive directory ([`crate::nats::import_dir`]) as a label table,
/// with what was read.
pub fn read_nats(dir: &Path, hp: Option<&str>) -> Result<(LabelTable, ImportSummary)> {
    let imp = crate::nats::import_dir(dir, hp)?;
    let rows: Vec<LabelRow> = imp
        .labels
        .iter()
        .map(|l| LabelRow {
            space: imp.space,
            dataset: l.dataset,
            arch_index: l.arch_index as i64,
            arch: l.arch.clone(),
            hp: imp.hp.clone(),
            test_acc: Some(l.test_acc),
            valid_acc: l.valid_acc,
            valtest_acc: l.valtest_acc,
            train_acc: Some(l.train_acc),
            params_m: Some(l.params_m),
            flops_m: Some(l.flops_m),
            latency_s: l.latency_s,
        })
        .collect();
    let labels = LabelTable::from_rows(&rows)?;
    let summary = ImportSummary {
        source: dir.to_path_buf(),
        out: None,
        space: Some(imp.space),
        hp: Some(imp.hp),
        rows: rows.len(),
        archs: imp.archs,
        datasets: crate::nats::archive::LABEL_DATASETS
            .iter()
            .map(|d| normalize_dataset(d).map(str::to_string))
            .collect::<Result<_>>()?,
        meta_archs: Some(imp.meta_archs),
    };
    Ok((labels, summary))
}

/// Options for [`import_csv`].
#[derive(Debug, Clone, Default)]
pub struct ImportCsvOptions {
    /// `space` for CSVs without a `space` column (default: TSS).
    pub space: Option<Space>,
    /// `hp` for CSVs without an `hp` column (default: the space's final training).
    pub hp: Option<String>,
    /// `dataset` for single-dataset CSVs without a `dataset` column.
    pub dataset: Option<NatsDataset>,
}

/// Imports a label CSV into a normalised Parquet label table at `out`. Accepts the official TSS
/// label CSV and the SSS validation-accuracy CSV (wide; a `space` option naming the other space
/// is refused) and CSVs with the label schema; missing `space`/`hp`/`dataset` columns are
/// filled from `opts`. Every arch string is checked against its index.
pub fn import_csv(file: &Path, out: &Path, opts: &ImportCsvOptions) -> Result<ImportSummary> {
    let p = disp(file);
    if ext(file)? != Ext::Csv {
        return Err(invalid(&p, "import_csv reads .csv files"));
    }
    let mut df = read_csv(file)?;
    let space = opts.space.unwrap_or(Space::Tss);
    let wide = if is_tss_wide(&df) {
        Some(Space::Tss)
    } else if is_sss_wide(&df) {
        Some(Space::Sss)
    } else {
        None
    };
    if let (Some(w), Some(asked)) = (wide, opts.space) {
        if w != asked {
            return Err(invalid(
                &p,
                format!(
                    "this is the NATS-Bench {} label CSV, not a {} one",
                    w.name().to_uppercase(),
                    asked.name().to_uppercase()
                ),
            ));
        }
    }
    let labels = if wide == Some(Space::Tss) {
        let hp = opts.hp.clone().unwrap_or_else(|| "200".into());
        tss_wide_to_long(&df, &p, &hp)?
    } else if wide == Some(Space::Sss) {
        if opts
            .hp
            .as_deref()
            .is_some_and(|h| h != Space::Sss.final_hp())
        {
            return Err(invalid(&p, "the SSS label CSV holds hp=90 accuracies"));
        }
        sss_wide_to_long(&df, &p)?
    } else {
        let n = df.height();
        if !has(&df, "space") {
            df.with_column(Column::new("space".into(), vec![space.name(); n]))
                .map_err(pe(&p))?;
        }
        if !has(&df, "hp") {
            let hp = opts
                .hp
                .clone()
                .unwrap_or_else(|| space.final_hp().to_string());
            df.with_column(Column::new("hp".into(), vec![hp; n]))
                .map_err(pe(&p))?;
        }
        if !has(&df, "dataset") {
            let Some(ds) = opts.dataset.map(NatsDataset::name) else {
                return Err(TableError::MissingColumn {
                    path: p,
                    column: "dataset".into(),
                    kind: "label",
                });
            };
            df.with_column(Column::new("dataset".into(), vec![ds; n]))
                .map_err(pe(&p))?;
        }
        let t = LabelTable::from_df(df, &p)?;
        for r in t.rows()? {
            check_arch(r.space, r.arch_index, &r.arch, &p)?;
        }
        t
    };
    write_labels(&labels, out)?;
    summarize(&labels, file, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NA, N/A, nan and an empty cell are missing labels, as spreadsheets and pandas write them.
    #[test]
    fn own_labels_read_missing_values_in_every_spreadsheet_spelling() {
        let dir = std::env::temp_dir().join(format!("gf-na-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("own.csv");
        std::fs::write(
            &path,
            "arch,my_acc\n00000000,0.5\n00000001,NA\n00000002,nan\n00000010,\n00000011,N/A\n00000012,0.7\n",
        )
        .unwrap();
        let layout = PlainLayout {
            space: Some(Space::Macro),
            dataset: Some(NatsDataset::Cifar10),
        };
        let t = read_labels_as(&path, &layout).unwrap();
        let col = t.frame().column("my_acc").unwrap().f64().unwrap().clone();
        assert_eq!(col.len(), 6);
        assert_eq!(col.null_count(), 4);
        assert_eq!(col.get(5), Some(0.7));
        std::fs::remove_dir_all(&dir).ok();
    }
}
