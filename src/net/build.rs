//! Network structure and weight initialisation.

use crate::rng::SplitMix64;
use crate::space::{Arch, NatsDataset, Op, Skeleton, TSS_EDGES};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Errors from building or running a network (libtorch errors such as CUDA out-of-memory
/// arrive here as `Torch`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("input batch has shape {got:?}, the network expects [N, 3, {size}, {size}]")]
    InputShape { got: Vec<i64>, size: i64 },
    #[error("weights do not fit this network: {0}")]
    Weights(String),
    /// Networks that cannot run as one grouped network (`net::grouped_passes`).
    #[error("cannot group these networks: {0}")]
    NotGroupable(String),
}

/// How batch normalisation behaves in a forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BnMode {
    /// Training mode: normalise with the batch statistics (what every zero-cost proxy reference
    /// does with `net.train()`). Running statistics are not updated: each proxy reference
    /// works on a fresh copy of the initial network, so they never carry over between passes.
    Train,
    /// Evaluation mode with the initial running statistics (mean 0, variance 1).
    Eval,
    /// No BN layers at all (the references' `bn=False` copies, e.g. for synflow).
    Off,
}

/// How a parameter is initialised (PyTorch's defaults for each layer type).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Init {
    /// `kaiming_uniform_(a=√5)` of Conv2d/Linear weights: U(−1/√fan_in, 1/√fan_in).
    /// Linear biases use the same bound.
    Uniform {
        fan_in: i64,
    },
    Ones,
    Zeros,
}

