//! The extraction run: arch selection, workers, checkpointing, summary.

use super::chunks::{self, ChunkRow, Manifest};
use crate::proxy::{proxies_by_name, Engine, ProxyError};
use crate::space::{NatsDataset, Space};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use tch::Device;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{0}")]
    Io(String),
    #[error("invalid --archs {spec:?}: {why}")]
    Selection { spec: String, why: String },
    #[error(
        "{path} was made with a different {field}; use another --out or delete it to start over{}",
        if field.starts_with("device") { " (or --allow-device-change to finish it on this device)" } else { "" }
    )]
    ConfigMismatch { path: String, field: &'static str },
    #[error("proxy engine: {0}")]
    Engine(#[from] ProxyError),
    #[error("{0}")]
    Proxies(String),
    #[error("table: {0}")]
    Table(String),
    #[error("extraction incomplete: {0}")]
    Incomplete(String),
}

/// Which archs to extract (`--archs`).
#[derive(Debug, Clone, PartialEq)]
pub enum ArchSelection {
    All,
    /// `sample:N[:SEED]` — N archs drawn without replacement (seed 0 by default).
    Sample {
        n: usize,
        seed: u64,
    },
    /// `range:A..B` — official indices A to B−1.
    Range {
        start: usize,
        end: usize,
    },
    /// `file:F` — one arch string or index per line.
    File(String),
}

impl ArchSelection {
    pub fn parse(spec: &str) -> Result<ArchSelection, ExtractError> {
        let bad = |why: &str| ExtractError::Selection {
            spec: spec.chars().take(80).collect(),
            why: why.into(),
        };
        if spec == "all" {
            return Ok(ArchSelection::All);
        }
        if let Some(rest) = spec.strip_prefix("sample:") {
            let mut it = rest.splitn(2, ':');
            let n = it
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("expected sample:N or sample:N:SEED"))?;
            let seed = match it.next() {
                Some(s) => s.parse().map_err(|_| bad("SEED must be a number"))?,
                None => 0,
            };
            return Ok(ArchSelection::Sample { n, seed });
        }
        if let Some(rest) = spec.strip_prefix("range:") {
            let (a, b) = rest
                .split_once("..")
                .ok_or_else(|| bad("expected range:A..B"))?;
            let start = a.parse().map_err(|_| bad("A must be a number"))?;
            let end = b.parse().map_err(|_| bad("B must be a number"))?;
            if start >= end {
                return Err(bad("empty range"));
            }
            return Ok(ArchSelection::Range { start, end });
        }
        if let Some(f) = spec.strip_prefix("file:") {
            return Ok(ArchSelection::File(f.to_string()));
        }
        Err(bad("expected all, sample:N[:SEED], range:A..B or file:F"))
    }

    /// Official indices in output order.
    pub fn indices(&self, space: Space) -> Result<Vec<usize>, ExtractError> {
        Ok(match self {
            ArchSelection::All => (0..space.size()).collect(),
            ArchSelection::Sample { n, seed } => space.sample_indices(*n, *seed),
            ArchSelection::Range { start, end } => {
                if *end > space.size() {
                    return Err(ExtractError::Selection {
                        spec: format!("range:{start}..{end}"),
                        why: format!("{space} has {} archs", space.size()),
                    });
                }
                (*start..*end).collect()
            }
            ArchSelection::File(f) => {
                let text = std::fs::read_to_string(f)
                    .map_err(|e| ExtractError::Io(format!("{f}: {e}")))?;
                let mut v = Vec::new();
                for (n, line) in text.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let i = match line.parse::<usize>() {
                        Ok(i) => space.arch(i).map(|a| a.index()),
                        Err(_) => space.parse(line).map(|a| a.index()),
                    }
                    .map_err(|e| ExtractError::Io(format!("{f} line {}: {e}", n + 1)))?;
                    v.push(i);
                }
                let mut seen = std::collections::HashSet::new();
                if let Some(d) = v.iter().find(|i| !seen.insert(**i)) {
                    return Err(ExtractError::Io(format!("{f}: arch {d} listed twice")));
                }
                v
            }
        })
    }
}

/// How to run (none of it changes the values, except the device kind).
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    pub device: Device,
    pub workers: usize,
    /// Resume work begun on another device kind (e.g. a GPU lease ended: finish on CPU). The
    /// table then records every kind used (`cuda+cpu`); values of the two differ by float
    /// rounding only.
    pub allow_device_change: bool,
}

