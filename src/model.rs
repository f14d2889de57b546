//! The model file a search tool ships and loads: a [`Forest`] with what it is about in NAS
//! terms (space, dataset, label kind, the extraction's manifest). The forest itself knows
//! nothing of NAS; this module is where the two meet.
//!
//! Layout:
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | magic `b"GFFOREST"` |
//! | 8..12 | format version, `u32` little-endian: 1, or 2 (this build reads both: [`FORMAT_VERSION`] is the newest) |
//! | 12.. | version 1: postcard 1.x encoding of `{ meta, forest: Forest }`; version 2: `{ meta, splitter, forest }`; nothing after it |
//!
//! A forest of [`crate::forest::Splitter::Best`] (random forest) is written as version 1, so such files
//! are unchanged; extremely randomized trees need version 2, which stores the splitter.
//!
//! `meta` holds [`ModelMeta`]'s fields in order, with the space and dataset as their names and
//! the proxy configuration as the manifest's JSON text (empty for none).
//!
//! Each tree is stored as its pre-order node list: a varint code (0 = leaf, `f + 1` = split on
//! feature `f`) and an `f64` (the threshold or the leaf value), 9 bytes per node below 128
//! features; values are kept in full `f64` so a loaded model predicts bit-identically. Any change
//! to this layout or to a serialized struct bumps [`FORMAT_VERSION`].

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::forest::{
    Dataset, Forest, ForestError, ForestParams, ForestWire, MaxFeatures, Metrics, Prediction,
    Splitter,
};
use crate::provenance::{LabelKind, Manifest};
use crate::space::{NatsDataset, Space};

/// The forest the tools train unless told otherwise, chosen by cross-validation on the
/// complete tables of each space (benches/README.md, "Forest"): extremely randomized trees (no
/// bootstrap), `max_features` 0.5, `min_samples_leaf` 3 on TSS (within 0.002 τ of 1 at a
/// quarter of the model size) and 5 on SSS (its single-seed labels are noisy); the rest as
/// [`ForestParams::default`].
pub fn recommended_params(space: Space) -> ForestParams {
    ForestParams::builder()
        .splitter(Splitter::Random)
        .bootstrap(false)
        .max_features(MaxFeatures::Fraction(0.5))
        .min_samples_leaf(space.min_samples_leaf())
        .build()
        .expect("the recommended parameters are valid")
}

/// First 8 bytes of every model file.
pub const MAGIC: &[u8; 8] = b"GFFOREST";
/// The newest model format version this build writes and reads (it reads version 1 too).
pub const FORMAT_VERSION: u32 = 2;

/// What a model was trained on and how: enough to check inputs and to reproduce it.
///
/// Built as a struct literal, with [`Written::now`] for the stamp:
///
/// ```
/// use greenfactory::forest::ForestParams;
/// use greenfactory::model::{ModelMeta, Written};
/// use greenfactory::provenance::{Accuracy, LabelKind};
/// use greenfactory::space::{NatsDataset, Space};
/// let meta = ModelMeta {
///     feature_names: vec!["synflow".into(), "nwot".into()],
///     space: Space::Tss,
///     dataset: NatsDataset::Cifar10,
///     target: LabelKind::new(Accuracy::Test, Some("200")),
///     n_train: 1000,
///     extraction: None,
///     cv_metrics: None,
///     params: ForestParams::default(),
///     written: Written::now(),
/// };
/// assert_eq!(meta.written.crate_version, env!("CARGO_PKG_VERSION"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ModelMeta {
    /// Feature (proxy) names in the order the forest expects them.
    pub feature_names: Vec<String>,
    pub space: Space,
    pub dataset: NatsDataset,
    /// What the labels it learnt were (e.g. hp=200 test accuracy); stored as its text
    /// (`"test_acc hp=200"`; older models hold the bare column name).
    pub target: LabelKind,
    pub n_train: usize,
    /// The manifest of the extraction the features were computed by; `None` for a model of
    /// external features (a Suite-Zero or plain table), which no engine can reproduce. Stored
    /// as its JSON text (empty for `None`), as in a proxy table's metadata (the file's field
    /// `proxy_config`).
    pub extraction: Option<Manifest>,
    /// Cross-validation metrics on the training set, if computed.
    pub cv_metrics: Option<Metrics>,
    pub params: ForestParams,
    pub written: Written,
}

