//! Architecture search with the forest as the fitness (its proxies are zero-cost, its labels are
//! not: the forest learnt from labelled archs): "which network should I train?"
//!
//! A [`Scorer`] turns an arch into a predicted accuracy (of the kind its model learnt) (its proxies computed by an engine,
//! [`EngineScorer`], or looked up in a proxy table, [`FeatureScorer`]); a [`Strategy`] decides
//! which archs to score within a budget; [`search`] runs it and returns every scored arch
//! ([`SearchOutcome`]), ranked by predicted accuracy or as an accuracy/hardware-cost Pareto
//! front ([`pareto_front`]) with the HW-NAS-Bench costs ([`HwCosts`]).
//!
//! The strategies:
//! * `exhaustive` scores every arch of the space that meets the constraints;
//! * `random` scores `budget` distinct archs drawn uniformly (seeded);
//! * `evolution` is regularised evolution (Real et al., "Regularized Evolution for Image
//!   Classifier Architecture Search", AAAI 2019, Algorithm 1) with the forest's predicted mean as
//!   the fitness: a population of `population` archs, each cycle the best of `tournament` archs
//!   drawn from it (with replacement) is mutated and the child replaces the oldest member.
//!   A mutation changes the op of one edge (TSS) or the channel count of one layer (SSS) to
//!   another value of the space, as NATS-Bench's own REA does. Defaults: population 10,
//!   tournament 3, NATS-Bench's REA settings for its topology space (Dong et al., TPAMI 2021,
//!   `exps/NATS-algos/regularized_ea.py`).
//!
//! The budget counts distinct archs scored; an arch met again (a mutation back to a visited
//! arch) reuses its prediction and costs nothing. Constraints (parameters, FLOPs, a hardware
//! cost) are checked before an arch is scored, so an infeasible arch never costs budget.
//!
//! Honesty rule: a search is only meaningful with a model that did not see the searched archs'
//! accuracies (a model trained on a few labelled archs, or on another dataset's labels), never
//! with a forest trained on the whole space it searches.

mod evolution;
mod hw;
mod pareto;
#[cfg(any(feature = "table", feature = "torch"))]
mod ranking;
mod scorer;

#[cfg(feature = "torch")]
mod engine;

#[cfg(feature = "torch")]
pub use engine::EngineScorer;
pub use hw::{HwCosts, HwError, HW_METRICS};
pub use pareto::{pareto_front, pareto_front_by};
#[cfg(any(feature = "table", feature = "torch"))]
pub use ranking::{scorer, Assembled, Ranking};
#[cfg(feature = "table")]
pub use scorer::ProxyColumnScorer;
pub use scorer::{FeatureScorer, Scorer};

use std::collections::HashMap;
use std::fmt;
use std::time::Instant;

use crate::model::Model;
use crate::predict::{ArchPrediction, PredictError};
use crate::rng::SplitMix64;
use crate::space::{Arch, NatsDataset, Space};

/// Everything that stops a search; each message is one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    #[error("a budget of 0 scores nothing: the budget is 1 or more archs")]
    ZeroBudget,
    #[error("invalid search parameter {name}: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    #[error("the model was trained for {model}, not for {wanted}")]
    ModelMismatch { model: String, wanted: String },
    #[error("no arch of the {space} space meets the constraints ({constraints})")]
    Unsatisfiable { space: Space, constraints: String },
    #[error("{what} needs {needs}")]
    MissingCost { what: String, needs: String },
    #[error("none of the {scored} scored archs has a prediction (first reason: {reason})")]
    NoPrediction { scored: usize, reason: String },
    #[error("HW-NAS-Bench costs: {0}")]
    Hw(#[from] HwError),
    #[error("{0}")]
    Predict(#[from] PredictError),
    #[cfg(feature = "table")]
    #[error("{0}")]
    Table(#[from] crate::table::TableError),
    #[cfg(feature = "torch")]
    #[error(transparent)]
    ProxyName(#[from] crate::proxy::ProxyNameError),
}

/// How the archs to score are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Every arch of the space that meets the constraints.
    Exhaustive,
    /// `budget` distinct archs drawn uniformly at random.
    Random,
    /// Regularised evolution (Real et al. 2019); `batch` children per cycle.
    Evolution {
        population: usize,
        tournament: usize,
        batch: usize,
    },
}

impl Strategy {
    /// Regularised evolution with NATS-Bench's REA settings (population 10, tournament 3),
    /// two children per cycle (one per core of a 2-core CPU).
    pub const EVOLUTION: Strategy = Strategy::Evolution {
        population: 10,
        tournament: 3,
        batch: 2,
    };

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Exhaustive => "exhaustive",
            Strategy::Random => "random",
            Strategy::Evolution { .. } => "evolution",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Evolution {
                population,
                tournament,
                batch,
            } => write!(
                f,
                "evolution (population {population}, tournament {tournament}, batch {batch})"
            ),
            s => f.write_str(s.name()),
        }
    }
}

