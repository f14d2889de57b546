//! The network graph: the layers of a network and their wiring as data. Every search space
//! builds one from its arch ([`crate::space::Arch::graph`]); `net` initialises and runs it, counts
//! its parameters and FLOPs, and every proxy reads it. Nothing here knows a space.
//!
//! ```text
//!  value 0 = input [N, C, H, W]
//!     │
//!  Node { op: Conv{..}, inputs: [0], name: "stem.0", segment: None }     ─► value 1
//!  Node { op: BatchNorm{..}, inputs: [1], … }                            ─► value 2
//!     ├─► Node { op: Relu, inputs: [2], segment: Some(0) } ─► Conv ─► BatchNorm ─┐  edge 0
//!     ├─► Node { op: Zero, inputs: [2], segment: Some(1) } ───────────────────────┤  edge 1
//!  Node { op: Add, inputs: [5, 6] }  ◄────────────────────────────────────────────┘
//!     ⋮
//!  Node { op: GlobalAvgPool } ─► Node { op: Linear{..} } = graph.output (logits)
//! ```
//!
//! * Nodes are in execution order; node `i` produces value `i + 1`. The forward runs them in
//!   that order, so the order of the taps (and of every floating-point operation) is the order
//!   in which the space laid the nodes out.
//! * Parameters belong to the graph ([`Param`]): their shape, PyTorch's default initialisation,
//!   their role (conv/linear weight, BN affine, bias) and the searched block they belong to
//!   (`cell_sum`, MeCo's choices read blocks and roles, never parameter names).
//! * [`NodeOp::Mark`] is an identity that marks the output of a module of the reference model
//!   (a `Sequential`, a cell, a residual block): MeCo hooks every module output, so a space that
//!   reproduces a reference lays out the same marks.
//! * A *segment* is a run of consecutive nodes that realises one searched choice (a cell edge,
//!   a Macro layer): it reads one value from before it and its last node is its output. The
//!   grouped forward of many archs runs each segment once per group of archs with the same
//!   choice.

use std::fmt;

/// How a parameter is initialised (PyTorch's defaults for each layer type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// `kaiming_uniform_(a=√5)` of Conv2d/Linear weights: U(−1/√fan_in, 1/√fan_in). Linear
    /// biases use the same bound.
    Uniform {
        fan_in: i64,
    },
    Ones,
    Zeros,
}

/// What a parameter is to its layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamRole {
    ConvWeight,
    LinearWeight,
    LinearBias,
    BnWeight,
    BnBias,
}

impl ParamRole {
    /// Conv and linear weights: the "layers" over which the zero-cost references sum per-layer
    /// metrics (`get_layer_metric_array` keeps `nn.Conv2d` and `nn.Linear`).
    pub fn is_layer_weight(self) -> bool {
        matches!(self, ParamRole::ConvWeight | ParamRole::LinearWeight)
    }
}

/// One parameter tensor of the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// `{node}.weight` / `{node}.bias` of the node that owns it.
    pub name: String,
    pub shape: Vec<i64>,
    pub init: Init,
    pub role: ParamRole,
    /// The searched block (cell, layer) it belongs to; `None` for stem and head.
    pub block: Option<u32>,
}

impl Param {
    pub fn numel(&self) -> i64 {
        self.shape.iter().product()
    }
}

/// A 2-d convolution without bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv {
    /// The weight `[c_out, c_in / groups, k, k]` in [`Graph::params`].
    pub weight: usize,
    pub c_in: i64,
    pub c_out: i64,
    pub kernel: i64,
    pub stride: i64,
    pub padding: i64,
    pub dilation: i64,
    pub groups: i64,
}