/// What a model is about, known before fitting: its features, space, dataset, target and the
/// extraction that computed the features. [`Model::fit`] and [`Model::fit_xy`] add the rest of
/// [`ModelMeta`] (rows, parameters, metrics, who wrote it).
#[derive(Debug, Clone, PartialEq)]
pub struct About {
    pub feature_names: Vec<String>,
    pub space: Space,
    pub dataset: NatsDataset,
    pub target: LabelKind,
    /// The manifest of the extraction that computed the features ([`ModelMeta::extraction`]).
    pub extraction: Option<Manifest>,
}

/// Which build wrote a model, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Written {
    /// `CARGO_PKG_VERSION` of the crate that wrote the model.
    pub crate_version: String,
    /// Seconds since the Unix epoch.
    pub created_unix: u64,
}

impl Written {
    /// This crate's version and the current time.
    pub fn now() -> Written {
        Written {
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            created_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }
}

/// [`ModelMeta`] as the file stores it: names and JSON text. Reading goes through this form so
/// that a value the types refuse is reported with the field and the value (postcard drops the
/// message of an error raised inside a deserializer).
#[derive(Serialize, Deserialize)]
struct StoredMeta {
    feature_names: Vec<String>,
    space: String,
    dataset: String,
    target: String,
    n_train: usize,
    /// The manifest's JSON text; empty for `None`.
    proxy_config: String,
    cv_metrics: Option<Metrics>,
    params: ForestParams,
    written: Written,
}

impl From<&ModelMeta> for StoredMeta {
    fn from(m: &ModelMeta) -> StoredMeta {
        StoredMeta {
            feature_names: m.feature_names.clone(),
            space: m.space.name().into(),
            dataset: m.dataset.name().into(),
            target: m.target.to_string(),
            n_train: m.n_train,
            proxy_config: m
                .extraction
                .as_ref()
                .map(Manifest::to_json)
                .unwrap_or_default(),
            cv_metrics: m.cv_metrics,
            params: m.params.clone(),
            written: m.written.clone(),
        }
    }
}

impl TryFrom<StoredMeta> for ModelMeta {
    type Error = String;
    fn try_from(m: StoredMeta) -> Result<ModelMeta, String> {
        let extraction = if m.proxy_config.trim().is_empty() {
            None
        } else {
            Some(Manifest::from_json(&m.proxy_config).map_err(|e| {
                format!("its proxy configuration is not an extraction manifest ({e})")
            })?)
        };
        Ok(ModelMeta {
            space: m.space.parse().map_err(|e| format!("its space: {e}"))?,
            dataset: m.dataset.parse().map_err(|e| format!("its dataset: {e}"))?,
            feature_names: m.feature_names,
            target: m.target.parse().map_err(|e| format!("its target: {e}"))?,
            n_train: m.n_train,
            extraction,
            cv_metrics: m.cv_metrics,
            params: m.params,
            written: m.written,
        })
    }
}

#[derive(Serialize)]
struct StoredModelRef<'a> {
    meta: StoredMeta,
    forest: &'a Forest,
}

#[derive(Serialize)]
struct StoredModelRefV2<'a> {
    meta: StoredMeta,
    splitter: crate::forest::Splitter,
    forest: &'a Forest,
}

/// Read side of the file: the forest stays in its file form until it is checked.
#[derive(Deserialize)]
struct StoredModel {
    meta: StoredMeta,
    forest: ForestWire,
}

#[derive(Deserialize)]
struct StoredModelV2 {
    meta: StoredMeta,
    splitter: crate::forest::Splitter,
    forest: ForestWire,
}

/// A fitted forest with its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    meta: ModelMeta,
    forest: Forest,
}

impl Model {
    /// Fits a forest on `data` and wraps it with its metadata; `cv_metrics` are the
    /// cross-validation metrics the caller measured on the same rows, if any.
    pub fn fit(
        data: &Dataset,
        about: About,
        params: &ForestParams,
        cv_metrics: Option<Metrics>,
    ) -> Result<Model, ForestError> {
        let forest = Forest::fit(data, params)?;
        Self::fitted(about, data.n_rows(), params, cv_metrics, forest)
    }

