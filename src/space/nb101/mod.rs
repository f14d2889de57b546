//! NAS-Bench-101 (Ying et al., "NAS-Bench-101: Towards Reproducible Neural Architecture
//! Search", ICML 2019; `google-research/nasbench`): a cell of at most 7 vertices and 9 edges,
//! each interior vertex a 3×3 conv, a 1×1 conv or a 3×3 max-pool, stacked 9 times; 423,624
//! unique cells up to isomorphism, each trained on CIFAR-10.
//!
//! **Notation.** A cell is written as the data file writes it: the upper-triangular adjacency
//! matrix, rows joined by `/`, then `;`, then one op per vertex joined by `|`
//! (`0110/0001/0001/0000;input|conv3x3-bn-relu|maxpool3x3|output`). NASLib's 56-number tuple
//! (the 7×7 matrix row by row, then op codes 0 input, 1 output, 2 maxpool3x3, 3 conv1x1,
//! 4 conv3x3) is read too. As in NAS-Bench-101's `ModelSpec`, a cell is first pruned of the
//! vertices not on a path from input to output; it is valid when the pruned cell keeps input
//! and output connected, has at most 9 edges, and the matrix is upper-triangular (a DAG in
//! vertex order). The pruned cell is the arch.
//!
//! **Identity.** NAS-Bench-101 names a cell by its module hash ([`Nb101Arch::module_hash`]),
//! which isomorphic cells share. Isomorphic cells need not build the same network, though:
//! the output channels are split among the vertices feeding the output in vertex order, so a
//! relabelling can move the wider share (PROVENANCE §13). The arch here is therefore the cell
//! as written, and its index is the cell packed into 34 bits (vertex count − 2 in bits 0–2,
//! the upper triangle row by row from bit 3, two bits per interior op from bit 24): a name,
//! not a position. The space has no index order to enumerate: cells are listed (the labelled
//! cells of the data file) or drawn at random.
//!
//! **The network** (the paper and its reference code `model_builder.py`; its parameter count
//! equals the benchmark's `params` for all 30,001 labelled cells, `tests/nb101.rs`): stem conv
//! 3×3 3→128, BN, ReLU; three stacks of three cells, a 2×2 max-pool (stride 2) before the
//! second and third stacks, whose first cell doubles the channels (128, 256, 512); global
//! average pooling; linear 512→10. No conv has a bias; every BN is affine. Inside a cell of
//! `c_in → c_out` channels ([`vertex_channels`]): the interior vertices feeding the output
//! share `c_out` (`c_out / k` each, one more for the first `c_out mod k`), another interior
//! vertex takes the largest width of the interior vertices it feeds; the input reaches a
//! vertex through a 1×1 conv + BN + ReLU projection to its width; a vertex sums its interior
//! inputs cut to its width (first channels) and the projected input, then applies its op
//! (keeping the width); the output concatenates its interior inputs and adds a projection of
//! the input when the input feeds it.

pub mod features;
pub mod hash;

use super::{shown, Arch, NatsDataset, SearchSpace, Space, SpaceError};
use crate::graph::{Graph, GraphBuilder, NodeOp};
use crate::rng::SplitMix64;
use std::fmt;
use std::str::FromStr;

/// Most vertices of a cell (input and output included).
pub const NB101_MAX_VERTICES: usize = 7;
/// Most edges of a cell.
pub const NB101_MAX_EDGES: usize = 9;
/// Unique cells up to isomorphism (the paper, section 2.3).
pub const NB101_SIZE: usize = 423_624;
/// The stem's width in the benchmark's network.
pub const NB101_STEM: i64 = 128;
const STACKS: usize = 3;
const CELLS_PER_STACK: usize = 3;

/// The op of an interior vertex, numbered as NAS-Bench-101's canonical op list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Nb101Op {
    Conv3x3,
    Conv1x1,
    MaxPool3x3,
}

impl Nb101Op {
    pub const ALL: [Nb101Op; 3] = [Nb101Op::Conv3x3, Nb101Op::Conv1x1, Nb101Op::MaxPool3x3];

    /// The benchmark's name (`conv3x3-bn-relu`).
    pub fn name(self) -> &'static str {
        match self {
            Nb101Op::Conv3x3 => "conv3x3-bn-relu",
            Nb101Op::Conv1x1 => "conv1x1-bn-relu",
            Nb101Op::MaxPool3x3 => "maxpool3x3",
        }
    }

    /// Short name (feature columns).
    pub fn short(self) -> &'static str {
        match self {
            Nb101Op::Conv3x3 => "conv3x3",
            Nb101Op::Conv1x1 => "conv1x1",
            Nb101Op::MaxPool3x3 => "maxpool",
        }
    }
}