/// What a node computes from its inputs.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeOp {
    Conv(Conv),
    /// Batch normalisation over `channels`; `affine` holds the (weight, bias) parameters.
    BatchNorm {
        channels: i64,
        affine: Option<(usize, usize)>,
    },
    Relu,
    MaxPool {
        kernel: i64,
        stride: i64,
        padding: i64,
    },
    AvgPool {
        kernel: i64,
        stride: i64,
        padding: i64,
        count_include_pad: bool,
    },
    /// The sum of the inputs, left to right.
    Add,
    /// The inputs side by side along the channels.
    Concat,
    /// Channels `[start, start + len)`.
    Narrow {
        start: i64,
        len: i64,
    },
    /// The map without its first `top` rows and `left` columns (`x[:, :, top:, left:]`, the
    /// shifted half of DARTS's factorized reduce).
    Crop {
        top: i64,
        left: i64,
    },
    /// `x · 0` (kept as a multiplication: NaN/inf propagate as in the references).
    Zero,
    /// Global average pooling, flattened to `[N, C]`.
    GlobalAvgPool,
    /// `x Wᵀ + b`.
    Linear {
        weight: usize,
        bias: Option<usize>,
        features_in: i64,
        features_out: i64,
    },
    /// Identity marking the output of a module of the reference model (its kind label).
    Mark(String),
}

impl NodeOp {
    /// The op without its parameter positions: equal for the same layer of two archs.
    fn shape_key(&self) -> NodeOp {
        match self {
            NodeOp::Conv(c) => NodeOp::Conv(Conv { weight: 0, ..*c }),
            NodeOp::BatchNorm { channels, affine } => NodeOp::BatchNorm {
                channels: *channels,
                affine: affine.map(|_| (0, 0)),
            },
            NodeOp::Linear {
                bias,
                features_in,
                features_out,
                ..
            } => NodeOp::Linear {
                weight: 0,
                bias: bias.map(|_| 0),
                features_in: *features_in,
                features_out: *features_out,
            },
            op => op.clone(),
        }
    }
}

/// One node: an op on earlier values.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub op: NodeOp,
    /// Value ids: 0 is the network input, `i + 1` the output of node `i`.
    pub inputs: Vec<usize>,
    /// The module path (taps carry it; parameters are `{name}.weight`, `{name}.bias`).
    pub name: String,
    /// The searched choice this node realises part of (see the module doc).
    pub segment: Option<u32>,
}

/// A network as data.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// Input channels, height, width.
    pub input: [i64; 3],
    pub classes: i64,
    pub params: Vec<Param>,
    pub nodes: Vec<Node>,
    /// The value holding the logits.
    pub output: usize,
    /// Static numbers of the arch the space computed (its structural counts), by name: the
    /// engine writes them as proxies.
    pub counts: Vec<(String, f64)>,
}

/// Why a graph is not a well-formed network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("network graph, node {node} ({name}): {why}")]
pub struct GraphError {
    pub node: usize,
    pub name: String,
    pub why: String,
}

/// The shape of a value: `[C, H, W]` of a feature map or `[F, 1, 1]` of a flat vector.
pub type Shape = [i64; 3];

fn out_size(hw: i64, k: i64, s: i64, p: i64, d: i64) -> i64 {
    (hw + 2 * p - d * (k - 1) - 1) / s + 1
}

