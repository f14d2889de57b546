//! A language of zero-cost proxy formulas over the per-layer tensors of a network at
//! initialisation, after EZNAS (Akhauri et al., "EZNAS: Evolving Zero-Cost Proxies for Neural
//! Architecture Scoring", NeurIPS 2022) and GreenMachine (Cortês, Lourenço & Machado,
//! arXiv 2411.15290): terminals are tensors of one layer, operations combine them elementwise
//! and reduce them to one number per layer, and the layers' numbers are aggregated into the
//! arch's score. A formula's text is its name: [`Formula`]'s `Display` and `FromStr` round-trip,
//! so a formula is a proxy column, a model feature and a `--proxies` item as written.
//!
//! ```text
//! layer_sum(sum(abs(mul(W,G))))       snip: Σ_layers Σ |W ⊙ ∂L/∂W|
//! layer_sum(norm(G))                  grad_norm
//! layer_mean(log(cos(Z,GZ)))          evolved shapes look like this
//! ```
//!
//! # Layers and terminals
//! The layers are the Conv2d and Linear weights, as the zero-cost proxies of Abdelfattah et al.
//! (2021) sum over (`get_layer_metric_array`). Per layer:
//!
//! | terminal | tensor | shape kind |
//! |---|---|---|
//! | `W` | the initial weights | weight |
//! | `G` | ∂L/∂W, L the mean cross-entropy of the labelled batch (BN train mode) | weight |
//! | `Z` | the layer's output on that batch (conv/linear output: the pre-activation) | output |
//! | `GZ` | ∂L/∂Z | output |
//!
//! Activations are `relu(Z)`. A gradient the loss does not reach is 0; a layer that did not run
//! has empty outputs.
//!
//! # Operations (types: weight- or output-shaped tensor T, per-layer scalar S)
//! * elementwise on T or S: `abs`, `neg`, `sq` (x²), `sqrt` (√|x|), `log` (ln|x|, 0 at 0),
//!   `exp` (e^min(x,30)), `inv` (1/x, 0 at 0);
//! * elementwise on T only: `relu`, `sign` (0 at 0), `step` (1 if x > 0 else 0), `sigmoid`,
//!   `tanh`, `zscore` ((x − mean)/std over the layer's tensor, 0 when std is 0);
//! * binary on two T of the same kind or two S: `add`, `sub`, `mul`, `div` (0 where the divisor
//!   is 0): the protected operations of genetic programming (Koza 1992), so no formula divides
//!   by zero or takes the log of 0;
//! * T → S: `sum`, `mean` (0 when empty), `norm` (Frobenius), `l1` (Σ|x|), `size` (element
//!   count); two T of one kind → S: `cos` (cosine similarity, 0 when a norm is 0), `hamming`
//!   (fraction of elements whose signs differ);
//! * terminal → S: `mineig(T)`, the smallest eigenvalue of the Pearson correlation matrix of the
//!   terminal's channels (dim 1 of outputs, dim 0 of weights; other dims are observations;
//!   NaN entries 0), MeCo's statistic (Jiang et al., NeurIPS 2023) on every layer;
//!   `kdet(T)`, ln|det K| of the Hamming kernel of the rows' activation codes (rows: dim 0,
//!   the images of outputs and the output channels of weights; code `x > 0`;
//!   `K[i,j]` = positions where rows i and j agree), NASWOT's statistic (Mellor et al.,
//!   ICML 2021) on every layer; 0 for fewer than two rows or a singular kernel;
//!   `swap(T)`, the number of distinct columns of those codes (one code per position of dims
//!   ≥ 1, one bit per row), SWAP's count of distinct sample-wise activation patterns (Peng et
//!   al., ICLR 2024) on every layer; 0 for an empty tensor;
//! * the root aggregates S over layers: `layer_sum` or `layer_mean`, or `cell_sum`: Σ over
//!   the skeleton's searched blocks (`cells.i` of NATS-Bench's network: TSS's 15 cells and 2
//!   residual blocks, SSS's 3 cells and 2 residual blocks) of the mean of S over the block's
//!   layers; the stem and the classifier are left out and a block without layers adds 0. Each
//!   block counts once whatever its number of layers: on SSS, where the five blocks are the five
//!   channel slots, `cell_sum(log(size(Z)))` is Σ_i ln c_i up to a constant, the channel
//!   configuration's geometric mean, which a per-layer sum weighs by each slot's layer count
//!   (benches/README.md, "`cell_sum`").
//!
//! A per-layer value or a score that is still not finite (an overflow) makes the arch's value
//! undefined, reported as such, never a NaN in a table.

