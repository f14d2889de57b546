//! GreenMachine-style evolution of zero-cost proxy formulas (Cortês, Lourenço & Machado,
//! "GreenMachine: Automatic Design of Zero-Cost Proxies for Energy-Efficient NAS",
//! arXiv 2411.15290; the method family of EZNAS, Akhauri et al., NeurIPS 2022).
//!
//! A population of random formulas ([`crate::formula`]) is evolved by strongly typed genetic
//! programming ([`gp`]): tournament selection, subtree crossover, mutation and elitism. A
//! formula's fitness is Kendall's τ between its values and the labels on a **fitness sample**
//! of live archs (random, or stratified by accuracy so that poor and good networks are both
//! represented), computed from a cache of each arch's per-layer tensors ([`cache`]). The
//! formulas are then scored exactly, through the engine, on **held-out** archs the evolution
//! never saw: that τ is the one reported.
//!
//! Everything is deterministic per seed (the fitness of the population is computed in parallel,
//! a pure function of each formula), and a checkpoint after every generation lets a killed run
//! resume where it stopped, with the same result as an uninterrupted run.

pub mod cache;
pub mod gp;

use crate::formula::{sample, Formula};
use crate::proxy::{Engine, ProxyError};
use crate::rng::{derive_seed, SplitMix64};
use crate::space::{Arch, NatsDataset, Space};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Accuracy strata of a stratified sample: equal-width bins between the lowest and highest
/// label of the pool.
pub const STRATA: usize = 10;

/// How archs are drawn from the labelled live archs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleSpec {
    /// `N` archs uniformly at random.
    Random(usize),
    /// `N` archs, `N / STRATA` from each of [`STRATA`] equal-width accuracy bins (all of a bin
    /// that has fewer; the shortfall drawn at random from the archs left).
    Stratified(usize),
}

impl SampleSpec {
    pub fn size(self) -> usize {
        match self {
            SampleSpec::Random(n) | SampleSpec::Stratified(n) => n,
        }
    }
}

impl fmt::Display for SampleSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SampleSpec::Random(n) => write!(f, "random:{n}"),
            SampleSpec::Stratified(n) => write!(f, "stratified:{n}"),
        }
    }
}

impl std::str::FromStr for SampleSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<SampleSpec, String> {
        let bad = || format!("sample {s:?}: expected random:N or stratified:N with N ≥ 2");
        let (kind, n) = s.split_once(':').ok_or_else(bad)?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if n < 2 {
            return Err(bad());
        }
        match kind.trim() {
            "random" => Ok(SampleSpec::Random(n)),
            "stratified" => Ok(SampleSpec::Stratified(n)),
            _ => Err(bad()),
        }
    }
}

/// Positions into `labels` drawn by `spec`, from `rng`, in drawing order.
pub fn draw(labels: &[f64], spec: SampleSpec, rng: &mut SplitMix64) -> Vec<usize> {
    let mut left: Vec<usize> = (0..labels.len()).collect();
    let n = spec.size().min(labels.len());
    let take_random = |left: &mut Vec<usize>, k: usize, rng: &mut SplitMix64| -> Vec<usize> {
        let mut out = Vec::with_capacity(k);
        for _ in 0..k.min(left.len()) {
            let j = rng.below(left.len() as u64) as usize;
            out.push(left.swap_remove(j));
        }
        out
    };
    match spec {
        SampleSpec::Random(_) => take_random(&mut left, n, rng),
        SampleSpec::Stratified(_) => {
            let lo = labels.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = labels.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let width = (hi - lo) / STRATA as f64;
            let bin = |y: f64| {
                if width > 0.0 {
                    (((y - lo) / width) as usize).min(STRATA - 1)
                } else {
                    0
                }
            };
            let mut out = Vec::with_capacity(n);
            for b in 0..STRATA {
                let want = n / STRATA + usize::from(b < n % STRATA);
                let mut members: Vec<usize> = left
                    .iter()
                    .copied()
                    .filter(|&i| bin(labels[i]) == b)
                    .collect();
                let got = take_random(&mut members, want, rng);
                left.retain(|i| !got.contains(i));
                out.extend(got);
            }
            let short = n - out.len();
            out.extend(take_random(&mut left, short, rng));
            out
        }
    }
}

