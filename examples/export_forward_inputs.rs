//! Writes, for the archs of proxy2's forward-proxy golden test, everything the PyTorch reference
//! (`tests/reference/check_forward.py`) needs: per arch `DIR/<k>.weights.safetensors` (initial
//! weights, seed = derive_seed(run seed, arch index) as the engine), `DIR/<k>.extra.safetensors`
//! (`golden_extra`: zen's draws, meco_opt's channel samples), `DIR/batch.safetensors` (x, y of
//! each dataset) and `DIR/manifest.json`, plus the engine's own values in `DIR/rust.json`.
//!
//! `cargo run --no-default-features --features torch --example export_forward_inputs -- DIR`

use greenfactory::net::Network;
use greenfactory::proxy::{golden::golden_extra, ArchContext, Engine, ProxyConfig};
use greenfactory::rng::derive_seed;
use greenfactory::space::{NatsDataset, Space};
use std::path::PathBuf;
use tch::{Device, Kind, Tensor};

/// (space, arch) of the golden set.
pub const ARCHS: [(&str, &str); 14] = [
    ("tss", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"),
    ("tss", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"),
    ("tss", "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"),
    ("tss", "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"),
    ("tss", "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|"),
    ("tss", "|nor_conv_1x1~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_3x3~2|"),
    ("tss", "|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"),
    ("tss", "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|"),
    ("tss", "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|"),
    ("tss", "|skip_connect~0|+|none~0|nor_conv_3x3~1|+|none~0|avg_pool_3x3~1|none~2|"),
    ("tss", "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"),
    ("sss", "8:8:8:8:8"),
    ("sss", "8:8:8:16:32"),
    ("sss", "8:8:40:32:40"),
];

pub const PROXIES: [&str; 6] = ["nwot", "zen", "meco", "meco_opt", "zico", "ntk"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: export_forward_inputs DIR")?,
    );
    std::fs::create_dir_all(&dir)?;
    let dataset = NatsDataset::Cifar10;
    let config = ProxyConfig::default();
    let names: Vec<String> = PROXIES.iter().map(|s| s.to_string()).collect();
    let engine = Engine::new(
        greenfactory::proxy::proxies_by_name(&names)?,
        config.clone(),
        dataset,
        Device::Cpu,
    )?;
    let batch = engine.batch();
    Tensor::write_safetensors(
        &[
            ("x", batch.x.shallow_clone()),
            ("y", batch.y.shallow_clone()),
        ],
        dir.join("batch.safetensors"),
    )?;
    let mut manifest = Vec::new();
    let mut rust = Vec::new();
    for (k, (space, s)) in ARCHS.iter().enumerate() {
        let space = if *space == "tss" {
            Space::Tss
        } else {
            Space::Sss
        };
        let arch = space.parse(s)?;
        let net = Network::new(arch.graph(dataset)).unwrap();
        let seed = derive_seed(config.seed, arch.index() as u64);
        let init = net.init_weights(seed, Kind::Float, Device::Cpu)?;
        init.save_safetensors(&dir.join(format!("{k}.weights.safetensors")))?;
        let cx = ArchContext::new(&net, &init, batch, &config, Device::Cpu, seed);
        let extra = golden_extra(&cx)?;
        Tensor::write_safetensors(&extra, dir.join(format!("{k}.extra.safetensors")))?;
        let t0 = std::time::Instant::now();
        let v = engine.score(&arch)?;
        let secs = t0.elapsed().as_secs_f64();
        manifest.push(serde_json::json!({"k": k, "space": space.name(), "arch": s, "index": arch.index(), "seed": seed}));
        let vals: serde_json::Map<String, serde_json::Value> = v
            .names
            .iter()
            .zip(&v.values)
            .map(|(n, x)| {
                (
                    n.to_string(),
                    serde_json::json!(if x.is_finite() { Some(*x) } else { None }),
                )
            })
            .collect();
        eprintln!(
            "{k} {s}: {:?} errors {:?} ({secs:.2}s, per group {:?})",
            v.values, v.errors, v.seconds
        );
        rust.push(serde_json::json!({"arch": s, "values": vals}));
    }
    let m = serde_json::json!({"dataset": "cifar10", "batch_size": config.batch_size, "seed": config.seed, "data": "synthetic seed 0", "archs": manifest});
    std::fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&m)?)?;
    std::fs::write(dir.join("rust.json"), serde_json::to_string_pretty(&rust)?)?;
    Ok(())
}
