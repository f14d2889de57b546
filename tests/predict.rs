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

/// Search's engine scorer computes on the worker pool what `Engine::score` computes alone,
/// class members included: archs 0, 3599, 4980 form one NATS-Bench isomorphism class (3, 25,
/// 72 another), so with sharing a member takes its representative's data-dependent value
/// (nwot) and computes its own static one (l2_norm, of its own weights).
#[test]
fn search_scores_class_members_as_the_engine_does() {
    use greenfactory::proxy::ProxyConfig;
    use greenfactory::search::{EngineScorer, Scorer};
    let config = ProxyConfig {
        batch_size: 8,
        share_isomorphic: true,
        ..ProxyConfig::default()
    };
    let archs: Vec<_> = [3599, 25, 0, 72, 4980, 3, 3599]
        .iter()
        .map(|&i| Space::Tss.arch(i).unwrap())
        .collect();
    for proxy in ["l2_norm", "nwot"] {
        let engine = || {
            Engine::new(
                proxies_by_name(&[proxy.to_string()]).unwrap(),
                config.clone(),
                NatsDataset::Cifar10,
                Device::Cpu,
            )
            .unwrap()
        };
        let mut scorer = EngineScorer::by_proxy(vec![engine(), engine()]).unwrap();
        // Representatives 0 and 3 first, then the members in a second call (kept classes).
        let first = scorer.predict_many(&archs[2..4]);
        let rest = scorer.predict_many(&archs);
        let alone = engine();
        for (a, got) in archs[2..4]
            .iter()
            .chain(&archs)
            .zip(first.iter().chain(&rest))
        {
            let want = alone.score(a).unwrap().values[0];
            assert_eq!(got.as_ref().unwrap().mean, want, "{proxy} of arch {a}");
        }
        let value = |i: usize| rest[i].as_ref().unwrap().mean;
        match proxy {
            "nwot" => assert_eq!(value(0), value(2), "a member takes its class's nwot"),
            _ => assert_ne!(value(0), value(2), "a member's l2_norm is its own"),
        }
    }
}
