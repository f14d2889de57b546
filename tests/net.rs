//! NATS-Bench networks: parameter and FLOP counts equal the published ones on real data, and the
//! forward pass runs on CPU in float32 and float64.
#![cfg(feature = "torch")]
mod common;

use greenfactory::net::{BnMode, ForwardOptions, Network, TapKind, Taps};
use greenfactory::space::{Arch, NatsDataset, SssArch, TssArch};
use tch::{Device, Kind, Tensor};

fn tss(s: &str) -> Arch {
    Arch::Tss(s.parse::<TssArch>().unwrap())
}

/// Published values carry 6 decimals (in millions): equal to that precision means exact.
fn assert_m(ours: u64, published: &str, what: &str) {
    let p: f64 = published.parse().unwrap();
    assert!(
        (ours as f64 / 1e6 - p).abs() < 5e-7,
        "{what}: ours {ours}, published {published}"
    );
}

/// NAS-Bench-201 v1.0's `params_M` (the NASWOT table) equals our count for every arch except
/// 204 whose v1.0 value is a mean over seed records of differing networks (e.g. 0.1199726667 M,
/// not a whole number of parameters). For those, NATS-Bench's own values (the Suite-Zero
/// table, 131 of them present) equal ours: the anomaly is in the v1.0 records, not the net.
#[test]
fn params_equal_published_for_all_15625_tss_archs() {
    let dir = common::data_dir();
    let (h, rows) = common::read_csv(&dir.join("nb201_naswot/naswot_v1_arch_score_acc.csv"));
    let (ia, ip) = (common::col(&h, "arch_str"), common::col(&h, "params_M"));
    let (hz, zrows) =
        common::read_csv(&dir.join("zc_nasbench_suite_zero/nb201_cifar10_zc_proxies_joined.csv"));
    let (za, zp) = (common::col(&hz, "arch_str"), common::col(&hz, "params"));
    let suite_zero: std::collections::HashMap<&str, &str> = zrows
        .iter()
        .map(|r| (r[za].as_str(), r[zp].as_str()))
        .collect();
    assert_eq!(rows.len(), 15_625);
    let (mut v1_anomalies, mut confirmed) = (0, 0);
    for r in &rows {
        let net = Network::new((tss(&r[ia])).graph(NatsDataset::Cifar10)).unwrap();
        let p: f64 = r[ip].parse().unwrap();
        if (net.param_count() as f64 / 1e6 - p).abs() < 5e-7 {
            continue;
        }
        v1_anomalies += 1;
        if let Some(z) = suite_zero.get(r[ia].as_str()) {
            assert_m(net.param_count(), z, &r[ia]);
            confirmed += 1;
        }
    }
    assert_eq!((v1_anomalies, confirmed), (204, 131));
}

/// Suite-Zero's `params` equal ours exactly. Its `flops` come from NASLib's counter, which
/// also counts ReLU (1/element) and BN (2/element) around every conv op, 9/element for the
/// 3×3 pooling and a constant 0.160822 M for the fixed layers — NATS-Bench's own counter
/// (which we follow, checked on the fixtures below) counts convolutions and the classifier
/// only. We check the published value equals ours plus exactly that difference.
#[test]
fn params_and_flops_equal_suite_zero_for_9445_archs_on_cifar10_and_imagenet16() {
    for (file, ds) in [
        ("nb201_cifar10_zc_proxies_joined.csv", NatsDataset::Cifar10),
        (
            "nb201_imagenet16_120_zc_proxies_joined.csv",
            NatsDataset::ImageNet16_120,
        ),
    ] {
        let (h, rows) =
            common::read_csv(&common::data_dir().join("zc_nasbench_suite_zero").join(file));
        let (ia, ip, ifl) = (
            common::col(&h, "arch_str"),
            common::col(&h, "params"),
            common::col(&h, "flops"),
        );
        assert_eq!(rows.len(), 9_445);
        // Σ over the 15 cells of C·H·W at each stage: 16·32², 32·16², 64·8² (halved for IN16).
        let s = ds.input_size();
        let chw: i64 = 5 * (16 * s * s + 32 * (s / 2) * (s / 2) + 64 * (s / 4) * (s / 4));
        let mut constant = None;
        for r in &rows {
            let arch = r[ia].parse::<TssArch>().unwrap();
            let net = Network::new((Arch::Tss(arch)).graph(ds)).unwrap();
            assert_m(net.param_count(), &r[ip], &format!("{ds} params {}", r[ia]));
            let convs = arch.ops.iter().filter(|o| o.is_conv()).count() as i64;
            let pools = arch
                .ops
                .iter()
                .filter(|o| **o == greenfactory::space::Op::AvgPool3x3)
                .count() as i64;
            let naslib_extra = 3 * chw * convs + 9 * chw * pools;
            let published: f64 = r[ifl].parse().unwrap();
            let rest = published - (net.flop_count() as i64 + naslib_extra) as f64 / 1e6;
            let c = *constant.get_or_insert(rest);
            assert!(
                (rest - c).abs() < 1e-6,
                "{ds} flops {}: {rest} vs {c}",
                r[ia]
            );
        }
        eprintln!(
            "{ds}: NASLib's fixed-layer constant {:.6} M",
            constant.unwrap()
        );
    }
}

