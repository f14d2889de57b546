//! `greenfactory._native`: the PyO3 binding of the torch-free part of greenfactory (`space` +
//! `forest`). The Python package `greenfactory` (python/greenfactory/__init__.py) re-exports
//! it; `greenfactory/_input.py` turns NumPy arrays, dicts and DataFrames into the model's
//! feature matrix, so column selection and its error messages live in one place.
//!
//! Every error the library reports becomes a `greenfactory.GreenfactoryError` (a `ValueError`)
//! carrying the library's one-line message; nothing here unwraps user input, so no Rust panic
//! can reach Python.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use greenfactory::forest::{
    self, Dataset, ForestError, ForestParams, MaxFeatures, Metrics, Protocol, SplitSize, Splitter,
};
use greenfactory::model;
use greenfactory::provenance::Manifest;
use greenfactory::space::{self, Arch, NatsDataset, Space};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

create_exception!(
    greenfactory,
    GreenfactoryError,
    PyValueError,
    "An error reported by greenfactory (bad model file, feature names, shapes, parameters, arch strings)."
);

fn err(msg: impl std::fmt::Display) -> PyErr {
    GreenfactoryError::new_err(msg.to_string())
}

fn ferr(e: ForestError) -> PyErr {
    err(e)
}

fn parse_space(s: &str) -> PyResult<Space> {
    s.parse::<Space>().map_err(err)
}

/// An arch given as an official index (int) or an arch string.
fn parse_arch(space: Space, item: &Bound<'_, PyAny>) -> PyResult<Arch> {
    if let Ok(s) = item.cast::<PyString>() {
        return space.parse(&s.to_cow()?).map_err(err);
    }
    if item.is_instance_of::<pyo3::types::PyBool>() {
        return Err(err(
            "an arch is an arch string or an official index, not a bool",
        ));
    }
    match item.extract::<i64>() {
        Ok(i) if i >= 0 => space.arch(i as usize).map_err(err),
        Ok(i) => Err(err(format!(
            "{space} index {i} out of range (0..{})",
            space.size()
        ))),
        Err(_) if item.is_instance_of::<pyo3::types::PyInt>() => Err(err(format!(
            "{space} index {} out of range (0..{})",
            item.str()?.to_cow()?,
            space.size()
        ))),
        Err(_) => Err(err(format!(
            "an arch is an arch string or an official index, not {}",
            item.get_type().name()?
        ))),
    }
}

/// The items of a sequence of archs; a lone string is refused (it would iterate characters).
fn parse_archs(space: Space, archs: &Bound<'_, PyAny>) -> PyResult<Vec<Arch>> {
    if archs.is_instance_of::<PyString>() {
        return Err(err(
            "archs must be a sequence of arch strings or indices, not one string (wrap it in a list)",
        ));
    }
    let mut out = Vec::new();
    for (i, item) in archs.try_iter()?.enumerate() {
        let item = item?;
        out.push(
            parse_arch(space, &item)
                .map_err(|e| err(format!("arch #{i}: {}", e.value(archs.py()))))?,
        );
    }
    Ok(out)
}

/// The feature matrix of `x` for `names` (see `_input.as_matrix`): float64, C-contiguous.
fn as_matrix<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    names: Option<&[String]>,
    what: &str,
) -> PyResult<(Vec<String>, PyReadonlyArray2<'py, f64>)> {
    let helper = py.import("greenfactory._input")?;
    let names_obj = match names {
        Some(n) => PyList::new(py, n)?.into_any(),
        None => py.None().into_bound(py),
    };
    let out = helper.call_method1("as_matrix", (x, names_obj, what))?;
    let (names, arr): (Vec<String>, Bound<'py, PyArray2<f64>>) = out.extract()?;
    Ok((names, arr.readonly()))
}

/// The target vector `y`: 1-D float64, finite.
fn as_vector(py: Python<'_>, y: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f64>> {
    let helper = py.import("greenfactory._input")?;
    let arr: Bound<'_, PyArray1<f64>> = helper.call_method1("as_vector", (y, what))?.extract()?;
    Ok(arr.readonly().as_slice().map_err(err)?.to_vec())
}

fn metrics_dict<'py>(py: Python<'py>, m: &Metrics) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("kendall_tau", m.kendall_tau)?;
    d.set_item("spearman", m.spearman)?;
    d.set_item("pearson", m.pearson)?;
    d.set_item("r2", m.r2)?;
    d.set_item("mae", m.mae)?;
    d.set_item("rmse", m.rmse)?;
    d.set_item("n", m.n)?;
    Ok(d)
}

