//! Train/test splits. A random split lets isomorphic archs (same function, near-identical proxies
//! and accuracies) sit on both sides, which flatters the forest; a group split keeps every group
//! (e.g. a TSS isomorphism class, `TssArch::unique_str`) wholly on one side.

use serde::{Deserialize, Serialize};

use super::{Dataset, ForestError};
use crate::rng::SplitMix64;

/// How rows are assigned to train and test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// Seeded uniform shuffle of the rows.
    Random,
    /// Whole groups of [`Dataset::groups`], taken in seeded order until the train target is met.
    Group,
}

impl Protocol {
    /// `random` or `group`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Random => "random",
            Protocol::Group => "group",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `random`, or `group` (also `isomorphism`: on TSS the groups are its isomorphism classes).
impl std::str::FromStr for Protocol {
    type Err = ForestError;
    fn from_str(s: &str) -> Result<Protocol, ForestError> {
        match s {
            "random" => Ok(Protocol::Random),
            "group" | "isomorphism" => Ok(Protocol::Group),
            other => Err(ForestError::InvalidParam {
                name: "protocol",
                reason: format!("{other:?}: expected random or group (isomorphism)"),
            }),
        }
    }
}

/// Size of the training side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum SplitSize {
    /// Fraction of the rows in `(0, 1)`, rounded to the nearest row.
    TrainFrac(f64),
    /// Number of training rows, `1..n`.
    NTrain(usize),
}

impl SplitSize {
    /// Target train rows for `n` rows, at least 1 and at most `n − 1`.
    pub fn n_train(self, n: usize) -> Result<usize, ForestError> {
        let t = match self {
            SplitSize::TrainFrac(f) if f > 0.0 && f < 1.0 => (f * n as f64).round() as usize,
            SplitSize::TrainFrac(f) => {
                return Err(ForestError::Split(format!(
                    "train fraction {f} is outside (0, 1)"
                )))
            }
            SplitSize::NTrain(k) => k,
        };
        if t == 0 || t >= n {
            return Err(ForestError::Split(format!(
                "{t} training rows of {n} leaves one side empty"
            )));
        }
        Ok(t)
    }
}

/// Row indices of each side, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

impl Split {
    /// Splits `data`'s rows with the given seed. A group split's train side is the first groups
    /// (in shuffled order) whose rows reach the target, so it may exceed it by part of a group.
    pub fn new(
        data: &Dataset,
        protocol: Protocol,
        size: SplitSize,
        seed: u64,
    ) -> Result<Split, ForestError> {
        let n = data.n_rows();
        let target = size.n_train(n)?;
        let mut rng = SplitMix64::new(seed);
        let mut in_train = vec![false; n];
        match protocol {
            Protocol::Random => {
                let mut idx: Vec<usize> = (0..n).collect();
                shuffle(&mut idx, &mut rng);
                idx[..target].iter().for_each(|&i| in_train[i] = true);
            }
            Protocol::Group => {
                let groups = group_rows(data)?;
                let mut order: Vec<usize> = (0..groups.len()).collect();
                shuffle(&mut order, &mut rng);
                let mut taken = 0;
                for &g in &order {
                    if taken >= target {
                        break;
                    }
                    for &i in &groups[g] {
                        in_train[i] = true;
                    }
                    taken += groups[g].len();
                }
                if taken >= n {
                    return Err(ForestError::Split(
                        "group split left no test rows (a group is too large)".into(),
                    ));
                }
            }
        }
        let train = (0..n).filter(|&i| in_train[i]).collect();
        let test = (0..n).filter(|&i| !in_train[i]).collect();
        Ok(Split { train, test })
    }
}

/// Fisher–Yates.
pub(crate) fn shuffle<T>(v: &mut [T], rng: &mut SplitMix64) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// Rows of each group, groups in order of first appearance (deterministic).
pub(crate) fn group_rows(data: &Dataset) -> Result<Vec<Vec<usize>>, ForestError> {
    let groups = data
        .groups
        .as_ref()
        .ok_or_else(|| ForestError::Split("group protocol needs Dataset::groups".into()))?;
    if groups.len() != data.n_rows() {
        return Err(ForestError::Shape(format!(
            "{} group ids for {} rows",
            groups.len(),
            data.n_rows()
        )));
    }
    let mut pos = std::collections::HashMap::new();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let k = *pos.entry(*g).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[k].push(i);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, groups: Option<Vec<u64>>) -> Dataset {
        Dataset {
            feature_names: vec!["a".into()],
            x: (0..n).map(|i| i as f64).collect(),
            y: (0..n).map(|i| i as f64).collect(),
            row_keys: (0..n).collect(),
            row_names: vec![String::new(); n],
            groups,
        }
    }

    #[test]
    fn random_split_sizes_and_determinism() {
        let d = data(100, None);
        let s = Split::new(&d, Protocol::Random, SplitSize::TrainFrac(0.8), 3).unwrap();
        assert_eq!((s.train.len(), s.test.len()), (80, 20));
        assert_eq!(
            s,
            Split::new(&d, Protocol::Random, SplitSize::NTrain(80), 3).unwrap()
        );
        assert_ne!(
            s,
            Split::new(&d, Protocol::Random, SplitSize::NTrain(80), 4).unwrap()
        );
        assert!(Split::new(&d, Protocol::Random, SplitSize::TrainFrac(1.0), 3).is_err());
        assert!(Split::new(&d, Protocol::Random, SplitSize::NTrain(0), 3).is_err());
    }

    #[test]
    fn group_split_keeps_groups_whole() {
        let g: Vec<u64> = (0..100).map(|i| (i % 13) as u64).collect();
        let d = data(100, Some(g.clone()));
        let s = Split::new(&d, Protocol::Group, SplitSize::TrainFrac(0.5), 1).unwrap();
        for &i in &s.test {
            assert!(s.train.iter().all(|&j| g[j] != g[i]));
        }
        assert!(s.train.len() >= 50 && !s.test.is_empty());
        assert!(Split::new(&data(10, None), Protocol::Group, SplitSize::NTrain(5), 1).is_err());
    }
}
