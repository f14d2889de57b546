//! K networks run as one grouped network: the forward of the batched engine's shared passes
//! (∂(Σ logits)/∂x and the ReLU inputs), one launch per layer for all K archs instead of K.
//!
//! The K graphs must agree outside their segments (the searched choices, [`crate::graph`]):
//! same ops and shapes, only the weights differ, as for every arch of one NATS-Bench TSS
//! dataset or of NAS-Bench-Macro. The grouped network keeps arch `a`'s channels at
//! `[a·C, (a+1)·C)` of every activation: convolutions run with `groups = K·g` over the
//! concatenated weights, batch norms per channel over the concatenated affine parameters, and
//! the classifier as one batched product. Each segment gathers the archs whose choice is the
//! same, runs it once for them and scatters the result back (a 1×1 edge costs a 1×1
//! convolution, not the 3×3 of a masked form). The input is replicated per arch, so the
//! gradient of the sum of all logits with respect to it holds each arch's own Jacobian. BN
//! statistics are per channel, so no arch sees another's batch: the values are those of K
//! separate networks up to float rounding of the grouped kernels (tolerance in
//! `tests/batched.rs`).

use super::build::{Network, NetworkError, Weights};
use super::forward::{batch_norm_train, channelwise, conv2d};
use crate::graph::{Node, NodeOp};
use std::ops::Range;
use tch::Tensor;

/// What a grouped pass computed, per arch in the order given.
#[derive(Debug, Default)]
pub struct GroupedPasses {
    /// ∂(Σ logits)/∂x of each arch, `[N, C, H, W]` (empty unless asked for).
    pub jacobians: Vec<Tensor>,
    /// Each arch's ReLU inputs in execution order, `(module, input)`, detached (empty unless
    /// asked for).
    pub relu_inputs: Vec<Vec<(String, Tensor)>>,
}

fn not_groupable(why: &str) -> NetworkError {
    NetworkError::NotGroupable(why.to_string())
}

/// One arch's graph in item terms: its items (node ranges) and, for each value, the item
/// whose output it is.
struct Layout<'a> {
    net: &'a Network,
    items: Vec<Range<usize>>,
    item_of_value: Vec<Option<usize>>,
}

impl<'a> Layout<'a> {
    fn new(net: &'a Network) -> Layout<'a> {
        let items = net.graph.items();
        let mut item_of_value = vec![None; net.graph.nodes.len() + 1];
        for (j, r) in items.iter().enumerate() {
            item_of_value[r.end] = Some(j + 1);
        }
        item_of_value[0] = Some(0);
        Layout {
            net,
            items,
            item_of_value,
        }
    }

    /// The item-level inputs of item `j`: the values it reads from before it, as items
    /// (0 = the network input, `j + 1` = item `j`).
    fn item_inputs(&self, j: usize) -> Result<Vec<usize>, NetworkError> {
        let r = &self.items[j];
        let mut out = Vec::new();
        for node in &self.net.graph.nodes[r.clone()] {
            for &v in &node.inputs {
                if v > r.start {
                    continue;
                }
                let item = self.item_of_value[v]
                    .ok_or_else(|| not_groupable("a segment read from inside another"))?;
                if !out.contains(&item) {
                    out.push(item);
                }
            }
        }
        Ok(out)
    }
}

struct Grouped<'a> {
    weights: &'a [&'a Weights],
    relu: Option<Vec<Vec<(String, Tensor)>>>,
}

