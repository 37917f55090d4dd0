//! The vendor's side of a release source: adding a signed bundle to the `manifest.json` that
//! sites read (`update_url`), in the schema of the `self_update` crate's manifest backend.

use std::path::Path;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::ReleaseInfo;

/// Adds `bundle` (a signed bundle of the release `info` describes, published beside the
/// manifest) to the manifest at `manifest`, creating it if it does not exist. A bundle of the
/// same name is replaced; other releases and targets are kept.
pub fn add_to_manifest(manifest: &Path, info: &ReleaseInfo, bundle: &Path) -> anyhow::Result<()> {
    let mut doc: Value = match std::fs::read_to_string(manifest) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a release manifest", manifest.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => json!({"schema": 1, "releases": []}),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", manifest.display())),
    };
    let name = bundle
        .file_name()
        .and_then(|n| n.to_str())
        .context("the bundle's name is not UTF-8")?
        .to_owned();
    let digest = format!(
        "sha256:{}",
        super::bundle::sha256_of(&mut std::fs::File::open(bundle)?)?.0
    );
    let releases = doc
        .get_mut("releases")
        .and_then(Value::as_array_mut)
        .with_context(|| format!("{} has no releases list", manifest.display()))?;
    let same_version =
        |r: &Value| r.get("version").and_then(Value::as_str) == Some(info.version.as_str());
    let index = if let Some(i) = releases.iter().position(same_version) {
        i
    } else {
        releases.push(json!({"version": info.version, "date": info.created_at, "assets": []}));
        releases.len() - 1
    };
    let assets = releases[index]
        .get_mut("assets")
        .and_then(Value::as_array_mut)
        .context("a release without an assets list")?;
    assets.retain(|a| a.get("name").and_then(Value::as_str) != Some(name.as_str()));
    assets.push(json!({"name": name, "url": name, "digest": digest}));

    let dir = manifest.parent().unwrap_or(Path::new("."));
    let mut out = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(out.as_file_mut(), &doc)?;
    out.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    out.as_file().sync_all()?;
    out.persist(manifest)
        .with_context(|| format!("cannot write {}", manifest.display()))?;
    Ok(())
}
