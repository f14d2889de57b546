//! The forward pass, with optional taps on the activations that proxies read.

use super::build::{BnMode, Network, NetworkError, Weights};
use crate::graph::{Conv, Graph, Node, NodeOp};
use tch::Tensor;

/// Where an activation was tapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TapKind {
    /// The input of every `nn.ReLU` module that runs, in execution order (NASWOT's hook point).
    ReluInput,
    /// The output of every Conv2d (before BN), in execution order (fisher's hook point).
    ConvOutput,
    /// The classifier's output (fisher also hooks `nn.Linear`).
    LinearOutput,
    /// The final feature map after BN+ReLU, before global average pooling (Zen-NAS).
    PreGap,
    /// The pooled feature vector fed to the classifier.
    Pooled,
    /// The input of every BN layer that runs (BN train/eval only), in execution order (Zen-NAS
    /// reads the batch variance that updates the running variance). `module` is the BN's path.
    BnInput,
    /// The output of every xautodl `nn.Module` call, in the order PyTorch forward hooks fire
    /// (children before their parent): conv, BN, ReLU, `op` Sequential, ReLUConvBN, Zero,
    /// Identity, AvgPool, POOLING, FactorizedReduce, cells, ResNet blocks and their
    /// `downsample` Sequential, stem, lastact, global pooling, classifier and the root (whose
    /// output is xautodl's first return value, the pooled features). MeCo's hook point.
    /// `module` is a kind label (`conv`, `bn`, `relu`, `seq`, `rcb`, `zero`, `identity`,
    /// `avgpool`, `pooling`, `freduce`, `cell{block}`, `res`, `downsample`, `stem`, `lastact`,
    /// `gap`, `classifier`, `root`).
    ModuleOutput,
}

/// One tapped activation. `module` is the xautodl module path of the layer (e.g.
/// `cells.3.layers.1.op.1`) — weights and activations share these names.
#[derive(Debug)]
pub struct Tap {
    pub kind: TapKind,
    pub module: String,
    pub tensor: Tensor,
}

/// Which activations a forward pass records, and what it recorded.
#[derive(Debug, Default)]
pub struct Taps {
    want: Vec<TapKind>,
    pub taps: Vec<Tap>,
}

impl Taps {
    pub fn new(want: &[TapKind]) -> Taps {
        Taps {
            want: want.to_vec(),
            taps: Vec::new(),
        }
    }

    fn wants(&self, k: TapKind) -> bool {
        self.want.contains(&k)
    }

    fn push(&mut self, kind: TapKind, module: impl FnOnce() -> String, t: &Tensor) {
        if self.wants(kind) {
            self.taps.push(Tap {
                kind,
                module: module(),
                tensor: t.shallow_clone(),
            });
        }
    }

    /// The tapped tensors of one kind, in execution order.
    pub fn of(&self, kind: TapKind) -> impl Iterator<Item = &Tap> {
        self.taps.iter().filter(move |t| t.kind == kind)
    }
}

/// Options of one forward pass.
#[derive(Debug, Clone, Copy)]
pub struct ForwardOptions {
    pub bn: BnMode,
}

impl Default for ForwardOptions {
    fn default() -> Self {
        ForwardOptions { bn: BnMode::Train }
    }
}

const BN_EPS: f64 = 1e-5;

struct Ctx<'a> {
    w: &'a [Tensor],
    bn: BnMode,
    taps: Option<&'a mut Taps>,
}