mod parse;
pub mod sample;

pub use parse::FormulaError;

use std::fmt;

/// A per-layer tensor a formula reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Terminal {
    /// Initial weights.
    W,
    /// ∂L/∂W of the labelled batch.
    G,
    /// The layer's output (pre-activation).
    Z,
    /// ∂L/∂Z.
    GZ,
}

impl Terminal {
    pub const ALL: [Terminal; 4] = [Terminal::W, Terminal::G, Terminal::Z, Terminal::GZ];

    pub fn name(self) -> &'static str {
        match self {
            Terminal::W => "W",
            Terminal::G => "G",
            Terminal::Z => "Z",
            Terminal::GZ => "GZ",
        }
    }

    /// The shape kind of the tensor.
    pub fn ty(self) -> Ty {
        match self {
            Terminal::W | Terminal::G => Ty::Weight,
            Terminal::Z | Terminal::GZ => Ty::Output,
        }
    }

    /// Whether the terminal needs the labelled pass (everything but the weights).
    pub fn needs_data(self) -> bool {
        self != Terminal::W
    }

    fn parse(s: &str) -> Option<Terminal> {
        Terminal::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// The type of a node: a tensor of one shape kind, or one number per layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    /// Shaped like the layer's weight (`W`, `G`).
    Weight,
    /// Shaped like the layer's output (`Z`, `GZ`).
    Output,
    /// One number per layer.
    Scalar,
}

impl Ty {
    pub fn is_tensor(self) -> bool {
        self != Ty::Scalar
    }

    fn describe(self) -> &'static str {
        match self {
            Ty::Weight => "a weight-shaped tensor",
            Ty::Output => "an output-shaped tensor",
            Ty::Scalar => "a per-layer number",
        }
    }
}

/// An operation of the language (see the module documentation for each definition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Abs,
    Neg,
    Sq,
    Sqrt,
    Log,
    Exp,
    Inv,
    Relu,
    Sign,
    Step,
    Sigmoid,
    Tanh,
    Zscore,
    Add,
    Sub,
    Mul,
    Div,
    Sum,
    Mean,
    Norm,
    L1,
    Size,
    Cos,
    Hamming,
    MinEig,
    KDet,
    Swap,
}

/// How an operation's argument types give its result type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// One argument, tensor or scalar; same type out.
    Map,
    /// One tensor argument; same type out.
    TensorMap,
    /// Two arguments of one type; that type out.
    Zip,
    /// One tensor → scalar.
    Reduce,
    /// Two tensors of one kind → scalar.
    Reduce2,
    /// A terminal → scalar.
    OfTerminal,
}

impl Op {
    pub const ALL: [Op; 27] = [
        Op::Abs,
        Op::Neg,
        Op::Sq,
        Op::Sqrt,
        Op::Log,
        Op::Exp,
        Op::Inv,
        Op::Relu,
        Op::Sign,
        Op::Step,
        Op::Sigmoid,
        Op::Tanh,
        Op::Zscore,
        Op::Add,
        Op::Sub,
        Op::Mul,
        Op::Div,
        Op::Sum,
        Op::Mean,
        Op::Norm,
        Op::L1,
        Op::Size,
        Op::Cos,
        Op::Hamming,
        Op::MinEig,
        Op::KDet,
        Op::Swap,
    ];

    /// The statistics of a whole terminal ([`Signature::OfTerminal`]), in the order the
    /// evolution's tensor cache stores them ([`sample::LayerSample::stats`]).
    pub const TERMINAL_STATISTICS: [Op; 3] = [Op::MinEig, Op::KDet, Op::Swap];

