//! `greenfactory proxies`: every proxy of one or many archs.

use super::output::{print_rows, Cell, Format};
use crate::data::DataSource;
use crate::net::parse_device;
use crate::proxy::{all_proxies_for, proxies_by_name, Engine, ProxyConfig};
use crate::space::{Arch, NatsDataset, Space};
use anyhow::{bail, Context};
use clap::Args;
use std::path::PathBuf;

/// Which archs, how to compute: shared by `proxies`, `predict` and `extract`.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// Device: auto (CUDA when available), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Real images instead of the embedded synthetic batch: DATASET=PATH of a CIFAR binary
    /// file (records of [label][1024 R][1024 G][1024 B]), e.g. cifar10=data_batch_1.bin.
    #[arg(long)]
    pub data: Option<String>,
    /// Images per batch (capped by the images in --data).
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Run seed: arch i's weights come from (seed, i); the synthetic batch from seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl EngineArgs {
    /// The proxy configuration these options describe, for `dataset`.
    pub fn config(&self, dataset: NatsDataset) -> anyhow::Result<ProxyConfig> {
        if self.batch_size == 0 {
            bail!("--batch-size must be at least 1");
        }
        let data = match &self.data {
            None => DataSource::Synthetic { seed: self.seed },
            Some(spec) => {
                let (ds, path) = spec
                    .split_once('=')
                    .with_context(|| format!("--data {spec:?}: expected DATASET=PATH"))?;
                let ds: NatsDataset = ds.parse()?;
                if ds != dataset {
                    bail!("--data is for {ds} but --dataset is {dataset}");
                }
                let path = PathBuf::from(path);
                if !path.is_file() {
                    bail!("--data {}: no such file", path.display());
                }
                DataSource::CifarBin { path }
            }
        };
        Ok(ProxyConfig {
            batch_size: self.batch_size,
            seed: self.seed,
            data,
            ..ProxyConfig::default()
        })
    }
}

#[derive(Args, Debug)]
pub struct ProxiesArgs {
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
    /// Comma-separated proxy names (default: all).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arch strings or indices from `--arch` and `--arch-file`, each line checked.
pub fn collect_archs(
    space: Space,
    archs: &[String],
    file: Option<&PathBuf>,
) -> anyhow::Result<Vec<Arch>> {
    let mut out = Vec::new();
    let parse = |s: &str| -> anyhow::Result<Arch> {
        match s.trim().parse::<usize>() {
            Ok(i) => Ok(space.arch(i)?),
            Err(_) => Ok(space.parse(s)?),
        }
    };
    for s in archs {
        out.push(parse(s)?);
    }
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("--arch-file {}", f.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            out.push(parse(line).with_context(|| format!("{} line {}", f.display(), n + 1))?);
        }
    }
    if out.is_empty() {
        bail!("no archs given: use --arch STR or --arch-file FILE");
    }
    Ok(out)
}

pub fn run(a: ProxiesArgs) -> anyhow::Result<()> {
    let archs = collect_archs(a.space, &a.archs, a.arch_file.as_ref())?;
    let proxies = if a.only.is_empty() {
        all_proxies_for(a.space)
    } else {
        proxies_by_name(&a.only).map_err(anyhow::Error::msg)?
    };
    let device = parse_device(&a.engine.device)?;
    let config = a.engine.config(a.dataset)?;
    let engine = Engine::new(proxies, config, a.dataset, device)?;
    let mut header: Vec<String> = vec!["index".into(), "arch".into()];
    header.extend(engine.names().iter().map(|s| s.to_string()));
    header.push("status".into());
    let mut rows = Vec::new();
    for arch in &archs {
        let v = engine.score(arch)?;
        let mut row = vec![Cell::Int(arch.index() as i64), Cell::Text(arch.to_string())];
        row.extend(v.values.iter().map(|&x| Cell::Num(x)));
        row.push(Cell::Text(v.first_error().unwrap_or_else(|| "ok".into())));
        rows.push(row);
    }
    print_rows(a.format, &header, &rows)
}
