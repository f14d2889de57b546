//! `greenfactory archs`: arch strings with their official index.

use super::output::{print_rows, Cell, Format};
use crate::space::Space;
use clap::Args;

#[derive(Args, Debug)]
pub struct ArchsArgs {
    /// Search space: tss (15,625 cells), sss (32,768 channel configs) or macro (NAS-Bench-Macro,
    /// 6,561 archs).
    #[arg(long)]
    pub space: Space,
    /// Print N archs drawn uniformly without replacement instead of all.
    #[arg(long)]
    pub sample: Option<usize>,
    /// Seed of --sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
}

pub fn run(a: ArchsArgs) -> anyhow::Result<()> {
    let indices: Vec<usize> = match a.sample {
        Some(n) => a.space.sample_indices(n, a.seed),
        None => (0..a.space.size()).collect(),
    };
    let mut rows = Vec::with_capacity(indices.len());
    for i in indices {
        let arch = a.space.arch(i)?;
        rows.push(vec![Cell::Int(i as i64), Cell::Text(arch.to_string())]);
    }
    print_rows(a.format, &["index".into(), "arch".into()], &rows)
}
