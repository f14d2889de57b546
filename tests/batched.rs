//! The batched engine (K archs as one grouped network for the Jacobian and ReLU passes) against
//! the per-arch engine, on random TSS archs and the corner cases (a dead cell, a skip-only cell,
//! an all-3×3 cell), on the synthetic batch: no shared data needed (core tier).
#![cfg(feature = "torch")]

use greenfactory::net::{grouped_passes, BnMode, ForwardOptions, Network, TapKind, Taps};
use greenfactory::provenance::{DataSource, ProxyConfig};
use greenfactory::proxy::{all_proxies_for, default_proxies_for, Engine};
use greenfactory::rng::derive_seed;
use greenfactory::space::{Arch, NatsDataset, Space, TssArch};
use tch::{Device, Kind, Tensor};

/// 50 seeded random cells with the corner cases in front.
fn archs() -> Vec<Arch> {
    let corner = [
        // Dead: no path from the input to the output.
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        // Skip-only: no parameter in any cell.
        "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|",
    ];
    let mut out: Vec<Arch> = corner
        .iter()
        .map(|s| Arch::Tss(s.parse::<TssArch>().unwrap()))
        .collect();
    let mut i = 0u64;
    while out.len() < 50 {
        let index = (derive_seed(11, i) % 15_625) as usize;
        i += 1;
        let a = Space::Tss.arch(index).unwrap();
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// Largest difference over largest magnitude. The grouped kernels round differently from the
/// per-network ones (2e-7 after the stem); fifteen cells of 3×3 convolutions with batch-norm
/// amplify that to ~1e-4 in the last activations and ~4e-2 in the Jacobian of an all-3×3 cell,
/// the same picture as CUDA against CPU in float32 (benches/README.md).
const ACTIVATION_TOLERANCE: f64 = 1e-3;
const JACOBIAN_TOLERANCE: f64 = 0.1;

fn rel(a: &Tensor, b: &Tensor) -> f64 {
    let scale = b.abs().max().double_value(&[]).max(1e-30);
    (a - b).abs().max().double_value(&[]) / scale
}

/// The grouped network's Jacobians and ReLU inputs are each arch's own, in the per-arch
/// forward's order and names.
#[test]
fn grouped_passes_equal_each_networks_own() {
    tch::manual_seed(3);
    let x = Tensor::randn([8, 3, 32, 32], (Kind::Float, Device::Cpu));
    let archs = archs();
    for group in archs.chunks(10) {
        let nets: Vec<Network> = group
            .iter()
            .map(|a| Network::new(a.graph(NatsDataset::Cifar10)).unwrap())
            .collect();
        let weights: Vec<_> = nets
            .iter()
            .zip(group)
            .map(|(n, a)| {
                n.init_weights(derive_seed(0, a.index() as u64), Kind::Float, Device::Cpu)
                    .unwrap()
            })
            .collect();
        let g = grouped_passes(
            &nets.iter().collect::<Vec<_>>(),
            &weights.iter().collect::<Vec<_>>(),
            &x,
            true,
            true,
        )
        .unwrap();
        assert_eq!((g.jacobians.len(), g.relu_inputs.len()), (10, 10));
        for (k, (net, w)) in nets.iter().zip(&weights).enumerate() {
            let xi = x.detach().set_requires_grad(true);
            let mut taps = Taps::new(&[TapKind::ReluInput]);
            let logits = net
                .forward(
                    w,
                    &xi,
                    ForwardOptions { bn: BnMode::Train },
                    Some(&mut taps),
                )
                .unwrap();
            let s = logits.sum(logits.kind());
            let jac = Tensor::run_backward(&[&s], &[&xi], false, false).remove(0);
            let arch = &group[k];
            assert_eq!(g.jacobians[k].size(), jac.size(), "{arch}");
            let d = rel(&g.jacobians[k], &jac);
            assert!(
                d < JACOBIAN_TOLERANCE,
                "{arch}: Jacobian relative difference {d:e}"
            );
            let own: Vec<_> = taps.of(TapKind::ReluInput).collect();
            let grouped = &g.relu_inputs[k];
            assert_eq!(grouped.len(), own.len(), "{arch}: ReLU count");
            for ((name, t), tap) in grouped.iter().zip(&own) {
                assert_eq!(name, &tap.module, "{arch}");
                let d = rel(t, &tap.tensor);
                assert!(
                    d < ACTIVATION_TOLERANCE,
                    "{arch} {name}: ReLU input relative difference {d:e}"
                );
            }
        }
    }
}

/// The documented tolerance of the batched engine against the per-arch engine (README
/// "Limits"): epe_nas reads the Jacobian's correlations per class, where the rounding of the
/// grouped kernels is amplified most.
fn proxy_tolerance(name: &str) -> f64 {
    match name {
        "epe_nas" => 0.1,
        _ => 1e-3,
    }
}

/// Relative difference of two proxy values, against the larger magnitude.
fn value_diff(a: f64, b: f64) -> f64 {
    if a == b {
        return 0.0;
    }
    (a - b).abs() / a.abs().max(b.abs())
}

/// Every proxy of the TSS default vector from the batched engine equals the per-arch engine's
/// within the documented tolerance (README "Limits"): the passes it shares differ by float
/// rounding only; proxies with passes of their own are equal bit for bit. With all 30 proxies
/// (grasp needs the labelled pass's graph) the engine scores one arch at a time: bit for bit.
#[test]
fn batched_engine_matches_the_per_arch_engine() {
    let config = ProxyConfig {
        batch_size: 16,
        seed: 0,
        data: DataSource::Synthetic { seed: 0 },
        ..ProxyConfig::default()
    };
    let archs = archs();
    for (what, proxies) in [
        ("default", default_proxies_for(Space::Tss)),
        ("all", all_proxies_for(Space::Tss)),
    ] {
        let engine =
            Engine::new(proxies, config.clone(), NatsDataset::Cifar10, Device::Cpu).unwrap();
        let names = engine.names();
        let mut worst = vec![0.0f64; names.len()];
        let archs = if what == "all" {
            &archs[..4]
        } else {
            &archs[..]
        };
        for group in archs.chunks(10) {
            let batched = engine.score_batch(group);
            for (a, b) in group.iter().zip(batched) {
                let b = b.unwrap();
                let p = engine.score(a).unwrap();
                for (j, name) in names.iter().enumerate() {
                    assert_eq!(
                        p.errors[j].is_some(),
                        b.errors[j].is_some(),
                        "{a} {name}: per-arch {:?}, batched {:?}",
                        p.errors[j],
                        b.errors[j]
                    );
                    if p.errors[j].is_none() {
                        worst[j] = worst[j].max(value_diff(p.values[j], b.values[j]));
                    }
                }
            }
        }
        for (name, d) in names.iter().zip(&worst) {
            eprintln!("{what} {name}: max relative difference {d:e}");
        }
        for (name, d) in names.iter().zip(&worst) {
            let bound = if what == "all" {
                0.0
            } else {
                proxy_tolerance(name)
            };
            assert!(*d <= bound, "{what} {name}: {d:e}");
        }
    }
}

#[cfg(feature = "cli")]
mod common;

/// `extract --engine batched` records its engine in the table; the same command with the
/// per-arch engine refuses to continue or overwrite it (their values differ within the
/// tolerance, so they never mix), and the batched table's values are within that tolerance of
/// a per-arch table of the same archs.
#[cfg(feature = "cli")]
#[test]
fn extract_records_the_engine_and_never_mixes_the_two() {
    let dir = std::env::temp_dir().join(format!("gf-batched-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let run = |engine: &str, out: &std::path::Path| {
        common::gf(&[
            "extract",
            "--space",
            "tss",
            "--dataset",
            "cifar10",
            "--archs",
            "range:0..12",
            "--proxies",
            "jacov,nwot,params",
            "--device",
            "cpu",
            "--data",
            "synthetic",
            "--batch-size",
            "8",
            "--workers",
            "1",
            "--chunk-size",
            "6",
            "--group-archs",
            "6",
            "--engine",
            engine,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let batched = dir.join("batched.parquet");
    let o = run("batched", &batched);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = greenfactory::table::read_proxies(&batched).unwrap();
    let config = &t.config.as_ref().expect("an extraction's manifest").config;
    assert_eq!(
        config.engine,
        greenfactory::provenance::EngineKind::Batched { archs: 6 }
    );
    let before = std::fs::read(&batched).unwrap();
    let o = run("per-arch", &batched);
    assert!(
        !o.status.success(),
        "per-arch over a batched table must be refused"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("engine"), "{err}");
    assert_eq!(
        std::fs::read(&batched).unwrap(),
        before,
        "the table is untouched"
    );
    let per_arch = dir.join("per_arch.parquet");
    let o = run("per-arch", &per_arch);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = greenfactory::table::read_proxies(&per_arch).unwrap();
    for name in ["jacov", "nwot", "params"] {
        for (a, b) in t
            .feature(name)
            .unwrap()
            .iter()
            .zip(p.feature(name).unwrap())
        {
            match (a, b) {
                (Some(a), Some(b)) => assert!(
                    value_diff(*a, b) <= proxy_tolerance(name),
                    "{name}: batched {a} per-arch {b}"
                ),
                (a, b) => assert_eq!(a.is_some(), b.is_some(), "{name}"),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
