//! The default input: the foolbox sample images, as `scripts/setup-images` converts them (the
//! Makefile runs it before the tests), checked against the independent conversion of the same
//! wheel in `../shared/data/images/` (PROVENANCE §9a).
#![cfg(feature = "cli")]
mod common;

use greenfactory::data::{default_source, foolbox_path, Batch, DataSource};
use greenfactory::space::NatsDataset;
use tch::Kind;

/// The batch's pixels back as bytes (undoing the normalisation), image by image, planes R,G,B.
fn bytes_of(b: &Batch, mean: [f32; 3], std: [f32; 3]) -> Vec<u8> {
    let x: Vec<f32> = Vec::try_from(b.x.to_kind(Kind::Float).flatten(0, -1)).unwrap();
    let plane = (b.x.size()[2] * b.x.size()[3]) as usize;
    x.iter()
        .enumerate()
        .map(|(k, &v)| {
            let c = (k / plane) % 3;
            ((v * std[c] + mean[c]) * 255.0).round() as u8
        })
        .collect()
}

#[test]
fn foolbox_samples_are_the_reference_images_and_labels() {
    for ds in [
        NatsDataset::Cifar10,
        NatsDataset::Cifar100,
        NatsDataset::ImageNet16_120,
    ] {
        assert!(
            foolbox_path(ds).is_file(),
            "{} missing: run scripts/setup-images",
            foolbox_path(ds).display()
        );
        assert_eq!(default_source(ds, 0), (DataSource::Foolbox20, None));
    }
    let shared = common::data_dir().join("images");

    let c10 = Batch::load(&DataSource::Foolbox20, NatsDataset::Cifar10, 64).unwrap();
    assert_eq!(c10.x.size(), [20, 3, 32, 32]);
    let labels: Vec<i64> = Vec::try_from(&c10.y).unwrap();
    assert_eq!(
        labels,
        [3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8, 5, 7, 8, 6]
    );
    // The same records as the reference CIFAR binary file, loaded by the CIFAR reader.
    let reference = Batch::load(
        &DataSource::CifarBin {
            path: shared.join("cifar10_foolbox20.bin"),
        },
        NatsDataset::Cifar10,
        64,
    )
    .unwrap();
    assert!(c10.x.equal(&reference.x) && c10.y.equal(&reference.y));

    let in16 = Batch::load(&DataSource::Foolbox20, NatsDataset::ImageNet16_120, 20).unwrap();
    assert_eq!(in16.x.size(), [20, 3, 16, 16]);
    let mean = [122.68 / 255.0, 116.66 / 255.0, 104.01 / 255.0];
    let std = [63.22 / 255.0, 61.26 / 255.0, 65.09 / 255.0];
    let pixels = std::fs::read(shared.join("imagenet16_foolbox20_pixels.bin")).unwrap();
    assert_eq!(bytes_of(&in16, mean, std), pixels);
    // ImageNet-1k labels of the reference, mapped into 120 classes by remainder.
    let (h, rows) = common::read_csv(&shared.join("imagenet16_foolbox20_labels.csv"));
    let col = h.iter().position(|c| c.contains("label")).unwrap();
    let want: Vec<i64> = rows
        .iter()
        .map(|r| r[col].parse::<i64>().unwrap() % 120)
        .collect();
    assert_eq!(Vec::<i64>::try_from(&in16.y).unwrap(), want);

    // A smaller batch is the first images.
    let five = Batch::load(&DataSource::Foolbox20, NatsDataset::Cifar100, 5).unwrap();
    assert_eq!(five.x.size(), [5, 3, 32, 32]);
}

#[test]
fn a_changed_sample_file_is_refused() {
    let dir = std::env::temp_dir().join(format!("gf-data-test-{}", std::process::id()));
    let images = dir.join("images-foolbox-3.3.4");
    std::fs::create_dir_all(&images).unwrap();
    let mut bytes = std::fs::read(foolbox_path(NatsDataset::Cifar10)).unwrap();
    bytes[100] ^= 1;
    std::fs::write(images.join("cifar10_foolbox20.bin"), bytes).unwrap();
    // The cache is found through GREENFACTORY_CACHE, set for the child process only.
    let nwot_of_arch_0 = |dataset: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_greenfactory"))
            .args([
                "proxies",
                "--space",
                "tss",
                "--dataset",
                dataset,
                "--arch",
                "0",
                "--only",
                "nwot",
                "--device",
                "cpu",
            ])
            .env("GREENFACTORY_CACHE", &dir)
            .output()
            .unwrap()
    };
    let out = nwot_of_arch_0("cifar10");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("SHA-256"), "{err}");
    // Without any sample file the tools fall back to the synthetic batch and say so.
    let out = nwot_of_arch_0("cifar100");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        err.lines()
            .filter(|l| l.contains("synthetic batch"))
            .count(),
        1,
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
