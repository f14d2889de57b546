//! The search spaces: arch types, parsing, formatting, index order, canonical (isomorphism)
//! form, enumeration, seeded sampling, and the network graph of each arch.
//!
//! * [`TssArch`] — the NATS-Bench topology space (NAS-Bench-201): a 4-node cell whose 6 edges each
//!   carry one of 5 ops, 15,625 archs.
//! * [`SssArch`] — the NATS-Bench size space: 5 channel counts in {8, 16, …, 64}, 32,768 archs.
//! * [`MacroArch`] — NAS-Bench-Macro: 8 layers, each an identity or one of two inverted
//!   residuals, 6,561 archs.
//!
//! Each parses from and formats to its benchmark's strings; [`Arch`] holds any of them. A new
//! space is a folder here implementing [`SearchSpace`], plus one variant in [`Space`] and
//! [`Arch`] and one line in each of the two dispatch macros below.

pub use darts::{DartsArch, DartsOp};
pub use dataset::NatsDataset;
pub use nb101::{Nb101Arch, Nb101Op};
pub use nbmacro::{MacroArch, MacroOp, MACRO_SIZE};
pub use sss::{SssArch, SSS_CHANNELS, SSS_LAYERS, SSS_SIZE};
pub use tss::{Op, TssArch, TSS_EDGES, TSS_SIZE};

use crate::graph::Graph;
use crate::rng::SplitMix64;
use std::fmt;
use std::hash::Hash;
use std::str::FromStr;

/// What the crate asks of a search space, implemented by each space in its own folder
/// (`tss/`, `sss/`): parsing and formatting (`FromStr`/`Display`), the official index order, the
/// canonical form, mutation, the exact arch features and counts, and the network skeleton.
/// [`Space`] and [`Arch`] are thin dispatchers over the implementors, so a new space is a new
/// folder, a variant in each enum and a line in each of their two dispatch macros.
pub trait SearchSpace:
    Copy + Eq + Hash + fmt::Debug + fmt::Display + FromStr<Err = SpaceError> + Send + Sync + 'static
{
    /// The space's tag.
    const SPACE: Space;
    /// Number of archs.
    const SIZE: usize;
    /// Names accepted on the command line and in tables, the canonical one first.
    const NAMES: &'static [&'static str];
    /// The NATS-Bench `hp` of the final training runs.
    const FINAL_HP: &'static str;
    /// The datasets the space's networks are defined (and labelled) on.
    const DATASETS: &'static [NatsDataset] = &NatsDataset::ALL;
    /// The proxies of the space's default vector, by name (its counts are added): chosen by τ
    /// per CPU-second (benches/README.md).
    const DEFAULT_PROXIES: &'static [&'static str];
    /// The forest's `min_samples_leaf` measured best on the space's complete tables.
    const MIN_SAMPLES_LEAF: usize;
    /// The benchmark label learnt unless told otherwise, as a label kind's text
    /// (`provenance::LabelKind`: `"test_acc hp=200"`).
    const DEFAULT_LABEL: &'static str;
    /// The benchmark's label file, relative to the shared data folder (PROVENANCE.md).
    const LABEL_FILE: &'static str;
    /// The benchmark's name, as its labels are cited.
    const BENCHMARK: &'static str;
    /// Whether archs with different strings can compute the same function (isomorphism
    /// classes worth sharing a computation).
    const HAS_ISOMORPHS: bool;
    /// Whether indices `0..SIZE` are the archs in an official order (enumerable, sampled by
    /// index). Where not, an index only names an arch and archs are listed or drawn.
    const INDEX_ORDER: bool = true;
    /// The arch at `index` in the official order.
    fn from_index(index: usize) -> Result<Self, SpaceError>;
    /// Index in the official order.
    fn index(&self) -> usize;
    /// The arch that stands for this arch's isomorphism class (the canonical form); by default
    /// every arch is its own class.
    fn representative(&self) -> Self {
        *self
    }
    /// Whether the network's output depends on its input (by default it does).
    fn output_depends_on_input(&self) -> bool {
        true
    }
    /// A uniformly drawn arch (by default the arch at a uniform index).
    fn random(rng: &mut SplitMix64) -> Self {
        Self::from_index(rng.below(Self::SIZE as u64) as usize)
            .expect("an index below SIZE names an arch")
    }
    /// This arch with one position changed to another value of the space, drawn uniformly.
    fn mutate(&self, rng: &mut SplitMix64) -> Self;
    /// Whether `s` is written in this space's notation (it may still be malformed): how a table
    /// without a space column is told its space.
    fn notation_of(s: &str) -> bool;
    /// Names of the exact arch features, in column order.
    fn feature_names() -> &'static [String];
    /// The exact arch features, in [`SearchSpace::feature_names`] order.
    fn features(&self) -> Vec<f64>;
    /// Names of the structural counts the engine writes as static proxies, in column order.
    fn count_names() -> &'static [&'static str];
    /// The counts, in [`SearchSpace::count_names`] order.
    fn counts(&self) -> Vec<f64>;
    /// The network that realises the arch on `dataset`, as a network graph.
    fn graph(&self, dataset: NatsDataset) -> Graph;
    /// A narrower copy of the network with a stem of `stem` channels, where the space defines
    /// one (NAS-Bench-101); `None` elsewhere.
    fn graph_scaled(&self, _dataset: NatsDataset, _stem: i64) -> Option<Graph> {
        None
    }
    /// The name of the benchmark's own key for an arch where it is not the arch string
    /// (NAS-Bench-101's `module_hash`).
    const BENCHMARK_KEY: Option<&'static str> = None;
    /// The benchmark's own key of the arch ([`SearchSpace::BENCHMARK_KEY`]).
    fn benchmark_key(&self) -> Option<String> {
        None
    }
    /// This arch as an [`Arch`].
    fn into_arch(self) -> Arch;
}

