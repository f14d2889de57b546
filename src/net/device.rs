//! Device selection (`auto | cpu | cuda[:N]`) and CUDA start-up.

use tch::Device;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    #[error("unknown device {0:?} (expected auto, cpu, cuda or cuda:N)")]
    Unknown(String),
    #[error("device {asked} requested but CUDA is not available on this machine ({count} GPU(s) visible)")]
    NoCuda { asked: String, count: usize },
}

/// Loads `libtorch_cuda.so` so that libtorch registers its CUDA kernels. rustc links with
/// `--as-needed` and drops the library otherwise (nothing else references its symbols); it must run
/// before the first `tch::Cuda` call. On a machine without the CUDA libraries the load fails
/// harmlessly and the CPU path works. Idempotent.
pub fn init_cuda() {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // A library user who never calls it still gets float32 CUDA values.
        configure_tf32();
        // SAFETY: dlopen with a valid NUL-terminated name; the handle is deliberately kept
        // open for the life of the process.
        unsafe {
            libc::dlopen(
                c"libtorch_cuda.so".as_ptr(),
                libc::RTLD_NOW | libc::RTLD_GLOBAL,
            );
        }
    });
}

/// The process-wide settings under which the engine computes the shipped tables' values, made
/// once per process: the oneDNN instruction-set limit ([`limit_onednn_isa`]), float32 CUDA
/// unless opted out ([`configure_tf32`]), deterministic cuDNN and cuBLAS
/// ([`use_deterministic_cuda`]) and libtorch's CUDA kernels loaded ([`init_cuda`]).
/// [`crate::proxy::Engine::new`] and [`parse_device`] call it, so a program that links the
/// crate gets them without asking; calling it first thing in `main` (the `greenfactory` binary
/// does) also covers libtorch work done before the first engine, since oneDNN and cuDNN read
/// their settings once, at their first kernel.
pub fn setup_process() {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        limit_onednn_isa();
        configure_tf32();
        use_deterministic_cuda();
        init_cuda();
    });
}

/// The instruction-set ceiling of libtorch's oneDNN CPU kernels when the user set none
/// (`ONEDNN_MAX_CPU_ISA`).
pub const ONEDNN_ISA: &str = "AVX2";

/// Limits libtorch's oneDNN CPU kernels to AVX2 unless `ONEDNN_MAX_CPU_ISA` is already set
/// (`ONEDNN_MAX_CPU_ISA=DEFAULT` lifts the limit). oneDNN picks its convolution kernels by
/// instruction set, and its AVX-512 kernels round differently from the AVX2 ones: on an
/// AVX-512 Intel Xeon, proxy values differed from those of the AVX2 AMD EPYC that made the
/// golden values and shipped tables by up to 2e-2 relative (grasp), 2e-4 with the limit
/// (measured in `benches/README.md`, "Reproducibility across CPUs"). GPU runs are unaffected.
///
/// It sets a process environment variable, which oneDNN reads once, before its first kernel:
/// call it at the start of `main`, before any other thread or libtorch call (the
/// `greenfactory` binary does; `.cargo/config.toml` sets the same for tests).
pub fn limit_onednn_isa() {
    if std::env::var_os("ONEDNN_MAX_CPU_ISA").is_none() {
        std::env::set_var("ONEDNN_MAX_CPU_ISA", ONEDNN_ISA);
    }
}

/// Set to `1` to let CUDA convolutions and matrix products use TF32 ([`configure_tf32`]).
pub const TF32_OPT_IN: &str = "GREENFACTORY_TF32";

/// Keeps CUDA convolutions and matrix products in float32 unless the user opts into TF32
/// (`GREENFACTORY_TF32=1`): it sets `NVIDIA_TF32_OVERRIDE=0`, which cuDNN and cuBLAS read when
/// they start, unless that variable is already set. libtorch enables TF32 for cuDNN
/// convolutions by default; with it the H200 gave epe_nas values 1.1e-2 (median) and up to
/// 0.11 relative away from the CPU's and moved the shipped model's predictions by up to 2.1
/// points, without it 2.1e-5 and 0.05 points (issue 23's measurements, `benches/README.md`).
/// Call it at the start of `main`, before any CUDA call (the `greenfactory` binary does). The
/// choice is recorded in every table's configuration ([`tf32_in_use`]).
pub fn configure_tf32() {
    let opted_in = std::env::var(TF32_OPT_IN).is_ok_and(|v| v == "1");
    if !opted_in && std::env::var_os("NVIDIA_TF32_OVERRIDE").is_none() {
        std::env::set_var("NVIDIA_TF32_OVERRIDE", "0");
    }
}