/// A NAS-Bench-101 cell, pruned of dead vertices and valid (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nb101Arch {
    n: u8,
    /// Row `i`: bit `j` set when the edge `i → j` exists (`i < j`).
    rows: [u8; NB101_MAX_VERTICES],
    /// Ops of vertices `1..n − 1`; the unused tail is `Conv3x3`.
    ops: [Nb101Op; NB101_MAX_VERTICES - 2],
}

impl Nb101Arch {
    /// Validates and prunes a cell given as an adjacency matrix and interior ops (input and
    /// output excluded). `why` names the first fault.
    pub fn new(matrix: &[Vec<bool>], interior: &[Nb101Op]) -> Result<Nb101Arch, String> {
        let n = matrix.len();
        if !(2..=NB101_MAX_VERTICES).contains(&n) {
            return Err(format!(
                "{n} vertices: a cell has 2 to {NB101_MAX_VERTICES} (input and output included)"
            ));
        }
        if let Some(r) = matrix.iter().position(|r| r.len() != n) {
            return Err(format!(
                "row {} has {} entries, the matrix has {n} rows",
                r + 1,
                matrix[r].len()
            ));
        }
        if interior.len() != n - 2 {
            return Err(format!(
                "{} interior ops for {n} vertices (one op per vertex, input and output included)",
                interior.len()
            ));
        }
        for (i, row) in matrix.iter().enumerate() {
            if let Some(j) = (0..=i).find(|&j| row[j]) {
                return Err(format!(
                    "edge {i} → {j} goes backwards: the matrix must be strictly upper-triangular \
                     (vertices in topological order, no cycle)"
                ));
            }
        }
        // Keep the vertices both reachable from the input and reaching the output
        // (NAS-Bench-101's `ModelSpec._prune`).
        let reach = |from: usize, forward: bool| {
            let mut seen = vec![false; n];
            let mut stack = vec![from];
            seen[from] = true;
            while let Some(v) = stack.pop() {
                for w in 0..n {
                    let e = if forward { matrix[v][w] } else { matrix[w][v] };
                    if e && !seen[w] {
                        seen[w] = true;
                        stack.push(w);
                    }
                }
            }
            seen
        };
        let (fwd, bwd) = (reach(0, true), reach(n - 1, false));
        if !fwd[n - 1] {
            return Err("no path from the input to the output".to_string());
        }
        let keep: Vec<usize> = (0..n).filter(|&v| fwd[v] && bwd[v]).collect();
        let m = keep.len();
        let mut cell = Nb101Arch {
            n: m as u8,
            rows: [0; NB101_MAX_VERTICES],
            ops: [Nb101Op::Conv3x3; NB101_MAX_VERTICES - 2],
        };
        for (a, &i) in keep.iter().enumerate() {
            for (b, &j) in keep.iter().enumerate() {
                if matrix[i][j] {
                    cell.rows[a] |= 1 << b;
                }
            }
            if a > 0 && a < m - 1 {
                cell.ops[a - 1] = interior[i - 1];
            }
        }
        let edges = cell.edges();
        if edges > NB101_MAX_EDGES {
            return Err(format!(
                "{edges} edges{}: a cell has at most {NB101_MAX_EDGES}",
                if m < n { " after pruning" } else { "" }
            ));
        }
        Ok(cell)
    }

    /// Number of vertices, input and output included.
    pub fn vertices(&self) -> usize {
        self.n as usize
    }

    /// Whether the edge `a → b` exists.
    pub fn edge(&self, a: usize, b: usize) -> bool {
        self.rows[a] >> b & 1 == 1
    }

    /// Number of edges.
    pub fn edges(&self) -> usize {
        self.rows.iter().map(|r| r.count_ones() as usize).sum()
    }

    /// The op of interior vertex `v` (`1 ≤ v < n − 1`).
    pub fn op(&self, v: usize) -> Nb101Op {
        self.ops[v - 1]
    }

    /// The interior ops in vertex order.
    pub fn interior_ops(&self) -> &[Nb101Op] {
        &self.ops[..self.vertices() - 2]
    }

