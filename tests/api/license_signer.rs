//! `holdfast-signer` as vendor staff use it: make a key pair, issue keys, inspect them.

use std::os::unix::fs::PermissionsExt;

use crate::helpers::{demo_vendor_key, signer};

#[test]
fn keygen_writes_a_private_file_and_prints_only_the_public_half() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("vendor.key");
    let key_arg = key.to_str().unwrap();
    let run = signer(&["keygen", "--out", key_arg]);
    run.assert_ok();
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let private = std::fs::read_to_string(&key).unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    let body: String = private
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(
        !run.stdout.contains(&body),
        "the private key is never printed"
    );

    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("holdfast-ed25519 "))
        .unwrap();
    let pubkey = signer(&["pubkey", "--key", key_arg]);
    assert_eq!(pubkey.assert_ok().stdout.trim(), line);

    let again = signer(&["keygen", "--out", key_arg]);
    again.assert_refused();
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        private,
        "never overwritten"
    );
}

#[test]
fn the_demo_public_key_file_is_what_the_signer_prints() {
    let key = demo_vendor_key();
    let line = signer(&["pubkey", "--key", key.to_str().unwrap()]);
    let committed = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    assert_eq!(line.assert_ok().stdout.trim(), committed.trim());
}

#[test]
fn issue_prints_one_line_or_json_and_a_typical_key_is_short() {
    let key = demo_vendor_key();
    let key = key.to_str().unwrap();
    let base = [
        "issue",
        "--key",
        key,
        "--customer",
        "Acme Corporation International",
        "--edition",
        "enterprise",
        "--users",
        "50",
        "--tenants",
        "5",
        "--features",
        "sso,branding,api_tokens,audit_export",
    ];
    let line = signer(&[&base[..], &["--days", "365"]].concat());
    let text = line.assert_ok().stdout.trim().to_owned();
    assert_eq!(line.stdout.lines().count(), 1);
    assert!(text.starts_with("HF1.e4d7b523."), "{text}");
    assert!(
        text.len() <= 400,
        "typical key is {} characters",
        text.len()
    );

    let json = signer(
        &[
            &base[..],
            &[
                "--expires",
                "2031-01-01",
                "--not-before",
                "2030-01-01",
                "--grace-days",
                "30",
                "--json",
            ],
        ]
        .concat(),
    );
    let json = json.assert_ok().json();
    assert_eq!(json["payload"]["exp"], 1_924_992_000);
    assert_eq!(json["payload"]["nbf"], 1_893_456_000);
    assert_eq!(json["payload"]["g"], 30);
    assert_eq!(json["payload"]["u"], 50);

    let perpetual = signer(&[&base[..], &["--perpetual", "--json"]].concat())
        .assert_ok()
        .json();
    assert!(perpetual["payload"].get("exp").is_none());
}

#[test]
fn issue_refuses_bad_requests() {
    let key = demo_vendor_key();
    let key = key.to_str().unwrap();
    let base = [
        "issue",
        "--key",
        key,
        "--customer",
        "A",
        "--edition",
        "e",
        "--users",
        "1",
        "--tenants",
        "1",
    ];
    assert_eq!(
        signer(&[&base[..], &["--days", "1", "--perpetual"]].concat()).code,
        2,
        "one term only"
    );
    assert!(signer(&base).assert_refused().contains("--days"));
    assert!(
        signer(&[&base[..], &["--days", "1", "--features", "teleport"]].concat())
            .assert_refused()
            .contains("teleport")
    );
    assert!(
        signer(&[&base[..], &["--expires", "next year"]].concat())
            .assert_refused()
            .contains("YYYY-MM-DD")
    );
    let missing = signer(&[
        "issue",
        "--key",
        "/nonexistent.key",
        "--customer",
        "A",
        "--edition",
        "e",
        "--users",
        "1",
        "--tenants",
        "1",
        "--days",
        "1",
    ]);
    assert!(missing.assert_refused().contains("/nonexistent.key"));
}

#[test]
fn inspect_verifies_against_the_build_or_a_given_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = dir.path().join("vendor.key");
    let vendor_arg = vendor.to_str().unwrap();
    let keygen = signer(&["keygen", "--out", vendor_arg]);
    let pub_line = keygen
        .stdout
        .lines()
        .find(|l| l.starts_with("holdfast-ed25519"))
        .unwrap()
        .to_owned();
    let pub_file = dir.path().join("vendor.pub");
    std::fs::write(&pub_file, format!("{pub_line}\n")).unwrap();
    let key = signer(&[
        "issue",
        "--key",
        vendor_arg,
        "--customer",
        "Beta",
        "--edition",
        "standard",
        "--users",
        "3",
        "--tenants",
        "1",
        "--days",
        "10",
    ]);
    let key = key.assert_ok().stdout.trim().to_owned();

    let untrusted = signer(&["inspect", &key]);
    assert!(
        untrusted
            .assert_refused()
            .contains("license_invalid (unknown_key)")
    );
    assert!(
        untrusted.stdout.contains("UNVERIFIED"),
        "shows what the key claims: {}",
        untrusted.stdout
    );

    let trusted = signer(&["inspect", &key, "--pubkey", pub_file.to_str().unwrap()]);
    assert!(
        trusted.assert_ok().stdout.contains("signature: good"),
        "{}",
        trusted.stdout
    );
    assert!(trusted.stdout.contains("Beta"));

    let json = signer(&[
        "inspect",
        &key,
        "--pubkey",
        pub_file.to_str().unwrap(),
        "--json",
    ])
    .assert_ok()
    .json();
    assert_eq!(json["valid_signature"], true);
    assert_eq!(json["payload"]["c"], "Beta");
}

