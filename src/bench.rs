//! Throughput measurements shared by `greenfactory bench` (runs anywhere the binary runs,
//! e.g. the GPU machine, which has no Rust) and `cargo bench` (`benches/`).

use crate::data::Batch;
use crate::extract::{extract, ArchSelection, ExtractOptions, Manifest};
use crate::net::{BnMode, ForwardOptions, Network};
use crate::provenance::{DeviceKind, DeviceKinds};
use crate::proxy::{all_proxies_for, ProxyConfig};
use crate::rng::derive_seed;
use crate::space::{NatsDataset, Space};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// Archs/s of build + init + one forward+backward of the CE loss at `batch_size`, over `n`
/// seeded-random archs.
pub fn forward_backward(
    space: Space,
    dataset: NatsDataset,
    n: usize,
    batch_size: usize,
    device: Device,
) -> anyhow::Result<f64> {
    let batch = crate::data::synthetic(dataset, batch_size, 0)?.to(Kind::Float, device)?;
    let archs = space.sample_indices(n, 1);
    // One warm-up arch (CUDA context, cuDNN heuristics) outside the timing.
    let run = |index: usize, batch: &Batch| -> anyhow::Result<()> {
        let net = Network::new(space.arch(index)?.graph(dataset))?;
        let w = net
            .init_weights(derive_seed(0, index as u64), Kind::Float, device)?
            .fresh(Kind::Float, device, true)?;
        let logits = net.forward(&w, &batch.x, ForwardOptions { bn: BnMode::Train }, None)?;
        let loss = crate::proxy::cross_entropy(&logits, &batch.y)?;
        let g = Tensor::f_run_backward(&[&loss], &w.tensors, false, false)?;
        // Reading one value back waits for the device, so the timing is honest.
        g[0].f_sum(Kind::Float)?.f_double_value(&[])?;
        Ok(())
    };
    run(archs[0], &batch)?;
    let t0 = Instant::now();
    for &i in &archs {
        run(i, &batch)?;
    }
    Ok(n as f64 / t0.elapsed().as_secs_f64())
}

/// One extraction of `proxies` for `n` sampled archs (seed 1) with `workers` workers and
/// `config` into a temporary table; returns (archs/s, seconds per arch per pass group).
pub fn vector(
    space: Space,
    dataset: NatsDataset,
    n: usize,
    workers: usize,
    device: Device,
    proxies: Vec<String>,
    config: ProxyConfig,
) -> anyhow::Result<(f64, crate::proxy::PassTimes)> {
    let dir = std::env::temp_dir().join(format!("gf-bench-{}-{workers}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let out = dir.join("bench.parquet");
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_dir_all(dir.join("bench.parquet.parts"));
    // A batched engine's groups never span chunks.
    let chunk_size = match config.engine {
        crate::provenance::EngineKind::PerArch => 5,
        crate::provenance::EngineKind::Batched { archs } => archs.max(5),
    };
    let manifest = Manifest {
        space,
        dataset,
        proxies,
        config,
        archs: ArchSelection::Sample { n, seed: 1 }.indices(space)?,
        chunk_size,
        device_kind: DeviceKinds::one(DeviceKind::of(device)),
        shard: None,
    };
    let opts = ExtractOptions {
        device,
        workers,
        allow_device_change: false,
    };
    let s = extract(manifest, &opts, &out, &|_| {})?;
    let _ = std::fs::remove_dir_all(&dir);
    let per = s.progress.seconds.per(n as f64);
    Ok((n as f64 / s.wall_seconds, per))
}

/// Per-proxy CPU/GPU cost of the full vector, measured one arch at a time in this thread.
pub struct ProxyTimes {
    pub archs: usize,
    /// Proxy names, in engine order.
    pub names: Vec<String>,
    /// Mean seconds per arch in each proxy's own code (shared passes excluded).
    pub own: Vec<f64>,
    /// Mean seconds per arch per pass.
    pub groups: crate::proxy::PassTimes,
    /// Mean wall seconds per arch for the whole vector (build + init + every pass).
    pub wall: f64,
}

/// Scores `indices` of `space` one after the other with the full default vector (or `proxies`)
/// and averages the per-proxy and per-group seconds. The first arch is a warm-up, not timed.
pub fn proxy_times(
    space: Space,
    dataset: NatsDataset,
    indices: &[usize],
    device: Device,
    proxies: Option<Vec<String>>,
) -> anyhow::Result<ProxyTimes> {
    let list = match proxies {
        Some(names) => crate::proxy::proxies_by_name(&names)?,
        None => all_proxies_for(space),
    };
    // As an extraction worker: backward passes launched by this thread, not the engine's.
    crate::net::use_own_backward_thread(device);
    let engine = crate::proxy::Engine::new(list, ProxyConfig::default(), dataset, device)?;
    let names = engine.names();
    let Some((&first, timed)) = indices.split_first() else {
        anyhow::bail!("bench proxies needs at least 2 archs (the first is a warm-up)");
    };
    engine.score(&space.arch(first)?)?;
    let mut own = vec![0.0; names.len()];
    let mut groups = crate::proxy::PassTimes::default();
    let t0 = Instant::now();
    for &i in timed {
        let v = engine.score(&space.arch(i)?)?;
        for (a, b) in own.iter_mut().zip(&v.proxy_seconds) {
            *a += b;
        }
        groups.accumulate(&v.seconds);
    }
    let n = timed.len().max(1) as f64;
    Ok(ProxyTimes {
        archs: timed.len(),
        names,
        own: own.into_iter().map(|s| s / n).collect(),
        groups: groups.per(n),
        wall: t0.elapsed().as_secs_f64() / n,
    })
}

/// How far one proxy's values in one table are from another's on the same archs.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDiff {
    pub proxy: String,
    /// Archs where both tables have a finite value.
    pub n: usize,
    /// Relative differences |a − b| / max(|a|, |b|) (0 when both are 0): median, 99th
    /// percentile, maximum.
    pub median: f64,
    pub p99: f64,
    pub max: f64,
}

/// How far a model's predictions from one table are from those from another.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionDiff {
    /// Archs the model predicts from both tables.
    pub n: usize,
    /// Accuracy points.
    pub max: f64,
    pub mean: f64,
    /// Archs whose two predictions differ by more than 0.05 points.
    pub over_005: usize,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[k]
}