fn params_dict<'py>(py: Python<'py>, p: &ForestParams) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(
        "forest",
        match p.splitter() {
            Splitter::Best => "random-forest",
            Splitter::Random => "extra-trees",
        },
    )?;
    d.set_item("n_trees", p.n_trees())?;
    match p.max_features() {
        MaxFeatures::Fraction(f) => d.set_item("max_features", f)?,
        MaxFeatures::Count(c) => d.set_item("max_features", c)?,
        m => d.set_item("max_features", m.to_string())?,
    }
    d.set_item("max_depth", p.max_depth())?;
    d.set_item("min_samples_split", p.min_samples_split())?;
    d.set_item("min_samples_leaf", p.min_samples_leaf())?;
    d.set_item("bootstrap", p.bootstrap())?;
    d.set_item("seed", p.seed())?;
    d.set_item("n_threads", p.n_threads())?;
    Ok(d)
}

/// `"all"`, `"sqrt"`, `"log2"`, a float fraction in (0, 1] or an int count (sklearn's meanings).
fn parse_max_features(v: &Bound<'_, PyAny>) -> PyResult<MaxFeatures> {
    if let Ok(s) = v.cast::<PyString>() {
        // Numbers come as Python ints (counts) or floats (fractions), below; text is a name.
        return match s.to_cow()?.parse::<MaxFeatures>() {
            Ok(m @ (MaxFeatures::All | MaxFeatures::Sqrt | MaxFeatures::Log2)) => Ok(m),
            _ => Err(err(format!(
                "max_features {:?}: expected \"all\", \"sqrt\", \"log2\", a fraction or a count",
                s.to_cow()?
            ))),
        };
    }
    if v.is_instance_of::<pyo3::types::PyBool>() {
        return Err(err(
            "max_features: expected \"all\", \"sqrt\", \"log2\", a fraction or a count, not a bool",
        ));
    }
    if v.is_instance_of::<pyo3::types::PyInt>() {
        let c: i64 = v.extract()?;
        if c < 1 {
            return Err(err(format!(
                "invalid forest parameter max_features: count {c} is below 1"
            )));
        }
        return Ok(MaxFeatures::Count(c as usize));
    }
    match v.extract::<f64>() {
        Ok(f) => Ok(MaxFeatures::Fraction(f)),
        Err(_) => Err(err(
            "max_features: expected \"all\", \"sqrt\", \"log2\", a fraction or a count",
        )),
    }
}

/// `model::recommended_params` for `space` (TSS when unknown), with what the arguments set
/// (`None`: keep the recommended value), as `greenfactory train` builds them.
#[allow(clippy::too_many_arguments)]
fn forest_params(
    forest: Option<&str>,
    n_trees: usize,
    max_features: Option<&Bound<'_, PyAny>>,
    max_depth: Option<usize>,
    min_samples_split: usize,
    min_samples_leaf: Option<usize>,
    bootstrap: Option<bool>,
    seed: u64,
    n_threads: Option<usize>,
    space: Option<Space>,
) -> PyResult<ForestParams> {
    let mut p = greenfactory::model::recommended_params(space.unwrap_or(Space::Tss)).to_builder();
    match forest {
        None => {}
        Some("extra-trees") => p = p.splitter(Splitter::Random).bootstrap(false),
        Some("random-forest") => p = p.splitter(Splitter::Best).bootstrap(true),
        Some(other) => {
            return Err(err(format!(
                "forest {other:?}: expected \"extra-trees\" or \"random-forest\""
            )))
        }
    }
    if let Some(m) = max_features {
        p = p.max_features(parse_max_features(m)?);
    }
    if let Some(leaf) = min_samples_leaf {
        p = p.min_samples_leaf(leaf);
    }
    if let Some(b) = bootstrap {
        p = p.bootstrap(b);
    }
    p.n_trees(n_trees)
        .max_depth(max_depth)
        .min_samples_split(min_samples_split)
        .seed(seed)
        .n_threads(n_threads)
        .build()
        .map_err(ferr)
}

