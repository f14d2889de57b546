//! One CART regression tree (Breiman, Friedman, Olshen & Stone 1984) grown the way
//! scikit-learn's `DecisionTreeRegressor(criterion="squared_error", splitter="best")` grows the
//! trees of a `RandomForestRegressor` (Breiman 2001):
//!
//! - a split minimises the weighted sum of squared errors of the two children, i.e. maximises the
//!   proxy `S_L²/W_L + S_R²/W_R` (sklearn `MSE.proxy_impurity_improvement`), where `S` is the sum
//!   of `w·y` and `W` the sum of the bootstrap weights `w` on a side;
//! - thresholds lie midway between consecutive *distinct* sorted values (if the midpoint rounds
//!   up to the larger value, the smaller one is used, as in sklearn) and `x <= threshold` goes
//!   left;
//! - at each node the features are drawn in a fresh random order without replacement, and at
//!   least `max_features` are examined, more while all examined ones were constant in the node;
//!   the first strictly best split wins;
//! - a node is a leaf when its depth reached `max_depth` (root depth 0), it has fewer than
//!   `min_samples_split` or `2·min_samples_leaf` distinct rows, all its targets are equal, or no
//!   split leaves `min_samples_leaf` distinct rows on each side.
//!
//! Differences from sklearn, on purpose: features stay `f64` (sklearn casts `X` to `f32`, so
//! values closer than float32 resolution are merged there) and distinct means `!=` rather than
//! "more than 1e-7 apart".
//!
//! Speed: every feature is sorted once per forest; a tree filters those orders down to its
//! in-bag rows (`O(n·p)`), and each split partitions the per-feature sorted lists stably
//! (`O(n_node·p)`), so no node sorts anything. Total `O(n·p·depth)` per tree.
//!
//! Nodes are stored flat in pre-order: an internal node's left child is the next node, its right
//! child is stored as an index. In the model file only the pre-order list of (feature-or-leaf,
//! value) is written; the child indices are rebuilt and checked on load.

use serde::{Deserialize, Serialize};

use crate::rng::SplitMix64;

/// Leaf `feature` of a tree read from a file until [`Tree::set_pad`] sets it.
const UNSET_PAD: u32 = u32::MAX;

/// Rows walked down a tree together in [`Tree::predict_block`] (8 measured best).
const LANES: usize = 8;

/// One node: a split `x[feature] <= value` (left = next node, right = `right`) or, when
/// `right` is the node's own index, a leaf predicting `value`. A leaf's `feature` is `p` (one
/// past the last feature): [`Tree::predict_block`] pads rows with a `+inf` column there, so
/// `+inf <= value` is false and a leaf steps to itself. Walking is then branch-free.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    value: f64,
    feature: u32,
    right: u32,
}

/// A fitted regression tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "TreeWire", try_from = "TreeWire")]
pub struct Tree {
    nodes: Vec<Node>,
}

/// Model-file form of a tree: pre-order `code` (0 = leaf, `f + 1` = split on feature `f`; a
/// postcard varint, one byte below 128 features) and `value` (threshold or leaf prediction).
#[derive(Serialize, Deserialize)]
pub(crate) struct TreeWire {
    code: Vec<u32>,
    value: Vec<f64>,
}

impl From<Tree> for TreeWire {
    fn from(t: Tree) -> Self {
        TreeWire {
            code: t
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    if n.right as usize == i {
                        0
                    } else {
                        n.feature + 1
                    }
                })
                .collect(),
            value: t.nodes.iter().map(|n| n.value).collect(),
        }
    }
}

impl TryFrom<TreeWire> for Tree {
    type Error = String;

