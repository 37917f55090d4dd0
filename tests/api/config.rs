//! Configuration layers: flags > `HOLDFAST_*` env > TOML file > defaults, with provenance.

use std::fs;

use crate::helpers::Holdfast;

fn setting(shown: &serde_json::Value, key: &str) -> (serde_json::Value, String) {
    let entry = &shown["settings"][key];
    (
        entry["value"].clone(),
        entry["source"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn each_layer_overrides_the_one_below() {
    let holdfast = Holdfast::new();
    let file = holdfast.home.path().join("holdfast.toml");
    fs::write(
        &file,
        "listen = \"127.0.0.1:7001\"\nlog_level = \"debug\"\nbase_domain = \"crm.example.com\"\nlog_retention_days = 30\n",
    )
    .unwrap();
    let file_arg = file.to_str().unwrap();

    let shown = holdfast
        .run_with_env(
            &[
                "config",
                "show",
                "--json",
                "--config",
                file_arg,
                "--log-format",
                "json",
            ],
            &[
                ("HOLDFAST_LISTEN", "127.0.0.1:7002"),
                ("HOLDFAST_LOG_LEVEL", "warn"),
                ("HOLDFAST_LOG_FORMAT", "text"),
            ],
        )
        .assert_ok()
        .json();

    assert_eq!(shown["config_file"], file_arg);
    // Default only.
    assert_eq!(
        setting(&shown, "max_body_bytes"),
        (1_048_576.into(), "default".into())
    );
    // File over default.
    assert_eq!(
        setting(&shown, "base_domain"),
        ("crm.example.com".into(), format!("file {file_arg}"))
    );
    assert_eq!(setting(&shown, "log_retention_days").0, 30);
    // Env over file.
    assert_eq!(
        setting(&shown, "listen"),
        ("127.0.0.1:7002".into(), "env HOLDFAST_LISTEN".into())
    );
    assert_eq!(setting(&shown, "log_level").0, "warn");
    // Flag over env.
    assert_eq!(
        setting(&shown, "log_format"),
        ("json".into(), "flag --log-format".into())
    );
}

#[test]
fn the_serve_listen_flag_beats_env_and_file() {
    let holdfast = Holdfast::new();
    // `config show` has no --listen; the flag is `serve`'s. Check through a bad value that
    // serve refuses naming the flag as the source, which proves the flag won.
    let run = holdfast.run_with_env(
        &[
            "serve",
            "--listen",
            "not-an-address",
            "--data-dir",
            holdfast.data_dir().to_str().unwrap(),
        ],
        &[("HOLDFAST_LISTEN", "127.0.0.1:7002")],
    );
    let line = run.assert_refused();
    assert!(
        line.contains("invalid setting listen (from flag --listen)"),
        "{line}"
    );
}

#[test]
fn the_data_dir_defaults_to_the_platform_directory() {
    let holdfast = Holdfast::new();
    let shown = holdfast
        .run(&["config", "show", "--json"])
        .assert_ok()
        .json();
    let (value, source) = setting(&shown, "data_dir");
    let expected = holdfast.home.path().join(".local/share/holdfast");
    assert_eq!(value, expected.to_str().unwrap());
    assert_eq!(source, "default");
    let (log_dir, _) = setting(&shown, "log_dir");
    assert_eq!(log_dir, expected.join("logs").to_str().unwrap());
    assert!(shown["config_file"].is_null());
}

#[test]
fn the_platform_config_file_is_read_when_present() {
    let holdfast = Holdfast::new();
    let dir = holdfast.home.path().join(".config/holdfast");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("holdfast.toml"), "listen = \"0.0.0.0:9090\"\n").unwrap();
    let shown = holdfast
        .run(&["config", "show", "--json"])
        .assert_ok()
        .json();
    assert_eq!(setting(&shown, "listen").0, "0.0.0.0:9090");
}

#[test]
fn text_output_lists_every_setting_with_its_source() {
    let holdfast = Holdfast::new();
    let run = holdfast.run_with_env(
        &["config", "show"],
        &[("HOLDFAST_BASE_DOMAIN", "crm.example.org")],
    );
    let out = &run.assert_ok().stdout;
    assert!(out.contains("# config file: none"), "{out}");
    assert!(out.contains("base_domain = \"crm.example.org\""), "{out}");
    assert!(out.contains("# env HOLDFAST_BASE_DOMAIN"), "{out}");
    assert!(out.contains("# tls_cert (not set)"), "{out}");
    for key in holdfast::config::Settings::KEYS {
        assert!(out.contains(key), "{key} missing from:\n{out}");
    }
}

#[test]
fn a_bad_value_is_one_line_naming_the_setting_and_its_source() {
    let holdfast = Holdfast::new();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("HOLDFAST_MAX_BODY_BYTES", "12")],
            "invalid setting max_body_bytes (from env HOLDFAST_MAX_BODY_BYTES)",
        ),
        (
            &[("HOLDFAST_LOG_RETENTION_DAYS", "soon")],
            "invalid setting log_retention_days (from env HOLDFAST_LOG_RETENTION_DAYS)",
        ),
        (
            &[("HOLDFAST_LOG_FORMAT", "xml")],
            "invalid setting log_format (from env HOLDFAST_LOG_FORMAT)",
        ),
        (
            &[("HOLDFAST_PUBLIC_URL", "crm.example.com")],
            "invalid setting public_url (from env HOLDFAST_PUBLIC_URL)",
        ),
        (
            &[("HOLDFAST_APPLIANCE_HOSTS", "https://console.example.com")],
            "invalid setting appliance_hosts (from env HOLDFAST_APPLIANCE_HOSTS)",
        ),
    ];
    for (env, expected) in cases {
        let run = holdfast.run_with_env(&["config", "show"], env);
        let line = run.assert_refused();
        assert!(line.starts_with("error: "), "{line}");
        assert!(line.contains(expected), "{line}");
    }
}

