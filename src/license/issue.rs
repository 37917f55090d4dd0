//! Issuing keys, for `holdfast-signer`: vendor signing keys in PKCS#8 PEM files (which
//! OpenSSL reads too), and signing a payload into a key.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, bail};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer, SigningKey};

use super::key::{KeyId, VerifiedLicense};
use super::payload::Payload;
use super::trusted::{TrustedKey, TrustedKeys};

/// A vendor signing key. Never printed: its `Debug` shows only the key id.
pub struct SigningKeyFile {
    key: SigningKey,
}

impl std::fmt::Debug for SigningKeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKeyFile({})", self.key_id())
    }
}

impl SigningKeyFile {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        Self {
            key: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    /// Writes the key as PKCS#8 PEM to a new file readable by its owner only (0600). Refuses
    /// to overwrite: a vendor key is not something to lose by a typo.
    pub fn write_new(&self, path: &Path) -> anyhow::Result<()> {
        let pem = self
            .key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .context("encode the key")?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(pem.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }

    /// Reads a PKCS#8 PEM Ed25519 private key.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|_| {
            anyhow::anyhow!(
                "{} is not an Ed25519 private key in PKCS#8 PEM",
                path.display()
            )
        })?;
        Ok(Self { key })
    }

    pub fn public(&self) -> TrustedKey {
        TrustedKey::new(self.key.verifying_key())
    }

    /// The private key itself, for signing something other than a license (an update
    /// bundle).
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub fn key_id(&self) -> KeyId {
        KeyId::of_public_key(self.key.verifying_key().as_bytes())
    }
}

/// The payload of a key to issue.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub payload: Payload,
}

/// Signs `request` and returns the key, verified back against the signing key's public half
/// so that a key that would not verify is never handed out.
pub fn issue_key(
    signer: &SigningKeyFile,
    request: &IssueRequest,
) -> anyhow::Result<VerifiedLicense> {
    request
        .payload
        .check()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = request.payload.to_json();
    let signature = signer.key.sign(&bytes);
    let text = VerifiedLicense::encode(&signer.key_id(), &bytes, &signature);
    let trusted = TrustedKeys::only(vec![signer.public()]);
    match VerifiedLicense::verify(&text, &trusted) {
        Ok(verified) => Ok(verified),
        Err(err) => bail!("the issued key does not verify: {err}"),
    }
}
