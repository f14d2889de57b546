//! `greenfactory bench`: throughput on this machine's CPU or GPU, with ratios against the
//! anchors named in `benches/README.md`.

use crate::net::parse_device;
use crate::space::{NatsDataset, Space};
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
    /// The full proxy vector of N archs, sequentially and with K workers.
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
        /// Only these proxies (default: all).
        #[arg(long, value_delimiter = ',')]
        proxies: Vec<String>,
        #[arg(long, default_value = "auto")]
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
            device,
        } => {
            let dev = parse_device(&device)?;
            let proxies = (!proxies.is_empty()).then_some(proxies);
            let mut base = None;
            for w in workers {
                let (r, per) =
                    crate::bench::vector(space, dataset, archs, w, dev, proxies.clone())?;
                let b = *base.get_or_insert(r);
                println!(
                    "vector {space} {dataset} {archs} archs on {dev:?} workers {w}: {r:.2} archs/s, {:.2}x workers-{} baseline, {:.1}x the Python anchor ({PYTHON_ANCHOR_ARCHS_PER_S:.2} archs/s); per arch ms: static {:.1} labelled {:.1} jacobian {:.1} forward {:.1} own {:.1}",
                    r / b,
                    "first",
                    r / PYTHON_ANCHOR_ARCHS_PER_S,
                    per[0] * 1e3, per[1] * 1e3, per[2] * 1e3, per[3] * 1e3, per[4] * 1e3
                );
            }
        }
    }
    Ok(())
}