    /// Rebuilds right-child indices from the pre-order list and rejects anything that is not
    /// exactly one complete binary tree with finite values.
    fn try_from(w: TreeWire) -> Result<Self, String> {
        if w.code.len() != w.value.len() {
            return Err("tree codes and values differ in length".into());
        }
        if w.code.is_empty() {
            return Err("empty tree".into());
        }
        if w.code.len() > u32::MAX as usize {
            return Err("tree too large".into());
        }
        let mut nodes = Vec::with_capacity(w.code.len());
        // Internal nodes whose left subtree is being read and whose right child is unknown.
        let mut open: Vec<usize> = Vec::new();
        let mut done = false;
        for (i, (&c, &v)) in w.code.iter().zip(&w.value).enumerate() {
            if done {
                return Err(format!("trailing nodes after a complete tree at node {i}"));
            }
            if !v.is_finite() {
                return Err(format!("non-finite value at node {i}"));
            }
            if i > 0 && nodes.last().is_some_and(|n: &Node| n.feature == UNSET_PAD) {
                let parent = open.pop().ok_or("malformed tree")?;
                nodes[parent].right = i as u32;
            }
            if c == 0 {
                nodes.push(Node {
                    value: v,
                    feature: UNSET_PAD,
                    right: i as u32,
                });
                if open.is_empty() {
                    done = true;
                }
            } else {
                if c == UNSET_PAD {
                    return Err(format!("feature code {c} out of range"));
                }
                open.push(i);
                nodes.push(Node {
                    value: v,
                    feature: c - 1,
                    right: 0,
                });
            }
        }
        if !done {
            return Err("incomplete tree".into());
        }
        Ok(Tree { nodes })
    }
}

impl Tree {
    /// The prediction for one row (`row.len()` must exceed every split feature; the forest
    /// checks this).
    #[inline]
    pub fn predict(&self, row: &[f64]) -> f64 {
        let mut i = 0usize;
        loop {
            let n = &self.nodes[i];
            if n.right as usize == i {
                return n.value;
            }
            i = if row[n.feature as usize] <= n.value {
                i + 1
            } else {
                n.right as usize
            };
        }
    }

    /// Predicts every row of `padded`, row-major with `q = p + 1` columns whose last one is
    /// `+inf`, calling `emit(row, value)` (rows in any order). [`LANES`] rows go down the tree
    /// interleaved, one step each in turn, with a branch-free child select, so the CPU overlaps
    /// the node loads of independent rows instead of stalling on one path; a lane that reaches a
    /// leaf takes the next row at once. Measured 2.2× faster than one row at a time (8 lanes
    /// beat 4 and 16). Results equal [`Tree::predict`].
    #[inline]
    pub(crate) fn predict_block(&self, padded: &[f64], q: usize, mut emit: impl FnMut(usize, f64)) {
        let nodes = &self.nodes[..];
        let k = padded.len() / q;
        if k < LANES {
            for r in 0..k {
                emit(r, self.predict(&padded[r * q..(r + 1) * q - 1]));
            }
            return;
        }
        // Lane l walks row `row[l]` at node `idx[l]`; a lane that reaches a leaf emits and takes
        // the next row, so no lane idles while others finish deeper paths.
        let mut row: [usize; LANES] = std::array::from_fn(|l| l);
        let mut idx = [0usize; LANES];
        let mut next = LANES;
        let mut active = LANES;
        while active > 0 {
            for l in 0..LANES {
                let i = idx[l];
                let n = nodes[i];
                if n.right as usize == i {
                    if row[l] < k {
                        emit(row[l], n.value);
                        if next < k {
                            row[l] = next;
                            idx[l] = 0;
                            next += 1;
                            continue;
                        }
                        row[l] = usize::MAX;
                        active -= 1;
                    }
                    continue;
                }
                let x = padded[row[l] * q + n.feature as usize];
                // Branch-free select (a branch would mispredict half the time).
                let left = (x <= n.value) as usize;
                let right = n.right as usize;
                idx[l] = right ^ ((right ^ (i + 1)) & left.wrapping_neg());
            }
        }
    }

    /// Sets leaves' `feature` to the pad column `p` (after reading a file); `p` must exceed
    /// every split feature.
    pub(crate) fn set_pad(&mut self, p: usize) {
        for (i, n) in self.nodes.iter_mut().enumerate() {
            if n.right as usize == i {
                n.feature = p as u32;
            }
        }
    }

    #[inline]
    fn is_leaf(&self, i: usize) -> bool {
        self.nodes[i].right as usize == i
    }

    pub fn n_nodes(&self) -> usize {
        self.nodes.len()
    }

    pub fn n_leaves(&self) -> usize {
        (0..self.nodes.len()).filter(|&i| self.is_leaf(i)).count()
    }

    /// Largest split feature index + 1 (0 for a single leaf).
    pub(crate) fn features_used(&self) -> usize {
        (0..self.nodes.len())
            .filter(|&i| !self.is_leaf(i))
            .map(|i| self.nodes[i].feature as usize + 1)
            .max()
            .unwrap_or(0)
    }

