//! SSS arch features and counts, computed from the channel string alone.
//!
//! * `layer1_c8` … `layer5_c64` — the channel-per-layer one-hot encoding, 5 layers × 8 counts,
//!   the size space's exact encoding (the arch features).
//! * `ch_mean`, `ch_min`, `ch_max`, `ch_std` (population std) of the 5 channel counts, and each
//!   count `c1` … `c5` (the counts the engine writes as static proxies).

use super::{SssArch, SSS_CHANNELS, SSS_LAYERS};
use std::sync::OnceLock;

/// Names of the SSS arch features, in column order.
pub fn feature_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        (1..=SSS_LAYERS)
            .flat_map(|l| SSS_CHANNELS.iter().map(move |c| format!("layer{l}_c{c}")))
            .collect()
    })
}

/// The SSS arch features of `a`, in [`feature_names`] order.
pub fn features(a: &SssArch) -> Vec<f64> {
    a.channels
        .iter()
        .flat_map(|&c| {
            SSS_CHANNELS
                .iter()
                .map(move |&k| if k == c { 1.0 } else { 0.0 })
        })
        .collect()
}

/// Names of the SSS counts, in column order.
pub const COUNT_NAMES: [&str; 9] = [
    "ch_mean", "ch_min", "ch_max", "ch_std", "c1", "c2", "c3", "c4", "c5",
];

/// The SSS counts of `a`, in [`COUNT_NAMES`] order.
pub fn counts(a: &SssArch) -> Vec<f64> {
    let c = a.channels.map(|c| c as f64);
    let mean = c.iter().sum::<f64>() / 5.0;
    let std = (c.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 5.0).sqrt();
    let mut v = vec![
        mean,
        c.iter().cloned().fold(f64::INFINITY, f64::min),
        c.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        std,
    ];
    v.extend(c);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot() {
        let a: SssArch = "8:8:40:32:64".parse().unwrap();
        let on: Vec<&str> = feature_names()
            .iter()
            .zip(features(&a))
            .filter(|(_, x)| *x == 1.0)
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(
            on,
            [
                "layer1_c8",
                "layer2_c8",
                "layer3_c40",
                "layer4_c32",
                "layer5_c64"
            ]
        );
    }

    #[test]
    fn channel_counts() {
        let a: SssArch = "8:8:40:32:40".parse().unwrap();
        let v = counts(&a);
        let g = |n: &str| v[COUNT_NAMES.iter().position(|m| *m == n).unwrap()];
        assert_eq!(g("ch_mean"), 25.6);
        assert_eq!(g("ch_min"), 8.0);
        assert_eq!(g("ch_max"), 40.0);
        assert_eq!(g("c3"), 40.0);
        assert!((g("ch_std") - 215.04f64.sqrt()).abs() < 1e-12);
    }
}
