//! Per-arch context: the network, its initial weights, the batch, and the shared passes, each
//! run at most once and only when a proxy asks for it.

use super::{Pass, PassTimes, ProxyConfig, ProxyError};
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

/// The shared passes the engine's proxies will ask for. Passes in the plan are served by one
/// forward pass (BN train mode, the same float32 weights and batch, so each sees exactly the
/// tensors its own pass would): the ReLU inputs are tapped, ∂(Σ logits)/∂x and ∂loss/∂(W, acts)
/// are two backward passes through that graph, and with `grasp` the loss gradient keeps its
/// graph so grasp's Hessian-gradient product needs no forward of its own (so a plan with grasp
/// always shares). Without a plan, or with a single pass and no grasp, every pass runs on its
/// own when first asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassPlan {
    pub labelled: bool,
    pub jacobian: bool,
    pub relu: bool,
    pub grasp: bool,
}

impl PassPlan {
    fn shared(&self) -> bool {
        [self.labelled || self.grasp, self.jacobian, self.relu]
            .iter()
            .filter(|&&b| b)
            .count()
            >= 2
            || self.grasp
    }
}

/// The loss gradient of the shared pass with its graph kept (grasp's first backward with
/// `create_graph`), for the conv and linear weights of [`ArchContext::layer_weights`].
pub struct GraspGraph {
    /// ∂loss/∂W of each layer weight, differentiable w.r.t. the weights; `None` where the loss
    /// does not depend on that weight.
    pub layer_grads: Vec<Option<Tensor>>,
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
    grasp: RefCell<Option<Rc<GraspGraph>>>,
    plan: PassPlan,
    /// Seconds spent in each pass ([`Pass::ALL`] order).
    pub(crate) pass_seconds: RefCell<PassTimes>,
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
            grasp: RefCell::new(None),
            plan: PassPlan::default(),
            pass_seconds: RefCell::new(PassTimes::default()),
        }
    }

    /// Shares one forward between the passes of `plan` (see [`PassPlan`]).
    pub fn with_plan(mut self, plan: PassPlan) -> Self {
        self.plan = plan;
        self
    }

    /// Serves the Jacobian and ReLU passes from tensors computed elsewhere for this arch's
    /// network, weights and batch (the batched engine's grouped network,
    /// [`crate::net::grouped_passes`]), as if this context had run them. Passes left `None`
    /// run here when asked for; the labelled pass then runs on its own forward.
    pub fn with_served(
        mut self,
        jacobian: Option<Tensor>,
        relu: Option<Vec<(String, Tensor)>>,
    ) -> Self {
        if let Some(jacobian) = jacobian {
            self.jacobian = RefCell::new(Some(Rc::new(JacobianPass { jacobian })));
        }
        if let Some(relu_inputs) = relu {
            self.relu = RefCell::new(Some(Rc::new(ReluPass { relu_inputs })));
        }
        self
    }

    /// One forward pass (BN train mode, float32, the initial weights and the batch) serving
    /// every pass of `plan`: the ReLU inputs are tapped, ∂(Σ logits)/∂x and ∂loss/∂(W, acts)
    /// are backward passes through it, and with grasp the loss gradient keeps its graph. The one
    /// place each pass is computed, whether shared or run alone. The forward's time is booked
    /// to the first planned pass of labelled, Jacobian, forward; each backward to its own pass.
    fn run_passes(&self, plan: PassPlan) -> Result<(), ProxyError> {
        let t0 = Instant::now();
        let need_w = plan.labelled || plan.grasp;
        // Nothing to differentiate: no graph (the memory of a gradient-free forward).
        let _no_grad = (!need_w && !plan.jacobian).then(tch::no_grad_guard);
        // A copy whose weights record gradients for the labelled pass; the initial weights
        // themselves (float32, no gradient) serve every other pass.
        let grad_weights = if need_w {
            Some(self.init.fresh(Kind::Float, self.device, true)?)
        } else {
            None
        };
        let weights = grad_weights.as_ref().unwrap_or(self.init);
        let x = self.batch.x.f_detach()?.set_requires_grad(plan.jacobian);
        let mut kinds = Vec::new();
        if plan.labelled {
            kinds.extend([TapKind::ConvOutput, TapKind::LinearOutput]);
        }
        if plan.relu {
            kinds.push(TapKind::ReluInput);
        }
        let mut taps = Taps::new(&kinds);
        let logits = self.net.forward(
            weights,
            &x,
            ForwardOptions { bn: BnMode::Train },
            Some(&mut taps),
        )?;
        let mut relu_inputs = Vec::new();
        let mut acts = Vec::new();
        for t in taps.taps {
            if t.kind == TapKind::ReluInput {
                relu_inputs.push((t.module, t.tensor.f_detach()?));
            } else {
                acts.push((t.module, t.tensor));
            }
        }
        if plan.relu {
            *self.relu.borrow_mut() = Some(Rc::new(ReluPass { relu_inputs }));
        }
        let mut t_jac = 0.0;
        if plan.jacobian {
            let t1 = Instant::now();
            let s = logits.f_sum(logits.kind())?;
            let keep = need_w;
            let jacobian = Tensor::f_run_backward(&[&s], &[&x], keep, false)?.remove(0);
            *self.jacobian.borrow_mut() = Some(Rc::new(JacobianPass { jacobian }));
            t_jac = t1.elapsed().as_secs_f64();
        }
        let mut t_loss = 0.0;
        if let Some(weights) = grad_weights {
            let t1 = Instant::now();
            let loss = self.cross_entropy(&logits)?;
            let mut inputs: Vec<&Tensor> = weights.tensors.iter().collect();
            inputs.extend(acts.iter().map(|(_, a)| a));
            let mut grads = Tensor::f_run_backward(&[&loss], &inputs, plan.grasp, plan.grasp)?;
            let act_grads = grads.split_off(weights.tensors.len());
            if plan.grasp {
                let layer_grads = self
                    .layer_weights()
                    .into_iter()
                    .map(|i| grads[i].defined().then(|| grads[i].shallow_clone()))
                    .collect();
                *self.grasp.borrow_mut() = Some(Rc::new(GraspGraph { layer_grads }));
            }
            let detach = |g: Tensor| if g.defined() { g.detach() } else { g };
            let grads: Vec<Tensor> = grads.into_iter().map(detach).collect();
            let activations = acts
                .into_iter()
                .zip(act_grads)
                .map(|((m, a), g)| (m, a.detach(), detach(g)))
                .collect();
            *self.labelled.borrow_mut() = Some(Rc::new(LabelledPass {
                loss: loss.f_double_value(&[])?,
                weights,
                grads,
                activations,
            }));
            t_loss = t1.elapsed().as_secs_f64();
        }
        let forward = t0.elapsed().as_secs_f64() - t_jac - t_loss;
        let first = if need_w {
            Pass::Labelled
        } else if plan.jacobian {
            Pass::Jacobian
        } else {
            Pass::Forward
        };
        let mut ps = self.pass_seconds.borrow_mut();
        ps.add(first, forward);
        ps.add(Pass::Jacobian, t_jac);
        ps.add(Pass::Labelled, t_loss);
        Ok(())
    }

    /// Runs the shared pass if the plan shares and it has not run yet.
    fn ensure_shared(&self) -> Result<bool, ProxyError> {
        if !self.plan.shared() {
            return Ok(false);
        }
        let done = self.labelled.borrow().is_some()
            || self.jacobian.borrow().is_some()
            || self.relu.borrow().is_some();
        if !done {
            self.run_passes(self.plan)?;
        }
        Ok(true)
    }

    /// The loss gradient with its graph, from the shared pass (`None` when the plan has no
    /// grasp: grasp then runs its own forward).
    pub fn grasp_graph(&self) -> Result<Option<Rc<GraspGraph>>, ProxyError> {
        if !self.plan.grasp {
            return Ok(None);
        }
        self.ensure_shared()?;
        Ok(self.grasp.borrow().clone())
    }

    /// Indices of the conv and linear weights: the "layers" over which the references sum
    /// per-layer metrics (`get_layer_metric_array` keeps `nn.Conv2d` and `nn.Linear`).
    pub fn layer_weights(&self) -> Vec<usize> {
        self.net.graph().layer_weights()
    }

    /// Mean cross-entropy of `logits` against the batch labels, in the logits' precision.
    pub fn cross_entropy(&self, logits: &Tensor) -> Result<Tensor, ProxyError> {
        Ok(super::cross_entropy(logits, &self.batch.y)?)
    }

    /// The pass held in `slot`: from the shared forward when `planned` (the plan shares it),
    /// else computed alone by `run_passes(alone)`, once.
    fn served<T>(
        &self,
        slot: &RefCell<Option<Rc<T>>>,
        planned: bool,
        alone: PassPlan,
    ) -> Result<Rc<T>, ProxyError> {
        if planned {
            self.ensure_shared()?;
        }
        if slot.borrow().is_none() {
            self.run_passes(alone)?;
        }
        Ok(slot
            .borrow()
            .clone()
            .expect("run_passes fills every pass of its plan"))
    }

    pub fn labelled(&self) -> Result<Rc<LabelledPass>, ProxyError> {
        let alone = PassPlan {
            labelled: true,
            ..PassPlan::default()
        };
        self.served(&self.labelled, self.plan.labelled || self.plan.grasp, alone)
    }

    pub fn jacobian(&self) -> Result<Rc<JacobianPass>, ProxyError> {
        let alone = PassPlan {
            jacobian: true,
            ..PassPlan::default()
        };
        self.served(&self.jacobian, self.plan.jacobian, alone)
    }

    pub fn relu_inputs(&self) -> Result<Rc<ReluPass>, ProxyError> {
        let alone = PassPlan {
            relu: true,
            ..PassPlan::default()
        };
        self.served(&self.relu, self.plan.relu, alone)
    }
}