/// What the search returns as "best".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Objective {
    /// The highest predicted accuracy.
    #[default]
    Accuracy,
    /// The Pareto front of predicted accuracy (higher is better) against the hardware cost
    /// (lower is better); needs [`HwCosts`].
    Pareto,
    /// The Pareto front of predicted accuracy against the parameter count (any space).
    ParetoParams,
    /// The Pareto front of predicted accuracy against the FLOPs (any space).
    ParetoFlops,
}

impl Objective {
    /// Whether the objective is a front rather than a ranking.
    pub fn is_front(self) -> bool {
        self != Objective::Accuracy
    }

    /// The cost of `c` the front is drawn against: the hardware cost for [`Objective::Pareto`]
    /// (and, as before, for [`Objective::Accuracy`]'s [`SearchOutcome::front`]), else the
    /// params or FLOPs in millions.
    pub fn cost(self, c: &Candidate) -> Option<f64> {
        match self {
            Objective::Accuracy | Objective::Pareto => c.hw,
            Objective::ParetoParams => c.params_m,
            Objective::ParetoFlops => c.flops_m,
        }
    }
}

/// Upper bounds an arch must meet to be scored.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Constraints {
    /// Parameters in millions (NATS-Bench `params`).
    pub max_params_m: Option<f64>,
    /// FLOPs in millions (NATS-Bench `flops`).
    pub max_flops_m: Option<f64>,
    /// The hardware cost of [`SearchConfig::hw`] (its metric's unit: ms or mJ).
    pub max_hw: Option<f64>,
}

impl Constraints {
    pub fn is_empty(&self) -> bool {
        self.max_params_m.is_none() && self.max_flops_m.is_none() && self.max_hw.is_none()
    }
}

impl fmt::Display for Constraints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(p) = self.max_params_m {
            parts.push(format!("params ≤ {p} M"));
        }
        if let Some(p) = self.max_flops_m {
            parts.push(format!("FLOPs ≤ {p} M"));
        }
        if let Some(p) = self.max_hw {
            parts.push(format!("hardware cost ≤ {p}"));
        }
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// A search run: strategy, budget, seed, constraints, objective and hardware costs.
#[derive(Debug, Clone)]
pub struct SearchConfig<'a> {
    pub strategy: Strategy,
    /// Distinct archs to score (random, evolution); the exhaustive strategy scores them all.
    pub budget: usize,
    pub seed: u64,
    pub constraints: Constraints,
    pub objective: Objective,
    /// HW-NAS-Bench costs of one metric, for `max_hw` and the Pareto objective (TSS only).
    pub hw: Option<&'a HwCosts>,
    /// The archs the search may visit, by index (e.g. the labelled cells of a benchmark that
    /// labels a sample of its space); `None`: the whole space. Required where the space has no
    /// index order to enumerate.
    pub pool: Option<&'a std::collections::BTreeSet<usize>>,
}

impl SearchConfig<'_> {
    /// `strategy` with `budget` and `seed`; no constraints, accuracy objective, no hardware
    /// costs.
    pub fn new(strategy: Strategy, budget: usize, seed: u64) -> SearchConfig<'static> {
        SearchConfig {
            strategy,
            budget,
            seed,
            constraints: Constraints::default(),
            objective: Objective::Accuracy,
            hw: None,
            pool: None,
        }
    }
}

/// One scored arch.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub arch: Arch,
    /// The prediction, or why there is none (a proxy failed).
    pub prediction: Result<ArchPrediction, String>,
    /// Parameters and FLOPs in millions, when the scorer knows them.
    pub params_m: Option<f64>,
    pub flops_m: Option<f64>,
    /// The hardware cost of the search's [`HwCosts`], when given and measured.
    pub hw: Option<f64>,
}

impl Candidate {
    /// The fitness: the predicted mean, −∞ without a prediction.
    pub fn fitness(&self) -> f64 {
        self.prediction
            .as_ref()
            .map_or(f64::NEG_INFINITY, |p| p.mean)
    }
}

