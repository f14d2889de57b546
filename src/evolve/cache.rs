//! The fitness cache: each sampled arch's per-layer terminals, computed once by the engine's
//! labelled pass ([`Engine::with_context`], the pass extraction runs) and reduced to at most
//! `elements` kept elements per tensor ([`crate::formula::sample`]), so that scoring a formula
//! on the whole fitness sample reads memory, not networks.

use crate::formula::sample::{layer_sample, ArchSample};
use crate::formula::{Op, Terminal, Ty};
use crate::proxy::formula::{layer_tensors, of_terminal};
use crate::proxy::{Engine, PassPlan, ProxyError};
use crate::rng::{derive_seed, SplitMix64};
use crate::space::Arch;
use std::time::Instant;

/// How the cache keeps each tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheOptions {
    /// Elements kept per layer tensor (all of a smaller tensor).
    pub elements: usize,
    /// Seed of the kept positions (arch `i` draws from `derive_seed(seed, i)`).
    pub seed: u64,
}

/// The kept terminals of a fitness sample, with what building them cost.
#[derive(Debug, Clone)]
pub struct TensorCache {
    /// In the order of the archs given.
    pub archs: Vec<ArchSample>,
    /// Seconds spent building.
    pub seconds: f64,
}

impl TensorCache {
    /// Bytes held by the kept elements and layer records.
    pub fn bytes(&self) -> usize {
        self.archs.iter().map(ArchSample::bytes).sum()
    }
}

/// One arch's kept terminals.
pub fn arch_sample(
    engine: &Engine,
    arch: &Arch,
    options: &CacheOptions,
) -> Result<ArchSample, ProxyError> {
    let plan = PassPlan {
        labelled: true,
        ..PassPlan::default()
    };
    engine.with_context(arch, plan, |cx| {
        let layers = layer_tensors(cx, true)?;
        let mut rng = SplitMix64::new(derive_seed(options.seed, arch.index() as u64));
        let mut out = Vec::with_capacity(layers.len());
        for layer in &layers {
            let mut full: Vec<Vec<f32>> = Vec::with_capacity(4);
            let mut stats = [[0.0; 4]; Op::TERMINAL_STATISTICS.len()];
            for t in Terminal::ALL {
                let x = layer.get(t);
                for (i, op) in Op::TERMINAL_STATISTICS.into_iter().enumerate() {
                    stats[i][t as usize] = of_terminal(op, x, t.ty())?;
                }
                let flat = x.f_reshape([-1])?.f_to_device(tch::Device::Cpu)?;
                full.push(Vec::<f32>::try_from(&flat)?);
            }
            out.push(layer_sample(
                [&full[0], &full[1], &full[2], &full[3]],
                stats,
                layer.cell,
                options.elements,
                &mut rng,
            ));
        }
        debug_assert!(Terminal::ALL.iter().all(|t| t.ty() != Ty::Scalar));
        Ok(ArchSample { layers: out })
    })
}

/// The cache of `archs`, `progress(done)` after each.
pub fn build_cache(
    engine: &Engine,
    archs: &[Arch],
    options: &CacheOptions,
    mut progress: impl FnMut(usize),
) -> Result<TensorCache, ProxyError> {
    let t0 = Instant::now();
    let mut out = Vec::with_capacity(archs.len());
    for (k, arch) in archs.iter().enumerate() {
        out.push(arch_sample(engine, arch, options)?);
        progress(k + 1);
    }
    Ok(TensorCache {
        archs: out,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