    /// The position of a terminal statistic in [`Op::TERMINAL_STATISTICS`].
    pub fn statistic_index(self) -> Option<usize> {
        Op::TERMINAL_STATISTICS.iter().position(|&o| o == self)
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Abs => "abs",
            Op::Neg => "neg",
            Op::Sq => "sq",
            Op::Sqrt => "sqrt",
            Op::Log => "log",
            Op::Exp => "exp",
            Op::Inv => "inv",
            Op::Relu => "relu",
            Op::Sign => "sign",
            Op::Step => "step",
            Op::Sigmoid => "sigmoid",
            Op::Tanh => "tanh",
            Op::Zscore => "zscore",
            Op::Add => "add",
            Op::Sub => "sub",
            Op::Mul => "mul",
            Op::Div => "div",
            Op::Sum => "sum",
            Op::Mean => "mean",
            Op::Norm => "norm",
            Op::L1 => "l1",
            Op::Size => "size",
            Op::Cos => "cos",
            Op::Hamming => "hamming",
            Op::MinEig => "mineig",
            Op::KDet => "kdet",
            Op::Swap => "swap",
        }
    }

    fn parse(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.name() == s)
    }

    pub fn signature(self) -> Signature {
        use Op::*;
        match self {
            Abs | Neg | Sq | Sqrt | Log | Exp | Inv => Signature::Map,
            Relu | Sign | Step | Sigmoid | Tanh | Zscore => Signature::TensorMap,
            Add | Sub | Mul | Div => Signature::Zip,
            Sum | Mean | Norm | L1 | Size => Signature::Reduce,
            Cos | Hamming => Signature::Reduce2,
            MinEig | KDet | Swap => Signature::OfTerminal,
        }
    }

    pub fn arity(self) -> usize {
        match self.signature() {
            Signature::Zip | Signature::Reduce2 => 2,
            _ => 1,
        }
    }

    /// The result type for `args`, or why the arguments do not fit.
    pub fn result(self, args: &[Ty]) -> Result<Ty, String> {
        let want = |what: &str| {
            let got: Vec<&str> = args.iter().map(|t| t.describe()).collect();
            format!("{} takes {what}, found {}", self.name(), got.join(" and "))
        };
        match (self.signature(), args) {
            (Signature::Map, [t]) => Ok(*t),
            (Signature::TensorMap, [t]) if t.is_tensor() => Ok(*t),
            (Signature::TensorMap, _) => Err(want("a tensor")),
            (Signature::Zip, [a, b]) if a == b => Ok(*a),
            (Signature::Zip, _) => Err(want("two arguments of one type")),
            (Signature::Reduce, [t]) if t.is_tensor() => Ok(Ty::Scalar),
            (Signature::Reduce, _) => Err(want("a tensor")),
            (Signature::Reduce2, [a, b]) if a == b && a.is_tensor() => Ok(Ty::Scalar),
            (Signature::Reduce2, _) => Err(want("two tensors of one kind")),
            (Signature::OfTerminal, [t]) if t.is_tensor() => Ok(Ty::Scalar),
            (Signature::OfTerminal, _) => Err(want("a terminal")),
            (_, _) => Err(format!(
                "{} takes {} argument(s), found {}",
                self.name(),
                self.arity(),
                args.len()
            )),
        }
    }
}

/// A node of a formula's tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Node {
    Term(Terminal),
    Op(Op, Vec<Node>),
}

impl Node {
    /// The node's type (the tree is checked when built by the parser or the generator).
    pub fn ty(&self) -> Ty {
        match self {
            Node::Term(t) => t.ty(),
            Node::Op(op, args) => {
                let tys: Vec<Ty> = args.iter().map(Node::ty).collect();
                op.result(&tys).unwrap_or(Ty::Scalar)
            }
        }
    }

    /// Checks every operation's argument types (and that `mineig` has a terminal).
    pub fn check(&self) -> Result<Ty, String> {
        match self {
            Node::Term(t) => Ok(t.ty()),
            Node::Op(op, args) => {
                if args.len() != op.arity() {
                    return Err(format!(
                        "{} takes {} argument(s), found {}",
                        op.name(),
                        op.arity(),
                        args.len()
                    ));
                }
                let tys = args
                    .iter()
                    .map(Node::check)
                    .collect::<Result<Vec<_>, _>>()?;
                if op.signature() == Signature::OfTerminal && !matches!(args[0], Node::Term(_)) {
                    return Err(format!("{} takes a terminal (W, G, Z, GZ)", op.name()));
                }
                op.result(&tys)
            }
        }
    }

    /// Nodes in the tree (its size).
    pub fn size(&self) -> usize {
        match self {
            Node::Term(_) => 1,
            Node::Op(_, args) => 1 + args.iter().map(Node::size).sum::<usize>(),
        }
    }

