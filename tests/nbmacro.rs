//! NAS-Bench-Macro: the network of PROVENANCE §12 against the benchmark file (data tier), layer
//! shapes checked by hand, and the refusals that keep its labels and models in their space.
mod common;

use common::{assert_refused, run};
use greenfactory::graph::{NodeOp, Shape};
use greenfactory::space::{Arch, NatsDataset, Space, MACRO_SIZE};

fn macro_arch(s: &str) -> Arch {
    Space::Macro.parse(s).unwrap()
}

/// The benchmark's records: key → (params, flops).
fn benchmark() -> Vec<(String, u64, u64)> {
    let path = common::data_dir().join("nas_bench_macro/nas-bench-macro_cifar10.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, r)| {
            (
                k.clone(),
                r["params"].as_u64().unwrap(),
                r["flops"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn params_equal_the_benchmark_and_flops_differ_by_the_classifier_bias_for_all_6561_archs() {
    let records = benchmark();
    assert_eq!(records.len(), MACRO_SIZE);
    let mut keys = std::collections::HashSet::new();
    for (key, params, flops) in &records {
        let arch = macro_arch(key);
        assert_eq!(arch.to_string(), *key);
        keys.insert(arch.index());
        let g = arch.graph(NatsDataset::Cifar10);
        assert_eq!(g.param_count(), *params, "{key}");
        // The benchmark counts the classifier's 1280·10 multiply-accumulates but not its 10 bias
        // additions, which xautodl's rule (NATS-Bench's, ours) adds: +10 for every arch.
        assert_eq!(g.flop_count().unwrap(), flops + 10, "{key}");
    }
    assert_eq!(keys.len(), MACRO_SIZE);
}

/// (output shape, kernel, groups) of every conv of searched layer `layer`.
fn convs(arch: &str, layer: u32) -> Vec<(Shape, i64, i64)> {
    let g = macro_arch(arch).graph(NatsDataset::Cifar10);
    let shapes = g.shapes().unwrap();
    g.nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match &n.op {
            NodeOp::Conv(c) if g.params[c.weight].block == Some(layer) => {
                Some((shapes[i + 1], c.kernel, c.groups))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn layer_shapes_of_three_archs_by_hand() {
    // 12012201: layer 1 mb_k3e3 32→64 stride 2 at 32×32: expand to 96 at 32×32, depthwise 3×3
    // stride 2 to 16×16, project to 64.
    assert_eq!(
        convs("12012201", 0),
        [
            ([96, 32, 32], 1, 1),
            ([96, 16, 16], 3, 96),
            ([64, 16, 16], 1, 1)
        ]
    );
    // layer 2 mb_k5e6 64→64 at 16×16 (with the residual add).
    assert_eq!(
        convs("12012201", 1),
        [
            ([384, 16, 16], 1, 1),
            ([384, 16, 16], 5, 384),
            ([64, 16, 16], 1, 1)
        ]
    );
    // layer 3 identity 64→128 stride 2: a 1×1 projection to 8×8.
    assert_eq!(convs("12012201", 2), [([128, 8, 8], 1, 1)]);
    // 00000000: layer 7 identity 256→256 stride 1 has no conv; layer 6 projects to 4×4.
    assert_eq!(convs("00000000", 6), []);
    assert_eq!(convs("00000000", 5), [([256, 4, 4], 1, 1)]);
    // 22222222: layer 8 mb_k5e6 256→256 at 4×4: 1536 hidden channels.
    assert_eq!(
        convs("22222222", 7),
        [
            ([1536, 4, 4], 1, 1),
            ([1536, 4, 4], 5, 1536),
            ([256, 4, 4], 1, 1)
        ]
    );
    let g = macro_arch("22222222").graph(NatsDataset::Cifar10);
    assert_eq!(g.shapes().unwrap()[g.output], [10, 1, 1]);
    let adds = g.nodes.iter().filter(|n| n.op == NodeOp::Add).count();
    assert_eq!(adds, 5, "residuals on the five stride-1 layers");
}

#[test]
fn macro_is_cifar10_only_and_its_strings_parse_strictly() {
    assert!(Space::Macro.check_dataset(NatsDataset::Cifar10).is_ok());
    let e = Space::Macro
        .check_dataset(NatsDataset::Cifar100)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "macro networks are defined on cifar10, not cifar100");
    assert_eq!(Space::of_notation("12012201"), Some(Space::Macro));
    assert_eq!(Space::of_notation("8:16:24:32:40"), Some(Space::Sss));
    let e = Space::Macro.parse("1201220").unwrap_err().to_string();
    assert!(e.contains("expected 8 digits"), "{e}");
    assert_eq!(Space::Macro.arch(5043).unwrap().to_string(), "20220210");
}

fn labels_path() -> String {
    common::data_dir()
        .join("nas_bench_macro/nas-bench-macro_cifar10.json")
        .display()
        .to_string()
}

#[test]
fn the_benchmark_file_reads_as_labels_with_each_seed_as_a_target() {
    use greenfactory::provenance::{Accuracy, LabelKind};
    let labels = greenfactory::table::read_labels(labels_path().as_ref()).unwrap();
    assert_eq!(labels.height(), MACRO_SIZE);
    let kind = labels
        .default_kind(Space::Macro, NatsDataset::Cifar10)
        .unwrap();
    assert_eq!(kind, LabelKind::default_for(Space::Macro));
    let mean = labels
        .accuracies(Space::Macro, NatsDataset::Cifar10, &kind)
        .unwrap();
    // 00000000 (index 0): 45.32, 45.33, 45.44 → 45.363; 12012201: 91.457.
    assert!((mean[&0] - 45.36333).abs() < 1e-4);
    let i = macro_arch("12012201").index();
    assert!((mean[&i] - 91.45666).abs() < 1e-4);
    let seed1 = LabelKind::new(Accuracy::Own("test_acc_seed1".into()), None);
    let s1 = labels
        .accuracies(Space::Macro, NatsDataset::Cifar10, &seed1)
        .unwrap();
    assert!((s1[&i] - 91.32).abs() < 1e-4);
    // Macro labels are not TSS labels.
    let e = labels
        .accuracies(Space::Tss, NatsDataset::Cifar10, &kind)
        .unwrap_err()
        .to_string();
    assert!(e.contains("MACRO labels and no TSS labels"), "{e}");
}

#[test]
fn macro_archs_and_labels_stay_in_their_space_on_the_command_line() {
    // A Macro arch given to a TSS command, and Macro labels given for TSS features.
    assert_refused(
        &[
            "proxies", "--space", "tss", "--arch", "12012201", "--only", "params",
        ],
        "\"12012201\" is an arch of the macro space, not of tss",
    );
    common::assert_refused_for_tss_features(&labels_path(), "MACRO labels and no TSS labels");
    // Macro is CIFAR-10 only.
    assert_refused(
        &[
            "proxies",
            "--space",
            "macro",
            "--dataset",
            "cifar100",
            "--arch",
            "12012201",
            "--only",
            "params",
        ],
        "macro networks are defined on cifar10, not cifar100",
    );
    // The static proxies of one arch equal the benchmark's numbers.
    let (ok, out, err) = run(&[
        "proxies",
        "--space",
        "macro",
        "--arch",
        "12012201",
        "--only",
        "params,flops",
        "--format",
        "csv",
        "--device",
        "cpu",
    ]);
    assert!(ok, "{err}");
    let row = out.lines().nth(1).unwrap();
    assert!(row.contains("12012201") && row.contains("1.46753"), "{out}");
}

/// The shipped complete table: train, predict (proxies computed by the engine) and the
/// refusals, end to end on the command line.
#[test]
fn macro_trains_predicts_and_refuses_from_the_shipped_table() {
    let table = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/datasets/macro_cifar10_all.parquet"
    );
    let labels = labels_path();
    let dir = std::env::temp_dir().join(format!("gf-macro-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("m.gfm");
    let model = model.to_str().unwrap();
    // A missing --out folder is refused before any work, naming the user's path.
    let base = [
        "train",
        "--features",
        table,
        "--labels",
        &labels,
        "--dataset",
        "cifar10",
    ];
    assert_refused(
        &[&base[..], &["--out", "no_such_dir/x.gfm"]].concat(),
        "--out no_such_dir/x.gfm: no folder no_such_dir",
    );
    // A forest setting is refused in the flag's words, not the library's.
    let mut eval = base.to_vec();
    eval[0] = "evaluate";
    assert_refused(
        &[&eval[..], &["--threads", "0"]].concat(),
        "--threads: must be at least 1",
    );
    let (ok, _, err) = run(&[
        &base[..],
        &["--n-train", "300", "--cv", "0", "--out", model, "--force"],
    ]
    .concat());
    assert!(ok, "{err}");
    // held-out: the 6,261 archs the model did not see.
    let tau = common::held_out_tau(&err);
    assert!(tau > 0.8, "{err}");
    // One arch, its proxies computed here: the prediction is close to its true accuracy.
    let (ok, out, err) = run(&[
        "predict", "--model", model, "--arch", "12012201", "--device", "cpu", "--format", "csv",
    ]);
    assert!(ok, "{err}");
    let pred = common::predicted_accuracy(&out);
    assert!((pred - 91.46).abs() < 1.5, "{out}");
    // A TSS arch for a Macro model, and a Macro model asked for TSS.
    let (ok, _, err) = run(&["predict", "--model", model, "--arch", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"]);
    assert!(
        !ok && err.lines().count() == 1 && err.to_lowercase().contains("tss"),
        "{err}"
    );
    let (ok, _, err) = run(&["predict", "--model", model, "--space", "tss", "--arch", "1"]);
    assert!(!ok && err.contains("MACRO archs only"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// `search … --out F | head -1`: the file is written before stdout is, so a closed pipe does
/// not cost it; a missing --out folder is refused before the search.
#[test]
fn search_files_survive_a_closed_pipe() {
    let table = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/datasets/macro_cifar10_all.parquet"
    );
    let dir = std::env::temp_dir().join(format!("gf-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("found.csv");
    let args = [
        "search",
        "--space",
        "macro",
        "--dataset",
        "cifar10",
        "--proxy",
        "nwot",
        "--features",
        table,
        "--budget",
        "50",
        "--top",
        "50",
        "--out",
        out.to_str().unwrap(),
    ];
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_greenfactory"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait().unwrap();
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.lines().count(), 51, "{written}");
    let mut missing = args.to_vec();
    let last = missing.len() - 1;
    missing[last] = "no_such_dir/found.csv";
    assert_refused(
        &missing,
        "--out no_such_dir/found.csv: no folder no_such_dir",
    );
    std::fs::remove_dir_all(&dir).ok();
}