#[test]
fn a_bad_config_file_is_refused_with_its_path() {
    let holdfast = Holdfast::new();
    let file = holdfast.home.path().join("holdfast.toml");

    let missing = holdfast.run(&["config", "show", "--config", file.to_str().unwrap()]);
    assert!(missing.assert_refused().contains("no such file"));

    fs::write(&file, "lissten = \"127.0.0.1:1\"\n").unwrap();
    let unknown = holdfast.run(&["config", "show", "--config", file.to_str().unwrap()]);
    let line = unknown.assert_refused();
    assert!(line.contains("lissten"), "{line}");

    fs::write(&file, "listen = [broken\n").unwrap();
    let broken = holdfast.run(&["config", "show", "--config", file.to_str().unwrap()]);
    let line = broken.assert_refused();
    assert!(line.contains(file.to_str().unwrap()), "{line}");
}

#[test]
fn the_config_file_can_come_from_the_environment() {
    let holdfast = Holdfast::new();
    let file = holdfast.home.path().join("custom.toml");
    fs::write(&file, "base_domain = \"env-file.example\"\n").unwrap();
    let shown = holdfast
        .run_with_env(
            &["config", "show", "--json"],
            &[("HOLDFAST_CONFIG", file.to_str().unwrap())],
        )
        .assert_ok()
        .json();
    assert_eq!(setting(&shown, "base_domain").0, "env-file.example");
}

#[test]
fn appliance_hosts_come_from_the_file_or_the_environment() {
    let holdfast = Holdfast::new();
    let shown = holdfast
        .run(&["config", "show", "--json"])
        .assert_ok()
        .json();
    assert_eq!(
        setting(&shown, "appliance_hosts"),
        ("".into(), "default".into())
    );
    let file = holdfast.home.path().join("holdfast.toml");
    fs::write(
        &file,
        "base_domain = \"crm.example.com\"\nappliance_hosts = \"console.example.com\"\n",
    )
    .unwrap();
    let file_arg = file.to_str().unwrap();
    let shown = holdfast
        .run(&["config", "show", "--json", "--config", file_arg])
        .assert_ok()
        .json();
    assert_eq!(
        setting(&shown, "appliance_hosts"),
        ("console.example.com".into(), format!("file {file_arg}"))
    );
    let shown = holdfast
        .run_with_env(
            &["config", "show", "--json", "--config", file_arg],
            &[("HOLDFAST_APPLIANCE_HOSTS", "crm.example.com, 10.0.0.5")],
        )
        .assert_ok()
        .json();
    assert_eq!(
        setting(&shown, "appliance_hosts"),
        (
            "crm.example.com, 10.0.0.5".into(),
            "env HOLDFAST_APPLIANCE_HOSTS".into()
        )
    );
    // A tenant's host cannot be the appliance's.
    let run = holdfast.run_with_env(
        &["config", "show", "--config", file_arg],
        &[("HOLDFAST_APPLIANCE_HOSTS", "acme.crm.example.com")],
    );
    assert!(
        run.assert_refused()
            .contains("invalid setting appliance_hosts"),
        "{}",
        run.stderr
    );
}