    /// Depth (root alone = 0). Iterative: a file may hold a degenerate, very deep tree.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack = vec![(0usize, 0usize)];
        while let Some((i, d)) = stack.pop() {
            max = max.max(d);
            if !self.is_leaf(i) {
                stack.push((i + 1, d + 1));
                stack.push((self.nodes[i].right as usize, d + 1));
            }
        }
        max
    }
}

/// Training data shared by all trees of a forest: columns and per-feature sort orders.
pub(crate) struct TrainData<'a> {
    /// `cols[f][row]`.
    pub cols: Vec<Vec<f64>>,
    pub y: &'a [f64],
    /// `order[f]`: all rows sorted by `cols[f]` (ties by row), computed once per forest.
    pub order: Vec<Vec<u32>>,
}

impl<'a> TrainData<'a> {
    /// `x` row-major `n × p`, all finite (checked by the caller).
    pub fn new(x: &[f64], n: usize, p: usize, y: &'a [f64]) -> Self {
        let cols: Vec<Vec<f64>> = (0..p)
            .map(|f| (0..n).map(|r| x[r * p + f]).collect())
            .collect();
        let order = cols
            .iter()
            .map(|c| {
                let mut o: Vec<u32> = (0..n as u32).collect();
                o.sort_by(|&a, &b| c[a as usize].total_cmp(&c[b as usize]).then(a.cmp(&b)));
                o
            })
            .collect();
        TrainData { cols, y, order }
    }

    fn n(&self) -> usize {
        self.y.len()
    }

    fn p(&self) -> usize {
        self.cols.len()
    }
}

/// Growth rules of one tree (resolved from `ForestParams`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TreeRules {
    pub max_features: usize,
    pub max_depth: Option<usize>,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    pub bootstrap: bool,
    /// Extremely randomized trees: one random threshold per considered feature.
    pub random_thresholds: bool,
}

/// A row in a feature's sorted list.
#[derive(Clone, Copy)]
struct Entry {
    v: f64,
    r: u32,
}

struct Task {
    start: usize,
    end: usize,
    depth: usize,
    /// Node whose right child this task is, if any.
    right_of: Option<usize>,
    /// Split feature of the parent, to subtract this node's error from its importance.
    parent_feature: Option<usize>,
}

