//! `nwot` (Mellor et al., "Neural Architecture Search without Training", ICML 2021, second
//! version of the paper): the log-determinant of the kernel of binary ReLU activation codes.
//!
//! For every ReLU call `r` and sample `i`, `c_{r,i} = [input of r > 0]` (flattened over C×H×W);
//! `K = Σ_r (C_r C_rᵀ + (1 − C_r)(1 − C_r)ᵀ)` (`N × N`, N = batch size: number of units where
//! two samples agree), score `= log|det K|` (the sign is dropped, as `np.linalg.slogdet(K)[1]`).
//!
//! Reference: NASLib `zerocost` `naslib/predictors/pruners/measures/nwot.py` (forward hook on
//! every `nn.ReLU` module, input `inp[0]`), updated from `BayesWatch/nas-without-training`.
//! Choices that change the number:
//! * hooked modules: every ReLU that runs — the ReLU of each `ReLUConvBN` (cell edges, pooling
//!   preprocess, ResNet blocks) and `lastact`'s ReLU; `FactorizedReduce` at stride 1 has none;
//! * the whole batch (64), one forward, BN in train mode (batch statistics), float32;
//! * per-ReLU products in float32 (exact: integer counts < 2²⁴), accumulated and `slogdet` in
//!   float64 (NASLib: numpy float64);
//! * a singular `K` gives `log|det| = −∞`: reported as non-finite (NaN with reason).

use super::{ArchContext, Pass, Proxy, ProxyError};
use tch::{Kind, Tensor};

pub struct Nwot;

/// `K` of the NASWOT definition from ReLU inputs `[N, …]` (float64, on the inputs' device).
pub fn nwot_kernel<'a>(
    inputs: impl IntoIterator<Item = &'a Tensor>,
) -> Result<Option<Tensor>, ProxyError> {
    let mut k: Option<Tensor> = None;
    for x in inputs {
        let n = x.size()[0];
        let c = x.f_reshape([n, -1])?.f_gt(0.0)?.f_to_kind(Kind::Float)?;
        let nc = c.f_neg()?.f_add_scalar(1.0)?;
        let kk = c
            .f_matmul(&c.f_tr()?)?
            .f_add(&nc.f_matmul(&nc.f_tr()?)?)?
            .f_to_kind(Kind::Double)?;
        k = Some(match k {
            None => kk,
            Some(a) => a.f_add(&kk)?,
        });
    }
    Ok(k)
}

impl Proxy for Nwot {
    fn name(&self) -> &str {
        "nwot"
    }
    fn pass(&self) -> Pass {
        Pass::Forward
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let pass = cx.relu_inputs()?;
        let k = nwot_kernel(pass.relu_inputs.iter().map(|(_, t)| t))?
            .ok_or_else(|| ProxyError::Undefined("no ReLU ran".into()))?;
        let (_sign, logabsdet) = k.f_slogdet()?;
        Ok(logabsdet.f_double_value(&[])?)
    }
}