#[test]
fn params_and_flops_equal_nats_fixtures_on_all_datasets() {
    let (h, rows) =
        common::read_csv(&common::data_dir().join("nats_fixtures/nats_fixture_summary.csv"));
    let c = |n| common::col(&h, n);
    let (isp, ia, ids, ip, ifl) = (
        c("space"),
        c("arch_str"),
        c("dataset"),
        c("params_M"),
        c("flops_M"),
    );
    let mut checked = 0;
    for r in &rows {
        let ds: NatsDataset = match r[ids].as_str() {
            "cifar10-valid" => NatsDataset::Cifar10,
            other => other.parse().unwrap(),
        };
        let arch = match r[isp].as_str() {
            "tss" => tss(&r[ia]),
            _ => Arch::Sss(r[ia].parse::<SssArch>().unwrap()),
        };
        let net = Network::new(arch.graph(ds)).unwrap();
        assert_m(net.param_count(), &r[ip], &format!("{} {ds} params", r[ia]));
        assert_m(net.flop_count(), &r[ifl], &format!("{} {ds} flops", r[ia]));
        checked += 1;
    }
    assert_eq!(checked, 60);
    let smallest =
        Network::new((Arch::Sss("8:8:8:8:8".parse().unwrap())).graph(NatsDataset::Cifar10))
            .unwrap();
    assert_eq!(smallest.param_count(), 11_714);
}

#[test]
fn forward_and_backward_on_cpu_in_f32_and_f64() {
    let arch = tss(
        "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|",
    );
    for ds in NatsDataset::ALL {
        let net = Network::new(arch.graph(ds)).unwrap();
        for kind in [Kind::Float, Kind::Double] {
            let w = net
                .init_weights(1, kind, Device::Cpu)
                .unwrap()
                .fresh(kind, Device::Cpu, true)
                .unwrap();
            let s = ds.input_size();
            let x = Tensor::ones([4, 3, s, s], (kind, Device::Cpu));
            let mut taps = Taps::new(&[TapKind::ReluInput, TapKind::PreGap, TapKind::ConvOutput]);
            let y = net
                .forward(
                    &w,
                    &x,
                    ForwardOptions { bn: BnMode::Train },
                    Some(&mut taps),
                )
                .unwrap();
            assert_eq!(y.size(), vec![4, ds.num_classes()]);
            assert_eq!(y.kind(), kind);
            assert!(taps.of(TapKind::PreGap).count() == 1);
            // 5 cells × 3 stages × (3×3 + 1×1 conv) + 2 reduction blocks × 2 + lastact.
            assert_eq!(taps.of(TapKind::ReluInput).count(), 15 * 2 + 4 + 1);
            y.sum(kind).backward();
            let g = w.tensors[0].grad();
            assert!(g.defined() && g.abs().sum(Kind::Double).double_value(&[]) > 0.0);
        }
    }
    // Same seed, same weights; another seed, other weights.
    let net = Network::new(arch.graph(NatsDataset::Cifar10)).unwrap();
    let a = net.init_weights(7, Kind::Float, Device::Cpu).unwrap();
    let b = net.init_weights(7, Kind::Float, Device::Cpu).unwrap();
    let c = net.init_weights(8, Kind::Float, Device::Cpu).unwrap();
    assert!(a.tensors[0].equal(&b.tensors[0]));
    assert!(!a.tensors[0].equal(&c.tensors[0]));
    assert_eq!(a.numel() as u64, net.param_count());
    net.check_weights(&a).unwrap();
    // Wrong input shape is an error, not a panic.
    let bad = Tensor::ones([2, 3, 16, 16], (Kind::Float, Device::Cpu));
    let e = net
        .forward(&a, &bad, ForwardOptions::default(), None)
        .unwrap_err();
    assert!(e.to_string().contains("expects [N, 3, 32, 32]"), "{e}");
}

