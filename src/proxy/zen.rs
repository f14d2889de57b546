//! `zen` (Lin et al., "Zen-NAS: A Zero-Shot NAS for High-Performance Image Recognition",
//! ICCV 2021): the expected change of the pre-GAP feature map under a small input perturbation
//! of a Gaussian-initialised network, corrected by the BN scaling factors.
//!
//! `zen = log( mean_n Σ_{c,h,w} |f(x)_n − f(x + α ε)_n| ) + Σ_BN log √(mean_c running_var)`
//! with `x, ε ~ N(0, 1)` of the batch's shape, α = 0.01, `f` = features before global average
//! pooling (after `lastact` BN+ReLU).
//!
//! Reference: NASLib `zerocost` `naslib/predictors/pruners/measures/zen.py` (the version behind
//! the NAS-Bench-Suite-Zero values), from `idstcv/ZenNAS` `ZeroShotProxy/compute_zen_score.py`.
//! Choices that change the number:
//! * own copy: every Conv2d and Linear weight re-drawn from N(0, 1), the classifier bias set to
//!   0, BN weight 1 / bias 0 (`network_weight_gaussian_init`);
//! * `x`, `ε` and the weights come from our generator (`derive_seed(arch_seed, ZEN_STREAM)`,
//!   Box–Muller; see [`zen_draws`]), not torch's global RNG; batch shape = the engine's batch
//!   (64 images), the batch's images themselves are not used;
//! * BN in train mode (batch statistics) for both forwards, float32, no gradients, one repeat;
//! * the BN term reads `running_var` after the two forwards exactly as PyTorch updates it from
//!   its initial 1 with momentum 0.1 and the unbiased batch variance:
//!   `rv = 0.81 + 0.09·var₁ + 0.1·var₂` per channel, for every BatchNorm2d that ran;
//! * the sum over C,H,W then the mean over the batch (not a mean over all elements); natural log.

use super::{read_scalars, ArchContext, Pass, Proxy, ProxyError};
use crate::graph::ParamRole;
use crate::net::{BnMode, ForwardOptions, TapKind, Taps, Weights};
use crate::rng::{derive_seed, SplitMix64};
use tch::{Device, Kind, Tensor};

pub struct Zen;

/// Stream id of zen's draws under the arch seed.
pub const ZEN_STREAM: u64 = 0x7a65_6e00;
/// The mixup coefficient α.
pub const ZEN_ALPHA: f64 = 0.01;
const BN_MOMENTUM: f64 = 0.1;

/// Standard normal values of `shape` from `rng` ([`SplitMix64::normals_f32`], as the synthetic
/// batch).
pub fn gaussian(rng: &mut SplitMix64, shape: &[i64]) -> Result<Tensor, ProxyError> {
    let n: i64 = shape.iter().product();
    let v = rng.normals_f32(n as usize);
    Ok(Tensor::f_from_slice(&v)?.f_reshape(shape)?)
}

/// Zen's random draws for one arch, on the CPU: the re-initialised weights (Gaussian conv and
/// linear weights, zero classifier bias, BN 1/0), and the inputs `x`, `ε`.
pub struct ZenDraws {
    pub weights: Weights,
    pub x: Tensor,
    pub eps: Tensor,
}

pub fn zen_draws(cx: &ArchContext) -> Result<ZenDraws, ProxyError> {
    let mut rng = SplitMix64::new(derive_seed(cx.arch_seed, ZEN_STREAM));
    let layers = cx.layer_weights();
    let mut tensors = Vec::with_capacity(cx.init.tensors.len());
    let params = &cx.net.graph().params;
    for (i, t) in cx.init.tensors.iter().enumerate() {
        let shape = t.size();
        let v = if layers.contains(&i) {
            gaussian(&mut rng, &shape)?
        } else if params[i].role == ParamRole::BnWeight {
            Tensor::f_ones(shape.as_slice(), (Kind::Float, Device::Cpu))?
        } else {
            Tensor::f_zeros(shape.as_slice(), (Kind::Float, Device::Cpu))?
        };
        tensors.push(v);
    }
    let shape = cx.batch.x.size();
    let x = gaussian(&mut rng, &shape)?;
    let eps = gaussian(&mut rng, &shape)?;
    Ok(ZenDraws {
        weights: Weights {
            names: cx.init.names.clone(),
            tensors,
        },
        x,
        eps,
    })
}

impl Proxy for Zen {
    fn name(&self) -> &str {
        "zen"
    }
    fn pass(&self) -> Pass {
        Pass::Own
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let _guard = tch::no_grad_guard();
        let d = zen_draws(cx)?;
        let w = d.weights.upload(Kind::Float, cx.device)?;
        let x = d.x.f_to_device(cx.device)?;
        let mix = x.f_add(&d.eps.f_to_device(cx.device)?.f_mul_scalar(ZEN_ALPHA)?)?;
        let run = |input: &Tensor| -> Result<(Tensor, Vec<Tensor>), ProxyError> {
            let mut taps = Taps::new(&[TapKind::PreGap, TapKind::BnInput]);
            let _ = cx.net.forward(
                &w,
                input,
                ForwardOptions { bn: BnMode::Train },
                Some(&mut taps),
            )?;
            let pre = taps
                .of(TapKind::PreGap)
                .next()
                .ok_or_else(|| ProxyError::Undefined("no pre-GAP features".into()))?
                .tensor
                .shallow_clone();
            let bn = taps
                .of(TapKind::BnInput)
                .map(|t| t.tensor.shallow_clone())
                .collect();
            Ok((pre, bn))
        };
        let (f1, bn1) = run(&x)?;
        let (f2, bn2) = run(&mix)?;
        let diff = f1
            .f_sub(&f2)?
            .f_abs()?
            .f_sum_dim_intlist([1i64, 2, 3].as_slice(), false, Kind::Float)?
            .f_mean(Kind::Float)?;
        // The feature difference and each BN's mean running variance, read back in one
        // transfer.
        let mut terms = vec![diff];
        for (a, b) in bn1.iter().zip(&bn2) {
            // running_var ← (1 − m)·running_var + m·unbiased batch variance, twice from 1.
            let dims = [0i64, 2, 3];
            let v1 = a.f_var_dim(dims.as_slice(), true, false)?;
            let v2 = b.f_var_dim(dims.as_slice(), true, false)?;
            let rv = v1
                .f_mul_scalar(BN_MOMENTUM)?
                .f_add_scalar(1.0 - BN_MOMENTUM)?
                .f_mul_scalar(1.0 - BN_MOMENTUM)?
                .f_add(&v2.f_mul_scalar(BN_MOMENTUM)?)?;
            terms.push(rv.f_mean(Kind::Float)?);
        }
        let values = read_scalars(&terms)?;
        let mut score = values[0].ln();
        for m in &values[1..] {
            score += m.sqrt().ln();
        }
        Ok(score)
    }
}
