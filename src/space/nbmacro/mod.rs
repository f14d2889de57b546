//! NAS-Bench-Macro (Su et al., "Prioritized Architecture Sampling with Monte-Carlo Tree
//! Search", CVPR 2021; `xiusu/NAS-Bench-Macro`): a MobileNetV2-like macro space of 8 searched
//! layers, each an identity or an inverted residual with kernel 3 / expansion 3 or kernel 5 /
//! expansion 6; 3^8 = 6,561 archs, all trained on CIFAR-10 (three seeds each).
//!
//! An arch is written as the benchmark keys it: 8 digits, one per layer, `0` identity, `1`
//! `mb_k3e3`, `2` `mb_k5e6` (`12012201`). The benchmark has no index; the index here is the
//! key read as a base-3 number (the first layer most significant), which is the order of the
//! sorted keys: `00000000` = 0, `22222222` = 6,560.
//!
//! The network (the benchmark's description and training code; its parameter count equals the
//! benchmark's `params` for all 6,561 archs, `tests/space.rs`):
//! * stem: conv 3×3, 3→32, BN, ReLU;
//! * 8 layers in three stages of 2, 3 and 3; the first layer of each stage has stride 2 and
//!   doubles the width (32→64→128→256);
//! * inverted residual (Sandler et al., MobileNetV2, CVPR 2018) `inp → oup`, expansion `t`,
//!   kernel `k`, stride `s`: conv 1×1 `inp→inp·t`, BN, ReLU; depthwise conv `k×k` (groups
//!   `inp·t`), stride `s`, padding `k/2`, BN, ReLU; conv 1×1 `inp·t→oup`, BN; plus the input
//!   when `inp = oup` and `s = 1`;
//! * identity: the input, or where the stride is 2 or the width changes a conv 1×1 with that
//!   stride and BN;
//! * head: conv 1×1 256→1280, BN, ReLU, global average pooling, linear 1280→10.
//!
//! No conv has a bias; every BN is affine.

pub mod features;

use super::{shown, Arch, NatsDataset, SearchSpace, Space, SpaceError};
use crate::graph::{Graph, GraphBuilder};
use crate::rng::SplitMix64;
use std::fmt;
use std::str::FromStr;

/// Number of searched layers.
pub const MACRO_LAYERS: usize = 8;
/// Number of archs: 3^8.
pub const MACRO_SIZE: usize = 6_561;
/// Output width of each searched layer.
pub const MACRO_WIDTHS: [i64; MACRO_LAYERS] = [64, 64, 128, 128, 128, 256, 256, 256];
/// Stride of each searched layer (the first of each stage reduces).
pub const MACRO_STRIDES: [i64; MACRO_LAYERS] = [2, 1, 2, 1, 1, 2, 1, 1];
const STEM_WIDTH: i64 = 32;
const HEAD_WIDTH: i64 = 1280;

/// The choice of one layer, numbered as the benchmark's digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MacroOp {
    /// `0`: the input (projected where the shape changes).
    Identity,
    /// `1`: inverted residual, kernel 3, expansion 3.
    MbK3E3,
    /// `2`: inverted residual, kernel 5, expansion 6.
    MbK5E6,
}

impl MacroOp {
    pub const ALL: [MacroOp; 3] = [MacroOp::Identity, MacroOp::MbK3E3, MacroOp::MbK5E6];

    /// Short name (feature columns).
    pub fn name(self) -> &'static str {
        match self {
            MacroOp::Identity => "id",
            MacroOp::MbK3E3 => "k3e3",
            MacroOp::MbK5E6 => "k5e6",
        }
    }

    /// (kernel, expansion) of an inverted residual.
    pub fn block(self) -> Option<(i64, i64)> {
        match self {
            MacroOp::Identity => None,
            MacroOp::MbK3E3 => Some((3, 3)),
            MacroOp::MbK5E6 => Some((5, 6)),
        }
    }
}

/// A NAS-Bench-Macro arch: the choice of each of the 8 layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacroArch {
    pub layers: [MacroOp; MACRO_LAYERS],
}

impl MacroArch {
    /// The arch whose key, read in base 3, is `index`.
    pub fn from_index(index: usize) -> Result<MacroArch, SpaceError> {
        if index >= MACRO_SIZE {
            return Err(SpaceError::IndexOutOfRange {
                space: Space::Macro,
                index,
                size: MACRO_SIZE,
            });
        }
        let mut layers = [MacroOp::Identity; MACRO_LAYERS];
        let mut i = index;
        for l in (0..MACRO_LAYERS).rev() {
            layers[l] = MacroOp::ALL[i % 3];
            i /= 3;
        }
        Ok(MacroArch { layers })
    }

