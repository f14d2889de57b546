//! Sharded extraction: N jobs each score a deterministic 1/N of a selection, and their tables
//! are combined into the table an unsharded run writes.
//!
//! A shard is a set of work units: the archs of the selection, or, when isomorphic archs share
//! their values, the isomorphism classes in order of first appearance (a class is never split,
//! so no representative is computed twice). Unit `p` (0-based) belongs to shard `p mod N`.

use super::error::ExtractError;
use super::run::{cpu_model, run_record_path, RunRecord};
use crate::provenance::Manifest;
use crate::space::Space;
use crate::table::{self, ProxyTable};
use polars::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The archs of shard `k` of `n` of `selection`, in selection order.
pub fn shard_archs(
    selection: &[usize],
    space: Space,
    share_isomorphic: bool,
    k: usize,
    n: usize,
) -> Result<Vec<usize>, ExtractError> {
    if n == 0 || k >= n {
        return Err(ExtractError::Shards(format!(
            "shard {k}/{n}: expected K/N with 0 <= K < N"
        )));
    }
    let mut unit_of: HashMap<usize, usize> = HashMap::new();
    let mut mine = Vec::new();
    for &i in selection {
        let key = if share_isomorphic {
            space.arch(i)?.representative().index()
        } else {
            i
        };
        let next = unit_of.len();
        let unit = *unit_of.entry(key).or_insert(next);
        if unit % n == k {
            mine.push(i);
        }
    }
    Ok(mine)
}

/// What [`combine_shards`] wrote.
#[derive(Debug, Clone)]
pub struct CombineSummary {
    pub out: PathBuf,
    pub shards: usize,
    pub archs: usize,
}

