//! `predict::predict_arch` with the shipped CIFAR-10 model: a cell whose output ignores its
//! input gets chance accuracy by rule, a live cell the forest's prediction, and an engine that
//! does not compute what the model was trained on is refused instead of giving a wrong number.
#![cfg(feature = "cli")]

use greenfactory::extract::Manifest;
use greenfactory::model::Model;
use greenfactory::predict::{predict_arch, Basis, PredictError};
use greenfactory::proxy::{proxies_by_name, Engine};
use greenfactory::space::{NatsDataset, Space};
use tch::Device;

#[test]
fn rule_forest_and_refused_mismatches() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/tss_cifar10.gfm");
    let model = Model::load(std::path::Path::new(path)).unwrap();
    let manifest: Manifest = model.meta().extraction.clone().unwrap();
    let proxies = proxies_by_name(&manifest.proxies).unwrap();
    let engine = |proxies, dataset| {
        Engine::new(proxies, manifest.config.clone(), dataset, Device::Cpu).unwrap()
    };
    let c10 = engine(proxies.clone(), NatsDataset::Cifar10);

    // Arch 12347: every path to the output goes through a `none` edge.
    let dead = Space::Tss.arch(12347).unwrap();
    let p = predict_arch(&c10, &model, &dead).unwrap();
    assert_eq!((p.mean, p.std, p.basis), (10.0, 0.0, Basis::Chance));

    // NATS-Bench: arch 0 trains to 85.86 % on CIFAR-10; the forest is within a few points.
    let live = Space::Tss.arch(0).unwrap();
    let p = predict_arch(&c10, &model, &live).unwrap();
    assert_eq!(p.basis, Basis::Forest);
    assert!((p.mean - 85.86).abs() < 5.0 && p.std > 0.0, "{p:?}");

    let fewer = engine(proxies[1..].to_vec(), NatsDataset::Cifar10);
    let e = predict_arch(&fewer, &model, &live).unwrap_err();
    assert!(
        matches!(e, PredictError::Mismatch { .. }) && e.to_string().contains("features"),
        "{e}"
    );
    let c100 = engine(proxies, NatsDataset::Cifar100);
    let e = predict_arch(&c100, &model, &live).unwrap_err();
    assert!(e.to_string().contains("dataset cifar100"), "{e}");
}
