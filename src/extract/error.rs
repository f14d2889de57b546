//! Why an extraction could not run or finish.

use crate::proxy::{ProxyError, ProxyNameError};
use crate::space::SpaceError;
use crate::table::TableError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file of the run (the arch list, the work folder's manifest, lock or chunks, an existing
    /// output) holds something other than the extraction expects.
    #[error("{}: {why}", path.display())]
    File { path: PathBuf, why: String },
    /// A line of the arch-list file is not an arch of the space.
    #[error("{} line {line}: {source}", path.display())]
    ArchList {
        path: PathBuf,
        line: usize,
        source: SpaceError,
    },
    /// An arch index or string of the selection is not one of the space.
    #[error("{0}")]
    Space(#[from] SpaceError),
    /// Shard tables that are not the complete shards of one run.
    #[error("{0}")]
    Shards(String),
    /// An arch selection (`all`, `range:A..B`, `sample:N[:SEED]`, `file:PATH`) that is not one.
    #[error("invalid arch selection {spec:?}: {why}")]
    Selection { spec: String, why: String },
    /// The output table or work folder was made with other settings.
    #[error("{path} was made with a different {field}")]
    ConfigMismatch { path: String, field: &'static str },
    /// The output exists and is not a table an extraction wrote.
    #[error("{} exists and is not a greenfactory extraction (no manifest)", path.display())]
    NotAnExtraction { path: PathBuf },
    #[error("proxy engine: {0}")]
    Engine(#[from] ProxyError),
    #[error("{0}")]
    Proxies(#[from] ProxyNameError),
    #[error("table: {0}")]
    Table(#[from] TableError),
    #[error("extraction incomplete: {0}")]
    Incomplete(String),
    /// Another process is extracting into the same table.
    #[error("{out} is being extracted by process {pid}: wait for it, or stop it and run again to resume")]
    Busy { out: String, pid: i32 },
}

impl ExtractError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExtractError {
        let path = path.into();
        move |source| ExtractError::Io { path, source }
    }

    /// A Polars error while building the table for `out`.
    pub(crate) fn polars(
        out: &std::path::Path,
    ) -> impl Fn(polars::prelude::PolarsError) -> ExtractError + '_ {
        move |source| {
            ExtractError::Table(TableError::Polars {
                path: out.display().to_string(),
                source,
            })
        }
    }

    /// `path` holds something the extraction does not expect.
    pub(crate) fn file(path: impl Into<PathBuf>, why: impl Into<String>) -> ExtractError {
        ExtractError::File {
            path: path.into(),
            why: why.into(),
        }
    }
}