    /// NAS-Bench-101's module hash (32 hex digits), shared by isomorphic cells.
    pub fn module_hash(&self) -> String {
        hash::module_hash(self)
    }

    /// The cell packed into 34 bits (module doc).
    pub fn index(&self) -> usize {
        let n = self.vertices();
        let mut code = n - 2;
        for (k, (i, j)) in upper_pairs().enumerate() {
            if j < n && self.edge(i, j) {
                code |= 1 << (3 + k);
            }
        }
        for (k, &op) in self.interior_ops().iter().enumerate() {
            code |= (op as usize) << (24 + 2 * k);
        }
        code
    }

    /// The cell whose packing is `index`; an index that packs no valid pruned cell is refused.
    pub fn from_index(index: usize) -> Result<Nb101Arch, SpaceError> {
        let bad = |why: String| SpaceError::Malformed {
            space: Space::Nb101,
            shown: index.to_string(),
            why,
        };
        if index >> 34 != 0 {
            return Err(bad("an nb101 index is a 34-bit cell packing".into()));
        }
        let n = (index & 7) + 2;
        if n > NB101_MAX_VERTICES {
            return Err(bad("its vertex count is above 7".into()));
        }
        let mut matrix = vec![vec![false; n]; n];
        for (k, (i, j)) in upper_pairs().enumerate() {
            if index >> (3 + k) & 1 == 1 {
                if j >= n {
                    return Err(bad(format!("it has an edge to vertex {j} of {n}")));
                }
                matrix[i][j] = true;
            }
        }
        let mut ops = Vec::new();
        for k in 0..NB101_MAX_VERTICES - 2 {
            let code = index >> (24 + 2 * k) & 3;
            if k >= n - 2 {
                if code != 0 {
                    return Err(bad(format!("it sets an op for absent vertex {}", k + 1)));
                }
                continue;
            }
            ops.push(
                *Nb101Op::ALL
                    .get(code)
                    .ok_or_else(|| bad("op code 3".into()))?,
            );
        }
        let cell = Nb101Arch::new(&matrix, &ops).map_err(bad)?;
        if cell.index() != index {
            return Err(bad("it packs a cell with dead vertices".into()));
        }
        Ok(cell)
    }

    /// A random valid cell as NASLib and NAS-Bench-101's examples draw one: each upper-triangular
    /// entry of a 7×7 matrix an edge with probability ½, each interior op uniform, redrawn until
    /// the cell is valid; then pruned.
    pub fn random(rng: &mut SplitMix64) -> Nb101Arch {
        let n = NB101_MAX_VERTICES;
        loop {
            let mut matrix = vec![vec![false; n]; n];
            for (i, row) in matrix.iter_mut().enumerate() {
                for e in row.iter_mut().skip(i + 1) {
                    *e = rng.below(2) == 1;
                }
            }
            let ops: Vec<Nb101Op> = (0..n - 2)
                .map(|_| Nb101Op::ALL[rng.below(3) as usize])
                .collect();
            if let Ok(cell) = Nb101Arch::new(&matrix, &ops) {
                return cell;
            }
        }
    }

    fn matrix(&self) -> Vec<Vec<bool>> {
        let n = self.vertices();
        (0..n)
            .map(|i| (0..n).map(|j| self.edge(i, j)).collect())
            .collect()
    }

    /// The network graph with a stem of `stem` channels (the benchmark's is [`NB101_STEM`];
    /// narrower copies keep the cell and scale every width by `stem / 128`).
    pub fn graph_with_stem(&self, dataset: NatsDataset, stem: i64) -> Graph {
        let size = dataset.input_size();
        let mut b = GraphBuilder::new(3, size, dataset.num_classes());
        let x = b.conv(GraphBuilder::INPUT, "stem.0", 3, stem, 3, 1, 1, 1);
        let x = b.bn(x, "stem.1", stem, true);
        let x = b.relu(x, "stem.2");
        let mut x = b.mark(x, "stem");
        let mut channels = stem;
        let mut c_in = stem;
        for s in 0..STACKS {
            if s > 0 {
                let pool = NodeOp::MaxPool {
                    kernel: 2,
                    stride: 2,
                    padding: 0,
                };
                x = b.node(pool, vec![x], format!("downsample.{s}"));
                channels *= 2;
            }
            for m in 0..CELLS_PER_STACK {
                let k = s * CELLS_PER_STACK + m;
                b.set_block(Some(k as u32));
                x = b.segment(|b| self.lay_cell(b, x, &format!("cells.{k}"), c_in, channels));
                x = b.mark(x, "cell");
                c_in = channels;
            }
        }
        b.set_block(None);
        let (pooled, _) = b.classifier(x, "classifier", channels);
        b.mark(pooled, "root");
        b.finish(self.into_arch().named_counts())
    }

