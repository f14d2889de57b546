//! NATS-Bench topology search space (TSS = NAS-Bench-201).
//!
//! A cell has 4 nodes; node `j` sums one op applied to every earlier node `i < j`. The six edges,
//! in the order of the official string, are 0→1, 0→2, 1→2, 0→3, 1→3, 2→3:
//! `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` (Dong & Yang, NAS-Bench-201, ICLR 2020;
//! `xautodl/models/cell_searchs/genotypes.py`, `Structure`).

pub mod counts;
pub mod features;

use super::nats_net::{self, Skeleton};
use super::{shown, Arch, NatsDataset, SearchSpace, Space, SpaceError, MAX_ARCH_BYTES};
use crate::graph::Graph;
use crate::rng::SplitMix64;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// NATS-Bench TSS macro skeleton: C = 16 channels, N = 5 cells per stage.
pub const TSS_C: i64 = 16;
pub const TSS_N: usize = 5;

/// Number of archs in TSS: 5 ops on 6 edges.
pub const TSS_SIZE: usize = 15_625;
/// (from node, to node) of each edge, in arch-string order.
pub const TSS_EDGES: [(usize, usize); 6] = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)];

/// The five candidate ops, numbered in NATS-Bench's own order
/// (`xautodl/models/cell_operations.py`, `NAS_BENCH_201`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// Zero: the edge carries nothing.
    None,
    /// Identity.
    SkipConnect,
    /// ReLU → 1×1 conv → BN.
    NorConv1x1,
    /// ReLU → 3×3 conv → BN.
    NorConv3x3,
    /// 3×3 average pooling (stride 1, padding 1, `count_include_pad=False`).
    AvgPool3x3,
}

impl Op {
    pub const ALL: [Op; 5] = [
        Op::None,
        Op::SkipConnect,
        Op::NorConv1x1,
        Op::NorConv3x3,
        Op::AvgPool3x3,
    ];

