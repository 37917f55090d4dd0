//! `holdfast support-bundle`: what a support desk needs, and no secret.

use std::collections::BTreeMap;
use std::io::Read as _;

use serde_json::Value;

use crate::helpers::Holdfast;

const TOKEN: &str = "metrics-secret-0123456789";

#[test]
fn a_support_bundle_holds_versions_checks_and_redacted_config_and_no_secret() {
    let holdfast = Holdfast::new();
    let data = holdfast.data_dir();
    let data = data.to_str().unwrap();
    holdfast
        .run(&[
            "--data-dir",
            data,
            "tenant",
            "create",
            "--name",
            "Acme",
            "acme",
        ])
        .assert_ok();
    let out = holdfast.home.path().join("bundle.tar");
    let out = out.to_str().unwrap();
    let env = [("HOLDFAST_METRICS_TOKEN", TOKEN)];
    holdfast
        .run_with_env(&["--data-dir", data, "support-bundle", "--out", out], &env)
        .assert_ok();
    let bytes = std::fs::read(out).unwrap();
    assert!(
        !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
        "the token is in the bundle"
    );
    let mut files = BTreeMap::new();
    for entry in tar::Archive::new(&bytes[..]).entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        files.insert(name, text);
    }
    let json = |name: &str| -> Value { serde_json::from_str(&files[name]).unwrap() };
    assert_eq!(
        json("about.json")["holdfast_version"],
        env!("CARGO_PKG_VERSION")
    );
    let config = json("config.json");
    let token = config
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "metrics_token")
        .unwrap();
    assert_eq!(token["value"], "[redacted]");
    assert_eq!(json("license.json")["tenants_used"], 1);
    let databases = json("databases.json");
    let databases = databases.as_array().unwrap();
    assert_eq!(databases.len(), 2, "{databases:?}");
    for db in databases {
        assert_eq!(db["integrity_check"], "ok", "{db}");
        assert!(db["schema_version"].as_u64().unwrap() > 0, "{db}");
    }
    assert_eq!(databases[1]["tenant"], "acme");
    assert!(files.contains_key("files.json"));

    // Never over a file that is there.
    let again = holdfast.run(&["--data-dir", data, "support-bundle", "--out", out]);
    assert_eq!(again.code, 1);
    assert_eq!(std::fs::read(out).unwrap(), bytes);
}