    /// Levels of the tree (a terminal is 1).
    pub fn depth(&self) -> usize {
        match self {
            Node::Term(_) => 1,
            Node::Op(_, args) => 1 + args.iter().map(Node::depth).max().unwrap_or(0),
        }
    }

    /// Every terminal the tree reads.
    pub fn terminals(&self, out: &mut Vec<Terminal>) {
        match self {
            Node::Term(t) => {
                if !out.contains(t) {
                    out.push(*t)
                }
            }
            Node::Op(_, args) => args.iter().for_each(|a| a.terminals(out)),
        }
    }

    /// The `k`-th node in pre-order.
    pub fn get(&self, k: usize) -> Option<&Node> {
        let mut k = k;
        self.find(&mut k)
    }

    fn find(&self, k: &mut usize) -> Option<&Node> {
        if *k == 0 {
            return Some(self);
        }
        *k -= 1;
        if let Node::Op(_, args) = self {
            for a in args {
                if let Some(n) = a.find(k) {
                    return Some(n);
                }
            }
        }
        None
    }

    /// The `k`-th node in pre-order, mutably.
    pub fn get_mut(&mut self, k: usize) -> Option<&mut Node> {
        let mut k = k;
        self.find_mut(&mut k)
    }

    fn find_mut(&mut self, k: &mut usize) -> Option<&mut Node> {
        if *k == 0 {
            return Some(self);
        }
        *k -= 1;
        if let Node::Op(_, args) = self {
            for a in args {
                if let Some(n) = a.find_mut(k) {
                    return Some(n);
                }
            }
        }
        None
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Term(t) => f.write_str(t.name()),
            Node::Op(op, args) => {
                write!(f, "{}(", op.name())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// How the per-layer numbers become the arch's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregate {
    /// Σ over layers (as the zero-cost proxies of Abdelfattah et al. 2021).
    Sum,
    /// Mean over layers (0 for a network without layers).
    Mean,
    /// Σ over the searched blocks (`cells.i`) of the mean over the block's layers.
    CellSum,
}

impl Aggregate {
    pub fn name(self) -> &'static str {
        match self {
            Aggregate::Sum => "layer_sum",
            Aggregate::Mean => "layer_mean",
            Aggregate::CellSum => "cell_sum",
        }
    }

    pub const ALL: [Aggregate; 3] = [Aggregate::Sum, Aggregate::Mean, Aggregate::CellSum];

    fn parse(s: &str) -> Option<Aggregate> {
        Aggregate::ALL.into_iter().find(|a| a.name() == s)
    }

    /// The score from the per-layer numbers and each layer's block ([`cell_of`]), in layer
    /// order.
    pub fn apply(self, values: &[(f64, Option<u32>)]) -> f64 {
        fn sum(v: impl Iterator<Item = f64>) -> f64 {
            v.fold(0.0, |a, b| a + b)
        }
        match self {
            Aggregate::Sum => sum(values.iter().map(|v| v.0)),
            Aggregate::Mean if values.is_empty() => 0.0,
            Aggregate::Mean => sum(values.iter().map(|v| v.0)) / values.len() as f64,
            Aggregate::CellSum => {
                let mut blocks: std::collections::BTreeMap<u32, (f64, usize)> =
                    std::collections::BTreeMap::new();
                for &(v, cell) in values {
                    if let Some(c) = cell {
                        let b = blocks.entry(c).or_default();
                        b.0 += v;
                        b.1 += 1;
                    }
                }
                sum(blocks.values().map(|&(s, n)| s / n as f64))
            }
        }
    }
}

/// The searched block a parameter belongs to: `i` of a name under `cells.i.` (NATS-Bench's
/// naming of cells and residual blocks), `None` for the stem and the classifier.
pub fn cell_of(param_name: &str) -> Option<u32> {
    let rest = param_name.strip_prefix("cells.")?;
    rest.split('.').next()?.parse().ok()
}

/// A proxy formula: an aggregation over layers of a per-layer number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Formula {
    pub aggregate: Aggregate,
    /// Of type [`Ty::Scalar`].
    pub body: Node,
}