impl Graph {
    /// The shape of every value (input first), checking that each node's inputs fit its op.
    pub fn shapes(&self) -> Result<Vec<Shape>, GraphError> {
        let mut shapes: Vec<Shape> = Vec::with_capacity(self.nodes.len() + 1);
        shapes.push(self.input);
        for (i, node) in self.nodes.iter().enumerate() {
            let err = |why: String| GraphError {
                node: i,
                name: node.name.clone(),
                why,
            };
            let ins: Vec<Shape> = node
                .inputs
                .iter()
                .map(|&v| {
                    shapes
                        .get(v)
                        .copied()
                        .ok_or_else(|| err(format!("reads value {v}, not computed yet")))
                })
                .collect::<Result<_, _>>()?;
            let one = || {
                ins.first()
                    .copied()
                    .ok_or_else(|| err("has no input".into()))
            };
            let s = match &node.op {
                NodeOp::Conv(c) => {
                    let [ch, h, w] = one()?;
                    if ch != c.c_in || c.c_in % c.groups != 0 || c.c_out % c.groups != 0 {
                        return Err(err(format!(
                            "conv {}→{} (groups {}) on {ch} channels",
                            c.c_in, c.c_out, c.groups
                        )));
                    }
                    let o = |x| out_size(x, c.kernel, c.stride, c.padding, c.dilation);
                    [c.c_out, o(h), o(w)]
                }
                NodeOp::BatchNorm { channels, .. } => {
                    let s = one()?;
                    if s[0] != *channels {
                        return Err(err(format!("BN of {channels} on {} channels", s[0])));
                    }
                    s
                }
                NodeOp::Relu | NodeOp::Zero | NodeOp::Mark(_) => one()?,
                NodeOp::MaxPool {
                    kernel,
                    stride,
                    padding,
                }
                | NodeOp::AvgPool {
                    kernel,
                    stride,
                    padding,
                    ..
                } => {
                    let [c, h, w] = one()?;
                    let o = |x| out_size(x, *kernel, *stride, *padding, 1);
                    [c, o(h), o(w)]
                }
                NodeOp::Add => {
                    let s = one()?;
                    if ins.iter().any(|t| *t != s) {
                        return Err(err(format!("adds values of shapes {ins:?}")));
                    }
                    s
                }
                NodeOp::Concat => {
                    let [_, h, w] = one()?;
                    if ins.iter().any(|t| t[1] != h || t[2] != w) {
                        return Err(err(format!("concatenates maps of shapes {ins:?}")));
                    }
                    [ins.iter().map(|t| t[0]).sum(), h, w]
                }
                NodeOp::Narrow { start, len } => {
                    let [c, h, w] = one()?;
                    if start + len > c {
                        return Err(err(format!("channels {start}..{} of {c}", start + len)));
                    }
                    [*len, h, w]
                }
                NodeOp::Crop { top, left } => {
                    let [c, h, w] = one()?;
                    if *top < 0 || *left < 0 || *top >= h || *left >= w {
                        return Err(err(format!("crop {top},{left} of a {h}×{w} map")));
                    }
                    [c, h - top, w - left]
                }
                NodeOp::GlobalAvgPool => [one()?[0], 1, 1],
                NodeOp::Linear {
                    features_in,
                    features_out,
                    ..
                } => {
                    let s = one()?;
                    if s != [*features_in, 1, 1] {
                        return Err(err(format!("linear of {features_in} on {s:?}")));
                    }
                    [*features_out, 1, 1]
                }
            };
            shapes.push(s);
        }
        Ok(shapes)
    }

    /// Number of parameters (scalars): every weight, bias and BN affine parameter, running
    /// statistics excluded (PyTorch's `sum(p.numel() for p in model.parameters())`).
    pub fn param_count(&self) -> u64 {
        self.params.iter().map(|p| p.numel() as u64).sum()
    }

    /// Multiply-accumulates of one forward pass on one image: per conv
    /// `k²·C_in/groups·C_out·H_out·W_out`, per linear `in·out` (+ `out` with a bias); pooling,
    /// BN, ReLU and additions are not counted (xautodl's `get_model_infos`, which NATS-Bench
    /// reports; NAS-Bench-Macro counts the same way, checked on all its archs).
    pub fn flop_count(&self) -> Result<u64, GraphError> {
        Ok(self.flops_of(&self.shapes()?))
    }

    /// [`Graph::flop_count`] with the value shapes already inferred.
    pub fn flops_of(&self, shapes: &[Shape]) -> u64 {
        (0..self.nodes.len())
            .map(|i| self.node_flops(i, shapes))
            .sum()
    }

    /// Multiply-accumulates of node `i` ([`Graph::flop_count`]'s rule), `shapes` from
    /// [`Graph::shapes`].
    pub fn node_flops(&self, i: usize, shapes: &[Shape]) -> u64 {
        match &self.nodes[i].op {
            NodeOp::Conv(c) => {
                let [_, h, w] = shapes[i + 1];
                (c.kernel * c.kernel * c.c_in / c.groups * c.c_out * h * w) as u64
            }
            NodeOp::Linear {
                bias,
                features_in,
                features_out,
                ..
            } => (features_in * features_out + bias.map_or(0, |_| *features_out)) as u64,
            _ => 0,
        }
    }

    /// The searched block of node `i`: that of its weight (`None` for a node without one).
    pub fn node_block(&self, i: usize) -> Option<u32> {
        match &self.nodes[i].op {
            NodeOp::Conv(c) => self.params[c.weight].block,
            NodeOp::Linear { weight, .. } => self.params[*weight].block,
            NodeOp::BatchNorm {
                affine: Some((w, _)),
                ..
            } => self.params[*w].block,
            _ => None,
        }
    }

    /// Positions of the conv and linear weights ([`ParamRole::is_layer_weight`]), in order.
    pub fn layer_weights(&self) -> Vec<usize> {
        (0..self.params.len())
            .filter(|&i| self.params[i].role.is_layer_weight())
            .collect()
    }

