//! Our proxies against NAS-Bench-Suite-Zero's and against NATS-Bench test accuracy (issue #3,
//! "against the published benchmark"). Prints a Markdown table; `docs/suite_zero_comparison.md`
//! is its output.
//!
//! ```sh
//! cargo run --example compare_suite_zero -- ../shared/data \
//!     datasets/tss_cifar10_sample1000.parquet [MORE.parquet…] > docs/suite_zero_comparison.md
//! ```
//!
//! For every proxy column of our table: Spearman ρ with Suite-Zero's value of the same arch (on
//! the archs both have), ρ with the NATS-Bench test accuracy (hp 200) on all our rows, ρ of
//! Suite-Zero's value with that accuracy on the shared archs, and on all 9,445 Suite-Zero archs
//! (the figure PROVENANCE.md §6b lists). Rows without a value (failed proxies) drop out pairwise.
//!
//! `--seeds A.parquet B.parquet` (at the end) adds how much each proxy depends on the initial
//! weights: two of our tables of the same archs that differ only in the run seed, ρ(A, B) next
//! to each one's ρ with accuracy — what two independent initialisations, like ours and
//! Suite-Zero's, can be expected to agree.

use greenfactory::forest::spearman;
use greenfactory::table::{read_proxies, read_suite_zero_csv, read_tss_label_csv, ProxyTable};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Column `name` keyed by arch index; rows without a finite value are left out.
fn by_arch(t: &ProxyTable, name: &str) -> Result<HashMap<i64, f64>, Box<dyn std::error::Error>> {
    let idx = t.arch_indices()?;
    let col = t.feature(name)?;
    Ok(idx
        .into_iter()
        .zip(col)
        .filter_map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| (i, v)))
        .collect())
}

/// The proxy configuration (batch size, seed, data…) stored with one of our tables; `null`
/// fields where the table has none.
fn proxy_config(t: &ProxyTable) -> serde_json::Value {
    serde_json::to_value(t.config.as_ref().map(|m| &m.config)).unwrap_or_default()
}

/// Pairs of values on the archs both maps have, in arch order.
fn paired(a: &HashMap<i64, f64>, b: &HashMap<i64, f64>) -> (Vec<f64>, Vec<f64>) {
    let mut keys: Vec<i64> = a.keys().filter(|k| b.contains_key(k)).copied().collect();
    keys.sort_unstable();
    keys.iter().map(|k| (a[k], b[k])).unzip()
}

fn rho(a: &HashMap<i64, f64>, b: &HashMap<i64, f64>) -> (usize, f64) {
    let (x, y) = paired(a, b);
    (x.len(), spearman(&x, &y))
}

