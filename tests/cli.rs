//! The command line: real commands, real output, one-line errors with a non-zero exit.
#![cfg(feature = "cli")]
mod common;

use std::process::{Command, Output};

fn gf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_greenfactory"))
        .args(args)
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Bad input: non-zero exit, exactly one line on stderr starting with "error:", no panic.
fn assert_one_line_error(o: &Output, want: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "should fail: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {err}");
    assert!(
        lines[0].starts_with("error:") && err.contains(want),
        "{err}"
    );
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
    for (args, want) in [
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
    ] {
        let o = gf(&args);
        assert_one_line_error(&o, want);
    }
}
