//! The registry of proxies and the engine that scores one arch.

use super::{ArchContext, Pass, PassPlan, Proxy, ProxyConfig, ProxyError};
use crate::data::Batch;
use crate::net::Network;
use crate::rng::derive_seed;
use crate::space::{Arch, NatsDataset};
use std::time::Instant;
use tch::{Device, Kind};

/// Every proxy, in table column order.
pub fn all_proxies() -> Vec<&'static dyn Proxy> {
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
        super::topology::TOPOLOGY
            .iter()
            .map(|t| t as &'static dyn Proxy),
    );
    v
}

/// Every proxy that has a value for archs of `space`, in table column order: the default
/// feature set of `proxies`, `extract` and the benchmarks.
pub fn all_proxies_for(space: crate::space::Space) -> Vec<&'static dyn Proxy> {
    all_proxies()
        .into_iter()
        .filter(|p| p.applies_to(space))
        .collect()
}

/// The proxies named in `names` (comma lists are split by the caller), in registry order.
/// An unknown name is an error listing the known ones.
pub fn proxies_by_name(names: &[String]) -> Result<Vec<&'static dyn Proxy>, String> {
    let all = all_proxies();
    for n in names {
        if !all.iter().any(|p| p.name() == n) {
            let known: Vec<&str> = all.iter().map(|p| p.name()).collect();
            return Err(format!("unknown proxy {n:?} (known: {})", known.join(", ")));
        }
    }
    Ok(all
        .into_iter()
        .filter(|p| names.iter().any(|n| n == p.name()))
        .collect())
}

/// The proxy values of one arch, with a reason for each missing value and the time spent.
#[derive(Debug, Clone)]
pub struct ProxyVector {
    pub names: Vec<&'static str>,
    /// NaN where the proxy has no value (see `errors`).
    pub values: Vec<f64>,
    pub errors: Vec<Option<String>>,
    /// Seconds per pass group: static, labelled, jacobian, forward, own.
    pub seconds: [f64; 5],
    /// Seconds spent in each proxy's own code, in `names` order; a shared pass is counted in
    /// `seconds` only, never here.
    pub proxy_seconds: Vec<f64>,
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
    pub proxies: Vec<&'static dyn Proxy>,
    pub config: ProxyConfig,
    pub dataset: NatsDataset,
    pub device: Device,
    batch: Batch,
}

impl Engine {
    /// Loads the batch once; every arch of the run sees the same batch.
    pub fn new(
        proxies: Vec<&'static dyn Proxy>,
        config: ProxyConfig,
        dataset: NatsDataset,
        device: Device,
    ) -> Result<Engine, ProxyError> {
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
        let has = |pass: Pass| self.proxies.iter().any(|p| p.needs().pass == pass);
        let grasp = self.proxies.iter().any(|p| p.name() == "grasp");
        PassPlan {
            labelled: has(Pass::Labelled) || grasp,
            jacobian: has(Pass::Jacobian),
            relu: has(Pass::Forward),
            grasp,
        }
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.proxies.iter().map(|p| p.name()).collect()
    }

    /// Computes every proxy of `arch`. Only a failure to build the network is an `Err`; a
    /// failing proxy (NaN, singular matrix, CUDA out-of-memory…) is recorded in the vector.
    pub fn score(&self, arch: &Arch) -> Result<ProxyVector, ProxyError> {
        let net = Network::new(arch, self.dataset);
        let arch_seed = derive_seed(self.config.seed, arch.index() as u64);
        let init = net.init_weights(arch_seed, Kind::Float, self.device)?;
        let cx = ArchContext::new(
            &net,
            &init,
            &self.batch,
            &self.config,
            self.device,
            arch_seed,
        );
        let cx = cx.with_plan(self.plan());
        let mut values = Vec::with_capacity(self.proxies.len());
        let mut errors = Vec::with_capacity(self.proxies.len());
        let mut seconds = [0.0; 5];
        let mut proxy_seconds = Vec::with_capacity(self.proxies.len());
        for p in &self.proxies {
            let before: f64 = cx.pass_seconds.borrow().iter().sum();
            let t0 = Instant::now();
            let r = p.compute(&cx).and_then(|v| {
                if v.is_finite() {
                    Ok(v)
                } else {
                    Err(ProxyError::NonFinite(v))
                }
            });
            let shared: f64 = cx.pass_seconds.borrow().iter().sum::<f64>() - before;
            let own = t0.elapsed().as_secs_f64() - shared;
            let slot = match p.needs().pass {
                Pass::Static => 0,
                Pass::Labelled => 1,
                Pass::Jacobian => 2,
                Pass::Forward => 3,
                Pass::Own => 4,
            };
            seconds[slot] += own;
            proxy_seconds.push(own);
            match r {
                Ok(v) => {
                    values.push(v);
                    errors.push(None);
                }
                Err(e) => {
                    values.push(f64::NAN);
                    errors.push(Some(e.reason()));
                }
            }
        }
        let ps = cx.pass_seconds.borrow();
        seconds[1] += ps[0];
        seconds[2] += ps[1];
        seconds[3] += ps[2];
        Ok(ProxyVector {
            names: self.names(),
            values,
            errors,
            seconds,
            proxy_seconds,
        })
    }
}