/// Progress after each chunk.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub failed: usize,
    /// Archs already on disk when the run started.
    pub resumed: usize,
    /// Seconds per pass group summed over archs done in this run.
    pub seconds: [f64; 5],
    /// Workers currently running (lowered after CUDA out-of-memory).
    pub workers: usize,
}

#[derive(Debug, Clone)]
pub struct ExtractSummary {
    pub progress: Progress,
    pub wall_seconds: f64,
    /// The table already existed with the same manifest: nothing was computed.
    pub already_complete: bool,
}

fn is_oom(row: &ChunkRow) -> bool {
    row.errors
        .iter()
        .flatten()
        .any(|e| e.contains("out of memory") || e.contains("CUDA error: out of memory"))
}

/// Runs (or resumes) an extraction into `out`; see the module docs.
pub fn extract(
    mut manifest: Manifest,
    opts: &ExtractOptions,
    out: &Path,
    on_progress: &(dyn Fn(&Progress) + Sync),
) -> Result<ExtractSummary, ExtractError> {
    let t0 = Instant::now();
    if out.exists() {
        let existing = crate::extract::table_out::read_manifest(out)?;
        if opts.allow_device_change && existing.differs_in_device_only(&manifest) {
            manifest.device_kind.clone_from(&existing.device_kind);
        }
        return match manifest.first_difference(&existing) {
            None => Ok(ExtractSummary {
                progress: Progress {
                    done: manifest.archs.len(),
                    total: manifest.archs.len(),
                    resumed: manifest.archs.len(),
                    ..Progress::default()
                },
                wall_seconds: 0.0,
                already_complete: true,
            }),
            Some(field) => Err(ExtractError::ConfigMismatch {
                path: out.display().to_string(),
                field,
            }),
        };
    }
    let parts = chunks::parts_dir(out);
    std::fs::create_dir_all(&parts)
        .map_err(|e| ExtractError::Io(format!("{}: {e}", parts.display())))?;
    match chunks::read_manifest(&parts)? {
        Some(m) => {
            if opts.allow_device_change && m.differs_in_device_only(&manifest) {
                manifest.device_kind = m.with_device_kind(&manifest.device_kind);
                chunks::write_manifest(&parts, &manifest)?;
            } else if let Some(field) = manifest.first_difference(&m) {
                return Err(ExtractError::ConfigMismatch {
                    path: parts.display().to_string(),
                    field,
                });
            }
        }
        None => chunks::write_manifest(&parts, &manifest)?,
    }
    let proxies = proxies_by_name(&manifest.proxies).map_err(ExtractError::Proxies)?;
    let dataset: NatsDataset = manifest
        .dataset
        .parse()
        .map_err(|e| ExtractError::Io(format!("{e}")))?;
    let space: Space = manifest
        .space
        .parse()
        .map_err(|e| ExtractError::Io(format!("{e}")))?;
    let size = manifest.chunk_size.max(1);
    let n_chunks = manifest.archs.len().div_ceil(size);
    let chunk_len = |k: usize| (manifest.archs.len() - k * size).min(size);
    let todo: VecDeque<usize> = (0..n_chunks)
        .filter(|&k| !chunks::chunk_path(&parts, k).exists())
        .collect();
    let resumed: usize = (0..n_chunks)
        .filter(|k| !todo.contains(k))
        .map(chunk_len)
        .sum();
    let workers = opts.workers.clamp(1, todo.len().max(1));
    // One libtorch CPU thread per worker, whatever the worker count and device: libtorch's
    // parallel reductions sum in an order that depends on its thread count, so a fixed count
    // keeps the table bitwise identical for any --workers and machine (parallelism comes from
    // the workers). On a GPU the CPU part (jacov/epe_nas correlations, MeCo's
    // eigendecompositions) is small, and 16 workers × 16 libtorch threads would oversubscribe
    // the cores.
    tch::set_num_threads(1);
    // Before the workers: libtorch's lazy loading of its CUDA linalg kernels is not thread-safe.
    crate::net::load_cuda_linalg(opts.device).map_err(|e| ExtractError::Engine(e.into()))?;
    let queue = Mutex::new(todo);
    let progress = Mutex::new(Progress {
        done: resumed,
        total: manifest.archs.len(),
        resumed,
        workers,
        ..Progress::default()
    });
    let active = AtomicUsize::new(workers);
    let first_error: Mutex<Option<ExtractError>> = Mutex::new(None);
    on_progress(&progress.lock().expect("progress lock"));

    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                // Each worker launches its forward and backward kernels on its own CUDA
                // stream, from its own thread, so archs overlap on the GPU.
                crate::net::use_private_stream(opts.device);
                crate::net::use_own_backward_thread(opts.device);
                let engine = match Engine::new(
                    proxies.clone(),
                    manifest.config.clone(),
                    dataset,
                    opts.device,
                ) {
                    Ok(e) => e,
                    Err(e) => {
                        first_error.lock().expect("lock").get_or_insert(e.into());
                        active.fetch_sub(1, Ordering::SeqCst);
                        return;
                    }
                };
                loop {
                    if first_error.lock().expect("lock").is_some() {
                        break;
                    }
                    let Some(k) = queue.lock().expect("queue lock").pop_front() else {
                        break;
                    };
                    let mut rows = Vec::with_capacity(chunk_len(k));
                    let mut oom = false;
                    for &index in &manifest.archs[k * size..k * size + chunk_len(k)] {
                        let row = match space.arch(index) {
                            Ok(arch) => match engine.score(&arch) {
                                Ok(v) => ChunkRow {
                                    index,
                                    arch: arch.to_string(),
                                    status: if v.ok() { "ok".into() } else { "failed".into() },
                                    values: v
                                        .values
                                        .iter()
                                        .map(|&x| chunks::to_option(x))
                                        .collect(),
                                    errors: v.errors.clone(),
                                    seconds: v.seconds,
                                },
                                Err(e) => ChunkRow {
                                    index,
                                    arch: arch.to_string(),
                                    values: vec![None; proxies.len()],
                                    errors: vec![Some(e.reason()); proxies.len()],
                                    status: "failed".into(),
                                    seconds: [0.0; 5],
                                },
                            },
                            Err(e) => {
                                first_error
                                    .lock()
                                    .expect("lock")
                                    .get_or_insert(ExtractError::Io(e.to_string()));
                                return;
                            }
                        };
                        // Out of memory with other workers alive: give the chunk back and stop
                        // this worker, so fewer archs share the GPU. The last worker records it.
                        if is_oom(&row) && active.load(Ordering::SeqCst) > 1 {
                            oom = true;
                            break;
                        }
                        rows.push(row);
                    }
                    if oom {
                        queue.lock().expect("queue lock").push_front(k);
                        let mut p = progress.lock().expect("progress lock");
                        p.workers = active.fetch_sub(1, Ordering::SeqCst) - 1;
                        on_progress(&p);
                        return;
                    }
                    if let Err(e) = chunks::write_chunk(&parts, k, &rows) {
                        first_error.lock().expect("lock").get_or_insert(e);
                        break;
                    }
                    let mut p = progress.lock().expect("progress lock");
                    p.done += rows.len();
                    p.failed += rows.iter().filter(|r| r.status != "ok").count();
                    for r in &rows {
                        for (a, b) in p.seconds.iter_mut().zip(r.seconds) {
                            *a += b;
                        }
                    }
                    on_progress(&p);
                }
                active.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("lock") {
        return Err(e);
    }
    let missing: Vec<usize> = (0..n_chunks)
        .filter(|&k| !chunks::chunk_path(&parts, k).exists())
        .collect();
    if !missing.is_empty() {
        return Err(ExtractError::Incomplete(format!(
            "{} chunk(s) not written (first: {}); run the same command again to resume",
            missing.len(),
            missing[0]
        )));
    }
    let mut rows = Vec::with_capacity(manifest.archs.len());
    for k in 0..n_chunks {
        rows.extend(chunks::read_chunk(&parts, k, chunk_len(k))?);
    }
    crate::extract::table_out::write_table(out, &manifest, &rows)?;
    std::fs::remove_dir_all(&parts)
        .map_err(|e| ExtractError::Io(format!("{}: {e}", parts.display())))?;
    let progress = progress.into_inner().expect("lock");
    Ok(ExtractSummary {
        progress,
        wall_seconds: t0.elapsed().as_secs_f64(),
        already_complete: false,
    })
}
