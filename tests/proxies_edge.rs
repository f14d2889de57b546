//! Edge cases of every registered proxy: degenerate cells, the largest SSS network, a batch of
//! one image — each value is finite or NaN with a reason, never a panic — and determinism.
#![cfg(feature = "torch")]

use greenfactory::proxy::{all_proxies, all_proxies_for, Engine, ProxyConfig, ProxyVector};
use greenfactory::space::{Arch, NatsDataset, Space};
use tch::Device;

const ALL_NONE: &str = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";
/// Node 3 only reads node 2 through a conv, and node 2 is all-`none`: the output does not
/// depend on the input.
const UNREACHABLE: &str = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|";
const BEST: &str =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";

fn tss(s: &str) -> Arch {
    Space::Tss.parse(s).unwrap()
}

fn engine(batch_size: usize, ds: NatsDataset) -> Engine {
    let config = ProxyConfig {
        batch_size,
        ..ProxyConfig::default()
    };
    Engine::new(all_proxies(), config, ds, Device::Cpu).unwrap()
}

/// Every value finite, or NaN with a reason.
fn check(what: &str, v: &ProxyVector) {
    for (i, n) in v.names.iter().enumerate() {
        let x = v.values[i];
        eprintln!("{what} {n}: {x} {:?}", v.errors[i]);
        assert!(
            x.is_finite() || (x.is_nan() && v.errors[i].is_some()),
            "{what} {n}: {x} without a reason"
        );
    }
}

#[test]
fn degenerate_cells_give_finite_or_explained_nan() {
    let e = engine(64, NatsDataset::Cifar10);
    for s in [ALL_NONE, UNREACHABLE] {
        let v = e.score(&tss(s)).unwrap();
        check(s, &v);
        // The output does not depend on the input: the Jacobian correlation is undefined.
        for name in ["jacov", "epe_nas"] {
            let i = v.names.iter().position(|n| *n == name).unwrap();
            assert!(v.values[i].is_nan() && v.errors[i].is_some(), "{s} {name}");
        }
    }
}

#[test]
fn largest_sss_network() {
    let config = ProxyConfig::default();
    let e = Engine::new(
        all_proxies_for(Space::Sss),
        config,
        NatsDataset::Cifar10,
        Device::Cpu,
    )
    .unwrap();
    let v = e
        .score(&Space::Sss.parse("64:64:64:64:64").unwrap())
        .unwrap();
    check("64:64:64:64:64", &v);
    assert!(v.ok(), "{:?}", v.first_error());
}

#[test]
fn batch_of_one() {
    for ds in [NatsDataset::Cifar10, NatsDataset::ImageNet16_120] {
        let e = engine(1, ds);
        for arch in [tss(BEST), Space::Sss.parse("8:8:8:8:8").unwrap()] {
            let v = e.score(&arch).unwrap();
            check(&format!("batch 1 {ds} {arch}"), &v);
        }
    }
}

#[test]
fn scores_are_bitwise_deterministic() {
    let e = engine(16, NatsDataset::Cifar10);
    let a = tss("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|");
    let b = tss(BEST);
    let first = e.score(&a).unwrap();
    let again = e.score(&a).unwrap();
    let _ = e.score(&b).unwrap();
    let _ = e.score(&Space::Sss.parse("8:8:16:8:8").unwrap()).unwrap();
    let after = e.score(&a).unwrap();
    let bits = |v: &ProxyVector| v.values.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&first), bits(&again));
    assert_eq!(bits(&first), bits(&after));
}

/// The engine shares one forward between the labelled, Jacobian and ReLU passes and reuses the
/// labelled backward for grasp; each proxy scored alone (its passes unshared) must give the
/// bit-identical value, dead cell included.
#[test]
fn sharing_passes_changes_no_value() {
    let names = [
        "grad_norm",
        "snip",
        "plain",
        "fisher",
        "grasp",
        "jacov",
        "epe_nas",
        "nwot",
    ];
    let config = ProxyConfig {
        batch_size: 16,
        ..ProxyConfig::default()
    };
    let all: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let shared = Engine::new(
        greenfactory::proxy::proxies_by_name(&all).unwrap(),
        config.clone(),
        NatsDataset::Cifar10,
        Device::Cpu,
    )
    .unwrap();
    assert!(shared.plan().grasp && shared.plan().jacobian && shared.plan().relu);
    for arch in [BEST, UNREACHABLE] {
        let a = tss(arch);
        let v = shared.score(&a).unwrap();
        for (i, n) in names.iter().enumerate() {
            let alone = Engine::new(
                greenfactory::proxy::proxies_by_name(&[n.to_string()]).unwrap(),
                config.clone(),
                NatsDataset::Cifar10,
                Device::Cpu,
            )
            .unwrap();
            let mut w = alone.score(&a).unwrap().values[0];
            if *n == "grasp" {
                // Alone, grasp still reuses the labelled backward; its own-forward fallback
                // runs only in a context without a plan.
                w = grasp_without_plan(&a, &alone);
            }
            assert!(
                v.values[i].to_bits() == w.to_bits() || (v.values[i].is_nan() && w.is_nan()),
                "{arch} {n}: shared {} alone {w}",
                v.values[i]
            );
        }
    }
}

fn grasp_without_plan(a: &Arch, engine: &Engine) -> f64 {
    use greenfactory::proxy::{grasp::Grasp, ArchContext, Proxy};
    let net = greenfactory::net::Network::new(a.graph(NatsDataset::Cifar10)).unwrap();
    let config = ProxyConfig {
        batch_size: 16,
        ..ProxyConfig::default()
    };
    let seed = greenfactory::rng::derive_seed(config.seed, a.index() as u64);
    let init = net
        .init_weights(seed, tch::Kind::Float, Device::Cpu)
        .unwrap();
    let cx = ArchContext::new(&net, &init, engine.batch(), &config, Device::Cpu, seed);
    Grasp.compute(&cx).unwrap()
}

/// A configuration computed with CUDA TF32 cannot be reproduced by a CPU engine (nor a float32
/// one): the engine refuses it instead of computing other values.
#[test]
fn a_tf32_configuration_needs_a_tf32_engine() {
    let config = ProxyConfig {
        batch_size: 8,
        tf32: true,
        ..ProxyConfig::default()
    };
    let e = match Engine::new(all_proxies(), config, NatsDataset::Cifar10, Device::Cpu) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a CPU engine accepted a TF32 configuration"),
    };
    assert!(
        e.contains("with CUDA TF32") && e.contains("GREENFACTORY_TF32"),
        "{e}"
    );
}
