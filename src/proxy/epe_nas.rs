//! `epe_nas` (Lopes, Alirezazadeh & Alexandre, "EPE-NAS: Efficient Performance Estimation
//! Without Training for Neural Architecture Search", ICANN 2021):
//!
//! ```text
//! J          = per-image input Jacobian of Σ logits (as jacov), float64 rows
//! for each class c present in the batch (in order of first appearance):
//!     s_c = Σ_{i,j} ln(|corrcoef(J_c)_{ij}| + k),   k = 1e-5
//!     s_c /= |c|                       only when the network has > 100 outputs
//! C ≤ 100:  epe = Σ_c |s_c|
//! C > 100:  epe = Σ_c Σ_c' |s_c − s_c'| / (number of classes kept)   (0 if none)
//! ```
//!
//! C = the number of network outputs (`y.shape[-1]`): 10 / 100 use the first rule,
//! ImageNet16-120 the second. Classes absent from the batch are simply not in the sums (the
//! normalisation is by the number of classes *seen*).
//! Reference: NASLib `zerocost` `naslib/predictors/utils/pruners/measures/epe_nas.py`
//! (`eval_score_perclass`, from the authors' `VascoLopes/EPE-NAS` `search.py`).
//! Rules of the reference reproduced here:
//! * a class with one image: `np.corrcoef` of one row returns the scalar `var/var` = 1, so
//!   `s_c = ln(1 + k)`; with C > 100, `len()` of that scalar raises and the reference's
//!   `except: continue` drops the class;
//! * a zero-variance Jacobian row (output independent of the input, e.g. an unreachable or
//!   all-`none` cell) makes the correlation NaN, which the reference propagates ⇒ NaN (reported
//!   with that reason).
//!
//! Choices that change the number: batch 64 and its labels, BN train mode, float32 Jacobian
//! with float64 correlations (numpy's promotion), correlations clipped to [−1, 1] (numpy and
//! `torch.corrcoef` both clip).

use super::jacov::{jacobian_rows, to_vec, K};
use super::{ArchContext, Pass, Proxy, ProxyError};
use tch::{Device, Tensor};

pub struct EpeNas;

impl Proxy for EpeNas {
    fn name(&self) -> &str {
        "epe_nas"
    }
    fn pass(&self) -> Pass {
        Pass::Jacobian
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        let j = jacobian_rows(cx)?;
        let n_classes = cx.net.classes();
        let labels = Vec::<i64>::try_from(&cx.batch.y.f_to_device(Device::Cpu)?.f_contiguous()?)?;
        // Groups in order of first appearance (the reference's dict insertion order).
        let mut groups: Vec<(i64, Vec<i64>)> = Vec::new();
        for (i, &l) in labels.iter().enumerate() {
            match groups.iter_mut().find(|(c, _)| *c == l) {
                Some((_, v)) => v.push(i as i64),
                None => groups.push((l, vec![i as i64])),
            }
        }
        let mut scores: Vec<(i64, f64)> = Vec::new();
        for (c, idx) in &groups {
            let s = if idx.len() == 1 {
                if n_classes > 100 {
                    continue; // the reference's len() of a scalar raises: class dropped
                }
                let row = j.f_select(0, idx[0])?;
                let var = row.f_var(true)?.f_double_value(&[])?;
                // numpy: var/var — 1 for a finite non-zero variance, NaN otherwise.
                let one = if var.is_finite() && var != 0.0 {
                    1.0
                } else {
                    f64::NAN
                };
                (one.abs() + K).ln()
            } else {
                let rows = j.f_index_select(0, &Tensor::f_from_slice(idx)?)?;
                let corr = to_vec(&rows.f_corrcoef()?)?;
                let mut s: f64 = corr.iter().map(|r| (r.abs() + K).ln()).sum();
                if n_classes > 100 {
                    s /= idx.len() as f64;
                }
                s
            };
            if !s.is_finite() {
                return Err(ProxyError::Undefined(format!(
                    "class {c}: a Jacobian row has zero variance (output independent of the \
                     input), correlation undefined"
                )));
            }
            scores.push((*c, s));
        }
        let mut score = 0.0;
        if n_classes <= 100 {
            for (_, s) in &scores {
                score += s.abs();
            }
        } else {
            for (_, a) in &scores {
                for (_, b) in &scores {
                    score += (a - b).abs();
                }
            }
            if !scores.is_empty() {
                score /= scores.len() as f64;
            }
        }
        Ok(score)
    }
}
