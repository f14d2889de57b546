//! Why an extraction could not run or finish.

use crate::proxy::ProxyError;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{0}")]
    Io(String),
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
}
