//! `extract`: deterministic whatever the workers, resumable after SIGKILL with an identical
//! table, refuses a different configuration, records failures per row.
#![cfg(feature = "cli")]
mod common;

use greenfactory::table;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROXIES: &str = "params,flops,grad_norm,snip,plain";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_greenfactory")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gf-extract-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn args<'a>(out: &'a Path, archs: &'a str, workers: &'a str) -> Vec<String> {
    [
        "extract",
        "--space",
        "tss",
        "--dataset",
        "cifar10",
        "--archs",
        archs,
        "--proxies",
        PROXIES,
        "--device",
        "cpu",
        "--batch-size",
        "8",
        "--chunk-size",
        "2",
        "--workers",
        workers,
        "--quiet",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

fn run_ok(a: &[String]) {
    let o = Command::new(bin()).args(a).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `extract` with `a` fails and its message contains every one of `want`.
fn run_refused(a: &[String], want: &[&str]) {
    let o = Command::new(bin()).args(a).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "should be refused: {err}");
    for w in want {
        assert!(err.contains(w), "{w:?} not in: {err}");
    }
}

/// The table's rows as text (values printed exactly), in file order.
fn dump(path: &Path) -> Vec<String> {
    let t = table::read_proxies(path).unwrap();
    let df = t.frame();
    (0..df.height())
        .map(|i| format!("{:?}", df.get(i).unwrap()))
        .collect()
}

#[test]
fn same_table_whatever_the_workers() {
    let d = tmp("workers");
    let (a, b, c) = (
        d.join("a.parquet"),
        d.join("b.parquet"),
        d.join("c.parquet"),
    );
    run_ok(&args(&a, "sample:8:3", "1"));
    run_ok(&args(&b, "sample:8:3", "2"));
    run_ok(&args(&c, "sample:8:3", "auto"));
    let (ra, rb) = (dump(&a), dump(&b));
    assert_eq!(ra.len(), 8);
    assert_eq!(ra, rb);
    assert_eq!(ra, dump(&c));
    // Finished table + same command: nothing to do. Different configuration: refused.
    run_ok(&args(&a, "sample:8:3", "1"));
    let mut other = args(&a, "sample:8:3", "1");
    let pos = other.iter().position(|x| x == "8").unwrap();
    other[pos] = "16".into();
    run_refused(&other, &["different proxy configuration"]);
}

/// Starts `extract` with `a` and SIGKILLs it as soon as `n` (but not all) chunks are in `parts`.
fn kill_after_chunks(a: &[String], parts: &Path, n: usize) {
    let mut child = Command::new(bin())
        .args(a)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        let done = std::fs::read_dir(parts)
            .map(|r| {
                r.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
                    .count()
            })
            .unwrap_or(0);
        if done >= n || t0.elapsed() > Duration::from_secs(120) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

#[test]
fn sigkill_then_resume_gives_the_uninterrupted_table() {
    let d = tmp("resume");
    let (full, killed) = (d.join("full.parquet"), d.join("killed.parquet"));
    run_ok(&args(&full, "range:100..112", "1"));
    let parts = d.join("killed.parquet.parts");
    kill_after_chunks(&args(&killed, "range:100..112", "1"), &parts, 2);
    assert!(
        !killed.exists(),
        "the run was killed before it could finish"
    );
    // Chunk files only: the killed run's lock (a dead process id) is taken over by the next.
    let chunks = |p: &Path| {
        std::fs::read_dir(p)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
            .count()
    };
    let chunks_before = chunks(&parts);
    assert!(chunks_before >= 2);
    // A different configuration onto the half-done folder is refused and changes nothing.
    let mut other = args(&killed, "range:100..112", "1");
    let pos = other.iter().position(|x| x == "8").unwrap();
    other[pos] = "16".into();
    run_refused(&other, &["different proxy configuration"]);
    assert_eq!(chunks(&parts), chunks_before);
    run_ok(&args(&killed, "range:100..112", "1"));
    assert!(!parts.exists(), "work folder removed once complete");
    assert_eq!(dump(&full), dump(&killed));
}

#[test]
fn failing_archs_are_recorded_and_the_run_goes_on() {
    // An all-none cell has no gradient path: proxies are 0 or undefined, never a crash.
    let d = tmp("fail");
    let list = d.join("archs.txt");
    std::fs::write(
        &list,
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\n|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|\n0\n",
    )
    .unwrap();
    let out = d.join("t.parquet");
    let spec = format!("file:{}", list.display());
    run_ok(&args(&out, &spec, "1"));
    let t = table::read_proxies(&out).unwrap();
    assert_eq!(t.frame().height(), 3);
    let status = t.frame().column("status").unwrap();
    assert_eq!(status.len(), 3);
}

#[test]
fn a_run_begun_on_another_device_is_finished_only_when_asked() {
    let d = tmp("device");
    let (full, moved) = (d.join("full.parquet"), d.join("moved.parquet"));
    run_ok(&args(&full, "range:200..208", "1"));
    let parts = d.join("moved.parquet.parts");
    kill_after_chunks(&args(&moved, "range:200..208", "1"), &parts, 1);
    assert!(!moved.exists(), "the run was killed before it could finish");
    // Make the half-done folder look like a GPU run (chunks are device-independent JSON).
    let mpath = parts.join("manifest.json");
    let text = std::fs::read_to_string(&mpath).unwrap();
    assert!(text.contains("\"device_kind\": \"cpu\""), "{text}");
    std::fs::write(
        &mpath,
        text.replace("\"device_kind\": \"cpu\"", "\"device_kind\": \"cuda\""),
    )
    .unwrap();
    run_refused(
        &args(&moved, "range:200..208", "1"),
        &["device kind", "--allow-device-change"],
    );
    let mut allow = args(&moved, "range:200..208", "1");
    allow.push("--allow-device-change".into());
    run_ok(&allow);
    assert_eq!(dump(&full), dump(&moved));
    let config = table::read_proxies(&moved).unwrap().config.unwrap();
    assert_eq!(config.device_kind.to_string(), "cuda+cpu");
    // Complete now; asking again is a no-op, and without the flag still a refusal.
    run_ok(&allow);
    run_refused(&args(&moved, "range:200..208", "1"), &["device kind"]);
}

/// A class representative (arch 0) and a member of its class (3599) of the shipped complete
/// CIFAR-10 table `file`, re-extracted with the defaults and `proxies` (None: the default
/// vector), match every value (1e-3 relative: other CPUs round differently). Returns the table's
/// column names.
fn assert_shipped_rows_reproduced(file: &str, proxies: Option<&str>) -> Vec<String> {
    let shipped_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets")
        .join(file);
    let shipped = table::read_proxies(&shipped_path).unwrap();
    let indices = shipped.arch_indices().unwrap();
    let picked = [0_i64, 3599];
    let rows: Vec<usize> = picked
        .iter()
        .map(|i| indices.iter().position(|x| x == i).unwrap())
        .collect();
    let d = tmp(file);
    let list = d.join("archs.txt");
    std::fs::write(&list, "0\n3599\n").unwrap();
    let out = d.join("again.parquet");
    let spec = format!("file:{}", list.display());
    let mut a: Vec<String> = [
        "extract",
        "--space",
        "tss",
        "--dataset",
        "cifar10",
        "--archs",
        &spec,
        "--device",
        "cpu",
        "--workers",
        "1",
        "--quiet",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect();
    if let Some(p) = proxies {
        a.extend(["--proxies".to_string(), p.to_string()]);
    }
    run_ok(&a);
    let again = table::read_proxies(&out).unwrap();
    assert_eq!(again.arch_indices().unwrap(), picked);
    let names = shipped.feature_names();
    assert_eq!(names, again.feature_names());
    let mut differ = Vec::new();
    for name in &names {
        let (old, new) = (shipped.feature(name).unwrap(), again.feature(name).unwrap());
        for (k, &i) in rows.iter().enumerate() {
            let (o, n) = (old[i].unwrap(), new[k].unwrap());
            let rel = (o - n).abs() / o.abs().max(1e-300);
            if !(rel <= 1e-3 || o == n) {
                differ.push(format!(
                    "{name} of arch {}: shipped {o:e}, now {n:e} (relative {rel:.1e})",
                    indices[i]
                ));
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    names
}

/// The shipped complete CIFAR-10 table is what this engine computes with the default vector.
#[test]
fn shipped_cpu_table_is_reproduced_by_this_engine() {
    let names = assert_shipped_rows_reproduced("tss_cifar10_all.parquet", None);
    let default: Vec<String> =
        greenfactory::proxy::default_proxies_for(greenfactory::space::Space::Tss)
            .iter()
            .map(|p| p.name().to_string())
            .collect();
    assert_eq!(names, default);
}

/// The complete extraction of the shipped evolved TSS CIFAR-10 formulas is what extracting them
/// by name computes, and it ranks the 15,284 live cells at the README's τ (0.809, both).
#[test]
fn shipped_evolved_table_is_reproduced_and_ranks_as_the_readme_says() {
    let file = "tss_cifar10_all_evolved.parquet";
    let shipped = std::fs::read_to_string("models/evolved_proxies.txt").unwrap();
    let formulas: Vec<String> = greenfactory::formula::parse_formula_lines(&shipped)
        .unwrap()
        .iter()
        .map(|f| f.to_string())
        .collect();
    let names = assert_shipped_rows_reproduced(file, Some(&formulas[..2].join(",")));
    assert_eq!(names, formulas[..2]);
    let labels = common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv");
    let o = Command::new(bin())
        .args(["correlate", "--dataset", "cifar10", "--features"])
        .arg(Path::new("datasets").join(file))
        .arg("--labels")
        .arg(&labels)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    for f in &formulas[..2] {
        let row = out
            .lines()
            .find(|l| l.ends_with(f))
            .unwrap_or_else(|| panic!("{out}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[..3], ["0.809", "15284", "0"], "{row}");
    }
}

/// Extractions of two halves of an arch list, given to `evaluate` as two `--features`, are the
/// extraction of the whole list: the same join and the same metrics, to the last digit. A table
/// made with another configuration is refused, and the same table twice is a duplicate.
#[test]
fn two_tables_evaluate_as_their_union() {
    let d = tmp("union");
    let (a, b, whole, other) = (
        d.join("a.parquet"),
        d.join("b.parquet"),
        d.join("whole.parquet"),
        d.join("other.parquet"),
    );
    run_ok(&args(&a, "range:0..10", "1"));
    run_ok(&args(&b, "range:10..20", "1"));
    run_ok(&args(&whole, "range:0..20", "1"));
    let labels = common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv");
    let evaluate = |features: &[&Path]| {
        let mut a: Vec<String> = vec!["evaluate".into()];
        for f in features {
            a.extend(["--features".into(), f.display().to_string()]);
        }
        a.extend(
            [
                "--labels",
                &labels.display().to_string(),
                "--dataset",
                "cifar10",
                "--train-frac",
                "0.5",
                "--repeats",
                "2",
                "--n-trees",
                "10",
            ]
            .map(String::from),
        );
        Command::new(bin()).args(&a).output().unwrap()
    };
    let (halves, full) = (evaluate(&[&a, &b]), evaluate(&[&whole]));
    assert!(
        halves.status.success(),
        "{}",
        String::from_utf8_lossy(&halves.stderr)
    );
    assert_eq!(halves.stdout, full.stdout);
    let report = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .find(|l| l.starts_with("joined"))
            .map(str::to_string)
    };
    assert_eq!(report(&halves), report(&full));
    assert!(report(&full).unwrap().starts_with("joined 20 cifar10 rows"));

    let mut bigger = args(&other, "range:20..24", "1");
    let pos = bigger.iter().position(|x| x == "8").unwrap();
    bigger[pos] = "16".into();
    run_ok(&bigger);
    let o = evaluate(&[&a, &other]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("different proxy configuration"),
        "{err}"
    );
    let o = evaluate(&[&a, &a]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("duplicate arch"),
        "{err}"
    );
}

/// `--isomorphic share`: one full vector per isomorphism class, computed on its lowest-index
/// member; the other members carry its data-dependent values and their own static ones. Archs
/// 0, 3599, 4980 form one NATS-Bench class (its `unique_str` in the label CSV), 3, 25, 72
/// another.
#[test]
fn isomorphic_archs_share_their_representatives_values() {
    let d = tmp("iso");
    let list = d.join("archs.txt");
    std::fs::write(&list, "3599\n25\n0\n72\n4980\n3\n").unwrap();
    let spec = format!("file:{}", list.display());
    let with = |out: &Path, mode: &str| {
        let mut a = args(out, &spec, "2");
        let pos = a.iter().position(|x| x == PROXIES).unwrap();
        a[pos] = "params,op_conv3x3,nwot,jacov".into();
        a.extend(["--isomorphic".into(), mode.into()]);
        a
    };
    let (share, each) = (d.join("share.parquet"), d.join("each.parquet"));
    run_ok(&with(&share, "share"));
    run_ok(&with(&each, "each"));
    let value = |path: &Path, col: &str| -> Vec<(i64, Option<f64>)> {
        let t = table::read_proxies(path).unwrap();
        t.arch_indices()
            .unwrap()
            .into_iter()
            .zip(t.feature(col).unwrap())
            .collect()
    };
    let rep = |i: i64| if [0, 3599, 4980].contains(&i) { 0 } else { 3 };
    for col in ["nwot", "jacov"] {
        let each_v: std::collections::HashMap<i64, Option<f64>> =
            value(&each, col).into_iter().collect();
        let shared = value(&share, col);
        assert_eq!(shared.len(), 6);
        for (i, v) in shared {
            assert_eq!(v, each_v[&rep(i)], "{col} of arch {i}");
        }
        // The classes' members really differ when computed on their own.
        assert_ne!(each_v[&3599], each_v[&0], "{col}");
    }
    for col in ["params", "op_conv3x3"] {
        assert_eq!(value(&share, col), value(&each, col), "{col}");
    }
    // The run record says how the table was made.
    let record: greenfactory::extract::RunRecord = serde_json::from_slice(
        &std::fs::read(greenfactory::extract::run_record_path(&share)).unwrap(),
    )
    .unwrap();
    assert_eq!((record.archs, record.computed_vectors), (6, 2));
    assert!(record.config.share_isomorphic);
    assert!(record.wall_seconds > 0.0 && !record.cpu_model.is_empty());
}

#[test]
fn a_sample_larger_than_the_space_is_refused() {
    let d = tmp("sample");
    run_refused(
        &args(&d.join("t.parquet"), "sample:99999999", "1"),
        &["N must be 1 to 15625"],
    );
}

/// `--shard K/N` jobs combined give the table of the unsharded run: rows, values and manifest.
#[test]
fn shards_combine_into_the_unsharded_table() {
    let d = tmp("shards");
    // Archs 0, 3599 and 4980 are one isomorphism class, 3, 25 and 72 another, 97 and 284 a
    // third: a class is never split between shards (work units 0, 1, 2 → shards of 3, 3, 2).
    let list = d.join("archs.txt");
    std::fs::write(&list, "3599\n25\n0\n72\n4980\n3\n97\n284\n").unwrap();
    let spec = format!("file:{}", list.display());
    let whole = d.join("whole.parquet");
    run_ok(&args(&whole, &spec, "1"));
    let mut shards = Vec::new();
    for k in 0..3 {
        let out = d.join(format!("shard{k}.parquet"));
        let mut a = args(&out, &spec, "1");
        a.extend(["--shard".into(), format!("{k}/3")]);
        run_ok(&a);
        shards.push(out);
    }
    let sizes: Vec<usize> = shards
        .iter()
        .map(|s| table::read_proxies(s).unwrap().height())
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 8);
    assert_eq!(sizes, [3, 3, 2]);
    let combined = d.join("combined.parquet");
    let combine = |out: &Path, parts: &[&PathBuf]| {
        let mut c = Command::new(bin());
        c.arg("combine").arg("--out").arg(out);
        for p in parts {
            c.arg(p);
        }
        c.output().unwrap()
    };
    let o = combine(&combined, &[&shards[2], &shards[0], &shards[1]]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(dump(&combined), dump(&whole));
    assert_eq!(
        table::read_proxies(&combined).unwrap().config,
        table::read_proxies(&whole).unwrap().config
    );
    let o = combine(&d.join("two.parquet"), &[&shards[0], &shards[1]]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("shard 2/3 is missing"),
        "{err}"
    );
    let o = combine(
        &d.join("dup.parquet"),
        &[&shards[0], &shards[0], &shards[1]],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("given twice"), "{err}");
    // A table that is not an extraction, and a shard file that is not there, are named as such.
    let plain = d.join("plain.parquet");
    let mut t = table::read_proxies(&whole).unwrap();
    t.config = None;
    table::write_proxies(&t, &plain).unwrap();
    let o = combine(&d.join("plain-out.parquet"), &[&plain, &shards[1]]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("plain.parquet is not a greenfactory extraction"),
        "{err}"
    );
    let gone = d.join("gone.parquet");
    let o = combine(&d.join("gone-out.parquet"), &[&gone, &shards[1]]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("gone.parquet") && !err.contains("exists"),
        "{err}"
    );
}

/// A second writer of the same table is refused while the first runs (its process id is in
/// `OUT.parts/lock`); the lock of a run that was killed is taken over and the table made.
#[test]
fn a_second_writer_is_refused_and_a_dead_writers_lock_is_taken_over() {
    let d = tmp("lock");
    let out = d.join("t.parquet");
    let a = args(&out, "range:0..4", "1");
    let parts = PathBuf::from(format!("{}.parts", out.display()));
    std::fs::create_dir_all(&parts).unwrap();
    // This test process is alive: it holds the lock.
    std::fs::write(parts.join("lock"), std::process::id().to_string()).unwrap();
    run_refused(
        &a,
        &[
            "is being extracted by process",
            &std::process::id().to_string(),
        ],
    );
    assert!(!out.exists());
    // No process has this id (Linux pids stay below 2^22).
    std::fs::write(parts.join("lock"), "2147480000").unwrap();
    run_ok(&a);
    assert_eq!(table::read_proxies(&out).unwrap().height(), 4);
    assert!(!parts.exists(), "the work folder is removed with its lock");
}
