//! Forest hyper-parameters with scikit-learn's names, meanings and defaults
//! (`sklearn.ensemble.RandomForestRegressor`, scikit-learn 1.x).

use serde::{Deserialize, Serialize};

use super::ForestError;

/// How many features each node considers when it looks for a split (sklearn `max_features`).
///
/// Features are drawn without replacement, in a fresh random order at every node (also for
/// [`MaxFeatures::All`], which only affects how ties between equally good features are broken,
/// as in sklearn).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum MaxFeatures {
    /// All `p` features (sklearn `max_features=1.0`, the regressor's default since 1.1).
    All,
    /// `max(1, floor(sqrt(p)))` (sklearn `"sqrt"`).
    Sqrt,
    /// `max(1, floor(log2(p)))` (sklearn `"log2"`).
    Log2,
    /// `max(1, floor(fraction * p))`, fraction in `(0, 1]` (sklearn float).
    Fraction(f64),
    /// Exactly this many features, `1..=p` (sklearn int).
    Count(usize),
}

/// `all`, `sqrt`, `log2`, a count (`7`) or a fraction (`0.33`), as on the command line.
impl std::str::FromStr for MaxFeatures {
    type Err = ForestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "all" => MaxFeatures::All,
            "sqrt" => MaxFeatures::Sqrt,
            "log2" => MaxFeatures::Log2,
            s => match (s.parse::<usize>(), s.parse::<f64>()) {
                (Ok(n), _) => MaxFeatures::Count(n),
                (_, Ok(f)) => MaxFeatures::Fraction(f),
                _ => {
                    return Err(ForestError::InvalidParam {
                        name: "max_features",
                        reason: format!("{s:?}: expected all, sqrt, log2, a fraction or a count"),
                    })
                }
            },
        })
    }
}

/// The text [`MaxFeatures::from_str`] reads: `all`, `sqrt`, `log2`, a count or a fraction.
impl std::fmt::Display for MaxFeatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaxFeatures::All => f.write_str("all"),
            MaxFeatures::Sqrt => f.write_str("sqrt"),
            MaxFeatures::Log2 => f.write_str("log2"),
            // Always with a decimal point, so that 1.0 reads back as a fraction, not a count.
            MaxFeatures::Fraction(x) => write!(f, "{x:?}"),
            MaxFeatures::Count(c) => write!(f, "{c}"),
        }
    }
}

impl MaxFeatures {
    /// The number of features tried per node for `p` features (assumes [`ForestParams`] checked
    /// it; `Count` larger than `p` is reported by `Forest::fit`).
    pub fn resolve(self, p: usize) -> usize {
        let m = match self {
            MaxFeatures::All => p,
            MaxFeatures::Sqrt => (p as f64).sqrt().floor() as usize,
            MaxFeatures::Log2 => (p as f64).log2().floor() as usize,
            MaxFeatures::Fraction(f) => (f * p as f64).floor() as usize,
            MaxFeatures::Count(c) => c,
        };
        m.clamp(1, p.max(1))
    }
}

/// How a node chooses its split among the features it considers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Splitter {
    /// The best threshold of each feature (sklearn `RandomForestRegressor`, splitter "best").
    #[default]
    Best,
    /// One threshold drawn uniformly between the node's minimum and maximum of each feature,
    /// the best of those kept: extremely randomized trees (Geurts, Ernst & Wehenkel, "Extremely
    /// randomized trees", Machine Learning 63, 2006; sklearn `ExtraTreesRegressor`).
    Random,
}

/// Random forest parameters, checked: a value of this type is always valid, so
/// [`crate::forest::Forest::fit`] does not check them again. Built in one way, through
/// [`ForestParams::builder`] (or [`ForestParams::to_builder`] to change some) and
/// [`ForestParamsBuilder::build`], which names the first bad parameter, as linfa's
/// `ParamGuard`; a model file's parameters are checked the same way when it is read.
///
/// Defaults (the one place they are written down) are those of scikit-learn's
/// `RandomForestRegressor` in 1.x:
///
/// | parameter | default | sklearn |
/// |---|---|---|
/// | `n_trees` | 100 | `n_estimators=100` |
/// | `max_features` | [`MaxFeatures::All`] | `max_features=1.0` |
/// | `max_depth` | `None` (grow until the other rules stop) | `max_depth=None`; the root has depth 0 |
/// | `min_samples_split` | 2 | `min_samples_split=2` |
/// | `min_samples_leaf` | 1 | `min_samples_leaf=1` |
/// | `bootstrap` | true | `bootstrap=True` (sample `n` rows with replacement per tree) |
/// | `seed` | 0 | `random_state` (the streams differ from numpy's; results are not bit-identical to sklearn) |
/// | `n_threads` | `None` = all cores (rayon's global pool) | `n_jobs` |
/// | `splitter` | [`Splitter::Best`] | `RandomForestRegressor`; [`Splitter::Random`] with `bootstrap` false is `ExtraTreesRegressor` |
///
/// `min_samples_split` and `min_samples_leaf` count distinct training rows in a node, as sklearn
/// does (a row drawn twice by the bootstrap counts once but weighs twice in the split criterion).
/// Models are identical for any `n_threads`.
///
/// ```
/// use greenfactory::forest::{ForestParams, MaxFeatures};
/// let p = ForestParams::builder().n_trees(200).max_features(MaxFeatures::Sqrt).seed(7).build()?;
/// assert_eq!((p.n_trees(), p.seed()), (200, 7));
/// let e = p.to_builder().n_trees(0).build().unwrap_err();
/// assert!(e.to_string().contains("n_trees"));
/// # Ok::<(), greenfactory::forest::ForestError>(())
/// ```
// Default: scikit-learn's defaults, which pass every check (`defaults_are_sklearns`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "ForestParamsBuilder", into = "ForestParamsBuilder")]
pub struct ForestParams(ForestParamsBuilder);

