//! The forward pass, with optional taps on the activations that proxies read.

use super::build::{Block, Bn, BnMode, Conv, EdgeOp, Network, NetworkError, ReluConvBn, Weights};
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

/// Batch norm in training mode (batch statistics, running statistics not kept), as every
/// zero-cost proxy reference runs it (`net.train()`), PyTorch's ε.
pub(super) fn batch_norm_train(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
) -> Result<Tensor, tch::TchError> {
    x.f_batch_norm(
        Some(w),
        Some(b),
        None::<&Tensor>,
        None::<&Tensor>,
        true,
        0.1,
        BN_EPS,
        true,
    )
}

struct Ctx<'a> {
    w: &'a [Tensor],
    names: &'a [String],
    bn: BnMode,
    taps: Option<&'a mut Taps>,
}

impl Ctx<'_> {
    fn tap(&mut self, kind: TapKind, module: impl FnOnce() -> String, t: &Tensor) {
        if let Some(taps) = self.taps.as_deref_mut() {
            taps.push(kind, module, t);
        }
    }

    fn conv(&mut self, c: &Conv, x: &Tensor) -> Result<Tensor, NetworkError> {
        let y = x.f_conv2d(
            &self.w[c.w],
            None::<Tensor>,
            [c.stride, c.stride],
            [c.pad, c.pad],
            [1, 1],
            1,
        )?;
        let names = self.names;
        self.tap(
            TapKind::ConvOutput,
            || names[c.w].trim_end_matches(".weight").to_string(),
            &y,
        );
        self.tap(TapKind::ModuleOutput, || "conv".to_string(), &y);
        Ok(y)
    }

    fn module(&mut self, label: &str, t: &Tensor) {
        self.tap(TapKind::ModuleOutput, || label.to_string(), t);
    }

    fn bn(&mut self, b: &Bn, x: &Tensor) -> Result<Tensor, NetworkError> {
        let (w, bias) = (&self.w[b.w], &self.w[b.b]);
        if self.bn != BnMode::Off {
            let names = self.names;
            self.tap(
                TapKind::BnInput,
                || names[b.w].trim_end_matches(".weight").to_string(),
                x,
            );
        }
        let y = match self.bn {
            BnMode::Off => x.shallow_clone(),
            BnMode::Train => batch_norm_train(x, w, bias)?,
            BnMode::Eval => {
                let c = w.size()[0];
                let mean = Tensor::f_zeros([c], (x.kind(), x.device()))?;
                let var = Tensor::f_ones([c], (x.kind(), x.device()))?;
                x.f_batch_norm(
                    Some(w),
                    Some(bias),
                    Some(&mean),
                    Some(&var),
                    false,
                    0.1,
                    BN_EPS,
                    true,
                )?
            }
        };
        if self.bn != BnMode::Off {
            self.module("bn", &y);
        }
        Ok(y)
    }

    fn relu(
        &mut self,
        module: impl FnOnce() -> String,
        x: &Tensor,
    ) -> Result<Tensor, NetworkError> {
        self.tap(TapKind::ReluInput, module, x);
        let y = x.f_relu()?;
        self.module("relu", &y);
        Ok(y)
    }

    fn relu_conv_bn(&mut self, r: &ReluConvBn, x: &Tensor) -> Result<Tensor, NetworkError> {
        let names = self.names;
        let y = self.relu(
            || names[r.conv.w].trim_end_matches(".1.weight").to_string(),
            x,
        )?;
        let y = self.conv(&r.conv, &y)?;
        let y = self.bn(&r.bn, &y)?;
        self.module("seq", &y);
        self.module("rcb", &y);
        Ok(y)
    }

    fn edge(&mut self, op: &EdgeOp, x: &Tensor) -> Result<Tensor, NetworkError> {
        Ok(match op {
            EdgeOp::Zero => {
                let y = x.f_mul_scalar(0.0)?;
                self.module("zero", &y);
                y
            }
            EdgeOp::Identity => {
                self.module("identity", x);
                x.shallow_clone()
            }
            EdgeOp::Conv(r) => self.relu_conv_bn(r, x)?,
            EdgeOp::Pool { pre } => {
                let x = match pre {
                    Some(r) => self.relu_conv_bn(r, x)?,
                    None => x.shallow_clone(),
                };
                let y = x.f_avg_pool2d([3, 3], [1, 1], [1, 1], false, false, None::<i64>)?;
                self.module("avgpool", &y);
                self.module("pooling", &y);
                y
            }
            EdgeOp::Reduce { conv, bn } => {
                let y = self.conv(conv, x)?;
                let y = self.bn(bn, &y)?;
                self.module("freduce", &y);
                y
            }
        })
    }
}

