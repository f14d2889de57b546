//! `greenfactory bench`: throughput on this machine's CPU or GPU, with ratios against the
//! anchors named in `benches/README.md`.

use crate::net::parse_device;
use crate::space::{NatsDataset, Space};
use anyhow::Context;
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Build + init + forward+backward of N archs at a batch size.
    Net {
        #[arg(long, default_value = "tss")]
        space: Space,
        #[arg(long, default_value = "cifar10")]
        dataset: NatsDataset,
        #[arg(long, default_value_t = 100)]
        archs: usize,
        #[arg(long, default_value_t = 64)]
        batch_size: usize,
        #[arg(long, default_value = "auto")]
        device: String,
    },
    /// An extraction of N sampled archs with the space's default vector and `extract`'s
    /// default configuration (foolbox images, batch 20, isomorphism classes shared on TSS), with
    /// each worker count, by the per-arch engine and (TSS) the batched engine of
    /// --group-archs archs; the first count's per-arch run is the baseline of the printed
    /// ratios, and each batched line gives its ratio to the per-arch run of its worker count.
    Vector {
        #[arg(long, default_value = "tss")]
        space: Space,
        #[arg(long, default_value = "cifar10")]
        dataset: NatsDataset,
        #[arg(long, default_value_t = 100)]
        archs: usize,
        /// Worker counts to compare, the first being the baseline.
        #[arg(long, value_delimiter = ',', default_value = "1,8")]
        workers: Vec<usize>,
        /// The proxies: `default` (the space's default vector), `all`, or names and formulas
        /// (as `extract --proxies`).
        #[arg(long, default_value = "default")]
        proxies: Vec<String>,
        /// The engines to time, in order: per-arch, batched (TSS only). --engine is ignored.
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "per-arch,batched"
        )]
        engines: Vec<crate::cli::args::EngineArg>,
        #[command(flatten)]
        engine: crate::cli::args::EngineArgs,
    },
    /// How far the values of one proxy table are from another's on the same archs (e.g. a
    /// CUDA extraction against the CPU's): per proxy the median, 99th percentile and maximum
    /// relative difference; with --model, how far its predictions from the two tables are.
    Compare {
        /// The table compared (e.g. the CUDA one).
        table: std::path::PathBuf,
        /// The reference (e.g. the CPU one).
        reference: std::path::PathBuf,
        /// A model whose predictions from both tables are compared (accuracy points).
        #[arg(long)]
        model: Option<std::path::PathBuf>,
    },
    /// Per-proxy time of the full vector, one arch at a time, on the archs whose CPU times
    /// NASLib recorded (`naslib_zc_nasbench201_partial_1bdbd960_long.csv`), next to NASLib's.
    Proxies {
        #[arg(long, default_value = "cifar10")]
        dataset: NatsDataset,
        /// Timed archs (one more is scored first as a warm-up).
        #[arg(long, default_value_t = 10)]
        archs: usize,
        /// libtorch intra-op threads (NASLib's figures are from 3 cores).
        #[arg(long, default_value_t = 2)]
        threads: i32,
        /// NASLib's long CSV with `nats_index` and `<proxy>_time_s` columns.
        #[arg(
            long,
            default_value = "../shared/data/zc_nasbench_suite_zero/naslib_zc_nasbench201_partial_1bdbd960_long.csv"
        )]
        naslib: std::path::PathBuf,
        /// Only these proxies (default: all).
        #[arg(long)]
        proxies: Vec<String>,
        #[arg(long, default_value = "cpu")]
        device: String,
    },
}

