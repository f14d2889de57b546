//! Exact architecture features: numbers that encode the arch itself, computed from its string
//! alone (no network, no data, no libtorch), so any table with an arch column can be given them.
//! Each space defines its own ([`super::tss::features`]: the op-on-edge one-hot encoding and
//! GRAF-style live-graph features; [`super::sss::features`]: the channel-per-layer one-hot
//! encoding); these functions dispatch on the space.

use super::{Arch, SearchSpace, Space};

/// Names of the arch features of `space`, in column order.
pub fn arch_feature_names(space: Space) -> &'static [String] {
    on_space!(space, S => S::feature_names())
}

/// Whether `name` is an arch feature of `space`.
pub fn is_arch_feature(space: Space, name: &str) -> bool {
    arch_feature_names(space).iter().any(|n| n == name)
}

/// The arch features of `arch`, in [`arch_feature_names`] order.
pub fn arch_features(arch: &Arch) -> Vec<f64> {
    arch.features()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_values_in_length() {
        let mut rng = crate::rng::SplitMix64::new(123);
        for space in Space::ALL {
            let a = space.random(&mut rng);
            assert_eq!(arch_features(&a).len(), arch_feature_names(space).len());
        }
        assert_eq!(arch_feature_names(Space::Tss).len(), 45);
        assert_eq!(arch_feature_names(Space::Sss).len(), 40);
    }

    #[test]
    fn names_belong_to_their_space() {
        assert!(is_arch_feature(Space::Sss, "layer3_c40"));
        assert!(!is_arch_feature(Space::Tss, "layer3_c40"));
        assert!(is_arch_feature(Space::Tss, "edge01_conv3x3"));
        assert!(!is_arch_feature(Space::Sss, "edge01_conv3x3"));
    }
}