/// Whether CUDA work of this process may use TF32 (`NVIDIA_TF32_OVERRIDE` is not `0`); what an
/// engine on `device` records as [`crate::provenance::ProxyConfig::tf32`] (always false on
/// CPU).
pub fn tf32_in_use(device: Device) -> bool {
    matches!(device, Device::Cuda(_))
        && match std::env::var("NVIDIA_TF32_OVERRIDE") {
            Ok(v) => v.trim() != "0",
            // Unset: libtorch's default, TF32 convolutions.
            Err(_) => true,
        }
}

/// Loads libtorch's CUDA linear-algebra kernels from the calling thread (a no-op on CPU). Call
/// it before extraction workers start. libtorch loads `libtorch_cuda_linalg` at the first CUDA
/// linalg call through stubs that are not thread-safe (`loadLazyTorchLinalgLibrary` in
/// `aten/src/ATen/native/cuda/LinearAlgebraStubs.cpp` counts its calls in a plain static):
/// when several workers make that first call at once, all but one fail with "lazy wrapper
/// should be called at most once", and the arch's row records the failure. The library
/// registers every CUDA linalg kernel when it loads; the two calls here are the ones the
/// proxies make on the device (nwot's `slogdet`, ntk's `eigvalsh`).
pub fn load_cuda_linalg(device: Device) -> Result<(), tch::TchError> {
    if !matches!(device, Device::Cuda(_)) {
        return Ok(());
    }
    let eye = tch::Tensor::f_eye(2, (tch::Kind::Float, device))?;
    let _ = eye.f_slogdet()?;
    let _ = eye.f_linalg_eigvalsh("L")?;
    Ok(())
}

/// Parses `auto | cpu | cuda | cuda:N`. `auto` picks CUDA device 0 when available.
pub fn parse_device(s: &str) -> Result<Device, DeviceError> {
    setup_process();
    let s = s.trim().to_ascii_lowercase();
    let count = tch::Cuda::device_count() as usize;
    let cuda = |n: usize| {
        if n < count {
            Ok(Device::Cuda(n))
        } else {
            Err(DeviceError::NoCuda {
                asked: s.clone(),
                count,
            })
        }
    };
    match s.as_str() {
        "auto" => Ok(if count > 0 {
            Device::Cuda(0)
        } else {
            Device::Cpu
        }),
        "cpu" => Ok(Device::Cpu),
        "cuda" | "gpu" => cuda(0),
        _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(n)) => cuda(n),
            _ => Err(DeviceError::Unknown(s.chars().take(40).collect())),
        },
    }
}

#[cfg(not(gf_no_stream_shim))]
extern "C" {
    fn gf_use_pool_stream(device: i32) -> i32;
    fn gf_set_autograd_multithreading(enabled: i32);
    fn gf_autograd_multithreading() -> i32;
    fn gf_deterministic_cudnn();
    fn gf_cudnn_deterministic() -> i32;
}

/// Makes CUDA runs repeatable: cuDNN's deterministic algorithms with benchmark autotuning off
/// (`csrc/gpu_worker.cpp`), and cuBLAS's deterministic workspace (`CUBLAS_WORKSPACE_CONFIG`
/// `:4096:8` unless set; cuBLAS reads it when it starts, NVIDIA's documented switch). CPU
/// kernels are unaffected. [`setup_process`] calls it.
pub fn use_deterministic_cuda() {
    if std::env::var_os("CUBLAS_WORKSPACE_CONFIG").is_none() {
        std::env::set_var("CUBLAS_WORKSPACE_CONFIG", ":4096:8");
    }
    #[cfg(not(gf_no_stream_shim))]
    // SAFETY: sets two process-wide flags of libtorch's global context; no arguments.
    unsafe {
        gf_deterministic_cudnn()
    };
}

/// Whether cuDNN runs its deterministic algorithms ([`use_deterministic_cuda`]); false where
/// the shim was not built.
pub fn cudnn_deterministic() -> bool {
    #[cfg(not(gf_no_stream_shim))]
    // SAFETY: reads a flag of libtorch's global context.
    return unsafe { gf_cudnn_deterministic() } == 1;
    #[cfg(gf_no_stream_shim)]
    false
}

