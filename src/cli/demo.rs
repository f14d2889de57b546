//! `greenfactory demo`: the main job on embedded defaults. With the shipped CIFAR-10 models it
//! predicts the accuracy (with uncertainty) of a handful of TSS and SSS archs, computing their
//! proxies on CPU, next to their true NATS-Bench accuracy of the kind each model learnt (TSS:
//! hp=200 test accuracy; SSS: hp=90 validation accuracy) when `../shared/data` is present, and
//! marks the archs whose label the model saw in training: their "prediction" is recall. Without
//! models it shows the proxy-free facts (params, FLOPs) of a few TSS and SSS archs.

use crate::forest::{Protocol, Split, SplitSize};
use crate::model::Model;
use crate::net::Network;
use crate::predict::{predict_arch, Basis, PredictError};
use crate::space::{features::is_arch_feature, Arch, NatsDataset, Space};
use crate::table::{self, JoinOptions, PlainLayout};
use anyhow::Context;
use clap::Args;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use tch::Device;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Only this model (default: models/tss_cifar10.gfm and models/sss_cifar10.gfm of this
    /// repository).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// Official TSS indices: the best CIFAR-10 arch (6111), three NATS-Bench fixtures, a few more.
const DEMO_TSS: [usize; 8] = [6111, 0, 11, 284, 1651, 12347, 9930, 857];
/// Official SSS indices: the three NATS-Bench fixtures, the largest and a few others.
const DEMO_SSS: [usize; 8] = [0, 11, 284, 32767, 18841, 27482, 9001, 30000];
const DEMO_MACRO: [usize; 6] = [0, 5043, 1234, 6560, 3280, 4100];

fn repo_path(rel: &str) -> PathBuf {
    let here = PathBuf::from(rel);
    if here.exists() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The shared label file of `space` (`../shared/data`), if present.
fn label_file(space: Space) -> Option<PathBuf> {
    let p = repo_path(&format!("../shared/data/{}", space.label_file()));
    p.exists().then_some(p)
}

/// The complete proxy table the shipped model of `space`/`dataset` was trained on.
fn table_file(space: Space, dataset: NatsDataset) -> PathBuf {
    repo_path(&format!(
        "datasets/{}_{}_all.parquet",
        space.name(),
        dataset.name()
    ))
}

/// The archs whose labels `model` was trained on, rebuilt from the table and labels it was
/// trained with: all joined rows, or `train --n-train/--train-frac`'s random split, which
/// the model's row count and seed determine.
fn training_archs(model: &Model, features: &Path, labels: &Path) -> anyhow::Result<HashSet<usize>> {
    let meta = model.meta();
    let layout = PlainLayout {
        space: Some(meta.space),
        dataset: Some(meta.dataset),
    };
    let mut table = table::read_proxies_as(features, &layout)?;
    if meta
        .feature_names
        .iter()
        .any(|f| is_arch_feature(meta.space, f))
    {
        table = table.with_arch_features()?;
    }
    let labels = table::read_labels(labels)?;
    let opts = JoinOptions {
        expected_features: Some(meta.feature_names.clone()),
        hp: meta.target.hp.clone(),
        ..JoinOptions::default()
    };
    let (data, _) = table::join(&table, &labels, meta.dataset, &meta.target.accuracy, &opts)?;
    if meta.n_train >= data.n_rows() {
        return Ok(data.row_keys.iter().copied().collect());
    }
    let split = Split::new(
        &data,
        Protocol::Random,
        SplitSize::NTrain(meta.n_train),
        meta.params.seed(),
    )?;
    Ok(split.train.iter().map(|&r| data.row_keys[r]).collect())
}

fn proxy_free_facts() -> anyhow::Result<()> {
    println!(
        "{:<6} {:>6} {:<100} {:>10} {:>10}",
        "space", "index", "arch", "params M", "MFLOPs"
    );
    for (space, idx) in [
        (Space::Tss, &DEMO_TSS[..4]),
        (Space::Sss, &DEMO_SSS[..3]),
        (Space::Macro, &DEMO_MACRO[..3]),
    ] {
        for &i in idx {
            let arch = space.arch(i)?;
            let net = Network::new(arch.graph(NatsDataset::Cifar10))?;
            println!(
                "{:<6} {:>6} {:<100} {:>10.6} {:>10.3}",
                space.name(),
                i,
                arch.to_string(),
                net.params_m(),
                net.flops_m()
            );
        }
    }
    Ok(())
}

pub fn run(a: DemoArgs) -> anyhow::Result<()> {
    let paths: Vec<PathBuf> = match a.model {
        Some(m) => vec![m],
        None => [
            "models/tss_cifar10.gfm",
            "models/sss_cifar10.gfm",
            "models/macro_cifar10.gfm",
        ]
        .iter()
        .map(|p| repo_path(p))
        .filter(|p| p.exists())
        .collect(),
    };
    if paths.is_empty() || !paths.iter().all(|p| p.exists()) {
        let missing = paths.iter().find(|p| !p.exists());
        println!(
            "no model at {} yet: proxy-free facts of a few archs\n",
            missing.map_or("models/".into(), |p| p.display().to_string())
        );
        return proxy_free_facts();
    }
    for (k, path) in paths.iter().enumerate() {
        if k > 0 {
            println!();
        }
        demo_model(path)?;
    }
    Ok(())
}

/// One model's block: its archs, predictions, true accuracies and training marks.
fn demo_model(path: &Path) -> anyhow::Result<()> {
    let model = Model::load(path)?;
    let (engine, space, dataset) = crate::predict::engine_for(&model, Device::Cpu)
        .with_context(|| format!("{}", path.display()))?;
    let kind = &model.meta().target;
    let labels = label_file(space);
    let truth: Option<HashMap<usize, f64>> = labels
        .as_ref()
        .and_then(|l| table::read_labels(l).ok())
        .and_then(|l| l.accuracies(space, dataset, kind).ok());
    let seen = labels
        .as_ref()
        .and_then(|l| training_archs(&model, &table_file(space, dataset), l).ok());
    println!(
        "{} {}: {} ({} trees) predicts the {} of an arch; it was trained on {} labelled archs; proxies computed on CPU",
        space.name().to_uppercase(),
        dataset,
        path.display(),
        model.forest().n_trees(),
        kind.describe(),
        model.meta().n_train,
    );
    if seen.is_none() {
        println!(
            "(../shared/data is not beside the repository: no true accuracies, no training marks)"
        );
    }
    println!(
        "{:>6}  {:>9}  {:>6}  {:>8}  {:<7}  arch",
        "index", "predicted", "± std", "true", "trained"
    );
    let sampled;
    let archs: &[usize] = match space {
        Space::Tss => &DEMO_TSS,
        Space::Sss => &DEMO_SSS,
        Space::Macro => &DEMO_MACRO,
        // A space added later shows a seeded sample until it has chosen archs here.
        #[allow(unreachable_patterns)]
        _ => {
            sampled = space.sample_indices(6, 0);
            &sampled
        }
    };
    for &i in archs {
        let arch: Arch = space.arch(i)?;
        let t = truth
            .as_ref()
            .and_then(|m| m.get(&i))
            .map_or("-".to_string(), |t| format!("{t:.2}"));
        let mark = seen
            .as_ref()
            .map_or("-", |s| if s.contains(&i) { "yes" } else { "no" });
        let shown = match predict_arch(&engine, &model, &arch) {
            Ok(p) if p.basis == Basis::Chance => format!(
                "{:>9.2}  {:>6.2}  {t:>8}  {:<7}  ({}) ",
                p.mean,
                p.std,
                "rule",
                p.basis.describe()
            ),
            Ok(p) => format!("{:>9.2}  {:>6.2}  {t:>8}  {mark:<7}", p.mean, p.std),
            Err(PredictError::NoProxyValue { reason, .. }) => format!("no prediction ({reason})"),
            Err(e) => return Err(e.into()),
        };
        println!("{i:>6}  {shown}  {arch}");
    }
    println!(
        "true: {} {}; trained yes: the model saw this label (recall, not prediction)",
        space.benchmark(),
        kind.describe()
    );
    Ok(())
}
