//! The `holdfast` appliance binary: everything lives in the library.

/// mimalloc serves every allocation of the process, SQLite's included (its `override`
/// feature replaces `malloc` and `free`): glibc's allocator spent a quarter of a list
/// request's time consolidating free chunks across the server's threads (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    holdfast::cli::main()
}
