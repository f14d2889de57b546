//! `greenfactory demo`: the main job on an embedded default. With the shipped CIFAR-10 model it
//! predicts the accuracy (with uncertainty) of a handful of TSS archs, computing their proxies
//! on CPU, next to their true NATS-Bench accuracy when `../shared/data` is present. Without a
//! model it shows the proxy-free facts (params, FLOPs) of a few TSS and SSS archs.

use crate::forest::Model;
use crate::net::Network;
use crate::predict::{predict_arch, Basis, PredictError};
use crate::space::{Arch, NatsDataset, Space};
use anyhow::Context;
use clap::Args;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::Device;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Model to use (default: models/tss_cifar10.gfm of this repository).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// Official TSS indices: the best CIFAR-10 arch (6111), three NATS-Bench fixtures, a few more.
const DEMO_TSS: [usize; 8] = [6111, 0, 11, 284, 1651, 12347, 9930, 857];
const DEMO_SSS: [usize; 3] = [0, 11, 284];

fn repo_path(rel: &str) -> PathBuf {
    let here = PathBuf::from(rel);
    if here.exists() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// True CIFAR-10 test accuracy (hp=200) by TSS index, if the shared data is beside the repo.
/// The true test accuracies of the model's dataset when `../shared/data` is present.
fn true_accuracy(dataset: NatsDataset) -> Option<HashMap<usize, f64>> {
    let p = repo_path("../shared/data/nats_tss/nats_tss_test_acc_hp200.csv");
    crate::table::read_labels(&p)
        .and_then(|l| l.test_accuracies(Space::Tss, dataset))
        .ok()
}

pub fn run(a: DemoArgs) -> anyhow::Result<()> {
    let model_path = a
        .model
        .unwrap_or_else(|| repo_path("models/tss_cifar10.gfm"));
    if !Path::new(&model_path).exists() {
        println!(
            "no model at {} yet: proxy-free facts of a few archs\n",
            model_path.display()
        );
        println!(
            "{:<6} {:>6} {:<100} {:>10} {:>10}",
            "space", "index", "arch", "params M", "MFLOPs"
        );
        for (space, idx) in [(Space::Tss, &DEMO_TSS[..4]), (Space::Sss, &DEMO_SSS[..])] {
            for &i in idx {
                let arch = space.arch(i)?;
                let net = Network::new(&arch, NatsDataset::Cifar10);
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
        return Ok(());
    }
    let model = Model::load(&model_path)?;
    let (engine, _, dataset) = crate::predict::engine_for(&model, Device::Cpu)
        .with_context(|| format!("{}", model_path.display()))?;
    let truth = true_accuracy(dataset);
    println!(
        "model {} ({} trees, trained on {} {} archs); proxies computed on CPU\n",
        model_path.display(),
        model.forest().n_trees(),
        model.meta().n_train,
        model.meta().dataset
    );
    println!(
        "{:>6}  {:>9}  {:>6}  {:>8}  arch",
        "index", "predicted", "± std", "true"
    );
    for &i in &DEMO_TSS {
        let arch: Arch = Space::Tss.arch(i)?;
        let t = truth
            .as_ref()
            .and_then(|m| m.get(&i))
            .map_or("-".to_string(), |t| format!("{t:.2}"));
        let shown = match predict_arch(&engine, &model, &arch) {
            Ok(p) if p.basis == Basis::Chance => format!(
                "{:>9.2}  {:>6.2}  {t:>8}  ({})",
                p.mean,
                p.std,
                p.basis.describe()
            ),
            Ok(p) => format!("{:>9.2}  {:>6.2}  {t:>8}", p.mean, p.std),
            Err(PredictError::NoProxyValue { reason, .. }) => format!("no prediction ({reason})"),
            Err(e) => return Err(e.into()),
        };
        println!("{i:>6}  {shown}  {arch}");
    }
    Ok(())
}