/// The registry of spaces, the one place a new space is named (besides its `pub mod`): calls
/// `$m!` with `$args` and the list `Variant(ArchType) "doc"`, from which [`Space`], [`Arch`]
/// and the dispatch macros are made.
macro_rules! with_spaces {
    ($m:ident!($($args:tt)*)) => {
        $m! { ($($args)*)
            Tss(TssArch) "NATS-Bench topology space (NAS-Bench-201 cells), 15,625 archs.",
            Sss(SssArch) "NATS-Bench size space (channel configurations), 32,768 archs.",
            Macro(MacroArch) "NAS-Bench-Macro (8 MobileNetV2-style layers), 6,561 archs.",
            Nb101(Nb101Arch) "NAS-Bench-101 (cells of up to 7 vertices), 423,624 cells.",
            Darts(DartsArch) "The DARTS cell space (NAS-Bench-301's network), ~10^18 genotypes.",
        }
    };
}

macro_rules! define_spaces {
    (() $($v:ident($a:ident) $doc:literal,)*) => {
        /// A search space.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Space {
            $(#[doc = $doc] $v,)*
        }

        /// An arch of any space.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Arch {
            $(#[doc = $doc] $v($a),)*
        }

        impl Space {
            /// Every space, in a fixed order.
            pub const ALL: [Space; [$(Space::$v),*].len()] = [$(Space::$v),*];
        }
    };
}

macro_rules! dispatch_space {
    (($space:expr, $S:ident => $body:expr) $($v:ident($a:ident) $doc:literal,)*) => {
        match $space {
            $(Space::$v => {
                type $S = $crate::space::$a;
                $body
            })*
        }
    };
}

macro_rules! dispatch_arch {
    (($arch:expr, $x:ident => $body:expr) $($v:ident($a:ident) $doc:literal,)*) => {
        match $arch {
            $(Arch::$v($x) => $body,)*
        }
    };
}

/// `$body` with `$S` the implementor of the space `$space`.
macro_rules! on_space {
    ($space:expr, $S:ident => $body:expr) => {
        with_spaces!(dispatch_space!($space, $S => $body))
    };
}

/// `$body` with `$a` the arch inside `$arch`.
macro_rules! on_arch {
    ($arch:expr, $a:ident => $body:expr) => {
        with_spaces!(dispatch_arch!($arch, $a => $body))
    };
}

