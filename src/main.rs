//! The `livenotify` binary: everything lives in the library; this only hands over to the CLI.
//! It allocates with mimalloc: the delivery path makes many small short-lived allocations
//! (request and record strings), and glibc's allocator spent about a tenth of serve's CPU on
//! them (BENCHMARKS.md).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    livenotify::cli::main()
}
