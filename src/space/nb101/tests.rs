use super::*;

fn cell(s: &str) -> Nb101Arch {
    s.parse().unwrap()
}

/// Parameters of three cells by hand, from the network in the module doc.
#[test]
fn parameter_counts_by_hand() {
    let count = |s: &str| cell(s).graph(NatsDataset::Cifar10).param_count();
    // Stem 3·9·128 + 256; classifier 512·10 + 10.
    let outer = 3456 + 256 + 5130;
    // A 2-vertex cell is a 1×1 projection + BN: c_in·c_out + 2·c_out.
    let proj = |i: i64, o: i64| (i * o + 2 * o) as u64;
    let cells = 3 * proj(128, 128)
        + proj(128, 256)
        + 2 * proj(256, 256)
        + proj(256, 512)
        + 2 * proj(512, 512);
    assert_eq!(count("01/00;input|output"), outer + cells);
    // input → conv3x3 → output: a projection to the vertex, then the 3×3 conv.
    let conv = |c: i64| (9 * c * c + 2 * c) as u64;
    let one = |i: i64, o: i64| proj(i, o) + conv(o);
    let cells =
        3 * one(128, 128) + one(128, 256) + 2 * one(256, 256) + one(256, 512) + 2 * one(512, 512);
    assert_eq!(
        count("010/001/000;input|conv3x3-bn-relu|output"),
        outer + cells
    );
    // Two vertices feeding the output split 128 as 64 + 64; the input also feeds the output.
    let two = |i: i64, o: i64| {
        let h = o / 2;
        2 * proj(i, h) + conv(h) + (h * h + 2 * h) as u64 + proj(i, o)
    };
    let cells =
        3 * two(128, 128) + two(128, 256) + 2 * two(256, 256) + two(256, 512) + 2 * two(512, 512);
    assert_eq!(
        count("0111/0001/0001/0000;input|conv3x3-bn-relu|conv1x1-bn-relu|output"),
        outer + cells
    );
}

#[test]
fn vertex_widths_follow_the_split() {
    // Three vertices feed the output: 128 = 43 + 43 + 42; vertex 1 feeds only vertex 2.
    let c = cell(
        "01000/00111/00001/00001/00000;input|conv3x3-bn-relu|conv3x3-bn-relu|maxpool3x3|output",
    );
    assert_eq!(vertex_channels(&c, 64, 128), vec![64, 43, 43, 42, 128]);
    let c = cell("010000/001110/000001/000001/000001/000000;input|conv1x1-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|maxpool3x3|output");
    assert_eq!(vertex_channels(&c, 64, 128), vec![64, 43, 43, 43, 42, 128]);
}

#[test]
fn pruning_validation_and_errors() {
    // Vertex 2 feeds nothing: pruned away.
    let c = cell("0110/0001/0000/0000;input|conv3x3-bn-relu|maxpool3x3|output");
    assert_eq!(c.to_string(), "010/001/000;input|conv3x3-bn-relu|output");
    let err = |s: &str| s.parse::<Nb101Arch>().unwrap_err().to_string();
    let e = err("01000000/00100000/00010000/00001000/00000100/00000010/00000001/00000000;input|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|output");
    assert!(e.contains("8 vertices"), "{e}");
    let e = err("0111111/0011111/0001111/0000111/0000011/0000001/0000000;input|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|output");
    assert!(e.contains("21 edges"), "{e}");
    let e = err("011/001/100;input|conv3x3-bn-relu|output");
    assert!(e.contains("backwards") && e.contains("cycle"), "{e}");
    let e = err("011/001/000;input|conv5x5-bn-relu|output");
    assert!(e.contains("unknown op") && e.contains("conv5x5"), "{e}");
    let e = err("010/000/000;input|conv3x3-bn-relu|output");
    assert!(e.contains("no path"), "{e}");
    for e in [
        err("01/00;input|maxpool3x3|output"),
        err("01/00"),
        err("012/001/000;input|conv3x3-bn-relu|output"),
    ] {
        assert!(!e.contains('\n') && e.contains("nb101"), "{e}");
    }
}

#[test]
fn index_packs_the_cell_and_naslib_tuples_read() {
    let mut rng = SplitMix64::new(7);
    for _ in 0..300 {
        let c = Nb101Arch::random(&mut rng);
        assert_eq!(Nb101Arch::from_index(c.index()).unwrap(), c);
        assert_eq!(c.to_string().parse::<Nb101Arch>().unwrap(), c);
        let m = c.mutate(&mut rng);
        assert_ne!(m, c);
    }
    let two = cell("01/00;input|output");
    assert_ne!(two.mutate(&mut rng), two);
    // A packing with a dead vertex, and one beyond 34 bits, name no arch.
    assert!(Nb101Arch::from_index(1 << 40).is_err());
    let t = "(0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, \
             0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 4, 4, 4, 1)";
    // Vertex 5 feeds nothing: pruned, its edges with it.
    let c = cell(t);
    assert_eq!(
        c.to_string(),
        "011111/000001/000001/000010/000001/000000;input|maxpool3x3|maxpool3x3|conv3x3-bn-relu|conv3x3-bn-relu|output"
    );
}

/// Module hashes of cells of the data file (PROVENANCE §13), copied with their hashes.
#[test]
fn module_hashes_match_the_benchmark() {
    let cases = [
        ("0110010/0001000/0000010/0000101/0000010/0000001/0000000;input|conv3x3-bn-relu|conv3x3-bn-relu|maxpool3x3|conv3x3-bn-relu|conv1x1-bn-relu|output", "00005c142e6f48ac74fdcf73e3439874"),
        ("0100000/0010000/0001000/0000111/0000010/0000001/0000000;input|conv1x1-bn-relu|conv1x1-bn-relu|conv3x3-bn-relu|conv1x1-bn-relu|conv3x3-bn-relu|output", "0000718c96730a92ea6d5242f8ce77e2"),
    ];
    for (s, h) in cases {
        assert_eq!(cell(s).module_hash(), h, "{s}");
    }
}
