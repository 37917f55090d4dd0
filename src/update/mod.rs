//! Updates of the binary itself (`holdfast update`). A release is a **bundle**: a `.tar.gz`
//! holding the binary and a `release.json` that names its version and target, signed with
//! Ed25519 by the vendor's release key (`holdfast-signer sign-release`; the format is in
//! RELEASES.md). It comes from a release source — a manifest over HTTP(S), read with the
//! `self_update` crate — or from a file carried in on air-gapped sites.
//!
//! Nothing changes until the bundle has been verified whole: its signature against the
//! release keys built into this binary, its version against this one (no downgrade unless
//! asked), its target against this machine's, the binary's checksum against the signed
//! `release.json`, and the new binary has run. Then one `rename` swaps it in, and the binary
//! it replaces stays beside it as `<name>.previous` for `--rollback`.

mod bundle;
mod install;
mod publish;
mod source;

pub use bundle::{
    BUNDLE_CONTEXT, MAX_BUNDLE_BYTES, OpenedBundle, ReleaseInfo, bundle_file_name, is_installed,
    open, write_signed,
};
pub use install::{Installed, current_binary, install, previous_of, rollback};
pub use publish::add_to_manifest;
pub use source::{Available, download, latest};

use crate::build_info::VERSION;

/// Why an update was refused. Each message starts with a stable code.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("bundle_unsigned: {0} carries no release signature")]
    Unsigned(String),
    #[error(
        "bundle_bad_signature: {0} is not signed by a release key this build trusts (changed since it was signed, or signed by another key)"
    )]
    BadSignature(String),
    #[error("bundle_invalid: {0}")]
    Invalid(String),
    #[error("wrong_target: the bundle is for {bundle}, this machine runs {here}")]
    WrongTarget { bundle: String, here: String },
    #[error(
        "downgrade: the bundle holds Holdfast {bundle}, not newer than this {current}; add --allow-downgrade to install it anyway"
    )]
    Downgrade { bundle: String, current: String },
    #[error("release_source: {0}")]
    Source(String),
    #[error("no_previous: there is no previous binary at {0} to roll back to")]
    NoPrevious(String),
    #[error("update_busy: another update of {0} is running")]
    Busy(String),
    #[error("install_failed: {0}")]
    Install(String),
}

/// This machine's target triple, as bundles name it.
pub fn this_target() -> &'static str {
    self_update::get_target()
}

/// Is `candidate` a newer release than `current`? Versions are semantic versions.
pub fn is_newer(current: &str, candidate: &str) -> Result<bool, UpdateError> {
    self_update::version::bump_is_greater(current, candidate)
        .map_err(|e| UpdateError::Invalid(format!("version {candidate:?}: {e}")))
}

/// The checks a verified bundle must pass before it may replace this binary: built for this
/// machine, and newer than this binary unless a downgrade is allowed.
pub fn check_applicable(info: &ReleaseInfo, allow_downgrade: bool) -> Result<(), UpdateError> {
    if info.target != this_target() {
        return Err(UpdateError::WrongTarget {
            bundle: info.target.clone(),
            here: this_target().to_owned(),
        });
    }
    if !allow_downgrade && !is_newer(VERSION, &info.version)? {
        return Err(UpdateError::Downgrade {
            bundle: info.version.clone(),
            current: VERSION.to_owned(),
        });
    }
    Ok(())
}