    /// [`Model::fit`] on a row-major `x` (`n_rows` × the features of `about`) and `y`.
    pub fn fit_xy(
        x: &[f64],
        n_rows: usize,
        y: &[f64],
        about: About,
        params: &ForestParams,
    ) -> Result<Model, ForestError> {
        let forest = Forest::fit_xy(x, n_rows, about.feature_names.len(), y, params)?;
        Self::fitted(about, n_rows, params, None, forest)
    }

    fn fitted(
        about: About,
        n_train: usize,
        params: &ForestParams,
        cv_metrics: Option<Metrics>,
        forest: Forest,
    ) -> Result<Model, ForestError> {
        let About {
            feature_names,
            space,
            dataset,
            target,
            extraction,
        } = about;
        let meta = ModelMeta {
            feature_names,
            space,
            dataset,
            target,
            n_train,
            extraction,
            cv_metrics,
            params: params.clone(),
            written: Written::now(),
        };
        Model::new(meta, forest)
    }

    /// Pairs metadata and forest; their feature counts must agree.
    pub fn new(meta: ModelMeta, forest: Forest) -> Result<Model, ForestError> {
        if meta.feature_names.len() != forest.n_features() {
            return Err(ForestError::Shape(format!(
                "{} feature names for a forest of {} features",
                meta.feature_names.len(),
                forest.n_features()
            )));
        }
        Ok(Model { meta, forest })
    }

    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    pub fn forest(&self) -> &Forest {
        &self.forest
    }

    pub fn feature_names(&self) -> &[String] {
        &self.meta.feature_names
    }

    /// Predicts rows whose columns are named `feature_names`; the names must be the model's, in
    /// the model's order (the error names the first missing, unexpected or misplaced feature).
    pub fn predict(
        &self,
        feature_names: &[String],
        rows: &[f64],
    ) -> Result<Vec<Prediction>, ForestError> {
        check_names(&self.meta.feature_names, feature_names)?;
        self.forest.predict(rows)
    }

    /// Predicts rows already in the model's feature order.
    pub fn predict_ordered(&self, rows: &[f64]) -> Result<Vec<Prediction>, ForestError> {
        self.forest.predict(rows)
    }

    /// The file content: magic, version, postcard payload.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ForestError> {
        let mut out = Vec::with_capacity(1 << 20);
        out.extend_from_slice(MAGIC);
        let meta = StoredMeta::from(&self.meta);
        let encoded = match self.meta.params.splitter() {
            crate::forest::Splitter::Best => {
                out.extend_from_slice(&1u32.to_le_bytes());
                let stored = StoredModelRef {
                    meta,
                    forest: &self.forest,
                };
                postcard::to_io(&stored, &mut out).map(|_| ())
            }
            splitter => {
                out.extend_from_slice(&2u32.to_le_bytes());
                let stored = StoredModelRefV2 {
                    meta,
                    splitter,
                    forest: &self.forest,
                };
                postcard::to_io(&stored, &mut out).map(|_| ())
            }
        };
        encoded.map_err(|e| ForestError::Corrupt {
            path: PathBuf::new(),
            detail: format!("cannot encode: {e}"),
        })?;
        Ok(out)
    }

    /// Parses file content; `path` only labels errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Model, ForestError> {
        let path = path.to_path_buf();
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(ForestError::NotAModel { path });
        }
        let Some(v) = bytes.get(8..12) else {
            return Err(ForestError::Corrupt {
                path,
                detail: "truncated header".into(),
            });
        };
        let found = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
        let corrupt = |e: postcard::Error| ForestError::Corrupt {
            path: path.clone(),
            detail: e.to_string(),
        };
        let (stored, splitter, rest) = match found {
            1 => {
                let (s, rest): (StoredModel, &[u8]) =
                    postcard::take_from_bytes(&bytes[12..]).map_err(corrupt)?;
                (s, crate::forest::Splitter::Best, rest)
            }
            2 => {
                let (s, rest): (StoredModelV2, &[u8]) =
                    postcard::take_from_bytes(&bytes[12..]).map_err(corrupt)?;
                (
                    StoredModel {
                        meta: s.meta,
                        forest: s.forest,
                    },
                    s.splitter,
                    rest,
                )
            }
            _ => {
                return Err(ForestError::UnsupportedVersion {
                    path,
                    found,
                    supported: FORMAT_VERSION,
                })
            }
        };
        if !rest.is_empty() {
            return Err(ForestError::Corrupt {
                path,
                detail: format!("{} unexpected bytes after the model", rest.len()),
            });
        }
        let mut meta =
            ModelMeta::try_from(stored.meta).map_err(|detail| ForestError::Metadata {
                path: path.clone(),
                detail,
            })?;
        meta.params = meta.params.with_splitter(splitter);
        let forest = Forest::try_from(stored.forest).map_err(|detail| ForestError::Corrupt {
            path: path.clone(),
            detail,
        })?;
        if meta.feature_names.len() != forest.n_features() {
            return Err(ForestError::Corrupt {
                path,
                detail: "feature names do not match the forest".into(),
            });
        }
        Ok(Model { meta, forest })
    }

    /// Writes the model to `path` atomically: the bytes go to `<path>.tmp`, are synced, and the
    /// file is renamed over `path`, so a crash never leaves a partial file under the real name.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ForestError> {
        let path = path.as_ref();
        let bytes = self.to_bytes()?;
        let io = |p: &Path, source| ForestError::Io {
            path: p.to_path_buf(),
            source,
        };
        crate::atomic::write_atomic_with(
            path,
            |f| {
                f.write_all(&bytes)
                    .map_err(|e| io(&crate::atomic::tmp_path(path), e))
            },
            io,
        )
    }

    /// Reads a model file written by [`Model::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Model, ForestError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ForestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }
}

