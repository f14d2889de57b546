//! The three NATS-Bench datasets.

use super::SpaceError;
use std::fmt;
use std::str::FromStr;

/// A NATS-Bench dataset: decides the classifier width and the input resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NatsDataset {
    Cifar10,
    Cifar100,
    /// ImageNet16-120: 120 classes of ImageNet down-sampled to 16×16 (Chrabaszcz et al. 2017).
    ImageNet16_120,
}

impl NatsDataset {
    pub const ALL: [NatsDataset; 3] = [
        NatsDataset::Cifar10,
        NatsDataset::Cifar100,
        NatsDataset::ImageNet16_120,
    ];

    /// Canonical lower-case name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            NatsDataset::Cifar10 => "cifar10",
            NatsDataset::Cifar100 => "cifar100",
            NatsDataset::ImageNet16_120 => "imagenet16-120",
        }
    }

    pub fn num_classes(self) -> i64 {
        match self {
            NatsDataset::Cifar10 => 10,
            NatsDataset::Cifar100 => 100,
            NatsDataset::ImageNet16_120 => 120,
        }
    }

    /// Input height = width in pixels.
    pub fn input_size(self) -> i64 {
        match self {
            NatsDataset::Cifar10 | NatsDataset::Cifar100 => 32,
            NatsDataset::ImageNet16_120 => 16,
        }
    }
}

impl fmt::Display for NatsDataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

serde_as_text!(NatsDataset);

/// Accepts the canonical names, the official NATS-Bench names (`ImageNet16-120`), the
/// underscore form of file and column names (`imagenet16_120`), `cifar-10`/`cifar-100` and the
/// short `in16`, case-insensitively: the one parser of dataset names (tables use it too).
impl FromStr for NatsDataset {
    type Err = SpaceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "cifar10" | "cifar-10" => Ok(NatsDataset::Cifar10),
            "cifar100" | "cifar-100" => Ok(NatsDataset::Cifar100),
            "imagenet16-120" | "imagenet16" | "in16" | "in16-120" | "imagenet" => {
                Ok(NatsDataset::ImageNet16_120)
            }
            _ => Err(SpaceError::UnknownDataset(s.chars().take(40).collect())),
        }
    }
}
