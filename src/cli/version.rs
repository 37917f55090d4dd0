use clap::Args;
use serde_json::json;

use crate::build_info::{BUILD_DATE, GIT_COMMIT, VERSION};
use crate::license::TrustedKeys;

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

pub fn run(args: &VersionArgs) -> anyhow::Result<()> {
    let trusted = TrustedKeys::builtin();
    let release = TrustedKeys::release();
    if args.json {
        let facts = json!({
            "version": VERSION,
            "commit": GIT_COMMIT,
            "build_date": BUILD_DATE,
            "trusted_key_ids": trusted.ids(),
            "demo_key_trusted": trusted.demo_key_trusted(),
            "release_key_ids": release.ids(),
            "demo_release_key_trusted": release.demo_key_trusted(),
            "target": crate::update::this_target(),
        });
        super::print_json(&facts)?;
    } else {
        say!("holdfast {VERSION}");
        say!("commit:     {GIT_COMMIT}");
        say!("build date: {BUILD_DATE}");
        say!("target:     {}", crate::update::this_target());
        say!("trusted vendor keys: {}", trusted.ids().join(", "));
        say!("trusted release keys: {}", release.ids().join(", "));
        if trusted.demo_key_trusted() {
            say!(
                "WARNING: this build trusts the DEMO vendor key; anyone can issue license keys for it. \
                 Not for production (see LICENSE-KEYS.md)."
            );
        }
        if release.demo_key_trusted() {
            say!(
                "WARNING: this build trusts the DEMO release key; anyone can sign update bundles for it. \
                 Not for production (see RELEASES.md)."
            );
        }
    }
    Ok(())
}
