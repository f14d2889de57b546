//! The finished extraction as a proxy table (schema in `table`), with the manifest as its
//! proxy configuration metadata.

use super::chunks::ChunkRow;
use super::error::ExtractError;
use crate::provenance::Manifest;
use crate::table::{self, ProxyRow, ProxyTable};
use std::path::Path;

/// Writes `rows` (in arch-list order) to `out` atomically.
pub(crate) fn write_table(out: &Path, m: &Manifest, rows: &[ChunkRow]) -> Result<(), ExtractError> {
    let errors: Vec<String> = rows
        .iter()
        .map(|r| {
            m.proxies
                .iter()
                .zip(&r.errors)
                .find_map(|(p, e)| e.as_ref().map(|e| format!("{p}: {e}")))
                .unwrap_or_default()
        })
        .collect();
    let rows: Vec<ProxyRow<'_>> = rows
        .iter()
        .zip(&errors)
        .map(|(r, error)| ProxyRow {
            index: r.index,
            arch: &r.arch,
            values: &r.values,
            status: r.status,
            error,
        })
        .collect();
    let source = out.display().to_string();
    let t = ProxyTable::from_rows(
        m.space,
        m.dataset,
        &m.proxies,
        &rows,
        Some(m.clone()),
        &source,
    )?;
    Ok(table::write_proxies(&t, out)?)
}

/// The manifest stored in a finished table; `None` for a proxy table that is not an extraction.
pub(crate) fn read_manifest(path: &Path) -> Result<Option<Manifest>, ExtractError> {
    Ok(table::read_proxies(path)?.config)
}