    /// The key read in base 3.
    pub fn index(&self) -> usize {
        self.layers.iter().fold(0, |i, &op| i * 3 + op as usize)
    }
}

impl SearchSpace for MacroArch {
    const SPACE: Space = Space::Macro;
    const SIZE: usize = MACRO_SIZE;
    const NAMES: &'static [&'static str] = &["macro", "nas-bench-macro", "nasbenchmacro"];
    /// The benchmark records no schedule name.
    const FINAL_HP: &'static str = "";
    /// Measured: benches/README.md, "Macro default vector" (nwot and synflow were the proxies
    /// that raised τ over the arch features and static counts; grad_norm, snip, fisher, zico
    /// and meco_opt did not).
    const DEFAULT_PROXIES: &'static [&'static str] =
        &["params", "flops", "l2_norm", "nwot", "synflow"];
    /// Best of 1 and 3 at 100, 1,000 and 80 % training archs (benches/README.md).
    const MIN_SAMPLES_LEAF: usize = 1;
    /// The mean of the three seeds' CIFAR-10 test accuracies.
    const DEFAULT_LABEL: &'static str = "test_acc";
    const LABEL_FILE: &'static str = "nas_bench_macro/nas-bench-macro_cifar10.json";
    const BENCHMARK: &'static str = "NAS-Bench-Macro";
    /// Every arch is its own class: an identity layer is not a no-op where it reduces.
    const HAS_ISOMORPHS: bool = false;
    const DATASETS: &'static [NatsDataset] = &[NatsDataset::Cifar10];

    fn from_index(index: usize) -> Result<Self, SpaceError> {
        MacroArch::from_index(index)
    }
    fn index(&self) -> usize {
        MacroArch::index(self)
    }
    /// Another choice in one of the eight layers.
    fn mutate(&self, rng: &mut SplitMix64) -> Self {
        let mut layers = self.layers;
        super::mutate_one(&mut layers, &MacroOp::ALL, rng);
        MacroArch { layers }
    }
    fn notation_of(s: &str) -> bool {
        s.len() == MACRO_LAYERS && s.bytes().all(|b| b.is_ascii_digit())
    }
    fn feature_names() -> &'static [String] {
        features::feature_names()
    }
    fn features(&self) -> Vec<f64> {
        features::features(self)
    }
    fn count_names() -> &'static [&'static str] {
        &features::COUNT_NAMES
    }
    fn counts(&self) -> Vec<f64> {
        features::counts(self)
    }
    fn graph(&self, dataset: NatsDataset) -> Graph {
        let size = dataset.input_size();
        let mut b = GraphBuilder::new(3, size, dataset.num_classes());
        let x = b.conv(GraphBuilder::INPUT, "stem.0", 3, STEM_WIDTH, 3, 1, 1, 1);
        let x = b.bn(x, "stem.1", STEM_WIDTH, true);
        let mut x = b.relu(x, "stem.2");
        x = b.mark(x, "stem");
        let mut inp = STEM_WIDTH;
        for (l, &op) in self.layers.iter().enumerate() {
            let (oup, s) = (MACRO_WIDTHS[l], MACRO_STRIDES[l]);
            b.set_block(Some(l as u32));
            let name = format!("layers.{l}");
            x = b.segment(|b| match op.block() {
                None if inp == oup && s == 1 => b.mark(x, "identity"),
                None => {
                    let y = b.conv(x, &format!("{name}.0"), inp, oup, 1, s, 0, 1);
                    let y = b.bn(y, &format!("{name}.1"), oup, true);
                    b.mark(y, "identity")
                }
                Some((k, t)) => {
                    let hidden = inp * t;
                    let y = b.conv(x, &format!("{name}.conv.0"), inp, hidden, 1, 1, 0, 1);
                    let y = b.bn(y, &format!("{name}.conv.1"), hidden, true);
                    let y = b.relu(y, &format!("{name}.conv.2"));
                    let y = b.conv(
                        y,
                        &format!("{name}.conv.3"),
                        hidden,
                        hidden,
                        k,
                        s,
                        k / 2,
                        hidden,
                    );
                    let y = b.bn(y, &format!("{name}.conv.4"), hidden, true);
                    let y = b.relu(y, &format!("{name}.conv.5"));
                    let y = b.conv(y, &format!("{name}.conv.6"), hidden, oup, 1, 1, 0, 1);
                    let y = b.bn(y, &format!("{name}.conv.7"), oup, true);
                    let y = if inp == oup && s == 1 {
                        b.add(vec![x, y], &name)
                    } else {
                        y
                    };
                    b.mark(y, "inverted_residual")
                }
            });
            inp = oup;
        }
        b.set_block(None);
        let x = b.conv(x, "head.0", inp, HEAD_WIDTH, 1, 1, 0, 1);
        let x = b.bn(x, "head.1", HEAD_WIDTH, true);
        let x = b.relu(x, "head.2");
        let x = b.mark(x, "head");
        let (pooled, _) = b.classifier(x, "classifier", HEAD_WIDTH);
        b.mark(pooled, "root");
        b.finish(self.into_arch().named_counts())
    }
    fn into_arch(self) -> Arch {
        Arch::Macro(self)
    }
}

