//! The extraction run: arch selection, workers, checkpointing, summary.

use super::chunks::{self, ChunkRow};
use super::error::ExtractError;
use crate::provenance::{DeviceKinds, Manifest};
use crate::proxy::{proxies_by_name, Engine, ProxyRef};
use crate::space::{NatsDataset, Space};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use tch::Device;

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
        let unordered = match self {
            ArchSelection::All => Some("all".to_string()),
            ArchSelection::Range { start, end } => Some(format!("range:{start}..{end}")),
            _ => None,
        };
        if let (Some(spec), false) = (unordered, space.index_order()) {
            return Err(ExtractError::Selection {
                spec,
                why: format!(
                    "{space} has no index order ({} archs): use sample:N or file:F (e.g. the labelled cells, `greenfactory archs --space {space} --labels FILE`)",
                    space.size()
                ),
            });
        }
        Ok(match self {
            ArchSelection::All => (0..space.size()).collect(),
            ArchSelection::Sample { n, seed } => {
                if *n > space.size() || *n == 0 {
                    return Err(ExtractError::Selection {
                        spec: format!("sample:{n}:{seed}"),
                        why: format!(
                            "N must be 1 to {} ({space} has {} archs; use all for every one)",
                            space.size(),
                            space.size()
                        ),
                    });
                }
                space.sample_indices(*n, *seed)
            }
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
                let text = std::fs::read_to_string(f).map_err(ExtractError::io(f))?;
                let v: Vec<usize> = space
                    .parse_arch_list(&text)
                    .map_err(|(line, source)| ExtractError::ArchList {
                        path: f.into(),
                        line,
                        source,
                    })?
                    .iter()
                    .map(|a| a.index())
                    .collect();
                let mut seen = std::collections::HashSet::new();
                if let Some(d) = v.iter().find(|i| !seen.insert(**i)) {
                    return Err(ExtractError::file(f, format!("arch {d} listed twice")));
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
    /// Seconds per pass summed over archs done in this run.
    pub seconds: crate::proxy::PassTimes,
    /// Workers currently running (lowered after CUDA out-of-memory).
    pub workers: usize,
}

#[derive(Debug, Clone)]
pub struct ExtractSummary {
    pub progress: Progress,
    pub wall_seconds: f64,
    /// The table already existed with the same manifest: nothing was computed.
    pub already_complete: bool,
    /// Rows of the table: the arch list. `progress` counts full vectors computed, which with
    /// shared isomorphism classes are the classes' representatives only.
    pub table_archs: usize,
}

/// The archs whose full vectors the run computes, in chunk order: the arch list itself, or
/// with [`crate::proxy::ProxyConfig::share_isomorphic`] the class representatives of its archs
/// in order of first appearance (each once).
fn work_list(manifest: &Manifest) -> Result<Vec<usize>, ExtractError> {
    let archs = manifest
        .archs
        .iter()
        .map(|&i| manifest.space.arch(i))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(
        crate::proxy::pool::full_vectors_needed(manifest.config.share_isomorphic, &archs)
            .iter()
            .map(|a| a.index())
            .collect(),
    )
}

/// The rows of the arch list from the representatives' rows: a representative's row as
/// computed; any other arch gets its own static proxies and the representative's other values
/// ([`Engine::score_shared`]).
fn share_rows(
    manifest: &Manifest,
    engine: &Engine,
    rep_rows: Vec<ChunkRow>,
) -> Result<Vec<ChunkRow>, ExtractError> {
    let by_index: std::collections::HashMap<usize, ChunkRow> =
        rep_rows.into_iter().map(|r| (r.index, r)).collect();
    let mut rows = Vec::with_capacity(manifest.archs.len());
    for &i in &manifest.archs {
        let arch = manifest.space.arch(i)?;
        let rep = by_index
            .get(&arch.representative().index())
            .ok_or_else(|| {
                ExtractError::Incomplete(format!("no row for the representative of arch {i}"))
            })?;
        if rep.index == i {
            rows.push(rep.clone());
            continue;
        }
        let rep_vector = crate::proxy::ProxyVector {
            names: engine.names(),
            values: rep.values.iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
            errors: rep.errors.clone(),
            seconds: rep.seconds,
            proxy_seconds: vec![0.0; rep.values.len()],
            out_of_memory: false,
        };
        // A member whose network cannot be built is a failed row, as in the workers.
        rows.push(match engine.score_shared(&arch, &rep_vector) {
            Ok(v) => ChunkRow::scored(&arch, &v),
            Err(e) => ChunkRow::unbuildable(&arch, rep.values.len(), e.reason()),
        });
    }
    Ok(rows)
}

/// How a finished table was made, written beside it as `OUT.run.json` (`OUT` minus its
/// extension): what the values depend on (the manifest's fields but the arch list) and what
/// they do not (machine, date, wall time of the run that finished it).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    pub greenfactory_version: String,
    pub space: Space,
    pub dataset: NatsDataset,
    pub proxies: Vec<String>,
    pub config: crate::proxy::ProxyConfig,
    /// Rows of the table.
    pub archs: usize,
    /// Full proxy vectors the table holds (isomorphism-class representatives when shared).
    pub computed_vectors: usize,
    /// Of those, how many an earlier, interrupted run had computed.
    pub resumed_vectors: usize,
    pub failed_rows: usize,
    pub device_kind: DeviceKinds,
    pub workers: usize,
    pub cpu_model: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub finished_utc: String,
    /// Wall time of the run that finished the table (earlier runs' time not included).
    pub wall_seconds: f64,
}

impl RunRecord {
    /// Writes the record as pretty JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<(), ExtractError> {
        let text =
            serde_json::to_vec_pretty(self).map_err(|e| ExtractError::file(path, e.to_string()))?;
        chunks::write_atomic(path, &text)
    }
}

