use super::sample::{evaluate, keep_positions, layer_sample, ArchSample, LayerSample};
use super::*;

fn f(text: &str) -> Formula {
    text.parse().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn display_and_parse_round_trip_with_canonical_spacing() {
    for text in [
        "layer_sum(sum(abs(mul(W,G))))",
        "layer_mean(log(cos(Z,GZ)))",
        "layer_sum(div(mineig(Z),size(W)))",
        "layer_mean(hamming(relu(Z),zscore(GZ)))",
    ] {
        assert_eq!(f(text).to_string(), text);
    }
    assert_eq!(
        f(" layer_sum ( norm( G ) ) ").to_string(),
        "layer_sum(norm(G))"
    );
}

#[test]
fn errors_name_the_position() {
    let err = |t: &str| t.parse::<Formula>().unwrap_err();
    let e = err("layer_sum(norm(Q))");
    assert_eq!(e.position, 15, "{e}");
    assert!(
        e.message.contains("unknown operation or terminal \"Q\""),
        "{e}"
    );
    let e = err("layer_sum(foo(W))");
    assert_eq!(e.position, 10);
    let e = err("layer_sum(add(W,Z))");
    assert_eq!(e.position, 10);
    assert!(e.message.contains("two arguments of one type"), "{e}");
    let e = err("layer_sum(W)");
    assert!(e.message.contains("per-layer number"), "{e}");
    let e = err("layer_sum(mineig(abs(Z)))");
    assert!(e.message.contains("terminal"), "{e}");
    let e = err("layer_sum(norm(G)");
    assert_eq!(e.position, 17);
    assert!(e.message.contains("unexpected end"), "{e}");
    let e = err("layer_sum(norm(G)) x");
    assert_eq!(e.position, 19);
    let e = err("sum(norm(G))");
    assert_eq!(e.position, 0);
    let e = err("layer_sum(sum(W,G))");
    assert!(e.message.contains("1 argument"), "{e}");
    assert_eq!(e.to_string().lines().count(), 1);
}

#[test]
fn formula_files_skip_comments_and_name_the_bad_line() {
    let shipped = include_str!("../../models/evolved_proxies.txt");
    let formulas = parse_formula_lines(shipped).unwrap();
    let lines: Vec<&str> = shipped
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(formulas.len(), lines.len());
    assert_eq!(formulas[0].to_string(), lines[0]);
    let err = parse_formula_lines("# a comment\nlayer_sum(size(W))\n\n  layer_sum(foo(W))\n")
        .unwrap_err();
    assert_eq!(err.line, 4);
    assert!(err.source.message.contains("foo"), "{}", err.source);
}

#[test]
fn lists_split_outside_parentheses() {
    assert_eq!(
        split_list("params, layer_sum(cos(Z,GZ)),flops,,"),
        vec!["params", "layer_sum(cos(Z,GZ))", "flops"]
    );
    assert_eq!(
        split_lists(&["a,b".into(), "layer_mean(div(sum(W),sum(G)))".into()]),
        vec!["a", "b", "layer_mean(div(sum(W),sum(G)))"]
    );
}

/// One layer with every element kept: W = [1, -2, 0, 3], G = [0.5, 0.5, 2, 0], Z = [1, -1],
/// GZ = [2, 0].
fn layer() -> LayerSample {
    let mut rng = crate::rng::SplitMix64::new(0);
    layer_sample(
        [
            &[1.0, -2.0, 0.0, 3.0],
            &[0.5, 0.5, 2.0, 0.0],
            &[1.0, -1.0],
            &[2.0, 0.0],
        ],
        [
            [0.25, 0.5, 0.75, 1.0],
            [-1.0, -2.0, -3.0, -4.0],
            [5.0, 6.0, 7.0, 8.0],
        ],
        None,
        16,
        &mut rng,
    )
}

fn on(text: &str, layers: usize) -> Option<f64> {
    let arch = ArchSample {
        layers: vec![layer(); layers],
    };
    evaluate(&f(text), &arch)
}

#[test]
fn hand_computed_values() {
    // snip: |1·.5| + |−2·.5| + |0·2| + |3·0| = 1.5 per layer, two layers.
    assert_eq!(on("layer_sum(sum(abs(mul(W,G))))", 2), Some(3.0));
    // grad_norm: √(.25 + .25 + 4) per layer.
    assert_eq!(on("layer_mean(norm(G))", 3), Some(4.5f64.sqrt()));
    // plain: .5 − 1 + 0 + 0.
    assert_eq!(on("layer_sum(sum(mul(G,W)))", 1), Some(-0.5));
    assert_eq!(on("layer_sum(l1(W))", 1), Some(6.0));
    assert_eq!(on("layer_sum(size(W))", 2), Some(8.0));
    assert_eq!(on("layer_sum(size(Z))", 2), Some(4.0));
    // cos(Z, GZ) = 2 / (√2 · 2).
    let c = on("layer_sum(cos(Z,GZ))", 1).unwrap();
    assert!((c - 0.5f64.sqrt()).abs() < 1e-12, "{c}");
    // signs of W (+,−,0,+) and G (+,+,+,0) differ at 3 of 4 positions.
    assert_eq!(on("layer_sum(hamming(W,G))", 1), Some(0.75));
    assert_eq!(on("layer_sum(mineig(Z))", 2), Some(1.5));
    assert_eq!(on("layer_sum(kdet(GZ))", 2), Some(-8.0));
    assert_eq!(on("layer_sum(swap(G))", 2), Some(12.0));
    assert_eq!(on("layer_sum(sum(step(W)))", 1), Some(2.0));
    assert_eq!(on("layer_sum(sum(relu(neg(W))))", 1), Some(2.0));
    // zscore of Z = [1, −1] is itself; of G: mean .75, sd √.1875*… sums to 0.
    assert_eq!(on("layer_sum(sum(zscore(Z)))", 1), Some(0.0));
    assert_eq!(on("layer_sum(sum(sq(zscore(Z))))", 1), Some(2.0));
}

#[test]
fn edges_are_defined_values_not_nan() {
    // log 0 = 0, 1/0 = 0, x/0 = 0; sqrt of a negative is √|x|.
    // (elementwise in float32)
    let close = |t: &str, want: f64| {
        let got = on(t, 1).unwrap();
        assert!((got - want).abs() < 1e-6, "{t}: {got} vs {want}");
    };
    close("layer_sum(sum(log(W)))", 2f64.ln() + 3f64.ln());
    close("layer_sum(sum(inv(W)))", 1.0 - 0.5 + 1.0 / 3.0);
    close("layer_sum(sum(div(W,G)))", 2.0 - 4.0);
    close("layer_sum(sum(sqrt(W)))", 1.0 + 2f64.sqrt() + 3f64.sqrt());
    assert_eq!(
        on("layer_sum(div(sum(W),sub(sum(G),sum(G))))", 1),
        Some(0.0)
    );
    assert_eq!(on("layer_sum(log(sub(sum(W),sum(W))))", 1), Some(0.0));
    // A network without layers: 0 for both aggregations.
    assert_eq!(on("layer_mean(norm(W))", 0), Some(0.0));
    assert_eq!(on("layer_sum(norm(W))", 0), Some(0.0));
    // An empty layer (its output did not run): reductions are 0.
    let mut rng = crate::rng::SplitMix64::new(0);
    let empty = layer_sample([&[1.0], &[], &[], &[]], [[0.0; 4]; 3], None, 8, &mut rng);
    let arch = ArchSample {
        layers: vec![empty],
    };
    for t in [
        "layer_sum(mean(Z))",
        "layer_sum(cos(Z,GZ))",
        "layer_sum(hamming(Z,GZ))",
        "layer_sum(sum(zscore(GZ)))",
        "layer_sum(norm(G))",
    ] {
        assert_eq!(evaluate(&f(t), &arch), Some(0.0), "{t}");
    }
    // An overflow is undefined, not a number.
    let big = "layer_sum(sum(sq(sq(sq(exp(exp(W)))))))";
    assert_eq!(on(big, 1), None);
}

#[test]
fn kept_positions_are_distinct_sorted_and_scale_the_sums() {
    let mut rng = crate::rng::SplitMix64::new(7);
    let p = keep_positions(1000, 10, &mut rng);
    assert_eq!(p.len(), 10);
    assert!(p.windows(2).all(|w| w[0] < w[1]));
    let ones = vec![1.0f32; 1000];
    let l = layer_sample([&ones, &ones, &[], &[]], [[0.0; 4]; 3], None, 10, &mut rng);
    assert_eq!(l.values[0].len(), 10);
    let arch = ArchSample { layers: vec![l] };
    assert_eq!(evaluate(&f("layer_sum(sum(W))"), &arch), Some(1000.0));
    assert_eq!(evaluate(&f("layer_sum(size(W))"), &arch), Some(1000.0));
    let n = evaluate(&f("layer_sum(norm(mul(W,G)))"), &arch).unwrap();
    assert!((n - 1000f64.sqrt()).abs() < 1e-9);
}

#[test]
fn cell_sum_counts_each_block_once_and_leaves_out_stem_and_classifier() {
    assert_eq!(cell_of("cells.12.layers.0.op.1.weight"), Some(12));
    assert_eq!(cell_of("cells.3.conv_a.op.1.weight"), Some(3));
    assert_eq!(cell_of("stem.0.weight"), None);
    assert_eq!(cell_of("classifier.weight"), None);
    assert_eq!(cell_of("cellsx.1.weight"), None);
    // Layers: stem, two of cell 0, one of cell 1, classifier; per layer l1(W) = 6 scaled by
    // the layer's position so that the blocks' means differ.
    let cells = [None, Some(0), Some(0), Some(1), None];
    let layers = cells
        .iter()
        .enumerate()
        .map(|(k, &cell)| {
            let mut l = layer();
            for x in &mut l.values[0] {
                *x *= (k + 1) as f32;
            }
            l.cell = cell;
            l
        })
        .collect();
    let arch = ArchSample { layers };
    let at = |t: &str| evaluate(&f(t), &arch).unwrap();
    // cell 0: mean(12, 18) = 15; cell 1: 24.
    assert_eq!(at("cell_sum(l1(W))"), 39.0);
    assert_eq!(at("layer_sum(l1(W))"), 6.0 * 15.0);
    assert_eq!(at("layer_mean(l1(W))"), 18.0);
    // No layer in a searched block: 0.
    assert_eq!(on("cell_sum(l1(W))", 3), Some(0.0));
    assert_eq!(f("cell_sum(norm(G))").to_string(), "cell_sum(norm(G))");
    let e = "cells_sum(norm(G))".parse::<Formula>().unwrap_err();
    assert!(e.message.contains("cell_sum("), "{e}");
}

#[test]
fn the_terminal_statistics_are_the_operations_of_a_terminal() {
    let of_terminal: Vec<Op> = Op::ALL
        .into_iter()
        .filter(|o| o.signature() == Signature::OfTerminal)
        .collect();
    assert_eq!(of_terminal, Op::TERMINAL_STATISTICS);
    assert_eq!(Op::Swap.statistic_index(), Some(2));
    assert_eq!(Op::Norm.statistic_index(), None);
}
