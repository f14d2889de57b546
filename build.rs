//! 1. Puts libtorch's directory into the binary's RUNPATH so it starts without
//!    LD_LIBRARY_PATH (torch-sys's own rpath only reaches its C++ shim). `LD_LIBRARY_PATH` still
//!    overrides it, which is how the GPU machine swaps in its CUDA build. See
//!    `../shared/LIBTORCH.md`.
//! 2. Compiles `csrc/gpu_worker.cpp` (per-thread CUDA streams from libtorch's pool, backward
//!    passes on the calling thread, deterministic cuDNN) against libtorch's headers, linked to
//!    `libc10` and `libtorch_cpu` (no CUDA headers or libraries needed). Where the headers are missing the shim is skipped
//!    (`cfg(gf_no_stream_shim)`): workers then share the default stream and the engine's
//!    backward thread.
use std::path::PathBuf;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(gf_no_stream_shim)");
    println!("cargo:rerun-if-changed=csrc/gpu_worker.cpp");
    let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.to_string_lossy());
    let lib = PathBuf::from(lib);
    let include = lib.join("../include");
    let have = include
        .join("c10/core/impl/DeviceGuardImplInterface.h")
        .exists()
        && include.join("c10/core/AutogradState.h").exists()
        && include.join("ATen/Context.h").exists()
        && lib.join("libc10.so").exists()
        && lib.join("libtorch_cpu.so").exists();
    if !have {
        println!("cargo:rustc-cfg=gf_no_stream_shim");
        return;
    }
    cc::Build::new()
        .cpp(true)
        .file("csrc/gpu_worker.cpp")
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag("-w")
        .opt_level(1)
        .compile("gf_gpu_worker");
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=dylib=c10");
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
}
