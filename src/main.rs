//! The `greenfactory` command: parses arguments and calls the library (see `cli`).

fn main() {
    greenfactory::cli::restore_sigpipe();
    // Before any thread or libtorch call: the oneDNN kernels of the shipped tables, float32
    // CUDA, libtorch's CUDA kernels registered (see there).
    greenfactory::net::setup_process();
    if let Err(e) = greenfactory::cli::run() {
        eprintln!("error: {}", greenfactory::cli::one_line_error(&e));
        std::process::exit(1);
    }
}
