//! The on-disk layout of an official NATS-Bench "simple" archive directory and the accuracy
//! semantics of the official API.
//!
//! Layout (`NATS-tss-v1_0-3ffb9-simple/`, `NATS-sss-v1_0-50262-simple/`):
//! * `meta.pickle.pbz2` — `{meta_archs: [arch str; N], total_archs: N, arch2infos: None,
//!   evaluated_indexes: set()}`; `meta_archs[i]` is the arch of index `i`.
//! * `NNNNNN.pickle.pbz2` (6-digit index) — `OrderedDict{hp: {arch_index, arch_str,
//!   all_results: {(dataset, seed): result}, dataset_seed: {dataset: [seed, …]}, …}}` with hp
//!   in {"12", "200"} (TSS) or {"01", "12", "90"} (SSS); each `result` holds `epochs`,
//!   `train_acc1es {epoch: acc}`, `eval_acc1es {"set@epoch": acc}`, `params`, `flop`,
//!   `latency [s]` (numpy scalars included).
//!
//! [`ArchRecord::more_info`] reproduces `get_more_info(index, dataset, hp, is_random=False)` of
//! `nats_bench/api_topology.py` / `api_size.py` (through `ArchResults.get_metrics` and
//! `get_compute_costs` in `api_utils.py`): every value is the mean over the seeds listed in
//! `dataset_seed[dataset]` of the value at epoch `epochs - 1`; the eval sets are
//! `cifar10-valid`: valid = `x-valid`, test = `ori-test`; `cifar10`: test = `ori-test`;
//! `cifar100` / `ImageNet16-120`: valid = `x-valid`, test = `x-test`, valtest = `ori-test`. As in
//! the official code, an eval set that some seed lacks gives `None`; latency is the mean of the
//! per-seed mean latencies that are positive (`None` if there are none).

use super::pickle::{self, Value};
use super::NatsError;
use crate::space::{NatsDataset, Space};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Decompressed pickles larger than this are rejected (the largest real file is ~1.4 MB).
pub const MAX_DECOMPRESSED: u64 = 512 << 20;

/// The official dataset names a label table is built from (`cifar10-valid` is a training
/// protocol of CIFAR-10 on half the training set and is available only via
/// [`ArchRecord::more_info`]).
pub const LABEL_DATASETS: [&str; 3] = ["cifar10", "cifar100", "ImageNet16-120"];

/// Reads and unpickles one `*.pickle.pbz2` file.
pub fn read_pbz2(path: &Path) -> Result<Value, NatsError> {
    let f = std::fs::File::open(path).map_err(|source| NatsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut buf = Vec::new();
    bzip2::read::BzDecoder::new(std::io::BufReader::new(f))
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut buf)
        .map_err(|source| NatsError::Bzip2 {
            path: path.to_path_buf(),
            source,
        })?;
    if buf.len() as u64 > MAX_DECOMPRESSED {
        return Err(NatsError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_DECOMPRESSED,
        });
    }
    pickle::loads(&buf).map_err(|source| NatsError::Pickle {
        path: path.to_path_buf(),
        source,
    })
}

/// An opened archive directory: its space and the official arch list from `meta.pickle.pbz2`.
#[derive(Debug, Clone)]
pub struct Archive {
    dir: PathBuf,
    space: Space,
    archs: Vec<String>,
}