/// What a search scored, and what it cost.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// Every scored arch, in scoring order.
    pub scored: Vec<Candidate>,
    /// Archs left out by the constraints before scoring (exhaustive, random: the space's
    /// infeasible archs, never drawn; evolution: mutations rejected and re-drawn).
    pub rejected: usize,
    /// Seconds the scorer spent computing proxies (0 for a table).
    pub proxy_seconds: f64,
    /// Seconds of the whole search.
    pub wall_seconds: f64,
    /// The objective the search was run for.
    pub objective: Objective,
}

impl SearchOutcome {
    /// Scored archs with a prediction, best first: highest predicted mean, then lowest
    /// uncertainty, then lowest index (a total order, so the ranking is deterministic).
    pub fn ranked(&self) -> Vec<&Candidate> {
        let mut v: Vec<&Candidate> = self
            .scored
            .iter()
            .filter(|c| c.prediction.is_ok())
            .collect();
        v.sort_by(|a, b| rank_order(a, b));
        v
    }

    /// The best arch: the top of [`SearchOutcome::ranked`].
    pub fn best(&self) -> Option<&Candidate> {
        self.ranked().into_iter().next()
    }

    /// The Pareto front of predicted accuracy against the objective's cost (the hardware cost,
    /// or params / FLOPs for [`Objective::ParetoParams`] / [`Objective::ParetoFlops`]),
    /// cheapest first (candidates without that cost are left out).
    pub fn front(&self) -> Vec<&Candidate> {
        let objective = self.objective;
        pareto_front_by(&self.scored, |c| objective.cost(c))
    }
}

fn rank_order(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    let (pa, pb) = (a.prediction.as_ref().ok(), b.prediction.as_ref().ok());
    let key = |p: Option<&ArchPrediction>| {
        p.map_or((f64::NEG_INFINITY, f64::INFINITY), |p| (p.mean, p.std))
    };
    let (ma, sa) = key(pa);
    let (mb, sb) = key(pb);
    mb.total_cmp(&ma)
        .then(sa.total_cmp(&sb))
        .then(a.arch.index().cmp(&b.arch.index()))
}

/// Checks that `model` predicts `dataset` in `space`: a forest of another space or dataset
/// would score every arch silently wrong.
pub fn check_model(model: &Model, space: Space, dataset: NatsDataset) -> Result<(), SearchError> {
    let meta = model.meta();
    if meta.space != space || meta.dataset != dataset {
        return Err(SearchError::ModelMismatch {
            model: format!("{} {}", meta.space, meta.dataset),
            wanted: format!("{} {}", space.name(), dataset.name()),
        });
    }
    Ok(())
}

/// Runs the search in `space` with `scorer`; see the module docs for the strategies.
pub fn search<S: Scorer + ?Sized>(
    space: Space,
    scorer: &mut S,
    config: &SearchConfig,
) -> Result<SearchOutcome, SearchError> {
    let t0 = Instant::now();
    // A scorer may serve several searches; this one's proxy time is what it adds.
    let seconds0 = scorer.proxy_seconds();
    validate(space, config)?;
    let mut run = Run {
        space,
        scorer,
        config,
        feasible: HashMap::new(),
        scored: Vec::new(),
        seen: HashMap::new(),
        rejected: 0,
    };
    let feasible = run.feasible_list()?;
    let mut rng = SplitMix64::new(config.seed);
    match config.strategy {
        Strategy::Exhaustive => {
            for chunk in feasible.chunks(CHUNK) {
                run.score_many(&archs_at(space, chunk))?;
            }
        }
        Strategy::Random => {
            let n = config.budget.min(feasible.len());
            let picked: Vec<usize> = sample_positions(feasible.len(), n, &mut rng)
                .into_iter()
                .map(|k| feasible[k])
                .collect();
            for chunk in picked.chunks(CHUNK) {
                run.score_many(&archs_at(space, chunk))?;
            }
        }
        Strategy::Evolution {
            population,
            tournament,
            batch,
        } => evolution::regularized(
            &mut run,
            &feasible,
            evolution::Settings {
                population,
                tournament,
                batch,
            },
            &mut rng,
        )?,
    }
    let run_scorer_seconds = run.scorer.proxy_seconds();
    let Run {
        scored, rejected, ..
    } = run;
    if !scored.iter().any(|c| c.prediction.is_ok()) {
        let reason = scored
            .iter()
            .find_map(|c| c.prediction.as_ref().err().cloned())
            .unwrap_or_else(|| "nothing was scored".into());
        return Err(SearchError::NoPrediction {
            scored: scored.len(),
            reason,
        });
    }
    Ok(SearchOutcome {
        scored,
        rejected,
        proxy_seconds: run_scorer_seconds - seconds0,
        wall_seconds: t0.elapsed().as_secs_f64(),
        objective: config.objective,
    })
}

