//! `greenfactory archs`: arch strings with their official index.

use super::output::{print_rows, Cell, Format};
use crate::space::Space;
use anyhow::{bail, Context};
use clap::Args;

#[derive(Args, Debug)]
pub struct ArchsArgs {
    /// Search space: tss (15,625 cells), sss (32,768 channel configs), macro (NAS-Bench-Macro,
    /// 6,561 archs) or nb101 (NAS-Bench-101 cells: no index order, so --sample or --labels).
    #[arg(long)]
    pub space: Space,
    /// Print N archs drawn uniformly without replacement instead of all.
    #[arg(long)]
    pub sample: Option<usize>,
    /// Seed of --sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the archs of this label table (e.g. the labelled NAS-Bench-101 cells) instead.
    #[arg(long, conflicts_with = "sample")]
    pub labels: Option<std::path::PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
}

pub fn run(a: ArchsArgs) -> anyhow::Result<()> {
    let indices: Vec<usize> = match (a.sample, &a.labels) {
        (Some(n), _) => a.space.sample_indices(n, a.seed),
        (None, Some(path)) => {
            let labels = crate::table::read_labels(path)
                .with_context(|| format!("--labels {}", path.display()))?;
            let mut seen = std::collections::BTreeSet::new();
            for r in labels.rows()? {
                if r.space != a.space {
                    bail!(
                        "--labels {}: its archs are {} archs, not {}",
                        path.display(),
                        r.space,
                        a.space
                    );
                }
                seen.insert(r.arch_index as usize);
            }
            seen.into_iter().collect()
        }
        (None, None) if !a.space.index_order() => bail!(
            "{} has no index order to list ({} archs): pass --sample N or --labels FILE",
            a.space,
            a.space.size()
        ),
        (None, None) => (0..a.space.size()).collect(),
    };
    let keyed = a.space.benchmark_key_name();
    let mut rows = Vec::with_capacity(indices.len());
    for i in indices {
        let arch = a.space.arch(i)?;
        let mut row = vec![Cell::Int(i as i64), Cell::Text(arch.to_string())];
        if let Some(key) = arch.benchmark_key() {
            row.push(Cell::Text(key));
        }
        rows.push(row);
    }
    let mut header = vec!["index".to_string(), "arch".to_string()];
    header.extend(keyed.map(String::from));
    print_rows(a.format, &header, &rows)
}
