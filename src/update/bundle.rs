//! The bundle format: a gzip-compressed tar of exactly two files, `release.json` and the
//! `holdfast` binary, signed with zipsign (Ed25519 over the SHA-512 of the `.tar.gz`, kept in
//! a trailing gzip comment so the file stays a valid `.tar.gz`).
//!
//! The signature's context is a fixed string rather than the file name (what `self_update`'s
//! own helper uses): a bundle carried to an air-gapped site may be renamed on the way, and
//! what matters — version and target — is in the signed `release.json` anyway.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use ed25519_dalek::SigningKey;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zipsign_api::verify::{VerifyTarError, verify_tar};

use super::UpdateError;
use crate::license::TrustedKeys;

/// What a release signature is bound to, so that no other zipsign signature by the same key
/// (of something that is not a Holdfast release) passes as one.
pub const BUNDLE_CONTEXT: &[u8] = b"holdfast release bundle v1";
/// The largest bundle read or downloaded (a release binary is some 25 MiB).
pub const MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;
const INFO_NAME: &str = "release.json";
const BINARY_NAME: &str = "holdfast";
const MAX_INFO_BYTES: u64 = 64 * 1024;
const FORMAT: u32 = 1;

/// `release.json`: what the vendor signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseInfo {
    pub format: u32,
    pub product: String,
    pub version: String,
    pub target: String,
    pub binary_sha256: String,
    pub binary_bytes: u64,
    pub created_at: String,
}

/// The file name a release source publishes a bundle under.
pub fn bundle_file_name(version: &str, target: &str) -> String {
    format!("holdfast-{version}-{target}.tar.gz")
}

/// Makes a signed bundle of `binary` in `out_dir` (for `holdfast-signer sign-release`).
/// Refuses to overwrite a bundle that exists.
pub fn write_signed(
    binary: &Path,
    version: &str,
    target: &str,
    key: &SigningKey,
    out_dir: &Path,
) -> anyhow::Result<(PathBuf, ReleaseInfo)> {
    semver::Version::parse(version)
        .with_context(|| format!("{version:?} is not a semantic version such as 1.4.0"))?;
    let target_ok = !target.is_empty()
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !target_ok {
        bail!("{target:?} is not a target triple such as x86_64-unknown-linux-gnu");
    }
    let (binary_sha256, binary_bytes) = sha256_of(
        &mut File::open(binary).with_context(|| format!("cannot read {}", binary.display()))?,
    )?;
    let info = ReleaseInfo {
        format: FORMAT,
        product: "holdfast".to_owned(),
        version: version.to_owned(),
        target: target.to_owned(),
        binary_sha256,
        binary_bytes,
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)?,
    };

    let mut unsigned = tempfile::tempfile().context("cannot make a scratch file")?;
    write_tar_gz(&mut unsigned, &info, binary)?;
    unsigned.rewind()?;

    let out = out_dir.join(bundle_file_name(version, target));
    let mut signed = tempfile::NamedTempFile::new_in(out_dir)
        .with_context(|| format!("cannot write into {}", out_dir.display()))?;
    zipsign_api::sign::copy_and_sign_tar(
        &mut unsigned,
        signed.as_file_mut(),
        std::slice::from_ref(key),
        Some(BUNDLE_CONTEXT),
    )
    .context("cannot sign the bundle")?;
    // Published for anyone to download: readable by all, like any release file.
    signed
        .as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    signed.as_file().sync_all()?;
    signed
        .persist_noclobber(&out)
        .with_context(|| format!("cannot create {} (does it exist?)", out.display()))?;
    Ok((out, info))
}

fn write_tar_gz(out: &mut File, info: &ReleaseInfo, binary: &Path) -> anyhow::Result<()> {
    let mtime = time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .unsigned_abs();
    let mut tar = tar::Builder::new(GzEncoder::new(out, Compression::default()));
    let json = serde_json::to_vec_pretty(info)?;
    tar.append_data(
        &mut header(json.len() as u64, 0o644, mtime),
        INFO_NAME,
        &json[..],
    )?;
    let file = File::open(binary)?;
    let mut head = header(info.binary_bytes, 0o755, mtime);
    tar.append_data(&mut head, BINARY_NAME, BufReader::new(file))?;
    tar.into_inner()?.finish()?.flush()?;
    Ok(())
}

fn header(size: u64, mode: u32, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    header
}

