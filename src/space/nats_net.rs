//! The NATS-Bench network (TSS and SSS) as a network graph, laid out exactly as xautodl builds
//! it, so that parameter names equal xautodl's `state_dict` keys and the graph's execution order
//! is PyTorch's.
//!
//! Reference (read, not copied): `xautodl==1.0.0`, `models/cell_infers/tiny_network.py`
//! (`TinyNetwork`, TSS), `models/shape_infers/InferTinyCellNet.py` (`DynamicShapeTinyNet`, SSS),
//! `models/cell_infers/cells.py` (`InferCell`) and `models/cell_operations.py` (`ReLUConvBN`,
//! `ResNetBasicblock`, `POOLING`, `FactorizedReduce`, `Zero`, `Identity`).
//!
//! * TSS: stem (3×3 conv 3→16, BN), 5 cells at C=16, a ResNet reduction block to 32, 5 cells,
//!   a reduction block to 64, 5 cells, then BN, ReLU, global average pooling and a linear
//!   classifier.
//! * SSS: the same skeleton with one cell per stage and five searched channel counts
//!   `c1:…:c5` (stem and first cell at c1, reduction to c2, cell c2→c3, reduction to c4,
//!   cell c4→c5), always with the best TSS cell.
//!
//! Module marks (MeCo's hook points) follow xautodl's module tree; for TSS they also follow
//! foresight's `NAS201Model` (`foresight/models/nasbench2.py`, which MeCo uses for TSS): a
//! `stem` wrapper (the stem's output marked twice) and `nn.Sequential` stacks of 5 cells (the
//! last cell of each stage marked twice).

use super::tss::{Op, TSS_EDGES};
use super::NatsDataset;
use crate::graph::{Graph, GraphBuilder, NodeOp};

/// The layers of a NATS-Bench network: one cell repeated over `layers`, each
/// `(channels, reduction?)`; a reduction layer is a residual block that halves the resolution.
pub(super) struct Skeleton {
    pub cell: [Op; 6],
    pub layers: Vec<(i64, bool)>,
    /// Whether to lay out foresight's extra module marks (TSS, see the module doc).
    pub foresight_marks: bool,
}

/// `ReLUConvBN` registered as `{name}.op.1` (conv) and `{name}.op.2` (BN), its ReLU tapped as
/// `{name}.op`.
fn relu_conv_bn(
    b: &mut GraphBuilder,
    x: usize,
    name: &str,
    c_in: i64,
    c_out: i64,
    k: i64,
    stride: i64,
) -> usize {
    let y = b.relu(x, &format!("{name}.op"));
    let y = b.conv(
        y,
        &format!("{name}.op.1"),
        c_in,
        c_out,
        k,
        stride,
        (k - 1) / 2,
        1,
    );
    let y = b.bn(y, &format!("{name}.op.2"), c_out, true);
    let y = b.mark(y, "seq");
    b.mark(y, "rcb")
}

/// One cell edge: `op` from `x` (`c_in` channels) to `c_out` channels.
fn edge(b: &mut GraphBuilder, x: usize, layer: &str, op: Op, c_in: i64, c_out: i64) -> usize {
    match op {
        Op::None => b.node(NodeOp::Zero, vec![x], layer),
        Op::SkipConnect if c_in == c_out => b.mark(x, "identity"),
        // `FactorizedReduce` at stride 1 (a skip edge that changes channels, SSS): conv 1×1 → BN.
        Op::SkipConnect => {
            let y = b.conv(x, &format!("{layer}.conv"), c_in, c_out, 1, 1, 0, 1);
            let y = b.bn(y, &format!("{layer}.bn"), c_out, true);
            b.mark(y, "freduce")
        }
        Op::NorConv1x1 => relu_conv_bn(b, x, layer, c_in, c_out, 1, 1),
        Op::NorConv3x3 => relu_conv_bn(b, x, layer, c_in, c_out, 3, 1),
        // 3×3 average pooling, stride 1, padding 1, `count_include_pad=False`, preceded by a 1×1
        // `ReLUConvBN` when the channel count changes.
        Op::AvgPool3x3 => {
            let y = if c_in != c_out {
                relu_conv_bn(b, x, &format!("{layer}.preprocess"), c_in, c_out, 1, 1)
            } else {
                x
            };
            let y = b.node(
                NodeOp::AvgPool {
                    kernel: 3,
                    stride: 1,
                    padding: 1,
                    count_include_pad: false,
                },
                vec![y],
                "avgpool",
            );
            b.mark(y, "pooling")
        }
    }
}