#[test]
fn largest_sss_network_and_bn_off_run() {
    let net =
        Network::new((Arch::Sss("64:64:64:64:64".parse().unwrap())).graph(NatsDataset::Cifar100))
            .unwrap();
    let w = net.init_weights(0, Kind::Double, Device::Cpu).unwrap();
    let x = Tensor::ones([1, 3, 32, 32], (Kind::Double, Device::Cpu));
    for bn in [BnMode::Train, BnMode::Eval, BnMode::Off] {
        let y = net.forward(&w, &x, ForwardOptions { bn }, None).unwrap();
        assert_eq!(y.size(), vec![1, 100]);
    }
}

/// The shim's autograd flag (extraction workers run their own CUDA backward passes with it
/// off): it is per thread, it reads back what was set, and a backward pass on the calling
/// thread gives the same gradients as libtorch's default.
#[test]
fn autograd_thread_flag_is_per_thread_and_changes_no_gradient() {
    use greenfactory::net::{autograd_multithreading, set_autograd_multithreading};
    let Some(default) = autograd_multithreading() else {
        panic!("the shim (csrc/gpu_worker.cpp) is not built: libtorch's c10 headers are missing");
    };
    assert!(default, "libtorch's default is the engine's device threads");
    let arch = tss("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|skip_connect~2|");
    let grads = |own_thread: bool| {
        std::thread::spawn(move || {
            assert!(set_autograd_multithreading(!own_thread));
            assert_eq!(autograd_multithreading(), Some(!own_thread));
            let net = Network::new(arch.graph(NatsDataset::Cifar10)).unwrap();
            let w = net
                .init_weights(3, Kind::Float, Device::Cpu)
                .unwrap()
                .fresh(Kind::Float, Device::Cpu, true)
                .unwrap();
            let x = Tensor::ones([4, 3, 32, 32], (Kind::Float, Device::Cpu));
            let y = net
                .forward(&w, &x, ForwardOptions { bn: BnMode::Train }, None)
                .unwrap();
            Tensor::run_backward(&[y.sum(Kind::Float)], &w.tensors, false, false)
        })
        .join()
        .unwrap()
    };
    let own = grads(true);
    let engine = grads(false);
    assert_eq!(own.len(), engine.len());
    for (a, b) in own.iter().zip(&engine) {
        assert!(a.equal(b));
    }
    // Another thread's setting did not leak into this one.
    assert_eq!(autograd_multithreading(), Some(true));
}

/// `Weights::upload`'s one-copy path (taken for GPUs, where every host→device copy waits for
/// the stream) gives every tensor exactly the values of a copy per tensor, each in an
/// allocation of its own (aligned like one), in float32 and float64.
#[test]
fn packed_upload_equals_a_copy_per_tensor() {
    let arch = tss("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|skip_connect~2|");
    let net = Network::new(arch.graph(NatsDataset::Cifar100)).unwrap();
    let w = net.init_weights(5, Kind::Float, Device::Cpu).unwrap();
    for kind in [Kind::Float, Kind::Double] {
        let packed = w.upload_packed(kind, Device::Cpu).unwrap();
        let each = w.fresh(kind, Device::Cpu, false).unwrap();
        assert_eq!(packed.names, each.names);
        assert_eq!(packed.tensors.len(), each.tensors.len());
        for (a, b) in packed.tensors.iter().zip(&each.tensors) {
            assert_eq!((a.size(), a.kind()), (b.size(), kind));
            assert!(a.equal(b));
            assert!(a.is_contiguous() && a.data_ptr() as usize % 64 == 0);
        }
        net.check_weights(&packed).unwrap();
    }
}
