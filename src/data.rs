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

use crate::rng::SplitMix64;
use crate::space::NatsDataset;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Where a batch comes from (recorded in the proxy configuration).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum DataSource {
    /// N(0,1) pixels and uniform labels from `seed`.
    Synthetic { seed: u64 },
    /// CIFAR binary records at `path`, the first `batch_size` of them.
    CifarBin { path: PathBuf },
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
    let (label_bytes, rec) = if bytes.len() % 3073 == 0 {
        (1, 3073)
    } else if bytes.len() % 3074 == 0 {
        (2, 3074)
    } else {
        return Err(err(format!(
            "{} bytes is not a whole number of CIFAR records (3,073 or 3,074 bytes each)",
            bytes.len()
        )));
    };
    let count = (bytes.len() / rec).min(batch_size);
    if count == 0 {
        return Err(err("no images in file".into()));
    }
    let (mean, std) = normalisation(dataset);
    let mut px = Vec::with_capacity(count * 3072);
    let mut labels = Vec::with_capacity(count);
    for r in bytes.chunks_exact(rec).take(count) {
        let label = r[label_bytes - 1] as i64; // fine label when there are two
        if label >= dataset.num_classes() {
            return Err(err(format!("label {label} out of range for {dataset}")));
        }
        labels.push(label);
        for (c, plane) in r[label_bytes..].chunks_exact(1024).enumerate() {
            px.extend(plane.iter().map(|&v| (v as f32 / 255.0 - mean[c]) / std[c]));
        }
    }
    Ok(Batch {
        x: Tensor::f_from_slice(&px)?.f_reshape([count as i64, 3, 32, 32])?,
        y: Tensor::f_from_slice(&labels)?,
    })
}
