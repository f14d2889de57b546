//! The evolution of proxy formulas on labels whose best formula is known: each arch's parameter
//! count, which `layer_sum(size(W))` (the conv and linear weights, all but BN and biases) ranks
//! almost exactly. Determinism per seed, resume from a checkpoint (library and a killed CLI
//! run), and bad input. Runs without ../shared/data (synthetic batch).
#![cfg(feature = "torch")]

use greenfactory::data::DataSource;
use greenfactory::evolve::{evolve, EvolveError, EvolveSettings, Progress, SampleSpec};
use greenfactory::net::Network;
use greenfactory::proxy::{Engine, ProxyConfig};
use greenfactory::space::{NatsDataset, Space};
use std::collections::HashMap;
use tch::Device;

fn engine() -> Engine {
    let config = ProxyConfig {
        batch_size: 4,
        data: DataSource::Synthetic { seed: 0 },
        share_isomorphic: false,
        ..ProxyConfig::default()
    };
    Engine::new(Vec::new(), config, NatsDataset::Cifar10, Device::Cpu).unwrap()
}

/// Parameter counts (M) of 400 random TSS archs.
fn params_labels() -> HashMap<usize, f64> {
    Space::Tss
        .sample_indices(400, 5)
        .into_iter()
        .map(|i| {
            let arch = Space::Tss.arch(i).unwrap();
            (
                i,
                Network::new(arch.graph(NatsDataset::Cifar10))
                    .unwrap()
                    .params_m(),
            )
        })
        .collect()
}

fn settings() -> EvolveSettings {
    EvolveSettings {
        sample: SampleSpec::Stratified(40),
        holdout: 30,
        population: 24,
        generations: 4,
        seed: 3,
        elements: 64,
        report: 3,
        ..EvolveSettings::new(Space::Tss, NatsDataset::Cifar10)
    }
}

