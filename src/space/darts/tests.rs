use super::*;

const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

#[test]
fn both_forms_round_trip_and_the_index_names_the_genotype() {
    let a: DartsArch = DARTS_V2.parse().unwrap();
    // Canonical: node 2 of the normal cell lists input 0 before input 1.
    assert!(
        a.to_string()
            .contains("('skip_connect', 0), ('sep_conv_3x3', 1)"),
        "{a}"
    );
    assert_eq!(a.to_string().parse::<DartsArch>().unwrap(), a);
    assert_eq!(a.compact().parse::<DartsArch>().unwrap(), a);
    assert_eq!(DartsArch::from_index(a.index()).unwrap(), a);
    let mut rng = SplitMix64::new(3);
    for _ in 0..500 {
        let r = DartsArch::random(&mut rng);
        assert_eq!(DartsArch::from_index(r.index()).unwrap(), r);
        assert_eq!(r.to_string().parse::<DartsArch>().unwrap(), r);
        let m = r.mutate(&mut rng);
        assert_ne!(m, r);
    }
    assert!(DartsArch::from_index(CELL_SIZE * CELL_SIZE).is_err());
}

#[test]
fn malformed_genotypes_name_the_node() {
    let err = |s: &str| s.parse::<DartsArch>().unwrap_err().to_string();
    let e = err(&DARTS_V2.replacen("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)", 1));
    assert!(
        e.contains("normal node 3 reads input 5, which does not exist yet"),
        "{e}"
    );
    let e = err(&DARTS_V2.replacen("('sep_conv_3x3', 1)", "('sep_conv_3x3', 0)", 1));
    assert!(e.contains("normal node 0 reads input 0 twice"), "{e}");
    let e = err(&DARTS_V2.replacen("sep_conv_3x3", "conv_7x1_1x7", 1));
    assert!(e.contains("unknown op \"conv_7x1_1x7\""), "{e}");
    let e = err("[[(0, 1), (1, 2)], [(0, 1)]]");
    assert!(e.contains("the normal cell has 2 (op, input) pairs"), "{e}");
    assert!(!e.contains('\n'));
}

/// Parameters by hand of a genotype of pools and skips only: the stem, the cell inputs'
/// ReLU–conv–BN and factorized reduces, the skips' factorized reduces in the reduction cells,
/// and the classifier.
#[test]
fn parameter_count_of_a_parameter_free_genotype_by_hand() {
    let pools = "[[(0, 0), (1, 1), (0, 2), (1, 0), (0, 1), (1, 0), (0, 0), (1, 1)], [(0, 0), (1, 1), (0, 0), (1, 1), (0, 0), (1, 1), (0, 0), (1, 1)]]";
    let a: DartsArch = pools.parse().unwrap();
    let count = a.graph(NatsDataset::Cifar10).param_count();
    let rcb = |i: u64, o: u64| i * o + 2 * o; // conv 1×1 + affine BN
    let fr = |i: u64, o: u64| 2 * i * (o / 2) + 2 * o;
    let stem = 3 * 9 * 96 + 2 * 96;
    // cells: C = 32, 32, 64 (r), 64, 64, 128 (r), 128, 128; outputs 4C.
    let cells = [
        rcb(96, 32) + rcb(96, 32),
        rcb(96, 32) + rcb(128, 32),
        rcb(128, 64) + rcb(128, 64),
        fr(128, 64) + rcb(256, 64),
        rcb(256, 64) + rcb(256, 64),
        rcb(256, 128) + rcb(256, 128),
        fr(256, 128) + rcb(512, 128),
        rcb(512, 128) + rcb(512, 128),
    ];
    let classifier = 512 * 10 + 10;
    assert_eq!(count, stem + cells.iter().sum::<u64>() + classifier);
}

#[test]
fn arch_lists_hold_genotypes_bare_or_quoted() {
    let a: DartsArch = DARTS_V2.parse().unwrap();
    let bare = format!("# two lines\n{DARTS_V2}\n{}\n", a.compact());
    let got = Space::Darts.parse_arch_list(&bare).unwrap();
    assert_eq!(got, vec![a.into_arch(), a.into_arch()]);
    let csv = format!("index,arch\n{},\"{a}\"\n", a.index());
    assert_eq!(
        Space::Darts.parse_arch_list(&csv).unwrap(),
        vec![a.into_arch()]
    );
    let wrong = format!("index,arch\n{},\"{a}\"\n", a.index() + 1);
    assert!(Space::Darts.parse_arch_list(&wrong).is_err());
}