/// The settings of a run (everything its result depends on but the data).
#[derive(Debug, Clone, PartialEq)]
pub struct EvolveSettings {
    pub space: Space,
    pub dataset: NatsDataset,
    /// The fitness sample.
    pub sample: SampleSpec,
    /// Held-out archs scored exactly at the end: a random and a stratified sample of this many,
    /// both drawn from the archs outside the fitness sample.
    pub holdout: usize,
    pub population: usize,
    pub generations: usize,
    pub seed: u64,
    /// Individuals per tournament.
    pub tournament: usize,
    /// Best individuals copied unchanged into the next generation.
    pub elite: usize,
    /// Share of children made by crossover; `mutation` by mutation; the rest are copies.
    pub crossover: f64,
    pub mutation: f64,
    pub limits: gp::Limits,
    /// Depth of the initial trees (ramped from 3).
    pub init_depth: usize,
    /// Elements kept per layer tensor in the fitness cache.
    pub elements: usize,
    /// Formulas scored on the held-out archs (the best distinct ones by fitness).
    pub report: usize,
    /// Proxies or formulas scored on the same held-out archs for comparison (e.g. `meco`);
    /// they take no part in the evolution.
    pub compare: Vec<String>,
    /// Engines computing the fitness cache and the held-out values in parallel, one libtorch
    /// thread each (as `extract` computes tables); the results do not depend on it.
    pub workers: usize,
    /// Formulas the first generation starts with (e.g. shipped proxies to refine); the rest of
    /// it is drawn at random. They must be within `limits`; operations outside
    /// `limits.primitives` are kept where they stand but never drawn anew.
    pub start: Vec<Formula>,
}

impl EvolveSettings {
    /// The defaults of `greenfactory evolve` for `space` and `dataset`.
    pub fn new(space: Space, dataset: NatsDataset) -> EvolveSettings {
        EvolveSettings {
            space,
            dataset,
            sample: SampleSpec::Stratified(300),
            holdout: 500,
            population: 100,
            generations: 30,
            seed: 0,
            tournament: 4,
            elite: 2,
            crossover: 0.6,
            mutation: 0.3,
            limits: gp::Limits {
                max_depth: 8,
                max_size: 24,
                primitives: gp::Primitives::Base,
            },
            init_depth: 6,
            elements: 256,
            report: 5,
            compare: Vec::new(),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            start: Vec::new(),
        }
    }

    /// Refuses settings that cannot run.
    pub fn check(&self, labelled_live: usize) -> Result<(), EvolveError> {
        let bad = |m: String| Err(EvolveError::Settings(m));
        if self.population < 2 {
            return bad(format!("a population of {} (at least 2)", self.population));
        }
        if self.tournament == 0 || self.tournament > self.population {
            return bad(format!(
                "a tournament of {} in a population of {}",
                self.tournament, self.population
            ));
        }
        if self.elite >= self.population {
            return bad(format!(
                "{} elites in a population of {}",
                self.elite, self.population
            ));
        }
        if !(0.0..=1.0).contains(&(self.crossover + self.mutation))
            || self.crossover < 0.0
            || self.mutation < 0.0
        {
            return bad("crossover and mutation rates must be ≥ 0 and sum to at most 1".into());
        }
        if self.workers == 0 {
            return bad("0 workers".into());
        }
        if self.elements == 0 {
            return bad("0 elements kept per tensor".into());
        }
        if self.limits.max_depth < 3 || self.limits.max_size < 3 {
            return bad("formulas need depth and size of at least 3".into());
        }
        if self.start.len() > self.population {
            return bad(format!(
                "{} start formulas for a population of {}",
                self.start.len(),
                self.population
            ));
        }
        for f in &self.start {
            if f.depth() > self.limits.max_depth || f.size() > self.limits.max_size {
                return bad(format!(
                    "start formula {f} has depth {} and size {}, beyond the limits (depth {}, size {})",
                    f.depth(),
                    f.size(),
                    self.limits.max_depth,
                    self.limits.max_size
                ));
            }
        }
        if let Err(e) = crate::proxy::proxies_by_name(&self.compare) {
            return bad(format!("compare: {e}"));
        }
        if self.sample.size() > labelled_live {
            return bad(format!(
                "a fitness sample of {} archs, but the {} {} space has {labelled_live} labelled live archs",
                self.sample.size(),
                self.space,
                self.dataset
            ));
        }
        Ok(())
    }

