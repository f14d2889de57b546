//! The registry of proxies and the engine that scores one arch.

use super::{ArchContext, Pass, PassPlan, PassTimes, Proxy, ProxyConfig, ProxyError};
use crate::data::Batch;
use crate::net::Network;
use crate::rng::derive_seed;
use crate::space::{Arch, NatsDataset};
use std::sync::Arc;
use std::time::Instant;
use tch::{Device, Kind};

/// A proxy as a value: a built-in (a static of this module's registry) or a parsed formula
/// ([`crate::formula`]), shared by the engines that compute it.
pub type ProxyRef = Arc<dyn Proxy>;

/// A built-in proxy behind a [`ProxyRef`].
struct Builtin(&'static dyn Proxy);

impl Proxy for Builtin {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn pass(&self) -> Pass {
        self.0.pass()
    }
    fn compute(&self, cx: &ArchContext) -> Result<f64, ProxyError> {
        self.0.compute(cx)
    }
    fn applies_to(&self, space: crate::space::Space) -> bool {
        self.0.applies_to(space)
    }
}

/// Every built-in proxy, in table column order.
pub fn all_proxies() -> Vec<ProxyRef> {
    let mut v: Vec<&'static dyn Proxy> = vec![
        &super::params::Params,
        &super::flops::Flops,
        &super::grad_norm::GradNorm,
        &super::snip::Snip,
        &super::plain::Plain,
        &super::fisher::Fisher,
        &super::grasp::Grasp,
        &super::synflow::Synflow,
        &super::jacov::Jacov,
        &super::epe_nas::EpeNas,
        &super::l2_norm::L2Norm,
        &super::nwot::Nwot,
        &super::zen::Zen,
        &super::meco::Meco,
        &super::meco::MecoOpt,
        &super::zico::Zico,
        &super::ntk::Ntk,
    ];
    v.extend(
        super::topology::topology()
            .iter()
            .map(|t| t as &'static dyn Proxy),
    );
    v.into_iter()
        .map(|p| Arc::new(Builtin(p)) as ProxyRef)
        .collect()
}

/// Every proxy that has a value for archs of `space`, in table column order: the default
/// feature set of `proxies`, `extract` and the benchmarks.
pub fn all_proxies_for(space: crate::space::Space) -> Vec<ProxyRef> {
    all_proxies()
        .into_iter()
        .filter(|p| p.applies_to(space))
        .collect()
}

/// The default proxies of `space`, by name, without its topology features
/// ([`crate::space::Space::default_proxies`]: chosen per space by τ per CPU-second); every
/// other proxy stays available by name or with `all` ([`proxies_for_spec`]).
pub fn default_proxy_names(space: crate::space::Space) -> &'static [&'static str] {
    space.default_proxies()
}

/// The default vector for `space`: [`default_proxy_names`] and the space's topology features,
/// in table column order.
pub fn default_proxies_for(space: crate::space::Space) -> Vec<ProxyRef> {
    let names = default_proxy_names(space);
    all_proxies_for(space)
        .into_iter()
        .filter(|p| {
            names.contains(&p.name())
                || super::topology::topology()
                    .iter()
                    .any(|t| t.name == p.name())
        })
        .collect()
}

/// The proxies a command line names: empty or `default` → [`default_proxies_for`], `all` →
/// [`all_proxies_for`], else the names and formulas ([`proxies_by_name`]).
pub fn proxies_for_spec(
    space: crate::space::Space,
    names: &[String],
) -> Result<Vec<ProxyRef>, ProxyNameError> {
    match names {
        [] => Ok(default_proxies_for(space)),
        [one] if one == "default" => Ok(default_proxies_for(space)),
        [one] if one == "all" => Ok(all_proxies_for(space)),
        _ => proxies_by_name(names),
    }
}

/// Why a name is not a proxy: no built-in has it and it is not a formula.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyNameError {
    #[error("unknown proxy {name:?} (known: {}; or a formula such as layer_sum(norm(G)))", known.join(", "))]
    Unknown { name: String, known: Vec<String> },
    /// It looks like a formula (it has a parenthesis) but does not parse.
    #[error(transparent)]
    Formula(#[from] crate::formula::FormulaError),
}

