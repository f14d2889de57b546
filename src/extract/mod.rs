//! Extraction at scale: the proxy vector of many archs, on CPU or GPU, several workers at once,
//! resumable after any interruption (SIGKILL included).
//!
//! Output `OUT` (a Parquet proxy table) is built in a work folder `OUT.parts/`:
//! * `manifest.json` — everything the values depend on (space, dataset, proxies, proxy
//!   configuration, the arch list, chunk size, device kind). A run onto an existing folder or
//!   table with a different manifest is refused, naming the first field that differs.
//! * `chunk-NNNNNN.jsonl` — the rows of archs `[N·S, (N+1)·S)` of the arch list, written to a
//!   temporary name, synced, then renamed: a chunk file either is complete or does not exist.
//!
//! A rerun skips every chunk already on disk; once all exist they are assembled in arch-list
//! order into `OUT` (again via a temporary file and a rename) and the folder is removed. So
//! an interrupted and resumed run gives exactly the table of an uninterrupted one.
//!
//! Sharding (`--shard K/N`, [`shard_archs`]) splits a selection into N deterministic parts
//! for N independent jobs (a SLURM array, several machines); [`combine_shards`] puts their
//! tables together into exactly the table of the unsharded run.
//!
//! Values never depend on `--workers` or order: arch `i` is seeded from (run seed, i) and every
//! worker holds the same batch.

mod chunks;
mod error;
mod run;
mod shard;
mod table_out;

pub use crate::provenance::{Manifest, Shard};
pub use chunks::{ChunkRow, RowStatus};
pub use error::ExtractError;
pub use run::{
    cpu_model, extract, run_record_path, ArchSelection, ExtractOptions, ExtractSummary, Progress,
    RunRecord,
};
pub use shard::{combine_shards, shard_archs, CombineSummary};
