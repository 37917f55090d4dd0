//! Built-in TLS from PEM files.

use std::fs;

use holdfast::config::{Config, Settings};
use holdfast::web::Application;

use crate::helpers::TestApp;

#[tokio::test]
async fn serves_https_with_hsts_when_a_certificate_is_configured() {
    let certs = tempfile::tempdir().unwrap();
    let issued = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert_path = certs.path().join("cert.pem");
    let key_path = certs.path().join("key.pem");
    fs::write(&cert_path, issued.cert.pem()).unwrap();
    fs::write(&key_path, issued.signing_key.serialize_pem()).unwrap();

    let app = TestApp::spawn_with(|s| {
        s.tls_cert = Some(cert_path.clone());
        s.tls_key = Some(key_path.clone());
    })
    .await;
    assert!(app.base_url.starts_with("https://"), "{}", app.base_url);

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(issued.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let response = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

#[tokio::test]
async fn unreadable_tls_files_stop_the_start_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    fs::write(&cert, "not a certificate").unwrap();
    let config = Config::from_settings(Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: Some(dir.path().join("data")),
        tls_cert: Some(cert),
        tls_key: Some(dir.path().join("missing.pem")),
        ..Settings::default()
    })
    .unwrap();
    let err = Application::build(config).await.unwrap_err();
    assert!(format!("{err:#}").starts_with("tls_cert"), "{err:#}");
}
