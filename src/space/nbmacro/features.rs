//! NAS-Bench-Macro arch features and counts, from the 8-digit key alone.
//!
//! * `layer1_id` … `layer8_k5e6` — the choice-per-layer one-hot encoding, 8 layers × 3 choices
//!   (the arch features).
//! * `macro_id`, `macro_k3e3`, `macro_k5e6` — how many layers take each choice (the counts the
//!   engine writes as static proxies).

use super::{MacroArch, MacroOp, MACRO_LAYERS};
use std::sync::OnceLock;

/// Names of the arch features, in column order.
pub fn feature_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        (1..=MACRO_LAYERS)
            .flat_map(|l| {
                MacroOp::ALL
                    .iter()
                    .map(move |o| format!("layer{l}_{}", o.name()))
            })
            .collect()
    })
}

/// The arch features of `a`, in [`feature_names`] order.
pub fn features(a: &MacroArch) -> Vec<f64> {
    a.layers
        .iter()
        .flat_map(|&op| {
            MacroOp::ALL
                .iter()
                .map(move |&o| f64::from(u8::from(o == op)))
        })
        .collect()
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
