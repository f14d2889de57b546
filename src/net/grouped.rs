//! K networks of one topology-space dataset run as one grouped network: the forward of the
//! batched engine's shared passes (∂(Σ logits)/∂x and the ReLU inputs), one launch per layer
//! for all K archs instead of K.
//!
//! Every arch of a NATS-Bench TSS dataset has the same macro skeleton and channel counts; only
//! the op on each cell edge differs. The grouped network keeps arch `a`'s channels at
//! `[a·C, (a+1)·C)` of every activation: the stem, the ResNet blocks, the last BN and the
//! classifier are grouped convolutions (`groups = K`) and per-channel batch norms over the
//! concatenated weights, and each cell edge gathers the archs that share an op, runs that op
//! once for them and scatters the result back (a 1×1 edge costs a 1×1 convolution, not the
//! 3×3 of the masked form the issue prototyped). The input is replicated per arch, so the
//! gradient of the sum of all logits with respect to it holds each arch's own Jacobian. BN
//! statistics are per channel, so no arch sees another's batch: the values are those of K
//! separate networks up to float rounding of the grouped kernels (tolerance in
//! `tests/batched.rs`).

use super::build::{Block, Bn, Cell, Conv, EdgeOp, Network, NetworkError, ReluConvBn, Weights};
use tch::Tensor;

/// What a grouped pass computed, per arch in the order given.
#[derive(Debug, Default)]
pub struct GroupedPasses {
    /// ∂(Σ logits)/∂x of each arch, `[N, 3, H, W]` (empty unless asked for).
    pub jacobians: Vec<Tensor>,
    /// Each arch's ReLU inputs in execution order, `(module, input)`, detached (empty unless
    /// asked for).
    pub relu_inputs: Vec<Vec<(String, Tensor)>>,
}

/// An edge op as the grouping sees it: archs with the same key run as one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeKey {
    Zero,
    Identity,
    Conv { k: i64 },
    Pool,
}

fn edge_key(op: &EdgeOp) -> Result<EdgeKey, NetworkError> {
    Ok(match op {
        EdgeOp::Zero => EdgeKey::Zero,
        EdgeOp::Identity => EdgeKey::Identity,
        EdgeOp::Conv(r) => EdgeKey::Conv { k: r.conv.k },
        EdgeOp::Pool { pre: None } => EdgeKey::Pool,
        // Channel-changing edges exist only in the size space, whose archs differ in shape.
        EdgeOp::Pool { pre: Some(_) } | EdgeOp::Reduce { .. } => {
            return Err(not_groupable("an edge that changes the channel count"))
        }
    })
}

fn not_groupable(why: &str) -> NetworkError {
    NetworkError::NotGroupable(why.to_string())
}

struct Grouped<'a> {
    weights: &'a [&'a Weights],
    relu: Option<Vec<Vec<(String, Tensor)>>>,
}

