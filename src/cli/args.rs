//! Argument types and helpers shared by several subcommands (engine options, arch lists, labels
//! and targets with the option names in their errors).

use crate::data::DataSource;
use crate::provenance::EngineKind;
use crate::proxy::ProxyConfig;
use crate::space::{Arch, NatsDataset, Space};
use anyhow::{bail, Context};
use clap::Args;
use std::path::{Path, PathBuf};

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
    /// Compute on a narrower copy of the network with a stem of N channels (nb101: the cell
    /// unchanged, every width scaled by N/128; recorded in the table, and a model predicts only
    /// from the same copy). Default: the benchmark's network.
    #[arg(long, value_name = "N")]
    pub stem: Option<i64>,
    #[command(flatten)]
    pub engine: EngineChoice,
}

/// `--engine` and `--group-archs`: shared by the subcommands that compute proxies.
#[derive(Args, Debug, Clone)]
pub struct EngineChoice {
    /// Proxy engine: `per-arch` (each arch's passes on its own network) or `batched` (the
    /// Jacobian and ReLU passes of --group-archs TSS archs run as one grouped network, every
    /// other pass per arch; values within the tolerance README "Limits" gives, not equal, so
    /// the engine is recorded in the table and tables of the two never mix).
    #[arg(long, value_enum, default_value_t = EngineArg::PerArch)]
    pub engine: EngineArg,
    /// Archs per grouped network with --engine batched.
    #[arg(long, default_value_t = 16)]
    pub group_archs: usize,
}

impl EngineChoice {
    pub fn is_batched(&self) -> bool {
        self.engine == EngineArg::Batched
    }

    /// The engine kind these flags name.
    pub fn kind(&self) -> anyhow::Result<EngineKind> {
        Ok(match self.engine {
            EngineArg::PerArch => EngineKind::PerArch,
            EngineArg::Batched if self.group_archs < 2 => {
                bail!("--group-archs must be at least 2 (1 is --engine per-arch)")
            }
            EngineArg::Batched => EngineKind::Batched {
                archs: self.group_archs,
            },
        })
    }
}

/// `--engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    PerArch,
    Batched,
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
        space.check_dataset(dataset)?;
        if let Some(stem) = self.stem {
            let any = space.random(&mut crate::rng::SplitMix64::new(0));
            if let Err(e) = any.network_graph(dataset, Some(stem)) {
                bail!("--stem {stem}: {e}");
            }
        }
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
            engine: self.engine.kind()?,
            batch_size: self.batch_size,
            seed: self.seed,
            data,
            // Every SSS arch is its own class: sharing would change nothing but the record.
            share_isomorphic: self.isomorphic == Isomorphic::Share && space.has_isomorphs(),
            stem: self.stem,
            ..ProxyConfig::default()
        })
    }
}

/// Arch strings or indices from `--arch` and `--arch-file`, each line checked.
pub fn collect_archs(
    space: Space,
    archs: &[String],
    file: Option<&PathBuf>,
) -> anyhow::Result<Vec<Arch>> {
    let mut out = Vec::new();
    for s in archs {
        out.push(space.parse_arch_or_index(s)?);
    }
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("--arch-file {}", f.display()))?;
        let list = space
            .parse_arch_list(&text)
            .map_err(|(n, e)| anyhow::anyhow!("{} line {n}: {e}", f.display()))?;
        if list.is_empty() {
            bail!("--arch-file {}: no archs in the file", f.display());
        }
        out.extend(list);
    }
    if out.is_empty() {
        bail!("no archs given: use --arch STR or --arch-file FILE");
    }
    Ok(out)
}

/// Reads labels in any supported layout, a plain file taking `space` and `dataset` from the
/// features and `--dataset`.
pub fn load_labels(
    path: &Path,
    layout: &crate::table::PlainLayout,
) -> anyhow::Result<crate::table::LabelTable> {
    crate::table::read_labels_as(path, layout).context("--labels")
}

/// [`crate::training::resolve_target`] with the option's name in its errors.
pub fn resolve_target(
    target: Option<&str>,
    labels: &crate::table::LabelTable,
    space: crate::space::Space,
    dataset: crate::space::NatsDataset,
) -> anyhow::Result<crate::provenance::LabelKind> {
    crate::training::resolve_target(target, labels, space, dataset).map_err(with_flags)
}

/// The library's error with the option that caused it.
pub fn with_flags(e: crate::training::TrainError) -> anyhow::Error {
    match e {
        crate::training::TrainError::Target { .. } => anyhow::anyhow!("--target {e}"),
        crate::training::TrainError::Only(_) => anyhow::Error::new(e).context("--only"),
        e => e.into(),
    }
}

/// A file to be written at `path` (given by `flag`) needs its folder: checked before any work,
/// naming the user's path.
pub fn check_parent(flag: &str, path: &std::path::Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            bail!(
                "{flag} {}: no folder {} (create it first)",
                path.display(),
                parent.display()
            );
        }
    }
    Ok(())
}
