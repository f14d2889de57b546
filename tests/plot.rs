//! PNG charts: the `plot` library functions and `evaluate --plot` / `train --plot` on real
//! tables. Pictures are checked as files (PNG signature, IHDR size, not blank), not pixel by
//! pixel.
#![cfg(feature = "plot")]
mod common;

use greenfactory::plot::{
    bars, lines, scatter, top_k, BarsSpec, LinesSpec, Panel, PlotError, ScatterSpec, Series,
    DEFAULT_SIZE,
};
use std::path::{Path, PathBuf};

/// A fresh temporary folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gf-plot-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A drawn chart, not an empty canvas: a blank 900x700 RGB PNG compresses to a few KB, a
/// chart with axes, text and data to tens of KB.
fn assert_chart(path: &Path, size: (u32, u32)) {
    assert_eq!(common::png_size(path), size, "{}", path.display());
    let bytes = std::fs::metadata(path).unwrap().len();
    assert!(bytes > 12_000, "{}: only {bytes} bytes", path.display());
}

fn spec(series: Vec<Series>) -> ScatterSpec {
    ScatterSpec {
        title: "t".into(),
        x_label: "true test accuracy (%)".into(),
        y_label: "predicted test accuracy (%)".into(),
        series,
        diagonal: true,
        ..ScatterSpec::default()
    }
}

