//! A second implementation of LICENSE-KEYS.md, in Python (`tests/interop/issue_keys.py`),
//! written from the document alone: the real `holdfast` must accept the keys it issues and
//! refuse its bad ones for the documented reasons, and it must read the signer's keys as the
//! document describes them.
//!
//! Needs `python3` with `cryptography`. Without them these tests say why and pass, unless
//! `HOLDFAST_REQUIRE_INTEROP=1` (set by `.ci/run`) makes the absence a failure.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::{Holdfast, demo_vendor_key, signer};

const REQUIRE: &str = "HOLDFAST_REQUIRE_INTEROP";
const DAY: i64 = 86_400;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Is `python3` with `cryptography` here? Where it is not, says why and answers false, or
/// fails when `HOLDFAST_REQUIRE_INTEROP=1` requires it.
fn python_ready() -> bool {
    let why = match Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
    {
        Ok(out) if out.status.success() => return true,
        Ok(out) => format!(
            "python3 cannot import cryptography ({})",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ),
        Err(err) => format!("python3 does not run ({err})"),
    };
    assert!(
        std::env::var(REQUIRE).as_deref() != Ok("1"),
        "{why}, and {REQUIRE}=1 requires the interoperability check"
    );
    eprintln!("{why}: skipping the interoperability check ({REQUIRE}=1 would fail instead)");
    false
}

/// `python3 SCRIPT ARGS` with `input` on standard input; its standard output.
fn python(script: &str, args: &[&str], input: &str) -> String {
    let mut child = Command::new("python3")
        .arg(root().join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{script} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Keys issued by the second implementation with the private key in `key_file`.
fn issue(key_file: &Path, requests: &Value) -> Vec<String> {
    let answer = python(
        "tests/interop/issue_keys.py",
        &["issue", key_file.to_str().unwrap()],
        &requests.to_string(),
    );
    let answer: Value = serde_json::from_str(&answer).unwrap();
    answer
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap().to_owned())
        .collect()
}

/// The second implementation verifies `keys` against `pub_file` and checks that each payload
/// is the canonical encoding of its fields; the fields of each.
fn check(pub_file: &Path, keys: &[&str]) -> Vec<Value> {
    let answer = python(
        "tests/interop/issue_keys.py",
        &["check", pub_file.to_str().unwrap()],
        &keys.join("\n"),
    );
    let answer: Value = serde_json::from_str(&answer).unwrap();
    answer
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["fields"].clone())
        .collect()
}

fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

