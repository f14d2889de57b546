//! `greenfactory import`: NATS-Bench labels into a Parquet label table.

use crate::space::Space;
use crate::table::{self, ImportCsvOptions};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

#[derive(Subcommand, Debug)]
pub enum ImportSource {
    /// An official NATS-Bench archive folder (e.g. NATS-tss-v1_0-3ffb9-simple/ with
    /// meta.pickle.pbz2 and NNNNNN.pickle.pbz2), read natively (bzip2 + pickle).
    Nats {
        dir: PathBuf,
        /// Training schedule: 200 (TSS) or 90 (SSS) by default; 12, 01 also exist.
        #[arg(long)]
        hp: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// A label CSV (the label schema, or the official wide TSS CSV with one column per dataset).
    Csv {
        file: PathBuf,
        /// Space of a CSV without a `space` column (default tss).
        #[arg(long)]
        space: Option<Space>,
        /// hp of a CSV without an `hp` column.
        #[arg(long)]
        hp: Option<String>,
        /// Dataset of a single-dataset CSV without a `dataset` column.
        #[arg(long)]
        dataset: Option<crate::space::NatsDataset>,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(a: ImportArgs) -> anyhow::Result<()> {
    let s = match a.source {
        ImportSource::Nats { dir, hp, out } => table::import_nats(&dir, &out, hp.as_deref())?,
        ImportSource::Csv {
            file,
            space,
            hp,
            dataset,
            out,
        } => table::import_csv(&file, &out, &ImportCsvOptions { space, hp, dataset })?,
    };
    let found = s
        .meta_archs
        .map(|m| {
            format!(
                " ({} of the {m} archs listed in the archive's meta)",
                s.archs
            )
        })
        .unwrap_or_default();
    eprintln!(
        "{} → {}: {} rows, {} archs{found}, datasets {}",
        s.source.display(),
        s.out
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        s.rows,
        s.archs,
        s.datasets.join(", ")
    );
    Ok(())
}