with_spaces!(define_spaces!());

// Declared after the dispatch macros, which they use.
pub mod counts;
pub mod darts;
mod dataset;
pub mod features;
mod nats_net;
pub mod nb101;
pub mod nbmacro;
pub mod sss;
pub mod tss;

/// Why an arch string, index or space name was rejected. The message names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpaceError {
    #[error("empty arch string")]
    Empty,
    #[error("arch string too long ({0} bytes): not a NATS-Bench arch")]
    TooLong(usize),
    #[error("malformed TSS arch string {shown}: {why}")]
    Tss { shown: String, why: String },
    #[error("malformed SSS arch string {shown}: {why}")]
    Sss { shown: String, why: String },
    /// A malformed arch of a space whose errors need no variant of their own.
    #[error("malformed {space} arch {shown}: {why}")]
    Malformed {
        space: Space,
        shown: String,
        why: String,
    },
    #[error("no narrower {space} network: {why}")]
    NoNarrowCopy { space: Space, why: String },
    #[error("{space} networks are defined on {expected}, not {dataset}")]
    DatasetNotInSpace {
        space: Space,
        dataset: NatsDataset,
        expected: String,
    },
    #[error("{space} index {index} out of range (0..{size})")]
    IndexOutOfRange {
        space: Space,
        index: usize,
        size: usize,
    },
    #[error("index {index} does not name {arch} (its official index is {official})")]
    IndexMismatch {
        index: String,
        arch: String,
        official: usize,
    },
    #[error("{arch} is an arch of the {space} space, not of {expected}")]
    OtherSpace {
        arch: String,
        space: Space,
        expected: Space,
    },
    #[error("unknown search space {0:?} (expected tss, sss or macro)")]
    UnknownSpace(String),
    #[error("unknown dataset {0:?} (expected cifar10, cifar100 or imagenet16-120)")]
    UnknownDataset(String),
}

/// At most this many bytes of the offending input are quoted in an error message.
const SHOWN_BYTES: usize = 80;
/// Longer inputs are rejected before any parsing (a TSS string is ≤ 100 bytes).
pub(crate) const MAX_ARCH_BYTES: usize = 512;

/// Quotes the start of a user's input for an error message (never the whole 10 MB of it).
pub(crate) fn shown(s: &str) -> String {
    if s.len() <= SHOWN_BYTES {
        format!("{s:?}")
    } else {
        let mut end = SHOWN_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{:?}… ({} bytes)", &s[..end], s.len())
    }
}

impl Space {
    /// Number of archs in the space.
    pub fn size(self) -> usize {
        on_space!(self, S => S::SIZE)
    }