/// Puts the calling thread on a CUDA stream of its own from libtorch's pool (for `Cuda(n)`;
/// a no-op on CPU). Returns whether a private stream is in use. Set `GREENFACTORY_NO_STREAMS=1`
/// to keep the default stream (for benchmarking the difference).
pub fn use_private_stream(device: Device) -> bool {
    let Device::Cuda(n) = device else {
        return false;
    };
    if streams_off() {
        return false;
    }
    #[cfg(not(gf_no_stream_shim))]
    {
        // SAFETY: plain C call; the shim catches every C++ exception.
        unsafe { gf_use_pool_stream(n as i32) == 0 }
    }
    #[cfg(gf_no_stream_shim)]
    {
        let _ = n;
        false
    }
}

/// Makes libtorch run the calling thread's backward passes on the calling thread (for
/// `Cuda(n)`; a no-op on CPU, whose backward passes always run on the calling thread). By
/// default libtorch runs every CUDA backward pass of the process on one engine thread per
/// device, so the backward passes of all extraction workers would be launched one after
/// another by that single thread (`csrc/gpu_worker.cpp` explains the flag). Values do not
/// change: the same kernels run on the same streams. Returns whether the calling thread now
/// runs its own backward passes. Set `GREENFACTORY_AUTOGRAD_DEVICE_THREAD=1` to keep
/// libtorch's default (for benchmarking the difference).
pub fn use_own_backward_thread(device: Device) -> bool {
    if !matches!(device, Device::Cuda(_)) || device_thread_forced() {
        return false;
    }
    set_autograd_multithreading(false)
}

/// `GREENFACTORY_NO_STREAMS` is set: workers keep the default CUDA stream.
fn streams_off() -> bool {
    std::env::var_os("GREENFACTORY_NO_STREAMS").is_some()
}

/// `GREENFACTORY_AUTOGRAD_DEVICE_THREAD` is set: CUDA backward passes stay on libtorch's
/// autograd device thread.
fn device_thread_forced() -> bool {
    std::env::var_os("GREENFACTORY_AUTOGRAD_DEVICE_THREAD").is_some()
}

/// How extraction workers run on `device`, for benchmark logs: `None` on CPU, else whether each
/// worker has a private CUDA stream and launches its own backward passes (both on unless
/// `GREENFACTORY_NO_STREAMS` / `GREENFACTORY_AUTOGRAD_DEVICE_THREAD` is set, or the shim is
/// not built).
pub fn gpu_worker_mode(device: Device) -> Option<String> {
    if !matches!(device, Device::Cuda(_)) {
        return None;
    }
    let shim = autograd_multithreading().is_some();
    let streams = shim && !streams_off();
    let own = shim && !device_thread_forced();
    Some(format!(
        "workers: {} CUDA stream, backward passes on {}",
        if streams { "a private" } else { "the default" },
        if own {
            "the worker's own thread"
        } else {
            "libtorch's autograd device thread"
        }
    ))
}

/// Sets the calling thread's autograd multithreading flag (`true` is libtorch's default).
/// Returns `false` when the shim is not built (then the flag keeps libtorch's default).
pub fn set_autograd_multithreading(enabled: bool) -> bool {
    #[cfg(not(gf_no_stream_shim))]
    {
        // SAFETY: plain C calls setting and reading a thread-local flag; neither can throw.
        unsafe {
            gf_set_autograd_multithreading(i32::from(enabled));
            (gf_autograd_multithreading() != 0) == enabled
        }
    }
    #[cfg(gf_no_stream_shim)]
    {
        let _ = enabled;
        false
    }
}

/// The calling thread's autograd multithreading flag; `None` when the shim is not built.
pub fn autograd_multithreading() -> Option<bool> {
    #[cfg(not(gf_no_stream_shim))]
    {
        // SAFETY: plain C call reading a thread-local flag.
        Some(unsafe { gf_autograd_multithreading() != 0 })
    }
    #[cfg(gf_no_stream_shim)]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_process_setup_makes_cuda_deterministic() {
        super::setup_process();
        assert!(
            std::env::var_os("CUBLAS_WORKSPACE_CONFIG").is_some(),
            "cuBLAS workspace set (or left as the user set it)"
        );
        #[cfg(not(gf_no_stream_shim))]
        assert!(super::cudnn_deterministic(), "cuDNN deterministic");
    }
}
