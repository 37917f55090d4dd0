//! What this binary is: version, commit and build date, fixed at compile time by `build.rs`.

/// The package version from `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The short git commit the binary was built from, or `unknown`.
pub const GIT_COMMIT: &str = env!("HOLDFAST_GIT_COMMIT");
/// The UTC date of the build (`SOURCE_DATE_EPOCH` when set), `YYYY-MM-DD`.
pub const BUILD_DATE: &str = env!("HOLDFAST_BUILD_DATE");
/// One line for `--version` and the start-up log.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HOLDFAST_GIT_COMMIT"),
    ", built ",
    env!("HOLDFAST_BUILD_DATE"),
    ")"
);