    /// Lower-case name as used on the command line and in tables.
    pub fn name(self) -> &'static str {
        on_space!(self, S => S::NAMES[0])
    }

    /// The NATS-Bench `hp` of the final training runs: "200" (TSS, 200 epochs), "90" (SSS).
    pub fn final_hp(self) -> &'static str {
        on_space!(self, S => S::FINAL_HP)
    }

    /// The datasets the space's networks are defined and labelled on.
    pub fn datasets(self) -> &'static [NatsDataset] {
        on_space!(self, S => S::DATASETS)
    }

    /// The proxies of the space's default vector ([`SearchSpace::DEFAULT_PROXIES`]).
    pub fn default_proxies(self) -> &'static [&'static str] {
        on_space!(self, S => S::DEFAULT_PROXIES)
    }

    /// [`SearchSpace::MIN_SAMPLES_LEAF`].
    pub fn min_samples_leaf(self) -> usize {
        on_space!(self, S => S::MIN_SAMPLES_LEAF)
    }

    /// [`SearchSpace::DEFAULT_LABEL`].
    pub fn default_label(self) -> &'static str {
        on_space!(self, S => S::DEFAULT_LABEL)
    }

    /// [`SearchSpace::BENCHMARK`].
    pub fn benchmark(self) -> &'static str {
        on_space!(self, S => S::BENCHMARK)
    }

    /// [`SearchSpace::LABEL_FILE`].
    pub fn label_file(self) -> &'static str {
        on_space!(self, S => S::LABEL_FILE)
    }

    /// `dataset` when the space has it, else the error that names the space's datasets.
    pub fn check_dataset(self, dataset: NatsDataset) -> Result<NatsDataset, SpaceError> {
        if self.datasets().contains(&dataset) {
            return Ok(dataset);
        }
        Err(SpaceError::DatasetNotInSpace {
            space: self,
            dataset,
            expected: self
                .datasets()
                .iter()
                .map(|d| d.name())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// Whether archs with different strings can compute the same function, so that a
    /// computation can be shared by an isomorphism class (TSS; every SSS arch is its own class).
    pub fn has_isomorphs(self) -> bool {
        on_space!(self, S => S::HAS_ISOMORPHS)
    }

    /// The arch at `index` in the official NATS-Bench order.
    pub fn arch(self, index: usize) -> Result<Arch, SpaceError> {
        on_space!(self, S => S::from_index(index).map(S::into_arch))
    }

    /// Parses an arch string of this space.
    pub fn parse(self, s: &str) -> Result<Arch, SpaceError> {
        on_space!(self, S => s.parse::<S>().map(S::into_arch))
    }

    /// The space whose notation `s` is written in (TSS `|op~i|…`, SSS `c1:c2:c3:c4:c5`); the
    /// string may still be malformed. `None` when it is in neither.
    pub fn of_notation(s: &str) -> Option<Space> {
        Space::ALL
            .into_iter()
            .find(|space| on_space!(*space, S => S::notation_of(s)))
    }

    /// One arch per line of `text`, as an official index or an arch string, or the CSV that
    /// `archs`, `predict --format csv` and `search --out` write (a header line, then rows
    /// starting with `index,arch`, the index checked against the string); blank lines and lines
    /// starting with `#` are skipped. The error names the 1-based line.
    pub fn parse_arch_list(self, text: &str) -> Result<Vec<Arch>, (usize, SpaceError)> {
        let mut out = Vec::new();
        let mut first = true;
        // (index column, arch column) named by a CSV header.
        let mut columns: Option<(Option<usize>, Option<usize>)> = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // A bare arch whose notation has commas (a DARTS genotype) is one field.
            let bare = columns.is_none()
                && line.contains(',')
                && on_space!(self, S => S::notation_of(line))
                && self.parse(line).is_ok();
            let fields: Vec<String> = if bare {
                vec![line.to_string()]
            } else {
                csv_fields(line)
            };
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            let pos = |names: [&str; 2]| fields.iter().position(|f| names.contains(f));
            let (index_col, arch_col) = (pos(["index", "arch_index"]), pos(["arch", "arch_str"]));
            if std::mem::take(&mut first)
                && fields.len() > 1
                && (index_col.is_some() || arch_col.is_some())
            {
                columns = Some((index_col, arch_col));
                continue;
            }
            let field = |c: Option<usize>| c.and_then(|c| fields.get(c).copied());
            let arch = match (columns, fields.as_slice()) {
                (Some((i, a)), _) => match (field(i), field(a)) {
                    (Some(i), Some(a)) => self.parse_indexed(i, a),
                    (None, Some(a)) => self.parse(a),
                    (Some(i), None) => self.parse_arch_or_index(i),
                    (None, None) => Err(SpaceError::Empty),
                },
                (None, [one]) => self.parse_arch_or_index(one),
                (None, [index, arch, ..]) => self.parse_indexed(index, arch),
                (None, []) => Err(SpaceError::Empty),
            };
            out.push(arch.map_err(|e| (n + 1, e))?);
        }
        Ok(out)
    }

    /// `index,arch` of one CSV row: the arch string, checked against the index.
    fn parse_indexed(self, index: &str, arch: &str) -> Result<Arch, SpaceError> {
        let a = self.parse(arch)?;
        match index.parse::<usize>() {
            Ok(i) if i == a.index() => Ok(a),
            _ => Err(SpaceError::IndexMismatch {
                index: shown(index),
                arch: shown(arch),
                official: a.index(),
            }),
        }
    }

    /// An official index or an arch string of this space (a string in the space's notation is
    /// an arch string: NAS-Bench-Macro's keys are digits too).
    pub fn parse_arch_or_index(self, s: &str) -> Result<Arch, SpaceError> {
        if on_space!(self, S => S::notation_of(s.trim())) {
            return self.parse(s);
        }
        let arch = match s.trim().parse::<usize>() {
            Ok(i) => self.arch(i),
            Err(_) => self.parse(s),
        };
        match (arch, Space::of_notation(s.trim())) {
            (Err(_), Some(other)) if other != self && other.parse(s).is_ok() => {
                Err(SpaceError::OtherSpace {
                    arch: shown(s.trim()),
                    space: other,
                    expected: self,
                })
            }
            (arch, _) => arch,
        }
    }

    /// `n` distinct arch indices drawn uniformly without replacement with `seed`, in draw order.
    /// The same `(n, seed)` always gives the same indices; `n` is capped at the space size.
    pub fn sample_indices(self, n: usize, seed: u64) -> Vec<usize> {
        if self.index_order() {
            return sample_without_replacement(self.size(), n, seed);
        }
        // Distinct random archs (their indices name them).
        let mut rng = SplitMix64::new(seed);
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        while out.len() < n.min(self.size()) {
            let i = self.random(&mut rng).index();
            if seen.insert(i) {
                out.push(i);
            }
        }
        out
    }

    /// Whether indices `0..size` enumerate the space in an official order
    /// ([`SearchSpace::INDEX_ORDER`]).
    pub fn index_order(self) -> bool {
        on_space!(self, S => S::INDEX_ORDER)
    }

    /// The name of the benchmark's own arch key, if any ([`SearchSpace::BENCHMARK_KEY`]).
    pub fn benchmark_key_name(self) -> Option<&'static str> {
        on_space!(self, S => S::BENCHMARK_KEY)
    }

    /// A uniformly drawn arch ([`SearchSpace::random`]).
    pub fn random(self, rng: &mut SplitMix64) -> Arch {
        on_space!(self, S => S::random(rng).into_arch())
    }
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

serde_as_text!(Space);

impl FromStr for Space {
    type Err = SpaceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Space::ALL
            .into_iter()
            .find(|space| on_space!(*space, S => S::NAMES.contains(&lower.as_str())))
            .ok_or_else(|| SpaceError::UnknownSpace(s.chars().take(40).collect()))
    }
}