/// `(mean, std)` arrays of `Model.predict`.
type MeanStd<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// A trained greenfactory random forest with its metadata (a `.gfm` model file).
#[pyclass(module = "greenfactory", name = "Model", frozen)]
pub struct PyModel {
    inner: model::Model,
}

#[pymethods]
impl PyModel {
    /// Reads a model file written by `greenfactory train` or `Model.save`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyModel> {
        let inner = py.detach(|| model::Model::load(&path)).map_err(ferr)?;
        Ok(PyModel { inner })
    }

    /// Parses the bytes of a model file (what `to_bytes` returns).
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<PyModel> {
        let inner = model::Model::from_bytes(data, Path::new("<bytes>")).map_err(ferr)?;
        Ok(PyModel { inner })
    }

    /// The model file's content.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let b = self.inner.to_bytes().map_err(ferr)?;
        Ok(PyBytes::new(py, &b))
    }

    /// Writes the model file atomically (readable by `load_model` and the CLI).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.save(&path)).map_err(ferr)
    }

    /// Feature names in the order the forest expects them (the columns of a NumPy `X`).
    #[getter]
    fn feature_names(&self) -> Vec<String> {
        self.inner.feature_names().to_vec()
    }

    #[getter]
    fn n_features(&self) -> usize {
        self.inner.feature_names().len()
    }

    #[getter]
    fn n_trees(&self) -> usize {
        self.inner.forest().n_trees()
    }

    /// Search space the model was trained on (`"tss"` or `"sss"`).
    #[getter]
    fn space(&self) -> String {
        self.inner.meta().space.name().into()
    }

    /// Dataset the model predicts accuracies on (`"cifar10"`, `"cifar100"`, `"imagenet16-120"`).
    #[getter]
    fn dataset(&self) -> String {
        self.inner.meta().dataset.name().into()
    }

    /// What the model predicts, as stored: the label column and the NATS-Bench schedule,
    /// e.g. `"test_acc hp=200"` or `"valid_acc hp=90"` (older models: the bare column).
    #[getter]
    fn target(&self) -> String {
        self.inner.meta().target.to_string()
    }

    /// What the model predicts in words, e.g. `"hp=90 validation accuracy"`.
    #[getter]
    fn label(&self) -> String {
        self.inner.meta().target.describe()
    }

    /// Number of training rows.
    #[getter]
    fn n_train(&self) -> usize {
        self.inner.meta().n_train
    }

    /// The proxy configuration the features were computed with (the extraction's manifest) as
    /// a dict, or None for a model trained on an external table.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner.meta().extraction {
            None => Ok(py.None().into_bound(py)),
            Some(m) => py.import("json")?.call_method1("loads", (m.to_json(),)),
        }
    }

    /// The proxy configuration as JSON text, as the model file holds it (empty when there is
    /// none).
    #[getter]
    fn proxy_config(&self) -> String {
        self.inner
            .meta()
            .extraction
            .as_ref()
            .map(Manifest::to_json)
            .unwrap_or_default()
    }

    /// Cross-validation metrics on the training rows recorded by `train`, or None.
    #[getter]
    fn cv_metrics<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.inner
            .meta()
            .cv_metrics
            .as_ref()
            .map(|m| metrics_dict(py, m))
            .transpose()
    }

    /// The forest's hyper-parameters (scikit-learn's names).
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        params_dict(py, &self.inner.meta().params)
    }

    /// Version of the greenfactory crate that wrote the model.
    #[getter]
    fn crate_version(&self) -> String {
        self.inner.meta().written.crate_version.clone()
    }

    /// Seconds since the Unix epoch when the model was made.
    #[getter]
    fn created_unix(&self) -> u64 {
        self.inner.meta().written.created_unix
    }

    /// Predicted mean and uncertainty (std over trees) per row, as two float64 arrays.
    ///
    /// `X` is a 2-D NumPy array (or nested list) whose columns are the model's features in
    /// `feature_names` order, or a dict / Polars / pandas DataFrame with one column per feature
    /// (selected by name, any order). A missing feature, a column that is neither a feature nor
    /// a key column (`arch`, `arch_str`, `index`, `arch_index`, `space`, `dataset`, `status`),
    /// a wrong shape or a non-finite value raises GreenfactoryError naming it.
    #[pyo3(signature = (X, /))]
    #[allow(non_snake_case)]
    fn predict<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<MeanStd<'py>> {
        // Rows whose arch is a cell that ignores its input get chance accuracy by rule (their
        // proxies are NaN), as `greenfactory predict` gives them.
        let meta = self.inner.meta();
        let helper = py.import("greenfactory._input")?;
        let known =
            helper.call_method1("known_rows", (X, meta.space.name(), meta.dataset.name()))?;
        let known: Option<Vec<f64>> = if known.is_none() {
            None
        } else {
            Some(
                known
                    .extract::<Bound<'py, PyArray1<f64>>>()?
                    .readonly()
                    .as_slice()
                    .map_err(err)?
                    .to_vec(),
            )
        };
        let skip = match &known {
            Some(k) => {
                numpy::PyArray1::from_vec(py, k.iter().map(|v| !v.is_nan()).collect::<Vec<bool>>())
                    .into_any()
            }
            None => py.None().into_bound(py),
        };
        let names_obj = PyList::new(py, self.inner.feature_names())?.into_any();
        let out = helper.call_method1("as_matrix", (X, names_obj, "X", skip))?;
        let (_, arr): (Vec<String>, Bound<'py, PyArray2<f64>>) = out.extract()?;
        let arr = arr.readonly();
        let x = arr.as_slice().map_err(err)?;
        let mut pred = py.detach(|| self.inner.predict_ordered(x)).map_err(ferr)?;
        if let Some(k) = known {
            for (p, v) in pred.iter_mut().zip(k) {
                if !v.is_nan() {
                    p.mean = v;
                    p.std = 0.0;
                }
            }
        }
        let mean: Vec<f64> = pred.iter().map(|p| p.mean).collect();
        let std: Vec<f64> = pred.iter().map(|p| p.std).collect();
        Ok((PyArray1::from_vec(py, mean), PyArray1::from_vec(py, std)))
    }

    /// Impurity-based importances (sum 1) as a dict feature name → importance, in model order.
    fn feature_importances<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (n, v) in self
            .inner
            .feature_names()
            .iter()
            .zip(self.inner.forest().feature_importances())
        {
            d.set_item(n, *v)?;
        }
        Ok(d)
    }

    /// Pickling goes through the model file's bytes.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let f = py.import("greenfactory")?.getattr("_model_from_bytes")?;
        Ok((f, (self.to_bytes(py)?,)))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyModel>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        let m = self.inner.meta();
        format!(
            "Model(space={:?}, dataset={:?}, target={:?}, features={}, trees={}, n_train={})",
            m.space.name(),
            m.dataset.name(),
            m.target.to_string(),
            m.feature_names.len(),
            self.inner.forest().n_trees(),
            m.n_train
        )
    }
}