impl Network {
    /// Runs the network on `x` (`[N, 3, H, W]`, same kind and device as the weights) and
    /// returns the logits `[N, classes]`. When `taps` is given, the activations it asks for
    /// are recorded (they stay in the autograd graph, so gradients w.r.t. them can be taken).
    pub fn forward(
        &self,
        weights: &Weights,
        x: &Tensor,
        opts: ForwardOptions,
        taps: Option<&mut Taps>,
    ) -> Result<Tensor, NetworkError> {
        let size = self.dataset.input_size();
        let shape = x.size();
        if shape.len() != 4 || shape[1] != 3 || shape[2] != size || shape[3] != size {
            return Err(NetworkError::InputShape { got: shape, size });
        }
        let mut cx = Ctx {
            w: &weights.tensors,
            names: &weights.names,
            bn: opts.bn,
            taps,
        };
        let mut h = cx.conv(&self.stem_conv, x)?;
        h = cx.bn(&self.stem_bn, &h)?;
        cx.module("stem", &h);
        for (bi, block) in self.blocks.iter().enumerate() {
            h = match block {
                Block::Cell(cell) => {
                    let mut nodes: Vec<Tensor> = vec![h];
                    for to in 1..4 {
                        let mut acc: Option<Tensor> = None;
                        for (from, t, op) in &cell.edges {
                            if *t != to {
                                continue;
                            }
                            let y = cx.edge(op, &nodes[*from])?;
                            acc = Some(match acc {
                                None => y,
                                Some(a) => a.f_add(&y)?,
                            });
                        }
                        nodes.push(acc.expect("every node has inputs"));
                    }
                    let out = nodes.pop().expect("four nodes");
                    cx.tap(TapKind::ModuleOutput, || format!("cell{bi}"), &out);
                    out
                }
                Block::Res(r) => {
                    let a = cx.relu_conv_bn(&r.conv_a, &h)?;
                    let b = cx.relu_conv_bn(&r.conv_b, &a)?;
                    let d = h.f_avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None::<i64>)?;
                    cx.module("avgpool", &d);
                    let d = cx.conv(&r.down, &d)?;
                    cx.module("downsample", &d);
                    let out = d.f_add(&b)?;
                    cx.module("res", &out);
                    out
                }
            };
        }
        h = cx.bn(&self.last_bn, &h)?;
        h = cx.relu(|| "lastact.1".to_string(), &h)?;
        cx.module("lastact", &h);
        cx.tap(TapKind::PreGap, || "lastact".to_string(), &h);
        let gap = h.f_adaptive_avg_pool2d([1, 1])?;
        cx.module("gap", &gap);
        let pooled = gap.f_flatten(1, -1)?;
        cx.tap(TapKind::Pooled, || "global_pooling".to_string(), &pooled);
        let logits = pooled.f_linear(
            &weights.tensors[self.fc_w],
            Some(&weights.tensors[self.fc_b]),
        )?;
        cx.tap(TapKind::LinearOutput, || "classifier".to_string(), &logits);
        cx.module("classifier", &logits);
        cx.module("root", &pooled);
        Ok(logits)
    }
}
