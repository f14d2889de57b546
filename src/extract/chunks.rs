//! The work folder: manifest and checkpointed chunk files.

use super::error::ExtractError;
use crate::proxy::ProxyConfig;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Everything the values of a run depend on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub space: String,
    pub dataset: String,
    pub proxies: Vec<String>,
    pub config: ProxyConfig,
    /// Official indices of the archs, in output order.
    pub archs: Vec<usize>,
    pub chunk_size: usize,
    /// `cpu` or `cuda`: float results differ slightly between them.
    pub device_kind: String,
    /// Set when the run is one shard of a larger selection ([`crate::extract::shard_archs`]);
    /// `archs` then lists the shard's archs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
}

/// Which part of which selection a sharded run scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// `K` of `--shard K/N` (0-based).
    pub index: usize,
    /// `N`.
    pub count: usize,
    /// The whole selection, in the order of the unsharded table.
    pub selection: Vec<usize>,
}

impl Manifest {
    /// Whether `self` and `other` differ in the device kind only.
    pub fn differs_in_device_only(&self, other: &Manifest) -> bool {
        let mut o = other.clone();
        o.device_kind.clone_from(&self.device_kind);
        self.device_kind != other.device_kind && self.first_difference(&o).is_none()
    }

    /// The device kinds of a run resumed on `kind` after `self` (e.g. `cuda` then `cpu` →
    /// `cuda+cpu`), in the order they were first used.
    pub fn with_device_kind(&self, kind: &str) -> String {
        if self.device_kind.split('+').any(|k| k == kind) {
            self.device_kind.clone()
        } else {
            format!("{}+{kind}", self.device_kind)
        }
    }

    /// The first field in which `self` and `other` differ that changes values (arch list,
    /// shard, chunk size and device kind do not): `None` when the two tables' values are comparable
    /// and can be used as one.
    pub fn first_value_difference(&self, other: &Manifest) -> Option<&'static str> {
        let mut o = other.clone();
        o.archs.clone_from(&self.archs);
        o.shard.clone_from(&self.shard);
        o.chunk_size = self.chunk_size;
        o.device_kind.clone_from(&self.device_kind);
        self.first_difference(&o)
    }

    /// The first field in which `self` differs from `other`, for the refusal message.
    pub fn first_difference(&self, other: &Manifest) -> Option<&'static str> {
        if self.space != other.space {
            Some("space")
        } else if self.dataset != other.dataset {
            Some("dataset")
        } else if self.proxies != other.proxies {
            Some("proxies")
        } else if self.config != other.config {
            Some("proxy configuration (batch size, seed, data, engine version, isomorphic sharing)")
        } else if self.archs != other.archs {
            Some("arch selection")
        } else if self.chunk_size != other.chunk_size {
            Some("chunk size")
        } else if self.device_kind != other.device_kind {
            Some("device kind (cpu/cuda)")
        } else if self.shard != other.shard {
            Some("shard")
        } else {
            None
        }
    }
}

/// One arch's result as stored in a chunk.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChunkRow {
    /// Official index.
    pub index: usize,
    pub arch: String,
    /// `None` where the proxy has no value (reason in `errors`).
    pub values: Vec<Option<f64>>,
    pub errors: Vec<Option<String>>,
    /// `ok` or `failed` (some proxy has no value).
    pub status: String,
    /// Seconds per pass.
    pub seconds: crate::proxy::PassTimes,
}

pub(crate) fn parts_dir(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".parts");
    PathBuf::from(s)
}

pub(crate) fn chunk_path(parts: &Path, k: usize) -> PathBuf {
    parts.join(format!("chunk-{k:06}.jsonl"))
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> ExtractError {
    ExtractError::Io(format!("{}: {e}", path.display()))
}

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExtractError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = std::fs::File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
        f.write_all(bytes).map_err(|e| io_err(&tmp, e))?;
        f.sync_all().map_err(|e| io_err(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

pub(crate) fn write_manifest(parts: &Path, m: &Manifest) -> Result<(), ExtractError> {
    let text = serde_json::to_vec_pretty(m).map_err(|e| io_err(parts, e))?;
    write_atomic(&parts.join("manifest.json"), &text)
}

pub(crate) fn read_manifest(parts: &Path) -> Result<Option<Manifest>, ExtractError> {
    let p = parts.join("manifest.json");
    match std::fs::read(&p) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            io_err(
                &p,
                format!("unreadable manifest ({e}); remove the folder to start over"),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&p, e)),
    }
}

pub(crate) fn write_chunk(parts: &Path, k: usize, rows: &[ChunkRow]) -> Result<(), ExtractError> {
    let mut buf = Vec::new();
    for r in rows {
        serde_json::to_writer(&mut buf, r).map_err(|e| io_err(parts, e))?;
        buf.push(b'\n');
    }
    write_atomic(&chunk_path(parts, k), &buf)
}

/// Reads a complete chunk; `expected` rows must be there (a chunk is renamed into place only
/// when complete, so a short one means the folder was tampered with).
pub(crate) fn read_chunk(
    parts: &Path,
    k: usize,
    expected: usize,
) -> Result<Vec<ChunkRow>, ExtractError> {
    let p = chunk_path(parts, k);
    let text = std::fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
    let rows: Vec<ChunkRow> = text
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| io_err(&p, e)))
        .collect::<Result<_, _>>()?;
    if rows.len() != expected {
        return Err(io_err(
            &p,
            format!("{} rows where {expected} are expected", rows.len()),
        ));
    }
    Ok(rows)
}

/// serde_json has no NaN: missing values are `None`.
pub(crate) fn to_option(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}