/// Reads a `.gfm` model file.
#[pyfunction]
fn load_model(py: Python<'_>, path: PathBuf) -> PyResult<PyModel> {
    PyModel::load(py, path)
}

/// `(names, X)`: the exact architecture features (`space::features`) of each arch — the
/// columns `greenfactory train --arch-features` adds — as a list of names and a float64 array
/// of shape (len(archs), len(names)). `archs` holds arch strings or official indices.
#[pyfunction]
fn arch_features<'py>(
    py: Python<'py>,
    space: &str,
    archs: &Bound<'py, PyAny>,
) -> PyResult<(Vec<String>, Bound<'py, PyArray2<f64>>)> {
    let space = parse_space(space)?;
    let archs = parse_archs(space, archs)?;
    let names = space::features::arch_feature_names(space).to_vec();
    let k = names.len();
    let mut x = Vec::with_capacity(archs.len() * k);
    for a in &archs {
        x.extend(space::features::arch_features(a));
    }
    let arr = PyArray1::from_vec(py, x).reshape([archs.len(), k])?;
    Ok((names, arr))
}

/// Names of the arch features of `space`, in column order.
#[pyfunction]
fn arch_feature_names(space: &str) -> PyResult<Vec<String>> {
    Ok(space::features::arch_feature_names(parse_space(space)?).to_vec())
}

