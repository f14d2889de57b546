//! NATS-Bench networks in tch, built exactly as NATS-Bench defines them.
//!
//! Reference (read, not copied): `xautodl==1.0.0`, `models/cell_infers/tiny_network.py`
//! (`TinyNetwork`, TSS), `models/shape_infers/InferTinyCellNet.py` (`DynamicShapeTinyNet`, SSS),
//! `models/cell_infers/cells.py` (`InferCell`) and `models/cell_operations.py` (`ReLUConvBN`,
//! `ResNetBasicblock`, `POOLING`, `FactorizedReduce`, `Zero`, `Identity`).
//!
//! * TSS: stem (3×3 conv 3→16, BN), 5 cells at C=16, a ResNet reduction block to 32, 5 cells,
//!   a reduction block to 64, 5 cells, then BN, ReLU, global average pooling and a linear
//!   classifier.
//! * SSS: the same skeleton with one cell per stage and five searched channel counts
//!   `c1:…:c5` (stem and first cell at c1, reduction to c2, cell c2→c3, reduction to c4,
//!   cell c4→c5), always with the best TSS cell.
//!
//! A network is a [`Network`] (the structure) plus a [`Weights`] (its tensors). Keeping them apart
//! lets a proxy run the same structure with transformed weights (synflow's |W| in float64)
//! without rebuilding anything. Parameter names equal xautodl's `state_dict` keys, so weights
//! exported with [`Weights::save_safetensors`] load into the reference PyTorch model.

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
