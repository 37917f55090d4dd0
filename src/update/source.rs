//! The release source of connected sites: a manifest (`update_url`) in the format of the
//! `self_update` crate's manifest backend, listing releases and their bundles. The source is
//! not trusted: whatever it serves is verified like a bundle carried in by hand.

use std::path::{Path, PathBuf};
use std::time::Duration;

use self_update::ReleaseSource as _;
use self_update::backends::manifest::ManifestSource;

use super::{MAX_BUNDLE_BYTES, UpdateError, bundle_file_name, is_newer};

const TIMEOUT: Duration = Duration::from_secs(60);

/// The newest release a source offers for a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Available {
    pub version: String,
    pub name: String,
    pub url: String,
}

/// Asks the source at `url` for its newest release with a bundle for `target`; `None` when it
/// has none.
pub fn latest(url: &str, target: &str) -> Result<Option<Available>, UpdateError> {
    let releases = ManifestSource::new(url)
        .timeout(TIMEOUT)
        .get_releases()
        .map_err(|e| UpdateError::Source(format!("{url}: {e}")))?;
    let mut best: Option<Available> = None;
    for release in releases {
        let version = release.version().trim_start_matches('v').to_owned();
        // Exactly the published name: "contains the target" would take a musl bundle for a
        // gnu machine.
        let name = bundle_file_name(&version, target);
        let Some(asset) = release.assets().iter().find(|a| a.name() == name) else {
            continue;
        };
        let better = match &best {
            None => true,
            Some(b) => is_newer(&b.version, &version)?,
        };
        if better {
            best = Some(Available {
                version,
                name,
                url: asset.download_url().to_owned(),
            });
        }
    }
    Ok(best)
}

/// Downloads a bundle into `dir` (at most [`MAX_BUNDLE_BYTES`]); returns its path.
pub fn download(available: &Available, dir: &Path) -> Result<PathBuf, UpdateError> {
    // A fixed name: the version in `available.name` comes from the source, which is not
    // trusted to name files.
    let path = dir.join("download.tar.gz");
    let fail = |e: &dyn std::fmt::Display| {
        UpdateError::Source(format!("cannot download {}: {e}", available.url))
    };
    let file = std::fs::File::create(&path).map_err(|e| fail(&e))?;
    self_update::Download::from_url(&available.url)
        .timeout(TIMEOUT)
        .max_download_size(MAX_BUNDLE_BYTES)
        .show_download_progress(false)
        .download_to(&file)
        .map_err(|e| fail(&e))?;
    file.sync_all().map_err(|e| fail(&e))?;
    Ok(path)
}
