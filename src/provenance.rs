//! What proxy values depend on, as types: the input batch ([`DataSource`]), the proxy
//! configuration ([`ProxyConfig`]), the devices that computed them ([`DeviceKinds`]) and an
//! extraction's whole [`Manifest`]; and what a label is ([`LabelKind`]: which accuracy, after
//! which training schedule). Torch-free and Polars-free, so that proxy tables, models
//! and the forest-only build (the Python binding) all carry the same types.
//!
//! On disk the manifest is JSON: `OUT.parts/manifest.json`, a table's Parquet key-value
//! metadata, and the JSON text inside a model file (`model::ModelMeta`, which depends on this
//! module). Spaces, datasets and device kinds are written as the names the command line uses
//! (`"tss"`, `"imagenet16-120"`, `"cuda+cpu"`), so the text reads the same to a person, to
//! `json.loads` and to every build.

use crate::space::{NatsDataset, Space};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where a batch comes from (recorded in the proxy configuration; loaded by `data`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum DataSource {
    /// N(0,1) pixels and uniform labels from `seed`.
    Synthetic { seed: u64 },
    /// CIFAR binary records at `path`, the first `batch_size` of them.
    CifarBin { path: PathBuf },
    /// The 20 foolbox 3.3.4 sample images of the dataset (see `data`), the first `batch_size`
    /// of them.
    Foolbox20,
}

impl DataSource {
    /// A short description for summaries and error messages.
    pub fn describe(&self) -> String {
        match self {
            DataSource::Synthetic { seed } => format!("synthetic batch (seed {seed})"),
            DataSource::CifarBin { path } => format!("CIFAR binary file {}", path.display()),
            DataSource::Foolbox20 => "the 20 foolbox sample images".into(),
        }
    }
}

/// Bumped whenever any proxy value can change for the same configuration.
pub const ENGINE_VERSION: u32 = 1;

/// The configuration every value depends on; stored with every table and model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProxyConfig {
    /// Images per batch (the references use 64).
    pub batch_size: usize,
    /// Run seed: arch `i` is initialised from `derive_seed(seed, i)`.
    pub seed: u64,
    /// Input batch.
    pub data: DataSource,
    /// Engine version: bumped whenever a value can change.
    pub engine_version: u32,
    /// Data-dependent proxies (every pass but the static one) are computed on the class
    /// representative ([`crate::space::Arch::representative`]) and shared by the isomorphic
    /// archs of its class; static ones on the arch itself. Absent in files written before the
    /// option existed (= false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub share_isomorphic: bool,
    /// CUDA convolutions and matrix products ran in TF32 (10-bit mantissa) instead of float32:
    /// values then differ from the CPU's by up to 1e-1 relative (epe_nas), enough to move a
    /// prediction by 2 points (benches/README.md). Off unless asked for (`net::configure_tf32`);
    /// absent in files written before the option existed (= false; `datasets/README.md` says
    /// which tables were computed otherwise).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tf32: bool,
    /// How archs go through the shared passes: one network at a time, or K archs as one
    /// grouped network (values within the documented tolerance of the per-arch engine's, not
    /// equal: tables of the two engines do not mix). Absent in files written before the
    /// batched engine existed (= per-arch).
    #[serde(default, skip_serializing_if = "EngineKind::is_per_arch")]
    pub engine: EngineKind,
    /// The stem width of a narrower copy of the benchmark's network on which the proxies were
    /// computed (NAS-Bench-101: the cell unchanged, every width scaled by `stem / 128`;
    /// `space::SearchSpace::graph_scaled`); absent: the benchmark's own network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stem: Option<i64>,
}

/// The proxy engine's kind ([`ProxyConfig::engine`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// Each arch's passes on its own network.
    #[default]
    PerArch,
    /// The Jacobian and ReLU passes of up to `archs` TSS archs run as one grouped network
    /// (`net::grouped_passes`); every other pass per arch.
    Batched { archs: usize },
}

impl EngineKind {
    pub fn is_per_arch(&self) -> bool {
        *self == EngineKind::PerArch
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineKind::PerArch => f.write_str("per-arch"),
            EngineKind::Batched { archs } => write!(f, "batched ({archs} archs per group)"),
        }
    }
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            batch_size: 64,
            seed: 0,
            data: DataSource::Synthetic { seed: 0 },
            engine_version: ENGINE_VERSION,
            share_isomorphic: false,
            tf32: false,
            engine: EngineKind::PerArch,
            stem: None,
        }
    }
}

