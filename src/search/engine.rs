//! Scoring by computing the model's proxies with an [`Engine`], on several workers.

use std::collections::HashMap;
use std::time::Instant;

use super::Scorer;
use crate::model::Model;
use crate::net::Network;
use crate::predict::{by_rule, check_engine, predict_vector, ArchPrediction, PredictError};
use crate::proxy::{Engine, ProxyError, ProxyVector};
use crate::space::{Arch, Space};

/// Computes each arch's proxies with engines built from the model's configuration, then the
/// model's forest, exactly as `predict --arch` does. Archs scored together
/// ([`Scorer::predict_many`]) are spread over one worker per engine, each with one libtorch
/// thread as in `extract`, so the values are those of the extracted tables bit for bit whatever
/// the worker count. With isomorphism sharing the class representative's vector is kept, so a
/// second member of a class (a mutation often leads to one) only computes its static proxies.
pub struct EngineScorer<'m> {
    /// One per worker; all compute the same configuration.
    engines: Vec<Engine>,
    /// The model's forest, or `None`: the engines' one proxy is the score.
    model: Option<&'m Model>,
    /// Representative index → its full vector.
    representatives: HashMap<usize, ProxyVector>,
    seconds: f64,
}

impl<'m> EngineScorer<'m> {
    /// `engines` (at least one, all of the model's configuration, checked) are the workers of
    /// the proxy worker pool ([`crate::proxy::pool`]), as in `extract`.
    pub fn new(
        engines: Vec<Engine>,
        model: &'m Model,
        space: Space,
    ) -> Result<EngineScorer<'m>, PredictError> {
        let Some(first) = engines.first() else {
            return Err(PredictError::Mismatch {
                engine: "no engine".into(),
                model: "one engine per worker".into(),
            });
        };
        for e in &engines {
            check_engine(e, model, space)?;
        }
        // Here rather than at the first batch: a machine whose CUDA kernels do not load is
        // told before the search starts.
        crate::net::load_cuda_linalg(first.device).map_err(ProxyError::from)?;
        Ok(EngineScorer {
            engines,
            model: Some(model),
            representatives: HashMap::new(),
            seconds: 0.0,
        })
    }

    /// A scorer ranking by the value of the engines' one proxy (a built-in or a formula)
    /// without a model or labels: true zero-shot search. Archs whose output ignores the input
    /// have no score (a proxy value is not an accuracy, so chance accuracy would not compare).
    pub fn by_proxy(engines: Vec<Engine>) -> Result<EngineScorer<'static>, PredictError> {
        let Some(first) = engines.first() else {
            return Err(PredictError::Mismatch {
                engine: "no engine".into(),
                model: "one engine per worker".into(),
            });
        };
        if engines.iter().any(|e| e.proxies.len() != 1) {
            return Err(PredictError::Mismatch {
                engine: format!("{} proxies", first.proxies.len()),
                model: "one proxy to rank by".into(),
            });
        }
        crate::net::load_cuda_linalg(first.device).map_err(ProxyError::from)?;
        Ok(EngineScorer {
            engines,
            model: None,
            representatives: HashMap::new(),
            seconds: 0.0,
        })
    }

    /// The vectors of class members `archs` from their representatives' kept vectors (each
    /// member's static proxies computed on the workers' pool, as extract computes them); in
    /// order. Every member's representative is in `representatives`.
    fn member_vectors(&mut self, archs: &[Arch]) -> Vec<Result<ProxyVector, ProxyError>> {
        let share = self.engines[0].config.share_isomorphic;
        let representatives = &self.representatives;
        on_pool(&mut self.engines, archs, archs.len(), |engine, a| {
            let rep = &representatives[&crate::proxy::pool::computed_for(share, a).index()];
            vec![engine.score_shared(a, rep)]
        })
    }

    /// Full vectors of `archs`, computed on the workers' pool; in order.
    fn vectors(&mut self, archs: &[Arch]) -> Vec<Result<ProxyVector, ProxyError>> {
        // The engine's kind decides the unit of work: an arch, or a group for the batched
        // engine (a table's and a search's values are then those of the same engine).
        let groups: Vec<&[Arch]> = archs.chunks(self.engines[0].group_size()).collect();
        on_pool(&mut self.engines, &groups, archs.len(), |engine, group| {
            engine.score_many(group)
        })
    }
}

/// The vectors `f` computes for each item (an arch or a group of archs) on the workers' pool,
/// concatenated in item order; when the pool could not start (libtorch's CUDA kernels failed
/// to load), that reason for each of the `archs` archs.
fn on_pool<I: Sync>(
    engines: &mut [Engine],
    items: &[I],
    archs: usize,
    f: impl Fn(&Engine, &I) -> Vec<Result<ProxyVector, ProxyError>> + Sync,
) -> Vec<Result<ProxyVector, ProxyError>> {
    let computed = crate::proxy::pool::map_archs(
        engines,
        items,
        |engine, item| Ok::<_, std::convert::Infallible>(f(engine, item)),
        &mut |_| {},
    );
    match computed {
        Ok(Ok(vectors)) => vectors.into_iter().flatten().collect(),
        Ok(Err((_, never))) => match never {},
        Err(e) => {
            let reason = e.to_string();
            (0..archs)
                .map(|_| Err(ProxyError::Undefined(reason.clone())))
                .collect()
        }
    }
}

