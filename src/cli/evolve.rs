//! `greenfactory evolve`: GreenMachine-style evolution of proxy formulas ([`crate::evolve`]).

use super::args::{load_labels, resolve_target};
use super::args::{EngineArgs, Isomorphic};
use crate::evolve::{evolve, EvolveSettings, Progress, SampleSpec};
use crate::net::parse_device;
use crate::proxy::Engine;
use crate::space::{NatsDataset, Space};
use crate::table::PlainLayout;
use anyhow::{bail, Context};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct EvolveArgs {
    /// Search space: tss (15,625 cells), sss (32,768 channel configurations), macro
    /// (NAS-Bench-Macro, 6,561 archs), nb101 (NAS-Bench-101 cells) or darts (DARTS genotypes).
    #[arg(long)]
    pub space: Space,
    /// cifar10, cifar100 or imagenet16-120.
    #[arg(long)]
    pub dataset: NatsDataset,
    /// Labels (as `train --labels`): the NATS-Bench label CSVs in ../shared/data, a table from
    /// `import`, or your own CSV/Parquet with an arch column and a label column.
    #[arg(long)]
    pub labels: PathBuf,
    /// Label to rank by (as `train --target`; default the labels' test accuracy, else their
    /// validation accuracy).
    #[arg(long)]
    pub target: Option<String>,
    /// The fitness sample, drawn from the labelled live archs: random:N (uniform) or
    /// stratified:N (N/10 from each of 10 equal-width accuracy bins, so poor and good networks
    /// are both represented; a bin with fewer gives all it has).
    #[arg(long, default_value = "stratified:300")]
    pub sample: SampleSpec,
    /// Archs the evolution never sees on which the best formulas are scored exactly at the
    /// end: a random and a stratified sample of this many each.
    #[arg(long, default_value_t = 500)]
    pub holdout: usize,
    /// Formulas per generation.
    #[arg(long, default_value_t = 100)]
    pub population: usize,
    /// Generations.
    #[arg(long, default_value_t = 30)]
    pub generations: usize,
    /// Seed of the samples, the initial population and every variation; a run is determined by
    /// its options and seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Individuals per tournament (selection pressure).
    #[arg(long, default_value_t = 4)]
    pub tournament: usize,
    /// Best formulas copied unchanged into the next generation.
    #[arg(long, default_value_t = 2)]
    pub elite: usize,
    /// Share of children made by subtree crossover.
    #[arg(long, default_value_t = 0.6)]
    pub crossover: f64,
    /// Share of children made by mutation (the rest are copies of tournament winners).
    #[arg(long, default_value_t = 0.3)]
    pub mutation: f64,
    /// Deepest formula tree (levels, the aggregation counted): the limit against bloat.
    #[arg(long, default_value_t = 8)]
    pub max_depth: usize,
    /// Largest formula (nodes, the aggregation counted).
    #[arg(long, default_value_t = 24)]
    pub max_size: usize,
    /// Operations the evolution draws from: `base` (the EZNAS-like set of README "Evolved
    /// proxies", aggregated by layer_sum or layer_mean), `with-kdet` (also `kdet`, NASWOT's
    /// kernel log-determinant per layer), `with-swap` (also `swap`, SWAP's count of distinct
    /// sample-wise activation patterns per layer), `with-cell-sum` (also the `cell_sum`
    /// aggregation, each searched cell or residual block counted once) or `full` (all of them).
    #[arg(long, value_enum, default_value_t = PrimitivesArg::Base)]
    pub primitives: PrimitivesArg,
    /// Elements kept per layer tensor in the fitness cache (memory and speed against the
    /// accuracy of the fitness; the held-out τ is always exact).
    #[arg(long, default_value_t = 256)]
    pub elements: usize,
    /// Start the first generation from the formulas in this file (one per line; blank and `#`
    /// lines skipped: the format of models/evolved_proxies.txt and of --out), e.g. to refine a
    /// shipped proxy on another fitness sample; the rest of the population is drawn at random.
    /// Each must be within --max-depth and --max-size.
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Formulas written (the best distinct ones by fitness, each scored on the held-out archs).
    #[arg(long, default_value_t = 5)]
    pub report: usize,
    /// Proxies or formulas scored on the same held-out archs for comparison, comma-separated
    /// (e.g. `meco,nwot,synflow`); they take no part in the evolution.
    #[arg(long, default_value = "")]
    pub compare: String,
    /// Device: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Input images (as `extract --data`): auto, foolbox, synthetic or DATASET=PATH.
    #[arg(long, default_value = "auto")]
    pub data: String,
    /// Images per batch of the labelled pass.
    #[arg(long, default_value_t = 20)]
    pub batch_size: usize,
    /// Evolve on a narrower copy of the network with a stem of N channels (nb101, as
    /// `extract --stem`).
    #[arg(long, value_name = "N")]
    pub stem: Option<i64>,
    /// Output: the best formulas, one per line, best first, with `#` lines giving their τ and
    /// the command (the format of models/evolved_proxies.txt). A checkpoint `OUT.checkpoint`
    /// is written after each generation; rerunning the same command resumes from it.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace an existing --out file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: EvolveArgs) -> anyhow::Result<()> {
    if a.out.exists() && !a.force {
        bail!(
            "--out {} exists: pass --force to replace it",
            a.out.display()
        );
    }
    let engine_args = EngineArgs {
        device: a.device.clone(),
        data: a.data.clone(),
        batch_size: a.batch_size,
        seed: 0,
        isomorphic: Isomorphic::Each,
        stem: a.stem,
        // The fitness cache reads the labelled pass, which the batched engine does not group.
        engine: super::args::EngineChoice {
            engine: super::args::EngineArg::PerArch,
            group_archs: 16,
        },
    };
    let device = parse_device(&a.device)?;
    let mut config = engine_args.config(a.space, a.dataset, true)?;
    config.tf32 = crate::net::tf32_in_use(device);
    let labels = load_labels(
        &a.labels,
        &PlainLayout {
            space: Some(a.space),
            dataset: Some(a.dataset),
        },
    )?;
    let kind = resolve_target(a.target.as_deref(), &labels, a.space, a.dataset)?;
    let by_index = labels
        .accuracies(a.space, a.dataset, &kind)
        .context("--labels")?;
    eprintln!("labels: {} ({})", kind.describe(), labels.source);
    let start = match &a.from {
        None => Vec::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--from {}", path.display()))?;
            let start = crate::formula::parse_formula_lines(&text)
                .with_context(|| format!("--from {}", path.display()))?;
            if start.is_empty() {
                bail!("--from {}: no formula in the file", path.display());
            }
            start
        }
    };
    let settings = EvolveSettings {
        sample: a.sample,
        holdout: a.holdout,
        population: a.population,
        generations: a.generations,
        seed: a.seed,
        tournament: a.tournament,
        elite: a.elite,
        crossover: a.crossover,
        mutation: a.mutation,
        limits: crate::evolve::gp::Limits {
            max_depth: a.max_depth,
            max_size: a.max_size,
            primitives: match a.primitives {
                PrimitivesArg::Base => crate::evolve::gp::Primitives::Base,
                PrimitivesArg::WithKdet => crate::evolve::gp::Primitives::WithKdet,
                PrimitivesArg::WithCellSum => crate::evolve::gp::Primitives::WithCellSum,
                PrimitivesArg::WithSwap => crate::evolve::gp::Primitives::WithSwap,
                PrimitivesArg::Full => crate::evolve::gp::Primitives::Full,
            },
        },
        elements: a.elements,
        report: a.report,
        compare: crate::formula::split_list(&a.compare),
        start,
        ..EvolveSettings::new(a.space, a.dataset)
    };
    let engine = Engine::new(Vec::new(), config, a.dataset, device)?;
    let mut checkpoint = a.out.as_os_str().to_owned();
    checkpoint.push(".checkpoint");
    let checkpoint = PathBuf::from(checkpoint);
    if checkpoint.exists() {
        eprintln!("resuming from {}", checkpoint.display());
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len}  ETA {eta}")
            .expect("valid template"),
    );
    let mut on_progress = |p: Progress| match p {
        Progress::Cache { done, total } => {
            bar.set_length(total as u64);
            bar.set_message("fitness cache: archs");
            bar.set_position(done as u64);
        }
        Progress::Generation { done, total, best } => {
            bar.set_length(total as u64);
            bar.set_message(format!("generation (best τ {:.3})", best.fitness));
            bar.set_position(done as u64);
        }
        Progress::HeldOut { done, total } => {
            bar.set_length(total as u64);
            bar.set_message("held-out archs, exact");
            bar.set_position(done as u64);
        }
    };
    let target = kind.describe();
    let outcome = evolve(
        &engine,
        &by_index,
        &target,
        &settings,
        Some(&checkpoint),
        &mut on_progress,
    )?;
    bar.finish_and_clear();
    let command: Vec<String> = std::env::args().collect();
    let mut text = String::new();
    text.push_str(&format!(
        "# greenfactory evolve: {} {} {target}, fitness sample {} (Kendall τ on cached elements), {} generations × {} formulas, seed {}\n",
        a.space, a.dataset, a.sample, a.generations, a.population, a.seed
    ));
    text.push_str(&format!(
        "# held-out: random {} and stratified {} archs never in the fitness sample, τ computed exactly by the engine\n",
        outcome.holdout_archs.0.len(),
        outcome.holdout_archs.1.len()
    ));
    text.push_str(&format!(
        "# cost: labelled pass {:.1} ms/arch (shared by all formulas) + each formula's own time; fitness cache {:.0} s, {:.1} MB\n",
        1e3 * outcome.pass_seconds,
        outcome.cache_seconds,
        outcome.cache_bytes as f64 / 1e6
    ));
    text.push_str(&format!("# command: {}\n", command.join(" ")));
    if !settings.start.is_empty() {
        // The --from file may change or vanish; the run is reproduced from these formulas.
        text.push_str(&format!(
            "# start formulas (--from): {}\n",
            settings.start_text()
        ));
    }
    for h in &outcome.compared {
        text.push_str(&format!(
            "# compare {}: held-out τ random {:.4}, stratified {:.4}; own {:.1} ms/arch\n",
            h.formula,
            h.tau_random,
            h.tau_stratified,
            1e3 * h.own_seconds
        ));
    }
    for h in &outcome.best {
        text.push_str(&format!(
            "# fitness τ {:.4}; held-out τ random {:.4}, stratified {:.4}; own {:.1} ms/arch{}\n{}\n",
            h.fitness,
            h.tau_random,
            h.tau_stratified,
            1e3 * h.own_seconds,
            if h.missing > 0 {
                format!("; {} held-out archs without a value", h.missing)
            } else {
                String::new()
            },
            h.formula
        ));
    }
    crate::atomic::write_atomic(&a.out, text.as_bytes())
        .with_context(|| format!("--out {}", a.out.display()))?;
    let _ = std::fs::remove_file(&checkpoint);
    let mut out = std::io::stdout().lock();
    for g in &outcome.history {
        writeln!(
            out,
            "generation {:>3}  best τ {:.4}  mean τ {:.4}  invalid {:>3}  {}",
            g.generation, g.best.fitness, g.mean, g.invalid, g.best.formula
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:>9} {:>10} {:>10} {:>8}  formula",
        "fitness", "held-out", "stratified", "own ms"
    )?;
    for h in &outcome.best {
        writeln!(
            out,
            "{:>9.4} {:>10.4} {:>10.4} {:>8.1}  {}",
            h.fitness,
            h.tau_random,
            h.tau_stratified,
            1e3 * h.own_seconds,
            h.formula
        )?;
    }
    for h in &outcome.compared {
        writeln!(
            out,
            "{:>9} {:>10.4} {:>10.4} {:>8.1}  {} (compared, not evolved)",
            "",
            h.tau_random,
            h.tau_stratified,
            1e3 * h.own_seconds,
            h.formula
        )?;
    }
    writeln!(out, "wrote {}", a.out.display())?;
    Ok(())
}

/// `--primitives`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrimitivesArg {
    Base,
    WithKdet,
    WithCellSum,
    WithSwap,
    Full,
}