impl Grouped<'_> {
    /// The tensors of parameter `index(a)` of each arch `a` of `archs`, concatenated along
    /// dimension 0.
    fn cat(&self, archs: &[usize], index: impl Fn(usize) -> usize) -> Result<Tensor, NetworkError> {
        let ts: Vec<&Tensor> = archs
            .iter()
            .map(|&a| &self.weights[a].tensors[index(a)])
            .collect();
        Ok(Tensor::f_cat(&ts, 0)?)
    }

    fn conv(
        &self,
        archs: &[usize],
        conv: impl Fn(usize) -> Conv,
        x: &Tensor,
    ) -> Result<Tensor, NetworkError> {
        let c = conv(archs[0]);
        let w = self.cat(archs, |a| conv(a).w)?;
        Ok(x.f_conv2d(
            &w,
            None::<Tensor>,
            [c.stride, c.stride],
            [c.pad, c.pad],
            [1, 1],
            archs.len() as i64,
        )?)
    }

    fn bn(
        &self,
        archs: &[usize],
        bn: impl Fn(usize) -> Bn,
        x: &Tensor,
    ) -> Result<Tensor, NetworkError> {
        let w = self.cat(archs, |a| bn(a).w)?;
        let b = self.cat(archs, |a| bn(a).b)?;
        Ok(super::forward::batch_norm_train(x, &w, &b)?)
    }

    /// ReLU of `x` (the archs' channel groups in order), its input tapped per arch.
    fn relu(
        &mut self,
        archs: &[usize],
        module: impl Fn(usize) -> String,
        x: &Tensor,
    ) -> Result<Tensor, NetworkError> {
        if let Some(taps) = self.relu.as_mut() {
            let parts = x.f_chunk(archs.len() as i64, 1)?;
            for (&a, part) in archs.iter().zip(parts) {
                taps[a].push((module(a), part.f_detach()?));
            }
        }
        Ok(x.f_relu()?)
    }

    fn relu_conv_bn(
        &mut self,
        archs: &[usize],
        r: impl Fn(usize) -> ReluConvBn,
        x: &Tensor,
    ) -> Result<Tensor, NetworkError> {
        let weights = self.weights;
        let y = self.relu(
            archs,
            |a| {
                weights[a].names[r(a).conv.w]
                    .trim_end_matches(".1.weight")
                    .to_string()
            },
            x,
        )?;
        let y = self.conv(archs, |a| r(a).conv, &y)?;
        self.bn(archs, |a| r(a).bn, &y)
    }

    /// Edge `e` of the cells `cells` (one per arch) on `x` (`[N, K·C, H, W]`).
    fn edge(&mut self, cells: &[&Cell], e: usize, x: &Tensor) -> Result<Tensor, NetworkError> {
        let k = cells.len();
        let keys = cells
            .iter()
            .map(|c| edge_key(&c.edges[e].2))
            .collect::<Result<Vec<_>, _>>()?;
        let mut groups: Vec<(EdgeKey, Vec<usize>)> = Vec::new();
        for (a, key) in keys.iter().enumerate() {
            match groups.iter_mut().find(|(g, _)| g == key) {
                Some((_, archs)) => archs.push(a),
                None => groups.push((*key, vec![a])),
            }
        }
        let shape = x.size();
        let (n, c, h, w) = (shape[0], shape[1] / k as i64, shape[2], shape[3]);
        let index = |archs: &[usize]| {
            Tensor::from_slice(&archs.iter().map(|&a| a as i64).collect::<Vec<_>>())
                .to_device(x.device())
        };
        let mut parts: Vec<Tensor> = Vec::with_capacity(groups.len());
        let mut order: Vec<usize> = Vec::with_capacity(k);
        for (key, archs) in &groups {
            let xs = if archs.len() == k {
                x.shallow_clone()
            } else {
                x.f_view([n, k as i64, c, h, w])?
                    .f_index_select(1, &index(archs))?
                    .f_reshape([n, archs.len() as i64 * c, h, w])?
            };
            let y = match key {
                EdgeKey::Zero => xs.f_mul_scalar(0.0)?,
                EdgeKey::Identity => xs,
                EdgeKey::Conv { .. } => self.relu_conv_bn(
                    archs,
                    |a| match cells[a].edges[e].2 {
                        EdgeOp::Conv(r) => r,
                        _ => unreachable!("grouped by op"),
                    },
                    &xs,
                )?,
                EdgeKey::Pool => {
                    xs.f_avg_pool2d([3, 3], [1, 1], [1, 1], false, false, None::<i64>)?
                }
            };
            if archs.len() == k {
                return Ok(y);
            }
            parts.push(y.f_view([n, archs.len() as i64, c, h, w])?);
            order.extend(archs);
        }
        // The groups' outputs side by side, then each arch's back in its place: one gather.
        let mut place = vec![0usize; k];
        for (position, &a) in order.iter().enumerate() {
            place[a] = position;
        }
        Ok(Tensor::f_cat(&parts, 1)?
            .f_index_select(1, &index(&place))?
            .f_reshape([n, k as i64 * c, h, w])?)
    }
}

/// The skeleton's shape: stem channels, each block's kind and channels, classifier width.
/// Cells that change their channel count are refused edge by edge ([`edge_key`]).
fn layout(net: &Network) -> Vec<(bool, i64, i64)> {
    let mut out = vec![(false, net.stem_conv.c_in, net.stem_conv.c_out)];
    out.extend(net.blocks.iter().map(|b| match b {
        Block::Cell(c) => (false, c.edges.len() as i64, 0),
        Block::Res(r) => (true, r.conv_a.conv.c_in, r.conv_a.conv.c_out),
    }));
    out.push((false, net.c_last, 0));
    out
}

