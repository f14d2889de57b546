//! Formulas as proxies: the formulas of snip, grad_norm, plain and l2_norm computed by the
//! formula evaluator equal the built-in proxies, the element-sample evaluator of the evolution's
//! cache equals the engine's when it keeps every element, and formula names go through
//! `proxies_by_name` as written.
#![cfg(feature = "torch")]

use greenfactory::evolve::cache::{build_cache, CacheOptions};
use greenfactory::formula::{sample, Formula};
use greenfactory::proxy::{proxies_by_name, Engine, ProxyConfig, ProxyNameError};
use greenfactory::space::{NatsDataset, Space};
use tch::Device;

const EQUIVALENT: [(&str, &str); 4] = [
    ("snip", "layer_sum(sum(abs(mul(W,G))))"),
    ("grad_norm", "layer_sum(norm(G))"),
    ("plain", "layer_sum(sum(mul(G,W)))"),
    ("l2_norm", "layer_sum(norm(W))"),
];

fn engine(names: &[String], space: Space) -> Engine {
    let config = ProxyConfig {
        batch_size: 8,
        share_isomorphic: false,
        ..ProxyConfig::default()
    };
    let _ = space;
    Engine::new(
        proxies_by_name(names).unwrap(),
        config,
        NatsDataset::Cifar10,
        Device::Cpu,
    )
    .unwrap()
}

#[test]
fn built_in_formulas_equal_the_built_in_proxies_on_24_archs() {
    let mut names: Vec<String> = EQUIVALENT.iter().map(|(b, _)| b.to_string()).collect();
    names.extend(EQUIVALENT.iter().map(|(_, f)| f.to_string()));
    let mut compared = [0usize; 4];
    for (space, n) in [(Space::Tss, 16), (Space::Sss, 8)] {
        let e = engine(&names, space);
        for index in space.sample_indices(n, 11) {
            let arch = space.arch(index).unwrap();
            let v = e.score(&arch).unwrap();
            for (k, (builtin, formula)) in EQUIVALENT.into_iter().enumerate() {
                let at = |name: &str| v.names.iter().position(|n| n == name).unwrap();
                let (b, f) = (v.values[at(builtin)], v.values[at(formula)]);
                if b.is_nan() {
                    // The built-in has no value where a layer's gradient is undefined; the
                    // formula reads that gradient as 0.
                    continue;
                }
                let rel = (b - f).abs() / b.abs().max(1e-300);
                assert!(
                    rel <= 1e-9,
                    "{arch}: {builtin} {b} vs {formula} {f} ({rel:e})"
                );
                compared[k] += 1;
            }
        }
    }
    assert!(compared.iter().all(|&c| c >= 20), "{compared:?}");
}

/// `kdet` by hand: rows (+,−), (+,+), (−,−) have codes 10, 11, 00, so the kernel of agreements
/// is [[2,1,1],[1,2,0],[1,0,2]] with determinant 4; a repeated row makes it singular (0).
#[test]
fn kernel_logdet_by_hand() {
    use greenfactory::proxy::formula::kernel_logdet;
    let t = tch::Tensor::from_slice(&[1.0f32, -1.0, 1.0, 1.0, -1.0, -1.0]).reshape([3, 2]);
    assert!((kernel_logdet(&t).unwrap() - 4f64.ln()).abs() < 1e-12);
    let twice = tch::Tensor::from_slice(&[1.0f32, -1.0, 1.0, -1.0]).reshape([2, 2]);
    assert_eq!(kernel_logdet(&twice).unwrap(), 0.0);
    let one_row = tch::Tensor::from_slice(&[1.0f32, 2.0]).reshape([1, 2]);
    assert_eq!(kernel_logdet(&one_row).unwrap(), 0.0);
}

