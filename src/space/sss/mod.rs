//! NATS-Bench size search space (SSS): the best TSS cell
//! (`|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|`)
//! in a fixed macro skeleton whose five channel counts are searched, each in {8, 16, …, 64}
//! (Dong et al., NATS-Bench, TPAMI 2021). Strings are `c1:c2:c3:c4:c5`; the official index order
//! is lexicographic with the last channel varying fastest (`8:8:8:8:8` = 0,
//! `64:64:64:64:64` = 32,767), as in `NATS-sss-v1_0-50262` `meta_archs`.

pub mod features;

use super::nats_net::{self, Skeleton};
use super::{shown, Arch, NatsDataset, SearchSpace, Space, SpaceError, TssArch, MAX_ARCH_BYTES};
use crate::graph::Graph;
use crate::rng::SplitMix64;
use std::fmt;
use std::str::FromStr;

/// The best TSS cell, used by every SSS network.
pub const SSS_CELL: &str =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";

/// Number of searched channel counts.
pub const SSS_LAYERS: usize = 5;
/// Candidate channel counts.
pub const SSS_CHANNELS: [i64; 8] = [8, 16, 24, 32, 40, 48, 56, 64];
/// Number of archs in SSS: 8^5.
pub const SSS_SIZE: usize = 32_768;

/// An SSS arch: five channel counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SssArch {
    pub channels: [i64; SSS_LAYERS],
}

impl SssArch {
    /// The arch at `index` in the official order.
    pub fn from_index(index: usize) -> Result<SssArch, SpaceError> {
        if index >= SSS_SIZE {
            return Err(SpaceError::IndexOutOfRange {
                space: super::Space::Sss,
                index,
                size: SSS_SIZE,
            });
        }
        let mut channels = [0; SSS_LAYERS];
        let mut c = index;
        for k in (0..SSS_LAYERS).rev() {
            channels[k] = SSS_CHANNELS[c % 8];
            c /= 8;
        }
        Ok(SssArch { channels })
    }

    /// Index in the official order.
    pub fn index(&self) -> usize {
        self.channels
            .iter()
            .fold(0, |i, &c| i * 8 + (c as usize / 8 - 1))
    }

    /// All archs in official index order.
    pub fn all() -> impl Iterator<Item = SssArch> {
        (0..SSS_SIZE).map(|i| SssArch::from_index(i).expect("in range"))
    }
}

impl SearchSpace for SssArch {
    const SPACE: Space = Space::Sss;
    const SIZE: usize = SSS_SIZE;
    const NAMES: &'static [&'static str] = &["sss", "size"];
    const FINAL_HP: &'static str = "90";
    /// The channel configuration carries most of the signal and the data-dependent proxies did
    /// not earn their CPU time (benches/README.md, "SSS default vector").
    const DEFAULT_PROXIES: &'static [&'static str] = &["params", "flops", "synflow"];
    /// Its single-seed labels are noisy (benches/README.md, "Forest").
    const MIN_SAMPLES_LEAF: usize = 5;
    /// The only SSS accuracies available for all archs (PROVENANCE §11).
    const DEFAULT_LABEL: &'static str = "valid_acc hp=90";
    const LABEL_FILE: &'static str = "nats_sss/nats_sss_valid_acc_hp90.csv";
    const BENCHMARK: &'static str = "NATS-Bench";
    const HAS_ISOMORPHS: bool = false;

    fn from_index(index: usize) -> Result<Self, SpaceError> {
        SssArch::from_index(index)
    }
    fn index(&self) -> usize {
        SssArch::index(self)
    }
    /// Another channel count in one of the five layers.
    fn mutate(&self, rng: &mut SplitMix64) -> Self {
        let mut channels = self.channels;
        super::mutate_one(&mut channels, &SSS_CHANNELS, rng);
        SssArch { channels }
    }
    fn notation_of(s: &str) -> bool {
        s.starts_with(|c: char| c.is_ascii_digit()) && s.contains(':')
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
    /// The [`SSS_CELL`] in five layers of the arch's channel counts, the second and fourth
    /// reducing.
    fn graph(&self, dataset: NatsDataset) -> Graph {
        let c = self.channels;
        let skeleton = Skeleton {
            cell: SSS_CELL.parse::<TssArch>().expect("constant cell").ops,
            layers: vec![
                (c[0], false),
                (c[1], true),
                (c[2], false),
                (c[3], true),
                (c[4], false),
            ],
            foresight_marks: false,
        };
        nats_net::graph(&skeleton, dataset, self.into_arch().named_counts())
    }
    fn into_arch(self) -> Arch {
        Arch::Sss(self)
    }
}

impl fmt::Display for SssArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.channels;
        write!(f, "{}:{}:{}:{}:{}", c[0], c[1], c[2], c[3], c[4])
    }
}

impl FromStr for SssArch {
    type Err = SpaceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(SpaceError::Empty);
        }
        if s.len() > MAX_ARCH_BYTES {
            return Err(SpaceError::TooLong(s.len()));
        }
        let bad = |why: String| SpaceError::Sss {
            shown: shown(s),
            why,
        };
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != SSS_LAYERS {
            return Err(bad(format!(
                "expected 5 channel counts joined by ':', found {}",
                parts.len()
            )));
        }
        let mut channels = [0; SSS_LAYERS];
        for (k, p) in parts.iter().enumerate() {
            let c: i64 = p
                .parse()
                .map_err(|_| bad(format!("channel {} ({p:?}) is not a number", k + 1)))?;
            if !SSS_CHANNELS.contains(&c) {
                return Err(bad(format!(
                    "channel {} is {c}; must be one of 8, 16, 24, 32, 40, 48, 56, 64",
                    k + 1
                )));
            }
            channels[k] = c;
        }
        Ok(SssArch { channels })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ends() {
        assert_eq!(SssArch::from_index(0).unwrap().to_string(), "8:8:8:8:8");
        assert_eq!(SssArch::from_index(1).unwrap().to_string(), "8:8:8:8:16");
        assert_eq!(
            SssArch::from_index(SSS_SIZE - 1).unwrap().to_string(),
            "64:64:64:64:64"
        );
        for i in 0..SSS_SIZE {
            assert_eq!(SssArch::from_index(i).unwrap().index(), i);
        }
    }

    #[test]
    fn malformed() {
        for (s, want) in [
            ("8:8:12:8:8", "channel 3 is 12"),
            ("8:8:8:8", "found 4"),
            ("8:8:x:8:8", "not a number"),
            ("", "empty"),
        ] {
            let e = s.parse::<SssArch>().unwrap_err().to_string();
            assert!(e.contains(want), "{s}: {e}");
        }
    }
}
