//! A search tool built on greenfactory the way an outside project would build it. It needs the
//! forest and a proxy table, not libtorch, so its `Cargo.toml` would say
//!
//! ```toml
//! greenfactory = { version = "0.1", default-features = false, features = ["table"] }
//! ```
//!
//! (`cargo build --no-default-features --features table --example search_tool` builds it so;
//! `make test` runs it). It loads a model, looks each
//! arch's proxies up in a table, runs regularised evolution with the model as the fitness under
//! a parameter budget, and prints the five archs it predicts best.
//!
//! ```sh
//! cargo run --no-default-features --features table --example search_tool -- \
//!     MODEL.gfm datasets/tss_cifar10_all.parquet [SEED]
//! ```
//!
//! Use a model that did not see the space's accuracies (e.g. `greenfactory train --n-train
//! 200`); with the shipped full-table model the search would only recall them.

use std::path::Path;
use std::process::ExitCode;

use greenfactory::model::Model;
use greenfactory::search::{scorer, search, Constraints, Ranking, SearchConfig, Strategy};

fn run(model: &Path, table: &Path, seed: u64) -> Result<(), Box<dyn std::error::Error>> {
    let model = Model::load(model)?;
    // The table's configuration is checked against the model's; a mismatch is an error.
    let mut ranked = scorer(Ranking::ModelTable {
        model: &model,
        table,
    })?;
    ranked.notices.iter().for_each(|n| eprintln!("{n}"));
    let config = SearchConfig {
        // Networks under 1 M parameters (NATS-Bench TSS spans 0.07–1.53 M).
        constraints: Constraints {
            max_params_m: Some(1.0),
            ..Constraints::default()
        },
        ..SearchConfig::new(Strategy::EVOLUTION, 200, seed)
    };
    let outcome = search(model.meta().space, ranked.scorer.as_mut(), &config)?;
    println!("index  predicted  ± std  params M  arch");
    for c in outcome.ranked().into_iter().take(5) {
        let p = c
            .prediction
            .as_ref()
            .expect("ranked archs have a prediction");
        println!(
            "{:>5}  {:>9.2}  {:>5.2}  {:>8.3}  {}",
            c.arch.index(),
            p.mean,
            p.std,
            c.params_m.unwrap_or(f64::NAN),
            c.arch
        );
    }
    println!(
        "{} archs scored, {} mutations or draws over the parameter budget left out",
        outcome.scored.len(),
        outcome.rejected
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.len() > 3 {
        eprintln!("usage: search_tool MODEL.gfm TABLE.parquet [SEED]");
        return ExitCode::from(2);
    }
    let seed = match args.get(2).map(|s| s.parse::<u64>()) {
        None => 0,
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            eprintln!("error: SEED must be a non-negative integer");
            return ExitCode::from(2);
        }
    };
    match run(Path::new(&args[0]), Path::new(&args[1]), seed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
