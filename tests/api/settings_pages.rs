//! The settings pages over plain HTTP: users and roles (invite, roles, seats, deactivate),
//! API tokens (the secret shown once), the audit log's filters, and who may post there.

use crate::helpers::{PASSWORD, TestApp, licensed_tenants, licensed_tenants_with, past_grace};
use crate::pages::{client, csrf_of, location, sign_in_at};

/// A browser without JavaScript signed in to `acme` as `email`, and its CSRF token.
async fn signed_in(app: &TestApp, email: &str) -> (reqwest::Client, String) {
    let web = client();
    assert_eq!(sign_in_at(app, &web, "acme", email).await.status(), 303);
    let html = get(app, &web, "/t/acme/contacts").await.1;
    (web, csrf_of(&html))
}

async fn get(app: &TestApp, web: &reqwest::Client, path: &str) -> (u16, String) {
    let answer = web.get(app.url(path)).send().await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

async fn post(
    app: &TestApp,
    web: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    web.post(app.url(path)).form(form).send().await.unwrap()
}

/// The text in `html` after `marker`, up to the next character `end`.
fn after<'a>(html: &'a str, marker: &str, end: char) -> &'a str {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        + marker.len();
    html[start..].split(end).next().unwrap()
}

/// The id of user `email` of `acme`, through the owner's API.
async fn user_id(owner: &mut crate::helpers::Browser<'_>, email: &str) -> String {
    let (status, body) = owner.get("/t/acme/api/v1/users").await;
    assert_eq!(status, 200);
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_admin_invites_someone_who_accepts_through_the_link() {
    let app = TestApp::spawn().await;
    let _tenants = licensed_tenants(&app, &["acme"]).await;
    let (web, csrf) = signed_in(&app, "admin@acme.test").await;
    let (status, hub) = get(&app, &web, "/t/acme/settings").await;
    assert_eq!(status, 200);
    assert!(hub.contains("href=\"/t/acme/settings/users\"") && hub.contains("Audit log"));
    let (_, users) = get(&app, &web, "/t/acme/settings/users").await;
    assert!(users.contains("4 of 20"), "seats: {users}");

    let answer = post(
        &app,
        &web,
        "/t/acme/settings/users",
        &[
            ("csrf", &csrf),
            ("email", "new@acme.test"),
            ("role", "member"),
        ],
    )
    .await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let html = answer.text().await.unwrap();
    assert!(
        html.contains("5 of 20") && html.contains("invited"),
        "{html}"
    );
    let token = after(&html, "/t/acme/accept-invite#token=", '<').to_owned();

    let newcomer = client();
    let accepted = post(
        &app,
        &newcomer,
        "/t/acme/accept-invite",
        &[
            ("token", &token),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ],
    )
    .await;
    assert_eq!(accepted.status(), 303);
    assert!(location(&accepted).starts_with("/t/acme/sign-in?email=new"));
    assert_eq!(
        location(&sign_in_at(&app, &newcomer, "acme", "new@acme.test").await),
        "/t/acme/contacts"
    );
    let (_, users) = get(&app, &web, "/t/acme/settings/users").await;
    let row = after(&users, "new@acme.test</th>", '\n');
    assert!(users.contains("new@acme.test"), "{row}");

    // The same address again is refused next to the form, what was typed kept.
    let again = post(
        &app,
        &web,
        "/t/acme/settings/users",
        &[
            ("csrf", &csrf),
            ("email", "new@acme.test"),
            ("role", "member"),
        ],
    )
    .await;
    assert_eq!(again.status(), 409);
    let html = again.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("value=\"new@acme.test\""));
}

