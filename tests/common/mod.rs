//! Helpers shared by the integration tests: the real data lives in `../shared/data`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared/data` beside the checkout (CI lays `shared/` there too). Overridable with
/// `GREENFACTORY_DATA`. Tests fail loudly when it is missing: they assert on real data.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("GREENFACTORY_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    assert!(
        dir.join("PROVENANCE.md").exists(),
        "real data not found at {} (set GREENFACTORY_DATA)",
        dir.display()
    );
    dir
}

/// Reads a CSV file with a header into (header, rows); handles double-quoted fields.
pub fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = split_csv_line(lines.next().expect("header"));
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(split_csv_line)
        .collect();
    (header, rows)
}

pub fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    out.push(cur);
    out
}

/// Column position by name.
pub fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// The 13 proxies of the NAS-Bench-Suite-Zero joined CSVs (PROVENANCE.md §6b), in file order.
pub const SUITE_ZERO_PROXIES: [&str; 13] = [
    "epe_nas",
    "fisher",
    "flops",
    "grad_norm",
    "grasp",
    "jacov",
    "l2_norm",
    "nwot",
    "params",
    "plain",
    "snip",
    "synflow",
    "zen",
];

/// Runs the `greenfactory` binary with `args` and returns its output.
#[cfg(feature = "cli")]
pub fn gf(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_greenfactory"))
        .args(args)
        .output()
        .expect("runs")
}

/// Width and height from a PNG's signature and IHDR chunk; panics on anything else.
pub fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(b.len() > 33, "{}: {} bytes", path.display(), b.len());
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{}: not a PNG",
        path.display()
    );
    assert_eq!(
        &b[8..12],
        &13u32.to_be_bytes(),
        "{}: IHDR length",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR", "{}: first chunk", path.display());
    let be = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Bad input: non-zero exit, exactly one line on stderr starting with "error:" (and last), no
/// panic, and that line contains `want`.
pub fn assert_one_line_error(o: &std::process::Output, want: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "should fail: {err}");
    assert!(!err.contains("panicked"), "{err}");
    // Progress lines (e.g. the join report) may come first; the error is one last line.
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line expected: {err}");
    assert_eq!(err.lines().last(), Some(errors[0]), "{err}");
    assert!(errors[0].contains(want), "{err}");
}

/// Runs the greenfactory binary; (success, stdout, stderr).
pub fn run(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_greenfactory"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary and checks that it fails with one line containing `want`.
pub fn assert_refused(args: &[&str], want: &str) {
    let (ok, _, err) = run(args);
    assert!(
        !ok && err.lines().count() == 1 && err.contains(want),
        "{args:?}: {err}"
    );
}

/// The τ of `train`'s `held-out N rows: tau …` line in its stderr.
pub fn held_out_tau(err: &str) -> f64 {
    err.lines()
        .find(|l| l.starts_with("held-out"))
        .and_then(|l| l.split("tau ").nth(1))
        .and_then(|t| t.split_whitespace().next())
        .and_then(|t| t.trim_end_matches(',').parse().ok())
        .unwrap_or_else(|| panic!("{err}"))
}

/// The predicted accuracy (a percentage in 80–100) of the last CSV row of `predict`'s output.
pub fn predicted_accuracy(out: &str) -> f64 {
    out.lines()
        .last()
        .unwrap()
        .split(',')
        .find_map(|f| f.parse::<f64>().ok().filter(|v| (80.0..100.0).contains(v)))
        .unwrap_or_else(|| panic!("{out}"))
}

/// `correlate` refuses `labels` of another space for the shipped TSS table, in one line
/// containing `want` (e.g. "MACRO labels and no TSS labels").
pub fn assert_refused_for_tss_features(labels: &str, want: &str) {
    let tss = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/datasets/tss_cifar10_all.parquet"
    );
    assert_refused(
        &[
            "correlate",
            "--features",
            tss,
            "--labels",
            labels,
            "--dataset",
            "cifar10",
        ],
        want,
    );
}