    fn lay_cell(&self, b: &mut GraphBuilder, x: usize, name: &str, c_in: i64, c_out: i64) -> usize {
        let n = self.vertices();
        let width = vertex_channels(self, c_in, c_out);
        let project = |b: &mut GraphBuilder, to: i64, at: &str| {
            let y = b.conv(x, &format!("{at}.proj.0"), c_in, to, 1, 1, 0, 1);
            let y = b.bn(y, &format!("{at}.proj.1"), to, true);
            b.relu(y, &format!("{at}.proj.2"))
        };
        let mut value = vec![x; n];
        let mut concat = Vec::new();
        for t in 1..n - 1 {
            let at = format!("{name}.vertex{t}");
            let w = width[t];
            let mut sum: Vec<usize> = (1..t)
                .filter(|&src| self.edge(src, t))
                .map(|src| {
                    if width[src] > w {
                        b.node(
                            NodeOp::Narrow { start: 0, len: w },
                            vec![value[src]],
                            format!("{at}.truncate{src}"),
                        )
                    } else {
                        value[src]
                    }
                })
                .collect();
            if self.edge(0, t) {
                sum.push(project(b, w, &at));
            }
            let y = b.add(sum, &format!("{at}.sum"));
            value[t] = match self.op(t) {
                Nb101Op::MaxPool3x3 => b.node(
                    NodeOp::MaxPool {
                        kernel: 3,
                        stride: 1,
                        padding: 1,
                    },
                    vec![y],
                    format!("{at}.op"),
                ),
                op => {
                    let k = if op == Nb101Op::Conv3x3 { 3 } else { 1 };
                    let y = b.conv(y, &format!("{at}.op.0"), w, w, k, 1, k / 2, 1);
                    let y = b.bn(y, &format!("{at}.op.1"), w, true);
                    b.relu(y, &format!("{at}.op.2"))
                }
            };
            if self.edge(t, n - 1) {
                concat.push(value[t]);
            }
        }
        let out = match concat.len() {
            0 => None,
            1 => Some(concat[0]),
            _ => Some(b.node(NodeOp::Concat, concat, format!("{name}.concat"))),
        };
        let input = self
            .edge(0, n - 1)
            .then(|| project(b, c_out, &format!("{name}.output")));
        match (out, input) {
            (Some(o), Some(i)) => b.add(vec![o, i], &format!("{name}.output.sum")),
            (Some(o), None) => o,
            (None, Some(i)) => i,
            (None, None) => unreachable!("a valid cell connects input and output"),
        }
    }
}

/// The upper-triangle positions `(i, j)`, `i < j`, of a 7×7 matrix, row by row.
fn upper_pairs() -> impl Iterator<Item = (usize, usize)> {
    (0..NB101_MAX_VERTICES).flat_map(|i| (i + 1..NB101_MAX_VERTICES).map(move |j| (i, j)))
}

/// The width of each vertex of `cell` in a cell of `c_in → c_out` channels (the module doc;
/// NAS-Bench-101's `compute_vertex_channels`).
pub fn vertex_channels(cell: &Nb101Arch, c_in: i64, c_out: i64) -> Vec<i64> {
    let n = cell.vertices();
    let mut w = vec![0i64; n];
    w[0] = c_in;
    w[n - 1] = c_out;
    if n == 2 {
        return w;
    }
    let k = (1..n - 1).filter(|&v| cell.edge(v, n - 1)).count() as i64;
    if k > 0 {
        let (share, mut extra) = (c_out / k, c_out % k);
        for (v, wv) in w.iter_mut().enumerate().take(n - 1).skip(1) {
            if cell.edge(v, n - 1) {
                *wv = share + i64::from(extra > 0);
                extra -= i64::from(extra > 0);
            }
        }
    }
    for v in (1..n - 1).rev() {
        if !cell.edge(v, n - 1) {
            w[v] = (v + 1..n - 1)
                .filter(|&d| cell.edge(v, d))
                .map(|d| w[d])
                .max()
                .unwrap_or(0);
        }
    }
    w
}

