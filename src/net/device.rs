//! Device selection (`auto | cpu | cuda[:N]`) and CUDA start-up.

use tch::Device;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device {0:?} (expected auto, cpu, cuda or cuda:N)")]
    Unknown(String),
    #[error("device {asked} requested but CUDA is not available on this machine ({count} GPU(s) visible)")]
    NoCuda { asked: String, count: usize },
}

/// Loads `libtorch_cuda.so` so that libtorch registers its CUDA kernels. rustc links with
/// `--as-needed` and drops the library otherwise (see `../shared/LIBTORCH.md`); it must run
/// before the first `tch::Cuda` call. On a machine without the CUDA libraries the load fails
/// harmlessly and the CPU path works. Idempotent.
pub fn init_cuda() {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
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

/// Parses `auto | cpu | cuda | cuda:N`. `auto` picks CUDA device 0 when available.
pub fn parse_device(s: &str) -> Result<Device, DeviceError> {
    init_cuda();
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
}

/// Puts the calling thread on a CUDA stream of its own from libtorch's pool (for `Cuda(n)`;
/// a no-op on CPU). Returns whether a private stream is in use. Set `GREENFACTORY_NO_STREAMS=1`
/// to keep the default stream (for benchmarking the difference).
pub fn use_private_stream(device: Device) -> bool {
    let Device::Cuda(n) = device else {
        return false;
    };
    if std::env::var_os("GREENFACTORY_NO_STREAMS").is_some() {
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
