//! Users from the command line: seats counted across tenants by one check, race-free even
//! between two processes; deactivated users free their seat; a smaller license removes nobody.

use std::process::Stdio;

use crate::helpers::{Holdfast, Run, demo_key};

struct Appliance {
    holdfast: Holdfast,
    dir: String,
}

impl Appliance {
    /// An appliance with tenants `acme` and `beta` under a license of `seats` seats.
    fn with_seats(seats: u32) -> Self {
        let holdfast = Holdfast::new();
        let dir = holdfast.data_dir().to_str().unwrap().to_owned();
        let app = Self { holdfast, dir };
        app.license(seats);
        for slug in ["acme", "beta"] {
            app.run(&["tenant", "create", slug, "--name", slug])
                .assert_ok();
        }
        app
    }

    /// Installs a new issue of the test license (each call a second later than the last, as
    /// the appliance refuses a different key issued at the same second).
    fn license(&self, seats: u32) {
        static ISSUES: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
        let later = ISSUES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = demo_key(|p| {
            p.issued_at += later;
            p.max_seats = seats;
            p.max_tenants = 5;
        });
        self.run(&["license", "install", &key]).assert_ok();
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--data-dir", &self.dir]);
        self.holdfast.run(&all)
    }

    fn create(&self, tenant: &str, email: &str, role: &str) -> Run {
        self.run(&[
            "user", "create", "--tenant", tenant, "--email", email, "--role", role,
        ])
    }

    fn create_owner(&self, tenant: &str, email: &str, password: &str) -> Run {
        self.holdfast.run_with_stdin(
            &[
                "user",
                "create",
                "--tenant",
                tenant,
                "--email",
                email,
                "--role",
                "owner",
                "--password-stdin",
                "--data-dir",
                &self.dir,
            ],
            &format!("{password}\n"),
        )
    }

    fn seats_used(&self) -> u64 {
        self.run(&["license", "status", "--json"])
            .assert_ok()
            .json()["seats_used"]
            .as_u64()
            .unwrap()
    }

    fn users(&self, tenant: &str) -> Vec<serde_json::Value> {
        let list = self.run(&["user", "list", "--tenant", tenant, "--json"]);
        list.assert_ok().json().as_array().unwrap().clone()
    }
}

#[test]
fn users_are_created_invited_listed_deactivated_and_reactivated() {
    let app = Appliance::with_seats(10);
    app.create_owner("acme", "Owner@Acme.test", "correct horse battery")
        .assert_ok();
    let invited = app.create("acme", "ada@acme.test", "admin");
    let out = &invited.assert_ok().stdout;
    assert!(out.contains("/t/acme/accept-invite#token="), "{out}");

    let users = app.users("acme");
    let pairs: Vec<(&str, &str)> = users
        .iter()
        .map(|u| (u["email"].as_str().unwrap(), u["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        [("ada@acme.test", "invited"), ("owner@acme.test", "active")]
    );
    assert!(users.iter().all(|u| u.get("password_hash").is_none()));
    assert!(app.users("beta").is_empty(), "users belong to one tenant");
    assert_eq!(app.seats_used(), 2, "a pending invitation holds its seat");

    let again = app.create("acme", "ADA@acme.test", "member");
    assert!(
        again.assert_refused().contains("user_exists"),
        "{}",
        again.stderr
    );
    app.create("beta", "ada@acme.test", "member").assert_ok();
    assert_eq!(
        app.seats_used(),
        3,
        "the same person in two tenants takes two seats"
    );

    let who = ["--tenant", "acme", "--email", "ada@acme.test"];
    app.run(&[&["user", "deactivate"][..], &who].concat())
        .assert_ok();
    assert_eq!(app.seats_used(), 2);
    let link = app.run(&[&["user", "reset-password"][..], &who].concat());
    assert!(link.assert_refused().contains("user_deactivated"));
    app.run(&[&["user", "reactivate"][..], &who].concat())
        .assert_ok();
    assert_eq!(app.seats_used(), 3);
    let link = app.run(&[&["user", "reset-password"][..], &who].concat());
    assert!(
        link.assert_ok().stdout.contains("accept-invite#token="),
        "still invited"
    );

    let owner = ["--tenant", "acme", "--email", "owner@acme.test"];
    let link = app.run(&[&["user", "reset-password"][..], &owner].concat());
    assert!(
        link.assert_ok()
            .stdout
            .contains("/t/acme/reset-password#token=")
    );
    let last = app.run(&[&["user", "deactivate"][..], &owner].concat());
    assert!(last.assert_refused().contains("last_owner"));
}

#[test]
fn bad_input_is_refused_with_a_reason_and_changes_nothing() {
    let app = Appliance::with_seats(10);
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "--tenant",
                "acme",
                "--email",
                "not-an-address",
                "--role",
                "member",
            ],
            "invalid e-mail",
        ),
        (
            &[
                "--tenant", "nobody", "--email", "a@b.test", "--role", "member",
            ],
            "tenant_not_found",
        ),
        (
            &[
                "--tenant", "Bad Slug", "--email", "a@b.test", "--role", "member",
            ],
            "invalid slug",
        ),
        (
            &[
                "--tenant",
                "acme",
                "--email",
                "a@b.test",
                "--role",
                "owner",
                "--password-stdin",
            ],
            "invalid_password",
        ),
    ];
    for (args, reason) in cases {
        let mut all = vec!["user", "create"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--data-dir", &app.dir]);
        let run = app.holdfast.run_with_stdin(&all, "short\n");
        assert!(
            run.assert_refused().contains(reason),
            "{args:?}: {}",
            run.stderr
        );
    }
    let bad_role = app.create("acme", "a@b.test", "superuser");
    assert_eq!(bad_role.code, 2, "a bad role is a usage error");
    assert!(app.users("acme").is_empty());
}

