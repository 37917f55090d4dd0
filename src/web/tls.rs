//! Built-in TLS from PEM files, with rustls and the ring provider.

use std::sync::Arc;

use anyhow::Context;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsPaths;

/// Reads the certificate chain and key named by `tls_cert` and `tls_key`.
pub fn server_config(paths: &TlsPaths) -> anyhow::Result<ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&paths.cert)
        .and_then(Iterator::collect)
        .with_context(|| format!("tls_cert: cannot read {}", paths.cert.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "tls_cert: {} holds no certificate",
        paths.cert.display()
    );
    let key = PrivateKeyDer::from_pem_file(&paths.key).with_context(|| {
        format!(
            "tls_key: cannot read a private key from {}",
            paths.key.display()
        )
    })?;
    ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("tls_cert and tls_key do not form a usable pair")
}
