//! The `holdfast` appliance binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    holdfast::cli::main()
}