impl Grouped<'_> {
    /// The tensors of parameter `index(a)` of each arch `a` of `archs`, concatenated (`stack`:
    /// stacked) along dimension 0.
    fn cat(
        &self,
        archs: &[usize],
        index: impl Fn(usize) -> usize,
        stack: bool,
    ) -> Result<Tensor, NetworkError> {
        let ts: Vec<&Tensor> = archs
            .iter()
            .map(|&a| &self.weights[a].tensors[index(a)])
            .collect();
        Ok(if stack {
            Tensor::f_stack(&ts, 0)?
        } else {
            Tensor::f_cat(&ts, 0)?
        })
    }

    /// Node `node(a)` of the archs `archs` on grouped inputs (each arch's channels in turn).
    fn node<'n>(
        &mut self,
        archs: &[usize],
        node: impl Fn(usize) -> &'n Node,
        ins: &[&Tensor],
    ) -> Result<Tensor, NetworkError> {
        let k = archs.len() as i64;
        let first = node(archs[0]);
        let x = ins[0];
        // The archs' channel groups as a dimension: `[N, K, C, …]`.
        let split = |t: &Tensor| -> Result<Tensor, NetworkError> {
            let mut s = t.size();
            let c = s[1] / k;
            s.splice(1..2, [k, c]);
            Ok(t.f_view(s.as_slice())?)
        };
        let merge = |t: Tensor| -> Result<Tensor, NetworkError> {
            let mut s = t.size();
            let kc = s[1] * s[2];
            s.splice(1..3, [kc]);
            Ok(t.f_reshape(s.as_slice())?)
        };
        if let Some(y) = channelwise(&first.op, ins)? {
            return Ok(y);
        }
        Ok(match &first.op {
            NodeOp::Conv(c) => {
                let w = self.cat(
                    archs,
                    |a| match &node(a).op {
                        NodeOp::Conv(c) => c.weight,
                        _ => unreachable!("grouped by op"),
                    },
                    false,
                )?;
                conv2d(x, &w, c, k * c.groups)?
            }
            NodeOp::BatchNorm { affine, .. } => {
                let node = &node;
                let pick = |second: bool| {
                    move |a: usize| match &node(a).op {
                        NodeOp::BatchNorm {
                            affine: Some((w, b)),
                            ..
                        } => {
                            if second {
                                *b
                            } else {
                                *w
                            }
                        }
                        _ => unreachable!("grouped by op"),
                    }
                };
                let (w, b) = match affine {
                    Some(_) => (
                        Some(self.cat(archs, pick(false), false)?),
                        Some(self.cat(archs, pick(true), false)?),
                    ),
                    None => (None, None),
                };
                batch_norm_train(x, w.as_ref(), b.as_ref())?
            }
            NodeOp::Relu => {
                if let Some(taps) = self.relu.as_mut() {
                    let parts = x.f_chunk(k, 1)?;
                    for (&a, part) in archs.iter().zip(parts) {
                        taps[a].push((node(a).name.clone(), part.f_detach()?));
                    }
                }
                x.f_relu()?
            }
            NodeOp::Concat => {
                let parts = ins
                    .iter()
                    .map(|t| split(t))
                    .collect::<Result<Vec<_>, _>>()?;
                merge(Tensor::f_cat(&parts, 2)?)?
            }
            NodeOp::Narrow { start, len } => merge(split(x)?.f_narrow(2, *start, *len)?)?,
            NodeOp::GlobalAvgPool => x.f_adaptive_avg_pool2d([1, 1])?.f_flatten(1, -1)?,
            NodeOp::Linear { bias, .. } => {
                let linear = |a: usize| match &node(a).op {
                    NodeOp::Linear { weight, bias, .. } => (*weight, *bias),
                    _ => unreachable!("grouped by op"),
                };
                let w = self.cat(archs, |a| linear(a).0, true)?;
                let y = Tensor::f_einsum("nkc,koc->nko", &[&split(x)?, &w], None::<&[i64]>)?;
                let y = match bias {
                    Some(_) => {
                        y.f_add(&self.cat(archs, |a| linear(a).1.expect("same op"), true)?)?
                    }
                    None => y,
                };
                merge(y)?
            }
            NodeOp::Mark(_) => x.shallow_clone(),
            NodeOp::MaxPool { .. }
            | NodeOp::AvgPool { .. }
            | NodeOp::Add
            | NodeOp::Zero
            | NodeOp::Crop { .. } => {
                unreachable!("computed by channelwise")
            }
        })
    }

    /// Segment item `j` of every arch on the grouped value `x` (`[N, K·C, H, W]`): each group of
    /// archs with the same choice runs once, the results go back to their archs' places.
    fn segment(
        &mut self,
        layouts: &[Layout],
        j: usize,
        x: &Tensor,
    ) -> Result<Tensor, NetworkError> {
        let k = layouts.len();
        let mut groups: Vec<(Vec<_>, Vec<usize>)> = Vec::new();
        for (a, l) in layouts.iter().enumerate() {
            let key = l.net.graph.segment_key(l.items[j].clone());
            match groups.iter_mut().find(|(g, _)| *g == key) {
                Some((_, archs)) => archs.push(a),
                None => groups.push((key, vec![a])),
            }
        }
        let shape = x.size();
        let c = shape[1] / k as i64;
        let index = |archs: &[usize]| {
            Tensor::from_slice(&archs.iter().map(|&a| a as i64).collect::<Vec<_>>())
                .to_device(x.device())
        };
        let mut parts: Vec<Tensor> = Vec::with_capacity(groups.len());
        let mut order: Vec<usize> = Vec::with_capacity(k);
        for (_, archs) in &groups {
            let g = archs.len() as i64;
            let xs = if archs.len() == k {
                x.shallow_clone()
            } else {
                let mut s = shape.clone();
                s.splice(1..2, [k as i64, c]);
                let mut back = shape.clone();
                back[1] = g * c;
                x.f_view(s.as_slice())?
                    .f_index_select(1, &index(archs))?
                    .f_reshape(back.as_slice())?
            };
            let start = layouts[archs[0]].items[j].start;
            let len = layouts[archs[0]].items[j].len();
            let mut vals: Vec<Tensor> = Vec::with_capacity(len);
            for i in 0..len {
                let ins: Vec<&Tensor> = layouts[archs[0]].net.graph.nodes[start + i]
                    .inputs
                    .iter()
                    .map(|&v| if v > start { &vals[v - start - 1] } else { &xs })
                    .collect();
                let y = self.node(
                    archs,
                    |a| &layouts[a].net.graph.nodes[layouts[a].items[j].start + i],
                    &ins,
                )?;
                vals.push(y);
            }
            let y = vals.pop().expect("a segment has nodes");
            if archs.len() == k {
                return Ok(y);
            }
            let mut s = y.size();
            let co = s[1] / g;
            s.splice(1..2, [g, co]);
            parts.push(y.f_view(s.as_slice())?);
            order.extend(archs);
        }
        // The groups' outputs side by side, then each arch's back in its place: one gather.
        let mut place = vec![0usize; k];
        for (position, &a) in order.iter().enumerate() {
            place[a] = position;
        }
        let joined = Tensor::f_cat(&parts, 1)?.f_index_select(1, &index(&place))?;
        let mut s = joined.size();
        let kc = s[1] * s[2];
        s.splice(1..3, [kc]);
        Ok(joined.f_reshape(s.as_slice())?)
    }
}