/// Grows one tree with its own random stream. Returns the tree and its unnormalised impurity
/// importances (sum over splits of `SSE(node) − SSE(left) − SSE(right)`, sklearn's
/// `compute_feature_importances` up to a constant factor).
pub(crate) fn fit_tree(data: &TrainData, rules: &TreeRules, seed: u64) -> (Tree, Vec<f64>) {
    let n = data.n();
    let p = data.p();
    let mut rng = SplitMix64::new(seed);

    // Bootstrap weights: n draws with replacement (sklearn `_generate_sample_indices`).
    let mut w = vec![0u32; n];
    if rules.bootstrap {
        for _ in 0..n {
            w[rng.below(n as u64) as usize] += 1;
        }
    } else {
        w.fill(1);
    }
    let wf: Vec<f64> = w.iter().map(|&c| c as f64).collect();
    let wy: Vec<f64> = (0..n).map(|r| wf[r] * data.y[r]).collect();

    // Per-feature sorted lists of the in-bag rows, laid out feature after feature.
    let m = w.iter().filter(|&&c| c > 0).count();
    let mut lists: Vec<Entry> = Vec::with_capacity(m * p);
    for f in 0..p {
        let col = &data.cols[f];
        lists.extend(
            data.order[f]
                .iter()
                .filter(|&&r| w[r as usize] > 0)
                .map(|&r| Entry {
                    v: col[r as usize],
                    r,
                }),
        );
    }
    let mut scratch: Vec<Entry> = Vec::with_capacity(m);
    let mut goes_left = vec![false; n];
    let mut features: Vec<usize> = (0..p).collect();
    let mut importance = vec![0.0; p];
    let mut nodes: Vec<Node> = Vec::new();
    let mut stack = vec![Task {
        start: 0,
        end: m,
        depth: 0,
        right_of: None,
        parent_feature: None,
    }];

    while let Some(task) = stack.pop() {
        let id = nodes.len();
        if let Some(parent) = task.right_of {
            nodes[parent].right = id as u32;
        }
        let (s, e) = (task.start, task.end);
        let count = e - s;
        // Node statistics from any one list (feature 0): weighted sum, mean, SSE.
        let node_rows = &lists[s..e];
        let (mut sw, mut swy) = (0.0, 0.0);
        for en in node_rows {
            sw += wf[en.r as usize];
            swy += wy[en.r as usize];
        }
        let mean = swy / sw;
        let y0 = data.y[node_rows[0].r as usize];
        let mut pure = true;
        let mut sse = 0.0;
        for en in node_rows {
            let yr = data.y[en.r as usize];
            pure &= yr == y0;
            let d = yr - mean;
            sse += wf[en.r as usize] * d * d;
        }
        if let Some(pf) = task.parent_feature {
            importance[pf] -= sse;
        }

        let leaf_by_rule = rules.max_depth.is_some_and(|d| task.depth >= d)
            || count < rules.min_samples_split
            || count < 2 * rules.min_samples_leaf
            || pure;
        let split = if leaf_by_rule {
            None
        } else {
            best_split(
                &lists,
                m,
                s,
                e,
                &wf,
                &wy,
                sw,
                swy,
                rules,
                &mut features,
                &mut rng,
            )
        };
        let Some((f, pos, threshold)) = split else {
            nodes.push(Node {
                value: mean,
                feature: p as u32,
                right: id as u32,
            });
            continue;
        };
        importance[f] += sse;
        nodes.push(Node {
            value: threshold,
            feature: f as u32,
            right: 0,
        });
        // Rows left of the split in feature f's list go left; partition every other list
        // stably so each stays sorted.
        let n_left = pos + 1;
        let fl = &lists[f * m + s..f * m + e];
        for (k, en) in fl.iter().enumerate() {
            goes_left[en.r as usize] = k < n_left;
        }
        for g in (0..p).filter(|&g| g != f) {
            let list = &mut lists[g * m + s..g * m + e];
            scratch.clear();
            let mut k = 0;
            for i in 0..list.len() {
                let en = list[i];
                if goes_left[en.r as usize] {
                    list[k] = en;
                    k += 1;
                } else {
                    scratch.push(en);
                }
            }
            list[k..].copy_from_slice(&scratch);
        }
        stack.push(Task {
            start: s + n_left,
            end: e,
            depth: task.depth + 1,
            right_of: Some(id),
            parent_feature: Some(f),
        });
        stack.push(Task {
            start: s,
            end: s + n_left,
            depth: task.depth + 1,
            right_of: None,
            parent_feature: Some(f),
        });
    }
    (Tree { nodes }, importance)
}