impl Arch {
    pub fn space(&self) -> Space {
        on_arch!(self, a => space_of(a))
    }

    /// Index in the official NATS-Bench order.
    pub fn index(&self) -> usize {
        on_arch!(self, a => a.index())
    }

    /// The arch that stands for this arch's isomorphism class: for TSS the class member with
    /// the lowest official index ([`TssArch::representative_index`]; isomorphic cells compute
    /// the same function), for SSS the arch itself (every configuration is its own class).
    pub fn representative(&self) -> Arch {
        on_arch!(self, a => a.representative().into_arch())
    }

    /// Whether the network's output depends on its input. A TSS cell in which no path from the
    /// input to the output avoids `none` outputs zeros for every input, so the whole network
    /// (five such cells per stage) maps every image to the same logits; SSS cells always do.
    pub fn output_depends_on_input(&self) -> bool {
        on_arch!(self, a => a.output_depends_on_input())
    }

    /// This arch with one position changed to another value of its space, drawn uniformly: the
    /// op of one of the six edges (TSS) or the channel count of one of the five layers (SSS).
    pub fn mutate(&self, rng: &mut SplitMix64) -> Arch {
        on_arch!(self, a => a.mutate(rng).into_arch())
    }

    /// The exact arch features ([`features::arch_feature_names`] of its space).
    pub fn features(&self) -> Vec<f64> {
        on_arch!(self, a => a.features())
    }

    /// The structural counts of its space, in column order.
    pub fn counts(&self) -> Vec<f64> {
        on_arch!(self, a => a.counts())
    }