/// Runs `nets` (TSS networks of one dataset, with their `weights`) as one grouped network on
/// the batch `x` (`[N, 3, H, W]`), BN in train mode: each arch's ∂(Σ logits)/∂x when
/// `jacobian`, each arch's ReLU inputs when `relu`. Networks that differ in shape (size-space
/// archs) are refused with [`NetworkError::NotGroupable`].
pub fn grouped_passes(
    nets: &[&Network],
    weights: &[&Weights],
    x: &Tensor,
    jacobian: bool,
    relu: bool,
) -> Result<GroupedPasses, NetworkError> {
    let k = nets.len();
    if k == 0 || weights.len() != k {
        return Err(not_groupable(
            "one set of weights per network, at least one",
        ));
    }
    let first = nets[0];
    let size = first.dataset.input_size();
    let shape = x.size();
    if shape.len() != 4 || shape[1] != 3 || shape[2] != size || shape[3] != size {
        return Err(NetworkError::InputShape { got: shape, size });
    }
    for (net, w) in nets.iter().zip(weights) {
        net.check_weights(w)?;
        if net.dataset != first.dataset || layout(net) != layout(first) {
            return Err(not_groupable(
                "networks of different datasets or channel counts",
            ));
        }
    }
    let _no_grad = (!jacobian).then(tch::no_grad_guard);
    let all: Vec<usize> = (0..k).collect();
    let mut g = Grouped {
        weights,
        relu: relu.then(|| (0..k).map(|_| Vec::new()).collect()),
    };
    let xr = x.f_detach()?.f_repeat([1, k as i64, 1, 1])?;
    let xr = if jacobian {
        xr.set_requires_grad(true)
    } else {
        xr
    };
    let mut h = g.conv(&all, |a| nets[a].stem_conv, &xr)?;
    h = g.bn(&all, |a| nets[a].stem_bn, &h)?;
    for bi in 0..first.blocks.len() {
        h = match &first.blocks[bi] {
            Block::Cell(c0) => {
                let cells = nets
                    .iter()
                    .map(|n| match &n.blocks[bi] {
                        Block::Cell(c) => Ok(c),
                        Block::Res(_) => Err(not_groupable("networks of different layouts")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let mut nodes: Vec<Tensor> = vec![h];
                for to in 1..4 {
                    let mut acc: Option<Tensor> = None;
                    for (e, (from, t, _)) in c0.edges.iter().enumerate() {
                        if *t != to {
                            continue;
                        }
                        let y = g.edge(&cells, e, &nodes[*from])?;
                        acc = Some(match acc {
                            None => y,
                            Some(a) => a.f_add(&y)?,
                        });
                    }
                    nodes.push(acc.expect("every node has inputs"));
                }
                nodes.pop().expect("four nodes")
            }
            Block::Res(_) => {
                let res = |a: usize| match &nets[a].blocks[bi] {
                    Block::Res(r) => *r,
                    Block::Cell(_) => unreachable!("same layouts, checked"),
                };
                let a = g.relu_conv_bn(&all, |a| res(a).conv_a, &h)?;
                let b = g.relu_conv_bn(&all, |a| res(a).conv_b, &a)?;
                let d = h.f_avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None::<i64>)?;
                let d = g.conv(&all, |a| res(a).down, &d)?;
                d.f_add(&b)?
            }
        };
    }
    h = g.bn(&all, |a| nets[a].last_bn, &h)?;
    h = g.relu(&all, |_| "lastact.1".to_string(), &h)?;
    let n = shape[0];
    let pooled = h
        .f_adaptive_avg_pool2d([1, 1])?
        .f_view([n, k as i64, first.c_last])?;
    // Each arch's classifier parameter `index(net)`, stacked: `[K, …]`.
    let stacked = |index: fn(&Network) -> usize| {
        let ts: Vec<&Tensor> = nets
            .iter()
            .zip(weights)
            .map(|(net, w)| &w.tensors[index(net)])
            .collect();
        Tensor::f_stack(&ts, 0)
    };
    let fc_w = stacked(|net| net.fc_w)?;
    let fc_b = stacked(|net| net.fc_b)?;
    let logits =
        Tensor::f_einsum("nkc,koc->nko", &[&pooled, &fc_w], None::<&[i64]>)?.f_add(&fc_b)?;
    let mut out = GroupedPasses {
        relu_inputs: g.relu.take().unwrap_or_default(),
        ..GroupedPasses::default()
    };
    if jacobian {
        let s = logits.f_sum(logits.kind())?;
        let grad = Tensor::f_run_backward(&[&s], &[&xr], false, false)?.remove(0);
        out.jacobians = grad.f_chunk(k as i64, 1)?;
    }
    Ok(out)
}