/// `swap` by hand: 3 rows (images) × 4 positions; the positions' codes down the rows are
/// (1,0,1), (1,0,1), (0,0,0) and (0,0,1) (zero is not `> 0`), so 3 distinct patterns; a
/// 4-d output counts every position of dims ≥ 1; more than 64 rows take two words per code.
#[test]
fn distinct_patterns_by_hand() {
    use greenfactory::proxy::formula::distinct_patterns;
    let t = tch::Tensor::from_slice(&[
        1.0f32, 2.0, 0.0, -1.0, //
        -1.0, -3.0, -2.0, 0.0, //
        4.0, 0.5, 0.0, 3.0,
    ])
    .reshape([3, 4]);
    assert_eq!(distinct_patterns(&t).unwrap(), 3.0);
    assert_eq!(distinct_patterns(&t.reshape([3, 2, 2, 1])).unwrap(), 3.0);
    assert_eq!(
        distinct_patterns(&tch::Tensor::zeros(
            [0, 4],
            (tch::Kind::Float, tch::Device::Cpu)
        ))
        .unwrap(),
        0.0
    );
    // 70 rows: positions 0 and 1 differ only in row 69 (the second word), position 2 equals 0.
    let mut v = vec![1.0f32; 70 * 3];
    v[69 * 3 + 1] = -1.0;
    let long = tch::Tensor::from_slice(&v).reshape([70, 3]);
    assert_eq!(distinct_patterns(&long).unwrap(), 2.0);
}

#[test]
fn the_cache_keeping_every_element_equals_the_engine() {
    let formulas = [
        "layer_sum(sum(abs(mul(W,G))))",
        "layer_mean(cos(Z,GZ))",
        "layer_sum(mul(mineig(Z),norm(GZ)))",
        "layer_sum(log(l1(div(zscore(Z),GZ))))",
        "layer_mean(hamming(relu(Z),GZ))",
        "layer_sum(sub(mineig(W),mineig(G)))",
        "layer_mean(add(kdet(Z),kdet(W)))",
        "cell_sum(div(norm(GZ),size(Z)))",
        "layer_mean(mul(swap(Z),log(swap(G))))",
    ];
    let names: Vec<String> = formulas.iter().map(|s| s.to_string()).collect();
    let e = engine(&names, Space::Tss);
    let archs: Vec<_> = Space::Tss
        .sample_indices(6, 3)
        .into_iter()
        .map(|i| Space::Tss.arch(i).unwrap())
        .collect();
    let cache = build_cache(
        &e,
        &archs,
        &CacheOptions {
            elements: usize::MAX,
            seed: 0,
        },
        |_| {},
    )
    .unwrap();
    for (arch, kept) in archs.iter().zip(&cache.archs) {
        let v = e.score(arch).unwrap();
        for (k, text) in formulas.iter().enumerate() {
            let f: Formula = text.parse().unwrap();
            let from_cache = sample::evaluate(&f, kept).unwrap();
            let from_engine = v.values[k];
            let rel = (from_cache - from_engine).abs() / from_engine.abs().max(1e-6);
            assert!(
                rel < 1e-4,
                "{arch}: {text}: cache {from_cache} engine {from_engine}"
            );
        }
    }
}

