//! `meco` and `meco_opt` (Jiang et al., "MeCo: Zero-Shot NAS with One Data and Single Forward
//! Pass via Minimum Eigenvalue of Correlation", NeurIPS 2023).
//!
//! One image goes through the network; for every module call (a forward hook on *every*
//! module) the output of that image, `F ∈ R^{C × HW}` (channels as variables, positions as
//! observations), gives the Pearson correlation matrix `P = corrcoef(F)` (C × C) with NaN/±inf
//! entries set to 0 (a constant channel has no correlation):
//! * `meco = Σ_calls λ_min(P)`;
//! * `meco_opt = Σ_calls λ_min(P_S) · C / 8`, `P_S` the correlation of 8 channels sampled without
//!   replacement (a fresh sample per call).
//!
//! Calls whose value is NaN/inf are dropped from the sum (the reference filters `results`).
//! Zero ops, global pooling, the classifier and the root output give `P = 0`, i.e. 0.
//!
//! Reference: `HamsterMimi/MeCo` `correlation/NAS_Bench_201.py` `get_score` (measures `meco` and
//! `meco_opt`). Choices that change the number:
//! * the image: the first image of the engine's batch (the reference: the first image of its
//!   training loader with `batch_size=1`), BN in train mode over that single image, float32,
//!   default (our) initial weights;
//! * hooked modules = the reference model's module tree, so a tensor is counted once per
//!   module that returns it (ReLUConvBN's BN output 3×: BN, `op` Sequential, ReLUConvBN; pooling
//!   2×; Identity 1×). SSS: xautodl `DynamicShapeTinyNet` (MeCo builds it with
//!   `get_cell_based_tiny_net`). TSS: foresight `NAS201Model` (`foresight/models/nasbench2.py`,
//!   which MeCo uses for TSS): its tree equals xautodl's `TinyNetwork` but for a `stem` wrapper
//!   (stem BN output once more) and `nn.Sequential` stacks of 5 cells (the last cell of each
//!   stage once more); both are added here. Its conv biases/affine-free BN are equal to ours at
//!   initialisation up to per-channel constants, to which correlations are invariant;
//! * eigenvalues in float64 of the float32 correlation matrix (`eigvalsh`; the reference runs
//!   `torch.linalg.eig` in float32 and takes the minimum real part);
//! * meco_opt's channel samples come from our generator,
//!   `derive_seed(derive_seed(arch_seed, MECO_OPT_STREAM), call index)` ([`meco_opt_indices`]);
//!   fewer than 8 channels is an error as in the reference (`random.sample`), never the case in
//!   NATS-Bench.

use super::{ArchContext, Pass, Proxy, ProxyError};
use crate::net::{BnMode, ForwardOptions, TapKind, Taps};
use crate::rng::{derive_seed, SplitMix64};
use tch::{Kind, Tensor};

pub struct Meco;
pub struct MecoOpt;

/// Stream id of meco_opt's channel samples under the arch seed.
pub const MECO_OPT_STREAM: u64 = 0x6d65_636f;
/// Channels sampled per call by meco_opt.
pub const MECO_OPT_CHANNELS: usize = 8;

/// The hooked feature maps of the first image, `[C, L]` each, in hook order.
pub fn meco_features(cx: &ArchContext) -> Result<Vec<Tensor>, ProxyError> {
    let _guard = tch::no_grad_guard();
    let x = cx.batch.x.f_narrow(0, 0, 1)?;
    let mut taps = Taps::new(&[TapKind::ModuleOutput]);
    let _ = cx.net.forward(
        cx.init,
        &x,
        ForwardOptions { bn: BnMode::Train },
        Some(&mut taps),
    )?;
    let mut out = Vec::with_capacity(taps.taps.len() + 4);
    for t in taps.of(TapKind::ModuleOutput) {
        let f = t.tensor.f_select(0, 0)?;
        let c = f.size()[0];
        let f = f.f_reshape([c, -1])?;
        out.push(f);
    }
    Ok(out)
}