/// The best split of rows `s..e` (positions within each feature's list): `(feature, last left
/// position relative to s, threshold)`, or `None` when no feature allows a valid split.
#[allow(clippy::too_many_arguments)]
fn best_split(
    lists: &[Entry],
    m: usize,
    s: usize,
    e: usize,
    wf: &[f64],
    wy: &[f64],
    sw: f64,
    swy: f64,
    rules: &TreeRules,
    features: &mut [usize],
    rng: &mut SplitMix64,
) -> Option<(usize, usize, f64)> {
    let p = features.len();
    let count = e - s;
    let msl = rules.min_samples_leaf;
    let mut best: Option<(usize, usize)> = None;
    let mut best_proxy = f64::NEG_INFINITY;
    let mut best_threshold: Option<f64> = None;
    let mut visited = 0;
    let mut found_nonconstant = false;
    let mut k = 0;
    while k < p && (visited < rules.max_features || !found_nonconstant) {
        let j = k + rng.below((p - k) as u64) as usize;
        features.swap(k, j);
        let f = features[k];
        k += 1;
        visited += 1;
        let list = &lists[f * m + s..f * m + e];
        if list[0].v == list[count - 1].v {
            continue;
        }
        found_nonconstant = true;
        if rules.random_thresholds {
            // Geurts et al. 2006: a threshold uniform in [min, max) of the node's values; the
            // rows at or below it go left. A draw that leaves fewer than min_samples_leaf rows
            // on a side makes no split for this feature (as sklearn's random splitter).
            let (lo, hi) = (list[0].v, list[count - 1].v);
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let mut t = lo + u * (hi - lo);
            if !(t >= lo && t < hi) {
                t = lo;
            }
            let n_left = list.partition_point(|en| en.v <= t);
            if n_left < msl.max(1) || count - n_left < msl.max(1) {
                continue;
            }
            let (mut wl, mut sl) = (0.0, 0.0);
            for en in &list[..n_left] {
                wl += wf[en.r as usize];
                sl += wy[en.r as usize];
            }
            let (wr, sr) = (sw - wl, swy - sl);
            let proxy = sl * sl / wl + sr * sr / wr;
            if proxy > best_proxy {
                best_proxy = proxy;
                best = Some((f, n_left - 1));
                best_threshold = Some(t);
            }
            continue;
        }
        let (mut wl, mut sl) = (0.0, 0.0);
        // Positions i with i + 1 >= msl (left size) and count - i - 1 >= msl (right size).
        let last = count - msl; // exclusive bound on i + 1
        for i in 0..last {
            let en = list[i];
            wl += wf[en.r as usize];
            sl += wy[en.r as usize];
            if i + 1 < msl || list[i + 1].v == en.v {
                continue;
            }
            let wr = sw - wl;
            let sr = swy - sl;
            let proxy = sl * sl / wl + sr * sr / wr;
            if proxy > best_proxy {
                best_proxy = proxy;
                best = Some((f, i));
                best_threshold = None;
            }
        }
    }
    if let (Some((f, i)), Some(t)) = (best, best_threshold) {
        return Some((f, i, t));
    }
    best.map(|(f, i)| {
        let list = &lists[f * m + s..f * m + e];
        let (a, b) = (list[i].v, list[i + 1].v);
        let mut t = (a + b) / 2.0;
        if !t.is_finite() {
            t = a / 2.0 + b / 2.0;
        }
        if t >= b || t < a {
            t = a;
        }
        (f, i, t)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> TreeRules {
        TreeRules {
            max_features: 1,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            bootstrap: false,
            random_thresholds: false,
        }
    }

    #[test]
    fn fits_a_step_exactly_with_midpoint_threshold() {
        let x = [1.0, 2.0, 3.0, 10.0, 11.0, 12.0];
        let y = [5.0, 5.0, 5.0, 9.0, 9.0, 9.0];
        let d = TrainData::new(&x, 6, 1, &y);
        let (t, imp) = fit_tree(&d, &rules(), 1);
        assert_eq!(t.n_nodes(), 3);
        assert_eq!(t.nodes[0].value, 6.5);
        assert_eq!(t.predict(&[6.5]), 5.0);
        assert_eq!(t.predict(&[6.6]), 9.0);
        assert!(imp[0] > 0.0);
    }

    #[test]
    fn min_samples_leaf_and_max_depth_hold() {
        let n = 200;
        let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let y: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64).collect();
        let d = TrainData::new(&x, n, 1, &y);
        let r = TreeRules {
            min_samples_leaf: 7,
            ..rules()
        };
        let (t, _) = fit_tree(&d, &r, 3);
        let mut counts = std::collections::HashMap::new();
        for xi in &x {
            // leaves are identified by their node index
            let mut i = 0;
            while !t.is_leaf(i) {
                i = if *xi <= t.nodes[i].value {
                    i + 1
                } else {
                    t.nodes[i].right as usize
                };
            }
            *counts.entry(i).or_insert(0) += 1;
        }
        assert!(counts.values().all(|&c| c >= 7), "{counts:?}");
        let r = TreeRules {
            max_depth: Some(3),
            ..rules()
        };
        let (t, _) = fit_tree(&d, &r, 3);
        assert_eq!(t.depth(), 3);
        assert!(t.n_leaves() <= 8);
    }

    #[test]
    fn wire_round_trip_and_rejects_malformed() {
        let x: Vec<f64> = (0..50).map(|i| (i * 7 % 13) as f64).collect();
        let y: Vec<f64> = (0..50).map(|i| (i % 5) as f64).collect();
        let d = TrainData::new(&x, 25, 2, &y[..25]);
        let (t, _) = fit_tree(&d, &rules(), 9);
        let bytes = postcard::to_stdvec(&t).unwrap();
        let mut back: Tree = postcard::from_bytes(&bytes).unwrap();
        back.set_pad(2);
        assert_eq!(back, t);
        let bad = TreeWire {
            code: vec![1, 0],
            value: vec![0.0, 1.0],
        };
        assert!(Tree::try_from(bad).is_err());
        let bad = TreeWire {
            code: vec![0, 0],
            value: vec![0.0, 1.0],
        };
        assert!(Tree::try_from(bad).is_err());
    }
}