/// The official NATS-Bench arch string of `arch` (an index or a string, normalised).
#[pyfunction]
fn arch_string(space: &str, arch: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(parse_arch(parse_space(space)?, arch)?.to_string())
}

/// The official NATS-Bench index of `arch` (an arch string or an index).
#[pyfunction]
fn arch_index(space: &str, arch: &Bound<'_, PyAny>) -> PyResult<usize> {
    Ok(parse_arch(parse_space(space)?, arch)?.index())
}

/// Number of archs in the space (15,625 for TSS, 32,768 for SSS).
#[pyfunction]
fn space_size(space: &str) -> PyResult<usize> {
    Ok(parse_space(space)?.size())
}

/// `n` distinct official indices drawn uniformly without replacement with `seed` (the same
/// draw as `greenfactory archs --sample n --seed seed`).
#[pyfunction]
#[pyo3(signature = (space, n, seed=0))]
fn sample_indices(space: &str, n: usize, seed: u64) -> PyResult<Vec<usize>> {
    Ok(parse_space(space)?.sample_indices(n, seed))
}

/// The TSS isomorphism-class string of `arch` (NATS-Bench's `to_unique_str(consider_zero=True)`):
/// archs with the same string compute the same function. SSS and Macro archs are their own class.
#[pyfunction]
fn isomorphism_class(space: &str, arch: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(match parse_arch(parse_space(space)?, arch)? {
        Arch::Tss(t) => t.unique_str(),
        a => a.to_string(),
    })
}

/// The accuracy (%) an arch has without a model: chance (100 / classes) for a TSS cell whose
/// output ignores its input (it has no jacov/epe_nas value, so the forest cannot score it);
/// None for every other arch. This is what `greenfactory predict` reports for such cells.
#[pyfunction]
fn known_accuracy(space: &str, arch: &Bound<'_, PyAny>, dataset: &str) -> PyResult<Option<f64>> {
    let d: NatsDataset = dataset.parse().map_err(err)?;
    Ok(parse_arch(parse_space(space)?, arch)?.known_accuracy(d))
}

/// Every metric of a prediction set: Kendall τ-b, Spearman ρ, Pearson r, R², MAE, RMSE, n.
#[pyfunction]
fn metrics<'py>(
    py: Python<'py>,
    y_true: &Bound<'py, PyAny>,
    y_pred: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let t = as_vector(py, y_true, "y_true")?;
    let p = as_vector(py, y_pred, "y_pred")?;
    let m = Metrics::compute(&t, &p).map_err(ferr)?;
    metrics_dict(py, &m)
}