#[test]
fn evolution_finds_the_parameter_count_deterministically_and_resumes() {
    let (e, labels) = (engine(), params_labels());
    let quiet = &mut |_: Progress| {};
    let a = evolve(&e, &labels, "params", &settings(), None, quiet).unwrap();
    let best = &a.best[0];
    assert!(best.fitness > 0.95, "{best:?}");
    assert!(
        best.tau_random > 0.9 && best.tau_stratified > 0.9,
        "{best:?}"
    );
    assert_eq!(a.best.len(), 3);
    assert!(a.cache_bytes > 0 && a.history.len() == 4);
    // Held-out archs are never in the fitness sample.
    for i in a.holdout_archs.0.iter().chain(&a.holdout_archs.1) {
        assert!(!a.fitness_archs.contains(i));
    }
    // Same seed, same run.
    let b = evolve(&e, &labels, "params", &settings(), None, quiet).unwrap();
    assert_eq!(a.history, b.history);
    assert_eq!(
        a.best
            .iter()
            .map(|h| (&h.formula, h.tau_random))
            .collect::<Vec<_>>(),
        b.best
            .iter()
            .map(|h| (&h.formula, h.tau_random))
            .collect::<Vec<_>>()
    );
    // Stopped after 2 generations, then resumed to 4: the uninterrupted run's result.
    let dir = std::env::temp_dir().join(format!("gf-evolve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cp = dir.join("run.checkpoint");
    let _ = std::fs::remove_file(&cp);
    let two = EvolveSettings {
        generations: 2,
        ..settings()
    };
    evolve(&e, &labels, "params", &two, Some(&cp), quiet).unwrap();
    let resumed = evolve(&e, &labels, "params", &settings(), Some(&cp), quiet).unwrap();
    assert_eq!(resumed.resumed_at, 2);
    assert_eq!(resumed.history, a.history);
    assert_eq!(resumed.best[0].formula, a.best[0].formula);
    // A checkpoint of other settings is refused.
    let other = EvolveSettings {
        population: 30,
        ..settings()
    };
    let err = evolve(&e, &labels, "params", &other, Some(&cp), quiet).unwrap_err();
    assert!(matches!(err, EvolveError::OtherRun { .. }), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// τ with `labels` of `formula` as `extract` computes it by name on `archs` (each arch on its
/// own network, as the held-out engines compute it; the test engine's synthetic batch of 4).
fn extracted_tau(formula: &str, archs: &[usize], labels: &HashMap<usize, f64>) -> f64 {
    let dir = std::env::temp_dir().join(format!(
        "gf-evolve-extract-{}-{}",
        std::process::id(),
        formula.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let list = dir.join("held_out.txt");
    let text: String = archs.iter().map(|i| format!("{i}\n")).collect();
    std::fs::write(&list, text).unwrap();
    let table = dir.join("t.parquet");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_greenfactory"))
        .args(["extract", "--space", "tss", "--dataset", "cifar10"])
        .args([
            "--data",
            "synthetic",
            "--batch-size",
            "4",
            "--isomorphic",
            "each",
        ])
        .args(["--device", "cpu", "--quiet", "--proxies", formula])
        .arg(format!("--archs=file:{}", list.display()))
        .arg("--out")
        .arg(&table)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = greenfactory::table::read_proxies(&table).unwrap();
    let indices = t.arch_indices().unwrap();
    assert_eq!(indices.len(), archs.len());
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (i, v) in indices.iter().zip(t.feature(formula).unwrap()) {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            x.push(v);
            y.push(labels[&(*i as usize)]);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    greenfactory::forest::kendall_tau_b(&x, &y)
}

/// The held-out τ `evolve` reports is what `extract` of the formula by name gives on the same
/// archs: for the run's best formula, and for a data-dependent one (the shipped CIFAR-10
/// formula: gradients and their channel correlation) scored by `held_out` on 2 workers.
#[test]
fn extracting_a_formula_by_name_reproduces_its_held_out_tau() {
    let (e, labels) = (engine(), params_labels());
    let s = EvolveSettings {
        generations: 2,
        report: 1,
        ..settings()
    };
    let outcome = evolve(&e, &labels, "params", &s, None, &mut |_: Progress| {}).unwrap();
    let (random, stratified) = &outcome.holdout_archs;
    let best = &outcome.best[0];
    assert_eq!(
        extracted_tau(&best.formula, random, &labels),
        best.tau_random
    );
    let shipped = "layer_sum(mul(norm(log(G)),mineig(GZ)))".to_string();
    let quiet = &mut |_: Progress| {};
    let (scored, _) = greenfactory::evolve::held_out(
        &e,
        2,
        Space::Tss,
        std::slice::from_ref(&shipped),
        [random, stratified],
        &labels,
        quiet,
    )
    .unwrap();
    assert_eq!(scored[0].missing, 0);
    assert_eq!(
        extracted_tau(&shipped, random, &labels),
        scored[0].tau_random
    );
    assert_eq!(
        extracted_tau(&shipped, stratified, &labels),
        scored[0].tau_stratified
    );
}

/// Start formulas open the first generation: started from the formula that ranks the labels
/// best, generation 1's best is that formula, where a random first generation's is not; a
/// checkpoint of a started run is refused by a run started otherwise.
#[test]
fn a_run_started_from_formulas_keeps_them_and_its_own_checkpoint() {
    let (e, labels) = (engine(), params_labels());
    let quiet = &mut |_: Progress| {};
    let one = EvolveSettings {
        generations: 1,
        report: 1,
        ..settings()
    };
    let size: greenfactory::formula::Formula = "layer_sum(size(W))".parse().unwrap();
    let random = evolve(&e, &labels, "params", &one, None, quiet).unwrap();
    assert_ne!(random.history[0].best.formula, size.to_string());
    let started = EvolveSettings {
        start: vec![size.clone()],
        ..one.clone()
    };
    let run = evolve(&e, &labels, "params", &started, None, quiet).unwrap();
    assert_eq!(run.history[0].best.formula, size.to_string());
    assert!(run.history[0].best.fitness > random.history[0].best.fitness);
    // Resuming needs the same start.
    let dir = std::env::temp_dir().join(format!("gf-evolve-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cp = dir.join("run.checkpoint");
    let _ = std::fs::remove_file(&cp);
    evolve(&e, &labels, "params", &started, Some(&cp), quiet).unwrap();
    let err = evolve(&e, &labels, "params", &one, Some(&cp), quiet).unwrap_err();
    assert!(matches!(err, EvolveError::OtherRun { .. }), "{err}");
    let more = EvolveSettings {
        generations: 2,
        ..started
    };
    assert_eq!(
        evolve(&e, &labels, "params", &more, Some(&cp), quiet)
            .unwrap()
            .resumed_at,
        1
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_settings_are_one_line_errors() {
    let (e, labels) = (engine(), params_labels());
    let quiet = &mut |_: Progress| {};
    for (s, want) in [
        (
            EvolveSettings {
                population: 0,
                ..settings()
            },
            "population of 0",
        ),
        (
            EvolveSettings {
                sample: SampleSpec::Random(5000),
                ..settings()
            },
            "labelled live archs",
        ),
        (
            EvolveSettings {
                elements: 0,
                ..settings()
            },
            "0 elements",
        ),
        (
            EvolveSettings {
                start: vec!["layer_sum(mul(norm(log(G)),mineig(GZ)))".parse().unwrap()],
                limits: greenfactory::evolve::gp::Limits {
                    max_size: 5,
                    ..settings().limits
                },
                ..settings()
            },
            "beyond the limits",
        ),
    ] {
        let err = evolve(&e, &labels, "params", &s, None, quiet)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{err}");
        assert_eq!(err.lines().count(), 1);
    }
    for bad in ["random", "stratified:x", "uniform:10", "random:1"] {
        assert!(bad.parse::<SampleSpec>().is_err(), "{bad}");
    }
    assert_eq!(
        "stratified:300".parse::<SampleSpec>(),
        Ok(SampleSpec::Stratified(300))
    );
}

/// The formula lines and τ of an output file (its cost lines hold timings).
fn results(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("# cost") && !l.starts_with("# command"))
        .map(|l| l.split("; own").next().unwrap().to_string())
        .collect()
}

/// A fresh temporary folder holding `params.csv`: the parameter counts of [`params_labels`] as a
/// user's label file (arch column `index`, label column `my_params`).
fn dir_with_params_csv(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("gf-evolve-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let labels = dir.join("params.csv");
    let mut csv = String::from("index,my_params\n");
    for (i, p) in params_labels() {
        csv += &format!("{i},{p}\n");
    }
    std::fs::write(&labels, csv).unwrap();
    (dir, labels)
}

#[test]
fn a_killed_cli_run_resumes_to_the_uninterrupted_result() {
    let (dir, labels) = dir_with_params_csv("cli");
    let run = |out: &std::path::Path| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_greenfactory"));
        c.args([
            "evolve",
            "--space",
            "tss",
            "--dataset",
            "cifar10",
            "--data",
            "synthetic",
        ])
        .args([
            "--batch-size",
            "4",
            "--sample",
            "random:30",
            "--holdout",
            "20",
        ])
        .args([
            "--population",
            "16",
            "--generations",
            "40",
            "--seed",
            "1",
            "--elements",
            "32",
        ])
        .arg("--labels")
        .arg(&labels)
        .args(["--target", "my_params", "--report", "2", "--device", "cpu"])
        .arg("--out")
        .arg(out);
        c
    };
    let whole = dir.join("whole.txt");
    let st = run(&whole).output().unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let killed = dir.join("killed.txt");
    let cp = dir.join("killed.txt.checkpoint");
    let mut child = run(&killed)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while !cp.exists() && t0.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!killed.exists(), "the run finished before it was killed");
    let st = run(&killed).output().unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(String::from_utf8_lossy(&st.stderr).contains("resuming from"));
    assert_eq!(results(&killed), results(&whole));
    assert!(!cp.exists(), "the checkpoint of a finished run is removed");
    // Nothing overwritten without --force.
    let st = run(&killed).output().unwrap();
    assert!(!st.status.success());
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(err.contains("exists: pass --force"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--from` names the file and the line of a formula it cannot parse, in one line, and refuses a
/// file without formulas, before any network is computed.
#[test]
fn a_bad_from_file_is_a_one_line_error() {
    let (dir, labels) = dir_with_params_csv("from");
    let run = |from: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_greenfactory"))
            .args(["evolve", "--space", "tss", "--dataset", "cifar10"])
            .args([
                "--data",
                "synthetic",
                "--device",
                "cpu",
                "--sample",
                "random:30",
            ])
            .args(["--target", "my_params", "--labels"])
            .arg(&labels)
            .arg("--from")
            .arg(from)
            .arg("--out")
            .arg(dir.join("out.txt"))
            .output()
            .unwrap()
    };
    let bad = dir.join("bad.txt");
    std::fs::write(
        &bad,
        "# shipped\nlayer_sum(size(W))\n\nlayer_sum(mul(W,frob(G)))\n",
    )
    .unwrap();
    let o = run(&bad);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let last = err.lines().last().unwrap();
    assert!(
        last.contains("bad.txt") && last.contains("line 4") && last.contains("frob"),
        "{err}"
    );
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "# only a comment\n\n").unwrap();
    let err = String::from_utf8_lossy(&run(&empty).stderr).to_string();
    assert!(err.contains("no formula in the file"), "{err}");
    assert!(!dir.join("out.txt").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
