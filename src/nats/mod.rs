//! Native reader of the official NATS-Bench archives (`NATS-tss-v1_0-3ffb9-simple/`,
//! `NATS-sss-v1_0-50262-simple/`): bzip2-compressed Python pickles, read without Python.
//!
//! * [`pickle`] — a closed pickle VM (protocols 2–4, numpy scalars, `OrderedDict`).
//! * [`archive`] — the directory layout (`meta.pickle.pbz2` + one `NNNNNN.pickle.pbz2` per arch)
//!   and the accuracy semantics of the official API (`nats_bench/api_topology.py`,
//!   `api_size.py`, `get_more_info(index, dataset, hp, is_random=False)`; `api_utils.py`
//!   `ArchResults.get_metrics` / `get_compute_costs`): mean over the seeds listed in
//!   `dataset_seed[dataset]` of the value at the final epoch (`epochs - 1`).
//! * [`import_dir`] — every arch file present → plain label records, which `table` turns into a
//!   label table (this module depends on `space` only).
//!
//! Errors are [`NatsError`]: one line, naming the file.

pub mod archive;
pub mod pickle;

pub use archive::{import_dir, ArchRecord, Archive, MoreInfo, NatsImport, NatsLabel};
pub use pickle::{PickleError, Value};

use std::path::PathBuf;

/// Why an archive, or a file in it, could not be read. Every message names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NatsError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: corrupt or truncated bzip2 data: {source}", path.display())]
    Bzip2 {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: decompressed size exceeds {limit} bytes", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{}: {source}", path.display())]
    Pickle { path: PathBuf, source: PickleError },
    #[error("{}: not a NATS-Bench archive directory (no meta.pickle.pbz2)", dir.display())]
    NotArchive { dir: PathBuf },
    #[error("{}: unexpected NATS-Bench layout: {what}", path.display())]
    Layout { path: PathBuf, what: String },
    #[error("{}: meta arch {index} is {found:?}, official {space} order has {expected:?}", path.display())]
    MetaOrder {
        path: PathBuf,
        space: crate::space::Space,
        index: usize,
        found: String,
        expected: String,
    },
    #[error("{}: arch {index} not in the archive", path.display())]
    MissingArch { path: PathBuf, index: usize },
    #[error("{}: no hp {hp:?} in the record (has {available})", path.display())]
    NoHp {
        path: PathBuf,
        hp: String,
        available: String,
    },
    #[error("{}: no dataset {dataset:?} for hp {hp:?} in the record", path.display())]
    NoDataset {
        path: PathBuf,
        dataset: String,
        hp: String,
    },
    #[error("{}: no arch files (NNNNNN.pickle.pbz2) found", dir.display())]
    Empty { dir: PathBuf },
}