/// Checks that the archs agree outside their segments (ops, shapes, wiring) and that their
/// segments read and give values of equal shapes.
fn check_layouts(layouts: &[Layout]) -> Result<(), NetworkError> {
    let first = &layouts[0];
    let g0 = &first.net.graph;
    for l in layouts {
        let g = &l.net.graph;
        if g.input != g0.input || g.classes != g0.classes || l.items.len() != first.items.len() {
            return Err(not_groupable("networks of different inputs or layouts"));
        }
        for (j, (r, r0)) in l.items.iter().zip(&first.items).enumerate() {
            let segment = g.nodes[r.start].segment.is_some();
            if segment != g0.nodes[r0.start].segment.is_some()
                || l.item_inputs(j)? != first.item_inputs(j)?
                || l.net.shapes[r.end] != first.net.shapes[r0.end]
            {
                return Err(not_groupable("networks of different layouts"));
            }
            if !segment && g.segment_key(r.clone()) != g0.segment_key(r0.clone()) {
                return Err(not_groupable(
                    "networks of different channel counts or layers outside their searched choices",
                ));
            }
            if segment && first.item_inputs(j)?.len() != 1 {
                return Err(not_groupable("a searched choice with several inputs"));
            }
        }
    }
    Ok(())
}

/// Runs `nets` (with their `weights`) as one grouped network on the batch `x`
/// (`[N, C, H, W]`), BN in train mode: each arch's ∂(Σ logits)/∂x when `jacobian`, each arch's
/// ReLU inputs when `relu`. Networks that differ outside their searched choices (size-space
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
    nets[0].check_input(x)?;
    for (net, w) in nets.iter().zip(weights) {
        net.check_weights(w)?;
    }
    let layouts: Vec<Layout> = nets.iter().map(|n| Layout::new(n)).collect();
    check_layouts(&layouts)?;
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
    let first = &layouts[0];
    // Item values: 0 the input, j + 1 item j's output.
    let out_item = first.item_of_value[first.net.graph.output]
        .ok_or_else(|| not_groupable("logits inside a searched choice"))?;
    let inputs: Vec<Vec<usize>> = (0..first.items.len())
        .map(|j| first.item_inputs(j))
        .collect::<Result<_, _>>()?;
    // The last item that reads each value: a value is dropped once read for the last time.
    let mut last_use = vec![0; first.items.len() + 1];
    for (j, ins) in inputs.iter().enumerate() {
        for &i in ins {
            last_use[i] = j;
        }
    }
    let mut vals: Vec<Option<Tensor>> = vec![Some(xr.shallow_clone())];
    for (j, r) in first.items.iter().enumerate() {
        let ins = &inputs[j];
        let val = |i: usize| vals[i].as_ref().expect("kept until its last use");
        let y = if first.net.graph.nodes[r.start].segment.is_some() {
            g.segment(&layouts, j, val(ins[0]))?
        } else {
            let node_ins: Vec<&Tensor> = first.net.graph.nodes[r.start]
                .inputs
                .iter()
                .map(|&v| val(first.item_of_value[v].expect("checked")))
                .collect();
            g.node(
                &all,
                |a| &nets[a].graph.nodes[layouts[a].items[j].start],
                &node_ins,
            )?
        };
        for &i in ins {
            if last_use[i] == j && i != out_item {
                vals[i] = None;
            }
        }
        vals.push(Some(y));
    }
    let logits = vals[out_item].as_ref().expect("the logits are kept");
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