#[derive(Debug, Clone)]
pub(crate) struct ParamSpec {
    pub name: String,
    pub shape: Vec<i64>,
    pub init: Init,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Conv {
    pub w: usize,
    pub c_in: i64,
    pub c_out: i64,
    pub k: i64,
    pub stride: i64,
    pub pad: i64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Bn {
    pub w: usize,
    pub b: usize,
}

/// `ReLUConvBN`: ReLU → conv (no bias) → BN.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReluConvBn {
    pub conv: Conv,
    pub bn: Bn,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum EdgeOp {
    /// `Zero`: `x * 0` (kept as a multiplication: NaN/inf propagate as in the reference).
    Zero,
    Identity,
    /// 3×3 average pooling, stride 1, padding 1, `count_include_pad=False`, preceded by a 1×1
    /// `ReLUConvBN` when the channel count changes.
    Pool {
        pre: Option<ReluConvBn>,
    },
    Conv(ReluConvBn),
    /// `FactorizedReduce` at stride 1 (a skip edge that changes channels, SSS): conv 1×1 → BN.
    Reduce {
        conv: Conv,
        bn: Bn,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Cell {
    /// (from node, to node, op) in arch-string order.
    pub edges: Vec<(usize, usize, EdgeOp)>,
}

/// `ResNetBasicblock` with stride 2: two `ReLUConvBN` 3×3 plus a residual of 2×2 average
/// pooling followed by a 1×1 conv.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResBlock {
    pub conv_a: ReluConvBn,
    pub conv_b: ReluConvBn,
    pub down: Conv,
}

#[derive(Debug, Clone)]
pub(crate) enum Block {
    Cell(Cell),
    Res(ResBlock),
}

/// The structure of one NATS-Bench network (no tensors).
#[derive(Debug, Clone)]
pub struct Network {
    pub(crate) arch: Arch,
    pub(crate) dataset: NatsDataset,
    pub(crate) params: Vec<ParamSpec>,
    pub(crate) stem_conv: Conv,
    pub(crate) stem_bn: Bn,
    pub(crate) blocks: Vec<Block>,
    pub(crate) last_bn: Bn,
    pub(crate) fc_w: usize,
    pub(crate) fc_b: usize,
    pub(crate) c_last: i64,
}

/// The tensors of a network, in [`Network`]'s parameter order, named like xautodl's
/// `state_dict` keys.
#[derive(Debug)]
pub struct Weights {
    pub names: Vec<String>,
    pub tensors: Vec<Tensor>,
}

impl Weights {
    /// A copy whose every tensor is `f(tensor)` (e.g. `|W|` in float64 for synflow).
    pub fn map(&self, f: impl Fn(&Tensor) -> Tensor) -> Weights {
        Weights {
            names: self.names.clone(),
            tensors: self.tensors.iter().map(f).collect(),
        }
    }

    /// `self` (host tensors) in `kind` on `device`, without gradients. To a GPU every tensor
    /// goes in one host→device copy: a copy from host memory waits for the worker's stream to
    /// drain, and a TSS net has ~100 tensors. Each tensor then gets an allocation of its own
    /// (`split_with_sizes_copy`), as a copy per tensor gives, so kernels see the same memory
    /// alignment. Elementwise conversions only: the values equal a copy per tensor.
    pub fn upload(&self, kind: Kind, device: Device) -> Result<Weights, NetworkError> {
        let on_host = self.tensors.iter().all(|t| t.device() == Device::Cpu);
        if device == Device::Cpu || !on_host || self.tensors.is_empty() {
            return self.fresh(kind, device, false);
        }
        self.upload_packed(kind, device)
    }

    /// [`Weights::upload`]'s one-copy path, whatever the device (public so that it can be
    /// tested on a machine without a GPU).
    #[doc(hidden)]
    pub fn upload_packed(&self, kind: Kind, device: Device) -> Result<Weights, NetworkError> {
        let flat = self
            .tensors
            .iter()
            .map(|t| t.f_detach()?.f_reshape([-1]))
            .collect::<Result<Vec<_>, _>>()?;
        let sizes: Vec<i64> = self.tensors.iter().map(|t| t.numel() as i64).collect();
        let parts = Tensor::f_cat(&flat, 0)?
            .f_to_kind(kind)?
            .f_to_device(device)?
            .f_split_with_sizes_copy(sizes.as_slice(), 0)?;
        let tensors = parts
            .into_iter()
            .zip(&self.tensors)
            .map(|(p, t)| p.f_reshape(t.size()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Weights {
            names: self.names.clone(),
            tensors,
        })
    }

    /// A copy detached from any graph, on `device` with `kind`, each tensor a leaf that
    /// requires gradients when `grad` is set.
    pub fn fresh(&self, kind: Kind, device: Device, grad: bool) -> Result<Weights, NetworkError> {
        let mut tensors = Vec::with_capacity(self.tensors.len());
        for t in &self.tensors {
            let c = t.f_detach()?.f_to_kind(kind)?.f_to_device(device)?;
            let c = if grad { c.set_requires_grad(true) } else { c };
            tensors.push(c);
        }
        Ok(Weights {
            names: self.names.clone(),
            tensors,
        })
    }

    /// Writes the weights as safetensors (for the reference scripts in `tests/reference/`).
    pub fn save_safetensors(&self, path: &Path) -> Result<(), NetworkError> {
        let named: Vec<(&str, Tensor)> = self
            .names
            .iter()
            .zip(&self.tensors)
            .map(|(n, t)| {
                Ok((
                    n.as_str(),
                    t.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?,
                ))
            })
            .collect::<Result<_, tch::TchError>>()?;
        Tensor::write_safetensors(&named, path)?;
        Ok(())
    }

    /// Total number of scalars.
    pub fn numel(&self) -> i64 {
        self.tensors.iter().map(|t| t.numel() as i64).sum()
    }
}

/// Collects parameter specs while the structure is laid out.
struct Builder {
    params: Vec<ParamSpec>,
}

impl Builder {
    fn param(&mut self, name: String, shape: Vec<i64>, init: Init) -> usize {
        self.params.push(ParamSpec { name, shape, init });
        self.params.len() - 1
    }

    fn conv(&mut self, name: &str, c_in: i64, c_out: i64, k: i64, stride: i64, pad: i64) -> Conv {
        let w = self.param(
            format!("{name}.weight"),
            vec![c_out, c_in, k, k],
            Init::Uniform {
                fan_in: c_in * k * k,
            },
        );
        Conv {
            w,
            c_in,
            c_out,
            k,
            stride,
            pad,
        }
    }

    fn bn(&mut self, name: &str, c: i64) -> Bn {
        let w = self.param(format!("{name}.weight"), vec![c], Init::Ones);
        let b = self.param(format!("{name}.bias"), vec![c], Init::Zeros);
        Bn { w, b }
    }

    /// `ReLUConvBN` registered as `{name}.op.1` (conv) and `{name}.op.2` (BN).
    fn relu_conv_bn(
        &mut self,
        name: &str,
        c_in: i64,
        c_out: i64,
        k: i64,
        stride: i64,
    ) -> ReluConvBn {
        let conv = self.conv(&format!("{name}.op.1"), c_in, c_out, k, stride, (k - 1) / 2);
        let bn = self.bn(&format!("{name}.op.2"), c_out);
        ReluConvBn { conv, bn }
    }

    /// `InferCell(genotype, c_in, c_out, stride=1)`: edges reading node 0 map c_in → c_out,
    /// the others c_out → c_out. Layer k of the cell is edge k in arch-string order.
    fn cell(&mut self, name: &str, ops: &[Op; 6], c_in: i64, c_out: i64) -> Cell {
        let mut edges = Vec::with_capacity(6);
        for (k, (&(from, to), &op)) in TSS_EDGES.iter().zip(ops).enumerate() {
            let ci = if from == 0 { c_in } else { c_out };
            let layer = format!("{name}.layers.{k}");
            let e = match op {
                Op::None => EdgeOp::Zero,
                Op::SkipConnect if ci == c_out => EdgeOp::Identity,
                Op::SkipConnect => EdgeOp::Reduce {
                    conv: self.conv(&format!("{layer}.conv"), ci, c_out, 1, 1, 0),
                    bn: self.bn(&format!("{layer}.bn"), c_out),
                },
                Op::NorConv1x1 => EdgeOp::Conv(self.relu_conv_bn(&layer, ci, c_out, 1, 1)),
                Op::NorConv3x3 => EdgeOp::Conv(self.relu_conv_bn(&layer, ci, c_out, 3, 1)),
                Op::AvgPool3x3 => EdgeOp::Pool {
                    pre: (ci != c_out).then(|| {
                        self.relu_conv_bn(&format!("{layer}.preprocess"), ci, c_out, 1, 1)
                    }),
                },
            };
            edges.push((from, to, e));
        }
        Cell { edges }
    }

    fn res_block(&mut self, name: &str, c_in: i64, c_out: i64) -> ResBlock {
        let conv_a = self.relu_conv_bn(&format!("{name}.conv_a"), c_in, c_out, 3, 2);
        let conv_b = self.relu_conv_bn(&format!("{name}.conv_b"), c_out, c_out, 3, 1);
        let down = self.conv(&format!("{name}.downsample.1"), c_in, c_out, 1, 1, 0);
        ResBlock {
            conv_a,
            conv_b,
            down,
        }
    }
}

impl Network {
    /// Lays out the NATS-Bench network of `arch` for `dataset`.
    pub fn new(arch: &Arch, dataset: NatsDataset) -> Network {
        let mut b = Builder { params: Vec::new() };
        let Skeleton { cell: ops, layers } = arch.skeleton();
        let c0 = layers[0].0;
        let stem_conv = b.conv("stem.0", 3, c0, 3, 1, 1);
        let stem_bn = b.bn("stem.1", c0);
        let mut c_prev = c0;
        let mut blocks = Vec::with_capacity(layers.len());
        for (i, &(c, reduction)) in layers.iter().enumerate() {
            let name = format!("cells.{i}");
            blocks.push(if reduction {
                Block::Res(b.res_block(&name, c_prev, c))
            } else {
                Block::Cell(b.cell(&name, &ops.ops, c_prev, c))
            });
            c_prev = c;
        }
        let last_bn = b.bn("lastact.0", c_prev);
        let classes = dataset.num_classes();
        let fc_w = b.param(
            "classifier.weight".into(),
            vec![classes, c_prev],
            Init::Uniform { fan_in: c_prev },
        );
        let fc_b = b.param(
            "classifier.bias".into(),
            vec![classes],
            Init::Uniform { fan_in: c_prev },
        );
        Network {
            arch: *arch,
            dataset,
            params: b.params,
            stem_conv,
            stem_bn,
            blocks,
            last_bn,
            fc_w,
            fc_b,
            c_last: c_prev,
        }
    }

    pub fn arch(&self) -> &Arch {
        &self.arch
    }

    pub fn dataset(&self) -> NatsDataset {
        self.dataset
    }

    /// Parameter names in order (xautodl `state_dict` keys, buffers excluded).
    pub fn param_names(&self) -> Vec<&str> {
        self.params.iter().map(|p| p.name.as_str()).collect()
    }

    /// Shapes of the parameters in order.
    pub fn param_shapes(&self) -> Vec<Vec<i64>> {
        self.params.iter().map(|p| p.shape.clone()).collect()
    }

    /// Channels of the final feature map (input of the classifier).
    pub fn feature_channels(&self) -> i64 {
        self.c_last
    }

    /// Fresh weights with PyTorch's default initialisation (Conv2d/Linear `kaiming_uniform_`
    /// with a=√5 and the matching bias bound; BN weight 1, bias 0), drawn from our own
    /// seeded generator on the CPU: the same seed gives the same weights on every device and
    /// in every thread, whatever else runs.
    pub fn init_weights(
        &self,
        seed: u64,
        kind: Kind,
        device: Device,
    ) -> Result<Weights, NetworkError> {
        let mut rng = SplitMix64::new(seed);
        let mut tensors = Vec::with_capacity(self.params.len());
        for p in &self.params {
            let n: i64 = p.shape.iter().product();
            let values: Vec<f32> = match p.init {
                Init::Uniform { fan_in } => {
                    let bound = 1.0 / (fan_in as f64).sqrt();
                    (0..n)
                        .map(|_| ((rng.next_f64() * 2.0 - 1.0) * bound) as f32)
                        .collect()
                }
                Init::Ones => vec![1.0; n as usize],
                Init::Zeros => vec![0.0; n as usize],
            };
            tensors.push(Tensor::f_from_slice(&values)?.f_reshape(&p.shape)?);
        }
        Weights {
            names: self.params.iter().map(|p| p.name.clone()).collect(),
            tensors,
        }
        .upload(kind, device)
    }

    /// Checks that `w` has this network's parameter names and shapes.
    pub fn check_weights(&self, w: &Weights) -> Result<(), NetworkError> {
        if w.tensors.len() != self.params.len() {
            return Err(NetworkError::Weights(format!(
                "{} tensors for {} parameters",
                w.tensors.len(),
                self.params.len()
            )));
        }
        for (p, (n, t)) in self.params.iter().zip(w.names.iter().zip(&w.tensors)) {
            if &p.name != n || t.size() != p.shape {
                return Err(NetworkError::Weights(format!(
                    "{n} {:?} where {} {:?} is expected",
                    t.size(),
                    p.name,
                    p.shape
                )));
            }
        }
        Ok(())
    }
}
