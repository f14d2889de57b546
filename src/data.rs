//! Input batches for the proxies: an embedded synthetic default, or real CIFAR images.
//!
//! * **Synthetic** (the default, fixed by a seed): pixels drawn i.i.d. from N(0, 1) — the
//!   distribution of normalised images — and labels uniform over the classes. It needs no
//!   files and is the same on every machine and device. Zero-cost proxies rank archs almost as
//!   well on such inputs as on real images for most proxies (data-free proxies like synflow and
//!   zen use all-ones/Gaussian inputs by definition), but the values differ from those computed
//!   on real data: the configuration is recorded with every result.
//! * **CIFAR binary** (`--data cifar10=PATH`, `cifar100=PATH`): records of 3,073 bytes
//!   `[label][1024 R][1024 G][1024 B]` (CIFAR-100: `[coarse][fine][3072]`, 3,074 bytes, or the
//!   3,073-byte layout of `../shared/data/images/cifar100_foolbox20.bin` with fine labels),
//!   normalised with the per-channel mean/std the references use (NASLib `zerocost`,
//!   `naslib/utils/utils.py` `get_train_val_loaders`).
//! * **Foolbox samples** ([`DataSource::Foolbox20`], the default where installed): the 20 real
//!   CIFAR-10, CIFAR-100 and ImageNet images that the MIT-licensed `foolbox` 3.3.4 wheel on
//!   PyPI ships (the first 20 CIFAR-10 / CIFAR-100 test images; 20 ImageNet validation-style
//!   images), converted by `scripts/setup-images` into the cache (`make` runs it). ImageNet
//!   images are box-filtered to 16×16 as Downsampled-ImageNet does, and their ImageNet-1k
//!   labels mapped into 120 classes by remainder (`label % 120`: only 2 of the 20 are among the
//!   first 120 classes; the labels only have to be fixed and valid for label-using proxies).
//!   Each file is checked against its SHA-256 before use, so the configuration names the data
//!   exactly on every machine. Without them the tools fall back to the synthetic batch and say
//!   so in one line ([`default_source`]).

pub use crate::provenance::DataSource;
use crate::rng::SplitMix64;
use crate::space::NatsDataset;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Images per dataset in the foolbox samples: the largest batch they give.
pub const FOOLBOX_IMAGES: usize = 20;

/// Name of the folder `scripts/setup-images` fills, under the greenfactory cache.
const FOOLBOX_DIR: &str = "images-foolbox-3.3.4";

/// File name and SHA-256 of the converted foolbox samples of `dataset` (what
/// `scripts/setup-images` writes; checked on load).
fn foolbox_file(dataset: NatsDataset) -> (&'static str, &'static str) {
    match dataset {
        NatsDataset::Cifar10 => (
            "cifar10_foolbox20.bin",
            "7a75c7f3d741a45b5f79cc341c8607a874c6f441de815b9d426ace5249b5c733",
        ),
        NatsDataset::Cifar100 => (
            "cifar100_foolbox20.bin",
            "e8f1f6d6d725fe3b0936511677a1f4a4fe2377166fa0d7b7cb4bd08135a2e74f",
        ),
        NatsDataset::ImageNet16_120 => (
            "imagenet16_foolbox20.bin",
            "c480591d5897ab8dc0bb367845785882997f29ae841675c7d43924943c257dae",
        ),
    }
}

/// The greenfactory cache (`$GREENFACTORY_CACHE`, else `$XDG_CACHE_HOME/greenfactory`, else
/// `~/.cache/greenfactory`), as the setup scripts use it.
pub fn cache_dir() -> PathBuf {
    let set = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = set("GREENFACTORY_CACHE") {
        return PathBuf::from(d);
    }
    let base = set("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
    });
    base.join("greenfactory")
}

/// Where the foolbox samples of `dataset` are expected.
pub fn foolbox_path(dataset: NatsDataset) -> PathBuf {
    cache_dir().join(FOOLBOX_DIR).join(foolbox_file(dataset).0)
}

/// The default input of `dataset`: the foolbox samples when installed, else the synthetic batch
/// from `seed` together with the one-line notice to show the user.
pub fn default_source(dataset: NatsDataset, seed: u64) -> (DataSource, Option<String>) {
    let path = foolbox_path(dataset);
    if path.is_file() {
        (DataSource::Foolbox20, None)
    } else {
        (
            DataSource::Synthetic { seed },
            Some(format!(
                "notice: real sample images not found at {} (scripts/setup-images installs them); using the synthetic batch",
                path.display()
            )),
        )
    }
}

/// A labelled batch of images.
#[derive(Debug)]
pub struct Batch {
    /// `[N, 3, H, W]`, float32.
    pub x: Tensor,
    /// `[N]`, int64 class labels.
    pub y: Tensor,
}