impl ProxyConfig {
    /// The first setting in which `self` and `other` differ, named for a refusal message
    /// (`batch size 20 vs 64`); `None` when they are equal.
    pub fn first_difference(&self, other: &ProxyConfig) -> Option<String> {
        if self.batch_size != other.batch_size {
            Some(format!(
                "batch size {} vs {}",
                self.batch_size, other.batch_size
            ))
        } else if self.seed != other.seed {
            Some(format!("run seed {} vs {}", self.seed, other.seed))
        } else if self.data != other.data {
            Some(format!(
                "input {} vs {}",
                self.data.describe(),
                other.data.describe()
            ))
        } else if self.engine_version != other.engine_version {
            Some(format!(
                "engine version {} vs {}",
                self.engine_version, other.engine_version
            ))
        } else if self.share_isomorphic != other.share_isomorphic {
            let word = |s: bool| if s { "share" } else { "each" };
            Some(format!(
                "isomorphism sharing {} vs {}",
                word(self.share_isomorphic),
                word(other.share_isomorphic)
            ))
        } else if self.tf32 != other.tf32 {
            let word = |t: bool| if t { "TF32" } else { "float32" };
            Some(format!(
                "CUDA precision {} vs {}",
                word(self.tf32),
                word(other.tf32)
            ))
        } else if self.engine != other.engine {
            Some(format!("engine {} vs {}", self.engine, other.engine))
        } else if self.stem != other.stem {
            let word = |s: Option<i64>| s.map_or("the benchmark's".to_string(), |s| s.to_string());
            Some(format!(
                "network stem {} vs {}",
                word(self.stem),
                word(other.stem)
            ))
        } else {
            None
        }
    }
}

/// A kind of device: float results differ slightly between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Cpu,
    Cuda,
}

impl DeviceKind {
    /// The kind of a libtorch device (MPS and the rest count as `cuda`: not the CPU).
    #[cfg(feature = "torch")]
    pub fn of(device: tch::Device) -> DeviceKind {
        if device == tch::Device::Cpu {
            DeviceKind::Cpu
        } else {
            DeviceKind::Cuda
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Cuda => "cuda",
        }
    }
}

/// The device kinds that computed a table, in the order they were first used: one for a run
/// on one device, two for a run resumed on the other kind (`cuda+cpu`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceKinds(Vec<DeviceKind>);

impl DeviceKinds {
    pub fn one(kind: DeviceKind) -> DeviceKinds {
        DeviceKinds(vec![kind])
    }

    pub fn kinds(&self) -> &[DeviceKind] {
        &self.0
    }

    /// These kinds followed by those of `other` not among them (a run resumed on `other`).
    pub fn then(&self, other: &DeviceKinds) -> DeviceKinds {
        let mut v = self.0.clone();
        for k in &other.0 {
            if !v.contains(k) {
                v.push(*k);
            }
        }
        DeviceKinds(v)
    }
}

impl fmt::Display for DeviceKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|k| k.name()).collect();
        f.write_str(&names.join("+"))
    }
}

impl FromStr for DeviceKinds {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut v: Vec<DeviceKind> = Vec::new();
        for part in s.split('+') {
            let k = match part {
                "cpu" => DeviceKind::Cpu,
                "cuda" => DeviceKind::Cuda,
                _ => return Err(format!("unknown device kind {part:?} in {s:?}")),
            };
            if v.contains(&k) {
                return Err(format!("device kind {part:?} twice in {s:?}"));
            }
            v.push(k);
        }
        Ok(DeviceKinds(v))
    }
}

serde_as_text!(DeviceKinds);

/// Everything the values of an extraction depend on, and which archs it holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub space: Space,
    pub dataset: NatsDataset,
    /// Proxy names in table column order.
    pub proxies: Vec<String>,
    pub config: ProxyConfig,
    /// Official indices of the archs, in output order.
    pub archs: Vec<usize>,
    pub chunk_size: usize,
    pub device_kind: DeviceKinds,
    /// Set when the run is one shard of a larger selection (`extract::shard_archs`); `archs`
    /// then lists the shard's archs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
}

/// Which part of which selection a sharded run scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// `K` of `--shard K/N` (0-based).
    pub index: usize,
    /// `N`.
    pub count: usize,
    /// The whole selection, in the order of the unsharded table.
    pub selection: Vec<usize>,
}

/// Two tables whose values cannot be used as one ([`Manifest::merge`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("manifest {position} was made with a different {field} than the first")]
pub struct NotComparable {
    /// 0-based position of the first manifest that differs.
    pub position: usize,
    pub field: &'static str,
}