    /// The network that realises the arch on `dataset`, as a network graph (its structural
    /// counts attached, [`Graph::counts`]).
    pub fn graph(&self, dataset: NatsDataset) -> Graph {
        on_arch!(self, a => a.graph(dataset))
    }

    /// The benchmark's own key of the arch (NAS-Bench-101's module hash), if it has one.
    pub fn benchmark_key(&self) -> Option<String> {
        on_arch!(self, a => a.benchmark_key())
    }

    /// The network of the arch on `dataset`: the benchmark's (`stem` `None`) or its narrower
    /// copy with a stem of `stem` channels, which only some spaces define.
    pub fn network_graph(
        &self,
        dataset: NatsDataset,
        stem: Option<i64>,
    ) -> Result<Graph, SpaceError> {
        match stem {
            None => Ok(self.graph(dataset)),
            Some(s) if s < 1 => Err(SpaceError::NoNarrowCopy {
                space: self.space(),
                why: format!("a stem of {s} channels"),
            }),
            Some(s) => on_arch!(self, a => a.graph_scaled(dataset, s)).ok_or_else(|| {
                SpaceError::NoNarrowCopy {
                    space: self.space(),
                    why: "the space defines no narrower copy of its network (nb101 does)".into(),
                }
            }),
        }
    }

    /// The arch's structural counts by name.
    pub fn named_counts(&self) -> Vec<(String, f64)> {
        fn named<S: SearchSpace>(a: &S) -> Vec<(String, f64)> {
            S::count_names()
                .iter()
                .map(|n| n.to_string())
                .zip(a.counts())
                .collect()
        }
        on_arch!(self, a => named(a))
    }

    /// The trained test accuracy (%) that needs no model: a network whose output ignores its
    /// input predicts one class for every image, so on the balanced test sets of NATS-Bench it
    /// scores chance, `100 / classes` — exactly what NATS-Bench records for all 341 such TSS
    /// archs (10, 1 and 0.833 %; checked in `tests/space.rs`; a few live archs diverged and sit
    /// there too, so the converse does not hold). Such a cell also has no
    /// Jacobian-based proxy value, so the forest could not score it. `None` for every other arch.
    pub fn known_accuracy(&self, dataset: NatsDataset) -> Option<f64> {
        (!self.output_depends_on_input()).then(|| 100.0 / dataset.num_classes() as f64)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        on_arch!(self, a => a.fmt(f))
    }
}

/// The space of an implementor, read off its type.
fn space_of<S: SearchSpace>(_: &S) -> Space {
    S::SPACE
}

/// Sets one position of `values`, drawn uniformly, to another of `choices`, drawn uniformly: the
/// mutation of every space whose arch is a fixed-length list of choices.
pub(crate) fn mutate_one<T: Copy + PartialEq>(
    values: &mut [T],
    choices: &[T],
    rng: &mut SplitMix64,
) {
    let at = rng.below(values.len() as u64) as usize;
    let others: Vec<T> = choices
        .iter()
        .copied()
        .filter(|&c| c != values[at])
        .collect();
    values[at] = others[rng.below(others.len() as u64) as usize];
}

/// Partial Fisher–Yates over `0..size`: the first `n` positions of a seeded shuffle.
/// The fields of one CSV line, trimmed; double-quoted fields may hold commas (`""` is a quote).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

