//! Why an extraction could not run or finish.

use crate::proxy::ProxyError;
use crate::space::SpaceError;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// A file or folder could not be read or written (the message names it).
    #[error("{0}")]
    Io(String),
    /// An arch index or string of the selection is not one of the space.
    #[error("{0}")]
    Space(#[from] SpaceError),
    /// Shard tables that are not the complete shards of one run.
    #[error("{0}")]
    Shards(String),
    #[error("invalid --archs {spec:?}: {why}")]
    Selection { spec: String, why: String },
    #[error(
        "{path} was made with a different {field}; use another --out or delete it to start over{}",
        if field.starts_with("device") { " (or --allow-device-change to finish it on this device)" } else { "" }
    )]
    ConfigMismatch { path: String, field: &'static str },
    #[error("proxy engine: {0}")]
    Engine(#[from] ProxyError),
    #[error("{0}")]
    Proxies(String),
    #[error("table: {0}")]
    Table(String),
    #[error("extraction incomplete: {0}")]
    Incomplete(String),
    /// Another process is extracting into the same table.
    #[error("{out} is being extracted by process {pid}: wait for it, or stop it and run again to resume")]
    Busy { out: String, pid: i32 },
}