#[test]
fn keys_from_a_second_implementation_install_in_the_real_binary() {
    if !python_ready() {
        return;
    }
    let holdfast = Holdfast::new();
    let dir = holdfast.data_dir();
    let dir = dir.to_str().unwrap();
    let instance = holdfast
        .run(&["license", "instance-id", "--data-dir", dir])
        .assert_ok()
        .stdout
        .trim()
        .to_owned();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let (iat, exp) = (now - 60, now + 90 * DAY);
    let customer = "Interop \"Süd\" GmbH \\ Zürich";
    let plain = |id: &str| json!({"id": id, "c": "X", "e": "standard", "iat": iat, "u": 9, "t": 9});
    let with = |id: &str, member: &str, value: Value| {
        let mut fields = plain(id);
        fields[member] = value;
        json!({ "fields": fields })
    };
    let keys = issue(
        &demo_vendor_key(),
        &json!([
            {"fields": {"id": "interop-term", "c": customer, "e": "enterprise", "iat": iat,
                        "exp": exp, "g": 7, "u": 40, "t": 4, "f": ["branding", "sso", "api_tokens"]}},
            {"fields": {"id": "interop-bound", "c": "Interop Perpetual Ltd", "e": "standard",
                        "iat": now - 30, "u": 12, "t": 2, "f": ["audit_export", "crm.v2"],
                        "i": instance}},
            {"payload": format!(r#"[1,"interop-array","X","standard",{iat},null,null,14,9,9,[],null]"#)},
            {"payload": format!(r#"{{"v":1,"id":"interop-twice","c":"X","e":"standard","iat":{iat},"u":9,"u":900,"t":9}}"#)},
            with("interop-feature", "f", json!(["single sign-on"])),
            with("interop-backwards", "exp", json!(iat - 3600)),
            with("interop-elsewhere", "i", json!("00112233445566778899")),
            {"fields": plain("interop-unknown"), "key_id": "0badc0de"},
        ]),
    );

    holdfast
        .run(&["license", "install", &keys[0], "--data-dir", dir])
        .assert_ok();
    let shown = holdfast
        .run(&["license", "status", "--json", "--data-dir", dir])
        .assert_ok()
        .json();
    assert_eq!(shown["state"], "valid", "{shown}");
    assert_eq!(shown["license_id"], "interop-term");
    assert_eq!(shown["customer"], customer);
    assert_eq!(shown["edition"], "enterprise");
    assert_eq!(shown["seats_cap"], 40);
    assert_eq!(shown["tenants_cap"], 4);
    assert_eq!(shown["features"], json!(["sso", "branding", "api_tokens"]));
    assert_eq!(shown["issued_at"], rfc3339(iat));
    assert_eq!(shown["expires_at"], rfc3339(exp));
    assert_eq!(shown["grace_ends_at"], rfc3339(exp + 7 * DAY));
    assert_eq!(shown["days_left"], 90);

    holdfast
        .run(&["license", "install", &keys[1], "--data-dir", dir])
        .assert_ok();
    let shown = holdfast
        .run(&["license", "status", "--json", "--data-dir", dir])
        .assert_ok()
        .json();
    assert_eq!(shown["state"], "valid", "{shown}");
    assert_eq!(shown["license_id"], "interop-bound");
    assert_eq!(shown["customer"], "Interop Perpetual Ltd");
    assert_eq!(shown["seats_cap"], 12);
    assert_eq!(shown["tenants_cap"], 2);
    assert_eq!(
        shown["features"],
        json!(["audit_export"]),
        "an unknown feature grants nothing"
    );
    assert_eq!(shown["expires_at"], Value::Null, "perpetual");
    assert_eq!(shown["grace_ends_at"], Value::Null);

    for (key, reason, because) in [
        (&keys[2], "malformed", "expected a JSON object"),
        (&keys[3], "malformed", "member \"u\" appears twice"),
        (&keys[4], "malformed", "features must be"),
        (&keys[5], "malformed", "expires before it becomes valid"),
        (&keys[6], "wrong_instance", "00112233445566778899"),
        (&keys[7], "unknown_key", "0badc0de"),
    ] {
        let run = holdfast.run(&["license", "install", key, "--data-dir", dir]);
        let line = run.assert_refused();
        assert!(
            line.starts_with(&format!("error: license_invalid ({reason}): "))
                && line.contains(because),
            "expected {reason} ({because}): {line}"
        );
    }
    let shown = holdfast
        .run(&["license", "status", "--json", "--data-dir", dir])
        .assert_ok()
        .json();
    assert_eq!(
        shown["license_id"], "interop-bound",
        "refusals change nothing"
    );
    assert_eq!(shown["history"].as_array().unwrap().len(), 2);
}

#[test]
fn the_signer_writes_the_canonical_payload_the_document_describes() {
    if !python_ready() {
        return;
    }
    let key_file = demo_vendor_key();
    let base = [
        "issue",
        "--key",
        key_file.to_str().unwrap(),
        "--edition",
        "enterprise",
        "--users",
        "7",
        "--tenants",
        "2",
    ];
    let issue_with = |extra: &[&str]| {
        signer(&[&base[..], extra].concat())
            .assert_ok()
            .stdout
            .trim()
            .to_owned()
    };
    let before = OffsetDateTime::now_utc().unix_timestamp();
    let everything = issue_with(&[
        "--customer",
        "Quote \"Q\" \\ Zürich",
        "--expires",
        "2031-01-01",
        "--not-before",
        "2030-01-01",
        "--grace-days",
        "30",
        "--features",
        "audit_export,sso",
        "--instance",
        "0a1b2c3d4e5f60718293",
        "--license-id",
        "renewal-7",
    ]);
    let minimal = issue_with(&["--customer", "Minimal", "--perpetual"]);
    let days = issue_with(&["--customer", "Days", "--days", "10"]);
    let days_later = issue_with(&[
        "--customer",
        "Later",
        "--days",
        "10",
        "--not-before",
        "2030-01-01",
    ]);
    let after = OffsetDateTime::now_utc().unix_timestamp();

    let fields = check(
        &key_file.with_extension("pub"),
        &[&everything, &minimal, &days, &days_later],
    );
    assert_eq!(
        fields[0],
        json!({"v": 1, "id": "renewal-7", "c": "Quote \"Q\" \\ Zürich", "e": "enterprise",
               "iat": fields[0]["iat"], "nbf": 1_893_456_000, "exp": 1_924_992_000, "g": 30,
               "u": 7, "t": 2, "f": ["audit_export", "sso"], "i": "0a1b2c3d4e5f60718293"}),
        "--expires and --not-before are 00:00 UTC of their dates"
    );
    for f in &fields {
        let iat = f["iat"].as_i64().unwrap();
        assert!(
            (before..=after).contains(&iat),
            "iat is the time of issue: {f}"
        );
    }
    let id = fields[1]["id"].as_str().unwrap();
    assert!(
        id.len() == 24
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "a new license id is 24 lowercase hex digits: {id}"
    );
    assert_eq!(
        fields[1],
        json!({"v": 1, "id": id, "c": "Minimal", "e": "enterprise", "iat": fields[1]["iat"],
               "g": 14, "u": 7, "t": 2}),
        "absent members are omitted, g is always written"
    );
    assert_eq!(
        fields[2]["exp"].as_i64().unwrap() - fields[2]["iat"].as_i64().unwrap(),
        10 * DAY,
        "--days counts from the time of issue"
    );
    assert_eq!(
        fields[3]["exp"],
        1_893_456_000 + 10 * DAY,
        "--days counts from --not-before"
    );
}

#[test]
fn a_private_key_file_from_keygen_serves_the_second_implementation() {
    if !python_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("vendor.key");
    let keygen = signer(&["keygen", "--out", key_file.to_str().unwrap()]);
    let line = keygen
        .assert_ok()
        .stdout
        .lines()
        .find(|l| l.starts_with("holdfast-ed25519 "))
        .unwrap()
        .to_owned();
    let pub_file = dir.path().join("vendor.pub");
    std::fs::write(&pub_file, format!("# the new vendor key\r\n\r\n{line}\r\n")).unwrap();
    let pem = std::fs::read_to_string(&key_file).unwrap();
    let der = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    )
    .unwrap();
    assert_eq!(der.len(), 83, "PKCS#8 v2, with the public key");

    let now = OffsetDateTime::now_utc().unix_timestamp();
    let keys = issue(
        &key_file,
        &json!([{"fields": {"id": "fresh", "c": "Fresh Vendor Co", "e": "standard",
                            "iat": now, "exp": now + DAY, "u": 1, "t": 1}}]),
    );
    let key_id = line.split(' ').nth(1).unwrap();
    assert!(
        keys[0].starts_with(&format!("HF1.{key_id}.")),
        "{}",
        keys[0]
    );
    let inspect = signer(&["inspect", &keys[0], "--pubkey", pub_file.to_str().unwrap()]);
    assert!(
        inspect.assert_ok().stdout.contains("signature: good"),
        "{}",
        inspect.stdout
    );
    assert_eq!(check(&pub_file, &[&keys[0]])[0]["c"], "Fresh Vendor Co");
}

#[test]
fn the_committed_vectors_are_what_their_generator_makes() {
    if !python_ready() {
        return;
    }
    python("tests/vectors/generate.py", &["--check"], "");
}