impl Batch {
    pub fn len(&self) -> i64 {
        self.x.size()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same batch on another device / kind (labels stay int64).
    pub fn to(&self, kind: Kind, device: Device) -> Result<Batch, DataError> {
        Ok(Batch {
            x: self.x.f_to_kind(kind)?.f_to_device(device)?,
            y: self.y.f_to_device(device)?,
        })
    }

    /// Loads the batch described by `source` for `dataset` with at most `batch_size` images.
    pub fn load(
        source: &DataSource,
        dataset: NatsDataset,
        batch_size: usize,
    ) -> Result<Batch, DataError> {
        match source {
            DataSource::Synthetic { seed } => synthetic(dataset, batch_size, *seed),
            DataSource::CifarBin { path } => cifar_bin(path, dataset, batch_size),
            DataSource::Foolbox20 => foolbox(dataset, batch_size),
        }
    }
}

/// Gaussian N(0,1) pixels (Box–Muller over our own generator) and uniform labels.
pub fn synthetic(dataset: NatsDataset, batch_size: usize, seed: u64) -> Result<Batch, DataError> {
    let s = dataset.input_size();
    let n = batch_size as i64 * 3 * s * s;
    let mut rng = SplitMix64::new(seed);
    let px = rng.normals_f32(n as usize);
    let labels: Vec<i64> = (0..batch_size)
        .map(|_| rng.below(dataset.num_classes() as u64) as i64)
        .collect();
    Ok(Batch {
        x: Tensor::f_from_slice(&px)?.f_reshape([batch_size as i64, 3, s, s])?,
        y: Tensor::f_from_slice(&labels)?,
    })
}

/// Per-channel (mean, std) of the training set, as the references normalise.
fn normalisation(dataset: NatsDataset) -> ([f32; 3], [f32; 3]) {
    match dataset {
        NatsDataset::Cifar10 => ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]),
        NatsDataset::Cifar100 => ([0.5071, 0.4865, 0.4409], [0.2673, 0.2564, 0.2762]),
        NatsDataset::ImageNet16_120 => (
            [122.68 / 255.0, 116.66 / 255.0, 104.01 / 255.0],
            [63.22 / 255.0, 61.26 / 255.0, 65.09 / 255.0],
        ),
    }
}

/// The foolbox samples of `dataset`, checked against their SHA-256.
pub fn foolbox(dataset: NatsDataset, batch_size: usize) -> Result<Batch, DataError> {
    use sha2::Digest;
    let path = foolbox_path(dataset);
    let err = |why: String| DataError::File {
        path: path.clone(),
        why,
    };
    let bytes = std::fs::read(&path).map_err(|e| {
        err(format!(
            "{e} (the foolbox sample images are installed by scripts/setup-images)"
        ))
    })?;
    let want = foolbox_file(dataset).1;
    let got: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if got != want {
        return Err(err(format!(
            "SHA-256 {got} is not that of the foolbox 3.3.4 samples ({want}); rerun scripts/setup-images, which rebuilds them"
        )));
    }
    let side = dataset.input_size() as usize;
    records(&bytes, 1, side, dataset, batch_size).map_err(err)
}

/// Normalised images and labels from records `[label bytes][R plane][G plane][B plane]` of
/// `side`×`side` pixels (the fine label is the last label byte).
fn records(
    bytes: &[u8],
    label_bytes: usize,
    side: usize,
    dataset: NatsDataset,
    batch_size: usize,
) -> Result<Batch, String> {
    let plane = side * side;
    let rec = label_bytes + 3 * plane;
    let count = (bytes.len() / rec).min(batch_size);
    if count == 0 {
        return Err("no images in file".into());
    }
    let (mean, std) = normalisation(dataset);
    let mut px = Vec::with_capacity(count * 3 * plane);
    let mut labels = Vec::with_capacity(count);
    for r in bytes.chunks_exact(rec).take(count) {
        let label = r[label_bytes - 1] as i64;
        if label >= dataset.num_classes() {
            return Err(format!("label {label} out of range for {dataset}"));
        }
        labels.push(label);
        for (c, pl) in r[label_bytes..].chunks_exact(plane).enumerate() {
            px.extend(pl.iter().map(|&v| (v as f32 / 255.0 - mean[c]) / std[c]));
        }
    }
    let s = side as i64;
    let torch = |e: tch::TchError| e.to_string();
    Ok(Batch {
        x: Tensor::f_from_slice(&px)
            .and_then(|t| t.f_reshape([count as i64, 3, s, s]))
            .map_err(torch)?,
        y: Tensor::f_from_slice(&labels).map_err(torch)?,
    })
}

/// Reads CIFAR binary records (see the module docs) and normalises them.
pub fn cifar_bin(path: &Path, dataset: NatsDataset, batch_size: usize) -> Result<Batch, DataError> {
    let err = |why: String| DataError::File {
        path: path.to_path_buf(),
        why,
    };
    if dataset == NatsDataset::ImageNet16_120 {
        return Err(err(
            "CIFAR binary images are 32×32; ImageNet16-120 networks take 16×16 inputs".into(),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let label_bytes = if bytes.len() % 3073 == 0 {
        1
    } else if bytes.len() % 3074 == 0 {
        2
    } else {
        return Err(err(format!(
            "{} bytes is not a whole number of CIFAR records (3,073 or 3,074 bytes each)",
            bytes.len()
        )));
    };
    records(&bytes, label_bytes, 32, dataset, batch_size).map_err(err)
}
