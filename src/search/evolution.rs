//! Regularised evolution (Real et al., AAAI 2019, Algorithm 1) with the forest as the fitness;
//! the mutation that keeps an arch inside its space is [`Arch::mutate`].

use std::collections::VecDeque;

use super::{Run, Scorer, SearchError};
use crate::rng::SplitMix64;
use crate::space::Arch;

/// Draws and mutations tried per cycle before giving up on finding a feasible, unscored child.
const TRIES: usize = 64;

/// Regularised evolution's settings.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    pub population: usize,
    pub tournament: usize,
    /// Children bred per cycle from the same population and scored together.
    pub batch: usize,
}

/// Algorithm 1 of Real et al.: `population` random feasible archs, then cycles in which
/// `batch` parents are chosen by tournament (`tournament` members drawn with replacement, the
/// fittest wins) and mutated, the children scored together, and each child joins the
/// population while its oldest member leaves (ageing), until `budget` distinct archs are
/// scored. Real et al. ran the cycles asynchronously on many workers; a batch is the
/// synchronous, deterministic form of that: the result depends on `batch`, never on how many
/// workers score it. A child already scored rejoins with its known fitness and costs no budget;
/// an infeasible one is re-drawn. In a pool (`SearchConfig::pool`), a child already scored is
/// replaced by a random unscored pool member. The loop also ends after `TRIES` × budget cycles
/// (a tiny feasible set), so it always terminates.
pub(super) fn regularized<S: Scorer + ?Sized>(
    run: &mut Run<'_, '_, S>,
    feasible: &[usize],
    settings: Settings,
    rng: &mut SplitMix64,
) -> Result<(), SearchError> {
    let space = run.space;
    let first: Vec<Arch> = super::sample_positions(feasible.len(), settings.population, rng)
        .into_iter()
        .take(run.budget_remaining())
        .map(|k| space.arch(feasible[k]).expect("index in range"))
        .collect();
    let mut pop: VecDeque<(Arch, f64)> =
        VecDeque::with_capacity(settings.population + settings.batch);
    for (arch, k) in first.iter().zip(run.score_many(&first)?) {
        pop.push_back((*arch, run.scored[k].fitness()));
    }
    let max_cycles = TRIES * run.config.budget.max(1);
    let mut cycles = 0;
    while run.budget_remaining() > 0 && cycles < max_cycles && !pop.is_empty() {
        cycles += 1;
        let mut children: Vec<Arch> = Vec::with_capacity(settings.batch);
        let mut new = 0;
        for _ in 0..settings.batch {
            if new >= run.budget_remaining() {
                break;
            }
            let parent = tournament(&pop, settings.tournament, rng);
            let mut child = None;
            for _ in 0..TRIES {
                let c = parent.mutate(rng);
                if run.is_feasible(&c)? {
                    child = Some(c);
                    break;
                }
                run.rejected += 1;
            }
            // In a pool that samples a larger space (NB101's labelled cells) a parent's pool
            // neighbours run out: a child already scored is replaced by a random unscored
            // member of the pool (a random immigrant), so the budget is still spent.
            let stale = |c: &Arch| run.seen.contains_key(&c.index()) || children.contains(c);
            if run.config.pool.is_some() && child.as_ref().is_none_or(&stale) {
                for _ in 0..TRIES {
                    let k = rng.below(feasible.len() as u64) as usize;
                    let c = space.arch(feasible[k]).expect("index in range");
                    if !stale(&c) {
                        child = Some(c);
                        break;
                    }
                }
            }
            if let Some(c) = child {
                if !run.seen.contains_key(&c.index()) && !children.contains(&c) {
                    new += 1;
                }
                children.push(c);
            }
        }
        for (arch, k) in children.iter().zip(run.score_many(&children)?) {
            pop.push_back((*arch, run.scored[k].fitness()));
            if pop.len() > settings.population {
                pop.pop_front();
            }
        }
    }
    Ok(())
}

/// The fittest of `size` members drawn uniformly with replacement; the first drawn wins a tie.
fn tournament(pop: &VecDeque<(Arch, f64)>, size: usize, rng: &mut SplitMix64) -> Arch {
    let mut best: Option<&(Arch, f64)> = None;
    for _ in 0..size {
        let c = &pop[rng.below(pop.len() as u64) as usize];
        if best.is_none_or(|b| c.1 > b.1) {
            best = Some(c);
        }
    }
    best.expect("tournament size ≥ 1").0
}