#[test]
fn library_charts_have_the_asked_size() {
    let dir = temp_dir("lib");
    let pts: Vec<(f64, f64)> = (0..300)
        .map(|i| {
            let x = 50.0 + (i % 45) as f64;
            (x, x + ((i * 7) % 5) as f64 - 2.0)
        })
        .collect();
    let p = dir.join("scatter.png");
    scatter(&p, &spec(vec![Series::points("a", pts.clone())])).unwrap();
    assert_chart(&p, DEFAULT_SIZE);

    let p = dir.join("pareto.png");
    let front = vec![(0.5, 80.0), (1.0, 88.0), (3.0, 93.0)];
    let s = ScatterSpec {
        size: (640, 480),
        diagonal: false,
        ..spec(vec![
            Series::points("candidates", pts),
            Series::points_and_line("front", front),
        ])
    };
    scatter(&p, &s).unwrap();
    assert_chart(&p, (640, 480));

    let p = dir.join("lines.png");
    let panel = |y: &str| Panel {
        title: y.into(),
        y_label: y.into(),
        series: vec![Series::points_and_line(
            "repeat",
            vec![(1.0, 0.9), (2.0, 0.91), (3.0, 0.89)],
        )],
    };
    let l = LinesSpec {
        title: "per repeat".into(),
        x_label: "repeat".into(),
        panels: vec![panel("Kendall τ"), panel("MAE (% points)")],
        ..LinesSpec::default()
    };
    lines(&p, &l).unwrap();
    assert_chart(&p, DEFAULT_SIZE);

    let p = dir.join("bars.png");
    let names: Vec<String> = (0..40).map(|i| format!("feature_{i}")).collect();
    let values: Vec<f64> = (0..40).map(|i| (i as f64 * 0.37).sin().abs()).collect();
    let top = top_k(&names, &values, 25);
    assert_eq!(top.len(), 25);
    assert!(top.windows(2).all(|w| w[0].1 >= w[1].1));
    let max = values.iter().copied().fold(0.0, f64::max);
    assert_eq!(top[0].1, max);
    let b = BarsSpec {
        title: "importance".into(),
        value_label: "impurity importance (share of the total)".into(),
        bars: top,
        ..BarsSpec::default()
    };
    bars(&p, &b).unwrap();
    assert_chart(&p, DEFAULT_SIZE);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_specs_and_paths_are_typed_one_line_errors() {
    let dir = temp_dir("err");
    let p = dir.join("x.png");
    let e = scatter(&p, &spec(vec![Series::points("a", vec![])])).unwrap_err();
    assert!(matches!(e, PlotError::Empty { .. }), "{e}");
    let e = scatter(&p, &spec(vec![Series::points("a", vec![(1.0, f64::NAN)])])).unwrap_err();
    assert!(matches!(e, PlotError::NonFinite { .. }), "{e}");
    assert!(e.to_string().contains("\"a\", point 0"), "{e}");
    let tiny = ScatterSpec {
        size: (10, 10),
        ..spec(vec![Series::points("a", vec![(1.0, 1.0)])])
    };
    assert!(matches!(
        scatter(&p, &tiny).unwrap_err(),
        PlotError::Size { .. }
    ));
    let e = bars(
        &p,
        &BarsSpec {
            bars: vec![("neg".into(), -1.0)],
            ..BarsSpec::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, PlotError::NonFinite { .. }), "{e}");
    assert!(matches!(
        lines(&p, &LinesSpec::default()).unwrap_err(),
        PlotError::Empty { .. }
    ));
    assert!(!p.exists(), "nothing is written on a bad spec");
    let missing = dir.join("no/such/dir/x.png");
    let e = scatter(&missing, &spec(vec![Series::points("a", vec![(1.0, 2.0)])])).unwrap_err();
    assert!(matches!(e, PlotError::Io { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("no/such/dir/x.png") && !text.contains('\n'),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(feature = "cli")]
mod cli {
    use super::*;
    use common::gf;
    use std::process::Output;

    fn stderr(o: &Output) -> String {
        String::from_utf8_lossy(&o.stderr).into_owned()
    }

    /// The shipped 1,000-arch CIFAR-10 sample and the real NATS-Bench labels.
    fn inputs() -> (String, String) {
        let feats =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/tss_cifar10_sample1000.parquet");
        let labels = common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv");
        (
            feats.to_str().unwrap().to_string(),
            labels.to_str().unwrap().to_string(),
        )
    }

    #[test]
    fn evaluate_plot_writes_three_charts_and_the_same_numbers() {
        let (f, l) = inputs();
        let dir = temp_dir("evaluate");
        let out = dir.join("charts"); // created by --plot
        let args = [
            "evaluate",
            "--features",
            &f,
            "--labels",
            &l,
            "--dataset",
            "cifar10",
            "--arch-features",
            "--n-train",
            "300",
            "--repeats",
            "3",
            "--n-trees",
            "10",
        ];
        let plain = gf(&args);
        assert!(plain.status.success(), "{}", stderr(&plain));
        let mut with_plot = args.to_vec();
        with_plot.extend(["--plot", out.to_str().unwrap()]);
        let o = gf(&with_plot);
        assert!(o.status.success(), "{}", stderr(&o));
        // Plotting reads the evaluation; it does not change what is reported.
        assert_eq!(o.stdout, plain.stdout);
        for name in [
            "evaluate_pred_vs_true.png",
            "evaluate_repeats.png",
            "evaluate_importance.png",
        ] {
            let p = out.join(name);
            assert_chart(&p, DEFAULT_SIZE);
            assert!(stderr(&o).contains(&format!("wrote {}", p.display())));
        }
        // A --plot path that cannot be a folder: one error line, before any fitting.
        let file = dir.join("a-file");
        std::fs::write(&file, b"x").unwrap();
        let bad = file.join("charts");
        let mut bad_args = args.to_vec();
        bad_args.extend(["--plot", bad.to_str().unwrap()]);
        let o = gf(&bad_args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{err}");
        assert!(o.stdout.is_empty(), "fails before evaluating");
        let last = err.lines().last().unwrap_or("");
        assert!(
            last.starts_with("error: --plot ") && last.contains("a-file/charts"),
            "{err}"
        );
        assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn train_plot_writes_cv_holdout_and_importance_charts() {
        let (f, l) = inputs();
        let dir = temp_dir("train");
        let model = dir.join("m.gfm");
        let o = gf(&[
            "train",
            "--features",
            &f,
            "--labels",
            &l,
            "--dataset",
            "cifar10",
            "--n-train",
            "300",
            "--cv",
            "3",
            "--n-trees",
            "10",
            "--out",
            model.to_str().unwrap(),
            "--plot",
            dir.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        for name in [
            "train_cv_pred_vs_true.png",
            "train_holdout_pred_vs_true.png",
            "train_importance.png",
        ] {
            assert_chart(&dir.join(name), DEFAULT_SIZE);
        }
        assert!(model.exists());
        // Without CV or a held-out part only the importances can be drawn.
        let only = dir.join("only");
        let o = gf(&[
            "train",
            "--features",
            &f,
            "--labels",
            &l,
            "--dataset",
            "cifar10",
            "--cv",
            "0",
            "--n-trees",
            "5",
            "--out",
            model.to_str().unwrap(),
            "--force",
            "--plot",
            only.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let mut names: Vec<String> = std::fs::read_dir(&only)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["train_importance.png"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
