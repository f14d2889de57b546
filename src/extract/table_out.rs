//! The finished extraction as a proxy table (schema in `table`), with the manifest as its
//! proxy configuration metadata.

use super::chunks::ChunkRow;
use super::error::ExtractError;
use crate::provenance::Manifest;
use crate::table::{self, ProxyTable};
use polars::prelude::*;
use std::path::Path;

/// Writes `rows` (in arch-list order) to `out` atomically.
pub(crate) fn write_table(out: &Path, m: &Manifest, rows: &[ChunkRow]) -> Result<(), ExtractError> {
    let n = rows.len();
    let mut cols = vec![
        Column::new("space".into(), vec![m.space.name(); n]),
        Column::new("dataset".into(), vec![m.dataset.name(); n]),
        Column::new(
            "arch_index".into(),
            rows.iter().map(|r| r.index as i64).collect::<Vec<_>>(),
        ),
        Column::new(
            "arch".into(),
            rows.iter().map(|r| r.arch.as_str()).collect::<Vec<_>>(),
        ),
    ];
    for (j, name) in m.proxies.iter().enumerate() {
        let v: Vec<Option<f64>> = rows.iter().map(|r| r.values[j]).collect();
        cols.push(Column::new(name.as_str().into(), v));
    }
    cols.push(Column::new(
        "status".into(),
        rows.iter().map(|r| r.status.name()).collect::<Vec<_>>(),
    ));
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
    cols.push(Column::new("error".into(), errors));
    let df = DataFrame::new(n, cols).map_err(ExtractError::polars(out))?;
    // Through the table's own validation, as every table that is read back.
    let t = ProxyTable::from_df(df, Some(m.clone()), &out.display().to_string())?;
    Ok(table::write_proxies(&t, out)?)
}

/// The manifest stored in a finished table; `None` for a proxy table that is not an extraction.
pub(crate) fn read_manifest(path: &Path) -> Result<Option<Manifest>, ExtractError> {
    Ok(table::read_proxies(path)?.config)
}
