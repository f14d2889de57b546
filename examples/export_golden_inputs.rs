//! Writes the inputs of the golden tests: for a fixed list of archs, the initial weights the
//! engine uses (`derive_seed(run seed, arch index)`), the batch of each dataset, any extra random
//! tensors of randomised proxies (`proxy::golden::golden_extra`) and a `manifest.json`.
//! `tests/reference/make_golden.py DIR` reads them and computes the reference values.
//!
//!     cargo run --no-default-features --features torch --example export_golden_inputs -- DIR

use greenfactory::data::Batch;
use greenfactory::net::Network;
use greenfactory::proxy::{golden::golden_extra, ArchContext, ProxyConfig};
use greenfactory::rng::derive_seed;
use greenfactory::space::{NatsDataset, Space};
use std::path::PathBuf;
use tch::{Device, Kind, Tensor};

/// (space, arch, dataset): TSS archs with conv, pooling, skip and none edges, the all-`none`
/// cell, a cell whose output node is unreachable from its input, the all-skip cell; the three
/// SSS fixture archs; and archs on CIFAR-100 and ImageNet16-120.
pub const GOLDEN_ARCHS: &[(&str, &str, &str)] = &[
    // Cheap archs first: the reference writes the JSON after every arch.
    ("tss", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "cifar10"),
    ("tss", "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|", "cifar10"),
    ("tss", "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|", "cifar10"),
    ("sss", "8:8:8:8:8", "cifar10"),
    ("sss", "8:8:8:16:32", "cifar10"),
    ("sss", "8:8:40:32:40", "cifar10"),
    ("tss", "|skip_connect~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|", "cifar10"),
    ("tss", "|none~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|", "imagenet16-120"),
    ("tss", "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|", "imagenet16-120"),
    ("tss", "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|", "cifar100"),
    ("tss", "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|", "cifar10"),
    ("tss", "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|", "cifar10"),
    ("tss", "|none~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|", "cifar10"),
    ("tss", "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|", "cifar10"),
    ("tss", "|nor_conv_1x1~0|+|avg_pool_3x3~0|none~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|", "cifar10"),
    ("tss", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|", "cifar10"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: export_golden_inputs OUT_DIR")?,
    );
    std::fs::create_dir_all(&dir)?;
    let config = ProxyConfig::default();
    let mut entries = Vec::new();
    let mut batches = std::collections::BTreeMap::new();
    for (i, &(space, arch, dataset)) in GOLDEN_ARCHS.iter().enumerate() {
        let space: Space = space.parse()?;
        let arch = space.parse(arch)?;
        let ds: NatsDataset = dataset.parse()?;
        if !batches.contains_key(ds.name()) {
            let b =
                Batch::load(&config.data, ds, config.batch_size)?.to(Kind::Float, Device::Cpu)?;
            let file = format!("batch_{}.safetensors", ds.name());
            Tensor::write_safetensors(&[("x", &b.x), ("y", &b.y)], dir.join(&file))?;
            batches.insert(ds.name(), (file, b));
        }
        let (batch_file, batch) = &batches[ds.name()];
        let net = Network::new(arch.graph(ds)).unwrap();
        let arch_seed = derive_seed(config.seed, arch.index() as u64);
        let init = net.init_weights(arch_seed, Kind::Float, Device::Cpu)?;
        let weights_file = format!("weights_{i}.safetensors");
        init.save_safetensors(&dir.join(&weights_file))?;
        let cx = ArchContext::new(&net, &init, batch, &config, Device::Cpu, arch_seed);
        let extra = golden_extra(&cx)?;
        let extra_file = if extra.is_empty() {
            serde_json::Value::Null
        } else {
            let f = format!("extra_{i}.safetensors");
            let named: Vec<(&str, &Tensor)> = extra.iter().map(|(n, t)| (n.as_str(), t)).collect();
            Tensor::write_safetensors(&named, dir.join(&f))?;
            serde_json::Value::String(f)
        };
        entries.push(serde_json::json!({
            "space": space.name(),
            "arch": arch.to_string(),
            "dataset": ds.name(),
            "index": arch.index(),
            "arch_seed": arch_seed.to_string(),
            "num_classes": ds.num_classes(),
            "weights": weights_file,
            "batch": batch_file,
            "extra": extra_file,
        }));
    }
    let manifest = serde_json::json!({
        "config": {
            "batch_size": config.batch_size,
            "seed": config.seed,
            "data": serde_json::to_value(&config.data)?,
            "engine_version": config.engine_version,
        },
        "archs": entries,
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    eprintln!("wrote {} archs to {}", GOLDEN_ARCHS.len(), dir.display());
    Ok(())
}