/// λ_min of the correlation matrix of the rows of each map `[C, L]` (NaN/inf entries → 0),
/// float64, in map order.
///
/// The matrices are grouped by size; each group goes to the CPU in one transfer and through one
/// batched `linalg_eigvalsh`. On a GPU that is one device→host read per matrix size (3 in a TSS
/// net) instead of one per module output (~200), each of which waited for the worker's stream
/// to drain. LAPACK decomposes a batch matrix by matrix, so every value equals that of one call
/// per matrix.
fn min_eig_corrs(maps: &[Tensor]) -> Result<Vec<f64>, ProxyError> {
    let mut out = vec![0.0; maps.len()];
    // (matrix size, map positions, correlation matrices)
    let mut groups: Vec<(i64, Vec<usize>, Vec<Tensor>)> = Vec::new();
    for (k, f) in maps.iter().enumerate() {
        // One position per channel (global pooling, classifier): every correlation is NaN,
        // the matrix 0 and λ_min 0. Said here rather than computed, which would make libtorch
        // warn "degrees of freedom is <= 0" on stderr for every such module.
        if f.size().get(1).is_some_and(|&l| l < 2) {
            continue;
        }
        let corr = f
            .f_corrcoef()?
            .f_nan_to_num(Some(0.0), Some(0.0), Some(0.0))?
            .f_to_kind(Kind::Double)?;
        let c = corr.size()[0];
        match groups.iter_mut().find(|g| g.0 == c) {
            Some(g) => {
                g.1.push(k);
                g.2.push(corr);
            }
            None => groups.push((c, vec![k], vec![corr])),
        }
    }
    for (_, positions, mats) in groups {
        let eig = Tensor::f_stack(&mats, 0)?
            .f_to_device(tch::Device::Cpu)?
            .f_linalg_eigvalsh("L")?;
        // eigvalsh sorts ascending: column 0 holds each matrix's λ_min.
        let lo = Vec::<f64>::try_from(&eig.f_select(1, 0)?.f_contiguous()?)?;
        for (k, v) in positions.into_iter().zip(lo) {
            out[k] = v;
        }
    }
    Ok(out)
}

/// meco_opt's 8 distinct channel indices for hook call `call` of a map with `n` channels.
pub fn meco_opt_indices(arch_seed: u64, call: u64, n: usize) -> Result<Vec<i64>, ProxyError> {
    if n < MECO_OPT_CHANNELS {
        return Err(ProxyError::Undefined(format!(
            "meco_opt samples {MECO_OPT_CHANNELS} channels from a map with {n}"
        )));
    }
    let mut rng = SplitMix64::new(derive_seed(derive_seed(arch_seed, MECO_OPT_STREAM), call));
    let mut pool: Vec<i64> = (0..n as i64).collect();
    for k in 0..MECO_OPT_CHANNELS {
        let j = k + rng.below((n - k) as u64) as usize;
        pool.swap(k, j);
    }
    pool.truncate(MECO_OPT_CHANNELS);
    Ok(pool)
}

fn finite_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().filter(|v| v.is_finite()).sum()
}

impl Proxy for Meco {
    fn name(&self) -> &str {
        "meco"
    }
    fn pass(&self) -> Pass {
        Pass::Own
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let feats = meco_features(cx)?;
        Ok(finite_sum(min_eig_corrs(&feats)?))
    }
}

impl Proxy for MecoOpt {
    fn name(&self) -> &str {
        "meco_opt"
    }
    fn pass(&self) -> Pass {
        Pass::Own
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let feats = meco_features(cx)?;
        // Every call's channel sample goes to the device in one copy ([calls, 8]).
        let mut idx = Vec::with_capacity(feats.len() * MECO_OPT_CHANNELS);
        for (k, f) in feats.iter().enumerate() {
            idx.extend(meco_opt_indices(
                cx.arch_seed,
                k as u64,
                f.size()[0] as usize,
            )?);
        }
        let idx = Tensor::f_from_slice(&idx)?
            .f_reshape([feats.len() as i64, MECO_OPT_CHANNELS as i64])?
            .f_to_device(cx.device)?;
        let samples = feats
            .iter()
            .enumerate()
            .map(|(k, f)| f.f_index_select(0, &idx.f_select(0, k as i64)?))
            .collect::<Result<Vec<_>, _>>()?;
        let lo = min_eig_corrs(&samples)?;
        // λ_min · C / 8, in the reference's order of operations.
        let scaled = |(v, f): (f64, &Tensor)| v * f.size()[0] as f64 / MECO_OPT_CHANNELS as f64;
        Ok(finite_sum(lo.into_iter().zip(&feats).map(scaled)))
    }
}