/// Per proxy, the relative differences between the values of `a` and `b` on the archs both
/// hold (rows matched by arch index; proxies of both tables, in `a`'s order). The check behind
/// "CUDA values equal the CPU's within the documented tolerance".
pub fn compare_tables(
    a: &crate::table::ProxyTable,
    b: &crate::table::ProxyTable,
) -> anyhow::Result<Vec<ColumnDiff>> {
    let row_of: std::collections::HashMap<i64, usize> = b
        .arch_indices()?
        .into_iter()
        .enumerate()
        .map(|(r, i)| (i, r))
        .collect();
    let pairs: Vec<(usize, usize)> = a
        .arch_indices()?
        .into_iter()
        .enumerate()
        .filter_map(|(r, i)| row_of.get(&i).map(|&s| (r, s)))
        .collect();
    if pairs.is_empty() {
        anyhow::bail!("{} and {} share no arch", a.source, b.source);
    }
    let theirs = b.feature_names();
    let mut out = Vec::new();
    for name in a.feature_names() {
        if !theirs.contains(&name) {
            continue;
        }
        let (x, y) = (a.feature(&name)?, b.feature(&name)?);
        let mut rel: Vec<f64> = pairs
            .iter()
            .filter_map(|&(r, s)| Some((x[r]?, y[s]?)))
            .filter(|(u, v)| u.is_finite() && v.is_finite())
            .map(|(u, v)| {
                let scale = u.abs().max(v.abs());
                if scale == 0.0 {
                    0.0
                } else {
                    (u - v).abs() / scale
                }
            })
            .collect();
        rel.sort_by(f64::total_cmp);
        out.push(ColumnDiff {
            proxy: name,
            n: rel.len(),
            median: quantile(&rel, 0.5),
            p99: quantile(&rel, 0.99),
            max: rel.last().copied().unwrap_or(f64::NAN),
        });
    }
    Ok(out)
}

/// The differences between `model`'s predictions from table `a` and from table `b` on the
/// archs it predicts from both.
pub fn compare_predictions(
    model: &crate::model::Model,
    a: &crate::table::ProxyTable,
    b: &crate::table::ProxyTable,
) -> anyhow::Result<PredictionDiff> {
    let predict =
        |t: &crate::table::ProxyTable| -> anyhow::Result<std::collections::HashMap<usize, f64>> {
            // The model's proxies only (a table may hold more, e.g. all 30).
            let keep: Vec<String> = t
                .feature_names()
                .into_iter()
                .filter(|n| model.feature_names().contains(n))
                .collect();
            let t = crate::predict::model_table(model, &t.select_features(&keep)?)?;
            Ok(crate::predict::predict_table(model, &t)?
                .into_iter()
                .filter_map(|p| Some((p.index, p.prediction.ok()?.mean)))
                .collect())
        };
    let (pa, pb) = (predict(a)?, predict(b)?);
    let d: Vec<f64> = pa
        .iter()
        .filter_map(|(i, u)| Some((u - pb.get(i)?).abs()))
        .collect();
    if d.is_empty() {
        anyhow::bail!("the model predicts no arch from both tables");
    }
    Ok(PredictionDiff {
        n: d.len(),
        max: d.iter().copied().fold(0.0, f64::max),
        mean: d.iter().sum::<f64>() / d.len() as f64,
        over_005: d.iter().filter(|&&x| x > 0.05).count(),
    })
}