/// `OUT.run.json` beside `OUT` (its extension replaced).
pub fn run_record_path(out: &Path) -> std::path::PathBuf {
    out.with_extension("run.json")
}

/// The CPU's model name (`/proc/cpuinfo`), or `unknown`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, Hinnant's algorithm).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Runs (or resumes) an extraction into `out`; see the module docs.
pub fn extract(
    manifest: Manifest,
    opts: &ExtractOptions,
    out: &Path,
    on_progress: &(dyn Fn(&Progress) + Sync),
) -> Result<ExtractSummary, ExtractError> {
    let t0 = Instant::now();
    if out.exists() {
        return finished_table(manifest, opts, out);
    }
    let parts = chunks::parts_dir(out);
    std::fs::create_dir_all(&parts).map_err(ExtractError::io(&parts))?;
    let _lock = WorkLock::acquire(&parts, out)?;
    let manifest = reconcile_work_folder(manifest, opts, &parts)?;
    let plan = Plan::new(&manifest, parts)?;
    let (progress, workers) = compute_chunks(&plan, opts, on_progress)?;
    let rows = assemble_rows(&plan, opts)?;
    crate::extract::table_out::write_table(out, &manifest, &rows)?;
    let record = RunRecord {
        greenfactory_version: env!("CARGO_PKG_VERSION").into(),
        space: manifest.space,
        dataset: manifest.dataset,
        proxies: manifest.proxies.clone(),
        config: manifest.config.clone(),
        archs: manifest.archs.len(),
        computed_vectors: plan.work.len(),
        resumed_vectors: progress.resumed,
        failed_rows: rows.iter().filter(|r| !r.ok()).count(),
        device_kind: manifest.device_kind.clone(),
        workers,
        cpu_model: cpu_model(),
        finished_utc: utc_now(),
        wall_seconds: t0.elapsed().as_secs_f64(),
    };
    record.write(&run_record_path(out))?;
    std::fs::remove_dir_all(&plan.parts).map_err(ExtractError::io(&plan.parts))?;
    Ok(ExtractSummary {
        progress,
        wall_seconds: t0.elapsed().as_secs_f64(),
        already_complete: false,
        table_archs: manifest.archs.len(),
    })
}