/// Names the first difference between the model's feature list and the caller's.
fn check_names(model: &[String], given: &[String]) -> Result<(), ForestError> {
    if model == given {
        return Ok(());
    }
    let err = |s: String| Err(ForestError::FeatureMismatch(s));
    if let Some(m) = model.iter().find(|m| !given.contains(m)) {
        return err(format!("missing feature `{m}`"));
    }
    if let Some(g) = given.iter().find(|g| !model.contains(g)) {
        return err(format!("unexpected feature `{g}`"));
    }
    if model.len() != given.len() {
        return err(format!(
            "{} names given for {} features (duplicates)",
            given.len(),
            model.len()
        ));
    }
    let i = model
        .iter()
        .zip(given)
        .position(|(m, g)| m != g)
        .unwrap_or(0);
    err(format!(
        "misordered: position {i} is `{}`, the model expects `{}`",
        given[i], model[i]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn name_checks_point_at_the_first_difference() {
        let m = names(&["a", "b", "c"]);
        assert!(check_names(&m, &m).is_ok());
        let e = check_names(&m, &names(&["a", "b"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing feature `c`"), "{e}");
        let e = check_names(&m, &names(&["a", "b", "c", "d"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unexpected feature `d`"), "{e}");
        let e = check_names(&m, &names(&["a", "c", "b"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("position 1 is `c`"), "{e}");
    }

    #[test]
    fn header_errors() {
        let p = Path::new("m.gfm");
        assert!(matches!(
            Model::from_bytes(b"PK\x03\x04", p),
            Err(ForestError::NotAModel { .. })
        ));
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&3u32.to_le_bytes());
        let e = Model::from_bytes(&b, p).unwrap_err();
        assert!(
            e.to_string()
                .contains("model format version 3, this build reads versions 1 to 2"),
            "{e}"
        );
        assert!(matches!(
            Model::from_bytes(&b[..10], p),
            Err(ForestError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_configuration_that_is_not_a_manifest_is_named() {
        let stored = StoredMeta {
            feature_names: vec!["synflow".into()],
            space: "tss".into(),
            dataset: "ImageNet16-120".into(),
            target: "test_acc".parse().unwrap(),
            n_train: 10,
            proxy_config: r#"{"proxies":"suite-zero"}"#.into(),
            cv_metrics: None,
            params: ForestParams::default(),
            written: Written::now(),
        };
        let e = ModelMeta::try_from(stored).unwrap_err();
        assert!(
            e.starts_with("its proxy configuration is not an extraction manifest"),
            "{e}"
        );
        let none = StoredMeta {
            proxy_config: String::new(),
            ..StoredMeta::from(&ModelMeta {
                feature_names: vec!["synflow".into()],
                space: Space::Tss,
                dataset: NatsDataset::ImageNet16_120,
                target: "test_acc".parse().unwrap(),
                n_train: 10,
                extraction: None,
                cv_metrics: None,
                params: ForestParams::default(),
                written: Written::now(),
            })
        };
        assert_eq!(none.dataset, "imagenet16-120");
        assert_eq!(ModelMeta::try_from(none).unwrap().extraction, None);
    }
}