impl Ctx<'_> {
    fn tap(&mut self, kind: TapKind, module: impl FnOnce() -> String, t: &Tensor) {
        if let Some(taps) = self.taps.as_deref_mut() {
            taps.push(kind, module, t);
        }
    }

    fn module(&mut self, label: &str, t: &Tensor) {
        self.tap(TapKind::ModuleOutput, || label.to_string(), t);
    }

    fn bn(
        &mut self,
        name: &str,
        affine: Option<(usize, usize)>,
        x: &Tensor,
    ) -> Result<Tensor, NetworkError> {
        if self.bn == BnMode::Off {
            return Ok(x.shallow_clone());
        }
        self.tap(TapKind::BnInput, || name.to_string(), x);
        let (w, b) = match affine {
            Some((w, b)) => (Some(&self.w[w]), Some(&self.w[b])),
            None => (None, None),
        };
        let y = match self.bn {
            BnMode::Off => unreachable!("returned above"),
            BnMode::Train => batch_norm_train(x, w, b)?,
            BnMode::Eval => {
                let c = x.size()[1];
                let mean = Tensor::f_zeros([c], (x.kind(), x.device()))?;
                let var = Tensor::f_ones([c], (x.kind(), x.device()))?;
                x.f_batch_norm(w, b, Some(&mean), Some(&var), false, 0.1, BN_EPS, true)?
            }
        };
        self.module("bn", &y);
        Ok(y)
    }

    /// One node on its input values.
    fn node(&mut self, node: &Node, ins: &[&Tensor]) -> Result<Tensor, NetworkError> {
        if let Some(y) = channelwise(&node.op, ins)? {
            let label = match node.op {
                NodeOp::MaxPool { .. } => Some("maxpool"),
                NodeOp::AvgPool { .. } => Some("avgpool"),
                NodeOp::Zero => Some("zero"),
                _ => None,
            };
            if let Some(label) = label {
                self.module(label, &y);
            }
            return Ok(y);
        }
        let x = ins[0];
        Ok(match &node.op {
            NodeOp::Conv(c) => {
                let y = conv2d(x, &self.w[c.weight], c, c.groups)?;
                self.tap(TapKind::ConvOutput, || node.name.clone(), &y);
                self.module("conv", &y);
                y
            }
            NodeOp::BatchNorm { affine, .. } => self.bn(&node.name, *affine, x)?,
            NodeOp::Relu => {
                self.tap(TapKind::ReluInput, || node.name.clone(), x);
                let y = x.f_relu()?;
                self.module("relu", &y);
                y
            }
            NodeOp::Concat => Tensor::f_cat(ins, 1)?,
            NodeOp::Narrow { start, len } => x.f_narrow(1, *start, *len)?,
            NodeOp::GlobalAvgPool => {
                self.tap(TapKind::PreGap, || node.name.clone(), x);
                let gap = x.f_adaptive_avg_pool2d([1, 1])?;
                self.module("gap", &gap);
                let pooled = gap.f_flatten(1, -1)?;
                self.tap(TapKind::Pooled, || node.name.clone(), &pooled);
                pooled
            }
            NodeOp::Linear { weight, bias, .. } => {
                let y = x.f_linear(&self.w[*weight], bias.map(|b| &self.w[b]))?;
                self.tap(TapKind::LinearOutput, || node.name.clone(), &y);
                self.module(&node.name, &y);
                y
            }
            NodeOp::Mark(label) => {
                self.module(label, x);
                x.shallow_clone()
            }
            NodeOp::MaxPool { .. }
            | NodeOp::AvgPool { .. }
            | NodeOp::Add
            | NodeOp::Zero
            | NodeOp::Crop { .. } => {
                unreachable!("computed by channelwise")
            }
        })
    }
}

/// `c` on `x` with weight `w` in `groups` groups (the grouped forward runs K archs' convs as
/// one with `K · c.groups`).
pub(super) fn conv2d(
    x: &Tensor,
    w: &Tensor,
    c: &Conv,
    groups: i64,
) -> Result<Tensor, tch::TchError> {
    x.f_conv2d(
        w,
        None::<Tensor>,
        [c.stride, c.stride],
        [c.padding, c.padding],
        [c.dilation, c.dilation],
        groups,
    )
}

