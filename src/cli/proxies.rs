//! `greenfactory proxies`: every proxy of one or many archs.

use super::output::{print_rows, Cell, Format};
use crate::data::DataSource;
use crate::net::parse_device;
use crate::proxy::{proxies_for_spec, Engine, ProxyConfig};
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
    /// Input images: `auto` (the foolbox sample images when installed, else the synthetic
    /// batch, with a notice), `foolbox`, `synthetic`, or DATASET=PATH of a CIFAR binary file
    /// (records of [label][1024 R][1024 G][1024 B]), e.g. cifar10=data_batch_1.bin.
    #[arg(long, default_value = "auto")]
    pub data: String,
    /// Images per batch (capped by the images in the data: 20 foolbox samples).
    #[arg(long, default_value_t = 20)]
    pub batch_size: usize,
    /// Run seed: arch i's weights come from (seed, i); the synthetic batch from seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Compute data-dependent proxies once per isomorphism class (on its lowest-index member)
    /// and share them with the class: `share` or `each`. TSS only; SSS archs are their own
    /// classes.
    #[arg(long, default_value = "share")]
    pub isomorphic: Isomorphic,
}

/// `--isomorphic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Isomorphic {
    /// One computation per isomorphism class, shared by its members.
    Share,
    /// Every arch computed on its own network and seed.
    Each,
}

impl EngineArgs {
    /// The proxy configuration these options describe, for `space` and `dataset`. `strict`
    /// (extract) refuses to fall back to the synthetic batch when `--data auto` finds no
    /// images: a whole table computed on an input nobody chose is worse than a clear error.
    pub fn config(
        &self,
        space: Space,
        dataset: NatsDataset,
        strict: bool,
    ) -> anyhow::Result<ProxyConfig> {
        if self.batch_size == 0 {
            bail!("--batch-size must be at least 1");
        }
        let data = match self.data.as_str() {
            "auto" => {
                let (data, notice) = crate::data::default_source(dataset, self.seed);
                match notice {
                    Some(n) if strict => bail!(
                        "{}; pass --data synthetic to extract on the synthetic batch",
                        n.trim_start_matches("notice: ")
                    ),
                    Some(n) => eprintln!("{n}"),
                    None => {}
                }
                data
            }
            "foolbox" => DataSource::Foolbox20,
            "synthetic" => DataSource::Synthetic { seed: self.seed },
            spec => {
                let (ds, path) = spec.split_once('=').with_context(|| {
                    format!("--data {spec:?}: expected auto, foolbox, synthetic or DATASET=PATH")
                })?;
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
        if data == DataSource::Foolbox20 && self.batch_size > crate::data::FOOLBOX_IMAGES {
            bail!(
                "--batch-size {}: the foolbox samples are {} images per dataset",
                self.batch_size,
                crate::data::FOOLBOX_IMAGES
            );
        }
        Ok(ProxyConfig {
            batch_size: self.batch_size,
            seed: self.seed,
            data,
            // Every SSS arch is its own class: sharing would change nothing but the record.
            share_isomorphic: self.isomorphic == Isomorphic::Share && space == Space::Tss,
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
    /// Comma-separated proxy names, `default` (the default vector) or `all`.
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
    let proxies = proxies_for_spec(a.space, &a.only).map_err(anyhow::Error::msg)?;
    let device = parse_device(&a.engine.device)?;
    let config = a.engine.config(a.space, a.dataset, false)?;
    let engine = Engine::new(proxies, config, a.dataset, device)?;
    let mut header: Vec<String> = vec!["index".into(), "arch".into()];
    header.extend(engine.names().iter().map(|s| s.to_string()));
    header.push("status".into());
    let mut rows = Vec::new();
    for arch in &archs {
        let rep = arch.representative();
        if engine.config.share_isomorphic && rep != *arch {
            eprintln!(
                "note: arch {}: data-dependent proxies are those of arch {}, the first of its isomorphism class (--isomorphic each computes its own)",
                arch.index(),
                rep.index()
            );
        }
        let v = engine.score(arch)?;
        let mut row = vec![Cell::Int(arch.index() as i64), Cell::Text(arch.to_string())];
        row.extend(v.values.iter().map(|&x| Cell::Num(x)));
        row.push(Cell::Text(v.first_error().unwrap_or_else(|| "ok".into())));
        rows.push(row);
    }
    print_rows(a.format, &header, &rows)
}