#[test]
fn the_test_vectors_verify_as_documented() {
    let vectors = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let other_pub = vectors.join("other-vendor.pub");
    for (file, expected) in [
        ("valid.key", None),
        ("bound-to-instance.key", None),
        ("expired.key", None),
        ("tampered.key", Some("license_invalid (bad_signature)")),
        ("foreign-vendor.key", Some("license_invalid (unknown_key)")),
        ("malformed.key", Some("license_invalid (malformed)")),
    ] {
        let key = std::fs::read_to_string(vectors.join(file)).unwrap();
        let run = signer(&["inspect", key.trim()]);
        match expected {
            None => {
                run.assert_ok();
            }
            Some(reason) => assert!(
                run.assert_refused().contains(reason),
                "{file}: {}",
                run.stderr
            ),
        }
    }
    let foreign = std::fs::read_to_string(vectors.join("foreign-vendor.key")).unwrap();
    signer(&[
        "inspect",
        foreign.trim(),
        "--pubkey",
        other_pub.to_str().unwrap(),
    ])
    .assert_ok();
}

#[test]
fn openssl_verifies_a_key_signature_as_license_keys_md_shows() {
    // The documented interoperability check, run for real where OpenSSL is installed.
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("openssl is not installed; skipping the interoperability check");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/verify-with-openssl.sh");
    let key = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/valid.key"),
    )
    .unwrap();
    let run = std::process::Command::new("bash")
        .arg(&script)
        .arg(key.trim())
        .arg(demo_vendor_key().with_extension("pub"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("Signature Verified Successfully"),
        "{stdout}"
    );
}

/// The outcome as the manifest names it: `ok`, the reason within `license_invalid`, or the
/// code (`license_expired`).
fn outcome<T>(result: &Result<T, holdfast::license::LicenseError>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(err) => err
            .reason()
            .map_or_else(|| err.code().to_owned(), |r| r.as_str().to_owned()),
    }
}

/// Every vector of `tests/vectors/vectors.json` through the real verifier; the accepted ones
/// also through the install checks and the state engine, at the manifest's fixed times.
#[test]
fn every_vector_in_the_manifest_gives_its_documented_result() {
    use base64::Engine as _;
    use holdfast::license::{TrustedKey, TrustedKeys, VerifiedLicense, check_install, evaluate};
    use serde_json::{Value, json};
    use time::OffsetDateTime;

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/vectors/vectors.json")).unwrap(),
    )
    .unwrap();
    let trusted_set = |name: &str| {
        let file = root.join(manifest["trusted"][name].as_str().unwrap());
        let keys = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|l| TrustedKey::parse_line(l).unwrap())
            .collect();
        TrustedKeys::only(keys)
    };
    let (demo, other) = (trusted_set("demo"), trusted_set("other"));
    let at = |secs: &Value| OffsetDateTime::from_unix_timestamp(secs.as_i64().unwrap()).unwrap();
    let now = at(&manifest["install"]["now"]);
    let instance = manifest["install"]["instance_id"].as_str().unwrap();

    let vectors = manifest["vectors"].as_array().unwrap();
    let mut failures = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        let mut fail = |what: String| failures.push(format!("{name}: {what}"));
        let key = match vector["file"].as_str() {
            Some(file) => std::fs::read_to_string(root.join("tests/vectors").join(file)).unwrap(),
            None => vector["key"].as_str().unwrap().to_owned(),
        };
        let trusted = if vector["trusted"] == "other" {
            &other
        } else {
            &demo
        };
        let verified = VerifiedLicense::verify(&key, trusted);
        let got = outcome(&verified);
        seen.insert(got.clone());
        if got != vector["expect"] {
            fail(format!("{got}, expected {}", vector["expect"]));
            continue;
        }
        let Ok(license) = verified else { continue };
        let p = license.payload();
        let decoded = json!({
            "v": p.format, "id": p.license_id, "c": p.customer, "e": p.edition,
            "iat": p.issued_at, "nbf": p.not_before, "exp": p.expires_at, "g": p.grace_days,
            "u": p.max_seats, "t": p.max_tenants, "f": p.features, "i": p.instance,
        });
        if decoded != vector["payload"] {
            fail(format!("decoded {decoded}, expected {}", vector["payload"]));
        }
        let granted: Vec<&str> = p.known_features().iter().map(|f| f.as_str()).collect();
        if json!(granted) != vector["granted"]
            || json!(p.unknown_features()) != vector["unknown_features"]
        {
            fail(format!(
                "features {granted:?} and unknown {:?}",
                p.unknown_features()
            ));
        }
        let signed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(license.text().split('.').nth(2).unwrap())
            .unwrap();
        if json!(p.to_json() == signed) != vector["canonical"] {
            fail(format!("canonical is {}", p.to_json() == signed));
        }
        let install = outcome(&check_install(&license, None, None, now, instance));
        seen.insert(install.clone());
        if install != vector["install"] {
            fail(format!("install {install}, expected {}", vector["install"]));
        }
        for pair in vector["states"].as_array().into_iter().flatten() {
            let state = evaluate(Some(&license), None, at(&pair[0])).state.as_str();
            if state != pair[1] {
                fail(format!("{state} at {}, expected {}", pair[0], pair[1]));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
    let every = [
        "ok",
        "malformed",
        "bad_signature",
        "unknown_key",
        "wrong_instance",
        "issued_in_future",
        "license_expired",
    ];
    assert!(every.iter().all(|o| seen.contains(*o)), "{seen:?}");
}