    /// The start formulas' texts, in order, separated by `; ` (formulas hold commas).
    pub fn start_text(&self) -> String {
        let texts: Vec<String> = self.start.iter().map(|f| f.to_string()).collect();
        texts.join("; ")
    }

    /// The text that identifies the run in its checkpoint: every setting but the number of
    /// generations (a run resumed with more generations continues where it stopped).
    fn fingerprint(&self, engine: &Engine, target: &str) -> String {
        let s = EvolveSettings {
            generations: 0,
            compare: Vec::new(),
            workers: 0,
            start: Vec::new(),
            ..self.clone()
        };
        // Without start formulas the text is that of the settings without the field, so
        // checkpoints written by versions without `start` still resume; start formulas are
        // named by their text.
        let settings = format!("{s:?}").replacen(", start: [] }", " }", 1);
        let start = if self.start.is_empty() {
            String::new()
        } else {
            format!(" start [{}]", self.start_text())
        };
        format!(
            "{settings}{start} config {:?} target {target}",
            engine.config
        )
    }
}

/// Why an evolution stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvolveError {
    #[error("{0}")]
    Settings(String),
    #[error("computing the per-layer tensors of arch {arch}")]
    Proxy {
        arch: String,
        #[source]
        source: ProxyError,
    },
    #[error("checkpoint {path}")]
    Checkpoint {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("checkpoint {path} belongs to another run ({detail}); remove it or write elsewhere")]
    OtherRun { path: PathBuf, detail: String },
}

/// A formula with its fitness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub formula: String,
    /// Kendall τ on the fitness sample (from the cache).
    pub fitness: f64,
}

/// One generation's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationStats {
    pub generation: usize,
    pub best: Scored,
    /// Mean fitness of the valid individuals.
    pub mean: f64,
    /// Individuals without a value on some sampled arch (fitness -2).
    pub invalid: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Checkpoint {
    fingerprint: String,
    /// Generations done.
    generation: usize,
    rng: u64,
    population: Vec<String>,
    hall: Vec<Scored>,
    history: Vec<GenerationStats>,
}

/// A reported formula's exact τ on the held-out archs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldOut {
    pub formula: String,
    pub fitness: f64,
    /// τ on the random held-out sample, on the stratified one (archs with a value).
    pub tau_random: f64,
    pub tau_stratified: f64,
    /// Held-out archs without a value (overflow): left out of τ.
    pub missing: usize,
    /// Mean seconds per arch of the formula's own code (the labelled pass excluded).
    pub own_seconds: f64,
}

/// What a run found.
#[derive(Debug, Clone)]
pub struct EvolveOutcome {
    pub history: Vec<GenerationStats>,
    /// The best distinct formulas, by fitness, scored on the held-out archs.
    pub best: Vec<HeldOut>,
    /// The settings' `compare` proxies on the same held-out archs (fitness 0: not evolved).
    pub compared: Vec<HeldOut>,
    /// The fitness sample (official indices).
    pub fitness_archs: Vec<usize>,
    /// The held-out samples (official indices): random, stratified.
    pub holdout_archs: (Vec<usize>, Vec<usize>),
    /// Mean seconds per held-out arch of the labelled pass the formulas share.
    pub pass_seconds: f64,
    /// The fitness cache's build time (s) and size (bytes).
    pub cache_seconds: f64,
    pub cache_bytes: usize,
    /// Generations resumed from a checkpoint (0 for a fresh run).
    pub resumed_at: usize,
}

