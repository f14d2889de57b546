//! `greenfactory extract`: the proxy table of many archs, resumable.

use super::args::EngineArgs;
use crate::extract::{
    extract, shard_archs, ArchSelection, ExtractError, ExtractOptions, Manifest, Progress, Shard,
};
use crate::net::parse_device;
use crate::provenance::{DeviceKind, DeviceKinds};
use crate::proxy::proxies_for_spec;
use crate::space::{NatsDataset, Space};
use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use tch::Device;

#[derive(Args, Debug)]
pub struct ExtractArgs {
    /// Search space: tss (NATS-Bench topology space, 15,625 cells), sss (size space, 32,768
    /// channel configurations), macro (NAS-Bench-Macro, 6,561 archs), nb101 (NAS-Bench-101
    /// cells, MATRIX;OPS) or darts (DARTS genotypes, NAS-Bench-301's network).
    #[arg(long)]
    pub space: Space,
    /// cifar10, cifar100 or imagenet16-120.
    #[arg(long)]
    pub dataset: NatsDataset,
    /// all | sample:N[:SEED] | range:A..B | file:F (arch strings or indices, one per line).
    #[arg(long)]
    pub archs: String,
    /// Comma-separated proxy names, `default` (the space's default vector: TSS params, flops,
    /// l2_norm, synflow, jacov, epe_nas, nwot, meco, meco_opt; SSS params, flops, synflow; each
    /// with the space's topology or channel counts) or `all`.
    #[arg(long)]
    pub proxies: Vec<String>,
    /// Archs scored at once: `auto` (one per CPU core; on CUDA at most 16) or a number.
    /// Threads, each with its own copy of the batch and one libtorch CPU thread. Values do not
    /// depend on it.
    #[arg(long, default_value = "auto")]
    pub workers: String,
    /// Archs per checkpointed chunk.
    #[arg(long, default_value_t = 25)]
    pub chunk_size: usize,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Output Parquet table; work in progress lives in OUT.parts/ until it is complete.
    #[arg(long)]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Score only shard K of N (`K/N`, 0-based) of the selection, e.g. one job of a SLURM array
    /// (`--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`); `greenfactory combine` puts
    /// the N shard tables together into the table of the unsharded run.
    #[arg(long)]
    pub shard: Option<String>,
    /// Finish a run begun on another device kind (cuda ↔ cpu); the table records both.
    #[arg(long)]
    pub allow_device_change: bool,
}

/// `--workers`: a number ≥ 1, or `auto` — one worker per CPU core (each worker runs libtorch
/// on one thread), on CUDA at most 16 (the H200 measurement of `benches/README.md`: 16
/// workers on its 16 cores).
fn resolve_workers(spec: &str, device: Device) -> anyhow::Result<usize> {
    if spec == "auto" {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        return Ok(if device == Device::Cpu {
            cores
        } else {
            cores.min(16)
        });
    }
    match spec.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => anyhow::bail!("--workers {spec:?}: expected auto or a number of at least 1"),
    }
}

/// `--shard K/N`: 0 ≤ K < N.
fn parse_shard(spec: &str) -> anyhow::Result<(usize, usize)> {
    let parsed = spec
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse::<usize>().ok()?, n.parse::<usize>().ok()?)));
    match parsed {
        Some((k, n)) if n >= 1 && k < n => Ok((k, n)),
        _ => bail!("--shard {spec:?}: expected K/N with 0 <= K < N (e.g. 0/8 … 7/8)"),
    }
}

/// The library's error with the flags that act on it.
fn with_flags(e: ExtractError) -> anyhow::Error {
    match &e {
        ExtractError::ConfigMismatch { field, .. } => {
            let device = if field.starts_with("device") {
                " (or --allow-device-change to finish it on this device)"
            } else {
                ""
            };
            anyhow::anyhow!("{e}; use another --out or delete it to start over{device}")
        }
        ExtractError::NotAnExtraction { .. } => anyhow::anyhow!("{e}; choose another --out"),
        ExtractError::Selection { .. } | ExtractError::ArchList { .. } => {
            anyhow::Error::new(e).context("--archs")
        }
        _ => e.into(),
    }
}

