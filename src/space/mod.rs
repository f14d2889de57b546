//! The two NATS-Bench search spaces: arch types, parsing, formatting, official index order,
//! canonical (isomorphism) form, enumeration and seeded sampling.
//!
//! * [`TssArch`] — the topology space (NAS-Bench-201): a 4-node cell whose 6 edges each carry one
//!   of 5 ops, 15,625 archs.
//! * [`SssArch`] — the size space: 5 channel counts in {8, 16, …, 64}, 32,768 archs.
//!
//! Both parse from and format to the official NATS-Bench strings; [`Arch`] holds either.

pub mod counts;
mod dataset;
pub mod features;
mod sss;
mod tss;

pub use dataset::NatsDataset;
pub use sss::{SssArch, SSS_CHANNELS, SSS_LAYERS, SSS_SIZE};
pub use tss::{Op, TssArch, TSS_EDGES, TSS_SIZE};

use crate::rng::SplitMix64;
use std::fmt;
use std::str::FromStr;

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
    #[error("unknown search space {0:?} (expected tss or sss)")]
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

/// A NATS-Bench search space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Space {
    /// Topology search space (NAS-Bench-201 cells), 15,625 archs.
    Tss,
    /// Size search space (channel configurations), 32,768 archs.
    Sss,
}

impl Space {
    /// Number of archs in the space.
    pub fn size(self) -> usize {
        match self {
            Space::Tss => TSS_SIZE,
            Space::Sss => SSS_SIZE,
        }
    }

    /// Lower-case name as used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Space::Tss => "tss",
            Space::Sss => "sss",
        }
    }

    /// The NATS-Bench `hp` of the final training runs: "200" (TSS, 200 epochs), "90" (SSS).
    pub fn final_hp(self) -> &'static str {
        match self {
            Space::Tss => "200",
            Space::Sss => "90",
        }
    }

    /// The arch at `index` in the official NATS-Bench order.
    pub fn arch(self, index: usize) -> Result<Arch, SpaceError> {
        Ok(match self {
            Space::Tss => Arch::Tss(TssArch::from_index(index)?),
            Space::Sss => Arch::Sss(SssArch::from_index(index)?),
        })
    }

    /// Parses an arch string of this space.
    pub fn parse(self, s: &str) -> Result<Arch, SpaceError> {
        Ok(match self {
            Space::Tss => Arch::Tss(s.parse()?),
            Space::Sss => Arch::Sss(s.parse()?),
        })
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
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
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

    /// An official index or an arch string of this space.
    pub fn parse_arch_or_index(self, s: &str) -> Result<Arch, SpaceError> {
        match s.trim().parse::<usize>() {
            Ok(i) => self.arch(i),
            Err(_) => self.parse(s),
        }
    }

    /// `n` distinct arch indices drawn uniformly without replacement with `seed`, in draw order.
    /// The same `(n, seed)` always gives the same indices; `n` is capped at the space size.
    pub fn sample_indices(self, n: usize, seed: u64) -> Vec<usize> {
        sample_without_replacement(self.size(), n, seed)
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
        match s.to_ascii_lowercase().as_str() {
            "tss" | "topology" | "nb201" => Ok(Space::Tss),
            "sss" | "size" => Ok(Space::Sss),
            _ => Err(SpaceError::UnknownSpace(s.chars().take(40).collect())),
        }
    }
}

/// An arch of either space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    Tss(TssArch),
    Sss(SssArch),
}

impl Arch {
    pub fn space(&self) -> Space {
        match self {
            Arch::Tss(_) => Space::Tss,
            Arch::Sss(_) => Space::Sss,
        }
    }

    /// Index in the official NATS-Bench order.
    pub fn index(&self) -> usize {
        match self {
            Arch::Tss(a) => a.index(),
            Arch::Sss(a) => a.index(),
        }
    }

    /// The arch that stands for this arch's isomorphism class: for TSS the class member with
    /// the lowest official index ([`TssArch::representative_index`]; isomorphic cells compute
    /// the same function), for SSS the arch itself (every configuration is its own class).
    pub fn representative(&self) -> Arch {
        match self {
            Arch::Tss(a) => Arch::Tss(
                TssArch::from_index(a.representative_index())
                    .expect("a representative is in range"),
            ),
            Arch::Sss(_) => *self,
        }
    }

    /// Whether the network's output depends on its input. A TSS cell in which no path from the
    /// input to the output avoids `none` outputs zeros for every input, so the whole network
    /// (five such cells per stage) maps every image to the same logits; SSS cells always do.
    pub fn output_depends_on_input(&self) -> bool {
        match self {
            Arch::Tss(a) => a.output_reachable(),
            Arch::Sss(_) => true,
        }
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
        match self {
            Arch::Tss(a) => a.fmt(f),
            Arch::Sss(a) => a.fmt(f),
        }
    }
}

/// Partial Fisher–Yates over `0..size`: the first `n` positions of a seeded shuffle.
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
    fn space_names_parse() {
        assert_eq!("TSS".parse::<Space>().unwrap(), Space::Tss);
        assert_eq!("sss".parse::<Space>().unwrap(), Space::Sss);
        let e = "xyz".parse::<Space>().unwrap_err().to_string();
        assert!(e.contains("unknown search space"), "{e}");
    }
}