impl fmt::Display for MacroArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &op in &self.layers {
            write!(f, "{}", op as u8)?;
        }
        Ok(())
    }
}

impl FromStr for MacroArch {
    type Err = SpaceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = |why: &str| SpaceError::Malformed {
            space: Space::Macro,
            shown: shown(s),
            why: why.to_string(),
        };
        if t.is_empty() {
            return Err(SpaceError::Empty);
        }
        if t.len() != MACRO_LAYERS {
            return Err(bad(
                "expected 8 digits, one per layer (0 identity, 1 mb_k3e3, 2 mb_k5e6)",
            ));
        }
        let mut layers = [MacroOp::Identity; MACRO_LAYERS];
        for (l, c) in t.chars().enumerate() {
            layers[l] = match c {
                '0' => MacroOp::Identity,
                '1' => MacroOp::MbK3E3,
                '2' => MacroOp::MbK5E6,
                _ => {
                    return Err(bad(&format!(
                        "layer {} is {c:?}: each digit is 0 (identity), 1 (mb_k3e3) or 2 (mb_k5e6)",
                        l + 1
                    )))
                }
            };
        }
        Ok(MacroArch { layers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_the_key_in_base_3() {
        assert_eq!("00000000".parse::<MacroArch>().unwrap().index(), 0);
        assert_eq!("00000012".parse::<MacroArch>().unwrap().index(), 5);
        assert_eq!(
            "22222222".parse::<MacroArch>().unwrap().index(),
            MACRO_SIZE - 1
        );
        for i in [0, 1, 17, 4000, MACRO_SIZE - 1] {
            let a = MacroArch::from_index(i).unwrap();
            assert_eq!(a.index(), i);
            assert_eq!(a.to_string().parse::<MacroArch>().unwrap(), a);
        }
        assert!(MacroArch::from_index(MACRO_SIZE).is_err());
        let e = "12312201".parse::<MacroArch>().unwrap_err().to_string();
        assert!(e.contains("layer 3") && e.contains("'3'"), "{e}");
        assert!("1201".parse::<MacroArch>().is_err());
    }

    /// Parameters of three archs by hand, from the network described in the module doc.
    #[test]
    fn parameter_counts_by_hand() {
        let count = |s: &str| {
            s.parse::<MacroArch>()
                .unwrap()
                .graph(NatsDataset::Cifar10)
                .param_count()
        };
        // stem 3·9·32 + 64; projections 32·64 + 128, 64·128 + 256, 128·256 + 512;
        // head 256·1280 + 2560; classifier 1280·10 + 10.
        let base = 928 + 2176 + 8448 + 33280 + 330240 + 12810;
        assert_eq!(count("00000000"), base);
        assert_eq!(base, 387_882);
        // Layer 2 (64 → 64, stride 1) as mb_k3e3: 64·192 + 384, 192·9 + 384, 192·64 + 128.
        let l2 = 12288 + 384 + 1728 + 384 + 12288 + 128;
        assert_eq!(count("01000000"), base + l2);
        // Layer 1 (32 → 64, stride 2) as mb_k5e6 replaces the projection:
        // 32·192 + 384, 192·25 + 384, 192·64 + 128.
        let l1 = 6144 + 384 + 4800 + 384 + 12288 + 128;
        assert_eq!(count("20000000"), base - 2176 + l1);
    }
}
