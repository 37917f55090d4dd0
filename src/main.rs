//! The `holdfast` appliance binary: everything lives in the library.

/// mimalloc serves every allocation of the process, SQLite's included (its `override`
/// feature replaces `malloc` and `free`): glibc's allocator spent a quarter of a list
/// request's time consolidating free chunks across the server's threads (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    no_transparent_huge_pages();
    holdfast::cli::main()
}

/// Memory comes to the process in pages of 4 KiB, never as transparent huge pages of 2 MiB.
/// mimalloc gives freed memory back to the kernel a moment after a burst of requests, and
/// the next allocation there faults it in again: a huge page is zeroed whole, 2 MiB for a
/// few bytes. After a burst of list reads, searches spent 45 % of their time zeroing pages
/// and took four times as long at p95 (see BENCHMARKS.md). mimalloc is built without asking
/// for huge pages (`no_thp`); this also keeps a kernel set to give them to everyone
/// (`transparent_hugepage=always`) from doing so. A kernel or sandbox that refuses the
/// switch leaves huge pages on: slower after bursts, and nothing else, so it is not reported.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_thp_disable(true);
}