fn sample_without_replacement(size: usize, n: usize, seed: u64) -> Vec<usize> {
    let n = n.min(size);
    let mut rng = SplitMix64::new(seed);
    let mut pool: Vec<usize> = (0..size).collect();
    for i in 0..n {
        let j = i + rng.below((size - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.truncate(n);
    pool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_seeded_distinct_and_capped() {
        let a = Space::Tss.sample_indices(100, 7);
        let b = Space::Tss.sample_indices(100, 7);
        let c = Space::Tss.sample_indices(100, 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut s = a.clone();
        s.sort();
        s.dedup();
        assert_eq!(s.len(), 100);
        assert!(a.iter().all(|&i| i < TSS_SIZE));
        assert_eq!(Space::Sss.sample_indices(1 << 20, 1).len(), SSS_SIZE);
    }

    #[test]
    fn mutation_changes_one_position_and_stays_in_the_space() {
        let mut rng = SplitMix64::new(5);
        for space in Space::ALL {
            for i in space.sample_indices(200, 3) {
                let a = space.arch(i).unwrap();
                let m = a.mutate(&mut rng);
                assert_eq!(m.space(), space);
                assert_eq!(space.arch(m.index()).unwrap(), m);
                let changed = a
                    .features()
                    .iter()
                    .zip(m.features())
                    .filter(|(x, y)| **x != *y)
                    .count();
                // One one-hot position off and one on (TSS: plus live-graph features); an
                // NB101 edge is one adjacency entry.
                assert!(changed > usize::from(space.index_order()), "{a} -> {m}");
                match (a, m) {
                    (Arch::Tss(x), Arch::Tss(y)) => {
                        assert_eq!(
                            x.ops.iter().zip(y.ops).filter(|(p, q)| **p != *q).count(),
                            1
                        )
                    }
                    (Arch::Sss(x), Arch::Sss(y)) => assert_eq!(
                        x.channels
                            .iter()
                            .zip(y.channels)
                            .filter(|(p, q)| **p != *q)
                            .count(),
                        1
                    ),
                    (Arch::Macro(x), Arch::Macro(y)) => assert_eq!(
                        x.layers
                            .iter()
                            .zip(y.layers)
                            .filter(|(p, q)| **p != *q)
                            .count(),
                        1
                    ),
                    // A cell of its own, or a genotype with one edge's op or input changed.
                    (Arch::Nb101(x), Arch::Nb101(y)) => assert_ne!(x, y),
                    (Arch::Darts(x), Arch::Darts(y)) => {
                        let differ = |p: &darts::DartsCell, q: &darts::DartsCell| {
                            p.edges
                                .iter()
                                .zip(q.edges)
                                .filter(|(e, f)| **e != *f)
                                .count()
                        };
                        let d = (differ(&x.normal, &y.normal), differ(&x.reduce, &y.reduce));
                        assert!(matches!(d, (1..=2, 0) | (0, 1..=2)), "{a} -> {m}");
                    }
                    _ => panic!("{a} -> {m}"),
                }
            }
        }
    }

    #[test]
    fn notation_tells_the_space() {
        assert_eq!(
            Space::of_notation(&Space::Tss.arch(7).unwrap().to_string()),
            Some(Space::Tss)
        );
        assert_eq!(Space::of_notation("8:16:24:32:40"), Some(Space::Sss));
        assert_eq!(Space::of_notation("resnet"), None);
        for space in Space::ALL {
            assert_eq!(space.name().parse::<Space>().unwrap(), space);
        }
        // Blocks of the graph and their widths (the output channels of each block's last conv).
        let blocks = |a: Arch| {
            let g = a.graph(NatsDataset::Cifar10);
            let mut out: Vec<(u32, i64)> = Vec::new();
            for p in g
                .params
                .iter()
                .filter(|p| p.role == crate::graph::ParamRole::ConvWeight)
            {
                if let Some(b) = p.block {
                    match out.last_mut() {
                        Some(l) if l.0 == b => l.1 = p.shape[0],
                        _ => out.push((b, p.shape[0])),
                    }
                }
            }
            out
        };
        let tss = Space::Tss.arch(7).unwrap();
        assert_eq!(blocks(tss).len(), 17);
        let sss = Space::Sss.parse("8:16:24:32:40").unwrap();
        assert_eq!(
            blocks(sss).iter().map(|b| b.1).collect::<Vec<_>>(),
            [8, 16, 24, 32, 40]
        );
        assert!(Space::Tss.has_isomorphs() && !Space::Sss.has_isomorphs());
    }

    #[test]
    fn space_names_parse() {
        assert_eq!("TSS".parse::<Space>().unwrap(), Space::Tss);
        assert_eq!("sss".parse::<Space>().unwrap(), Space::Sss);
        let e = "xyz".parse::<Space>().unwrap_err().to_string();
        assert!(e.contains("unknown search space"), "{e}");
    }
}