pub fn run(a: ExtractArgs) -> anyhow::Result<()> {
    let selection = ArchSelection::parse(&a.archs).map_err(with_flags)?;
    let archs = selection.indices(a.space).map_err(with_flags)?;
    if archs.is_empty() {
        anyhow::bail!("--archs {} selects no archs", a.archs);
    }
    if a.chunk_size == 0 {
        anyhow::bail!("--chunk-size must be at least 1");
    }
    if a.engine.engine.is_batched() && a.engine.engine.group_archs > a.chunk_size {
        anyhow::bail!(
            "--group-archs {} exceeds --chunk-size {}: a group never spans chunks",
            a.engine.engine.group_archs,
            a.chunk_size
        );
    }
    let proxies: Vec<String> = proxies_for_spec(a.space, &crate::formula::split_lists(&a.proxies))
        .context("--proxies")?
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    let device = parse_device(&a.engine.device)?;
    let workers = resolve_workers(&a.workers, device)?;
    let mut config = a.engine.config(a.space, a.dataset, true)?;
    config.tf32 = crate::net::tf32_in_use(device);
    let (archs, shard) = match &a.shard {
        None => (archs, None),
        Some(spec) => {
            let (k, n) = parse_shard(spec)?;
            let mine = shard_archs(&archs, a.space, config.share_isomorphic, k, n)?;
            if mine.is_empty() {
                bail!(
                    "--shard {spec}: this shard has no archs (the selection has fewer work units than {n}; with shared isomorphism classes a unit is a class)"
                );
            }
            (
                mine,
                Some(Shard {
                    index: k,
                    count: n,
                    selection: archs,
                }),
            )
        }
    };
    let manifest = Manifest {
        space: a.space,
        dataset: a.dataset,
        proxies,
        config,
        archs,
        chunk_size: a.chunk_size,
        device_kind: DeviceKinds::one(DeviceKind::of(device)),
        shard,
    };
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(manifest.archs.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} archs  {per_sec}  ETA {eta}  {msg}")
            .expect("valid template"),
    );
    let lines = std::sync::Mutex::new(super::progress::LineProgress::new(
        &format!("extract {}", a.out.display()),
        "archs",
        a.quiet,
    ));
    let on_progress = |p: &Progress| {
        // With shared isomorphism classes the run computes one vector per class.
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        bar.set_message(format!("failed {}  workers {}", p.failed, p.workers));
        if let Ok(mut l) = lines.lock() {
            l.update(
                p.done as u64,
                p.total as u64,
                &format!("{} failed", p.failed),
            );
        }
    };
    let opts = ExtractOptions {
        device,
        workers,
        allow_device_change: a.allow_device_change,
    };
    let summary = extract(manifest, &opts, &a.out, &on_progress).map_err(with_flags)?;
    bar.finish_and_clear();
    let p = &summary.progress;
    if summary.already_complete {
        eprintln!(
            "{} is already complete ({} archs); nothing to do",
            a.out.display(),
            p.total
        );
        return Ok(());
    }
    let computed = p.done - p.resumed;
    let shared = if summary.table_archs != p.total {
        format!(
            " ({} isomorphism classes: {} computed, {} resumed)",
            p.total, computed, p.resumed
        )
    } else {
        format!(" ({} resumed, {} computed)", p.resumed, computed)
    };
    let fresh_share = computed as f64 / p.total.max(1) as f64;
    eprintln!(
        "{}: {} archs{shared}, {} failed, in {:.1} s on {} with {} {}: {:.2} archs/s ({:.2} computed vectors/s); CPU: {}",
        a.out.display(),
        summary.table_archs,
        p.failed,
        summary.wall_seconds,
        match device {
            tch::Device::Cuda(i) => format!("cuda:{i}"),
            _ => "cpu".to_string(),
        },
        workers,
        if workers == 1 { "worker" } else { "workers" },
        summary.table_archs as f64 * fresh_share / summary.wall_seconds.max(1e-9),
        computed as f64 / summary.wall_seconds.max(1e-9),
        crate::extract::cpu_model()
    );
    if computed > 0 {
        eprintln!(
            "time per computed vector by pass: {}",
            p.seconds.per(computed as f64).describe_ms()
        );
    }
    Ok(())
}
