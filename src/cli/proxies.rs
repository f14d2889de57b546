//! `greenfactory proxies`: every proxy of one or many archs.

use super::args::{collect_archs, EngineArgs};
use super::output::{print_rows, Cell, Format};
use crate::net::parse_device;
use crate::proxy::{proxies_for_spec, Engine};
use crate::space::{NatsDataset, Space};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ProxiesArgs {
    /// Search space: tss (NATS-Bench topology space, 15,625 cells), sss (size space, 32,768
    /// channel configurations), macro (NAS-Bench-Macro, 6,561 archs), nb101 (NAS-Bench-101
    /// cells, MATRIX;OPS) or darts (DARTS genotypes, NAS-Bench-301's network).
    #[arg(long)]
    pub space: Space,
    /// cifar10, cifar100 or imagenet16-120.
    #[arg(long, default_value = "cifar10")]
    pub dataset: NatsDataset,
    /// Arch string(s) (repeatable).
    #[arg(long = "arch")]
    pub archs: Vec<String>,
    /// File with one arch string (or official index) per line.
    #[arg(long)]
    pub arch_file: Option<PathBuf>,
    /// Comma-separated proxy names, `default` (the default vector) or `all`.
    #[arg(long)]
    pub only: Vec<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(a: ProxiesArgs) -> anyhow::Result<()> {
    let archs = collect_archs(a.space, &a.archs, a.arch_file.as_ref())?;
    let proxies =
        proxies_for_spec(a.space, &crate::formula::split_lists(&a.only)).context("--only")?;
    let device = parse_device(&a.engine.device)?;
    let mut config = a.engine.config(a.space, a.dataset, false)?;
    config.tf32 = crate::net::tf32_in_use(device);
    let engine = Engine::new(proxies, config, a.dataset, device)?;
    let mut header: Vec<String> = vec!["index".into(), "arch".into()];
    header.extend(engine.names().iter().map(|s| s.to_string()));
    header.push("status".into());
    for arch in &archs {
        let rep = arch.representative();
        if engine.config.share_isomorphic && rep != *arch {
            eprintln!(
                "note: arch {}: data-dependent proxies are those of arch {}, the first of its isomorphism class (--isomorphic each computes its own)",
                arch.index(),
                rep.index()
            );
        }
    }
    let mut rows = Vec::new();
    // All at once: the batched engine groups them as `extract` would.
    for (arch, v) in archs.iter().zip(engine.score_many(&archs)) {
        let v = v?;
        let mut row = vec![Cell::Int(arch.index() as i64), Cell::Text(arch.to_string())];
        row.extend(v.values.iter().map(|&x| Cell::Num(x)));
        row.push(Cell::Text(v.first_error().unwrap_or_else(|| "ok".into())));
        rows.push(row);
    }
    print_rows(a.format, &header, &rows)
}
