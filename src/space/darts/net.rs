//! The DARTS evaluation network (`NetworkCIFAR` of `quark0/darts`, `model.py` and
//! `operations.py`) as a network graph, at NAS-Bench-301's size.
//!
//! * stem: conv 3×3 3→3C, BN;
//! * `cells` cells, reduction cells at `cells/3` and `2·cells/3` (channels doubled); a cell of C
//!   channels reads the outputs of the two previous cells through ReLU–conv 1×1–BN
//!   (a factorized reduce where the cell before the previous one halved the map), each node
//!   sums its two ops' outputs, the cell concatenates its four nodes (4C channels);
//! * ops, stride 2 on the two cell inputs of a reduction cell: 3×3 max and average pooling
//!   (padding 1, the average without the padding), skip (identity, or a factorized reduce at
//!   stride 2), separable convs (ReLU, depthwise k×k, 1×1, BN, twice, the first with the stride)
//!   and dilated convs (ReLU, depthwise k×k dilation 2, 1×1, BN);
//! * factorized reduce C→C': ReLU, then two 1×1 convs of stride 2 to C'/2, the second on the
//!   map shifted by one row and column, concatenated, BN;
//! * global average pooling, linear 4C→10.
//!
//! No conv has a bias. NAS-Bench-301 (as NAS-Bench-Suite-Zero computed its proxies) builds the
//! ops' BNs without affine parameters and the stem's and the cell inputs' with them.

use super::{DartsArch, DartsCell, DartsOp, DARTS_NODES};
use crate::graph::{Graph, GraphBuilder, NodeOp};
use crate::space::{NatsDataset, SearchSpace};

/// The network's size and BN choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetSize {
    /// Initial channels C.
    pub channels: i64,
    pub cells: usize,
    /// Whether the ops' BNs have affine parameters.
    pub op_affine: bool,
}

/// NAS-Bench-301's network (PROVENANCE §14).
pub const NB301: NetSize = NetSize {
    channels: 32,
    cells: 8,
    op_affine: false,
};

/// The graph of `arch` at `size`.
pub fn graph(arch: &DartsArch, dataset: NatsDataset, size: &NetSize) -> Graph {
    let mut b = GraphBuilder::new(3, dataset.input_size(), dataset.num_classes());
    let c0 = 3 * size.channels;
    let x = b.conv(GraphBuilder::INPUT, "stem.0", 3, c0, 3, 1, 1, 1);
    let x = b.bn(x, "stem.1", c0, true);
    let stem = b.mark(x, "stem");
    let (mut s0, mut s1) = (stem, stem);
    let (mut c_pp, mut c_p, mut c) = (c0, c0, size.channels);
    let mut reduction_prev = false;
    for i in 0..size.cells {
        let reduction = i == size.cells / 3 || i == 2 * size.cells / 3;
        if reduction {
            c *= 2;
        }
        let name = format!("cells.{i}");
        b.set_block(Some(i as u32));
        let cell = if reduction {
            &arch.reduce
        } else {
            &arch.normal
        };
        let out = b.segment(|b| {
            let pre0 = if reduction_prev {
                factorized_reduce(b, s0, &format!("{name}.preprocess0"), c_pp, c, true)
            } else {
                relu_conv_bn(b, s0, &format!("{name}.preprocess0"), c_pp, c)
            };
            let pre1 = relu_conv_bn(b, s1, &format!("{name}.preprocess1"), c_p, c);
            lay_cell(b, cell, [pre0, pre1], &name, c, reduction, size.op_affine)
        });
        let out = b.mark(
            out,
            if reduction {
                "reduction_cell"
            } else {
                "normal_cell"
            },
        );
        (s0, s1) = (s1, out);
        (c_pp, c_p) = (c_p, 4 * c);
        reduction_prev = reduction;
    }
    b.set_block(None);
    let (pooled, _) = b.classifier(s1, "classifier", c_p);
    b.mark(pooled, "root");
    b.finish(arch.into_arch().named_counts())
}

