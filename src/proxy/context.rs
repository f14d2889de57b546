//! Per-arch context: the network, its initial weights, the batch, and the shared passes, each
//! run at most once and only when a proxy asks for it.

use super::{ProxyConfig, ProxyError};
use crate::data::Batch;
use crate::net::{BnMode, ForwardOptions, Network, TapKind, Taps, Weights};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// One forward+backward of the mean cross-entropy loss on the labelled batch, BN in train mode,
/// float32 — the pass of grad_norm, snip, plain and fisher (NASLib `zerocost`
/// `measures/{grad_norm,snip,plain,fisher}.py` each run exactly this pass on their own copy).
pub struct LabelledPass {
    /// The weights the pass ran with (leaves, float32).
    pub weights: Weights,
    /// ∂loss/∂W for every parameter, in parameter order.
    pub grads: Vec<Tensor>,
    /// Conv and linear outputs (fisher's hook points) with ∂loss/∂activation, in execution
    /// order: (module name, activation, gradient).
    pub activations: Vec<(String, Tensor, Tensor)>,
    pub loss: f64,
}

/// ∂(Σ logits)/∂x of the batch — NASLib `get_batch_jacobian`: `y.backward(ones_like(y))`,
/// `x.grad`. Shape `[N, 3, H, W]`.
pub struct JacobianPass {
    pub jacobian: Tensor,
}

/// The input of every ReLU in one forward pass without gradients (NASWOT's hook point).
pub struct ReluPass {
    /// (module name, pre-activation) in execution order.
    pub relu_inputs: Vec<(String, Tensor)>,
}

/// Everything a proxy may read for one arch.
pub struct ArchContext<'a> {
    pub net: &'a Network,
    /// Initial weights (float32, on `device`, no gradient).
    pub init: &'a Weights,
    /// The batch on `device` (float32 images, int64 labels).
    pub batch: &'a Batch,
    pub config: &'a ProxyConfig,
    pub device: Device,
    /// This arch's seed, `derive_seed(config.seed, arch index)`.
    pub arch_seed: u64,
    labelled: RefCell<Option<Rc<LabelledPass>>>,
    jacobian: RefCell<Option<Rc<JacobianPass>>>,
    relu: RefCell<Option<Rc<ReluPass>>>,
    /// Seconds spent in each shared pass: (labelled, jacobian, forward).
    pub(crate) pass_seconds: RefCell<[f64; 3]>,
}

impl<'a> ArchContext<'a> {
    pub fn new(
        net: &'a Network,
        init: &'a Weights,
        batch: &'a Batch,
        config: &'a ProxyConfig,
        device: Device,
        arch_seed: u64,
    ) -> Self {
        ArchContext {
            net,
            init,
            batch,
            config,
            device,
            arch_seed,
            labelled: RefCell::new(None),
            jacobian: RefCell::new(None),
            relu: RefCell::new(None),
            pass_seconds: RefCell::new([0.0; 3]),
        }
    }

    /// Indices of the conv and linear weights: the "layers" over which the references sum
    /// per-layer metrics (`get_layer_metric_array` keeps `nn.Conv2d` and `nn.Linear`).
    pub fn layer_weights(&self) -> Vec<usize> {
        self.init
            .names
            .iter()
            .zip(&self.init.tensors)
            .enumerate()
            .filter(|(_, (n, t))| n.ends_with(".weight") && t.dim() >= 2)
            .map(|(i, _)| i)
            .collect()
    }

    /// Mean cross-entropy of `logits` against the batch labels, in the logits' precision.
    pub fn cross_entropy(&self, logits: &Tensor) -> Result<Tensor, ProxyError> {
        Ok(logits.f_log_softmax(-1, logits.kind())?.f_nll_loss(
            &self.batch.y,
            None::<Tensor>,
            tch::Reduction::Mean,
            -100,
        )?)
    }

    pub fn labelled(&self) -> Result<Rc<LabelledPass>, ProxyError> {
        if let Some(p) = self.labelled.borrow().as_ref() {
            return Ok(p.clone());
        }
        let t0 = Instant::now();
        let weights = self.init.fresh(Kind::Float, self.device, true)?;
        let mut taps = Taps::new(&[TapKind::ConvOutput, TapKind::LinearOutput]);
        let logits = self.net.forward(
            &weights,
            &self.batch.x,
            ForwardOptions { bn: BnMode::Train },
            Some(&mut taps),
        )?;
        let loss = self.cross_entropy(&logits)?;
        let acts: Vec<&Tensor> = taps.taps.iter().map(|t| &t.tensor).collect();
        let mut inputs: Vec<&Tensor> = weights.tensors.iter().collect();
        inputs.extend(acts.iter().copied());
        let mut grads = Tensor::f_run_backward(&[&loss], &inputs, false, false)?;
        let act_grads = grads.split_off(weights.tensors.len());
        let activations = taps
            .taps
            .into_iter()
            .zip(act_grads)
            .map(|(t, g)| (t.module, t.tensor.detach(), g))
            .collect();
        let pass = Rc::new(LabelledPass {
            loss: loss.f_double_value(&[])?,
            weights,
            grads,
            activations,
        });
        self.pass_seconds.borrow_mut()[0] += t0.elapsed().as_secs_f64();
        *self.labelled.borrow_mut() = Some(pass.clone());
        Ok(pass)
    }

    pub fn jacobian(&self) -> Result<Rc<JacobianPass>, ProxyError> {
        if let Some(p) = self.jacobian.borrow().as_ref() {
            return Ok(p.clone());
        }
        let t0 = Instant::now();
        let x = self.batch.x.f_detach()?.set_requires_grad(true);
        let logits = self
            .net
            .forward(self.init, &x, ForwardOptions { bn: BnMode::Train }, None)?;
        // y.backward(ones_like(y)) is the gradient of Σ y.
        let s = logits.f_sum(logits.kind())?;
        let jacobian = Tensor::f_run_backward(&[&s], &[&x], false, false)?.remove(0);
        let pass = Rc::new(JacobianPass { jacobian });
        self.pass_seconds.borrow_mut()[1] += t0.elapsed().as_secs_f64();
        *self.jacobian.borrow_mut() = Some(pass.clone());
        Ok(pass)
    }

    pub fn relu_inputs(&self) -> Result<Rc<ReluPass>, ProxyError> {
        if let Some(p) = self.relu.borrow().as_ref() {
            return Ok(p.clone());
        }
        let t0 = Instant::now();
        let _guard = tch::no_grad_guard();
        let mut taps = Taps::new(&[TapKind::ReluInput]);
        let _logits = self.net.forward(
            self.init,
            &self.batch.x,
            ForwardOptions { bn: BnMode::Train },
            Some(&mut taps),
        )?;
        let pass = Rc::new(ReluPass {
            relu_inputs: taps
                .taps
                .into_iter()
                .map(|t| (t.module, t.tensor))
                .collect(),
        });
        self.pass_seconds.borrow_mut()[2] += t0.elapsed().as_secs_f64();
        *self.relu.borrow_mut() = Some(pass.clone());
        Ok(pass)
    }
}
