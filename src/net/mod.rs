//! Runs network graphs ([`crate::graph`]) in tch: initialisation, the forward with taps, the
//! grouped forward of many archs, counts. Nothing here knows a search space: each space lays
//! out its graph (`space/nats_net.rs` for NATS-Bench, `space/nbmacro/` for NAS-Bench-Macro).
//!
//! A network is a [`Network`] (the checked graph) plus a [`Weights`] (its tensors). Keeping them
//! apart lets a proxy run the same structure with transformed weights (synflow's |W| in
//! float64) without rebuilding anything. Parameter names are the graph's (for NATS-Bench they
//! equal xautodl's `state_dict` keys, so weights exported with [`Weights::save_safetensors`]
//! load into the reference PyTorch model).

mod build;
mod count;
mod device;
mod forward;
mod grouped;

pub use build::{BnMode, Network, NetworkError, Weights};
pub use device::{
    autograd_multithreading, configure_tf32, cudnn_deterministic, gpu_worker_mode, init_cuda,
    limit_onednn_isa, load_cuda_linalg, parse_device, set_autograd_multithreading, setup_process,
    tf32_in_use, use_deterministic_cuda, use_own_backward_thread, use_private_stream, DeviceError,
    TF32_OPT_IN,
};
pub use forward::{ForwardOptions, Tap, TapKind, Taps};
pub use grouped::{grouped_passes, GroupedPasses};
