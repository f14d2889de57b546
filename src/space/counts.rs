//! Topology and size counts: data-free, static, one column each, defined by each space
//! ([`super::tss::counts`]: op and live-path counts of the cell; [`super::sss::features`]:
//! channel statistics). [`topology`] lists every space's counts in column order; a count of the
//! other space has no value (`None`; the engine reports it as "not applicable to sss").

use super::{Arch, SearchSpace, Space};
use std::sync::OnceLock;

/// One count: its column name, the space that defines it and its position there. The proxy
/// engine computes these as static proxies (`proxy::topology`), and a table that lacks them gets
/// them from its arch strings ([`count_by_name`]): the same numbers.
#[derive(Debug)]
pub struct Topo {
    pub name: &'static str,
    pub space: Space,
    at: usize,
}

impl Topo {
    /// The count of `arch`, `None` when it belongs to another space.
    pub fn value(&self, arch: &Arch) -> Option<f64> {
        (arch.space() == self.space).then(|| arch.counts()[self.at])
    }
}

/// Every space's counts, in column order (the spaces in [`Space::ALL`] order).
pub fn topology() -> &'static [Topo] {
    static ALL: OnceLock<Vec<Topo>> = OnceLock::new();
    ALL.get_or_init(|| {
        Space::ALL
            .into_iter()
            .flat_map(|space| {
                on_space!(space, S => S::count_names())
                    .iter()
                    .enumerate()
                    .map(move |(at, &name)| Topo { name, space, at })
            })
            .collect()
    })
}

/// The count named `name`, if it is one of [`topology`].
pub fn count_by_name(name: &str) -> Option<&'static Topo> {
    topology().iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_count_has_a_value_in_its_own_space_only() {
        let tss = Space::Tss.arch(4321).unwrap();
        let sss = Space::Sss.arch(4321).unwrap();
        // TSS 18, SSS 4, Macro 3, NB101 4, DARTS 4.
        assert_eq!(topology().len(), 33);
        for t in topology() {
            assert_eq!(t.value(&tss).is_some(), t.space == Space::Tss, "{}", t.name);
            assert_eq!(t.value(&sss).is_some(), t.space == Space::Sss, "{}", t.name);
        }
        assert_eq!(
            count_by_name("c3").unwrap().value(&sss),
            Some(8.0 * (1 + (4321 / 64) % 8) as f64)
        );
        assert!(count_by_name("edge01_none").is_none());
    }
}