/// SamsungLabs zero-cost-nas (7 proxies, one arch at a time) measured on the H200: 2.27 s/arch.
const PYTHON_ANCHOR_ARCHS_PER_S: f64 = 1.0 / 2.27;
/// Eager PyTorch, one forward+backward of a TSS net at batch 64 on the H200: ~25 ms.
const EAGER_FWD_BWD_ARCHS_PER_S: f64 = 1.0 / 0.025;

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    match a.what {
        BenchWhat::Net {
            space,
            dataset,
            archs,
            batch_size,
            device,
        } => {
            let dev = parse_device(&device)?;
            let r = crate::bench::forward_backward(space, dataset, archs, batch_size, dev)?;
            println!(
                "net {space} {dataset} batch {batch_size} on {dev:?}: {r:.2} archs/s (build+init+fwd+bwd), {:.2}x the eager-PyTorch anchor of {EAGER_FWD_BWD_ARCHS_PER_S:.0} archs/s",
                r / EAGER_FWD_BWD_ARCHS_PER_S
            );
        }
        BenchWhat::Vector {
            space,
            dataset,
            archs,
            workers,
            proxies,
            engines: engine_kinds,
            engine,
        } => {
            let dev = parse_device(&engine.device)?;
            let proxies: Vec<String> =
                crate::proxy::proxies_for_spec(space, &crate::formula::split_lists(&proxies))
                    .context("--proxies")?
                    .iter()
                    .map(|p| p.name().to_string())
                    .collect();
            let mut config = engine.config(space, dataset, true)?;
            config.tf32 = crate::net::tf32_in_use(dev);
            println!(
                "vector: {} proxies on {}, batch {}, isomorphism classes {}",
                proxies.len(),
                config.data.describe(),
                config.batch_size,
                if config.share_isomorphic {
                    "shared"
                } else {
                    "each computed"
                }
            );
            if let Some(mode) = crate::net::gpu_worker_mode(dev) {
                println!("{mode}");
            }
            let engines: Vec<crate::provenance::EngineKind> = engine_kinds
                .iter()
                .filter_map(|e| match e {
                    crate::cli::args::EngineArg::PerArch => {
                        Some(crate::provenance::EngineKind::PerArch)
                    }
                    // The size space's archs differ in shape: the batched engine would score
                    // them one at a time, timing nothing new.
                    crate::cli::args::EngineArg::Batched if space == Space::Tss => {
                        Some(crate::provenance::EngineKind::Batched {
                            archs: engine.engine.group_archs.max(2),
                        })
                    }
                    crate::cli::args::EngineArg::Batched => None,
                })
                .collect();
            let mut base = None;
            for w in workers {
                let mut per_arch_rate = None;
                for kind in &engines {
                    let config = crate::provenance::ProxyConfig {
                        engine: *kind,
                        ..config.clone()
                    };
                    let (r, per) = crate::bench::vector(
                        space,
                        dataset,
                        archs,
                        w,
                        dev,
                        proxies.clone(),
                        config,
                    )?;
                    let b = *base.get_or_insert(r);
                    let vs_per_arch = match per_arch_rate {
                        None => {
                            per_arch_rate = Some(r);
                            String::new()
                        }
                        Some(p) => format!(", {:.2}x the per-arch engine", r / p),
                    };
                    // The Python anchor was measured on the H200; it means nothing on a CPU.
                    let anchor = if dev == tch::Device::Cpu {
                        String::new()
                    } else {
                        format!(
                        ", {:.1}x the Python anchor ({PYTHON_ANCHOR_ARCHS_PER_S:.2} archs/s on the H200)",
                        r / PYTHON_ANCHOR_ARCHS_PER_S
                    )
                    };
                    println!(
                    "vector {space} {dataset} {archs} archs on {dev:?} workers {w} engine {kind}: {r:.2} archs/s, {:.2}x workers-first baseline{vs_per_arch}{anchor}; per arch: {}",
                    r / b,
                    per.describe_ms()
                );
                }
            }
        }
        BenchWhat::Compare {
            table,
            reference,
            model,
        } => {
            let a =
                crate::table::read_proxies(&table).with_context(|| table.display().to_string())?;
            let b = crate::table::read_proxies(&reference)
                .with_context(|| reference.display().to_string())?;
            println!(
                "{} against {}: relative difference |a - b| / max(|a|, |b|)",
                table.display(),
                reference.display()
            );
            println!(
                "{:<18} {:>6} {:>10} {:>10} {:>10}",
                "proxy", "archs", "median", "p99", "max"
            );
            for d in crate::bench::compare_tables(&a, &b)? {
                println!(
                    "{:<18} {:>6} {:>10.2e} {:>10.2e} {:>10.2e}",
                    d.proxy, d.n, d.median, d.p99, d.max
                );
            }
            if let Some(m) = model {
                let model = crate::model::Model::load(&m)?;
                let d = crate::bench::compare_predictions(&model, &a, &b)?;
                println!(
                    "predictions of {} on {} archs: max difference {:.3} points, mean {:.4}, {} above 0.05 ({:.2} % within 0.05)",
                    m.display(),
                    d.n,
                    d.max,
                    d.mean,
                    d.over_005,
                    100.0 * (d.n - d.over_005) as f64 / d.n as f64
                );
            }
        }
        BenchWhat::Proxies {
            dataset,
            archs,
            threads,
            naslib,
            proxies,
            device,
        } => proxies_vs_naslib(dataset, archs, threads, &naslib, proxies, &device)?,
    }
    Ok(())
}