fn relu_conv_bn(b: &mut GraphBuilder, x: usize, name: &str, c_in: i64, c_out: i64) -> usize {
    let y = b.relu(x, &format!("{name}.op.0"));
    let y = b.conv(y, &format!("{name}.op.1"), c_in, c_out, 1, 1, 0, 1);
    b.bn(y, &format!("{name}.op.2"), c_out, true)
}

fn factorized_reduce(
    b: &mut GraphBuilder,
    x: usize,
    name: &str,
    c_in: i64,
    c_out: i64,
    affine: bool,
) -> usize {
    let r = b.relu(x, &format!("{name}.relu"));
    let y1 = b.conv(r, &format!("{name}.conv_1"), c_in, c_out / 2, 1, 2, 0, 1);
    let shifted = b.node(
        NodeOp::Crop { top: 1, left: 1 },
        vec![r],
        format!("{name}.shift"),
    );
    let y2 = b.conv(
        shifted,
        &format!("{name}.conv_2"),
        c_in,
        c_out / 2,
        1,
        2,
        0,
        1,
    );
    let y = b.node(NodeOp::Concat, vec![y1, y2], format!("{name}.cat"));
    b.bn(y, &format!("{name}.bn"), c_out, affine)
}

fn lay_cell(
    b: &mut GraphBuilder,
    cell: &DartsCell,
    inputs: [usize; 2],
    name: &str,
    c: i64,
    reduction: bool,
    affine: bool,
) -> usize {
    let mut states = inputs.to_vec();
    for node in 0..DARTS_NODES {
        let outs: Vec<usize> = (0..2)
            .map(|k| {
                let e = 2 * node + k;
                let (input, op) = cell.edges[e];
                let stride = if reduction && input < 2 { 2 } else { 1 };
                lay_op(
                    b,
                    op,
                    states[input as usize],
                    &format!("{name}._ops.{e}"),
                    c,
                    stride,
                    affine,
                )
            })
            .collect();
        states.push(b.add(outs, &format!("{name}.node{node}")));
    }
    b.node(
        NodeOp::Concat,
        states[2..].to_vec(),
        format!("{name}.concat"),
    )
}

fn lay_op(
    b: &mut GraphBuilder,
    op: DartsOp,
    x: usize,
    name: &str,
    c: i64,
    stride: i64,
    affine: bool,
) -> usize {
    match op {
        DartsOp::MaxPool3x3 => b.node(
            NodeOp::MaxPool {
                kernel: 3,
                stride,
                padding: 1,
            },
            vec![x],
            name,
        ),
        DartsOp::AvgPool3x3 => b.node(
            NodeOp::AvgPool {
                kernel: 3,
                stride,
                padding: 1,
                count_include_pad: false,
            },
            vec![x],
            name,
        ),
        DartsOp::SkipConnect if stride == 1 => x,
        DartsOp::SkipConnect => factorized_reduce(b, x, name, c, c, affine),
        DartsOp::SepConv3x3 | DartsOp::SepConv5x5 => {
            let k = if op == DartsOp::SepConv3x3 { 3 } else { 5 };
            let y = b.relu(x, &format!("{name}.op.0"));
            let y = b.conv(y, &format!("{name}.op.1"), c, c, k, stride, k / 2, c);
            let y = b.conv(y, &format!("{name}.op.2"), c, c, 1, 1, 0, 1);
            let y = b.bn(y, &format!("{name}.op.3"), c, affine);
            let y = b.relu(y, &format!("{name}.op.4"));
            let y = b.conv(y, &format!("{name}.op.5"), c, c, k, 1, k / 2, c);
            let y = b.conv(y, &format!("{name}.op.6"), c, c, 1, 1, 0, 1);
            b.bn(y, &format!("{name}.op.7"), c, affine)
        }
        DartsOp::DilConv3x3 | DartsOp::DilConv5x5 => {
            let k = if op == DartsOp::DilConv3x3 { 3 } else { 5 };
            let y = b.relu(x, &format!("{name}.op.0"));
            let y = b.conv_dilated(y, &format!("{name}.op.1"), c, c, k, stride, k - 1, 2, c);
            let y = b.conv(y, &format!("{name}.op.2"), c, c, 1, 1, 0, 1);
            b.bn(y, &format!("{name}.op.3"), c, affine)
        }
    }
}