fn fmt(n: usize, r: f64) -> String {
    if n < 3 || !r.is_finite() {
        "–".into()
    } else {
        format!("{r:+.3}")
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: compare_suite_zero SHARED_DATA_DIR OUR_TABLE.parquet [MORE.parquet…] \
                 [--seeds A.parquet B.parquet]";
    let seeds = match args.iter().position(|a| a == "--seeds") {
        Some(p) if args.len() == p + 3 => {
            let pair = (args[p + 1].clone(), args[p + 2].clone());
            args.truncate(p);
            Some(pair)
        }
        Some(_) => return Err(usage.into()),
        None => None,
    };
    let Some((data, tables)) = args.split_first().filter(|(_, t)| !t.is_empty()) else {
        return Err(usage.into());
    };
    let data = PathBuf::from(data);
    let sz_path = data.join("zc_nasbench_suite_zero/nb201_cifar10_zc_proxies_joined.csv");
    let sz = read_suite_zero_csv(&sz_path, None)?;
    let labels = read_tss_label_csv(&data.join("nats_tss/nats_tss_test_acc_hp200.csv"))?;
    let acc: HashMap<i64, f64> = labels
        .rows()?
        .into_iter()
        .filter(|r| r.dataset == greenfactory::space::NatsDataset::Cifar10)
        .filter_map(|r| Some((r.arch_index, r.test_acc.filter(|a| a.is_finite())?)))
        .collect();
    println!("# Our proxies vs NAS-Bench-Suite-Zero (TSS, CIFAR-10)\n");
    let seeds_args = seeds
        .as_ref()
        .map_or(String::new(), |(a, b)| format!(" --seeds {a} {b}"));
    println!(
        "Made by `cargo run --example compare_suite_zero -- ../shared/data {}{seeds_args}`. Accuracy: NATS-Bench CIFAR-10 test accuracy, hp 200 (`nats_tss/nats_tss_test_acc_hp200.csv`). ρ is Spearman's. \"Shared\" columns use only the archs that have both our value and Suite-Zero's (n), so ours − Suite-Zero compares the two on identical archs; §6b is Suite-Zero on all its 9,445 archs (PROVENANCE.md).",
        tables.join(" ")
    );
    for table in tables {
        section(table, &sz, &acc)?;
    }
    if let Some((a, b)) = seeds {
        seed_section(&a, &b, &acc)?;
    }
    Ok(())
}

/// ρ between two tables of the same archs made with different run seeds, per proxy.
fn seed_section(
    a: &str,
    b: &str,
    acc: &HashMap<i64, f64>,
) -> Result<(), Box<dyn std::error::Error>> {
    let (ta, tb) = (read_proxies(a.as_ref())?, read_proxies(b.as_ref())?);
    if ta.arch_indices()? != tb.arch_indices()? {
        return Err(format!("--seeds: {a} and {b} do not hold the same archs").into());
    }
    println!(
        "\n## Two initialisations: `{a}` (seed {}) vs `{b}` (seed {})\n",
        proxy_config(&ta)["seed"],
        proxy_config(&tb)["seed"]
    );
    println!("| proxy | n | ρ(seed A, seed B) | ρ(A, acc) | ρ(B, acc) |");
    println!("|---|---|---|---|---|");
    for name in ta.feature_names() {
        if !tb.feature_names().contains(&name) {
            continue;
        }
        let (oa, ob) = (by_arch(&ta, &name)?, by_arch(&tb, &name)?);
        let (n, r) = rho(&oa, &ob);
        let (na, ra) = rho(&oa, acc);
        let (nb, rb) = rho(&ob, acc);
        println!(
            "| {name} | {n} | {} | {} | {} |",
            fmt(n, r),
            fmt(na, ra),
            fmt(nb, rb)
        );
    }
    Ok(())
}

fn section(
    table: &str,
    sz: &ProxyTable,
    acc: &HashMap<i64, f64>,
) -> Result<(), Box<dyn std::error::Error>> {
    let ours = read_proxies(table.as_ref())?;
    let datasets = ours.datasets()?;
    if datasets != ["cifar10"] {
        return Err(format!("{table}: expected a CIFAR-10 table, found {datasets:?}").into());
    }
    let config = proxy_config(&ours);
    let ours_idx = ours.arch_indices()?;
    let sz_idx: std::collections::HashSet<i64> = sz.arch_indices()?.into_iter().collect();
    let shared = ours_idx.iter().filter(|i| sz_idx.contains(i)).count();
    let sz_names = sz.feature_names();
    println!(
        "\n## `{table}`\n\n{} archs, {shared} of them among Suite-Zero's; batch {}, data {}.\n",
        ours_idx.len(),
        config["batch_size"],
        config["data"]
    );
    println!("| proxy | n shared | ρ(ours, Suite-Zero) | ρ(ours, acc) shared | ρ(Suite-Zero, acc) shared | ours − Suite-Zero | ρ(ours, acc) all rows (n) | §6b |");
    println!("|---|---|---|---|---|---|---|---|");
    for name in ours.feature_names() {
        let o = by_arch(&ours, &name)?;
        let (n_acc, r_acc) = rho(&o, acc);
        let all = format!("{} ({n_acc})", fmt(n_acc, r_acc));
        if !sz_names.contains(&name) {
            println!("| {name} | – | – | – | – | – | {all} | – |");
            continue;
        }
        let s = by_arch(sz, &name)?;
        let (n, r_sz) = rho(&o, &s);
        // Both sides' correlation with accuracy on exactly the archs both have.
        let keep = |m: &HashMap<i64, f64>, other: &HashMap<i64, f64>| -> HashMap<i64, f64> {
            m.iter()
                .filter(|(k, _)| other.contains_key(k))
                .map(|(k, v)| (*k, *v))
                .collect()
        };
        let (_, r_o) = rho(&keep(&o, &s), acc);
        let (_, r_s) = rho(&keep(&s, &o), acc);
        let (n_all, r_all) = rho(&s, acc);
        println!(
            "| {name} | {n} | {} | {} | {} | {} | {all} | {} |",
            fmt(n, r_sz),
            fmt(n, r_o),
            fmt(n, r_s),
            fmt(n, r_o - r_s),
            fmt(n_all, r_all),
        );
    }
    // params/flops: exact equality (params) and the NASLib FLOP convention (see tests/net.rs).
    for name in ["params", "flops"] {
        if !sz_names.iter().any(|c| c == name) || !ours.feature_names().iter().any(|c| c == name) {
            continue;
        }
        let (a, b) = paired(&by_arch(&ours, name)?, &by_arch(sz, name)?);
        let max_abs = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        println!(
            "\n{name}: max |ours − Suite-Zero| over {} shared archs = {max_abs:.6}",
            a.len()
        );
    }
    Ok(())
}