/// The proxies named in `names` (comma lists are split by the caller,
/// [`crate::formula::split_list`]): built-ins in registry order, then formulas
/// ([`crate::formula`]) in the order given, each once. A formula's name is its canonical text.
/// An unknown name is an error listing the known ones; a formula that does not parse is its
/// parse error (with the position).
pub fn proxies_by_name(names: &[String]) -> Result<Vec<ProxyRef>, ProxyNameError> {
    let all = all_proxies();
    let mut formulas: Vec<ProxyRef> = Vec::new();
    for n in names {
        if all.iter().any(|p| p.name() == n) {
            continue;
        }
        if crate::formula::Formula::looks_like(n) {
            let f: crate::formula::Formula = n.parse()?;
            let p = super::formula::FormulaProxy::new(f);
            if !formulas.iter().any(|q| q.name() == p.name()) {
                formulas.push(Arc::new(p));
            }
            continue;
        }
        return Err(ProxyNameError::Unknown {
            name: n.clone(),
            known: all.iter().map(|p| p.name().to_string()).collect(),
        });
    }
    let mut out: Vec<ProxyRef> = all
        .into_iter()
        .filter(|p| names.iter().any(|n| n == p.name()))
        .collect();
    out.extend(formulas);
    Ok(out)
}

/// The proxy values of one arch, with a reason for each missing value and the time spent.
#[derive(Debug, Clone)]
pub struct ProxyVector {
    pub names: Vec<String>,
    /// NaN where the proxy has no value (see `errors`).
    pub values: Vec<f64>,
    pub errors: Vec<Option<String>>,
    /// Seconds per pass (shared pass + its proxies' own code).
    pub seconds: PassTimes,
    /// Seconds spent in each proxy's own code, in `names` order; a shared pass is counted in
    /// `seconds` only, never here.
    pub proxy_seconds: Vec<f64>,
    /// Some proxy failed for want of memory ([`ProxyError::OutOfMemory`]): the arch may
    /// succeed with fewer archs on the device.
    pub out_of_memory: bool,
}

impl ProxyVector {
    /// Whether every proxy has a value.
    pub fn ok(&self) -> bool {
        self.errors.iter().all(Option::is_none)
    }

    /// `name: reason` of the first missing value.
    pub fn first_error(&self) -> Option<String> {
        self.names
            .iter()
            .zip(&self.errors)
            .find_map(|(n, e)| e.as_ref().map(|e| format!("{n}: {e}")))
    }
}

/// Scores archs with a fixed set of proxies, configuration, batch and device.
pub struct Engine {
    pub proxies: Vec<ProxyRef>,
    pub config: ProxyConfig,
    pub dataset: NatsDataset,
    pub device: Device,
    batch: Batch,
}

impl Engine {
    /// The network graph of `arch` this engine computes on (the configuration's stem).
    pub fn graph(&self, arch: &Arch) -> Result<crate::graph::Graph, ProxyError> {
        Ok(arch.network_graph(self.dataset, self.config.stem)?)
    }

    /// Loads the batch once; every arch of the run sees the same batch.
    pub fn new(
        proxies: Vec<ProxyRef>,
        config: ProxyConfig,
        dataset: NatsDataset,
        device: Device,
    ) -> Result<Engine, ProxyError> {
        crate::net::setup_process();
        // TF32 values are not float32 values: an engine computes only the precision its
        // configuration records.
        let tf32 = crate::net::tf32_in_use(device);
        if config.tf32 != tf32 {
            return Err(ProxyError::Undefined(format!(
                "the configuration's values were computed {}, this engine computes {} (TF32 is CUDA-only and opted into with {}=1)",
                if config.tf32 { "with CUDA TF32" } else { "in float32" },
                if tf32 { "with CUDA TF32" } else { "in float32" },
                crate::net::TF32_OPT_IN
            )));
        }
        let batch =
            Batch::load(&config.data, dataset, config.batch_size)?.to(Kind::Float, device)?;
        Ok(Engine {
            proxies,
            config,
            dataset,
            device,
            batch,
        })
    }

    pub fn batch(&self) -> &Batch {
        &self.batch
    }

    /// The shared passes this engine's proxies ask for (see [`PassPlan`]).
    pub fn plan(&self) -> PassPlan {
        self.plan_for(&vec![true; self.proxies.len()])
    }

    /// The shared passes the proxies selected by `mask` ask for.
    fn plan_for(&self, mask: &[bool]) -> PassPlan {
        let selected = || {
            self.proxies
                .iter()
                .zip(mask)
                .filter(|(_, &m)| m)
                .map(|(p, _)| p)
        };
        let has = |pass: Pass| selected().any(|p| p.pass() == pass);
        let grasp = has(Pass::LabelledGraph);
        PassPlan {
            labelled: has(Pass::Labelled) || grasp,
            jacobian: has(Pass::Jacobian),
            relu: has(Pass::Forward),
            grasp,
        }
    }