    /// The static count `name`, when the space computed it.
    pub fn count(&self, name: &str) -> Option<f64> {
        self.counts.iter().find(|c| c.0 == name).map(|c| c.1)
    }

    /// The graph's items for the grouped forward: single nodes outside segments and runs of
    /// nodes of one segment, as node ranges.
    pub fn items(&self) -> Vec<std::ops::Range<usize>> {
        let mut out: Vec<std::ops::Range<usize>> = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            match out.last_mut() {
                Some(r)
                    if node.segment.is_some() && self.nodes[r.start].segment == node.segment =>
                {
                    r.end = i + 1
                }
                _ => out.push(i..i + 1),
            }
        }
        out
    }

    /// The ops of `range` without parameter positions, inputs relative to the range's start
    /// (inputs before it as `None`): two archs whose segments have equal keys compute the same
    /// function of the segment's input up to their weights.
    pub fn segment_key(&self, range: std::ops::Range<usize>) -> Vec<(NodeOp, Vec<Option<usize>>)> {
        let start = range.start;
        self.nodes[range]
            .iter()
            .map(|n| {
                let ins = n
                    .inputs
                    .iter()
                    .map(|&v| (v > start).then(|| v - start - 1))
                    .collect();
                (n.op.shape_key(), ins)
            })
            .collect()
    }
}

impl fmt::Display for Graph {
    /// One line per node: `value = op(inputs)  name`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "input: {:?}, classes: {}", self.input, self.classes)?;
        for (i, n) in self.nodes.iter().enumerate() {
            writeln!(f, "%{} = {:?}{:?}  {}", i + 1, n.op, n.inputs, n.name)?;
        }
        write!(f, "output: %{}", self.output)
    }
}

/// Lays a graph out node by node: the helpers spaces compose their networks from.
#[derive(Debug)]
pub struct GraphBuilder {
    graph: Graph,
    block: Option<u32>,
    segment: Option<u32>,
    segments: u32,
}

impl GraphBuilder {
    /// An empty graph on inputs of `[channels, size, size]`.
    pub fn new(channels: i64, size: i64, classes: i64) -> GraphBuilder {
        GraphBuilder {
            graph: Graph {
                input: [channels, size, size],
                classes,
                params: Vec::new(),
                nodes: Vec::new(),
                output: 0,
                counts: Vec::new(),
            },
            block: None,
            segment: None,
            segments: 0,
        }
    }

    /// The value of the network input.
    pub const INPUT: usize = 0;

    /// Nodes and parameters laid out from now on belong to searched block `block`.
    pub fn set_block(&mut self, block: Option<u32>) {
        self.block = block;
    }

    /// Nodes laid out by `f` form one segment (one searched choice).
    pub fn segment<T>(&mut self, f: impl FnOnce(&mut GraphBuilder) -> T) -> T {
        let saved = self.segment.replace(self.segments);
        self.segments += 1;
        let out = f(self);
        self.segment = saved;
        out
    }

    fn param(&mut self, name: String, shape: Vec<i64>, init: Init, role: ParamRole) -> usize {
        self.graph.params.push(Param {
            name,
            shape,
            init,
            role,
            block: self.block,
        });
        self.graph.params.len() - 1
    }

    /// Appends a node; returns its value.
    pub fn node(&mut self, op: NodeOp, inputs: Vec<usize>, name: impl Into<String>) -> usize {
        self.graph.nodes.push(Node {
            op,
            inputs,
            name: name.into(),
            segment: self.segment,
        });
        self.graph.nodes.len()
    }

    /// A conv without bias named `name` (weight `{name}.weight`).
    #[allow(clippy::too_many_arguments)]
    pub fn conv(
        &mut self,
        x: usize,
        name: &str,
        c_in: i64,
        c_out: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
        groups: i64,
    ) -> usize {
        self.conv_dilated(x, name, c_in, c_out, kernel, stride, padding, 1, groups)
    }

