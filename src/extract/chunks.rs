//! The work folder: manifest and checkpointed chunk files.

use super::error::ExtractError;
use crate::provenance::Manifest;
use crate::proxy::ProxyVector;
use crate::space::Arch;
use std::path::{Path, PathBuf};

pub use crate::table::RowStatus;

/// One arch's result as stored in a chunk.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChunkRow {
    /// Official index.
    pub index: usize,
    pub arch: String,
    /// `None` where the proxy has no value (reason in `errors`).
    pub values: Vec<Option<f64>>,
    pub errors: Vec<Option<String>>,
    pub status: RowStatus,
    /// Seconds per pass.
    pub seconds: crate::proxy::PassTimes,
}

impl ChunkRow {
    /// The row of a computed vector.
    pub fn scored(arch: &Arch, v: &ProxyVector) -> ChunkRow {
        ChunkRow {
            index: arch.index(),
            arch: arch.to_string(),
            values: v.values.iter().map(|&x| to_option(x)).collect(),
            errors: v.errors.clone(),
            status: if v.ok() {
                RowStatus::Ok
            } else {
                RowStatus::Failed
            },
            seconds: v.seconds,
        }
    }

    /// The row of an arch whose network could not be built: every one of its `n` proxies
    /// fails with `reason`.
    pub fn unbuildable(arch: &Arch, n: usize, reason: String) -> ChunkRow {
        ChunkRow {
            index: arch.index(),
            arch: arch.to_string(),
            values: vec![None; n],
            errors: vec![Some(reason); n],
            status: RowStatus::Failed,
            seconds: Default::default(),
        }
    }

    pub fn ok(&self) -> bool {
        self.status == RowStatus::Ok
    }
}

pub(crate) fn parts_dir(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".parts");
    PathBuf::from(s)
}

pub(crate) fn chunk_path(parts: &Path, k: usize) -> PathBuf {
    parts.join(format!("chunk-{k:06}.jsonl"))
}

/// Writes `bytes` to `path` atomically ([`crate::atomic::write_atomic_with`]).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExtractError> {
    use std::io::Write;
    let tmp = crate::atomic::tmp_path(path);
    crate::atomic::write_atomic_with(
        path,
        |f| f.write_all(bytes).map_err(ExtractError::io(&tmp)),
        |p, source| ExtractError::io(p)(source),
    )
}

pub(crate) fn write_manifest(parts: &Path, m: &Manifest) -> Result<(), ExtractError> {
    let text =
        serde_json::to_vec_pretty(m).map_err(|e| ExtractError::file(parts, e.to_string()))?;
    write_atomic(&parts.join("manifest.json"), &text)
}

pub(crate) fn read_manifest(parts: &Path) -> Result<Option<Manifest>, ExtractError> {
    let p = parts.join("manifest.json");
    match std::fs::read(&p) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            ExtractError::file(
                &p,
                format!("unreadable manifest ({e}); remove the folder to start over"),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ExtractError::io(&p)(e)),
    }
}

pub(crate) fn write_chunk(parts: &Path, k: usize, rows: &[ChunkRow]) -> Result<(), ExtractError> {
    let mut buf = Vec::new();
    for r in rows {
        serde_json::to_writer(&mut buf, r).map_err(|e| ExtractError::file(parts, e.to_string()))?;
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
    let text = std::fs::read_to_string(&p).map_err(ExtractError::io(&p))?;
    let rows: Vec<ChunkRow> = text
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| ExtractError::file(&p, e.to_string())))
        .collect::<Result<_, _>>()?;
    if rows.len() != expected {
        return Err(ExtractError::file(
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
