//! Build-time facts: the git commit and the build date for `holdfast version`, and the
//! trusted vendor keys compiled into the license verifier.
//!
//! Nothing here touches the network. Both values can be pinned from outside (a Docker build has
//! no `.git`, a reproducible build sets `SOURCE_DATE_EPOCH`).

use std::path::PathBuf;
use std::process::Command;

#[path = "build_support/trusted_keys.rs"]
mod trusted_keys;

fn main() {
    println!("cargo:rerun-if-env-changed=HOLDFAST_GIT_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");

    let commit = std::env::var("HOLDFAST_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=HOLDFAST_GIT_COMMIT={}", commit.trim());
    println!("cargo:rustc-env=HOLDFAST_BUILD_DATE={}", build_date());

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    trusted_keys::generate(&out_dir);
}

fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|c| !c.is_empty())
}

fn build_date() -> String {
    let when = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    let format = time::macros::format_description!("[year]-[month]-[day]");
    when.format(&format)
        .unwrap_or_else(|_| "unknown".to_owned())
}