/// Combines the finished tables of all N shards of one sharded extraction into `out`: the
/// rows in the selection's order and the manifest of the unsharded run, so the table equals
/// the one an unsharded run writes. Refuses shards of different runs, a missing or repeated
/// shard, and anything that is not a shard table.
pub fn combine_shards(shards: &[PathBuf], out: &Path) -> Result<CombineSummary, ExtractError> {
    if out.exists() {
        return Err(ExtractError::Shards(format!(
            "{} exists; combine writes a new table",
            out.display()
        )));
    }
    let mut parts: Vec<(Manifest, ProxyTable)> = Vec::with_capacity(shards.len());
    for p in shards {
        let t = table::read_proxies(p)?;
        let Some(m) = t.config.clone() else {
            return Err(ExtractError::Shards(format!(
                "{} is not a greenfactory extraction (no manifest)",
                p.display()
            )));
        };
        if m.shard.is_none() {
            return Err(ExtractError::Shards(format!(
                "{} is not a shard of a sharded extraction",
                p.display()
            )));
        }
        parts.push((m, t));
    }
    let Some(((first, _), _)) = parts.split_first() else {
        return Err(ExtractError::Shards("no shard tables given".into()));
    };
    let first_shard = first.shard.clone().expect("checked above");
    let mut seen = std::collections::HashSet::new();
    for ((m, _), path) in parts.iter().zip(shards) {
        let s = m.shard.as_ref().expect("checked above");
        if let Some(field) = first.first_value_difference(m) {
            return Err(ExtractError::Shards(format!(
                "{} was made with a different {field} than {}: not shards of one run",
                path.display(),
                shards[0].display()
            )));
        }
        if s.count != first_shard.count || s.selection != first_shard.selection {
            return Err(ExtractError::Shards(format!(
                "{} is a shard of another selection or shard count",
                path.display()
            )));
        }
        if s.index >= s.count {
            return Err(ExtractError::Shards(format!(
                "{}: shard index {} out of range for {} shards",
                path.display(),
                s.index,
                s.count
            )));
        }
        if !seen.insert(s.index) {
            return Err(ExtractError::Shards(format!(
                "shard {}/{} given twice ({})",
                s.index,
                s.count,
                path.display()
            )));
        }
    }
    // The first missing index is found within shards.len() + 1 steps, whatever the count says.
    if let Some(k) = (0..first_shard.count).find(|k| !seen.contains(k)) {
        return Err(ExtractError::Incomplete(format!(
            "shard {k}/{} is missing",
            first_shard.count
        )));
    }
    let mut df = parts[0].1.df.clone();
    for (_, t) in &parts[1..] {
        df.vstack_mut(&t.df).map_err(ExtractError::polars(out))?;
    }
    let position: HashMap<usize, usize> = first_shard
        .selection
        .iter()
        .enumerate()
        .map(|(p, &i)| (i, p))
        .collect();
    let index: Vec<Option<i64>> = df
        .column("arch_index")
        .and_then(|c| c.i64().map(|ca| ca.iter().collect()))
        .map_err(ExtractError::polars(out))?;
    let mut order: Vec<(usize, u32)> = Vec::with_capacity(df.height());
    for (row, i) in index.into_iter().enumerate() {
        let i = i.unwrap_or(-1);
        let p = usize::try_from(i)
            .ok()
            .and_then(|i| position.get(&i))
            .ok_or_else(|| {
                ExtractError::Shards(format!("arch {i} is not in the shards' selection"))
            })?;
        order.push((*p, row as u32));
    }
    order.sort_unstable();
    if order.len() != first_shard.selection.len() || order.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(ExtractError::Incomplete(format!(
            "the shards hold {} rows for a selection of {} archs",
            order.len(),
            first_shard.selection.len()
        )));
    }
    let take = IdxCa::from_vec("take".into(), order.iter().map(|&(_, r)| r).collect());
    let mut df = df.take(&take).map_err(ExtractError::polars(out))?;
    df.rechunk_mut();
    let manifests: Vec<Manifest> = parts.iter().map(|(m, _)| m.clone()).collect();
    let mut manifest = Manifest::merge(&manifests)
        .map_err(|e| ExtractError::Shards(e.to_string()))?
        .expect("at least one shard");
    // The whole selection in its own order, not the shards' lists one after the other.
    manifest.archs = first_shard.selection.clone();
    // The shards' run records, summed: the work is what they did together. A shard without one
    // (written before run records existed) adds nothing; one that cannot be read is an error,
    // before anything is written.
    let mut records: Vec<RunRecord> = Vec::new();
    for p in shards {
        let path = run_record_path(p);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(ExtractError::Io { path, source }),
        };
        records.push(
            serde_json::from_slice(&bytes).map_err(|e| ExtractError::File {
                path: path.clone(),
                why: format!("not a run record: {e}"),
            })?,
        );
    }
    // Through the table's own validation, as every table that is read back.
    let t = ProxyTable::from_df(df, Some(manifest.clone()), &out.display().to_string())?;
    table::write_proxies(&t, out)?;
    if let Some(r0) = records.first() {
        let mut cpus: Vec<String> = records.iter().map(|r| r.cpu_model.clone()).collect();
        cpus.sort();
        cpus.dedup();
        let record = RunRecord {
            archs: manifest.archs.len(),
            computed_vectors: records.iter().map(|r| r.computed_vectors).sum(),
            resumed_vectors: records.iter().map(|r| r.resumed_vectors).sum(),
            failed_rows: records.iter().map(|r| r.failed_rows).sum(),
            device_kind: manifest.device_kind.clone(),
            workers: records.iter().map(|r| r.workers).max().unwrap_or(0),
            cpu_model: if cpus.is_empty() {
                cpu_model()
            } else {
                cpus.join(" + ")
            },
            finished_utc: records
                .iter()
                .map(|r| r.finished_utc.clone())
                .max()
                .unwrap_or_default(),
            wall_seconds: records.iter().map(|r| r.wall_seconds).sum(),
            ..r0.clone()
        };
        record.write(&run_record_path(out))?;
    }
    Ok(CombineSummary {
        out: out.to_path_buf(),
        shards: parts.len(),
        archs: manifest.archs.len(),
    })
}
