//! `greenfactory combine`: the N shard tables of a sharded extraction as one table.

use crate::extract::combine_shards;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CombineArgs {
    /// The shard tables (`extract --shard K/N --out …`), all N of them, in any order.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// The combined table (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: CombineArgs) -> anyhow::Result<()> {
    let s = combine_shards(&a.shards, &a.out)?;
    eprintln!(
        "{}: {} archs from {} shards",
        s.out.display(),
        s.archs,
        s.shards
    );
    Ok(())
}
