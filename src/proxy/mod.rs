//! Zero-cost proxies and the engine that computes them with shared passes.
//!
//! Each proxy is one small file that declares the pass it reads ([`Proxy::pass`]) and computes
//! one number from an [`ArchContext`]. The context runs
//! each shared pass at most once per arch, lazily, the first time a proxy asks for it:
//!
//! | pass | what it holds | proxies |
//! |---|---|---|
//! | [`Pass::Static`] | nothing: the structure and initial weights | params, flops, l2_norm, topology |
//! | [`Pass::Labelled`] | one forward+backward of the cross-entropy loss (BN train mode): weight gradients, conv/linear activations and their gradients | grad_norm, snip, plain, fisher |
//! | [`Pass::Jacobian`] | ∂(Σ logits)/∂input | jacov, epe_nas |
//! | [`Pass::Forward`] | ReLU inputs of one forward without gradients | nwot |
//! | [`Pass::LabelledGraph`] | the labelled pass with the loss gradient's graph kept, for a Hessian-gradient product | grasp |
//! | [`Pass::Labelled`] or [`Pass::Static`] | per-layer tensors of those passes | formulas ([`crate::formula`], [`formula::FormulaProxy`]) |
//! | [`Pass::Own`] | a private copy where the definition requires one | synflow (|W|, f64, BN off), zen (Gaussian re-init), zico, meco, ntk |
//!
//! NASLib and foresight copy and re-run the network for every proxy; sharing passes is where
//! the CPU speed comes from. Results depend only on (run seed, arch index, data, device):
//! weights are drawn from `derive_seed(config.seed, arch index)` by our own generator.

mod context;
pub mod pool;
mod registry;

pub mod epe_nas;
pub mod fisher;
pub mod flops;
pub mod formula;
pub mod golden;
pub mod grad_norm;
pub mod grasp;
pub mod jacov;
pub mod l2_norm;
pub mod meco;
pub mod ntk;
pub mod nwot;
pub mod params;
pub mod plain;
pub mod snip;
pub mod synflow;
pub mod topology;
pub mod zen;
pub mod zico;

pub use context::{ArchContext, GraspGraph, JacobianPass, LabelledPass, PassPlan, ReluPass};
pub use registry::{
    all_proxies, all_proxies_for, default_proxies_for, default_proxy_names, proxies_by_name,
    proxies_for_spec, Engine, ProxyNameError, ProxyRef, ProxyVector,
};

use crate::net::NetworkError;
pub use crate::provenance::{ProxyConfig, ENGINE_VERSION};

/// Which pass a proxy reads (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Pass {
    Static,
    Labelled,
    /// The labelled pass keeping the graph of its loss gradient (a second backward through it).
    LabelledGraph,
    Jacobian,
    Forward,
    Own,
}

impl Pass {
    /// Every pass, in the order of [`PassTimes`].
    pub const ALL: [Pass; 6] = [
        Pass::Static,
        Pass::Labelled,
        Pass::LabelledGraph,
        Pass::Jacobian,
        Pass::Forward,
        Pass::Own,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pass::Static => "static",
            Pass::Labelled => "labelled",
            Pass::LabelledGraph => "labelled_graph",
            Pass::Jacobian => "jacobian",
            Pass::Forward => "forward",
            Pass::Own => "own",
        }
    }
}

/// Seconds spent per [`Pass`]: the shared pass itself plus the own code of the proxies that
/// read it. Stored as a plain array of 6 numbers in [`Pass::ALL`] order (chunk files).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PassTimes([f64; 6]);

impl PassTimes {
    pub fn add(&mut self, pass: Pass, seconds: f64) {
        self.0[pass as usize] += seconds;
    }

    pub fn get(&self, pass: Pass) -> f64 {
        self.0[pass as usize]
    }

    /// Adds every pass's time of `other`.
    pub fn accumulate(&mut self, other: &PassTimes) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// Every pass's time divided by `n` (a mean per arch).
    pub fn per(&self, n: f64) -> PassTimes {
        PassTimes(self.0.map(|s| s / n))
    }

    pub fn total(&self) -> f64 {
        self.0.iter().sum()
    }