/// `InferCell(genotype, c_in, c_out, stride=1)`: node `j` sums the edges into it in arch-string
/// order; edges reading node 0 map c_in → c_out, the others c_out → c_out. Each edge is a
/// segment.
fn cell(b: &mut GraphBuilder, x: usize, name: &str, ops: &[Op; 6], c_in: i64, c_out: i64) -> usize {
    let mut nodes = vec![x];
    for to in 1..4 {
        let mut ins = Vec::new();
        for (k, (&(from, t), &op)) in TSS_EDGES.iter().zip(ops).enumerate() {
            if t != to {
                continue;
            }
            let ci = if from == 0 { c_in } else { c_out };
            let layer = format!("{name}.layers.{k}");
            ins.push(b.segment(|b| edge(b, nodes[from], &layer, op, ci, c_out)));
        }
        let sum = b.add(ins, &format!("{name}.node{to}"));
        nodes.push(sum);
    }
    nodes[3]
}

/// `ResNetBasicblock` with stride 2: two `ReLUConvBN` 3×3 plus a residual of 2×2 average
/// pooling followed by a 1×1 conv.
fn res_block(b: &mut GraphBuilder, x: usize, name: &str, c_in: i64, c_out: i64) -> usize {
    let a = relu_conv_bn(b, x, &format!("{name}.conv_a"), c_in, c_out, 3, 2);
    let y = relu_conv_bn(b, a, &format!("{name}.conv_b"), c_out, c_out, 3, 1);
    let d = b.node(
        NodeOp::AvgPool {
            kernel: 2,
            stride: 2,
            padding: 0,
            count_include_pad: true,
        },
        vec![x],
        "avgpool",
    );
    let d = b.conv(d, &format!("{name}.downsample.1"), c_in, c_out, 1, 1, 0, 1);
    let d = b.mark(d, "downsample");
    let out = b.add(vec![d, y], name);
    b.mark(out, "res")
}

/// The network of `skeleton` for `dataset`, with the space's static `counts`.
pub(super) fn graph(
    skeleton: &Skeleton,
    dataset: NatsDataset,
    counts: Vec<(String, f64)>,
) -> Graph {
    let size = dataset.input_size();
    let mut b = GraphBuilder::new(3, size, dataset.num_classes());
    let layers = &skeleton.layers;
    let c0 = layers[0].0;
    let h = b.conv(GraphBuilder::INPUT, "stem.0", 3, c0, 3, 1, 1, 1);
    let mut h = b.bn(h, "stem.1", c0, true);
    h = b.mark(h, "stem");
    if skeleton.foresight_marks {
        h = b.mark(h, "stem");
    }
    let mut c_prev = c0;
    for (i, &(c, reduction)) in layers.iter().enumerate() {
        let name = format!("cells.{i}");
        b.set_block(Some(i as u32));
        h = if reduction {
            res_block(&mut b, h, &name, c_prev, c)
        } else {
            let out = cell(&mut b, h, &name, &skeleton.cell, c_prev, c);
            let label = format!("cell{i}");
            let out = b.mark(out, &label);
            let last_of_stage = layers.get(i + 1).is_none_or(|l| l.1);
            if skeleton.foresight_marks && last_of_stage {
                b.mark(out, &label)
            } else {
                out
            }
        };
        c_prev = c;
    }
    b.set_block(None);
    let h = b.bn(h, "lastact.0", c_prev, true);
    let h = b.relu(h, "lastact.1");
    let h = b.mark(h, "lastact");
    let (pooled, _) = b.classifier(h, "classifier", c_prev);
    b.mark(pooled, "root");
    b.finish(counts)
}
