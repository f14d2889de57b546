//! Strongly typed genetic programming on formula trees (Koza 1992; Montana, "Strongly Typed
//! Genetic Programming", 1995): ramped half-and-half initialisation, subtree crossover between
//! nodes of one type, subtree and point mutation, every child checked against the language's
//! types and the size and depth limits (against bloat).

use crate::formula::{Aggregate, Formula, Node, Op, Signature, Terminal, Ty};
use crate::rng::SplitMix64;

/// Limits on the trees the evolution makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Levels of a formula (the aggregation counted).
    pub max_depth: usize,
    /// Nodes of a formula (the aggregation counted).
    pub max_size: usize,
    /// The operations it may use.
    pub primitives: Primitives,
}

/// The operations and aggregations the evolution draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Primitives {
    /// The EZNAS-like set: every operation but `kdet` and `swap`, aggregated by `layer_sum` or
    /// `layer_mean`.
    #[default]
    Base,
    /// The base set and `kdet` (NASWOT's kernel per layer).
    WithKdet,
    /// The base set and the `cell_sum` aggregation (each searched block counted once).
    WithCellSum,
    /// The base set and `swap` (SWAP's distinct sample-wise patterns per layer).
    WithSwap,
    /// Every operation and aggregation: the base set, `kdet`, `swap` and `cell_sum`.
    Full,
}

impl Primitives {
    fn allows(self, op: Op) -> bool {
        match op {
            Op::KDet => matches!(self, Primitives::WithKdet | Primitives::Full),
            Op::Swap => matches!(self, Primitives::WithSwap | Primitives::Full),
            _ => true,
        }
    }

    fn aggregates(self) -> &'static [Aggregate] {
        match self {
            Primitives::Base | Primitives::WithKdet | Primitives::WithSwap => &Aggregate::ALL[..2],
            Primitives::WithCellSum | Primitives::Full => &Aggregate::ALL,
        }
    }
}

fn pick<T: Copy>(rng: &mut SplitMix64, items: &[T]) -> T {
    items[rng.below(items.len() as u64) as usize]
}

fn chance(rng: &mut SplitMix64, p: f64) -> bool {
    rng.next_f64() < p
}

fn terminal_of(rng: &mut SplitMix64, ty: Ty) -> Terminal {
    match ty {
        Ty::Weight => pick(rng, &[Terminal::W, Terminal::G]),
        _ => pick(rng, &[Terminal::Z, Terminal::GZ]),
    }
}

fn ops_of(primitives: Primitives, sig: &[Signature]) -> Vec<Op> {
    Op::ALL
        .into_iter()
        .filter(|o| primitives.allows(*o) && sig.contains(&o.signature()))
        .collect()
}

fn tensor_kind(rng: &mut SplitMix64) -> Ty {
    pick(rng, &[Ty::Weight, Ty::Output])
}

/// A reduction of terminals: the smallest per-layer number.
fn leaf_scalar(rng: &mut SplitMix64, p: Primitives) -> Node {
    let op = pick(
        rng,
        &ops_of(
            p,
            &[Signature::Reduce, Signature::Reduce2, Signature::OfTerminal],
        ),
    );
    let kind = tensor_kind(rng);
    let args = (0..op.arity())
        .map(|_| Node::Term(terminal_of(rng, kind)))
        .collect();
    Node::Op(op, args)
}

/// A random tree of type `ty` at most `depth` levels deep: every branch `depth` deep when
/// `full`, else branches stop at random (Koza's "full" and "grow").
pub fn random_node(rng: &mut SplitMix64, p: Primitives, ty: Ty, depth: usize, full: bool) -> Node {
    match ty {
        Ty::Scalar => {
            if depth <= 2 || (!full && chance(rng, 0.3)) {
                return leaf_scalar(rng, p);
            }
            let r = rng.next_f64();
            if r < 0.25 {
                let op = pick(rng, &ops_of(p, &[Signature::Map]));
                Node::Op(op, vec![random_node(rng, p, Ty::Scalar, depth - 1, full)])
            } else if r < 0.5 {
                let op = pick(rng, &ops_of(p, &[Signature::Zip]));
                Node::Op(
                    op,
                    vec![
                        random_node(rng, p, Ty::Scalar, depth - 1, full),
                        random_node(rng, p, Ty::Scalar, depth - 1, full),
                    ],
                )
            } else {
                let kind = tensor_kind(rng);
                let op = pick(
                    rng,
                    &[Op::Sum, Op::Mean, Op::Norm, Op::L1, Op::Cos, Op::Hamming],
                );
                let args = (0..op.arity())
                    .map(|_| random_node(rng, p, kind, depth - 1, full))
                    .collect();
                Node::Op(op, args)
            }
        }
        kind => {
            if depth <= 1 || (!full && chance(rng, 0.3)) {
                return Node::Term(terminal_of(rng, kind));
            }
            if chance(rng, 0.6) {
                let op = pick(rng, &ops_of(p, &[Signature::Map, Signature::TensorMap]));
                Node::Op(op, vec![random_node(rng, p, kind, depth - 1, full)])
            } else {
                let op = pick(rng, &ops_of(p, &[Signature::Zip]));
                Node::Op(
                    op,
                    vec![
                        random_node(rng, p, kind, depth - 1, full),
                        random_node(rng, p, kind, depth - 1, full),
                    ],
                )
            }
        }
    }
}