/// The vector computed for `key` (a copy: other archs may share it), or its error, handed to
/// the first arch asking; later ones get `reported` as the reason.
fn take(
    computed: &mut HashMap<usize, Result<ProxyVector, ProxyError>>,
    key: &Arch,
    arch: &Arch,
    reported: &str,
) -> Result<ProxyVector, PredictError> {
    match computed.get(&key.index()) {
        Some(Ok(v)) => Ok(v.clone()),
        Some(Err(_)) => match computed.remove(&key.index()) {
            Some(Err(e)) => Err(PredictError::Engine(e)),
            _ => unreachable!("just seen"),
        },
        None => Err(PredictError::NoProxyValue {
            arch: arch.to_string(),
            reason: reported.into(),
        }),
    }
}

impl Scorer for EngineScorer<'_> {
    fn predict(&mut self, arch: &Arch) -> Result<ArchPrediction, PredictError> {
        self.predict_many(std::slice::from_ref(arch))
            .pop()
            .expect("one result per arch")
    }

    fn predict_many(&mut self, archs: &[Arch]) -> Vec<Result<ArchPrediction, PredictError>> {
        let engine = &self.engines[0];
        let dataset = engine.dataset;
        let share = engine.config.share_isomorphic;
        let t0 = Instant::now();
        // What to compute in full: each arch (no sharing) or each new class representative.
        let live: Vec<Arch> = archs
            .iter()
            .filter(|a| by_rule(a, dataset).is_none())
            .copied()
            .collect();
        let full: Vec<Arch> = crate::proxy::pool::full_vectors_needed(share, &live)
            .into_iter()
            .filter(|target| !self.representatives.contains_key(&target.index()))
            .collect();
        let computed = self.vectors(&full);
        let mut fresh: HashMap<usize, Result<ProxyVector, ProxyError>> = HashMap::new();
        for (a, v) in full.iter().zip(computed) {
            match v {
                Ok(v) if share => {
                    self.representatives.insert(a.index(), v);
                }
                v => {
                    fresh.insert(a.index(), v);
                }
            }
        }
        // Class members of kept representatives: their static proxies on the pool too.
        let mut seen = std::collections::HashSet::new();
        let members: Vec<Arch> = live
            .iter()
            .filter(|a| {
                let target = crate::proxy::pool::computed_for(share, a);
                target != **a
                    && self.representatives.contains_key(&target.index())
                    && seen.insert(a.index())
            })
            .copied()
            .collect();
        let mut member_vectors: HashMap<usize, Result<ProxyVector, ProxyError>> = members
            .iter()
            .map(Arch::index)
            .zip(self.member_vectors(&members))
            .collect();
        let out = archs
            .iter()
            .map(|a| {
                if let Some(p) = by_rule(a, dataset) {
                    if self.model.is_none() {
                        return Err(PredictError::NoProxyValue {
                            arch: a.to_string(),
                            reason: "none: the output ignores the input".into(),
                        });
                    }
                    return Ok(p);
                }
                let target = crate::proxy::pool::computed_for(share, a);
                let v = match self.representatives.get(&target.index()) {
                    Some(full) if target == *a => full.clone(),
                    Some(_) => take(
                        &mut member_vectors,
                        a,
                        a,
                        "its proxies failed (reported for another copy)",
                    )?,
                    // Not kept: computed for this call only, or failed.
                    None => take(
                        &mut fresh,
                        &target,
                        a,
                        "its network failed to build (reported for another arch)",
                    )?,
                };
                match self.model {
                    Some(model) => predict_vector(model, a, &v),
                    None => match (v.values[0], v.errors[0].as_ref()) {
                        (x, None) if x.is_finite() => Ok(ArchPrediction {
                            mean: x,
                            std: 0.0,
                            basis: crate::predict::Basis::Proxy,
                        }),
                        (_, reason) => Err(PredictError::NoProxyValue {
                            arch: a.to_string(),
                            reason: reason.cloned().unwrap_or_else(|| "not finite".into()),
                        }),
                    },
                }
            })
            .collect();
        self.seconds += t0.elapsed().as_secs_f64();
        out
    }

    fn params_flops(&mut self, arch: &Arch) -> Option<(f64, f64)> {
        // Constraints are on the benchmark's network, whatever copy the proxies see.
        let net = Network::new(arch.graph(self.engines[0].dataset)).ok()?;
        Some((net.params_m(), net.flops_m()))
    }

    fn proxy_seconds(&self) -> f64 {
        self.seconds
    }
}
