//! Network structure and weight initialisation.

use crate::graph::{Graph, GraphError, Init, Shape};
use crate::rng::SplitMix64;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Errors from building or running a network (libtorch errors such as CUDA out-of-memory
/// arrive here as `Torch`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("input batch has shape {got:?}, the network expects [N, {}, {}, {}]", expected[0], expected[1], expected[2])]
    InputShape { got: Vec<i64>, expected: [i64; 3] },
    #[error(transparent)]
    Graph(#[from] GraphError),
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

/// The structure of one network: its graph, checked (no tensors).
#[derive(Debug, Clone)]
pub struct Network {
    pub(crate) graph: Graph,
    /// Shape of every value of the graph (input first).
    pub(crate) shapes: Vec<Shape>,
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

impl Network {
    /// The network of `graph`; a graph whose nodes do not fit together is refused.
    pub fn new(graph: Graph) -> Result<Network, NetworkError> {
        let shapes = graph.shapes()?;
        Ok(Network { graph, shapes })
    }

    /// The graph this network runs.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Input `[C, H, W]`.
    pub fn input_shape(&self) -> [i64; 3] {
        self.graph.input
    }

    /// Number of classes (the logits' width).
    pub fn classes(&self) -> i64 {
        self.graph.classes
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
        let mut tensors = Vec::with_capacity(self.graph.params.len());
        for p in &self.graph.params {
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
            names: self.graph.params.iter().map(|p| p.name.clone()).collect(),
            tensors,
        }
        .upload(kind, device)
    }

    /// Checks that `w` has this network's parameter names and shapes.
    pub fn check_weights(&self, w: &Weights) -> Result<(), NetworkError> {
        let params = &self.graph.params;
        if w.tensors.len() != params.len() {
            return Err(NetworkError::Weights(format!(
                "{} tensors for {} parameters",
                w.tensors.len(),
                params.len()
            )));
        }
        for (p, (n, t)) in params.iter().zip(w.names.iter().zip(&w.tensors)) {
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
