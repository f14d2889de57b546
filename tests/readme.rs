//! The README's runnable block (fenced as `sh runnable`) runs as written from the repository
//! root, with this build's `greenfactory` first on PATH and `../shared/data` beside the repo.
#![cfg(feature = "cli")]
mod common;

use std::path::Path;
use std::process::Command;

/// The bodies of the README's code blocks whose info string is `sh runnable`.
fn runnable_blocks(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh runnable") => current = Some(String::new()),
            (Some(_), "```") => out.push(current.take().expect("open block")),
            (Some(body), l) => {
                body.push_str(l);
                body.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

#[test]
fn readme_runnable_blocks_run_as_written() {
    let _ = common::data_dir(); // the block reads ../shared/data: fail loudly without it
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = runnable_blocks(&readme);
    assert!(!blocks.is_empty(), "no `sh runnable` block in README.md");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_greenfactory"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for block in blocks {
        let o = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &block])
            .current_dir(root)
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "README block failed:\n{block}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("predicted"), "{out}");
    }
}