    /// [`GraphBuilder::conv`] with its kernel dilated by `dilation`.
    #[allow(clippy::too_many_arguments)]
    pub fn conv_dilated(
        &mut self,
        x: usize,
        name: &str,
        c_in: i64,
        c_out: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
        dilation: i64,
        groups: i64,
    ) -> usize {
        let weight = self.param(
            format!("{name}.weight"),
            vec![c_out, c_in / groups, kernel, kernel],
            Init::Uniform {
                fan_in: c_in / groups * kernel * kernel,
            },
            ParamRole::ConvWeight,
        );
        let op = NodeOp::Conv(Conv {
            weight,
            c_in,
            c_out,
            kernel,
            stride,
            padding,
            dilation,
            groups,
        });
        self.node(op, vec![x], name)
    }

    /// Batch normalisation named `name`, with affine parameters `{name}.weight`/`.bias` when
    /// `affine`.
    pub fn bn(&mut self, x: usize, name: &str, channels: i64, affine: bool) -> usize {
        let affine = affine.then(|| {
            let w = self.param(
                format!("{name}.weight"),
                vec![channels],
                Init::Ones,
                ParamRole::BnWeight,
            );
            let b = self.param(
                format!("{name}.bias"),
                vec![channels],
                Init::Zeros,
                ParamRole::BnBias,
            );
            (w, b)
        });
        self.node(NodeOp::BatchNorm { channels, affine }, vec![x], name)
    }

    /// ReLU; `name` is what the ReLU-input tap carries.
    pub fn relu(&mut self, x: usize, name: &str) -> usize {
        self.node(NodeOp::Relu, vec![x], name)
    }

    /// A module-output mark (see [`NodeOp::Mark`]).
    pub fn mark(&mut self, x: usize, label: &str) -> usize {
        self.node(NodeOp::Mark(label.to_string()), vec![x], label)
    }

    /// The sum of `xs` left to right (the value itself when there is one).
    pub fn add(&mut self, xs: Vec<usize>, name: &str) -> usize {
        if xs.len() == 1 {
            return xs[0];
        }
        self.node(NodeOp::Add, xs, name)
    }

    /// Global average pooling then a linear classifier with bias, named `name`; the logits
    /// become the graph's output. Returns (pooled, logits).
    pub fn classifier(&mut self, x: usize, name: &str, features: i64) -> (usize, usize) {
        let pooled = self.node(NodeOp::GlobalAvgPool, vec![x], "global_pooling");
        let classes = self.graph.classes;
        let bound = Init::Uniform { fan_in: features };
        let weight = self.param(
            format!("{name}.weight"),
            vec![classes, features],
            bound,
            ParamRole::LinearWeight,
        );
        let bias = self.param(
            format!("{name}.bias"),
            vec![classes],
            bound,
            ParamRole::LinearBias,
        );
        let logits = self.node(
            NodeOp::Linear {
                weight,
                bias: Some(bias),
                features_in: features,
                features_out: classes,
            },
            vec![pooled],
            name,
        );
        self.graph.output = logits;
        (pooled, logits)
    }

    /// The graph with the space's static counts.
    pub fn finish(mut self, counts: Vec<(String, f64)>) -> Graph {
        self.graph.counts = counts;
        self.graph
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_counts_and_errors() {
        let mut b = GraphBuilder::new(3, 8, 10);
        let x = b.conv(GraphBuilder::INPUT, "c", 3, 6, 3, 2, 1, 1);
        let x = b.bn(x, "bn", 6, true);
        let y = b.conv(x, "dw", 6, 6, 3, 1, 1, 6);
        let z = b.add(vec![x, y], "sum");
        b.classifier(z, "fc", 6);
        let g = b.finish(vec![("k".into(), 2.0)]);
        let s = g.shapes().unwrap();
        assert_eq!(s[1], [6, 4, 4]);
        assert_eq!(s[g.output], [10, 1, 1]);
        // 3·3·3·6 + 12 + 3·3·1·6 + 6·10 + 10
        assert_eq!(g.param_count(), 162 + 12 + 54 + 70);
        // 27·6·16 + 9·6·16 + 60 + 10
        assert_eq!(g.flop_count().unwrap(), 2592 + 864 + 70);
        assert_eq!(g.layer_weights(), vec![0, 3, 4]);
        assert_eq!(g.count("k"), Some(2.0));
        let mut bad = g.clone();
        bad.nodes[2].inputs = vec![0];
        let e = bad.shapes().unwrap_err().to_string();
        assert!(
            e.contains("node 2 (dw)") && e.contains("on 3 channels"),
            "{e}"
        );
    }
}
