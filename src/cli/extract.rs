//! `greenfactory extract`: the proxy table of many archs, resumable.

use super::proxies::EngineArgs;
use crate::extract::{extract, ArchSelection, ExtractOptions, Manifest, Progress};
use crate::net::parse_device;
use crate::proxy::{all_proxies_for, proxies_by_name};
use crate::space::{NatsDataset, Space};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use tch::Device;

#[derive(Args, Debug)]
pub struct ExtractArgs {
    #[arg(long)]
    pub space: Space,
    /// cifar10, cifar100 or imagenet16-120.
    #[arg(long)]
    pub dataset: NatsDataset,
    /// all | sample:N[:SEED] | range:A..B | file:F (arch strings or indices, one per line).
    #[arg(long)]
    pub archs: String,
    /// Comma-separated proxy names (default: all).
    #[arg(long, value_delimiter = ',')]
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

const GROUPS: [&str; 5] = ["static", "labelled", "jacobian", "forward", "own"];

pub fn run(a: ExtractArgs) -> anyhow::Result<()> {
    let selection = ArchSelection::parse(&a.archs)?;
    let archs = selection.indices(a.space)?;
    if archs.is_empty() {
        anyhow::bail!("--archs {} selects no archs", a.archs);
    }
    if a.chunk_size == 0 {
        anyhow::bail!("--chunk-size must be at least 1");
    }
    let proxies: Vec<String> = if a.proxies.is_empty() {
        all_proxies_for(a.space)
            .iter()
            .map(|p| p.name().to_string())
            .collect()
    } else {
        proxies_by_name(&a.proxies)
            .map_err(anyhow::Error::msg)?
            .iter()
            .map(|p| p.name().to_string())
            .collect()
    };
    let device = parse_device(&a.engine.device)?;
    let workers = resolve_workers(&a.workers, device)?;
    let manifest = Manifest {
        space: a.space.name().into(),
        dataset: a.dataset.name().into(),
        proxies,
        config: a.engine.config(a.dataset)?,
        archs,
        chunk_size: a.chunk_size,
        device_kind: if device == Device::Cpu {
            "cpu".into()
        } else {
            "cuda".into()
        },
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
    let on_progress = |p: &Progress| {
        bar.set_position(p.done as u64);
        bar.set_message(format!("failed {}  workers {}", p.failed, p.workers));
    };
    let opts = ExtractOptions {
        device,
        workers,
        allow_device_change: a.allow_device_change,
    };
    let summary = extract(manifest, &opts, &a.out, &on_progress)?;
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
    eprintln!(
        "{}: {} archs ({} resumed, {} computed, {} failed) in {:.1} s on {:?} with {} worker(s): {:.2} archs/s",
        a.out.display(),
        p.total,
        p.resumed,
        computed,
        p.failed,
        summary.wall_seconds,
        device,
        workers,
        computed as f64 / summary.wall_seconds.max(1e-9)
    );
    if computed > 0 {
        let per: Vec<String> = GROUPS
            .iter()
            .zip(p.seconds)
            .map(|(g, s)| format!("{g} {:.1} ms", 1e3 * s / computed as f64))
            .collect();
        eprintln!("time per arch by pass group: {}", per.join(", "));
    }
    Ok(())
}
