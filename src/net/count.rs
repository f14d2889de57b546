//! Static counts: parameters and FLOPs exactly as NATS-Bench reports them.
//!
//! NATS-Bench's `params` is `count_parameters_in_MB` (all `nn.Parameter`s, BN affine included,
//! running statistics excluded) and its `flops` comes from xautodl's `get_model_infos`
//! (`utils/flop_benchmark.py`) on one input image: per Conv2d
//! `k_h·k_w·C_in·C_out/groups · H_out·W_out` (+ `C_out·H_out·W_out` with a bias), per Linear
//! `in·out` (+ `out` with a bias). Pooling (the cells' 3×3 average pooling and the reduction
//! blocks' 2×2 one), BN, ReLU and additions are not counted: checked against the published
//! `flops` of all 9,445 Suite-Zero archs and the NATS-Bench fixtures. Both in millions.

use super::build::{Block, Conv, EdgeOp, Network};

impl Network {
    /// Number of parameters (scalars), as NATS-Bench counts them.
    pub fn param_count(&self) -> u64 {
        self.params
            .iter()
            .map(|p| p.shape.iter().product::<i64>() as u64)
            .sum()
    }

    /// Parameters in millions (NATS-Bench `params`).
    pub fn params_m(&self) -> f64 {
        self.param_count() as f64 / 1e6
    }

    /// FLOPs of one forward pass on one image, as NATS-Bench counts them.
    pub fn flop_count(&self) -> u64 {
        fn conv(c: &Conv, hw: i64) -> (u64, i64) {
            let out = (hw + 2 * c.pad - c.k) / c.stride + 1;
            ((c.k * c.k * c.c_in * c.c_out * out * out) as u64, out)
        }
        let mut hw = self.dataset.input_size();
        let (mut flops, _) = conv(&self.stem_conv, hw);
        for block in &self.blocks {
            match block {
                Block::Cell(cell) => {
                    for (_, _, op) in &cell.edges {
                        flops += match op {
                            EdgeOp::Zero | EdgeOp::Identity => 0,
                            EdgeOp::Conv(r) => conv(&r.conv, hw).0,
                            EdgeOp::Reduce { conv: c, .. } => conv(c, hw).0,
                            EdgeOp::Pool { pre } => pre.map_or(0, |r| conv(&r.conv, hw).0),
                        };
                    }
                }
                Block::Res(r) => {
                    let (fa, out) = conv(&r.conv_a.conv, hw);
                    let (fb, _) = conv(&r.conv_b.conv, out);
                    let (fd, _) = conv(&r.down, out);
                    flops += fa + fb + fd;
                    hw = out;
                }
            }
        }
        let classes = self.dataset.num_classes();
        flops + (self.c_last * classes + classes) as u64
    }

    /// FLOPs in millions (NATS-Bench `flops`).
    pub fn flops_m(&self) -> f64 {
        self.flop_count() as f64 / 1e6
    }
}