/// Progress of a run, for a progress bar.
#[derive(Debug, Clone)]
pub enum Progress {
    Cache {
        done: usize,
        total: usize,
    },
    Generation {
        done: usize,
        total: usize,
        best: Scored,
    },
    HeldOut {
        done: usize,
        total: usize,
    },
}

/// τ of `f` on the cached archs, or -2 when it has no value on one of them or is constant.
pub fn fitness(f: &Formula, cached: &[sample::ArchSample], labels: &[f64]) -> f64 {
    let mut values = Vec::with_capacity(cached.len());
    for a in cached {
        match sample::evaluate(f, a) {
            Some(v) => values.push(v),
            None => return -2.0,
        }
    }
    let tau = crate::forest::kendall_tau_b(&values, labels);
    if tau.is_finite() {
        tau
    } else {
        -2.0
    }
}

/// Whether a hall-of-fame entry is `text` or ranks the sample exactly as it (the same τ: a
/// monotone transform of the same formula, kept once, the shortest first found).
fn same(entry: &Scored, text: &str, fitness: f64) -> bool {
    entry.formula == text || entry.fitness == fitness
}

fn better(a: &(f64, usize), b: &(f64, usize)) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
}

/// Runs the evolution on the labelled live archs of `labels` (official index → accuracy),
/// computing terminals with `engine` (its proxies are not used; its configuration, batch and
/// device are). With `checkpoint`, the state after each generation is written there and a run
/// whose checkpoint exists resumes from it.
pub fn evolve(
    engine: &Engine,
    labels: &HashMap<usize, f64>,
    target: &str,
    settings: &EvolveSettings,
    checkpoint: Option<&Path>,
    progress: &mut dyn FnMut(Progress),
) -> Result<EvolveOutcome, EvolveError> {
    let space = settings.space;
    let mut pool: Vec<(usize, f64)> = labels
        .iter()
        .filter(|(&i, y)| y.is_finite() && space.arch(i).is_ok_and(|a| a.output_depends_on_input()))
        .map(|(&i, &y)| (i, y))
        .collect();
    pool.sort_by_key(|p| p.0);
    settings.check(pool.len())?;
    let ys: Vec<f64> = pool.iter().map(|p| p.1).collect();
    let mut draw_rng = SplitMix64::new(derive_seed(settings.seed, 0x5a4d_504c));
    let fit_pos = draw(&ys, settings.sample, &mut draw_rng);
    let fitness_archs: Vec<usize> = fit_pos.iter().map(|&k| pool[k].0).collect();
    let rest: Vec<(usize, f64)> = pool
        .iter()
        .enumerate()
        .filter(|(k, _)| !fit_pos.contains(k))
        .map(|(_, p)| *p)
        .collect();
    let rest_y: Vec<f64> = rest.iter().map(|p| p.1).collect();
    let holdout = settings.holdout.min(rest.len());
    let hold_random: Vec<usize> = draw(&rest_y, SampleSpec::Random(holdout), &mut draw_rng)
        .into_iter()
        .map(|k| rest[k].0)
        .collect();
    let hold_strat: Vec<usize> = draw(&rest_y, SampleSpec::Stratified(holdout), &mut draw_rng)
        .into_iter()
        .map(|k| rest[k].0)
        .collect();

    // The fitness cache.
    let archs: Vec<Arch> = fitness_archs
        .iter()
        .map(|&i| space.arch(i).expect("pool index"))
        .collect();
    let fit_y: Vec<f64> = fitness_archs.iter().map(|i| labels[i]).collect();
    let options = cache::CacheOptions {
        elements: settings.elements,
        seed: settings.seed,
    };
    let total = archs.len();
    let t0 = std::time::Instant::now();
    let mut workers = worker_engines(engine, &[], settings.workers)?;
    let cached = on_workers(
        &mut workers,
        &archs,
        |e, a| cache::arch_sample(e, a, &options),
        &mut |done| progress(Progress::Cache { done, total }),
    )?;
    drop(workers);
    let cache_seconds = t0.elapsed().as_secs_f64();
    let cache_bytes = cached.iter().map(sample::ArchSample::bytes).sum();

    // The population, fresh or resumed.
    let fingerprint = settings.fingerprint(engine, target);
    let mut rng = SplitMix64::new(derive_seed(settings.seed, 0x6770));
    let mut population: Vec<Formula>;
    let mut hall: Vec<Scored> = Vec::new();
    let mut history = Vec::new();
    let mut start = 0;
    match checkpoint.filter(|p| p.exists()) {
        Some(path) => {
            let io = |source| EvolveError::Checkpoint {
                path: path.to_path_buf(),
                source,
            };
            let text = std::fs::read_to_string(path).map_err(io)?;
            let c: Checkpoint = serde_json::from_str(&text).map_err(|e| EvolveError::OtherRun {
                path: path.to_path_buf(),
                detail: format!("unreadable: {e}"),
            })?;
            if c.fingerprint != fingerprint {
                return Err(EvolveError::OtherRun {
                    path: path.to_path_buf(),
                    detail: "other settings".into(),
                });
            }
            population = c
                .population
                .iter()
                .map(|t| t.parse())
                .collect::<Result<_, _>>()
                .map_err(|e| EvolveError::OtherRun {
                    path: path.to_path_buf(),
                    detail: format!("{e}"),
                })?;
            rng = SplitMix64::new(c.rng);
            hall = c.hall;
            history = c.history;
            start = c.generation;
        }
        None => {
            population = settings.start.clone();
            while population.len() < settings.population {
                population.push(gp::random_formula(
                    &mut rng,
                    settings.init_depth,
                    &settings.limits,
                ));
            }
        }
    }
    let resumed_at = start;
    let mut memo: HashMap<String, f64> = HashMap::new();
    let score = |pop: &[Formula], memo: &mut HashMap<String, f64>| -> Vec<f64> {
        let texts: Vec<String> = pop.iter().map(|f| f.to_string()).collect();
        let todo: Vec<usize> = (0..pop.len())
            .filter(|&k| !memo.contains_key(&texts[k]))
            .collect();
        let fresh: Vec<f64> = todo
            .par_iter()
            .map(|&k| fitness(&pop[k], &cached, &fit_y))
            .collect();
        for (k, v) in todo.into_iter().zip(fresh) {
            memo.insert(texts[k].clone(), v);
        }
        texts.iter().map(|t| memo[t]).collect()
    };

    for generation in start..settings.generations {
        let fit = score(&population, &mut memo);
        let key: Vec<(f64, usize)> = population
            .iter()
            .zip(&fit)
            .map(|(f, &v)| (v, f.size()))
            .collect();
        let mut order: Vec<usize> = (0..population.len()).collect();
        order.sort_by(|&a, &b| {
            key[b]
                .0
                .total_cmp(&key[a].0)
                .then(key[a].1.cmp(&key[b].1))
                .then(a.cmp(&b))
        });
        for &k in &order {
            let text = population[k].to_string();
            if fit[k] > -2.0 && !hall.iter().any(|s| same(s, &text, fit[k])) {
                hall.push(Scored {
                    formula: text,
                    fitness: fit[k],
                });
            }
        }
        hall.sort_by(|a, b| {
            b.fitness
                .total_cmp(&a.fitness)
                .then(a.formula.len().cmp(&b.formula.len()))
        });
        hall.truncate(settings.report.max(10));
        let valid: Vec<f64> = fit.iter().copied().filter(|&v| v > -2.0).collect();
        let best = Scored {
            formula: population[order[0]].to_string(),
            fitness: fit[order[0]],
        };
        history.push(GenerationStats {
            generation: generation + 1,
            best: best.clone(),
            mean: valid.iter().sum::<f64>() / valid.len().max(1) as f64,
            invalid: fit.len() - valid.len(),
        });
        // The next generation.
        let tournament = |rng: &mut SplitMix64| -> usize {
            let mut w = rng.below(population.len() as u64) as usize;
            for _ in 1..settings.tournament {
                let c = rng.below(population.len() as u64) as usize;
                if better(&key[c], &key[w]) {
                    w = c;
                }
            }
            w
        };
        let mut next: Vec<Formula> = order
            .iter()
            .take(settings.elite)
            .map(|&k| population[k].clone())
            .collect();
        while next.len() < settings.population {
            let r = rng.next_f64();
            let a = tournament(&mut rng);
            let child = if r < settings.crossover {
                let b = tournament(&mut rng);
                gp::crossover(&mut rng, &population[a], &population[b], &settings.limits)
            } else if r < settings.crossover + settings.mutation {
                gp::mutate(&mut rng, &population[a], &settings.limits)
            } else {
                population[a].clone()
            };
            next.push(child);
        }
        population = next;
        if let Some(path) = checkpoint {
            let c = Checkpoint {
                fingerprint: fingerprint.clone(),
                generation: generation + 1,
                rng: rng.state(),
                population: population.iter().map(|f| f.to_string()).collect(),
                hall: hall.clone(),
                history: history.clone(),
            };
            let text = serde_json::to_string(&c).expect("checkpoint serializes");
            crate::atomic::write_atomic(path, text.as_bytes()).map_err(|source| {
                EvolveError::Checkpoint {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        }
        progress(Progress::Generation {
            done: generation + 1,
            total: settings.generations,
            best,
        });
    }
    // The last generation's individuals count too.
    let fit = score(&population, &mut memo);
    for (f, v) in population.iter().zip(fit) {
        let text = f.to_string();
        if v > -2.0 && !hall.iter().any(|s| same(s, &text, v)) {
            hall.push(Scored {
                formula: text,
                fitness: v,
            });
        }
    }
    hall.sort_by(|a, b| {
        b.fitness
            .total_cmp(&a.fitness)
            .then(a.formula.len().cmp(&b.formula.len()))
    });
    hall.truncate(settings.report);

    // Exact values on the held-out archs.
    let mut names: Vec<String> = hall.iter().map(|s| s.formula.clone()).collect();
    names.extend(settings.compare.iter().cloned());
    let (mut best, pass_seconds) = held_out(
        engine,
        settings.workers,
        space,
        &names,
        [&hold_random, &hold_strat],
        labels,
        progress,
    )?;
    let compared = best.split_off(hall.len());
    let best = best
        .into_iter()
        .zip(&hall)
        .map(|(mut h, s)| {
            h.fitness = s.fitness;
            h
        })
        .collect();
    Ok(EvolveOutcome {
        history,
        best,
        compared,
        fitness_archs,
        holdout_archs: (hold_random, hold_strat),
        pass_seconds,
        cache_seconds,
        cache_bytes,
        resumed_at,
    })
}

/// Scores `names` (formulas or proxies) exactly with `engine`'s configuration on the union of
/// the two held-out samples (random, stratified) on `workers` engines; τ on each. Returns one [`HeldOut`] per name (fitness 0) and the
/// mean seconds per arch of the shared passes.
pub fn held_out(
    engine: &Engine,
    workers: usize,
    space: Space,
    names: &[String],
    [random, stratified]: [&[usize]; 2],
    labels: &HashMap<usize, f64>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Vec<HeldOut>, f64), EvolveError> {
    let proxies =
        crate::proxy::proxies_by_name(names).map_err(|e| EvolveError::Settings(e.to_string()))?;
    let mut scorers = worker_engines(engine, &proxies, workers.max(1))?;
    // proxies_by_name orders built-ins first: index by name.
    let at: Vec<usize> = names
        .iter()
        .map(|n| {
            let canonical = if Formula::looks_like(n) {
                n.parse::<Formula>()
                    .map(|f| f.to_string())
                    .unwrap_or(n.clone())
            } else {
                n.clone()
            };
            scorers[0]
                .names()
                .iter()
                .position(|m| *m == canonical)
                .ok_or_else(|| {
                    EvolveError::Settings(format!("proxy {n:?} is not among the engine's proxies"))
                })
        })
        .collect::<Result<_, _>>()?;
    let mut all: Vec<usize> = random.iter().chain(stratified).copied().collect();
    all.sort_unstable();
    all.dedup();
    let archs = all
        .iter()
        .map(|&i| space.arch(i))
        .collect::<Result<Vec<Arch>, _>>()
        .map_err(|e| EvolveError::Settings(e.to_string()))?;
    let total = all.len();
    let vectors = on_workers(&mut scorers, &archs, |e, a| e.score(a), &mut |done| {
        progress(Progress::HeldOut { done, total })
    })?;
    let mut values: HashMap<usize, Vec<f64>> = HashMap::new();
    let mut own = vec![0.0; names.len()];
    let mut pass = 0.0;
    for (&i, v) in all.iter().zip(&vectors) {
        for (j, &p) in at.iter().enumerate() {
            own[j] += v.proxy_seconds[p];
        }
        pass += v.seconds.total() - v.proxy_seconds.iter().sum::<f64>();
        values.insert(i, at.iter().map(|&p| v.values[p]).collect());
    }
    let n = all.len().max(1) as f64;
    let tau = |set: &[usize], j: usize| -> (f64, usize) {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        let mut missing = 0;
        for i in set {
            let v = values[i][j];
            if v.is_finite() {
                x.push(v);
                y.push(labels[i]);
            } else {
                missing += 1;
            }
        }
        (crate::forest::kendall_tau_b(&x, &y), missing)
    };
    let out = names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let (tr, m1) = tau(random, j);
            let (ts, m2) = tau(stratified, j);
            HeldOut {
                formula: name.clone(),
                fitness: 0.0,
                tau_random: tr,
                tau_stratified: ts,
                missing: m1 + m2,
                own_seconds: own[j] / n,
            }
        })
        .collect();
    Ok((out, pass / n))
}

/// `workers` engines of `engine`'s configuration computing `proxies`.
fn worker_engines(
    engine: &Engine,
    proxies: &[crate::proxy::ProxyRef],
    workers: usize,
) -> Result<Vec<Engine>, EvolveError> {
    (0..workers)
        .map(|_| {
            Engine::new(
                proxies.to_vec(),
                engine.config.clone(),
                engine.dataset,
                engine.device,
            )
            .map_err(|source| EvolveError::Proxy {
                arch: "(none)".into(),
                source,
            })
        })
        .collect()
}

/// `f` of each arch, computed on the engines' worker pool ([`crate::proxy::pool::map_archs`]:
/// one libtorch thread each, so the values are those `extract` computes), in arch order;
/// `progress(done)` on this thread. The first failing arch (in arch order among those
/// computed) stops the run.
fn on_workers<T: Send>(
    engines: &mut [Engine],
    archs: &[Arch],
    f: impl Fn(&Engine, &Arch) -> Result<T, ProxyError> + Sync,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<T>, EvolveError> {
    let pool_error = |source| EvolveError::Proxy {
        arch: "(none)".into(),
        source,
    };
    crate::proxy::pool::map_archs(engines, archs, f, progress)
        .map_err(pool_error)?
        .map_err(|(k, source)| EvolveError::Proxy {
            arch: archs[k].to_string(),
            source,
        })
}