    /// `(pass, seconds)` in [`Pass::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Pass, f64)> + '_ {
        Pass::ALL.into_iter().zip(self.0)
    }

    /// `static 0.5 ms, labelled 163.0 ms, …`.
    pub fn describe_ms(&self) -> String {
        self.iter()
            .map(|(p, s)| format!("{} {:.1} ms", p.name(), 1e3 * s))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A zero-cost proxy: one number per arch.
pub trait Proxy: Send + Sync {
    /// Name as in NASLib / the papers (`grad_norm`, `snip`, …) and the table column.
    fn name(&self) -> &str;
    /// The pass whose results the proxy reads (see the module table): the engine plans the
    /// shared forward from these declarations and books the proxy's time to that pass. A
    /// proxy reads nothing else of the context than what its pass provides: labelled passes
    /// give gradients of the labelled loss (BN train mode, float32); [`Pass::Own`] proxies run
    /// their own network copy in the mode and precision their definition requires.
    fn pass(&self) -> Pass;
    /// Computes the proxy. A non-finite result is returned as `Err(ProxyError::NonFinite)` by
    /// the engine, never silently.
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError>;
    /// Whether the proxy has a value for archs of `space` (the topology features of one space
    /// do not apply to the other).
    fn applies_to(&self, space: crate::space::Space) -> bool {
        let _ = space;
        true
    }
}

/// Why a proxy has no value for an arch. Recorded in the arch's row; the run goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    #[error("network: {0}")]
    Network(NetworkError),
    #[error("libtorch: {0}")]
    Torch(tch::TchError),
    /// libtorch ran out of memory: the arch may fit with fewer archs sharing the GPU (`extract`
    /// then lowers its worker count instead of recording a failed row). The message is the one
    /// the error would have had otherwise (`libtorch: …` or `network: libtorch: …`).
    #[error("{0}")]
    OutOfMemory(String),
    #[error("data: {0}")]
    Data(#[from] crate::data::DataError),
    #[error("non-finite value {0}")]
    NonFinite(f64),
    #[error("{0}")]
    Undefined(String),
    #[error("{0}")]
    Space(#[from] crate::space::SpaceError),
    /// A worker pool was given no engine.
    #[error("no worker: a pool needs at least one engine")]
    NoWorkers,
}

/// libtorch tells running out of memory only in its message (`CUDA out of memory`, `CUDA
/// error: out of memory`), so this is where the kind is told, once, as the error enters the
/// engine.
fn is_out_of_memory(e: &tch::TchError) -> bool {
    e.to_string().contains("out of memory")
}

impl From<tch::TchError> for ProxyError {
    fn from(e: tch::TchError) -> Self {
        if is_out_of_memory(&e) {
            ProxyError::OutOfMemory(ProxyError::Torch(e).to_string())
        } else {
            ProxyError::Torch(e)
        }
    }
}

impl From<NetworkError> for ProxyError {
    fn from(e: NetworkError) -> Self {
        match e {
            NetworkError::Torch(ref t) if is_out_of_memory(t) => {
                ProxyError::OutOfMemory(ProxyError::Network(e).to_string())
            }
            e => ProxyError::Network(e),
        }
    }
}

impl ProxyError {
    pub fn is_out_of_memory(&self) -> bool {
        matches!(self, ProxyError::OutOfMemory(_))
    }

    /// The message's first line: what a table row records as the reason. libtorch appends a
    /// C++ backtrace of dozens of lines to its errors, which would make every failed row of a
    /// table, and `predict`'s output, multi-line.
    pub fn reason(&self) -> String {
        let text = self.to_string();
        text.lines()
            .next()
            .unwrap_or_default()
            .trim_end()
            .to_string()
    }
}

/// Mean cross-entropy of `logits` against `labels` (class indices), in the logits' precision:
/// the loss of the labelled pass, grasp and zico (NASLib `zerocost`: `nn.CrossEntropyLoss()`).
pub fn cross_entropy(
    logits: &tch::Tensor,
    labels: &tch::Tensor,
) -> Result<tch::Tensor, tch::TchError> {
    logits.f_log_softmax(-1, logits.kind())?.f_nll_loss(
        labels,
        None::<tch::Tensor>,
        tch::Reduction::Mean,
        -100,
    )
}

/// Σ over `items` of a scalar tensor `f(item)`, read back as f64 (terms added in item order,
/// as one read per term would).
pub(crate) fn sum_f64<T>(
    items: impl IntoIterator<Item = T>,
    f: impl Fn(T) -> Result<tch::Tensor, tch::TchError>,
) -> Result<f64, ProxyError> {
    let terms = items.into_iter().map(f).collect::<Result<Vec<_>, _>>()?;
    Ok(read_scalars(&terms)?.into_iter().fold(0.0, |a, b| a + b))
}

/// Reads scalar tensors back as f64 with one device→host transfer: on a GPU each read waits
/// for the worker's stream to drain, and a per-layer proxy has ~100 terms. float32 → float64 is
/// exact, so the values equal per-term reads.
pub(crate) fn read_scalars(terms: &[tch::Tensor]) -> Result<Vec<f64>, ProxyError> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let flat = terms
        .iter()
        .map(|t| t.f_to_kind(tch::Kind::Double)?.f_reshape([1]))
        .collect::<Result<Vec<_>, _>>()?;
    let all = tch::Tensor::f_cat(&flat, 0)?.f_to_device(tch::Device::Cpu)?;
    Ok(Vec::<f64>::try_from(&all)?)
}

#[cfg(test)]
mod tests {
    use super::ProxyError;

    #[test]
    fn out_of_memory_is_told_where_the_error_enters_and_keeps_its_message() {
        let oom = || tch::TchError::Torch("CUDA out of memory. Tried to allocate 2.00 MiB".into());
        let direct = ProxyError::from(oom());
        assert!(direct.is_out_of_memory());
        assert_eq!(direct.to_string(), ProxyError::Torch(oom()).to_string());
        let net = ProxyError::from(crate::net::NetworkError::Torch(oom()));
        assert!(net.is_out_of_memory());
        assert!(net.to_string().starts_with("network: libtorch: "), "{net}");
        let other = ProxyError::from(tch::TchError::Torch("shape mismatch".into()));
        assert!(!other.is_out_of_memory());
    }

    #[test]
    fn a_reason_is_one_line() {
        let e = ProxyError::Undefined(
            "lazy wrapper\nException raised from … (most recent call first):\nframe #0".into(),
        );
        assert_eq!(e.reason(), "lazy wrapper");
        assert_eq!(
            ProxyError::NonFinite(f64::NAN).reason(),
            "non-finite value NaN"
        );
    }
}
