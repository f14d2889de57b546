//! Forest vs scikit-learn on real data, in one run:
//! `cargo bench --no-default-features --bench forest`.
//!
//! Suite-Zero CIFAR-10 (13 proxies → NATS test accuracy, 9,445 archs), seeded 80/20 split written
//! to a temp dir; `scripts/bench_forest_sklearn.py` fits sklearn's `RandomForestRegressor` (100
//! trees, all features, 2 jobs) on the same rows; we fit with 2 threads. Prediction is timed on
//! the test rows tiled to 15,625 (the TSS size). Times are the best of 3. Then model-file sizes,
//! including a 12,500-row model (HW-NAS-Bench features → CIFAR-10 accuracy) for several
//! `min_samples_leaf`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/forest_data/mod.rs"]
mod forest_data;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use greenfactory::forest::{r2_score, Dataset, Forest, ForestParams, Protocol, Split, SplitSize};
use greenfactory::model::{Model, ModelMeta, Written};
use greenfactory::space::{NatsDataset, Space};

const REPEATS: usize = 3;
const N_PREDICT: usize = 15_625;

fn write_csv(path: &Path, d: &Dataset) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create csv"));
    writeln!(f, "{},y", d.feature_names.join(",")).unwrap();
    for i in 0..d.n_rows() {
        let row: Vec<String> = d.row(i).iter().map(|v| format!("{v:?}")).collect();
        writeln!(f, "{},{:?}", row.join(","), d.y[i]).unwrap();
    }
}

fn best_of<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..REPEATS {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("ran"))
}

fn model_bytes(d: &Dataset, forest: Forest, params: &ForestParams) -> usize {
    let meta = ModelMeta {
        feature_names: d.feature_names.clone(),
        space: Space::Tss,
        dataset: NatsDataset::Cifar10,
        target: "test_acc hp=200".parse().expect("a label kind"),
        n_train: d.n_rows(),
        extraction: None,
        cv_metrics: None,
        params: params.clone(),
        written: Written::now(),
    };
    Model::new(meta, forest).unwrap().to_bytes().unwrap().len()
}

/// Runs the scikit-learn script; `None` (with the reason printed) when it cannot.
fn sklearn(script: &Path, dir: &Path) -> Option<serde_json::Value> {
    match std::process::Command::new("python3")
        .arg(script)
        .arg(dir)
        .output()
    {
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout);
            match serde_json::from_str::<serde_json::Value>(text.trim()) {
                Ok(v) if v.get("error").is_none() => Some(v),
                Ok(v) => {
                    println!("scikit-learn skipped: {}", v["error"]);
                    None
                }
                Err(_) => {
                    println!(
                        "scikit-learn script failed: {}{}",
                        text,
                        String::from_utf8_lossy(&o.stderr)
                    );
                    None
                }
            }
        }
        Err(e) => {
            println!("python3 not runnable: {e}");
            None
        }
    }
}

fn main() {
    let data = forest_data::suite_zero_cifar10(&common::data_dir());
    let split = Split::new(&data, Protocol::Random, SplitSize::TrainFrac(0.8), 0).unwrap();
    let (train, test) = (data.subset(&split.train), data.subset(&split.test));
    println!(
        "Suite-Zero CIFAR-10: {} train / {} test rows × {} features",
        train.n_rows(),
        test.n_rows(),
        train.n_features()
    );

    let dir = std::env::temp_dir().join(format!("gf-bench-forest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    write_csv(&dir.join("train.csv"), &train);
    write_csv(&dir.join("test.csv"), &test);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_forest_sklearn.py");
    let skip = std::env::var_os("GF_BENCH_NO_SKLEARN").is_some();
    let sk: Option<serde_json::Value> = if skip {
        println!("scikit-learn skipped (GF_BENCH_NO_SKLEARN is set)");
        None
    } else {
        sklearn(&script, &dir)
    };
    let _ = std::fs::remove_dir_all(&dir);

    let params = ForestParams::builder().n_threads(Some(2)).build().unwrap();
    let (fit_s, forest) = best_of(|| Forest::fit(&train, &params).unwrap());
    let pred: Vec<f64> = forest
        .predict(&test.x)
        .unwrap()
        .iter()
        .map(|p| p.mean)
        .collect();
    let r2 = r2_score(&test.y, &pred);
    let p = test.n_features();
    let tiled: Vec<f64> = test.x.iter().copied().cycle().take(N_PREDICT * p).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let (predict_s, _) = best_of(|| pool.install(|| forest.predict(&tiled).unwrap()));
    let n_nodes = forest.n_nodes();
    let importances = forest.feature_importances().to_vec();
    let size = model_bytes(&train, forest, &params);

    let num = |k: &str| sk.as_ref().and_then(|v| v[k].as_f64());
    println!();
    println!("| | greenfactory | scikit-learn | ours / sklearn |");
    println!("|---|---|---|---|");
    let row = |name: &str, ours: f64, theirs: Option<f64>, prec: usize| match theirs {
        Some(t) => println!("| {name} | {ours:.prec$} | {t:.prec$} | {:.3} |", ours / t),
        None => println!("| {name} | {ours:.prec$} | – | – |"),
    };
    row("fit s (2 threads, best of 3)", fit_s, num("fit_s"), 3);
    row(
        "predict 15,625 rows s (2 threads)",
        predict_s,
        num("predict_s"),
        3,
    );
    row("test R²", r2, num("r2"), 4);
    row("nodes", n_nodes as f64, num("n_nodes"), 0);
    println!("| model file MB | {:.2} | – | – |", size as f64 / 1e6);
    if let (Some(v), Some(sr2)) = (sk.as_ref(), num("r2")) {
        println!(
            "\nscikit-learn {}; R² difference ours − sklearn = {:+.4}",
            v["sklearn"].as_str().unwrap_or("?"),
            r2 - sr2
        );
    }

    if let Some(theirs) = sk.as_ref().and_then(|v| v["importances"].as_array()) {
        println!("\n| feature | importance ours | sklearn |\n|---|---|---|");
        for (i, name) in train.feature_names.iter().enumerate() {
            let t = theirs.get(i).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
            println!("| {name} | {:.4} | {t:.4} |", importances[i]);
        }
    }

    // Model size for a 12,500-row model (the size of an 80 % TSS training set).
    let hw = forest_data::hw_to_val_acc(&common::data_dir());
    let s = Split::new(&hw, Protocol::Random, SplitSize::NTrain(12_500), 0).unwrap();
    let (htr, hte) = (hw.subset(&s.train), hw.subset(&s.test));
    println!(
        "\n12,500-row model (HW-NAS-Bench {} features → CIFAR-10 val acc), 100 trees:\n",
        htr.n_features()
    );
    println!("| min_samples_leaf | fit s | nodes | file MB | test R² |");
    println!("|---|---|---|---|---|");
    for msl in [1, 2, 3, 5] {
        let params = ForestParams::builder()
            .min_samples_leaf(msl)
            .n_threads(Some(2))
            .build()
            .unwrap();
        let t = Instant::now();
        let f = Forest::fit(&htr, &params).unwrap();
        let fit_s = t.elapsed().as_secs_f64();
        let pred: Vec<f64> = f.predict(&hte.x).unwrap().iter().map(|p| p.mean).collect();
        let r2 = r2_score(&hte.y, &pred);
        let nodes = f.n_nodes();
        let mb = model_bytes(&htr, f, &params) as f64 / 1e6;
        println!("| {msl} | {fit_s:.2} | {nodes} | {mb:.2} | {r2:.4} |");
    }
}