/// The one writer of a work folder: `OUT.parts/lock` holds its process id while it runs, so a
/// second `extract` onto the same `--out` is refused instead of racing the first over the
/// chunk files. A lock whose process is gone (a killed run) is taken over.
struct WorkLock {
    path: std::path::PathBuf,
}

impl WorkLock {
    fn acquire(parts: &Path, out: &Path) -> Result<WorkLock, ExtractError> {
        use std::io::Write;
        let path = parts.join("lock");
        let io = |e: std::io::Error| ExtractError::io(&path)(e);
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    write!(f, "{}", std::process::id()).map_err(io)?;
                    return Ok(WorkLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.trim().parse::<i32>().ok());
                    if let Some(pid) = holder.filter(|&p| process_alive(p)) {
                        return Err(ExtractError::Busy {
                            out: out.display().to_string(),
                            pid,
                        });
                    }
                    // The holder is gone: its run was killed; this run resumes its work.
                    std::fs::remove_file(&path).map_err(io)?;
                }
                Err(e) => return Err(io(e)),
            }
        }
        Err(ExtractError::file(&path, "could not take the lock"))
    }
}

impl Drop for WorkLock {
    fn drop(&mut self) {
        // The folder is removed when the table is written; then there is nothing to remove.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether process `pid` exists (signal 0 checks without sending anything).
fn process_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for the process.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// `out` exists: nothing to compute if it was made with `manifest` (device kinds aside with
/// `--allow-device-change`), else the refusal naming the first difference.
fn finished_table(
    mut manifest: Manifest,
    opts: &ExtractOptions,
    out: &Path,
) -> Result<ExtractSummary, ExtractError> {
    let existing = crate::extract::table_out::read_manifest(out)?.ok_or_else(|| {
        ExtractError::NotAnExtraction {
            path: out.to_path_buf(),
        }
    })?;
    if opts.allow_device_change && existing.differs_in_device_only(&manifest) {
        manifest.device_kind.clone_from(&existing.device_kind);
    }
    match manifest.first_difference(&existing) {
        None => Ok(ExtractSummary {
            progress: Progress {
                done: manifest.archs.len(),
                total: manifest.archs.len(),
                resumed: manifest.archs.len(),
                ..Progress::default()
            },
            wall_seconds: 0.0,
            already_complete: true,
            table_archs: manifest.archs.len(),
        }),
        Some(field) => Err(ExtractError::ConfigMismatch {
            path: out.display().to_string(),
            field,
        }),
    }
}

/// Creates the work folder or checks the one there: a new folder gets `manifest`; an existing
/// one must hold the same manifest (or, with `--allow-device-change`, differ in device kinds
/// only, which are then merged and written back). Returns the manifest of the run.
fn reconcile_work_folder(
    mut manifest: Manifest,
    opts: &ExtractOptions,
    parts: &Path,
) -> Result<Manifest, ExtractError> {
    std::fs::create_dir_all(parts).map_err(ExtractError::io(parts))?;
    match chunks::read_manifest(parts)? {
        Some(m) => {
            if opts.allow_device_change && m.differs_in_device_only(&manifest) {
                manifest.device_kind = m.device_kind.then(&manifest.device_kind);
                chunks::write_manifest(parts, &manifest)?;
            } else if let Some(field) = manifest.first_difference(&m) {
                return Err(ExtractError::ConfigMismatch {
                    path: parts.display().to_string(),
                    field,
                });
            }
        }
        None => chunks::write_manifest(parts, &manifest)?,
    }
    Ok(manifest)
}

/// The work of a run: the archs whose vectors it computes, cut into chunks of the manifest's
/// size; chunk `k` is the file `chunk-k` of the work folder.
struct Plan<'a> {
    manifest: &'a Manifest,
    parts: std::path::PathBuf,
    proxies: Vec<ProxyRef>,
    work: Vec<usize>,
    size: usize,
}

impl<'a> Plan<'a> {
    fn new(manifest: &'a Manifest, parts: std::path::PathBuf) -> Result<Plan<'a>, ExtractError> {
        Ok(Plan {
            proxies: proxies_by_name(&manifest.proxies)?,
            work: work_list(manifest)?,
            size: manifest.chunk_size.max(1),
            manifest,
            parts,
        })
    }

    fn n_chunks(&self) -> usize {
        self.work.len().div_ceil(self.size)
    }

    /// The archs of chunk `k`.
    fn chunk(&self, k: usize) -> &[usize] {
        let start = k * self.size;
        &self.work[start..(start + self.size).min(self.work.len())]
    }

    /// The chunks not on disk, in order.
    fn missing_chunks(&self) -> Vec<usize> {
        (0..self.n_chunks())
            .filter(|&k| !chunks::chunk_path(&self.parts, k).exists())
            .collect()
    }

    fn engine(&self, device: Device) -> Result<Engine, ExtractError> {
        Ok(Engine::new(
            self.proxies.clone(),
            self.manifest.config.clone(),
            self.manifest.dataset,
            device,
        )?)
    }
}

/// What a worker did with one chunk.
enum ChunkOutcome {
    Rows(Vec<ChunkRow>),
    /// An arch ran out of device memory while other workers were alive: the chunk goes back
    /// to the queue and this worker stops, so fewer archs share the GPU.
    OutOfMemory,
}

/// Scores the archs of chunk `k`. Out of memory is [`ChunkOutcome::OutOfMemory`] while
/// `others_alive`; the last worker records it as failed rows instead.
fn score_chunk(
    plan: &Plan,
    engine: &Engine,
    k: usize,
    others_alive: impl Fn() -> bool,
) -> Result<ChunkOutcome, ExtractError> {
    let archs = plan
        .chunk(k)
        .iter()
        .map(|&index| plan.manifest.space.arch(index))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::with_capacity(archs.len());
    // One arch (or one batched engine's group) at a time, so that running out of memory
    // hands the rest of the chunk back at once.
    for group in archs.chunks(engine.group_size()) {
        for (arch, scored) in group.iter().zip(engine.score_many(group)) {
            let (row, oom) = match scored {
                Ok(v) => (ChunkRow::scored(arch, &v), v.out_of_memory),
                Err(e) => (
                    ChunkRow::unbuildable(arch, plan.proxies.len(), e.reason()),
                    e.is_out_of_memory(),
                ),
            };
            if oom && others_alive() {
                return Ok(ChunkOutcome::OutOfMemory);
            }
            rows.push(row);
        }
    }
    Ok(ChunkOutcome::Rows(rows))
}

/// Computes every chunk not on disk with `opts.workers` workers, each writing its chunks as it
/// finishes them. Returns the progress and the worker count started with.
fn compute_chunks(
    plan: &Plan,
    opts: &ExtractOptions,
    on_progress: &(dyn Fn(&Progress) + Sync),
) -> Result<(Progress, usize), ExtractError> {
    let todo: VecDeque<usize> = plan.missing_chunks().into();
    let resumed: usize = (0..plan.n_chunks())
        .filter(|k| !todo.contains(k))
        .map(|k| plan.chunk(k).len())
        .sum();
    let workers = opts.workers.clamp(1, todo.len().max(1));
    let queue = Mutex::new(todo);
    let progress = Mutex::new(Progress {
        done: resumed,
        total: plan.work.len(),
        resumed,
        workers,
        ..Progress::default()
    });
    let active = AtomicUsize::new(workers);
    let first_error: Mutex<Option<ExtractError>> = Mutex::new(None);
    let fail = |e: ExtractError| {
        first_error.lock().expect("lock").get_or_insert(e);
    };
    on_progress(&progress.lock().expect("progress lock"));

    // Each worker builds its engine on its own pool thread.
    crate::proxy::pool::on_threads(opts.device, &mut vec![(); workers], |_| {
        let engine = match plan.engine(opts.device) {
            Ok(e) => e,
            Err(e) => {
                fail(e);
                active.fetch_sub(1, Ordering::SeqCst);
                return;
            }
        };
        while first_error.lock().expect("lock").is_none() {
            let Some(k) = queue.lock().expect("queue lock").pop_front() else {
                break;
            };
            let others_alive = || active.load(Ordering::SeqCst) > 1;
            let rows = match score_chunk(plan, &engine, k, others_alive) {
                Ok(ChunkOutcome::Rows(rows)) => rows,
                Ok(ChunkOutcome::OutOfMemory) => {
                    queue.lock().expect("queue lock").push_front(k);
                    let mut p = progress.lock().expect("progress lock");
                    p.workers = active.fetch_sub(1, Ordering::SeqCst) - 1;
                    on_progress(&p);
                    return;
                }
                Err(e) => {
                    fail(e);
                    return;
                }
            };
            if let Err(e) = chunks::write_chunk(&plan.parts, k, &rows) {
                fail(e);
                break;
            }
            let mut p = progress.lock().expect("progress lock");
            p.done += rows.len();
            p.failed += rows.iter().filter(|r| !r.ok()).count();
            for r in &rows {
                p.seconds.accumulate(&r.seconds);
            }
            on_progress(&p);
        }
        active.fetch_sub(1, Ordering::SeqCst);
    })
    .map_err(ExtractError::Engine)?;
    if let Some(e) = first_error.into_inner().expect("lock") {
        return Err(e);
    }
    Ok((progress.into_inner().expect("lock"), workers))
}

/// The rows of the table, in arch-list order, from the chunks on disk (all must be there and
/// hold the archs this run assigns them); with shared isomorphism classes, every member's row
/// is made from its representative's ([`share_rows`]).
fn assemble_rows(plan: &Plan, opts: &ExtractOptions) -> Result<Vec<ChunkRow>, ExtractError> {
    let missing = plan.missing_chunks();
    if let Some(first) = missing.first() {
        return Err(ExtractError::Incomplete(format!(
            "{} chunk(s) not written (first: {first}); run the same command again to resume",
            missing.len(),
        )));
    }
    let mut rows = Vec::with_capacity(plan.work.len());
    for k in 0..plan.n_chunks() {
        let want = plan.chunk(k);
        let chunk = chunks::read_chunk(&plan.parts, k, want.len())?;
        if chunk.iter().map(|r| r.index).ne(want.iter().copied()) {
            return Err(ExtractError::file(
                chunks::chunk_path(&plan.parts, k),
                format!("its archs are not those of chunk {k} of this run; remove the folder to start over"),
            ));
        }
        rows.extend(chunk);
    }
    if !plan.manifest.config.share_isomorphic {
        return Ok(rows);
    }
    // On a pool thread, as the workers compute: libtorch's CPU settings are per thread, and a
    // value must not depend on which thread computed it.
    let mut job = [(Some(rows), None)];
    crate::proxy::pool::on_threads(opts.device, &mut job, |(rows, shared)| {
        let rows = rows.take().unwrap_or_default();
        *shared = Some(
            plan.engine(opts.device)
                .and_then(|e| share_rows(plan.manifest, &e, rows)),
        );
    })
    .map_err(ExtractError::Engine)?;
    let [(_, shared)] = job;
    shared.unwrap_or_else(|| {
        Err(ExtractError::Incomplete(
            "the worker sharing isomorphic rows did not finish".into(),
        ))
    })
}