impl From<ForestParams> for ForestParamsBuilder {
    fn from(p: ForestParams) -> ForestParamsBuilder {
        p.0
    }
}

impl ForestParams {
    /// The parameters to build from: scikit-learn's defaults (the table above).
    pub fn builder() -> ForestParamsBuilder {
        ForestParamsBuilder::default()
    }

    /// These parameters as a builder, to change some of them.
    pub fn to_builder(&self) -> ForestParamsBuilder {
        self.0.clone()
    }

    /// The same parameters with another seed (every seed is valid): the forests of a
    /// cross-validation's folds and repeats.
    pub fn with_seed(&self, seed: u64) -> ForestParams {
        ForestParams(self.to_builder().seed(seed))
    }

    /// The same parameters with another splitter (every splitter is valid): a model file
    /// stores it apart from the others.
    pub(crate) fn with_splitter(&self, splitter: Splitter) -> ForestParams {
        ForestParams(self.to_builder().splitter(splitter))
    }

    /// Trees in the forest (sklearn `n_estimators`).
    pub fn n_trees(&self) -> usize {
        self.0.n_trees
    }
    /// Features considered per split.
    pub fn max_features(&self) -> MaxFeatures {
        self.0.max_features
    }
    /// Deepest node (the root has depth 0); `None` grows until the other rules stop.
    pub fn max_depth(&self) -> Option<usize> {
        self.0.max_depth
    }
    /// Fewest distinct rows a node needs to be split.
    pub fn min_samples_split(&self) -> usize {
        self.0.min_samples_split
    }
    /// Fewest distinct rows in a leaf.
    pub fn min_samples_leaf(&self) -> usize {
        self.0.min_samples_leaf
    }
    /// Whether each tree sees a bootstrap sample of the rows.
    pub fn bootstrap(&self) -> bool {
        self.0.bootstrap
    }
    /// The forest's seed (sklearn `random_state`).
    pub fn seed(&self) -> u64 {
        self.0.seed
    }
    /// Threads that grow trees; `None` = all cores.
    pub fn n_threads(&self) -> Option<usize> {
        self.0.n_threads
    }
    /// How a node chooses its split.
    pub fn splitter(&self) -> Splitter {
        self.0.splitter
    }
}

/// Unchecked forest parameters; [`ForestParamsBuilder::build`] checks them into
/// [`ForestParams`]. Starts from scikit-learn's defaults. Its fields are the stored form of
/// [`ForestParams`] in model files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParamsBuilder {
    n_trees: usize,
    max_features: MaxFeatures,
    max_depth: Option<usize>,
    min_samples_split: usize,
    min_samples_leaf: usize,
    bootstrap: bool,
    seed: u64,
    n_threads: Option<usize>,
    /// Stored apart from the other fields (model format version 2) so that the files of
    /// [`Splitter::Best`] forests keep the version 1 layout byte for byte.
    #[serde(skip)]
    splitter: Splitter,
}

impl Default for ForestParamsBuilder {
    fn default() -> Self {
        ForestParamsBuilder {
            n_trees: 100,
            max_features: MaxFeatures::All,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            bootstrap: true,
            seed: 0,
            n_threads: None,
            splitter: Splitter::Best,
        }
    }
}

impl TryFrom<ForestParamsBuilder> for ForestParams {
    type Error = ForestError;
    fn try_from(b: ForestParamsBuilder) -> Result<ForestParams, ForestError> {
        b.build()
    }
}

impl ForestParamsBuilder {
    pub fn n_trees(mut self, v: usize) -> Self {
        self.n_trees = v;
        self
    }
    pub fn max_features(mut self, v: MaxFeatures) -> Self {
        self.max_features = v;
        self
    }
    pub fn max_depth(mut self, v: Option<usize>) -> Self {
        self.max_depth = v;
        self
    }
    pub fn min_samples_split(mut self, v: usize) -> Self {
        self.min_samples_split = v;
        self
    }
    pub fn min_samples_leaf(mut self, v: usize) -> Self {
        self.min_samples_leaf = v;
        self
    }
    pub fn bootstrap(mut self, v: bool) -> Self {
        self.bootstrap = v;
        self
    }
    pub fn seed(mut self, v: u64) -> Self {
        self.seed = v;
        self
    }
    pub fn splitter(mut self, v: Splitter) -> Self {
        self.splitter = v;
        self
    }
    pub fn n_threads(mut self, v: Option<usize>) -> Self {
        self.n_threads = v;
        self
    }

