//! NAS-Bench-101: the network of PROVENANCE §13 against the labelled cells (data tier): every
//! cell's parameter count and module hash, and the label file read as labels.
mod common;

use common::{assert_refused, run};
use greenfactory::space::{Arch, NatsDataset, Space};
use greenfactory::table::read_labels;

/// The data file's rows: (module hash, cell string, params).
fn cells() -> Vec<(String, String, u64)> {
    let path = common::data_dir().join("nasbench101/nb101_valid_acc_30k.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (h, m, o, p) = (col("module_hash"), col("matrix"), col("ops"), col("params"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[h].to_string(),
                format!("{};{}", f[m], f[o]),
                f[p].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn params_and_module_hashes_equal_the_benchmark_for_all_30001_cells() {
    let rows = cells();
    assert_eq!(rows.len(), 30_001);
    let mut indices = std::collections::HashSet::new();
    for (hash, cell, params) in &rows {
        let arch = Space::Nb101.parse(cell).unwrap();
        let Arch::Nb101(c) = arch else { panic!() };
        assert_eq!(c.module_hash(), *hash, "{cell}");
        assert_eq!(
            arch.graph(NatsDataset::Cifar10).param_count(),
            *params,
            "{cell}"
        );
        assert_eq!(Space::Nb101.arch(arch.index()).unwrap(), arch);
        indices.insert(arch.index());
    }
    assert_eq!(indices.len(), rows.len());
}

#[test]
fn the_label_file_reads_as_nb101_labels() {
    let t = read_labels(&common::data_dir().join("nasbench101/nb101_valid_acc_30k.csv")).unwrap();
    let rows = t.rows().unwrap();
    assert_eq!(rows.len(), 30_001);
    assert!(rows
        .iter()
        .all(|r| r.space == Space::Nb101 && r.hp == "108"));
    let first = cells().into_iter().next().unwrap();
    let arch = Space::Nb101.parse(&first.1).unwrap();
    let row = rows
        .iter()
        .find(|r| r.arch_index == arch.index() as i64)
        .unwrap();
    // 00005c14…: 93.0489 after 108 epochs, one run's validation accuracy (PROVENANCE §13).
    assert_eq!((row.valid_acc, row.test_acc), (Some(93.0489), None));
    assert_eq!(row.arch, arch.to_string());
    assert!(t.frame().column("valid_acc_e36").is_ok());
}

fn labels_path() -> String {
    common::data_dir()
        .join("nasbench101/nb101_valid_acc_30k.csv")
        .display()
        .to_string()
}

const SEVEN: &str = "0110010/0001000/0000010/0000101/0000010/0000001/0000000;input|conv3x3-bn-relu|conv3x3-bn-relu|maxpool3x3|conv3x3-bn-relu|conv1x1-bn-relu|output";

#[test]
fn invalid_cells_and_misplaced_labels_are_refused_in_one_line() {
    let proxies = |cell: &str| {
        [
            "proxies", "--space", "nb101", "--arch", cell, "--only", "params",
        ]
        .map(String::from)
    };
    let refuse = |cell: &str, want: &str| {
        let args = proxies(cell);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_refused(&args, want);
    };
    let conv = "conv3x3-bn-relu";
    let eight = format!(
        "01000000/00100000/00010000/00001000/00000100/00000010/00000001/00000000;input|{}|output",
        [conv; 6].join("|")
    );
    refuse(&eight, "8 vertices: a cell has 2 to 7");
    let ten = format!(
        "0111111/0011111/0001000/0000100/0000010/0000001/0000000;input|{}|output",
        [conv; 5].join("|")
    );
    refuse(&ten, "edges: a cell has at most 9");
    refuse("011/001/010;input|conv3x3-bn-relu|output", "goes backwards");
    refuse("011/001/000;input|conv7x7|output", "unknown op \"conv7x7\"");
    // A TSS arch for nb101, and nb101 labels for TSS features.
    assert_refused(
        &[
            "proxies", "--space", "tss", "--arch", SEVEN, "--only", "params",
        ],
        "is an arch of the nb101 space, not of tss",
    );
    common::assert_refused_for_tss_features(&labels_path(), "NB101 labels and no TSS labels");
    // No index order: every cell cannot be listed or extracted; --stem is nb101's alone.
    assert_refused(&["archs", "--space", "nb101"], "nb101 has no index order");
    assert_refused(
        &[
            "extract",
            "--space",
            "nb101",
            "--dataset",
            "cifar10",
            "--archs",
            "all",
            "--proxies",
            "params",
            "--out",
            "/tmp/gf-never.parquet",
        ],
        "nb101 has no index order",
    );
    assert_refused(
        &[
            "proxies", "--space", "tss", "--arch", "1", "--only", "params", "--stem", "16",
        ],
        "--stem 16: no narrower tss network",
    );
}

#[test]
fn one_cells_static_proxies_equal_the_benchmark_and_the_narrow_copy_is_smaller() {
    let params = |stem: &[&str]| -> f64 {
        let (ok, out, err) = run(&[
            &[
                "proxies", "--space", "nb101", "--arch", SEVEN, "--only", "params", "--format",
                "csv", "--device", "cpu",
            ][..],
            stem,
        ]
        .concat());
        assert!(ok, "{err}");
        let header: Vec<&str> = out.lines().next().unwrap().split(',').collect();
        let row: Vec<&str> = out.lines().nth(1).unwrap().split(',').collect();
        row[header.iter().position(|h| *h == "params").unwrap()]
            .parse()
            .unwrap()
    };
    // 00005c14…: 8,555,530 parameters (the data file).
    assert!((params(&[]) - 8.55553).abs() < 1e-5);
    // Stem 16: every width divided by 8, so about 1/64 of the parameters.
    let narrow = params(&["--stem", "16"]);
    assert!(
        narrow > 8.55553 / 80.0 && narrow < 8.55553 / 50.0,
        "{narrow}"
    );
}

/// The shipped table of the labelled cells: train, predict (proxies computed by the engine on
/// the table's narrow copy), a search among the labelled cells and the refusals, end to end on
/// the command line.
#[test]
fn nb101_trains_predicts_and_searches_from_the_shipped_table() {
    let table = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/datasets/nb101_cifar10_labelled.parquet"
    );
    let labels = labels_path();
    let dir = std::env::temp_dir().join(format!("gf-nb101-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("m.gfm");
    let model = model.to_str().unwrap();
    let (ok, _, err) = run(&[
        "train",
        "--features",
        table,
        "--labels",
        &labels,
        "--dataset",
        "cifar10",
        "--n-train",
        "1000",
        "--cv",
        "0",
        "--out",
        model,
        "--force",
    ]);
    assert!(ok, "{err}");
    // held-out: the 29,001 cells the model did not see.
    let tau = common::held_out_tau(&err);
    assert!(tau > 0.7, "{err}");
    // One cell, its proxies computed here on the stem-16 copy the table was extracted on.
    let (ok, out, err) = run(&[
        "predict", "--model", model, "--arch", SEVEN, "--device", "cpu", "--format", "csv",
    ]);
    assert!(ok, "{err}");
    let pred = common::predicted_accuracy(&out);
    // 00005c14…: 93.05 (one run).
    assert!((pred - 93.05).abs() < 3.0, "{out}");
    // A search among the labelled cells, proxies looked up: its find is a labelled cell.
    let (ok, out, err) = run(&[
        "search",
        "--space",
        "nb101",
        "--dataset",
        "cifar10",
        "--model",
        model,
        "--features",
        table,
        "--labels",
        &labels,
        "--within-labels",
        "--budget",
        "100",
        "--top",
        "1",
        "--format",
        "csv",
    ]);
    assert!(ok, "{err}");
    let acc: f64 = out
        .lines()
        .last()
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(acc > 90.0, "{out}");
    // Without a pool, nb101 cannot be searched; a TSS arch is not an NB101 cell.
    assert_refused(
        &[
            "search",
            "--space",
            "nb101",
            "--dataset",
            "cifar10",
            "--model",
            model,
        ],
        "nb101 has no index order to search over",
    );
    let (ok, _, err) = run(&["predict", "--model", model, "--arch", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"]);
    assert!(!ok && err.lines().count() == 1, "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A run whose stderr is a file (a log, `tee`, a batch job) still reports its progress, a line
/// per tenth.
#[test]
fn extract_reports_progress_in_lines_when_stderr_is_not_a_terminal() {
    let dir = std::env::temp_dir().join(format!("gf-nb101-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("t.parquet");
    let (ok, _, err) = run(&[
        "extract",
        "--space",
        "nb101",
        "--dataset",
        "cifar10",
        "--archs",
        "sample:20:1",
        "--proxies",
        "params,synflow",
        "--stem",
        "8",
        "--chunk-size",
        "2",
        "--workers",
        "1",
        "--device",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("extract ")).collect();
    assert!(lines.len() >= 5, "{err}");
    assert!(
        lines.last().unwrap().contains("20/20 archs (100 %)"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