impl Manifest {
    /// Whether `self` and `other` differ in the device kinds only.
    pub fn differs_in_device_only(&self, other: &Manifest) -> bool {
        let mut o = other.clone();
        o.device_kind.clone_from(&self.device_kind);
        self.device_kind != other.device_kind && self.first_difference(&o).is_none()
    }

    /// The first field in which `self` and `other` differ that changes values (arch list,
    /// shard, chunk size and device kind do not): `None` when the two tables' values are
    /// comparable and can be used as one.
    pub fn first_value_difference(&self, other: &Manifest) -> Option<&'static str> {
        let mut o = other.clone();
        o.archs.clone_from(&self.archs);
        o.shard.clone_from(&self.shard);
        o.chunk_size = self.chunk_size;
        o.device_kind.clone_from(&self.device_kind);
        self.first_difference(&o)
    }

    /// The first field in which `self` differs from `other`, for the refusal message.
    pub fn first_difference(&self, other: &Manifest) -> Option<&'static str> {
        if self.space != other.space {
            Some("space")
        } else if self.dataset != other.dataset {
            Some("dataset")
        } else if self.proxies != other.proxies {
            Some("proxies")
        } else if self.config != other.config {
            Some("proxy configuration (batch size, seed, data, engine version, isomorphic sharing, TF32, engine)")
        } else if self.archs != other.archs {
            Some("arch selection")
        } else if self.chunk_size != other.chunk_size {
            Some("chunk size")
        } else if self.device_kind != other.device_kind {
            Some("device kind (cpu/cuda)")
        } else if self.shard != other.shard {
            Some("shard")
        } else {
            None
        }
    }

    /// The manifest of `manifests` used as one table: they must agree in everything the values
    /// depend on ([`Manifest::first_value_difference`]); the arch lists are put one after the
    /// other, the device kinds merged in order of first use, and the shard dropped. `None` for
    /// no manifests.
    pub fn merge(manifests: &[Manifest]) -> Result<Option<Manifest>, NotComparable> {
        let Some((first, rest)) = manifests.split_first() else {
            return Ok(None);
        };
        let mut merged = first.clone();
        merged.shard = None;
        for (k, m) in rest.iter().enumerate() {
            if let Some(field) = first.first_value_difference(m) {
                return Err(NotComparable {
                    position: k + 1,
                    field,
                });
            }
            merged.archs.extend(&m.archs);
            merged.device_kind = merged.device_kind.then(&m.device_kind);
        }
        Ok(Some(merged))
    }

    /// The JSON text stored in tables and models.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a manifest always serializes")
    }

    /// Parses [`Manifest::to_json`]'s text.
    pub fn from_json(text: &str) -> Result<Manifest, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Which accuracy of a NATS-Bench run a label is. NATS-Bench (Dong et al., TPAMI 2021) reports
/// several per run; they are not interchangeable: the SSS labels available here are `x-valid`
/// accuracies, which must never be shown as test accuracies. A user's own labels keep the name
/// of their column ([`Accuracy::Own`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Accuracy {
    /// `ori-test` for CIFAR-10 (trained on train+valid); `x-test` for CIFAR-100 and
    /// ImageNet16-120 (the test half of the test set).
    Test,
    /// `x-valid`: the 25k valid half of CIFAR-10's train set (trained on the other half), or
    /// the valid half of CIFAR-100's and ImageNet16-120's test set.
    Valid,
    /// `ori-test` of CIFAR-100 and ImageNet16-120 (both halves of the test set).
    ValTest,
    /// Final-epoch train accuracy.
    Train,
    /// A user's own label column (their training runs, their metric), by its name.
    Own(String),
}

impl Accuracy {
    pub const ALL: [Accuracy; 4] = [
        Accuracy::Test,
        Accuracy::Valid,
        Accuracy::ValTest,
        Accuracy::Train,
    ];

    /// The label-table column holding it.
    pub fn column(&self) -> &str {
        match self {
            Accuracy::Test => "test_acc",
            Accuracy::Valid => "valid_acc",
            Accuracy::ValTest => "valtest_acc",
            Accuracy::Train => "train_acc",
            Accuracy::Own(c) => c,
        }
    }

    /// In words, as outputs print it.
    pub fn words(&self) -> &str {
        match self {
            Accuracy::Test => "test accuracy",
            Accuracy::Valid => "validation accuracy",
            Accuracy::ValTest => "validation+test accuracy",
            Accuracy::Train => "train accuracy",
            Accuracy::Own(c) => c,
        }
    }