/// A random formula: ramped half-and-half (depth drawn from 3..=`max_init`, full or grow).
pub fn random_formula(rng: &mut SplitMix64, max_init: usize, limits: &Limits) -> Formula {
    loop {
        let depth = 3 + rng.below(max_init.saturating_sub(2).max(1) as u64) as usize;
        let full = chance(rng, 0.5);
        let aggregate = pick(rng, limits.primitives.aggregates());
        let body = random_node(rng, limits.primitives, Ty::Scalar, depth - 1, full);
        if let Ok(f) = Formula::new(aggregate, body) {
            if within(&f, limits) {
                return f;
            }
        }
    }
}

fn within(f: &Formula, limits: &Limits) -> bool {
    f.depth() <= limits.max_depth && f.size() <= limits.max_size
}

/// A checked formula within the limits, or `None`.
fn accept(aggregate: Aggregate, body: Node, limits: &Limits) -> Option<Formula> {
    Formula::new(aggregate, body)
        .ok()
        .filter(|f| within(f, limits))
}

/// Subtree crossover: a random node of `a` replaced by a node of the same type from `b`.
/// Falls back to a copy of `a` when no valid child is found in a few tries.
pub fn crossover(rng: &mut SplitMix64, a: &Formula, b: &Formula, limits: &Limits) -> Formula {
    for _ in 0..8 {
        let i = rng.below(a.body.size() as u64) as usize;
        let ty = a.body.get(i).expect("index below size").ty();
        let same: Vec<usize> = (0..b.body.size())
            .filter(|&j| b.body.get(j).is_some_and(|n| n.ty() == ty))
            .collect();
        if same.is_empty() {
            continue;
        }
        let donor = b
            .body
            .get(pick(rng, &same))
            .expect("index below size")
            .clone();
        let mut body = a.body.clone();
        *body.get_mut(i).expect("index below size") = donor;
        if let Some(f) = accept(a.aggregate, body, limits) {
            return f;
        }
    }
    a.clone()
}

/// Mutation: a random subtree regrown (60 %), one operation or terminal swapped for another of
/// the same signature or kind (30 %), or the aggregation switched (10 %: to the other of
/// `layer_sum` and `layer_mean`, or to another of the three where `cell_sum` is drawn from).
/// Falls back to a copy when no valid child is found in a few tries.
pub fn mutate(rng: &mut SplitMix64, a: &Formula, limits: &Limits) -> Formula {
    for _ in 0..8 {
        let r = rng.next_f64();
        if r < 0.1 {
            let others: Vec<Aggregate> = limits
                .primitives
                .aggregates()
                .iter()
                .copied()
                .filter(|&g| g != a.aggregate)
                .collect();
            // One choice draws nothing, so runs of the base set keep their seeds' formulas.
            let aggregate = match others[..] {
                [only] => only,
                _ => pick(rng, &others),
            };
            return Formula {
                aggregate,
                body: a.body.clone(),
            };
        }
        let i = rng.below(a.body.size() as u64) as usize;
        let mut body = a.body.clone();
        let node = body.get_mut(i).expect("index below size");
        if r < 0.7 {
            let ty = node.ty();
            let depth = 1 + rng.below(4) as usize;
            *node = random_node(
                rng,
                limits.primitives,
                ty,
                depth.max(if ty == Ty::Scalar { 2 } else { 1 }),
                false,
            );
        } else {
            match node {
                Node::Term(t) => *t = terminal_of(rng, t.ty()),
                Node::Op(op, _) => {
                    let sig = op.signature();
                    *op = pick(rng, &ops_of(limits.primitives, &[sig]));
                }
            }
        }
        if let Some(f) = accept(a.aggregate, body, limits) {
            if f != *a {
                return f;
            }
        }
    }
    a.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_depth: 8,
        max_size: 24,
        primitives: Primitives::Full,
    };

    #[test]
    fn generated_and_bred_formulas_are_typed_within_limits_and_parse_back() {
        let mut rng = SplitMix64::new(5);
        let pop: Vec<Formula> = (0..200)
            .map(|_| random_formula(&mut rng, 6, &LIMITS))
            .collect();
        let mut children = Vec::new();
        for k in 0..400 {
            let (a, b) = (&pop[k % 200], &pop[(k * 7 + 3) % 200]);
            children.push(crossover(&mut rng, a, b, &LIMITS));
            children.push(mutate(&mut rng, a, &LIMITS));
        }
        for f in pop.iter().chain(&children) {
            assert!(
                f.depth() <= LIMITS.max_depth && f.size() <= LIMITS.max_size,
                "{f}"
            );
            let back: Formula = f.to_string().parse().unwrap();
            assert_eq!(&back, f);
        }
        let distinct: std::collections::HashSet<String> =
            children.iter().map(|f| f.to_string()).collect();
        assert!(distinct.len() > 300, "{}", distinct.len());
        for g in Aggregate::ALL {
            assert!(children.iter().any(|f| f.aggregate == g), "no {g:?}");
        }
        for op in ["kdet(", "swap(", "mineig("] {
            assert!(
                children.iter().any(|f| f.to_string().contains(op)),
                "no {op}"
            );
        }
    }

    #[test]
    fn the_base_set_draws_neither_kdet_swap_nor_cell_sum() {
        let limits = Limits {
            primitives: Primitives::Base,
            ..LIMITS
        };
        let mut rng = SplitMix64::new(9);
        let pop: Vec<Formula> = (0..200)
            .map(|_| random_formula(&mut rng, 6, &limits))
            .collect();
        let bred = (0..400).map(|k| mutate(&mut rng, &pop[k % 200], &limits));
        for f in pop.clone().into_iter().chain(bred) {
            let text = f.to_string();
            assert!(
                !text.contains("kdet")
                    && !text.contains("swap")
                    && f.aggregate != Aggregate::CellSum,
                "{text}"
            );
        }
    }
}