/// A bundle whose signature and contents have been checked, unpacked into a scratch
/// directory that lives as long as this does.
#[derive(Debug)]
pub struct OpenedBundle {
    pub info: ReleaseInfo,
    pub binary: PathBuf,
    _scratch: tempfile::TempDir,
}

/// Verifies the bundle at `path` against `keys` and unpacks it. Checks, in order: its size,
/// its signature, that it holds exactly `release.json` and the binary, and the binary's
/// checksum and size against the signed `release.json`.
pub fn open(path: &Path, keys: &TrustedKeys) -> Result<OpenedBundle, UpdateError> {
    let name = path.display().to_string();
    let invalid = |why: String| UpdateError::Invalid(format!("{name}: {why}"));
    let mut file = File::open(path).map_err(|e| invalid(format!("cannot read it: {e}")))?;
    let size = file.metadata().map_err(|e| invalid(e.to_string()))?.len();
    if size > MAX_BUNDLE_BYTES {
        return Err(invalid(format!(
            "{size} bytes, more than a bundle may be ({MAX_BUNDLE_BYTES})"
        )));
    }
    verify_signature(&mut file, keys, &name)?;

    let scratch = tempfile::tempdir().map_err(|e| invalid(format!("no scratch space: {e}")))?;
    file.rewind().map_err(|e| invalid(e.to_string()))?;
    let (info, binary) = unpack(file, scratch.path()).map_err(|e| invalid(format!("{e:#}")))?;
    Ok(OpenedBundle {
        info,
        binary,
        _scratch: scratch,
    })
}

fn verify_signature(file: &mut File, keys: &TrustedKeys, name: &str) -> Result<(), UpdateError> {
    let keys: Vec<_> = keys.keys().iter().map(|k| *k.verifying_key()).collect();
    match verify_tar(file, &keys, Some(BUNDLE_CONTEXT)) {
        Ok(_) => Ok(()),
        Err(err) => match VerifyTarErrorKind::of(&err) {
            VerifyTarErrorKind::NoSignature => Err(UpdateError::Unsigned(name.to_owned())),
            VerifyTarErrorKind::NoMatch => Err(UpdateError::BadSignature(name.to_owned())),
            VerifyTarErrorKind::Io => Err(UpdateError::Invalid(format!("{name}: {err}"))),
        },
    }
}

/// zipsign's error, reduced to what an operator is told.
enum VerifyTarErrorKind {
    NoSignature,
    NoMatch,
    Io,
}

impl VerifyTarErrorKind {
    fn of(err: &VerifyTarError) -> Self {
        // The error's variants are private; its source chain says which it was.
        let text = err.to_string();
        if text.contains("no matching key/signature pair") {
            Self::NoMatch
        } else if text.contains("could not find read signatures") {
            Self::NoSignature
        } else {
            Self::Io
        }
    }
}

/// Unpacks the two files, refusing anything else in the archive.
fn unpack(file: File, scratch: &Path) -> anyhow::Result<(ReleaseInfo, PathBuf)> {
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let mut info: Option<ReleaseInfo> = None;
    let mut binary: Option<(PathBuf, String, u64)> = None;
    for entry in archive.entries().context("not a tar.gz")? {
        let mut entry = entry.context("a damaged archive")?;
        let path = entry
            .path()
            .context("an entry with a bad name")?
            .into_owned();
        let regular = entry.header().entry_type() == tar::EntryType::Regular;
        match path.to_str() {
            Some(INFO_NAME) if regular && info.is_none() => {
                let mut text = String::new();
                (&mut entry)
                    .take(MAX_INFO_BYTES)
                    .read_to_string(&mut text)
                    .context("release.json is not UTF-8 text")?;
                info = Some(serde_json::from_str(&text).context("release.json")?);
            }
            Some(BINARY_NAME) if regular && binary.is_none() => {
                let target = scratch.join(BINARY_NAME);
                let mut out = File::create(&target)?;
                let (sha, bytes) = copy_hashing(&mut entry, &mut out)?;
                out.set_permissions(std::fs::Permissions::from_mode(0o755))?;
                out.sync_all()?;
                binary = Some((target, sha, bytes));
            }
            _ => bail!(
                "unexpected entry {:?} in the archive",
                path.display().to_string()
            ),
        }
    }
    let info = info.context("no release.json inside")?;
    let (path, sha, bytes) = binary.context("no holdfast binary inside")?;
    if info.format != FORMAT || info.product != "holdfast" {
        bail!(
            "release.json describes {} format {}, not a Holdfast bundle this release reads",
            info.product,
            info.format
        );
    }
    if sha != info.binary_sha256 || bytes != info.binary_bytes {
        bail!("the binary does not match the checksum in release.json");
    }
    Ok((info, path))
}