#[tokio::test]
async fn an_admin_cannot_make_or_touch_owners_and_the_last_owner_stays() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let member = user_id(owner, "member@acme.test").await;
    let owner_id = user_id(owner, "owner@acme.test").await;
    let (web, csrf) = signed_in(&app, "admin@acme.test").await;
    let (_, page) = get(&app, &web, "/t/acme/settings/users").await;
    assert!(!page.contains("<option value=\"owner\""), "not offered");

    let invite = post(
        &app,
        &web,
        "/t/acme/settings/users",
        &[
            ("csrf", &csrf),
            ("email", "boss@acme.test"),
            ("role", "owner"),
        ],
    )
    .await;
    assert_eq!(invite.status(), 403);
    assert!(invite.text().await.unwrap().contains("Only owners may"));
    assert_eq!(user_id(owner, "boss@acme.test").await, "", "nobody added");

    let promote = post(
        &app,
        &web,
        &format!("/t/acme/settings/users/{member}/role"),
        &[("csrf", &csrf), ("role", "owner")],
    )
    .await;
    assert_eq!(promote.status(), 403);
    let deactivate = post(
        &app,
        &web,
        &format!("/t/acme/settings/users/{owner_id}/deactivate"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(deactivate.status(), 403);
    let (_, user) = owner.get(&format!("/t/acme/api/v1/users/{member}")).await;
    assert_eq!(user["user"]["role"], "member", "nothing changed");
    let (_, user) = owner.get(&format!("/t/acme/api/v1/users/{owner_id}")).await;
    assert_eq!(user["user"]["status"], "active");

    // The owner may change roles, but not demote the last owner.
    let (web, csrf) = signed_in(&app, "owner@acme.test").await;
    let promoted = post(
        &app,
        &web,
        &format!("/t/acme/settings/users/{member}/role"),
        &[("csrf", &csrf), ("role", "admin")],
    )
    .await;
    assert_eq!(promoted.status(), 303);
    assert_eq!(location(&promoted), "/t/acme/settings/users");
    let demote = post(
        &app,
        &web,
        &format!("/t/acme/settings/users/{owner_id}/role"),
        &[("csrf", &csrf), ("role", "admin")],
    )
    .await;
    assert_eq!(demote.status(), 409);
    assert!(
        demote
            .text()
            .await
            .unwrap()
            .contains("The tenant must keep at least one active owner")
    );
    let (_, user) = owner.get(&format!("/t/acme/api/v1/users/{member}")).await;
    assert_eq!(user["user"]["role"], "admin");
}

#[tokio::test]
async fn a_full_seat_cap_refuses_an_invitation_plainly() {
    let app = TestApp::spawn().await;
    let _tenants = licensed_tenants_with(&app, &["acme"], |p| p.max_seats = 4).await;
    let (web, csrf) = signed_in(&app, "admin@acme.test").await;
    let answer = post(
        &app,
        &web,
        "/t/acme/settings/users",
        &[
            ("csrf", &csrf),
            ("email", "fifth@acme.test"),
            ("role", "viewer"),
        ],
    )
    .await;
    assert_eq!(answer.status(), 403);
    let html = answer.text().await.unwrap();
    assert!(
        html.contains("All 4 seats of the license are in use") && html.contains("4 of 4"),
        "{html}"
    );
    assert!(!html.contains("fifth@acme.test</th>"));
}

#[tokio::test]
async fn a_deactivated_user_is_signed_out_and_can_come_back() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let member = user_id(owner, "member@acme.test").await;
    let (members_web, _) = signed_in(&app, "member@acme.test").await;
    let (web, csrf) = signed_in(&app, "admin@acme.test").await;

    let (_, page) = get(&app, &web, "/t/acme/settings/users").await;
    assert!(page.contains("Last sign-in") && page.contains("<time datetime="));
    let off = post(
        &app,
        &web,
        &format!("/t/acme/settings/users/{member}/deactivate"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(off.status(), 303);
    let refused = members_web
        .get(app.url("/t/acme/contacts"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 303, "the member's session is over");
    assert!(location(&refused).starts_with("/t/acme/sign-in"));

    let back = post(
        &app,
        &web,
        &format!("/t/acme/settings/users/{member}/reactivate"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(back.status(), 303);
    let link = post(
        &app,
        &web,
        &format!("/t/acme/settings/users/{member}/reset-password"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(link.status(), 200);
    assert_eq!(link.headers()["cache-control"], "no-store");
    assert!(
        link.text()
            .await
            .unwrap()
            .contains("/t/acme/reset-password#token=")
    );
}

/// The token made on the page: its secret is on the answer only, works on the API, and
/// stops working once revoked.
#[tokio::test]
async fn a_token_is_shown_once_works_and_is_refused_once_revoked() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (web, csrf) = signed_in(&app, "admin@acme.test").await;
    let made = post(
        &app,
        &web,
        "/t/acme/settings/tokens",
        &[
            ("csrf", &csrf),
            ("name", "nightly sync"),
            ("role", "member"),
            ("expires_in_days", ""),
        ],
    )
    .await;
    assert_eq!(made.status(), 200);
    assert_eq!(made.headers()["cache-control"], "no-store");
    let html = made.text().await.unwrap();
    let secret = after(&html, "id=\"token-secret\">", '<').to_owned();
    assert!(secret.starts_with("hft_") && html.contains("data-copy=\"token-secret\""));
    let (_, list) = get(&app, &web, "/t/acme/settings/tokens").await;
    assert!(
        list.contains("nightly sync") && !list.contains(&secret),
        "shown once"
    );

    let plain = reqwest::Client::new();
    let call = |secret: String| {
        plain
            .get(app.url("/t/acme/api/v1/contacts"))
            .bearer_auth(secret)
            .send()
    };
    assert_eq!(call(secret.clone()).await.unwrap().status(), 200);

    let above = post(
        &app,
        &web,
        "/t/acme/settings/tokens",
        &[
            ("csrf", &csrf),
            ("name", "too much"),
            ("role", "owner"),
            ("expires_in_days", ""),
        ],
    )
    .await;
    assert_eq!(above.status(), 403);
    assert!(above.text().await.unwrap().contains("above its maker"));

    let (_, owner) = &mut tenants[0][0];
    let (_, tokens) = owner.get("/t/acme/api/v1/tokens").await;
    assert_eq!(tokens["tokens"].as_array().unwrap().len(), 1, "{tokens}");
    let id = tokens["tokens"][0]["id"].as_str().unwrap();
    let revoked = post(
        &app,
        &web,
        &format!("/t/acme/settings/tokens/{id}/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(revoked.status(), 303);
    assert_eq!(call(secret).await.unwrap().status(), 401);
    let (_, list) = get(&app, &web, "/t/acme/settings/tokens").await;
    assert!(list.contains("revoked"));
}

#[tokio::test]
async fn the_audit_page_filters_by_action_and_refuses_a_bad_date() {
    let app = TestApp::spawn().await;
    let _tenants = licensed_tenants(&app, &["acme"]).await;
    let (web, csrf) = signed_in(&app, "admin@acme.test").await;
    let made = post(
        &app,
        &web,
        "/t/acme/settings/tokens",
        &[
            ("csrf", &csrf),
            ("name", "audited"),
            ("role", "viewer"),
            ("expires_in_days", "30"),
        ],
    )
    .await;
    assert_eq!(made.status(), 200);
    let (status, all) = get(&app, &web, "/t/acme/settings/audit").await;
    assert_eq!(status, 200);
    assert!(all.contains("POST /settings/tokens") && all.contains("POST /api/v1/users"));
    let (_, tokens) = get(
        &app,
        &web,
        "/t/acme/settings/audit?action=TOKENS&from=2000-01-01",
    )
    .await;
    assert!(tokens.contains("POST /settings/tokens") && tokens.contains("admin@acme.test"));
    assert!(!tokens.contains("POST /api/v1/users"), "filtered");
    let (_, future) = get(&app, &web, "/t/acme/settings/audit?from=2999-01-01").await;
    assert!(future.contains("No entries match"));
    let (status, bad) = get(&app, &web, "/t/acme/settings/audit?to=yesterday").await;
    assert_eq!(status, 400);
    assert!(bad.contains("To: a date"));
}

/// Members and viewers are refused every settings form, whatever they post; a forged
/// token is refused before anything else.
#[tokio::test]
async fn members_viewers_and_forged_forms_are_refused() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let member = user_id(owner, "member@acme.test").await;
    let posts = [
        (
            "/t/acme/settings/users".to_owned(),
            vec![("email", "x@acme.test"), ("role", "viewer")],
        ),
        (
            format!("/t/acme/settings/users/{member}/role"),
            vec![("role", "admin")],
        ),
        (
            format!("/t/acme/settings/users/{member}/deactivate"),
            vec![],
        ),
        (
            format!("/t/acme/settings/users/{member}/reactivate"),
            vec![],
        ),
        (
            format!("/t/acme/settings/users/{member}/reset-password"),
            vec![],
        ),
        (
            "/t/acme/settings/tokens".to_owned(),
            vec![("name", "x"), ("role", "viewer")],
        ),
        ("/t/acme/settings/tokens/none/revoke".to_owned(), vec![]),
    ];
    for email in ["member@acme.test", "viewer@acme.test"] {
        let (web, csrf) = signed_in(&app, email).await;
        for (path, fields) in &posts {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend(fields.iter().copied());
            let answer = post(&app, &web, path, &form).await;
            assert_eq!(answer.status(), 403, "{email} POST {path}");
        }
    }
    let (web, _) = signed_in(&app, "admin@acme.test").await;
    let forged = post(
        &app,
        &web,
        &format!("/t/acme/settings/users/{member}/deactivate"),
        &[("csrf", "forged")],
    )
    .await;
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().contains("csrf_failed"));
    let (_, user) = owner.get(&format!("/t/acme/api/v1/users/{member}")).await;
    assert_eq!(user["user"]["status"], "active");
    assert_eq!(user_id(owner, "x@acme.test").await, "");
}

/// Past the license's grace nobody is invited and no token is made, but access can still
/// be taken away.
#[tokio::test]
async fn read_only_refuses_new_access_but_takes_access_away() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants_with(&app, &["acme"], |p| {
        p.expires_at = Some(p.issued_at + 10 * 86_400);
    })
    .await;
    let (_, owner) = &mut tenants[0][0];
    let member = user_id(owner, "member@acme.test").await;
    let (web, csrf) = signed_in(&app, "admin@acme.test").await;
    past_grace(&app).await;
    let (_, page) = get(&app, &web, "/t/acme/settings/users").await;
    assert!(page.contains("nobody can be invited now"), "{page}");
    let invite = post(
        &app,
        &web,
        "/t/acme/settings/users",
        &[
            ("csrf", &csrf),
            ("email", "late@acme.test"),
            ("role", "viewer"),
        ],
    )
    .await;
    assert_eq!(invite.status(), 403);
    assert!(
        invite
            .text()
            .await
            .unwrap()
            .contains("install a new key to add users")
    );
    let token = post(
        &app,
        &web,
        "/t/acme/settings/tokens",
        &[("csrf", &csrf), ("name", "late"), ("role", "viewer")],
    )
    .await;
    assert_eq!(token.status(), 403);
    let off = post(
        &app,
        &web,
        &format!("/t/acme/settings/users/{member}/deactivate"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(off.status(), 303);
}
