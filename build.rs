//! Puts libtorch's directory into the binary's RUNPATH so it starts without LD_LIBRARY_PATH
//! (torch-sys's own rpath only reaches its C++ shim). `LD_LIBRARY_PATH` still overrides it,
//! which is how the GPU machine swaps in its CUDA build. See `../shared/LIBTORCH.md`.
fn main() {
    if let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.to_string_lossy());
    }
}