    /// Official name as in arch strings.
    pub fn name(self) -> &'static str {
        match self {
            Op::None => "none",
            Op::SkipConnect => "skip_connect",
            Op::NorConv1x1 => "nor_conv_1x1",
            Op::NorConv3x3 => "nor_conv_3x3",
            Op::AvgPool3x3 => "avg_pool_3x3",
        }
    }

    pub fn from_name(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.name() == s)
    }

    /// Position in [`Op::ALL`].
    pub fn code(self) -> usize {
        self as usize
    }

    /// Whether the op is a convolution (carries parameters).
    pub fn is_conv(self) -> bool {
        matches!(self, Op::NorConv1x1 | Op::NorConv3x3)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A TSS arch: the op on each of the six edges, in arch-string order (see [`TSS_EDGES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TssArch {
    pub ops: [Op; 6],
}

/// Official order: `ORDER[index]` is the base-5 code of the arch (see `scripts/gen-tss-order.py`).
static ORDER_BYTES: &[u8; 2 * TSS_SIZE] = include_bytes!("tss_order.bin");

fn order() -> &'static [u16] {
    static ORDER: OnceLock<Vec<u16>> = OnceLock::new();
    ORDER.get_or_init(|| {
        ORDER_BYTES
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect()
    })
}

fn inverse_order() -> &'static [u16] {
    static INV: OnceLock<Vec<u16>> = OnceLock::new();
    INV.get_or_init(|| {
        let mut inv = vec![0u16; TSS_SIZE];
        for (index, &code) in order().iter().enumerate() {
            inv[code as usize] = index as u16;
        }
        inv
    })
}

impl TssArch {
    /// The arch from its base-5 code (first edge most significant).
    pub fn from_code(code: usize) -> TssArch {
        let mut ops = [Op::None; 6];
        let mut c = code;
        for e in (0..6).rev() {
            ops[e] = Op::ALL[c % 5];
            c /= 5;
        }
        TssArch { ops }
    }

    /// Base-5 code (first edge most significant); `0..15625`, lexicographic order.
    pub fn code(&self) -> usize {
        self.ops.iter().fold(0, |c, o| c * 5 + o.code())
    }

    /// The arch at `index` in the official NATS-Bench order.
    pub fn from_index(index: usize) -> Result<TssArch, SpaceError> {
        if index >= TSS_SIZE {
            return Err(SpaceError::IndexOutOfRange {
                space: super::Space::Tss,
                index,
                size: TSS_SIZE,
            });
        }
        Ok(TssArch::from_code(order()[index] as usize))
    }

    /// Index in the official NATS-Bench order.
    pub fn index(&self) -> usize {
        inverse_order()[self.code()] as usize
    }

    /// All archs in official index order.
    pub fn all() -> impl Iterator<Item = TssArch> {
        (0..TSS_SIZE).map(|i| TssArch::from_code(order()[i] as usize))
    }

    /// The op on edge `from → to`.
    pub fn op(&self, from: usize, to: usize) -> Option<Op> {
        TSS_EDGES
            .iter()
            .position(|&e| e == (from, to))
            .map(|k| self.ops[k])
    }

    /// NATS-Bench's isomorphism-class string, `CellStructure.to_unique_str(consider_zero=True)`
    /// (`xautodl/models/cell_searchs/genotypes.py`), reproduced exactly, quirks included: each
    /// node is the sorted, `+`-joined list of its inputs, where `none` (or an input that is
    /// literally `#`) gives `#`, `skip_connect` passes its input's string through, and any other
    /// op gives `(input)@op`. Two archs with the same string compute the same function; the
    /// 15,625 archs fall into 6,466 classes. Note that a node made only of zeros becomes `#+#`, not
    /// `#`, so NATS-Bench does not merge every dead cell into one class; we keep its grouping.
    pub fn unique_str(&self) -> String {
        let mut nodes: Vec<String> = vec!["0".to_string()];
        for to in 1..4 {
            let mut inputs: Vec<String> = (0..to)
                .map(|from| {
                    let op = self.op(from, to).expect("edge exists");
                    let x = &nodes[from];
                    match op {
                        Op::None => "#".to_string(),
                        _ if x == "#" => "#".to_string(),
                        Op::SkipConnect => x.clone(),
                        _ => format!("({x})@{}", op.name()),
                    }
                })
                .collect();
            inputs.sort();
            nodes.push(inputs.join("+"));
        }
        nodes.pop().expect("four nodes")
    }

    /// The official index of the first arch (lowest index) of this arch's isomorphism class
    /// ([`TssArch::unique_str`]): the member that stands for the class when data-dependent
    /// proxies are computed once per class.
    pub fn representative_index(&self) -> usize {
        static REP: OnceLock<Vec<u16>> = OnceLock::new();
        let rep = REP.get_or_init(|| {
            let mut first: std::collections::HashMap<String, u16> = Default::default();
            TssArch::all()
                .enumerate()
                .map(|(i, a)| *first.entry(a.unique_str()).or_insert(i as u16))
                .collect()
        });
        rep[self.index()] as usize
    }

    /// Whether node 3 (the cell output) depends on the input at all, i.e. whether some path
    /// 0 → … → 3 has no `none` edge. A cell without one outputs zeros for any input.
    pub fn output_reachable(&self) -> bool {
        let mut reach = [true, false, false, false];
        for (k, &(from, to)) in TSS_EDGES.iter().enumerate() {
            if reach[from] && self.ops[k] != Op::None {
                reach[to] = true;
            }
        }
        reach[3]
    }
}

impl SearchSpace for TssArch {
    const SPACE: Space = Space::Tss;
    const SIZE: usize = TSS_SIZE;
    const NAMES: &'static [&'static str] = &["tss", "topology", "nb201"];
    const FINAL_HP: &'static str = "200";
    /// Measured: benches/README.md, "Default vector".
    const DEFAULT_PROXIES: &'static [&'static str] = &[
        "params", "flops", "l2_norm", "synflow", "jacov", "epe_nas", "nwot", "meco", "meco_opt",
    ];
    /// Within 0.002 τ of 1 at a quarter of the model size (benches/README.md, "Forest").
    const MIN_SAMPLES_LEAF: usize = 3;
    /// NATS-Bench's 200-epoch test accuracy (mean of the seeds).
    const DEFAULT_LABEL: &'static str = "test_acc hp=200";
    const LABEL_FILE: &'static str = "nats_tss/nats_tss_test_acc_hp200.csv";
    const BENCHMARK: &'static str = "NATS-Bench";
    const HAS_ISOMORPHS: bool = true;

    fn from_index(index: usize) -> Result<Self, SpaceError> {
        TssArch::from_index(index)
    }
    fn index(&self) -> usize {
        TssArch::index(self)
    }
    fn representative(&self) -> Self {
        TssArch::from_index(self.representative_index()).expect("a representative is in range")
    }
    fn output_depends_on_input(&self) -> bool {
        self.output_reachable()
    }
    /// Another op on one of the six edges.
    fn mutate(&self, rng: &mut SplitMix64) -> Self {
        let mut ops = self.ops;
        super::mutate_one(&mut ops, &Op::ALL, rng);
        TssArch { ops }
    }
    fn notation_of(s: &str) -> bool {
        s.starts_with('|')
    }
    fn feature_names() -> &'static [String] {
        features::feature_names()
    }
    fn features(&self) -> Vec<f64> {
        features::features(self)
    }
    fn count_names() -> &'static [&'static str] {
        &counts::COUNT_NAMES
    }
    fn counts(&self) -> Vec<f64> {
        counts::counts(self)
    }
    /// Three stages of [`TSS_N`] cells (16, 32, 64 channels) joined by two reduction blocks.
    fn graph(&self, dataset: NatsDataset) -> Graph {
        let mut layers = vec![(TSS_C, false); TSS_N];
        layers.push((2 * TSS_C, true));
        layers.extend(vec![(2 * TSS_C, false); TSS_N]);
        layers.push((4 * TSS_C, true));
        layers.extend(vec![(4 * TSS_C, false); TSS_N]);
        let skeleton = Skeleton {
            cell: self.ops,
            layers,
            foresight_marks: true,
        };
        nats_net::graph(&skeleton, dataset, self.into_arch().named_counts())
    }
    fn into_arch(self) -> Arch {
        Arch::Tss(self)
    }
}