    /// The NATS-Bench accuracy stored in column `name`, else the user's own column `name`
    /// (letters, digits and `_`, starting with a letter); `None` for any other text.
    pub fn from_column(name: &str) -> Option<Accuracy> {
        if let Some(a) = Accuracy::ALL.into_iter().find(|a| a.column() == name) {
            return Some(a);
        }
        let mut chars = name.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        ok.then(|| Accuracy::Own(name.to_string()))
    }
}

/// What a label is: which [`Accuracy`], after which NATS-Bench training schedule (`hp`, the
/// number of epochs: 200 is TSS's final training, 90 SSS's). Models store it and refuse labels
/// of another kind when they report metrics.
///
/// Its text is the column name, then ` hp=N` when the schedule is known (`"valid_acc hp=90"`);
/// a bare column name (`"test_acc"`, what models written before the schedule was recorded
/// hold) reads as an unknown schedule, and a name that is none of NATS-Bench's four is the
/// user's own label column (`"my_acc"`). [`LabelKind::describe`] is the wording for people.
///
/// ```
/// use greenfactory::provenance::{Accuracy, LabelKind};
/// let k: LabelKind = "valid_acc hp=90".parse().unwrap();
/// assert_eq!(k.accuracy, Accuracy::Valid);
/// assert_eq!(k.describe(), "hp=90 validation accuracy");
/// assert_eq!(k.to_string(), "valid_acc hp=90");
/// assert!("test_acc hp=".parse::<LabelKind>().is_err());
/// let own: LabelKind = "my_acc".parse().unwrap();
/// assert_eq!(own.accuracy, Accuracy::Own("my_acc".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LabelKind {
    pub accuracy: Accuracy,
    /// NATS-Bench's `hp` (training epochs), when known.
    pub hp: Option<String>,
}

impl LabelKind {
    /// The benchmark label of `space` that the project learns by default: NATS-Bench TSS's
    /// hp=200 test accuracy, SSS's hp=90 validation accuracy (the only SSS accuracies
    /// recorded, PROVENANCE §11), NAS-Bench-Macro's 3-seed mean test accuracy.
    pub fn default_for(space: Space) -> LabelKind {
        space
            .default_label()
            .parse()
            .expect("each space's default label is a label kind")
    }

    pub fn new(accuracy: Accuracy, hp: Option<&str>) -> LabelKind {
        LabelKind {
            accuracy,
            hp: hp.map(str::to_string),
        }
    }

    /// "hp=90 validation accuracy", or "test accuracy" when the schedule is unknown.
    pub fn describe(&self) -> String {
        match &self.hp {
            Some(hp) => format!("hp={hp} {}", self.accuracy.words()),
            None => self.accuracy.words().to_string(),
        }
    }

    /// The unit suffix of its values in outputs: " (%)" for NATS-Bench's accuracies, nothing
    /// for a user's own label (its unit is theirs).
    pub fn unit(&self) -> &'static str {
        match self.accuracy {
            Accuracy::Own(_) => "",
            _ => " (%)",
        }
    }

    /// Whether labels of kind `other` measure the same thing: same accuracy, and the same
    /// schedule where both know it.
    pub fn matches(&self, other: &LabelKind) -> bool {
        self.accuracy == other.accuracy
            && match (&self.hp, &other.hp) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl fmt::Display for LabelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.accuracy.column())?;
        if let Some(hp) = &self.hp {
            write!(f, " hp={hp}")?;
        }
        Ok(())
    }
}

/// A label kind's text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("label kind {text:?}: {why}")]
pub struct BadLabelKind {
    pub text: String,
    pub why: &'static str,
}