fn validate(space: Space, config: &SearchConfig) -> Result<(), SearchError> {
    match config.pool {
        None if !space.index_order() => {
            return Err(SearchError::InvalidParam {
                name: "pool",
                reason: format!(
                    "{space} has no index order to search over: give the archs to search among (e.g. its labelled archs)"
                ),
            })
        }
        Some(p) if p.is_empty() => {
            return Err(SearchError::InvalidParam {
                name: "pool",
                reason: "no arch to search among".into(),
            })
        }
        Some(p) => {
            if let Some(&i) = p.iter().find(|&&i| space.arch(i).is_err()) {
                return Err(SearchError::InvalidParam {
                    name: "pool",
                    reason: format!("index {i} names no {space} arch"),
                });
            }
        }
        None => {}
    }
    if config.budget == 0 && config.strategy != Strategy::Exhaustive {
        return Err(SearchError::ZeroBudget);
    }
    if let Strategy::Evolution {
        population,
        tournament,
        batch,
    } = config.strategy
    {
        if batch < 1 {
            return Err(SearchError::InvalidParam {
                name: "batch",
                reason: "must be at least 1".into(),
            });
        }
        if population < 1 {
            return Err(SearchError::InvalidParam {
                name: "population",
                reason: "must be at least 1".into(),
            });
        }
        if tournament < 1 || tournament > population {
            return Err(SearchError::InvalidParam {
                name: "tournament",
                reason: format!("{tournament} must be in 1..={population} (the population)"),
            });
        }
    }
    for (name, v) in [
        ("max-params", config.constraints.max_params_m),
        ("max-flops", config.constraints.max_flops_m),
        ("max-hw", config.constraints.max_hw),
    ] {
        if let Some(v) = v {
            if !v.is_finite() || v <= 0.0 {
                return Err(SearchError::InvalidParam {
                    name,
                    reason: format!("{v} is not a positive number"),
                });
            }
        }
    }
    let needs_hw = config.objective == Objective::Pareto || config.constraints.max_hw.is_some();
    match config.hw {
        Some(hw) if space != Space::Tss => Err(HwError::Space {
            space,
            metric: hw.metric().to_string(),
        }
        .into()),
        None if needs_hw => Err(SearchError::MissingCost {
            what: if config.objective == Objective::Pareto {
                "the Pareto objective".into()
            } else {
                "a hardware-cost constraint".into()
            },
            needs: "HW-NAS-Bench costs".into(),
        }),
        _ => Ok(()),
    }
}

/// Archs scored together by the exhaustive and random strategies (a scorer may spread them
/// over workers).
const CHUNK: usize = 64;

fn archs_at(space: Space, indices: &[usize]) -> Vec<Arch> {
    indices
        .iter()
        .map(|&i| space.arch(i).expect("index in range"))
        .collect()
}

