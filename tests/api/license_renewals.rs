//! Renewals and rollback: the appliance remembers the newest issue of every license it has
//! ever accepted, so no order of installs brings an older issue back; only a renewal of the
//! license in force waits for its start, and a renewal that stops waiting says so.

use serde_json::Value;

use crate::helpers::{Holdfast, demo_key};

const DAY: i64 = 86_400;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

struct Appliance {
    holdfast: Holdfast,
    dir: String,
}

impl Appliance {
    fn new() -> Self {
        let holdfast = Holdfast::new();
        let dir = holdfast.data_dir().to_str().unwrap().to_owned();
        Self { holdfast, dir }
    }

    fn install(&self, key: &str) -> crate::helpers::Run {
        self.holdfast
            .run(&["license", "install", key, "--data-dir", &self.dir])
    }

    fn status(&self) -> Value {
        self.holdfast
            .run(&["license", "status", "--json", "--data-dir", &self.dir])
            .assert_ok()
            .json()
    }
}

/// A key of license `id` issued `age` seconds ago, for `seats` seats.
fn issue(id: &str, age: i64, seats: u32) -> String {
    demo_key(|p| {
        id.clone_into(&mut p.license_id);
        p.issued_at = now() - age;
        p.max_seats = seats;
    })
}

#[test]
fn no_order_of_installs_brings_an_older_issue_back() {
    let appliance = Appliance::new();
    let x_old = issue("x", 2 * DAY, 500);
    let x_new = issue("x", DAY, 50);
    appliance.install(&x_new).assert_ok();
    appliance.install(&issue("y", 60, 10)).assert_ok();
    // The detour: another license in between does not make x's older issue acceptable.
    let line = appliance.install(&x_old).assert_refused().to_owned();
    assert!(line.contains("license_invalid (superseded)"), "{line}");
    assert!(line.contains("older issue"), "{line}");
    // Another key issued at the same second as the newest accepted one, with other caps.
    let twin = demo_key(|p| {
        p.license_id = "x".to_owned();
        p.issued_at = x_new_issued_at(&x_new);
        p.max_seats = 5000;
    });
    let line = appliance.install(&twin).assert_refused().to_owned();
    assert!(line.contains("license_invalid (superseded)"), "{line}");
    assert!(line.contains("same second"), "{line}");
    assert_eq!(appliance.status()["license_id"], "y", "y stays in force");
    // The very key accepted before may come back; it is no rollback.
    appliance.install(&x_new).assert_ok();
    assert_eq!(appliance.status()["seats_cap"], 50);
}

fn x_new_issued_at(key: &str) -> i64 {
    let (_, payload) = holdfast::license::decode_unverified(key).unwrap();
    payload.issued_at
}

#[test]
fn only_a_renewal_of_the_license_in_force_waits_and_one_that_stops_waiting_says_so() {
    let appliance = Appliance::new();
    appliance.install(&issue("y", DAY, 10)).assert_ok();
    let starts = now() + 30 * DAY;
    let renewal = demo_key(|p| {
        p.license_id = "y".to_owned();
        p.issued_at = now() - 60;
        p.not_before = Some(starts);
        p.expires_at = Some(starts + 365 * DAY);
        p.max_seats = 20;
    });
    let run = appliance.install(&renewal);
    assert!(
        run.assert_ok().stdout.contains("installed renewal y"),
        "{}",
        run.stdout
    );
    let shown = appliance.status();
    assert_eq!(shown["license_id"], "y");
    assert_eq!(
        shown["seats_cap"], 10,
        "the license in force stays until the start"
    );
    assert_eq!(shown["pending_renewal"]["license_id"], "y", "{shown}");
    assert_eq!(shown["pending_renewal"]["seats_cap"], 20);

    // A future key of another license is no renewal of this one.
    let stranger = demo_key(|p| {
        p.license_id = "z".to_owned();
        p.not_before = Some(starts);
        p.expires_at = Some(starts + 365 * DAY);
    });
    let line = appliance.install(&stranger).assert_refused().to_owned();
    assert!(line.contains("license_invalid (not_a_renewal)"), "{line}");
    assert_eq!(appliance.status()["pending_renewal"]["license_id"], "y");

    // Another license installed in force replaces the license and its waiting renewal,
    // and says so.
    let run = appliance.install(&issue("w", 30, 15));
    let out = &run.assert_ok().stdout;
    assert!(out.contains("no longer pending"), "{out}");
    let shown = appliance.status();
    assert_eq!(shown["license_id"], "w");
    assert!(shown["pending_renewal"].is_null(), "{shown}");
}

#[test]
fn status_shows_the_instance_binding_and_features_this_build_does_not_know() {
    let appliance = Appliance::new();
    let instance = appliance
        .holdfast
        .run(&["license", "instance-id", "--data-dir", &appliance.dir])
        .assert_ok()
        .stdout
        .trim()
        .to_owned();
    let key = demo_key(|p| {
        p.instance = Some(instance.clone());
        p.features = vec!["sso".into(), "oauth2_sync".into(), "s3-export".into()];
    });
    appliance.install(&key).assert_ok();
    let shown = appliance.status();
    assert_eq!(shown["instance_binding"], instance.as_str());
    assert_eq!(shown["features"], serde_json::json!(["sso"]));
    assert_eq!(
        shown["unknown_features"],
        serde_json::json!(["oauth2_sync", "s3-export"])
    );
    let text = appliance
        .holdfast
        .run(&["license", "status", "--data-dir", &appliance.dir])
        .assert_ok()
        .stdout
        .clone();
    assert!(
        text.contains("unknown features: oauth2_sync, s3-export"),
        "{text}"
    );
    assert!(
        text.contains(&format!("bound to:       {instance}")),
        "{text}"
    );
}

#[test]
fn refusals_print_times_as_rfc_3339() {
    let appliance = Appliance::new();
    let line = appliance
        .install(&demo_key(|p| p.issued_at = now() + 3600))
        .assert_refused()
        .to_owned();
    assert!(
        line.contains("license_invalid (issued_in_future)"),
        "{line}"
    );
    let stamp = regex_like_rfc3339(&line);
    assert!(stamp, "an RFC 3339 time in {line}");
}

/// Whether `text` holds a time such as `2026-11-23T10:00:00Z`.
fn regex_like_rfc3339(text: &str) -> bool {
    text.split_whitespace().any(|word| {
        let word = word.trim_end_matches([',', ':', ';']);
        time::OffsetDateTime::parse(word, &time::format_description::well_known::Rfc3339).is_ok()
    })
}