impl FromStr for LabelKind {
    type Err = BadLabelKind;
    fn from_str(text: &str) -> Result<LabelKind, BadLabelKind> {
        let bad = |why| BadLabelKind {
            text: text.chars().take(60).collect(),
            why,
        };
        let mut parts = text.split_whitespace();
        let accuracy = parts
            .next()
            .and_then(Accuracy::from_column)
            .ok_or_else(|| {
                bad("expected test_acc, valid_acc, valtest_acc, train_acc or a label column name")
            })?;
        let hp = match parts.next() {
            None => None,
            Some(p) => {
                let hp = p
                    .strip_prefix("hp=")
                    .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| bad("expected hp=<epochs> after the column"))?;
                Some(hp.to_string())
            }
        };
        if parts.next().is_some() {
            return Err(bad("unexpected text after hp=<epochs>"));
        }
        Ok(LabelKind { accuracy, hp })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            space: Space::Tss,
            dataset: NatsDataset::ImageNet16_120,
            proxies: vec!["params".into(), "synflow".into()],
            config: ProxyConfig {
                data: DataSource::Foolbox20,
                batch_size: 20,
                share_isomorphic: true,
                ..ProxyConfig::default()
            },
            archs: vec![3, 1, 2],
            chunk_size: 50,
            device_kind: "cuda+cpu".parse().unwrap(),
            shard: None,
        }
    }

    #[test]
    fn json_uses_the_command_line_names() {
        let text = manifest().to_json();
        assert!(
            text.starts_with(r#"{"space":"tss","dataset":"imagenet16-120","#),
            "{text}"
        );
        assert!(text.contains(r#""device_kind":"cuda+cpu""#), "{text}");
        assert_eq!(Manifest::from_json(&text).unwrap(), manifest());
    }

    #[test]
    fn bad_device_kinds_are_refused() {
        assert!("gpu".parse::<DeviceKinds>().is_err());
        assert!("cpu+cpu".parse::<DeviceKinds>().is_err());
        assert_eq!(
            "cpu".parse::<DeviceKinds>().unwrap(),
            DeviceKinds::one(DeviceKind::Cpu)
        );
    }

    #[test]
    fn merge_concatenates_archs_and_device_kinds() {
        let a = manifest();
        let mut b = manifest();
        b.archs = vec![7];
        b.device_kind = DeviceKinds::one(DeviceKind::Cpu);
        b.chunk_size = 10;
        let m = Manifest::merge(&[a.clone(), b.clone()]).unwrap().unwrap();
        assert_eq!(m.archs, vec![3, 1, 2, 7]);
        assert_eq!(m.device_kind.to_string(), "cuda+cpu");
        let mut c = manifest();
        c.config.seed = 1;
        assert_eq!(
            Manifest::merge(&[a, b, c]).unwrap_err().position,
            2,
            "the third differs in a value setting"
        );
        assert_eq!(Manifest::merge(&[]).unwrap(), None);
    }

    #[test]
    fn label_kinds_round_trip_and_match() {
        for text in [
            "test_acc",
            "test_acc hp=200",
            "valid_acc hp=90",
            "train_acc hp=12",
        ] {
            let k: LabelKind = text.parse().unwrap();
            assert_eq!(k.to_string(), text);
        }
        let legacy: LabelKind = "test_acc".parse().unwrap();
        let tss: LabelKind = "test_acc hp=200".parse().unwrap();
        let sss: LabelKind = "valid_acc hp=90".parse().unwrap();
        assert!(legacy.matches(&tss) && tss.matches(&legacy));
        assert!(!tss.matches(&sss));
        assert!(!sss.matches(&"valid_acc hp=200".parse().unwrap()));
        assert_eq!(sss.describe(), "hp=90 validation accuracy");
        assert_eq!(legacy.describe(), "test accuracy");
        for bad in [
            "",
            "1acc",
            "my-acc",
            "valid_acc hp=",
            "valid_acc hp=x",
            "valid_acc 90",
            "test_acc hp=1 x",
        ] {
            assert!(bad.parse::<LabelKind>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tf32_is_a_configuration_difference_written_only_when_used() {
        let f32 = ProxyConfig::default();
        let text = serde_json::to_string(&f32).unwrap();
        assert!(!text.contains("tf32"), "{text}");
        let tf32 = ProxyConfig {
            tf32: true,
            ..ProxyConfig::default()
        };
        let text = serde_json::to_string(&tf32).unwrap();
        assert!(text.contains(r#""tf32":true"#), "{text}");
        assert_eq!(serde_json::from_str::<ProxyConfig>(&text).unwrap(), tf32);
        assert_eq!(
            f32.first_difference(&tf32).as_deref(),
            Some("CUDA precision float32 vs TF32")
        );
    }

    #[test]
    fn the_engine_kind_is_a_configuration_difference_written_only_when_batched() {
        let per_arch = ProxyConfig::default();
        assert!(!serde_json::to_string(&per_arch)
            .unwrap()
            .contains("engine\""));
        let batched = ProxyConfig {
            engine: EngineKind::Batched { archs: 16 },
            ..ProxyConfig::default()
        };
        let text = serde_json::to_string(&batched).unwrap();
        assert!(
            text.contains(r#""engine":{"batched":{"archs":16}}"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<ProxyConfig>(&text).unwrap(), batched);
        assert_eq!(
            per_arch.first_difference(&batched).as_deref(),
            Some("engine per-arch vs batched (16 archs per group)")
        );
    }
}