#[test]
fn formulas_are_proxy_names_in_given_order_after_built_ins() {
    let names: Vec<String> = [
        "layer_mean( cos(Z,GZ) )",
        "params",
        "layer_sum(norm(W))",
        "layer_mean(cos(Z,GZ))",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let p = proxies_by_name(&names).unwrap();
    let got: Vec<&str> = p.iter().map(|p| p.name()).collect();
    assert_eq!(
        got,
        ["params", "layer_mean(cos(Z,GZ))", "layer_sum(norm(W))"]
    );
    let e = proxies_by_name(&["layer_sum(norm(Q))".into()])
        .err()
        .unwrap();
    assert!(
        matches!(&e, ProxyNameError::Formula(f) if f.position == 15),
        "{e}"
    );
    assert!(e.to_string().contains("at 15"), "{e}");
    let e = proxies_by_name(&["nwot2".into()]).err().unwrap();
    assert!(
        matches!(&e, ProxyNameError::Unknown { name, known } if name == "nwot2" && known.iter().any(|k| k == "nwot")),
        "{e}"
    );
    assert!(e.to_string().contains("unknown proxy \"nwot2\""), "{e}");
}

/// A formula is a model feature: a table extracted with one trains a model, and `predict
/// --arch` recomputes the formula from its text in the model file, giving the prediction
/// the extracted value gives.
#[cfg(feature = "cli")]
#[test]
fn a_model_trained_on_a_formula_recomputes_it_for_predict_arch() {
    let gf = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_greenfactory"))
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let dir = std::env::temp_dir().join(format!("gf-formula-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let table = dir.join("t.parquet");
    let formula = "layer_sum(mul(norm(log(G)),mineig(GZ)))";
    gf(&[
        "extract",
        "--space",
        "tss",
        "--dataset",
        "cifar10",
        "--archs",
        "range:0..40",
        "--proxies",
        &format!("params,{formula}"),
        "--data",
        "synthetic",
        "--batch-size",
        "4",
        "--isomorphic",
        "each",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        table.to_str().unwrap(),
    ]);
    // Own labels: any numbers serve to fit a forest.
    let labels = dir.join("labels.csv");
    let rows: String = (0..40)
        .map(|i| format!("{i},{}\n", 50 + (i * 7) % 40))
        .collect();
    std::fs::write(&labels, format!("index,my_acc\n{rows}")).unwrap();
    let model = dir.join("m.gfm");
    gf(&[
        "train",
        "--features",
        table.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--dataset",
        "cifar10",
        "--target",
        "my_acc",
        "--cv",
        "0",
        "--no-arch-features",
        "--out",
        model.to_str().unwrap(),
    ]);
    let by_table = gf(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--features",
        table.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let arch = Space::Tss.arch(17).unwrap().to_string();
    let by_arch = gf(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--arch",
        &arch,
        "--format",
        "csv",
        "--device",
        "cpu",
    ]);
    let prediction = |csv: &str| -> String {
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let at = header
            .iter()
            .position(|h| h.starts_with("predicted"))
            .unwrap();
        csv.lines()
            .find(|l| l.contains(&arch))
            .unwrap_or_else(|| panic!("{arch} not in {csv}"))
            .split(',')
            .nth(at)
            .unwrap()
            .to_string()
    };
    assert_eq!(prediction(&by_arch), prediction(&by_table));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The shipped formulas parse as written, are in canonical form (their text is their name) and
/// survive the comma list `--proxies` takes.
#[test]
fn shipped_evolved_formulas_parse_as_written() {
    let text = std::fs::read_to_string("models/evolved_proxies.txt").unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(lines.len() >= 3);
    for l in &lines {
        let f: Formula = l.parse().unwrap_or_else(|e| panic!("{l}: {e}"));
        assert_eq!(f.to_string(), *l);
    }
    let joined = lines.join(",");
    assert_eq!(greenfactory::formula::split_list(&joined), lines);
    let names: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    assert_eq!(proxies_by_name(&names).unwrap().len(), lines.len());
}

/// Every layer of SSS block `i` (`cells.i`) outputs `c_i` channels at one resolution, so
/// `cell_sum(log(size(Z)))` is Σ_i ln c_i plus a constant of the skeleton: two archs differ by
/// the difference of their channel configurations' log-sums, whatever their layer counts. The
/// same holds for `size(GZ)` (∂L/∂Z has Z's shape), the shipped SSS CIFAR-10 formula.
#[test]
fn cell_sum_of_output_sizes_is_the_sss_channel_log_sum() {
    let names = vec![
        "cell_sum(log(size(Z)))".to_string(),
        "cell_sum(log(size(GZ)))".to_string(),
    ];
    let e = engine(&names, Space::Sss);
    let values = |s: &str| {
        let arch = Space::Sss.parse(s).unwrap();
        e.score(&arch).unwrap().values
    };
    let log_sum = |c: [f64; 5]| c.iter().map(|x| x.ln()).sum::<f64>();
    let base = values("8:8:8:8:8");
    for (s, c) in [
        ("64:8:8:8:8", [64.0, 8.0, 8.0, 8.0, 8.0]),
        ("16:24:32:40:48", [16.0, 24.0, 32.0, 40.0, 48.0]),
        ("64:56:8:64:16", [64.0, 56.0, 8.0, 64.0, 16.0]),
    ] {
        let want = log_sum(c) - log_sum([8.0; 5]);
        for (k, name) in names.iter().enumerate() {
            let got = values(s)[k] - base[k];
            assert!((got - want).abs() < 1e-9, "{name} {s}: {got} vs {want}");
        }
    }
}
