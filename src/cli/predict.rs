//! `greenfactory predict`: predicted accuracy with uncertainty, from arch strings (proxies
//! computed with the model's own configuration) or from a proxy table.

use super::args::collect_archs;
use super::output::{print_rows, Cell, Format};
use crate::model::Model;
use crate::net::parse_device;
use crate::predict::{
    engine_for, model_table, predict_arch, predict_table, read_table_for, ArchPrediction,
    ConfigCheck, PredictError,
};
use anyhow::{bail, Context};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Model file written by `train`.
    #[arg(long)]
    pub model: PathBuf,
    /// Search space of the archs (tss, sss, macro, nb101 or darts); default: the model's. A model predicts archs of
    /// the space it was trained on only.
    #[arg(long)]
    pub space: Option<crate::space::Space>,
    /// Arch string(s) or official indices (repeatable); proxies are computed with the
    /// configuration stored in the model.
    #[arg(long = "arch")]
    pub archs: Vec<String>,
    /// File with one arch string or index per line.
    #[arg(long)]
    pub arch_file: Option<PathBuf>,
    /// A proxy table with the model's features instead of arch strings.
    #[arg(long, conflicts_with_all = ["archs", "arch_file"])]
    pub features: Option<PathBuf>,
    /// Device for computing proxies: auto, cpu, cuda, cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(a: PredictArgs) -> anyhow::Result<()> {
    let model = Model::load(&a.model)?;
    let meta = model.meta();
    if let Some(sp) = a.space {
        if sp != meta.space {
            bail!(
                "--space {sp}: {} predicts {} archs only",
                a.model.display(),
                meta.space.name().to_uppercase()
            );
        }
    }
    if a.features.is_none() && a.archs.is_empty() && a.arch_file.is_none() {
        bail!("no archs given: use --arch STR, --arch-file FILE or --features TABLE");
    }
    // What the numbers are, said once the inputs are read (never before an error about them).
    let announce = || {
        eprintln!(
            "predicted: {} {}{} by {}",
            meta.dataset,
            meta.target.describe(),
            meta.target.unit(),
            a.model.display()
        )
    };
    let header: Vec<String> = ["index", "arch", "predicted", "uncertainty", "basis"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut rows = Vec::new();
    if let Some(f) = &a.features {
        let (table, check) = read_table_for(&model, f)?;
        let table = model_table(&model, &table)?;
        if check == ConfigCheck::TableHasNone {
            eprintln!(
                "notice: {} has no proxy configuration: its values cannot be checked against the configuration {} was trained on",
                f.display(),
                a.model.display()
            );
        }
        let predictions = predict_table(&model, &table)?;
        announce();
        let mut missing = 0;
        for p in &predictions {
            rows.push(prediction_row(
                p.index,
                &p.arch,
                p.prediction.clone(),
                &mut missing,
            ));
        }
        print_rows(a.format, &header, &rows)?;
        return fail_if_missing(missing, predictions.len());
    }
    let device = parse_device(&a.device)?;
    let (engine, space, _) =
        engine_for(&model, device).with_context(|| format!("{}", a.model.display()))?;
    let archs = collect_archs(space, &a.archs, a.arch_file.as_ref()).map_err(|e| {
        // An arch of another space gets an error that names both spaces.
        let other = a.archs.iter().find_map(|s| {
            crate::space::Space::ALL
                .into_iter()
                .find(|o| *o != space && o.parse(s).is_ok())
                .map(|o| (s, o))
        });
        match other {
            Some((s, other)) => anyhow::anyhow!(
                "--arch {s} is an arch of the {} space, but {} predicts {} archs",
                other.name().to_uppercase(),
                a.model.display(),
                space.name().to_uppercase()
            ),
            None => e,
        }
    })?;
    announce();
    // An arch without a proxy value gets a row saying why and the others go on; the run
    // fails at the end, after every computed prediction is printed.
    let mut missing = 0;
    // Each arch computes its proxies (up to a second on a CPU): a long list shows progress on
    // a terminal (indicatif draws nothing when stderr is not one).
    let bar = if archs.len() > 10 {
        indicatif::ProgressBar::new(archs.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    for arch in &archs {
        bar.inc(1);
        let outcome = match predict_arch(&engine, &model, arch) {
            Err(PredictError::NoProxyValue { reason, .. }) => Err(reason),
            other => Ok(other?),
        };
        let row = prediction_row(arch.index(), &arch.to_string(), outcome, &mut missing);
        rows.push(row);
    }
    bar.finish_and_clear();
    print_rows(a.format, &header, &rows)?;
    fail_if_missing(missing, archs.len())
}

/// One output row: the prediction, or "-" and why there is none (counted in `missing`).
fn prediction_row(
    index: usize,
    arch: &str,
    outcome: Result<ArchPrediction, String>,
    missing: &mut usize,
) -> Vec<Cell> {
    let (mean, std, basis) = match outcome {
        Ok(p) => (
            Cell::Acc(p.mean),
            Cell::Acc(p.std),
            p.basis.describe().into(),
        ),
        Err(reason) => {
            *missing += 1;
            let none = || Cell::Text("-".into());
            (none(), none(), format!("no prediction: {reason}"))
        }
    };
    vec![
        Cell::Int(index as i64),
        Cell::Text(arch.to_string()),
        mean,
        std,
        Cell::Text(basis),
    ]
}

/// The run fails after its output when some rows got no prediction.
fn fail_if_missing(missing: usize, total: usize) -> anyhow::Result<()> {
    if missing > 0 {
        bail!(
            "{missing} of {total} arch(s) have no prediction (the reason is in their basis column)"
        );
    }
    Ok(())
}