/// Is `binary` already the binary of this release? Then applying it again would only replace
/// the kept previous binary with a second copy of this one.
pub fn is_installed(binary: &Path, info: &ReleaseInfo) -> bool {
    File::open(binary)
        .and_then(|mut f| sha256_of(&mut f))
        .is_ok_and(|(sha, bytes)| sha == info.binary_sha256 && bytes == info.binary_bytes)
}

pub(super) fn sha256_of(reader: &mut impl Read) -> io::Result<(String, u64)> {
    copy_hashing(reader, &mut io::sink())
}

fn copy_hashing(reader: &mut impl Read, out: &mut impl Write) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        total += n as u64;
    }
    Ok((crate::license::hex(&hasher.finalize()), total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::license::{SigningKeyFile, TrustedKeys};

    fn signed_bundle(key: &SigningKeyFile, dir: &Path) -> PathBuf {
        let binary = dir.join("program");
        std::fs::write(&binary, b"#!/bin/sh\nexit 0\n").unwrap();
        let out = dir.join("out");
        std::fs::create_dir_all(&out).unwrap();
        write_signed(
            &binary,
            "1.2.3",
            "x86_64-unknown-linux-gnu",
            key.signing_key(),
            &out,
        )
        .unwrap()
        .0
    }

    #[test]
    fn a_signed_bundle_opens_with_its_key_and_carries_what_was_signed() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKeyFile::generate();
        let path = signed_bundle(&key, dir.path());
        assert_eq!(
            path.file_name().unwrap(),
            "holdfast-1.2.3-x86_64-unknown-linux-gnu.tar.gz"
        );
        let opened = open(&path, &TrustedKeys::only(vec![key.public()])).unwrap();
        assert_eq!(opened.info.version, "1.2.3");
        assert_eq!(opened.info.target, "x86_64-unknown-linux-gnu");
        assert_eq!(
            std::fs::read(&opened.binary).unwrap(),
            b"#!/bin/sh\nexit 0\n"
        );
        assert!(is_installed(&dir.path().join("program"), &opened.info));

        // Renamed on its way to an air-gapped site: still the same signed bundle.
        let renamed = dir.path().join("carried-in.tgz");
        std::fs::copy(&path, &renamed).unwrap();
        open(&renamed, &TrustedKeys::only(vec![key.public()])).unwrap();
    }

    #[test]
    fn another_key_a_changed_byte_or_no_signature_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKeyFile::generate();
        let path = signed_bundle(&key, dir.path());
        let trusted = TrustedKeys::only(vec![key.public()]);

        let other = TrustedKeys::only(vec![SigningKeyFile::generate().public()]);
        assert!(matches!(
            open(&path, &other),
            Err(UpdateError::BadSignature(_))
        ));

        let mut bytes = std::fs::read(&path).unwrap();
        bytes[40] ^= 1;
        let tampered = dir.path().join("tampered.tar.gz");
        std::fs::write(&tampered, &bytes).unwrap();
        assert!(matches!(
            open(&tampered, &trusted),
            Err(UpdateError::BadSignature(_))
        ));

        // The same archive without the signature: a plain .tar.gz.
        let mut plain = Vec::new();
        let mut archive = tar::Archive::new(GzDecoder::new(File::open(&path).unwrap()));
        let mut repacked = tar::Builder::new(GzEncoder::new(&mut plain, Compression::fast()));
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let mut head = entry.header().clone();
            let name = entry.path().unwrap().into_owned();
            repacked.append_data(&mut head, name, &mut entry).unwrap();
        }
        repacked.into_inner().unwrap().finish().unwrap();
        let unsigned = dir.path().join("unsigned.tar.gz");
        std::fs::write(&unsigned, &plain).unwrap();
        assert!(matches!(
            open(&unsigned, &trusted),
            Err(UpdateError::Unsigned(_))
        ));
    }

    #[test]
    fn sign_release_refuses_a_version_or_target_that_is_not_one() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("program");
        std::fs::write(&binary, b"x").unwrap();
        let key = SigningKeyFile::generate();
        for (version, target) in [("1.2", "x86_64-unknown-linux-gnu"), ("1.2.3", "../evil")] {
            assert!(write_signed(&binary, version, target, key.signing_key(), dir.path()).is_err());
        }
    }
}
