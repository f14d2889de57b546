//! Command-line interface: argument types and one function per subcommand.

mod archs;
mod output;
mod proxies;

use clap::{Parser, Subcommand};

pub use output::Format;

/// Predicts the trained accuracy of NATS-Bench networks from zero-cost proxies.
#[derive(Parser, Debug)]
#[command(name = "greenfactory", version, about, long_about = None)]
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
}

/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<()> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // clap's message spans several lines; keep its first (the actual complaint).
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            anyhow::bail!("{} (see --help)", first.trim_start_matches("error: "));
        }
    };
    match cli.command {
        Command::Archs(a) => archs::run(a),
        Command::Proxies(a) => proxies::run(a),
    }
}