impl SearchSpace for Nb101Arch {
    const SPACE: Space = Space::Nb101;
    const SIZE: usize = NB101_SIZE;
    const NAMES: &'static [&'static str] = &["nb101", "nas-bench-101", "nasbench101"];
    /// The benchmark's final budget: 108 epochs.
    const FINAL_HP: &'static str = "108";
    const DATASETS: &'static [NatsDataset] = &[NatsDataset::Cifar10];
    /// Measured on 200 labelled cells at `--stem 16` (benches/README.md, "NB101 default
    /// vector"): the proxies with |τ| ≥ 0.24 at ≤ 0.15 CPU-s per cell. meco rather than
    /// meco_opt, which is undefined on the narrow copy's maps of fewer than 8 channels (a
    /// quarter of the cells); nwot (0.28 at 0.09 s), zen (0.37 at 0.21 s) and the gradient
    /// family (negative τ, 0.13 s) were left out to keep the 30,001 cells within one session.
    const DEFAULT_PROXIES: &'static [&'static str] =
        &["params", "flops", "l2_norm", "synflow", "meco", "zico"];
    const MIN_SAMPLES_LEAF: usize = 1;
    /// One run's validation accuracy after 108 epochs (PROVENANCE §13).
    const DEFAULT_LABEL: &'static str = "valid_acc hp=108";
    const LABEL_FILE: &'static str = "nasbench101/nb101_valid_acc_30k.csv";
    const BENCHMARK: &'static str = "NAS-Bench-101";
    /// Isomorphic cells share a module hash but not always a network (module doc).
    const HAS_ISOMORPHS: bool = false;
    const INDEX_ORDER: bool = false;

    fn from_index(index: usize) -> Result<Self, SpaceError> {
        Nb101Arch::from_index(index)
    }
    fn index(&self) -> usize {
        Nb101Arch::index(self)
    }
    fn random(rng: &mut SplitMix64) -> Self {
        Nb101Arch::random(rng)
    }
    /// One edge flipped or one interior op changed, redrawn until the cell is valid (NASLib's
    /// NB101 mutation changes edges and ops with probability 1/n each; one change at a time
    /// keeps a neighbour a neighbour).
    fn mutate(&self, rng: &mut SplitMix64) -> Self {
        let n = NB101_MAX_VERTICES;
        // Work on the cell padded to 7 vertices (the output moved last), so that pruned
        // vertices can come back.
        let m = self.vertices();
        let place = |v: usize| if v == m - 1 { n - 1 } else { v };
        let mut matrix = vec![vec![false; n]; n];
        let mut ops = vec![Nb101Op::Conv3x3; n - 2];
        for i in 0..m {
            for j in 0..m {
                matrix[place(i)][place(j)] = self.edge(i, j);
            }
            if i > 0 && i < m - 1 {
                ops[i - 1] = self.op(i);
            }
        }
        // A cell may have no valid neighbour one change away (the 2-vertex cell: a new vertex
        // needs two edges), so after 64 misses two changes are made at a time, and so on.
        for attempt in 0usize.. {
            let (mut mm, mut oo) = (matrix.clone(), ops.clone());
            let pairs = n * (n - 1) / 2;
            for _ in 0..1 + attempt / 64 {
                let pick = rng.below((pairs + n - 2) as u64) as usize;
                if pick < pairs {
                    let (mut i, mut k) = (0, pick);
                    while k >= n - 1 - i {
                        k -= n - 1 - i;
                        i += 1;
                    }
                    let j = i + 1 + k;
                    mm[i][j] = !mm[i][j];
                } else {
                    let v = pick - pairs;
                    let others: Vec<Nb101Op> =
                        Nb101Op::ALL.into_iter().filter(|&o| o != oo[v]).collect();
                    oo[v] = others[rng.below(2) as usize];
                }
            }
            if let Ok(c) = Nb101Arch::new(&mm, &oo) {
                if c != *self {
                    return c;
                }
            }
        }
        unreachable!("the attempts are unbounded")
    }
    fn notation_of(s: &str) -> bool {
        s.contains(';') || (s.starts_with('(') && s.matches(',').count() == 55)
    }
    fn feature_names() -> &'static [String] {
        features::feature_names()
    }
    fn features(&self) -> Vec<f64> {
        features::features(self)
    }
    fn count_names() -> &'static [&'static str] {
        &features::COUNT_NAMES
    }
    fn counts(&self) -> Vec<f64> {
        features::counts(self)
    }
    fn graph(&self, dataset: NatsDataset) -> Graph {
        self.graph_with_stem(dataset, NB101_STEM)
    }
    fn graph_scaled(&self, dataset: NatsDataset, stem: i64) -> Option<Graph> {
        Some(self.graph_with_stem(dataset, stem))
    }
    const BENCHMARK_KEY: Option<&'static str> = Some("module_hash");
    fn benchmark_key(&self) -> Option<String> {
        Some(self.module_hash())
    }
    fn into_arch(self) -> Arch {
        Arch::Nb101(self)
    }
}

