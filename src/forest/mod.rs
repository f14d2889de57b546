//! Random forest regression (placeholder until the forest lands).