    /// Checks every value; the error names the first bad parameter.
    pub fn build(self) -> Result<ForestParams, ForestError> {
        let bad =
            |name: &'static str, reason: String| Err(ForestError::InvalidParam { name, reason });
        if self.n_trees == 0 {
            return bad("n_trees", "must be at least 1".into());
        }
        match self.max_features {
            MaxFeatures::Fraction(f) if !(f > 0.0 && f <= 1.0) => {
                return bad("max_features", format!("fraction {f} is outside (0, 1]"));
            }
            MaxFeatures::Count(0) => return bad("max_features", "count must be at least 1".into()),
            _ => {}
        }
        if self.min_samples_split < 2 {
            return bad(
                "min_samples_split",
                format!("{} is below 2", self.min_samples_split),
            );
        }
        if self.min_samples_leaf < 1 {
            return bad("min_samples_leaf", "must be at least 1".into());
        }
        if self.n_threads == Some(0) {
            return bad("n_threads", "must be at least 1 (unset: all cores)".into());
        }
        Ok(ForestParams(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forest::Protocol;

    #[test]
    fn max_features_parse_as_on_the_command_line() {
        assert_eq!("sqrt".parse::<MaxFeatures>().unwrap(), MaxFeatures::Sqrt);
        assert_eq!("7".parse::<MaxFeatures>().unwrap(), MaxFeatures::Count(7));
        assert_eq!(
            "0.33".parse::<MaxFeatures>().unwrap(),
            MaxFeatures::Fraction(0.33)
        );
        let e = "half".parse::<MaxFeatures>().unwrap_err().to_string();
        assert!(e.contains("max_features") && e.contains("\"half\""), "{e}");
        for m in [
            MaxFeatures::All,
            MaxFeatures::Sqrt,
            MaxFeatures::Log2,
            MaxFeatures::Count(1),
            MaxFeatures::Fraction(1.0),
            MaxFeatures::Fraction(0.33),
        ] {
            assert_eq!(m.to_string().parse::<MaxFeatures>().unwrap(), m, "{m}");
        }
        for p in [Protocol::Random, Protocol::Group] {
            assert_eq!(p.to_string().parse::<Protocol>().unwrap(), p);
        }
        assert_eq!("isomorphism".parse::<Protocol>().unwrap(), Protocol::Group);
        assert!("groups".parse::<Protocol>().is_err());
    }

    #[test]
    fn defaults_are_sklearns() {
        let p = ForestParams::default();
        assert_eq!(p.n_trees(), 100);
        assert_eq!(p.max_features(), MaxFeatures::All);
        assert_eq!(p.max_depth(), None);
        assert_eq!((p.min_samples_split(), p.min_samples_leaf()), (2, 1));
        assert!(p.bootstrap());
        assert_eq!(p.splitter(), Splitter::Best);
    }

    #[test]
    fn bad_values_are_named() {
        let e = ForestParams::builder().n_trees(0).build().unwrap_err();
        assert!(e.to_string().contains("n_trees"), "{e}");
        let e = ForestParams::builder()
            .max_features(MaxFeatures::Fraction(1.5))
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("max_features"), "{e}");
        assert!(ForestParams::builder()
            .max_features(MaxFeatures::Fraction(f64::NAN))
            .build()
            .is_err());
        assert!(ForestParams::builder()
            .min_samples_split(1)
            .build()
            .is_err());
        assert!(ForestParams::builder().min_samples_leaf(0).build().is_err());
        assert!(ForestParams::builder().n_threads(Some(0)).build().is_err());
    }

    #[test]
    fn stored_parameters_are_checked_when_read() {
        let p = ForestParams::builder().n_trees(7).seed(3).build().unwrap();
        let text = serde_json::to_string(&p).unwrap();
        let back: ForestParams = serde_json::from_str(&text).unwrap();
        assert_eq!(back, p);
        // A file's parameters go through the builder's checks, as a caller's do.
        let bad = text.replace("\"n_trees\":7", "\"n_trees\":0");
        assert_ne!(bad, text);
        let e = serde_json::from_str::<ForestParams>(&bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("n_trees"), "{e}");
    }

    #[test]
    fn max_features_resolve_like_sklearn() {
        assert_eq!(MaxFeatures::All.resolve(13), 13);
        assert_eq!(MaxFeatures::Sqrt.resolve(13), 3);
        assert_eq!(MaxFeatures::Log2.resolve(13), 3);
        assert_eq!(MaxFeatures::Fraction(0.5).resolve(13), 6);
        assert_eq!(MaxFeatures::Fraction(0.01).resolve(13), 1);
        assert_eq!(MaxFeatures::Count(4).resolve(13), 4);
    }
}