impl fmt::Display for TssArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.ops;
        write!(
            f,
            "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

impl FromStr for TssArch {
    type Err = SpaceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(SpaceError::Empty);
        }
        if s.len() > MAX_ARCH_BYTES {
            return Err(SpaceError::TooLong(s.len()));
        }
        let bad = |why: String| SpaceError::Tss {
            shown: shown(s),
            why,
        };
        let nodes: Vec<&str> = s.split('+').collect();
        if nodes.len() != 3 {
            return Err(bad(format!(
                "expected 3 nodes joined by '+', found {}",
                nodes.len()
            )));
        }
        let mut ops = Vec::with_capacity(6);
        for (k, node) in nodes.iter().enumerate() {
            let to = k + 1;
            let inner = node
                .strip_prefix('|')
                .and_then(|n| n.strip_suffix('|'))
                .ok_or_else(|| bad(format!("node {to} must be written |op~i|…|")))?;
            let edges: Vec<&str> = inner.split('|').collect();
            if edges.len() != to {
                return Err(bad(format!(
                    "node {to} needs {to} edge(s), found {}",
                    edges.len()
                )));
            }
            for (from, edge) in edges.iter().enumerate() {
                let (name, input) = edge
                    .split_once('~')
                    .ok_or_else(|| bad(format!("edge {edge:?} must be op~input")))?;
                let op = Op::from_name(name).ok_or_else(|| {
                    bad(format!(
                        "unknown op {name:?} (expected one of none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)"
                    ))
                })?;
                if input != from.to_string() {
                    return Err(bad(format!(
                        "edge {} of node {to} must read node {from}, found ~{input}",
                        from + 1
                    )));
                }
                ops.push(op);
            }
        }
        // Nodes come in string order 1, 2, 3 and edges within each in input order, which is
        // exactly TSS_EDGES order.
        Ok(TssArch {
            ops: ops.try_into().expect("six edges checked above"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A0: &str =
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|";

    #[test]
    fn index_zero_is_official() {
        assert_eq!(TssArch::from_index(0).unwrap().to_string(), A0);
        assert_eq!(A0.parse::<TssArch>().unwrap().index(), 0);
    }

    #[test]
    fn round_trips_every_arch() {
        for i in 0..TSS_SIZE {
            let a = TssArch::from_index(i).unwrap();
            let b: TssArch = a.to_string().parse().unwrap();
            assert_eq!(a, b);
            assert_eq!(b.index(), i);
        }
    }

    #[test]
    fn malformed_strings_are_named() {
        let cases = [
            ("", "empty"),
            (
                "|foo~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                "unknown op",
            ),
            ("|none~0|+|none~0|+|none~0|none~1|none~2|", "needs 2 edge"),
            ("|none~0|+|none~0|none~1|", "expected 3 nodes"),
            (
                "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
                "must read node 0",
            ),
            ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "op~input"),
            ("none~0+|none~0|none~1|+|none~0|none~1|none~2|", "|op~i|"),
        ];
        for (s, want) in cases {
            let e = s.parse::<TssArch>().unwrap_err().to_string();
            assert!(e.contains(want), "{s:?}: {e}");
            assert!(!e.contains('\n'));
        }
        let huge = "|".repeat(10 << 20);
        let e = huge.parse::<TssArch>().unwrap_err().to_string();
        assert!(e.contains("too long") && e.len() < 200, "{e}");
        assert!(TssArch::from_index(TSS_SIZE).is_err());
    }

    #[test]
    fn unique_str_examples() {
        let a: TssArch = A0.parse().unwrap();
        assert_eq!(
            a.unique_str(),
            "(0)@avg_pool_3x3+(0)@avg_pool_3x3+(0)@nor_conv_1x1+(0)@nor_conv_1x1"
        );
        let dead: TssArch = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
            .parse()
            .unwrap();
        assert_eq!(dead.unique_str(), "#+#+#");
        assert!(!dead.output_reachable());
    }
}
