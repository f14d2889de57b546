//! How well each proxy alone ranks the archs: Kendall τ-b between a proxy column and accuracy,
//! the statistic zero-cost proxy papers report (Abdelfattah et al., ICLR 2021; MeCo, NeurIPS
//! 2023; GreenMachine, arXiv 2411.15290), on the live archs (those whose output depends on the
//! input: a dead cell's accuracy is chance by rule, whatever its proxies say).

use std::collections::HashMap;

use super::{ProxyTable, Result};
use crate::forest::kendall_tau_b;
use crate::space::NatsDataset;

/// One proxy's rank correlation with accuracy.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyTau {
    pub proxy: String,
    /// Kendall τ-b over the `n` archs with a finite value and a label.
    pub tau: f64,
    pub n: usize,
    /// Live labelled archs of the table without a finite value of this proxy.
    pub missing: usize,
}

/// τ of each of `only` (every feature column when empty) of `table`'s `dataset` rows against
/// `labels` (official index → accuracy), over the live archs that have a label; in column
/// order.
pub fn proxy_taus(
    table: &ProxyTable,
    dataset: NatsDataset,
    labels: &HashMap<usize, f64>,
    only: &[String],
) -> Result<Vec<ProxyTau>> {
    let space = table.space()?;
    let table = table.filter_dataset(dataset.name())?;
    let indices = table.arch_indices()?;
    // Rows of live labelled archs.
    let rows: Vec<(usize, f64)> = indices
        .iter()
        .enumerate()
        .filter_map(|(r, &i)| {
            let i = usize::try_from(i).ok()?;
            let live = space.arch(i).ok()?.known_accuracy(dataset).is_none();
            let y = labels.get(&i)?;
            (live && y.is_finite()).then_some((r, *y))
        })
        .collect();
    let names = if only.is_empty() {
        table.feature_names()
    } else {
        only.to_vec()
    };
    names
        .into_iter()
        .map(|name| {
            let column = table.feature(&name)?;
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for &(r, acc) in &rows {
                match column[r] {
                    Some(v) if v.is_finite() => {
                        x.push(v);
                        y.push(acc);
                    }
                    _ => {}
                }
            }
            Ok(ProxyTau {
                tau: kendall_tau_b(&x, &y),
                n: x.len(),
                missing: rows.len() - x.len(),
                proxy: name,
            })
        })
        .collect()
}