/// Fits a forest on `X` (rows × features) and `y`, returning a Model that predicts and saves
/// like a shipped one. `X` as in `Model.predict`; with a dict or DataFrame, `feature_names`
/// picks the columns (default: every non-key column, in order).
#[pyfunction]
#[pyo3(signature = (X, y, feature_names=None, *, forest=None, n_trees=100, max_features=None,
    max_depth=None, min_samples_split=2, min_samples_leaf=None, bootstrap=None, seed=0, n_threads=None,
    space, dataset, target=None, config=None))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn train<'py>(
    py: Python<'py>,
    X: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    feature_names: Option<Vec<String>>,
    forest: Option<&str>,
    n_trees: usize,
    max_features: Option<&Bound<'py, PyAny>>,
    max_depth: Option<usize>,
    min_samples_split: usize,
    min_samples_leaf: Option<usize>,
    bootstrap: Option<bool>,
    seed: u64,
    n_threads: Option<usize>,
    space: &str,
    dataset: &str,
    target: Option<&str>,
    config: Option<&Bound<'py, PyAny>>,
) -> PyResult<PyModel> {
    let params = forest_params(
        forest,
        n_trees,
        max_features,
        max_depth,
        min_samples_split,
        min_samples_leaf,
        bootstrap,
        seed,
        n_threads,
        Some(parse_space(space)?),
    )?;
    let (names, arr) = as_matrix(py, X, feature_names.as_deref(), "X")?;
    let y = as_vector(py, y, "y")?;
    let x = arr.as_slice().map_err(err)?;
    let n = y.len();
    if arr.shape()[0] != n {
        return Err(err(format!(
            "X has {} rows, y has {n} values",
            arr.shape()[0]
        )));
    }
    let space = parse_space(space)?;
    let dataset: NatsDataset = dataset.parse().map_err(err)?;
    let target: greenfactory::provenance::LabelKind = match target {
        Some(t) => t.parse().map_err(err)?,
        None => greenfactory::provenance::LabelKind::default_for(space),
    };
    let config = match config {
        None => None,
        Some(c) if c.is_none() => None,
        Some(c) => {
            let text = match c.cast::<PyString>() {
                Ok(s) => s.to_cow()?.to_string(),
                Err(_) => py
                    .import("json")?
                    .call_method1("dumps", (c,))?
                    .extract::<String>()?,
            };
            Some(Manifest::from_json(&text).map_err(|e| {
                err(format!(
                    "config is not a greenfactory extraction manifest (what Model.config returns): {e}"
                ))
            })?)
        }
    };
    let about = model::About {
        feature_names: names,
        space,
        dataset,
        target,
        extraction: config,
    };
    let model = py
        .detach(|| model::Model::fit_xy(x, n, &y, about, &params))
        .map_err(ferr)?;
    Ok(PyModel { inner: model })
}

