//! The `greenfactory` command: parses arguments and calls the library (see `cli`).

fn main() {
    greenfactory::cli::restore_sigpipe();
    // Before any thread or libtorch call: the same oneDNN kernels on every CPU (see there).
    greenfactory::net::limit_onednn_isa();
    // Before any CUDA call: CUDA values in float32, like the CPU's, unless asked otherwise.
    greenfactory::net::configure_tf32();
    // Before any CUDA call: register libtorch's CUDA kernels (see LIBTORCH.md).
    greenfactory::net::init_cuda();
    if let Err(e) = greenfactory::cli::run() {
        eprintln!("error: {}", greenfactory::cli::one_line_error(&e));
        std::process::exit(1);
    }
}
