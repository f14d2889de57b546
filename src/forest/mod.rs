//! Random forest regression: fit, predict with uncertainty, metrics, model file.

mod dataset;

pub use dataset::Dataset;