/// Batch normalisation in training mode (batch statistics, running statistics not kept), as
/// every zero-cost proxy reference runs it (`net.train()`), PyTorch's ε.
pub(super) fn batch_norm_train(
    x: &Tensor,
    w: Option<&Tensor>,
    b: Option<&Tensor>,
) -> Result<Tensor, tch::TchError> {
    x.f_batch_norm(
        w,
        b,
        None::<&Tensor>,
        None::<&Tensor>,
        true,
        0.1,
        BN_EPS,
        true,
    )
}

/// The ops that treat every channel alike (pools, sums, the zero op) on their inputs, `None`
/// for any other op: the grouped forward applies them to K archs' side-by-side channels as
/// they are.
pub(super) fn channelwise(op: &NodeOp, ins: &[&Tensor]) -> Result<Option<Tensor>, tch::TchError> {
    let x = ins[0];
    Ok(Some(match op {
        NodeOp::MaxPool {
            kernel,
            stride,
            padding,
        } => x.f_max_pool2d(
            [*kernel, *kernel],
            [*stride, *stride],
            [*padding, *padding],
            [1, 1],
            false,
        )?,
        NodeOp::AvgPool {
            kernel,
            stride,
            padding,
            count_include_pad,
        } => x.f_avg_pool2d(
            [*kernel, *kernel],
            [*stride, *stride],
            [*padding, *padding],
            false,
            *count_include_pad,
            None::<i64>,
        )?,
        NodeOp::Add => {
            let mut acc = x.shallow_clone();
            for y in &ins[1..] {
                acc = acc.f_add(y)?;
            }
            acc
        }
        // Kept as a multiplication: NaN/inf propagate as in the references.
        NodeOp::Zero => x.f_mul_scalar(0.0)?,
        NodeOp::Crop { top, left } => {
            let (h, w) = (x.size()[2], x.size()[3]);
            x.f_narrow(2, *top, h - top)?.f_narrow(3, *left, w - left)?
        }
        _ => return Ok(None),
    }))
}

/// For each value, the last node that reads it (so that a value is dropped once used).
fn last_uses(graph: &Graph) -> Vec<usize> {
    let mut last = vec![0; graph.nodes.len() + 1];
    for (i, n) in graph.nodes.iter().enumerate() {
        for &v in &n.inputs {
            last[v] = i;
        }
    }
    last
}

impl Network {
    /// Checks that `x` is a batch `[N, C, H, W]` of this network's input.
    pub(crate) fn check_input(&self, x: &Tensor) -> Result<(), NetworkError> {
        let shape = x.size();
        let expected = self.graph.input;
        if shape.len() != 4 || shape[1..] != expected {
            return Err(NetworkError::InputShape {
                got: shape,
                expected,
            });
        }
        Ok(())
    }

    /// Runs the network on `x` (`[N, C, H, W]`, same kind and device as the weights) and
    /// returns the logits `[N, classes]`. When `taps` is given, the activations it asks for
    /// are recorded (they stay in the autograd graph, so gradients w.r.t. them can be taken).
    pub fn forward(
        &self,
        weights: &Weights,
        x: &Tensor,
        opts: ForwardOptions,
        taps: Option<&mut Taps>,
    ) -> Result<Tensor, NetworkError> {
        self.check_input(x)?;
        let graph = &self.graph;
        let mut cx = Ctx {
            w: &weights.tensors,
            bn: opts.bn,
            taps,
        };
        let last = last_uses(graph);
        let mut values: Vec<Option<Tensor>> = Vec::with_capacity(graph.nodes.len() + 1);
        values.push(Some(x.shallow_clone()));
        for (i, node) in graph.nodes.iter().enumerate() {
            let ins: Vec<&Tensor> = node
                .inputs
                .iter()
                .map(|&v| values[v].as_ref().expect("value kept until its last use"))
                .collect();
            let y = cx.node(node, &ins)?;
            for &v in &node.inputs {
                if last[v] == i && v != graph.output {
                    values[v] = None;
                }
            }
            values.push(Some(y));
        }
        Ok(values[graph.output]
            .take()
            .expect("the output value is kept"))
    }
}
