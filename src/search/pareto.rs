//! The Pareto front of predicted accuracy (higher is better) against a cost (lower is better):
//! the archs no other arch beats on both. The cost is the HW-NAS-Bench hardware cost, or the
//! arch's parameters or FLOPs (the costs SSS has).

use super::Candidate;

/// The candidates with a prediction and a hardware cost that no other such candidate dominates
/// (at least as accurate and at most as costly, better in one), cheapest first. Of candidates
/// equal in both, the lowest index is kept.
pub fn pareto_front(candidates: &[Candidate]) -> Vec<&Candidate> {
    pareto_front_by(candidates, |c| c.hw)
}

/// [`pareto_front`] against the cost `cost` gives (e.g. `|c| c.params_m`); candidates without
/// a cost are left out.
pub fn pareto_front_by(
    candidates: &[Candidate],
    cost: impl Fn(&Candidate) -> Option<f64>,
) -> Vec<&Candidate> {
    let mut v: Vec<(&Candidate, f64, f64)> = candidates
        .iter()
        .filter_map(|c| Some((c, c.prediction.as_ref().ok()?.mean, cost(c)?)))
        .collect();
    // Cheapest first; among equal cost the most accurate first, then the lowest index.
    v.sort_by(|a, b| {
        a.2.total_cmp(&b.2)
            .then(b.1.total_cmp(&a.1))
            .then(a.0.arch.index().cmp(&b.0.arch.index()))
    });
    let mut front = Vec::new();
    let mut best = f64::NEG_INFINITY;
    for (c, acc, _) in v {
        // Every arch before this one is at most as costly; it joins the front only if it is
        // strictly more accurate than all of them.
        if acc > best {
            front.push(c);
            best = acc;
        }
    }
    front
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predict::{ArchPrediction, Basis};
    use crate::space::Space;

    fn cand(index: usize, acc: f64, hw: Option<f64>) -> Candidate {
        Candidate {
            arch: Space::Tss.arch(index).unwrap(),
            prediction: Ok(ArchPrediction {
                mean: acc,
                std: 0.0,
                basis: Basis::Forest,
            }),
            params_m: None,
            flops_m: None,
            hw,
        }
    }

    #[test]
    fn front_is_the_non_dominated_set() {
        let cs = vec![
            cand(0, 90.0, Some(10.0)),
            cand(1, 91.0, Some(12.0)),
            cand(2, 89.0, Some(11.0)), // dominated by 0
            cand(3, 91.0, Some(12.0)), // equal to 1: the lower index stays
            cand(4, 85.0, Some(5.0)),
            cand(5, 95.0, None), // no cost: not on the front
            cand(6, 93.0, Some(20.0)),
        ];
        let f: Vec<usize> = pareto_front(&cs).iter().map(|c| c.arch.index()).collect();
        assert_eq!(f, vec![4, 0, 1, 6]);
        // No member dominates another.
        let front = pareto_front(&cs);
        for a in &front {
            for b in &front {
                let (pa, pb) = (a.fitness(), b.fitness());
                let (ha, hb) = (a.hw.unwrap(), b.hw.unwrap());
                assert!(!(pa >= pb && ha <= hb && (pa > pb || ha < hb)));
            }
        }
    }
}