impl fmt::Display for Nb101Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<String> = self
            .matrix()
            .iter()
            .map(|r| r.iter().map(|&e| if e { '1' } else { '0' }).collect())
            .collect();
        let mut ops = vec!["input"];
        ops.extend(self.interior_ops().iter().map(|o| o.name()));
        ops.push("output");
        write!(f, "{};{}", rows.join("/"), ops.join("|"))
    }
}

impl FromStr for Nb101Arch {
    type Err = SpaceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = |why: String| SpaceError::Malformed {
            space: Space::Nb101,
            shown: shown(s),
            why,
        };
        if t.is_empty() {
            return Err(SpaceError::Empty);
        }
        if t.starts_with('(') {
            return parse_tuple(t).map_err(bad);
        }
        let (m, o) = t.split_once(';').ok_or_else(|| {
            bad("expected MATRIX;OPS (rows of 0/1 joined by '/', ops joined by '|')".into())
        })?;
        let mut matrix = Vec::new();
        for (r, row) in m.split('/').enumerate() {
            let mut bits = Vec::new();
            for c in row.trim().chars() {
                bits.push(match c {
                    '0' => false,
                    '1' => true,
                    _ => return Err(bad(format!("row {} has {c:?}: entries are 0 or 1", r + 1))),
                });
            }
            matrix.push(bits);
        }
        let names: Vec<&str> = o.split('|').map(str::trim).collect();
        if names.len() != matrix.len() {
            return Err(bad(format!(
                "{} ops for {} matrix rows (one op per vertex)",
                names.len(),
                matrix.len()
            )));
        }
        if names.len() < 2 || names[0] != "input" || names[names.len() - 1] != "output" {
            return Err(bad("the first op is input and the last output".into()));
        }
        let mut interior = Vec::new();
        for name in &names[1..names.len() - 1] {
            interior.push(
                Nb101Op::ALL
                    .into_iter()
                    .find(|op| op.name() == *name)
                    .ok_or_else(|| {
                        bad(format!(
                            "unknown op {}: conv3x3-bn-relu, conv1x1-bn-relu or maxpool3x3",
                            shown(name)
                        ))
                    })?,
            );
        }
        Nb101Arch::new(&matrix, &interior).map_err(bad)
    }
}

/// NASLib's 56-number form: the 7×7 matrix row by row, then 7 op codes.
fn parse_tuple(t: &str) -> Result<Nb101Arch, String> {
    let inner = t
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or("a tuple is written (a, b, …)")?;
    let v: Vec<u8> = inner
        .split(',')
        .map(|x| x.trim().parse::<u8>())
        .collect::<Result<_, _>>()
        .map_err(|_| "the tuple holds small integers".to_string())?;
    let n = NB101_MAX_VERTICES;
    if v.len() != n * n + n {
        return Err(format!(
            "{} numbers: NASLib's tuple has 56 (7×7 matrix, 7 ops)",
            v.len()
        ));
    }
    if v[..n * n].iter().any(|&x| x > 1) {
        return Err("matrix entries are 0 or 1".into());
    }
    let matrix: Vec<Vec<bool>> = v[..n * n]
        .chunks(n)
        .map(|r| r.iter().map(|&x| x == 1).collect())
        .collect();
    let codes = &v[n * n..];
    if codes[0] != 0 || codes[n - 1] != 1 {
        return Err("op codes start with 0 (input) and end with 1 (output)".into());
    }
    let interior = codes[1..n - 1]
        .iter()
        .map(|&c| match c {
            2 => Ok(Nb101Op::MaxPool3x3),
            3 => Ok(Nb101Op::Conv1x1),
            4 => Ok(Nb101Op::Conv3x3),
            _ => Err(format!(
                "interior op code {c}: 2 maxpool3x3, 3 conv1x1, 4 conv3x3"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Nb101Arch::new(&matrix, &interior)
}

#[cfg(test)]
mod tests;