/// `n` distinct positions of `0..len`, a seeded partial Fisher–Yates shuffle.
fn sample_positions(len: usize, n: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let mut pool: Vec<usize> = (0..len).collect();
    for i in 0..n.min(len) {
        let j = i + rng.below((len - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.truncate(n.min(len));
    pool
}

/// The state of one search: what was scored, and which archs are feasible.
struct Run<'s, 'c, S: Scorer + ?Sized> {
    space: Space,
    scorer: &'s mut S,
    config: &'c SearchConfig<'c>,
    /// Feasibility by index, filled lazily.
    feasible: HashMap<usize, bool>,
    scored: Vec<Candidate>,
    /// Index → position in `scored`.
    seen: HashMap<usize, usize>,
    rejected: usize,
}

impl<S: Scorer + ?Sized> Run<'_, '_, S> {
    /// The indices of every feasible arch, in index order (the whole space without
    /// constraints). An empty list is [`SearchError::Unsatisfiable`].
    fn feasible_list(&mut self) -> Result<Vec<usize>, SearchError> {
        let all: Vec<usize> = match self.config.pool {
            Some(pool) => pool.iter().copied().collect(),
            None => (0..self.space.size()).collect(),
        };
        if self.config.constraints.is_empty() {
            return Ok(all);
        }
        let mut out = Vec::new();
        for &i in &all {
            if self.is_feasible(&self.space.arch(i).expect("index in range"))? {
                out.push(i);
            }
        }
        if out.is_empty() {
            return Err(SearchError::Unsatisfiable {
                space: self.space,
                constraints: self.config.constraints.to_string(),
            });
        }
        if !matches!(self.config.strategy, Strategy::Evolution { .. }) {
            self.rejected = all.len() - out.len();
        }
        Ok(out)
    }

    fn is_feasible(&mut self, arch: &Arch) -> Result<bool, SearchError> {
        let i = arch.index();
        if let Some(&f) = self.feasible.get(&i) {
            return Ok(f);
        }
        if self.config.pool.is_some_and(|p| !p.contains(&i)) {
            self.feasible.insert(i, false);
            return Ok(false);
        }
        let c = &self.config.constraints;
        let mut ok = true;
        if c.max_params_m.is_some() || c.max_flops_m.is_some() {
            let (params, flops) =
                self.scorer
                    .params_flops(arch)
                    .ok_or_else(|| SearchError::MissingCost {
                        what: "a params/FLOPs constraint".into(),
                        needs: "the archs' params and flops (a proxy table with params and flops columns, or the engine)".into(),
                    })?;
            ok &= c.max_params_m.is_none_or(|m| params <= m);
            ok &= c.max_flops_m.is_none_or(|m| flops <= m);
        }
        if let Some(m) = c.max_hw {
            // validate() made sure the costs are there; an unmeasured arch cannot be shown to
            // meet the bound.
            let hw = self.config.hw.and_then(|h| h.cost(arch));
            ok &= hw.is_some_and(|v| v <= m);
        }
        self.feasible.insert(i, ok);
        Ok(ok)
    }

    /// Scores the archs not scored yet, together (a scorer may spread them over workers), and
    /// returns every arch's position in `scored`, in order. A repeated arch is scored once and
    /// costs no budget.
    fn score_many(&mut self, archs: &[Arch]) -> Result<Vec<usize>, SearchError> {
        let mut new: Vec<Arch> = Vec::new();
        for a in archs {
            if !self.seen.contains_key(&a.index()) && !new.contains(a) {
                new.push(*a);
            }
        }
        let predictions = self.scorer.predict_many(&new);
        for (arch, p) in new.into_iter().zip(predictions) {
            let prediction = match p {
                Ok(p) => Ok(p),
                Err(PredictError::NoProxyValue { reason, .. }) => Err(reason),
                Err(e) => return Err(e.into()),
            };
            let (params_m, flops_m) = self.scorer.params_flops(&arch).unzip();
            let hw = self.config.hw.and_then(|h| h.cost(&arch));
            self.seen.insert(arch.index(), self.scored.len());
            self.scored.push(Candidate {
                arch,
                prediction,
                params_m,
                flops_m,
                hw,
            });
        }
        Ok(archs.iter().map(|a| self.seen[&a.index()]).collect())
    }

    /// Archs that `budget` still allows to score.
    fn budget_remaining(&self) -> usize {
        self.config.budget.saturating_sub(self.scored.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predict::Basis;

    /// Scores an arch by its edge count (a stand-in for a model).
    struct Edges;
    impl Scorer for Edges {
        fn predict(&mut self, arch: &Arch) -> Result<ArchPrediction, PredictError> {
            let Arch::Nb101(c) = arch else {
                unreachable!("nb101 only")
            };
            Ok(ArchPrediction {
                mean: c.edges() as f64,
                std: 0.0,
                basis: Basis::Proxy,
            })
        }
        fn params_flops(&mut self, _: &Arch) -> Option<(f64, f64)> {
            None
        }
    }

    #[test]
    fn a_pool_bounds_every_strategy_and_a_space_without_order_needs_one() {
        let pool: std::collections::BTreeSet<usize> =
            Space::Nb101.sample_indices(60, 3).into_iter().collect();
        for strategy in [
            Strategy::Random,
            Strategy::Exhaustive,
            Strategy::Evolution {
                population: 10,
                tournament: 3,
                batch: 2,
            },
        ] {
            let config = SearchConfig {
                pool: Some(&pool),
                ..SearchConfig::new(strategy, 30, 1)
            };
            let out = search(Space::Nb101, &mut Edges, &config).unwrap();
            assert!(!out.scored.is_empty());
            assert!(
                out.scored.iter().all(|c| pool.contains(&c.arch.index())),
                "{strategy:?}"
            );
            // Evolution spends its budget although few pool members neighbour each other.
            let want = if strategy == Strategy::Exhaustive {
                pool.len()
            } else {
                30
            };
            assert_eq!(out.scored.len(), want, "{strategy:?}");
        }
        let e = search(
            Space::Nb101,
            &mut Edges,
            &SearchConfig::new(Strategy::Random, 5, 1),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("nb101 has no index order"), "{e}");
    }
}