    pub fn names(&self) -> Vec<String> {
        self.proxies.iter().map(|p| p.name().to_string()).collect()
    }

    /// Computes every proxy of `arch`. Only a failure to build the network is an `Err`; a
    /// failing proxy (NaN, singular matrix, CUDA out-of-memory…) is recorded in the vector.
    /// With [`ProxyConfig::share_isomorphic`] the data-dependent proxies are those of the
    /// arch's class representative ([`Engine::score_shared`] with the representative's vector).
    pub fn score(&self, arch: &Arch) -> Result<ProxyVector, ProxyError> {
        let rep = super::pool::computed_for(self.config.share_isomorphic, arch);
        if rep == *arch {
            return self.score_masked(arch, &vec![true; self.proxies.len()]);
        }
        let shared =
            self.score_masked(&rep, &self.static_mask().map(|s| !s).collect::<Vec<_>>())?;
        self.score_shared(arch, &shared)
    }

    /// How many archs this engine scores together: 1, or the batched engine's group size.
    pub fn group_size(&self) -> usize {
        match self.config.engine {
            crate::provenance::EngineKind::PerArch => 1,
            crate::provenance::EngineKind::Batched { archs } => archs.max(1),
        }
    }

    /// The vectors of `archs` with this engine's kind ([`ProxyConfig::engine`]): one at a time
    /// ([`Engine::score`]) or in groups ([`Engine::score_batch`]); in order.
    pub fn score_many(&self, archs: &[Arch]) -> Vec<Result<ProxyVector, ProxyError>> {
        match self.config.engine {
            crate::provenance::EngineKind::PerArch => archs.iter().map(|a| self.score(a)).collect(),
            crate::provenance::EngineKind::Batched { archs: k } => archs
                .chunks(k.max(1))
                .flat_map(|group| self.score_batch(group))
                .collect(),
        }
    }

    /// The vectors of `archs`, as [`Engine::score`] computes them, with the Jacobian and ReLU
    /// passes of all of them run as one grouped network ([`crate::net::grouped_passes`]): the
    /// batched engine. The values equal the per-arch engine's up to the float rounding of the
    /// grouped kernels (tolerance in `tests/batched.rs`); every other pass and every proxy's
    /// own code run per arch, unchanged. Archs the grouped network cannot take (size-space
    /// archs of different shapes, members of a shared isomorphism class), engines without those
    /// passes or with grasp, and a grouped pass that fails (e.g. out of memory) are scored one
    /// at a time.
    pub fn score_batch(&self, archs: &[Arch]) -> Vec<Result<ProxyVector, ProxyError>> {
        let full = vec![true; self.proxies.len()];
        let plan = self.plan_for(&full);
        let share = self.config.share_isomorphic;
        let one_by_one = || archs.iter().map(|a| self.score(a)).collect();
        let groupable = archs.len() >= 2
            && !plan.grasp
            && (plan.jacobian || plan.relu)
            && archs
                .iter()
                .all(|a| super::pool::computed_for(share, a) == *a);
        if !groupable {
            return one_by_one();
        }
        let Ok(nets) = archs
            .iter()
            .map(|a| Network::new(self.graph(a)?).map_err(ProxyError::from))
            .collect::<Result<Vec<_>, _>>()
        else {
            return one_by_one();
        };
        let seeds: Vec<u64> = archs
            .iter()
            .map(|a| derive_seed(self.config.seed, a.index() as u64))
            .collect();
        let Ok(inits) = nets
            .iter()
            .zip(&seeds)
            .map(|(n, &s)| n.init_weights(s, Kind::Float, self.device))
            .collect::<Result<Vec<_>, _>>()
        else {
            return one_by_one();
        };
        let t0 = Instant::now();
        let grouped = crate::net::grouped_passes(
            &nets.iter().collect::<Vec<_>>(),
            &inits.iter().collect::<Vec<_>>(),
            &self.batch.x,
            plan.jacobian,
            plan.relu,
        );
        let Ok(grouped) = grouped else {
            return one_by_one();
        };
        // The grouped pass's time, booked in equal shares as each arch's own pass would be.
        let share_seconds = t0.elapsed().as_secs_f64() / archs.len() as f64;
        let booked = if plan.jacobian {
            Pass::Jacobian
        } else {
            Pass::Forward
        };
        let mut jacobians = grouped.jacobians.into_iter();
        let mut relus = grouped.relu_inputs.into_iter();
        (0..archs.len())
            .map(|i| {
                let cx = ArchContext::new(
                    &nets[i],
                    &inits[i],
                    &self.batch,
                    &self.config,
                    self.device,
                    seeds[i],
                )
                .with_plan(plan)
                .with_served(jacobians.next(), relus.next());
                cx.pass_seconds.borrow_mut().add(booked, share_seconds);
                self.score_in(&cx, &full)
            })
            .collect()
    }

