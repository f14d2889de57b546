//! Golden tests: every proxy present in `tests/golden/proxies.json` (written by the PyTorch
//! reference `tests/reference/make_golden.py` from the inputs of
//! `examples/export_golden_inputs.rs`) and in the registry agrees with the engine to 1e-4
//! relative error, grasp and plain to 1e-3 (see [`tolerance`]). The engine recomputes everything from the same seeds (same weights, same
//! synthetic batch). A small absolute floor (`ABS_FLOOR`) keeps values that cancel to almost 0
//! (plain, grasp) from failing on float32 rounding alone. A reference NaN (null) must be a NaN
//! with a reason on our side.
#![cfg(feature = "torch")]

use greenfactory::data::DataSource;
use greenfactory::proxy::{all_proxies, proxies_by_name, Engine, ProxyConfig};
use greenfactory::space::{NatsDataset, Space};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use tch::Device;

const REL_TOL: f64 = 1e-4;

/// Relative tolerance of `proxy`. The references were computed on an AVX2 AMD EPYC, where every
/// proxy agreed to 1e-7. On an AVX-512 Intel Xeon (oneDNN limited to AVX2 as in every test,
/// `.cargo/config.toml`) all stay within 3e-5 but grasp: 1.7e-4 on the all-1×1-conv cell,
/// whose −Σ θ·Hg is a small difference of large per-layer terms of both signs, so float32
/// rounding of the Hessian-gradient product shows in it. On an AVX-512 AMD EPYC (Zen 4) plain,
/// Σ θ·g, a cancelling sum of the same kind, differs by 1.40e-4 on that cell (grasp 1.2e-5, the
/// rest ≤ 1.1e-7). 1e-3 still fails any definition error (a sign, a missing layer, the loss's
/// mean vs sum).
fn tolerance(proxy: &str) -> f64 {
    if proxy == "grasp" || proxy == "plain" {
        1e-3
    } else {
        REL_TOL
    }
}
/// Absolute floor of the denominator: |ours − ref| ≤ 1e-4 · max(|ours|, |ref|, 1e-3).
const ABS_FLOOR: f64 = 1e-3;

#[test]
fn engine_matches_pytorch_reference() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/proxies.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("golden file")).unwrap();
    let cfg = &doc["config"];
    let config = ProxyConfig {
        batch_size: cfg["batch_size"].as_u64().unwrap() as usize,
        seed: cfg["seed"].as_u64().unwrap(),
        data: serde_json::from_value::<DataSource>(cfg["data"].clone()).unwrap(),
        ..ProxyConfig::default()
    };
    let all = all_proxies();
    let known: Vec<&str> = all.iter().map(|p| p.name()).collect();
    let mut engines: HashMap<String, Engine> = HashMap::new();
    let mut worst: BTreeMap<String, f64> = BTreeMap::new();
    let mut failures = Vec::new();
    let archs = doc["archs"].as_array().unwrap();
    assert!(archs.len() >= 11, "golden file lists {} archs", archs.len());
    for row in archs {
        let space: Space = row["space"].as_str().unwrap().parse().unwrap();
        let arch = space.parse(row["arch"].as_str().unwrap()).unwrap();
        let ds_name = row["dataset"].as_str().unwrap();
        let ds: NatsDataset = ds_name.parse().unwrap();
        let values = row["values"].as_object().unwrap();
        let names: Vec<String> = values
            .keys()
            .filter(|k| known.contains(&k.as_str()))
            .cloned()
            .collect();
        let key = format!("{ds_name}/{}", names.join(","));
        let engine = engines.entry(key).or_insert_with(|| {
            Engine::new(
                proxies_by_name(&names).unwrap(),
                config.clone(),
                ds,
                Device::Cpu,
            )
            .unwrap()
        });
        let t0 = Instant::now();
        let v = engine.score(&arch).unwrap();
        eprintln!(
            "{space} {ds_name} {arch}: {:.2}s",
            t0.elapsed().as_secs_f64()
        );
        for (i, name) in v.names.iter().enumerate() {
            let ours = v.values[i];
            match values[name.as_str()].as_f64() {
                None => {
                    if !ours.is_nan() || v.errors[i].is_none() {
                        failures.push(format!(
                            "{arch} {ds_name} {name}: reference NaN, ours {ours}"
                        ));
                    }
                }
                Some(r) => {
                    let err = (ours - r).abs() / ours.abs().max(r.abs()).max(ABS_FLOOR);
                    let w = worst.entry(name.to_string()).or_insert(0.0);
                    if err.is_nan() || err > *w {
                        *w = err;
                    }
                    if err.is_nan() || err > tolerance(name) {
                        failures.push(format!(
                            "{arch} {ds_name} {name}: ours {ours} ({:?}), reference {r}, rel err {err:.2e}",
                            v.errors[i]
                        ));
                    }
                }
            }
        }
    }
    for (n, e) in &worst {
        eprintln!("max relative error {n:>10}: {e:.2e}");
    }
    // Exactly the proxies the golden file holds were checked: a proxy dropped from the engine
    // (or renamed) would otherwise pass unnoticed.
    let mut checked: Vec<&str> = worst.keys().map(String::as_str).collect();
    checked.sort_unstable();
    assert_eq!(
        checked,
        [
            "epe_nas",
            "fisher",
            "flops",
            "grad_norm",
            "grasp",
            "jacov",
            "l2_norm",
            "params",
            "plain",
            "snip",
            "synflow"
        ]
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
