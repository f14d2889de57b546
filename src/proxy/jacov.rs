//! `jacov` (Mellor, Turner, Storkey & Crowley, "Neural Architecture Search without Training",
//! arXiv v1 2020, the "jacob_cov" score; as a zero-cost proxy in Abdelfattah et al. 2021):
//!
//! ```text
//! J_n    = ∂(Σ_{n',k} logits_{n'k}) / ∂x_n, flattened      (one row per image, [N, 3·H·W])
//! Σ      = corrcoef(J)                                     (N×N Pearson correlations)
//! jacov  = −Σ_i ( ln(λ_i + k) + 1/(λ_i + k) ),  λ = eig(Σ),  k = 1e-5
//! ```
//!
//! Reference: NASLib `zerocost` `naslib/predictors/utils/pruners/measures/jacov.py`
//! (`@measure("jacov", bn=True)`: `get_batch_jacobian` = `y.backward(ones_like(y))`, `x.grad`;
//! `eval_score` = `np.corrcoef` + `np.linalg.eig`), foresight `measures/jacob_cov.py`.
//! Choices that change the number: batch 64 (the matrix is N×N), BN train mode, float32
//! Jacobian, correlations and eigenvalues in float64 (numpy promotes the float32 Jacobian to
//! float64). We use the symmetric solver (`linalg_eigvalsh`): Σ is symmetric, so its eigenvalues
//! equal `np.linalg.eig`'s up to rounding.
//! NaN rules (the reference's `try/except → np.nan`):
//! * a Jacobian row with zero variance (the output does not depend on the input, e.g. a cell
//!   whose output node is unreachable, or all-`none`) makes the correlation NaN and
//!   `np.linalg.eig` raises ⇒ NaN;
//! * a batch of one image: `np.corrcoef` returns a scalar and `np.linalg.eig` raises ⇒ NaN;
//! * an eigenvalue below −k gives `ln` of a negative number ⇒ NaN (numpy's `log` does the same).

use super::{ArchContext, Pass, Proxy, ProxyError};
use tch::{Device, Kind, Tensor};

pub struct Jacov;

pub(crate) const K: f64 = 1e-5;

/// The shared Jacobian as float64 rows `[N, 3·H·W]` on the CPU (what the references hand to
/// numpy).
pub(crate) fn jacobian_rows(cx: &ArchContext) -> Result<Tensor, ProxyError> {
    let pass = cx.jacobian()?;
    let j = &pass.jacobian;
    let n = j.size()[0];
    Ok(j.f_reshape([n, -1])?
        .f_to_device(Device::Cpu)?
        .f_to_kind(Kind::Double)?)
}

pub(crate) fn to_vec(t: &Tensor) -> Result<Vec<f64>, ProxyError> {
    let flat = t
        .f_flatten(0, -1)?
        .f_to_kind(Kind::Double)?
        .f_contiguous()?;
    Ok(Vec::<f64>::try_from(&flat)?)
}

impl Proxy for Jacov {
    fn name(&self) -> &str {
        "jacov"
    }
    fn pass(&self) -> Pass {
        Pass::Jacobian
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let j = jacobian_rows(cx)?;
        if j.size()[0] < 2 {
            return Err(ProxyError::Undefined(
                "batch of one image: the correlation matrix is a scalar and the reference's \
                 eigendecomposition fails"
                    .into(),
            ));
        }
        let corr = j.f_corrcoef()?;
        if !to_vec(&corr)?.iter().all(|v| v.is_finite()) {
            return Err(ProxyError::Undefined(
                "a Jacobian row has zero variance (output independent of the input): \
                 correlation undefined"
                    .into(),
            ));
        }
        let eig = to_vec(&corr.f_linalg_eigvalsh("L")?)?;
        let mut score = 0.0;
        for v in eig {
            score -= (v + K).ln() + 1.0 / (v + K);
        }
        Ok(score)
    }
}