#[test]
fn seats_are_capped_across_tenants_and_a_smaller_license_removes_nobody() {
    let app = Appliance::with_seats(3);
    app.create("acme", "a@acme.test", "owner").assert_ok();
    app.create("acme", "b@acme.test", "member").assert_ok();
    app.create("beta", "c@beta.test", "owner").assert_ok();
    let full = app.create("beta", "d@beta.test", "member");
    assert!(
        full.assert_refused()
            .starts_with("error: seat_limit_reached"),
        "{}",
        full.stderr
    );

    let b = ["--tenant", "acme", "--email", "b@acme.test"];
    app.run(&[&["user", "deactivate"][..], &b].concat())
        .assert_ok();
    app.create("beta", "d@beta.test", "member").assert_ok();
    let back = app.run(&[&["user", "reactivate"][..], &b].concat());
    assert!(
        back.assert_refused().contains("seat_limit_reached"),
        "reactivation takes a seat"
    );

    app.license(1);
    let everyone: Vec<String> = ["acme", "beta"]
        .iter()
        .flat_map(|t| app.users(t))
        .map(|u| u["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(everyone, ["invited", "deactivated", "invited", "invited"]);
    assert_eq!(app.seats_used(), 3, "over cap, and nobody removed");
    let status = app.run(&["license", "status", "--json"]).assert_ok().json();
    assert_eq!(status["seats_cap"], 1);
    let more = app.create("acme", "e@acme.test", "member");
    assert!(more.assert_refused().contains("seat_limit_reached"));
}

#[test]
fn two_processes_adding_a_user_at_one_below_the_cap_yield_exactly_one() {
    for _ in 0..3 {
        let app = Appliance::with_seats(2);
        app.create("acme", "first@acme.test", "owner").assert_ok();
        let racers: Vec<_> = [("acme", "left@acme.test"), ("beta", "right@beta.test")]
            .iter()
            .map(|(tenant, email)| {
                app.holdfast
                    .command(&[
                        "user",
                        "create",
                        "--tenant",
                        tenant,
                        "--email",
                        email,
                        "--role",
                        "member",
                        "--data-dir",
                        &app.dir,
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outcomes: Vec<_> = racers
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        assert_eq!(outcomes.iter().filter(|o| o.status.success()).count(), 1);
        let loser = outcomes.iter().find(|o| !o.status.success()).unwrap();
        assert!(String::from_utf8_lossy(&loser.stderr).contains("seat_limit_reached"));
        assert_eq!(app.seats_used(), 2);
    }
}

#[test]
fn a_tenant_is_created_with_its_owner_invited_and_a_seat_limit_of_its_own() {
    let app = Appliance::with_seats(10);
    let created = app.run(&[
        "tenant",
        "create",
        "gamma",
        "--name",
        "Gamma",
        "--owner-email",
        "boss@gamma.test",
    ]);
    let out = &created.assert_ok().stdout;
    assert!(out.contains("/t/gamma/accept-invite#token="), "{out}");
    assert_eq!(app.users("gamma")[0]["role"], "owner");

    let limited = app.run(&["tenant", "update", "gamma", "--seat-limit", "2", "--json"]);
    assert_eq!(limited.assert_ok().json()["seat_limit"], 2);
    app.create("gamma", "two@gamma.test", "member").assert_ok();
    let third = app.create("gamma", "three@gamma.test", "member");
    assert!(
        third.assert_refused().contains("seat_limit_reached"),
        "{}",
        third.stderr
    );
    app.create("acme", "three@gamma.test", "member").assert_ok();
    let lifted = app.run(&["tenant", "update", "gamma", "--no-seat-limit", "--json"]);
    assert!(lifted.assert_ok().json()["seat_limit"].is_null());
    app.create("gamma", "three@gamma.test", "member")
        .assert_ok();

    let bad = app.run(&[
        "tenant",
        "update",
        "gamma",
        "--custom-domain",
        "not a domain",
    ]);
    assert!(bad.assert_refused().contains("invalid_input"));
    app.run(&[
        "tenant",
        "update",
        "gamma",
        "--custom-domain",
        "CRM.Gamma.example",
    ])
    .assert_ok();
    let taken = app.run(&[
        "tenant",
        "update",
        "acme",
        "--custom-domain",
        "crm.gamma.example",
    ]);
    assert!(taken.assert_refused().contains("domain_taken"));
}

#[test]
fn a_tenant_whose_owner_finds_no_seat_is_not_created() {
    let app = Appliance::with_seats(1);
    app.create("acme", "a@acme.test", "owner").assert_ok();
    let refused = app.run(&[
        "tenant",
        "create",
        "gamma",
        "--name",
        "Gamma",
        "--owner-email",
        "boss@gamma.test",
    ]);
    assert!(
        refused.assert_refused().contains("seat_limit_reached"),
        "{}",
        refused.stderr
    );
    let gone = app.run(&["tenant", "show", "gamma"]);
    assert!(gone.assert_refused().contains("tenant_not_found"));
}
