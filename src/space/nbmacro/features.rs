//! NAS-Bench-Macro arch features and counts, from the 8-digit key alone.
//!
//! * `layer1_id` … `layer8_k5e6` — the choice-per-layer one-hot encoding, 8 layers × 3 choices;
//! * `stage1_id` … `stage3_k5e6` — how many layers of each stage (2, 3, 3 layers) take each
//!   choice, 3 stages × 3 choices: the same information summed, where a forest trained on few
//!   archs would otherwise have to find the sum itself;
//! * `layer1_expansion` … `layer8_expansion` — each layer's expansion (0 identity, 3, 6), and
//!   `layer1_kernel` … `layer8_kernel` its kernel (0, 3, 5): the choices as ordered numbers
//!   (together the arch features; what each adds: benches/README.md, "Macro default vector").
//! * `macro_id`, `macro_k3e3`, `macro_k5e6` — how many layers take each choice (the counts the
//!   engine writes as static proxies).

use super::{MacroArch, MacroOp, MACRO_LAYERS};
use std::sync::OnceLock;

/// The layers of each stage (the first of each reduces).
const STAGES: [std::ops::Range<usize>; 3] = [0..2, 2..5, 5..8];

/// Names of the arch features, in column order.
pub fn feature_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = (1..=MACRO_LAYERS)
            .flat_map(|l| {
                MacroOp::ALL
                    .iter()
                    .map(move |o| format!("layer{l}_{}", o.name()))
            })
            .collect();
        names.extend((1..=STAGES.len()).flat_map(|s| {
            MacroOp::ALL
                .iter()
                .map(move |o| format!("stage{s}_{}", o.name()))
        }));
        names.extend((1..=MACRO_LAYERS).map(|l| format!("layer{l}_mflops")));
        names
    })
}

/// The arch features of `a`, in [`feature_names`] order.
pub fn features(a: &MacroArch) -> Vec<f64> {
    let mut f: Vec<f64> = a
        .layers
        .iter()
        .flat_map(|&op| {
            MacroOp::ALL
                .iter()
                .map(move |&o| f64::from(u8::from(o == op)))
        })
        .collect();
    for stage in STAGES {
        for o in MacroOp::ALL {
            f.push(a.layers[stage.clone()].iter().filter(|&&l| l == o).count() as f64);
        }
    }
    f.extend(layer_mflops(a));
    f
}

/// Multiply-accumulates of each searched layer (millions, one 32×32 image), from its graph.
fn layer_mflops(a: &MacroArch) -> Vec<f64> {
    use crate::space::SearchSpace;
    let g = a.graph(crate::space::NatsDataset::Cifar10);
    let shapes = g.shapes().expect("the Macro graph is well formed");
    let mut out = vec![0.0; MACRO_LAYERS];
    for i in 0..g.nodes.len() {
        if let Some(b) = g.node_block(i) {
            out[b as usize] += g.node_flops(i, &shapes) as f64 / 1e6;
        }
    }
    out
}

/// Names of the counts, in column order.
pub const COUNT_NAMES: [&str; 3] = ["macro_id", "macro_k3e3", "macro_k5e6"];

/// The counts of `a`, in [`COUNT_NAMES`] order.
pub fn counts(a: &MacroArch) -> Vec<f64> {
    MacroOp::ALL
        .iter()
        .map(|&o| a.layers.iter().filter(|&&l| l == o).count() as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_of_one_arch_by_hand() {
        let a: MacroArch = "12012201".parse().unwrap();
        let f = features(&a);
        assert_eq!(f.len(), feature_names().len());
        assert_eq!(f.len(), 24 + 9 + 8);
        // Stages 12 | 012 | 201.
        assert_eq!(&f[24..33], &[0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        // Layer 3 identity 64 → 128 at stride 2: a 1×1 projection to 8×8.
        assert_eq!(f[35], 64.0 * 128.0 * 64.0 / 1e6);
        assert_eq!(counts(&a), vec![2.0, 3.0, 3.0]);
    }
}