/// `(proxy, seconds per arch)`, in NASLib's column order.
type ProxySeconds = Vec<(String, f64)>;

/// NASLib's recorded per-proxy seconds of the first `n + 1` archs of `dataset`: their NATS
/// indices, and `(proxy, seconds per arch)` averaged over the `n` timed ones (the first is our
/// warm-up).
fn naslib_times(
    path: &std::path::Path,
    dataset: NatsDataset,
    n: usize,
) -> anyhow::Result<(Vec<usize>, ProxySeconds)> {
    let rows = crate::table::read_naslib_timings(path, dataset.name())?;
    if rows.len() < n + 1 {
        anyhow::bail!(
            "{} has {} rows for {dataset}, {} needed",
            path.display(),
            rows.len(),
            n + 1
        );
    }
    let rows = &rows[..n + 1];
    let indices = rows.iter().map(|r| r.arch_index as usize).collect();
    let mut times: Vec<(String, f64)> = rows[0]
        .seconds
        .iter()
        .map(|(name, _)| (name.clone(), 0.0))
        .collect();
    for r in &rows[1..] {
        for ((_, sum), (_, s)) in times.iter_mut().zip(&r.seconds) {
            *sum += s / n as f64;
        }
    }
    Ok((indices, times))
}

fn proxies_vs_naslib(
    dataset: NatsDataset,
    n: usize,
    threads: i32,
    naslib: &std::path::Path,
    proxies: Vec<String>,
    device: &str,
) -> anyhow::Result<()> {
    if n == 0 {
        anyhow::bail!("--archs must be at least 1");
    }
    let dev = parse_device(device)?;
    let (indices, naslib) = naslib_times(naslib, dataset, n)?;
    tch::set_num_threads(threads);
    let proxies = crate::formula::split_lists(&proxies);
    let proxies = (!proxies.is_empty()).then_some(proxies);
    let t = crate::bench::proxy_times(Space::Tss, dataset, &indices, dev, proxies)?;
    let naslib_of = |name: &str| naslib.iter().find(|(p, _)| p == name).map(|(_, s)| *s);
    println!(
        "proxies tss {dataset} on {dev:?}, {threads} libtorch threads, {} archs (NATS indices of NASLib's first rows); ms per arch",
        t.archs
    );
    println!("{:<14} {:>10} {:>10}", "proxy", "ours_own", "naslib");
    for (name, s) in t.names.iter().zip(&t.own) {
        let theirs = naslib_of(name).map_or("-".to_string(), |v| format!("{:.1}", v * 1e3));
        println!("{name:<14} {:>10.1} {theirs:>10}", s * 1e3);
    }
    println!("pass groups: {}", t.groups.describe_ms());
    let naslib_sum: f64 = naslib.iter().map(|(_, s)| s).sum();
    let shared: f64 = t
        .names
        .iter()
        .enumerate()
        .filter(|(_, n)| naslib_of(n).is_some())
        .count() as f64;
    println!(
        "whole vector ({} proxies) {:.0} ms/arch; NASLib sum of its {} proxies {:.0} ms/arch (3 cores); ratio {:.3} (goal < 0.5); {} proxies in common",
        t.names.len(),
        t.wall * 1e3,
        naslib.len(),
        naslib_sum * 1e3,
        t.wall / naslib_sum,
        shared
    );
    Ok(())
}