/// Held-out evaluation exactly as `greenfactory evaluate`: `repeats` train/test splits of the
/// rows (seeds derived from `seed`), a forest per split, metrics on the test side. With the
/// rows in the CLI's joined order (the proxy table's order, failed and unlabelled rows dropped)
/// and the same features, parameters and seed, the result equals the CLI's bit for bit.
/// `protocol="group"` keeps every group of `groups` (e.g. `isomorphism_class` strings) wholly on
/// one side; the CLI calls it `isomorphism`, which is also accepted. `predictions=True` adds
/// `"predictions"`: per repeat, the test rows (indices into `X`), their predicted means and the
/// forest's feature importances.
#[pyfunction]
#[pyo3(signature = (X, y, feature_names=None, *, protocol="random", groups=None, train_frac=None,
    n_train=None, repeats=5, seed=0, forest=None, n_trees=100, max_features=None,
    max_depth=None, min_samples_split=2, min_samples_leaf=None, bootstrap=None, n_threads=None,
    predictions=false, space=None))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn evaluate<'py>(
    py: Python<'py>,
    X: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    feature_names: Option<Vec<String>>,
    protocol: &str,
    groups: Option<&Bound<'py, PyAny>>,
    train_frac: Option<f64>,
    n_train: Option<usize>,
    repeats: usize,
    seed: u64,
    forest: Option<&str>,
    n_trees: usize,
    max_features: Option<&Bound<'py, PyAny>>,
    max_depth: Option<usize>,
    min_samples_split: usize,
    min_samples_leaf: Option<usize>,
    bootstrap: Option<bool>,
    n_threads: Option<usize>,
    predictions: bool,
    space: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let space = space.map(parse_space).transpose()?;
    let params = forest_params(
        forest,
        n_trees,
        max_features,
        max_depth,
        min_samples_split,
        min_samples_leaf,
        bootstrap,
        seed,
        n_threads,
        space,
    )?;
    let protocol: Protocol = protocol.parse().map_err(ferr)?;
    let split = match (n_train, train_frac) {
        (Some(_), Some(_)) => return Err(err("give train_frac or n_train, not both")),
        (Some(k), None) => SplitSize::NTrain(k),
        (None, Some(f)) => SplitSize::TrainFrac(f),
        (None, None) => SplitSize::TrainFrac(0.8),
    };
    let (names, arr) = as_matrix(py, X, feature_names.as_deref(), "X")?;
    let y = as_vector(py, y, "y")?;
    if arr.shape()[0] != y.len() {
        return Err(err(format!(
            "X has {} rows, y has {} values",
            arr.shape()[0],
            y.len()
        )));
    }
    // Group ids by first appearance; only the partition and its order matter to the split.
    let groups = match groups {
        None => None,
        Some(g) if g.is_none() => None,
        Some(g) => {
            let mut ids: HashMap<String, u64> = HashMap::new();
            let mut out = Vec::with_capacity(y.len());
            for item in g.try_iter()? {
                let key = item?.str()?.to_cow()?.into_owned();
                let next = ids.len() as u64;
                out.push(*ids.entry(key).or_insert(next));
            }
            if out.len() != y.len() {
                return Err(err(format!("{} group ids for {} rows", out.len(), y.len())));
            }
            Some(out)
        }
    };
    if protocol == Protocol::Group && groups.is_none() {
        return Err(err(
            "protocol \"group\" needs groups= (e.g. isomorphism_class of each arch)",
        ));
    }
    let data = Dataset {
        feature_names: names,
        x: arr.as_slice().map_err(err)?.to_vec(),
        y,
        row_keys: Vec::new(),
        row_names: Vec::new(),
        groups,
    };
    let ev = py
        .detach(|| forest::evaluate_detailed(&data, protocol, split, &params, repeats, seed))
        .map_err(ferr)?;
    let r = &ev.report;
    let d = PyDict::new(py);
    d.set_item("protocol", r.protocol.name())?;
    d.set_item("n_train", r.n_train.clone())?;
    d.set_item("mean", metrics_dict(py, &r.mean)?)?;
    d.set_item("std", metrics_dict(py, &r.std)?)?;
    let reps = PyList::empty(py);
    for m in &r.repeats {
        reps.append(metrics_dict(py, m)?)?;
    }
    d.set_item("repeats", reps)?;
    if predictions {
        let preds = PyList::empty(py);
        for rep in ev.repeats {
            let p = PyDict::new(py);
            p.set_item("test_rows", PyArray1::from_vec(py, rep.test_rows))?;
            p.set_item("y_pred", PyArray1::from_vec(py, rep.y_pred))?;
            let imp = PyDict::new(py);
            for (n, v) in data.feature_names.iter().zip(&rep.importances) {
                imp.set_item(n, *v)?;
            }
            p.set_item("importances", imp)?;
            preds.append(p)?;
        }
        d.set_item("predictions", preds)?;
    }
    Ok(d)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("GreenfactoryError", m.py().get_type::<GreenfactoryError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PyModel>()?;
    m.add_function(wrap_pyfunction!(load_model, m)?)?;
    m.add_function(wrap_pyfunction!(arch_features, m)?)?;
    m.add_function(wrap_pyfunction!(arch_feature_names, m)?)?;
    m.add_function(wrap_pyfunction!(arch_string, m)?)?;
    m.add_function(wrap_pyfunction!(arch_index, m)?)?;
    m.add_function(wrap_pyfunction!(space_size, m)?)?;
    m.add_function(wrap_pyfunction!(sample_indices, m)?)?;
    m.add_function(wrap_pyfunction!(isomorphism_class, m)?)?;
    m.add_function(wrap_pyfunction!(known_accuracy, m)?)?;
    m.add_function(wrap_pyfunction!(metrics, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    Ok(())
}