    /// The vector of `arch` from its class representative's full vector `rep`: the static
    /// proxies computed for `arch` itself, every other value (and its error) taken from `rep`.
    pub fn score_shared(&self, arch: &Arch, rep: &ProxyVector) -> Result<ProxyVector, ProxyError> {
        let mask: Vec<bool> = self.static_mask().collect();
        let mut own = self.score_masked(arch, &mask)?;
        for (k, is_static) in mask.iter().enumerate() {
            if !is_static {
                own.values[k] = rep.values[k];
                own.errors[k].clone_from(&rep.errors[k]);
            }
        }
        own.out_of_memory |= rep.out_of_memory;
        Ok(own)
    }

    /// Whether each proxy reads only the structure and initial weights ([`Pass::Static`]).
    fn static_mask(&self) -> impl Iterator<Item = bool> + '_ {
        self.proxies.iter().map(|p| p.pass() == Pass::Static)
    }

    /// Computes the proxies selected by `mask`; the others are NaN without an error (the
    /// caller fills them in).
    fn score_masked(&self, arch: &Arch, mask: &[bool]) -> Result<ProxyVector, ProxyError> {
        self.with_context(arch, self.plan_for(mask), |cx| self.score_in(cx, mask))
    }

    /// Runs `f` on the context of `arch` (its network, the initial weights drawn from the arch
    /// seed, this engine's batch and configuration), sharing the passes of `plan`: what the
    /// engine's proxies read, for code that reads the passes itself (the evolution's tensor
    /// cache, `crate::evolve`).
    pub fn with_context<T>(
        &self,
        arch: &Arch,
        plan: PassPlan,
        f: impl FnOnce(&ArchContext) -> Result<T, ProxyError>,
    ) -> Result<T, ProxyError> {
        let net = Network::new(self.graph(arch)?)?;
        let arch_seed = derive_seed(self.config.seed, arch.index() as u64);
        let init = net.init_weights(arch_seed, Kind::Float, self.device)?;
        let cx = ArchContext::new(
            &net,
            &init,
            &self.batch,
            &self.config,
            self.device,
            arch_seed,
        )
        .with_plan(plan);
        f(&cx)
    }

    fn score_in(&self, cx: &ArchContext, mask: &[bool]) -> Result<ProxyVector, ProxyError> {
        let mut values = Vec::with_capacity(self.proxies.len());
        let mut errors = Vec::with_capacity(self.proxies.len());
        let mut seconds = PassTimes::default();
        let mut proxy_seconds = Vec::with_capacity(self.proxies.len());
        let mut out_of_memory = false;
        for (p, &selected) in self.proxies.iter().zip(mask) {
            if !selected {
                values.push(f64::NAN);
                errors.push(None);
                proxy_seconds.push(0.0);
                continue;
            }
            let before = cx.pass_seconds.borrow().total();
            let t0 = Instant::now();
            let r = p.compute(cx).and_then(|v| {
                if v.is_finite() {
                    Ok(v)
                } else {
                    Err(ProxyError::NonFinite(v))
                }
            });
            let shared = cx.pass_seconds.borrow().total() - before;
            let own = t0.elapsed().as_secs_f64() - shared;
            seconds.add(p.pass(), own);
            proxy_seconds.push(own);
            match r {
                Ok(v) => {
                    values.push(v);
                    errors.push(None);
                }
                Err(e) => {
                    out_of_memory |= e.is_out_of_memory();
                    values.push(f64::NAN);
                    errors.push(Some(e.reason()));
                }
            }
        }
        seconds.accumulate(&cx.pass_seconds.borrow());
        Ok(ProxyVector {
            names: self.names(),
            values,
            errors,
            seconds,
            proxy_seconds,
            out_of_memory,
        })
    }
}