impl Formula {
    /// A checked formula.
    pub fn new(aggregate: Aggregate, body: Node) -> Result<Formula, String> {
        match body.check()? {
            Ty::Scalar => Ok(Formula { aggregate, body }),
            t => Err(format!(
                "{} takes a per-layer number, found {}",
                aggregate.name(),
                t.describe()
            )),
        }
    }

    /// Whether the formula needs the labelled pass (it reads more than the weights).
    pub fn needs_data(&self) -> bool {
        self.terminals().iter().any(|t| t.needs_data())
    }

    pub fn terminals(&self) -> Vec<Terminal> {
        let mut v = Vec::new();
        self.body.terminals(&mut v);
        v
    }

    /// Nodes, the root counted.
    pub fn size(&self) -> usize {
        1 + self.body.size()
    }

    pub fn depth(&self) -> usize {
        1 + self.body.depth()
    }

    /// Whether `text` looks like a formula rather than a proxy name (it has a parenthesis).
    pub fn looks_like(text: &str) -> bool {
        text.contains('(')
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.aggregate.name(), self.body)
    }
}

impl std::str::FromStr for Formula {
    type Err = FormulaError;

    fn from_str(s: &str) -> Result<Formula, FormulaError> {
        parse::parse(s)
    }
}

/// Splits a comma-separated list of proxy names and formulas at the commas outside
/// parentheses: `params,layer_sum(cos(Z,GZ))` → `params`, `layer_sum(cos(Z,GZ))`. Items are
/// trimmed; empty items are dropped.
pub fn split_list(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i64;
    let mut cur = String::new();
    for c in list.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth <= 0 {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The formulas of a formula file, in order: one per line, blank lines and `#` comment lines
/// skipped (the format of `models/evolved_proxies.txt` and of `evolve --out`). The error names
/// the 1-based line.
pub fn parse_formula_lines(text: &str) -> Result<Vec<Formula>, FormulaLineError> {
    text.lines()
        .enumerate()
        .map(|(k, l)| (k + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(line, l)| {
            l.parse()
                .map_err(|source| FormulaLineError { line, source })
        })
        .collect()
}

/// A line of a formula file that is not a formula.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}")]
pub struct FormulaLineError {
    pub line: usize,
    #[source]
    pub source: FormulaError,
}

/// [`split_list`] of each item (a repeated option or one comma list).
pub fn split_lists(items: &[String]) -> Vec<String> {
    items.iter().flat_map(|s| split_list(s)).collect()
}

// The elementwise operations once, for float64 (per-layer numbers) and float32 (tensor
// elements, as libtorch computes them): the definitions of the module documentation.
macro_rules! elementwise {
    ($map:ident, $zip:ident, $t:ty) => {
        /// The elementwise operation `op` on one number (NaN for an operation that is not
        /// elementwise).
        pub fn $map(op: Op, x: $t) -> $t {
            match op {
                Op::Abs => x.abs(),
                Op::Neg => -x,
                Op::Sq => x * x,
                Op::Sqrt => x.abs().sqrt(),
                Op::Log if x == 0.0 => 0.0,
                Op::Log => x.abs().ln(),
                Op::Exp => x.min(EXP_MAX as $t).exp(),
                Op::Inv if x == 0.0 => 0.0,
                Op::Inv => 1.0 / x,
                Op::Relu => x.max(0.0),
                Op::Sign if x > 0.0 => 1.0,
                Op::Sign if x < 0.0 => -1.0,
                Op::Sign => 0.0,
                Op::Step if x > 0.0 => 1.0,
                Op::Step => 0.0,
                Op::Sigmoid => 1.0 / (1.0 + (-x).exp()),
                Op::Tanh => x.tanh(),
                _ => <$t>::NAN,
            }
        }

        /// The binary operation `op` on two numbers (NaN for an operation that is not binary).
        pub fn $zip(op: Op, a: $t, b: $t) -> $t {
            match op {
                Op::Add => a + b,
                Op::Sub => a - b,
                Op::Mul => a * b,
                Op::Div if b == 0.0 => 0.0,
                Op::Div => a / b,
                _ => <$t>::NAN,
            }
        }
    };
}

elementwise!(map_f64, zip_f64, f64);
elementwise!(map_f32, zip_f32, f32);

/// `exp` clips its argument here: e^30 ≈ 1.1e13 still sums over a million elements in float32.
pub const EXP_MAX: f32 = 30.0;

#[cfg(test)]
mod tests;