impl Archive {
    /// Opens `dir`, reads `meta.pickle.pbz2` and checks that its arch list is exactly the
    /// official order of the [`crate::space`] module (which decides TSS vs SSS by its length).
    pub fn open(dir: &Path) -> Result<Archive, NatsError> {
        let meta_path = dir.join("meta.pickle.pbz2");
        if !meta_path.is_file() {
            return Err(NatsError::NotArchive {
                dir: dir.to_path_buf(),
            });
        }
        let meta = read_pbz2(&meta_path)?;
        let layout = |what: &str| NatsError::Layout {
            path: meta_path.clone(),
            what: what.to_string(),
        };
        let list = meta
            .get("meta_archs")
            .and_then(Value::as_seq)
            .ok_or_else(|| layout("no meta_archs list"))?;
        let archs: Vec<String> = list
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| layout("meta_archs holds a non-string"))?;
        if let Some(total) = meta.get("total_archs").and_then(Value::as_i64) {
            if total as usize != archs.len() {
                return Err(layout(&format!(
                    "total_archs {total} but {} meta_archs",
                    archs.len()
                )));
            }
        }
        let space = Space::ALL
            .into_iter()
            .find(|s| s.size() == archs.len())
            .ok_or_else(|| {
                layout(&format!(
                    "{} archs: neither TSS (15625) nor SSS (32768)",
                    archs.len()
                ))
            })?;
        for (index, found) in archs.iter().enumerate() {
            let expected = space.arch(index).expect("index < size").to_string();
            if *found != expected {
                return Err(NatsError::MetaOrder {
                    path: meta_path,
                    space,
                    index,
                    found: found.chars().take(120).collect(),
                    expected,
                });
            }
        }
        Ok(Archive {
            dir: dir.to_path_buf(),
            space,
            archs,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn space(&self) -> Space {
        self.space
    }

    /// The meta arch list (index → arch string).
    pub fn archs(&self) -> &[String] {
        &self.archs
    }

    /// `dir/NNNNNN.pickle.pbz2`.
    pub fn record_path(&self, index: usize) -> PathBuf {
        self.dir.join(format!("{index:06}.pickle.pbz2"))
    }

    /// Indices (sorted) whose record file exists, out of the meta's archs.
    pub fn present_indices(&self) -> Result<Vec<usize>, NatsError> {
        let rd = std::fs::read_dir(&self.dir).map_err(|source| NatsError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|source| NatsError::Io {
                path: self.dir.clone(),
                source,
            })?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(stem) = name.strip_suffix(".pickle.pbz2") else {
                continue;
            };
            if stem.len() == 6 && stem.bytes().all(|b| b.is_ascii_digit()) {
                let i: usize = stem.parse().expect("six digits");
                if i < self.archs.len() {
                    out.push(i);
                }
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Reads the record of arch `index`; checks its `arch_index`/`arch_str` against the meta.
    pub fn read_record(&self, index: usize) -> Result<ArchRecord, NatsError> {
        let path = self.record_path(index);
        let Some(arch) = self.archs.get(index) else {
            return Err(NatsError::MissingArch { path, index });
        };
        if !path.is_file() {
            return Err(NatsError::MissingArch { path, index });
        }
        let root = read_pbz2(&path)?;
        let pairs = root.as_dict().ok_or_else(|| NatsError::Layout {
            path: path.clone(),
            what: format!("top level is a {}, not a dict", root.type_name()),
        })?;
        for (hp, rec) in pairs {
            let ok_index = rec.get("arch_index").and_then(Value::as_i64) == Some(index as i64);
            let ok_arch = rec.get("arch_str").and_then(Value::as_str) == Some(arch.as_str());
            if !(hp.as_str().is_some() && ok_index && ok_arch) {
                return Err(NatsError::Layout {
                    path,
                    what: format!("hp entry {hp:?} is not the record of arch {index} ({arch})"),
                });
            }
        }
        Ok(ArchRecord {
            index,
            arch: arch.clone(),
            path,
            root,
        })
    }
}

/// The full record of one arch (all hp, datasets, seeds and epochs).
#[derive(Debug, Clone)]
pub struct ArchRecord {
    pub index: usize,
    pub arch: String,
    pub path: PathBuf,
    pub root: Value,
}

/// `get_more_info(index, dataset, hp, is_random=False)` plus the compute costs, seed-averaged.
#[derive(Debug, Clone, PartialEq)]
pub struct MoreInfo {
    pub dataset: String,
    pub hp: String,
    /// The seeds averaged over (`dataset_seed[dataset]`).
    pub seeds: Vec<i64>,
    /// Final-epoch train accuracy (%).
    pub train_acc: f64,
    pub valid_acc: Option<f64>,
    pub test_acc: Option<f64>,
    pub valtest_acc: Option<f64>,
    /// Parameters in millions.
    pub params_m: f64,
    /// FLOPs in millions.
    pub flops_m: f64,
    /// Latency in seconds.
    pub latency_s: Option<f64>,
}

impl ArchRecord {
    /// The hp keys of the record ("12", "200", …), in file order.
    pub fn hps(&self) -> Vec<String> {
        self.root
            .as_dict()
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, _)| k.as_str().map(str::to_string))
            .collect()
    }

    fn layout(&self, what: String) -> NatsError {
        NatsError::Layout {
            path: self.path.clone(),
            what,
        }
    }

    /// See the module docs for the semantics. `dataset` is the official name (`cifar10`,
    /// `cifar10-valid`, `cifar100`, `ImageNet16-120`).
    pub fn more_info(&self, dataset: &str, hp: &str) -> Result<MoreInfo, NatsError> {
        let rec = self.root.get(hp).ok_or_else(|| NatsError::NoHp {
            path: self.path.clone(),
            hp: hp.to_string(),
            available: self.hps().join(","),
        })?;
        let seeds: Vec<i64> = rec
            .get("dataset_seed")
            .and_then(|d| d.get(dataset))
            .and_then(Value::as_seq)
            .ok_or_else(|| NatsError::NoDataset {
                path: self.path.clone(),
                dataset: dataset.to_string(),
                hp: hp.to_string(),
            })?
            .iter()
            .map(Value::as_i64)
            .collect::<Option<_>>()
            .ok_or_else(|| self.layout(format!("non-integer seed for {dataset}")))?;
        if seeds.is_empty() {
            return Err(self.layout(format!("no seeds for {dataset} at hp {hp}")));
        }
        let all = rec
            .get("all_results")
            .ok_or_else(|| self.layout(format!("hp {hp} has no all_results")))?;
        let mut results = Vec::with_capacity(seeds.len());
        for &seed in &seeds {
            let r = all
                .get_by(|k| match k.as_seq() {
                    Some([Value::Str(d), Value::Int(s)]) => d == dataset && *s == seed,
                    _ => false,
                })
                .ok_or_else(|| self.layout(format!("no result for ({dataset}, {seed})")))?;
            results.push(r);
        }
        let mut train = Vec::new();
        let mut params = Vec::new();
        let mut flops = Vec::new();
        let mut latencies = Vec::new();
        let mut evals: [Vec<Option<f64>>; 3] = Default::default();
        let sets = match dataset {
            "cifar10-valid" => [Some("x-valid"), Some("ori-test"), None],
            "cifar10" => [Some("x-valid"), Some("ori-test"), None],
            _ => [Some("x-valid"), Some("x-test"), Some("ori-test")],
        };
        for (r, seed) in results.iter().zip(&seeds) {
            let what = |w: &str| self.layout(format!("({dataset}, {seed}) at hp {hp}: {w}"));
            let epochs = r
                .get("epochs")
                .and_then(Value::as_i64)
                .filter(|&e| e >= 1)
                .ok_or_else(|| what("no epochs"))?;
            let last = epochs - 1;
            train.push(
                r.get("train_acc1es")
                    .and_then(|d| d.get_by(|k| k.as_i64() == Some(last)))
                    .and_then(Value::as_f64)
                    .ok_or_else(|| what(&format!("no train accuracy at epoch {last}")))?,
            );
            params.push(
                r.get("params")
                    .and_then(Value::as_f64)
                    .ok_or_else(|| what("no params"))?,
            );
            flops.push(
                r.get("flop")
                    .and_then(Value::as_f64)
                    .ok_or_else(|| what("no flop"))?,
            );
            // `ResultsCount.get_latency`: mean of the list, -1 when absent.
            let lat = match r.get("latency") {
                None | Some(Value::None) => -1.0,
                Some(v) => {
                    let xs: Vec<f64> = v
                        .as_seq()
                        .ok_or_else(|| what("latency is not a list"))?
                        .iter()
                        .map(Value::as_f64)
                        .collect::<Option<_>>()
                        .ok_or_else(|| what("non-numeric latency"))?;
                    if xs.is_empty() {
                        -1.0
                    } else {
                        xs.iter().sum::<f64>() / xs.len() as f64
                    }
                }
            };
            latencies.push(lat);
            let eval = r.get("eval_acc1es");
            for (k, set) in sets.iter().enumerate() {
                let v = set.and_then(|s| {
                    eval.and_then(|e| e.get(&format!("{s}@{last}")))
                        .and_then(Value::as_f64)
                });
                evals[k].push(v);
            }
        }
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
        let mean_opt = |xs: &[Option<f64>]| -> Option<f64> {
            let v: Option<Vec<f64>> = xs.iter().copied().collect();
            v.filter(|v| !v.is_empty()).map(|v| mean(&v))
        };
        let pos: Vec<f64> = latencies.into_iter().filter(|&x| x > 0.0).collect();
        Ok(MoreInfo {
            dataset: dataset.to_string(),
            hp: hp.to_string(),
            seeds,
            train_acc: mean(&train),
            valid_acc: mean_opt(&evals[0]),
            test_acc: mean_opt(&evals[1]),
            valtest_acc: mean_opt(&evals[2]),
            params_m: mean(&params),
            flops_m: mean(&flops),
            latency_s: (!pos.is_empty()).then(|| mean(&pos)),
        })
    }
}

/// One arch's labels for one dataset, as the official API reports them ([`MoreInfo`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NatsLabel {
    pub dataset: NatsDataset,
    pub arch_index: usize,
    pub arch: String,
    pub test_acc: f64,
    pub valid_acc: Option<f64>,
    pub valtest_acc: Option<f64>,
    pub train_acc: f64,
    pub params_m: f64,
    pub flops_m: f64,
    pub latency_s: Option<f64>,
}

/// The result of [`import_dir`]: plain records; `table` turns them into a label table.
#[derive(Debug, Clone)]
pub struct NatsImport {
    pub space: Space,
    pub hp: String,
    /// Per arch file present, one label per dataset of [`LABEL_DATASETS`], in index order.
    pub labels: Vec<NatsLabel>,
    /// Arch files found.
    pub archs: usize,
    /// Archs the archive's meta lists.
    pub meta_archs: usize,
}

/// Reads every arch file present in an archive directory: one label per (arch, dataset) for
/// `cifar10`, `cifar100`, `ImageNet16-120` at `hp` (default: the final training,
/// [`Space::final_hp`]). Files are decoded in parallel; the first bad file aborts the import
/// with its error.
pub fn import_dir(dir: &Path, hp: Option<&str>) -> Result<NatsImport, NatsError> {
    let archive = Archive::open(dir)?;
    let hp = hp.unwrap_or(archive.space().final_hp()).to_string();
    let present = archive.present_indices()?;
    if present.is_empty() {
        return Err(NatsError::Empty {
            dir: dir.to_path_buf(),
        });
    }
    let per_arch: Vec<Vec<NatsLabel>> = present
        .par_iter()
        .map(|&index| -> Result<Vec<NatsLabel>, NatsError> {
            let rec = archive.read_record(index)?;
            LABEL_DATASETS
                .iter()
                .map(|&ds| -> Result<NatsLabel, NatsError> {
                    let info = rec.more_info(ds, &hp)?;
                    let test_acc = info.test_acc.ok_or_else(|| NatsError::Layout {
                        path: rec.path.clone(),
                        what: format!("no test accuracy for {ds} at hp {hp}"),
                    })?;
                    Ok(NatsLabel {
                        dataset: ds.parse().expect("an official dataset name"),
                        arch_index: index,
                        arch: rec.arch.clone(),
                        test_acc,
                        valid_acc: info.valid_acc,
                        valtest_acc: info.valtest_acc,
                        train_acc: info.train_acc,
                        params_m: info.params_m,
                        flops_m: info.flops_m,
                        latency_s: info.latency_s,
                    })
                })
                .collect()
        })
        .collect::<Result<_, NatsError>>()?;
    Ok(NatsImport {
        space: archive.space(),
        hp,
        labels: per_arch.into_iter().flatten().collect(),
        archs: present.len(),
        meta_archs: archive.archs().len(),
    })
}
