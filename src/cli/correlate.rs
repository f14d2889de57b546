//! `greenfactory correlate`: Kendall τ of each proxy column with accuracy
//! ([`crate::table::proxy_taus`]).

use super::args::{load_labels, resolve_target};
use crate::space::{NatsDataset, Space};
use crate::table::PlainLayout;
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CorrelateArgs {
    /// Proxy table (`extract` output, a Suite-Zero joined CSV, or your own CSV/Parquet with an
    /// arch column and one numeric column per proxy).
    #[arg(long)]
    pub features: PathBuf,
    /// Search space of a plain table without a `space` column (default: told by its arch
    /// strings).
    #[arg(long)]
    pub space: Option<Space>,
    /// Labels (as `train --labels`).
    #[arg(long)]
    pub labels: PathBuf,
    /// cifar10, cifar100 or imagenet16-120.
    #[arg(long)]
    pub dataset: NatsDataset,
    /// Label to correlate with (as `train --target`).
    #[arg(long)]
    pub target: Option<String>,
    /// Only these columns (comma-separated; formulas may hold commas inside parentheses), in
    /// this order. Default: every feature column, the strongest (largest |τ|) first.
    #[arg(long)]
    pub only: Vec<String>,
}

pub fn run(a: CorrelateArgs) -> anyhow::Result<()> {
    let layout = PlainLayout {
        space: a.space,
        dataset: Some(a.dataset),
    };
    let table = crate::table::read_proxies_as(&a.features, &layout).context("--features")?;
    let space = table.space().context("--features")?;
    let labels = load_labels(
        &a.labels,
        &PlainLayout {
            space: Some(space),
            dataset: Some(a.dataset),
        },
    )?;
    let kind = resolve_target(a.target.as_deref(), &labels, space, a.dataset)?;
    let by_index = labels
        .accuracies(space, a.dataset, &kind)
        .context("--labels")?;
    let only = crate::formula::split_lists(&a.only);
    let mut taus =
        crate::table::proxy_taus(&table, a.dataset, &by_index, &only).context("--features")?;
    // The strongest first, by |τ| with the sign kept (an inversely ranking proxy is as
    // informative); constant columns last. --only keeps the order asked for.
    if only.is_empty() {
        taus.sort_by(|x, y| {
            let key = |t: f64| if t.is_nan() { -1.0 } else { t.abs() };
            key(y.tau).total_cmp(&key(x.tau))
        });
    }
    eprintln!(
        "Kendall τ-b with {} {} {} ({}), live labelled archs of {}",
        space,
        a.dataset,
        kind.describe(),
        labels.source,
        a.features.display()
    );
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:>7} {:>6} {:>8}  proxy", "tau", "archs", "no value")?;
    for t in taus {
        // τ is undefined for a constant column (e.g. a count every live arch shares).
        let tau = if t.tau.is_nan() {
            "const".to_string()
        } else {
            format!("{:.3}", t.tau)
        };
        writeln!(out, "{:>7} {:>6} {:>8}  {}", tau, t.n, t.missing, t.proxy)?;
    }
    Ok(())
}
