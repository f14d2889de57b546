//! Command-line interface: argument types and one function per subcommand.

mod archs;
mod args;
mod bench;
mod charts;
mod combine;
mod correlate;
mod demo;
mod evolve;
mod extract;
mod import;
mod output;
mod predict;
mod progress;
mod proxies;
mod search;
mod train;

use clap::{Parser, Subcommand};

pub use output::Format;

/// Predicts the trained accuracy of NATS-Bench and NAS-Bench-Macro networks from zero-cost
/// proxies.
#[derive(Parser, Debug)]
#[command(name = "greenfactory", version, about, long_about = None, arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List arch strings of a search space with their official NATS-Bench index.
    Archs(archs::ArchsArgs),
    /// Compute zero-cost proxies of one or many archs.
    Proxies(proxies::ProxiesArgs),
    /// Compute the proxy table of many archs (resumable, CPU or GPU, several workers).
    Extract(extract::ExtractArgs),
    /// Combine the tables of `extract --shard K/N` jobs into the table of the unsharded run.
    Combine(combine::CombineArgs),
    /// Import NATS-Bench labels (official archives or CSV) into a Parquet label table.
    Import(import::ImportArgs),
    /// Train a forest (extremely randomized trees by default) on a proxy table joined with
    /// labels; write the model.
    Train(train::TrainArgs),
    /// Predict accuracy of arch strings or a proxy table with a model. "uncertainty" is the
    /// standard deviation of the forest's trees' predictions (accuracy points): how much the
    /// trees disagree, not a confidence interval; 0 for cells given chance accuracy by rule.
    Predict(predict::PredictArgs),
    /// Paper-style evaluation: repeated splits, Kendall tau, Spearman, R2, MAE.
    Evaluate(train::EvaluateArgs),
    /// Predict a few TSS and SSS archs with the shipped CIFAR-10 models, next to their true
    /// accuracy, marking the archs each model was trained on.
    Demo(demo::DemoArgs),
    /// Search with a trained model as the fitness (zero-shot in proxies, not in labels: the
    /// model learnt from labelled archs), or with one proxy or formula (--proxy: truly
    /// zero-shot, no labels at all): the archs it scores best (evolution, random or
    /// exhaustive), under params/FLOPs/hardware constraints, or a Pareto front of predicted
    /// accuracy against hardware cost, params or FLOPs.
    Search(search::SearchArgs),
    /// Measure throughput (forward+backward, full proxy vector) on CPU or GPU.
    Bench(bench::BenchArgs),
    /// Evolve zero-cost proxy formulas (GreenMachine): genetic programming on formulas over
    /// per-layer tensors, fitness Kendall tau on a labelled sample, best formulas scored on
    /// held-out archs. The formulas are then proxies for extract, proxies and search --proxy.
    Evolve(evolve::EvolveArgs),
    /// Kendall tau of each proxy column of a table with accuracy, on the live labelled archs:
    /// how well each proxy alone ranks the networks (the statistic zero-cost proxy papers
    /// report).
    Correlate(correlate::CorrelateArgs),
}

/// The error and its causes on one line, joined by ": ". A cause whose text the line already
/// holds is skipped: library errors such as `TableError::Io` print their source in their own
/// message *and* expose it as `source()`, which `{:#}` would print twice.
pub fn one_line_error(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string().replace('\n', " ");
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    // The library says what is missing; the command line says which option gives it.
    let needs = e
        .chain()
        .find_map(|c| match c.downcast_ref::<crate::table::TableError>() {
            Some(crate::table::TableError::LayoutNeeds { what, .. }) => Some(*what),
            _ => None,
        });
    if let Some(what) = needs {
        line.push_str(&format!(" (--{what})"));
    }
    line
}

/// clap's message on one line, keeping every part that helps: the complaint, the arguments
/// it names on the lines below it, clap's tip ("a similar subcommand exists: 'predict'") and
/// the usage line; "For more information" becomes "see --help".
fn clap_one_line(text: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with("For more information") {
            continue;
        }
        let line = line.trim_start_matches("error: ");
        match parts.last_mut() {
            // The arguments clap lists under "…were not provided:" belong to that sentence.
            Some(last) if last.ends_with(':') => {
                last.push(' ');
                last.push_str(line);
            }
            Some(last) if line.starts_with('-') || line.starts_with('<') => {
                last.push_str(", ");
                last.push_str(line);
            }
            _ => parts.push(line.to_string()),
        }
    }
    if parts.is_empty() {
        return "invalid arguments (see --help)".into();
    }
    format!("{} (see --help)", parts.join("; "))
}

/// Lets a closed pipe end the process quietly, as it ends `cat` or `grep`
/// (`greenfactory demo | head -1`): Rust ignores SIGPIPE, so a write to a closed pipe is an
/// error that `println!` turns into a panic.
pub fn restore_sigpipe() {
    // SAFETY: setting a signal's disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<()> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        // `greenfactory` (or a group) alone: the help with the command list, as clap prints it.
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            e.exit()
        }
        Err(e) => anyhow::bail!("{}", clap_one_line(&e.to_string())),
    };
    match cli.command {
        Command::Archs(a) => archs::run(a),
        Command::Proxies(a) => proxies::run(a),
        Command::Extract(a) => extract::run(a),
        Command::Combine(a) => combine::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Import(a) => import::run(a),
        Command::Train(a) => train::train(a),
        Command::Predict(a) => predict::run(a),
        Command::Evaluate(a) => train::evaluate_cmd(a),
        Command::Search(a) => search::run(a),
        Command::Evolve(a) => evolve::run(a),
        Command::Correlate(a) => correlate::run(a),
    }
}
