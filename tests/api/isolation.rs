//! The whole tenant route table, walked with every role of the tenant and with every role and
//! token of another tenant. Routes come from the same table that registers them, so a route
//! added later is walked too without anyone remembering to add it here.

use holdfast::identity::Role;
use holdfast::web::endpoint::{Access, Area, Endpoint};
use serde_json::{Value, json};

use crate::helpers::{
    Browser, PASSWORD, TestApp, accept_invite, install_license, invite_owner, set_up,
};

const ROLES: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

/// One tenant's people: a signed-in browser per role, an admin API token, and a user, a
/// token and CRM records that routes with an `{id}` act on.
struct Tenant<'a> {
    slug: &'static str,
    browsers: Vec<(Role, Browser<'a>)>,
    token: String,
    target_user: String,
    target_token: String,
    /// `(route prefix, id)`: the record routes under that prefix act on.
    records: Vec<(&'static str, String)>,
}

/// A company, a contact of it, a deal with the contact, an activity about the deal, and a
/// custom field, made by the owner; with the default pipeline and the stage holding the deal.
async fn populate_crm(owner: &mut Browser<'_>, base: &str) -> Vec<(&'static str, String)> {
    let made = |status: u16, body: &Value, kind: &str| {
        assert_eq!(status, 201, "{kind}: {body}");
        body[kind]["id"].as_str().unwrap().to_owned()
    };
    let (status, body) = owner
        .post(
            &format!("{base}/companies"),
            json!({ "name": "Initech", "domain": "initech.example", "tags": ["key account"] }),
        )
        .await;
    let company = made(status, &body, "company");
    let (status, body) = owner
        .post(
            &format!("{base}/contacts"),
            json!({ "first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@initech.example"], "company_id": company }),
        )
        .await;
    let contact = made(status, &body, "contact");
    let (status, body) = owner
        .post(
            &format!("{base}/deals"),
            json!({ "title": "Initech renewal", "amount": 120_000, "company_id": company, "contact_ids": [contact] }),
        )
        .await;
    let deal = made(status, &body, "deal");
    let (pipeline, stage) = (
        body["deal"]["pipeline_id"].as_str().unwrap().to_owned(),
        body["deal"]["stage_id"].as_str().unwrap().to_owned(),
    );
    let (status, body) = owner
        .post(
            &format!("{base}/activities"),
            json!({ "kind": "call", "subject": "Renewal call", "links": [{ "kind": "deal", "id": deal }] }),
        )
        .await;
    let activity = made(status, &body, "activity");
    let (status, body) = owner
        .post(
            &format!("{base}/fields"),
            json!({ "record_kind": "contact", "key": "tier", "label": "Tier", "kind": "select", "choices": ["gold", "silver"] }),
        )
        .await;
    let field = made(status, &body, "field");
    let (status, body) = owner
        .post(&format!("{base}/teams"), json!({ "name": "East" }))
        .await;
    let team = made(status, &body, "team");
    let (status, body) = owner
        .post(
            &format!("{base}/views"),
            json!({ "record_kind": "deal", "name": "Big deals", "shared": true, "sort": "-amount" }),
        )
        .await;
    let view = made(status, &body, "view");
    let (status, _, body) = owner
        .send_raw(
            reqwest::Method::POST,
            &format!("{base}/attachments?record_kind=deal&record_id={deal}&file_name=terms.pdf"),
            b"%PDF-1.7 terms".to_vec(),
            "application/pdf",
        )
        .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    let attachment = made(status, &body, "attachment");
    let (status, _, body) = owner
        .send_raw(
            reqwest::Method::POST,
            &format!("{base}/imports?record_kind=contact&file_name=people.csv"),
            b"First name,Email\nIda,ida@example.com\n".to_vec(),
            "text/csv",
        )
        .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    let import = made(status, &body, "import");
    vec![
        ("/imports", import),
        ("/teams", team),
        ("/views", view),
        ("/attachments", attachment),
        ("/contacts", contact),
        ("/companies", company),
        ("/deals", deal),
        ("/activities", activity),
        ("/pipelines", pipeline),
        ("/stages", stage),
        ("/fields", field),
    ]
}

async fn populate<'a>(app: &'a TestApp, op: &mut Browser<'a>, slug: &'static str) -> Tenant<'a> {
    let token = invite_owner(op, slug).await;
    let base = format!("/t/{slug}/api/v1");
    accept_invite(app, slug, &token).await;
    let mut owner = Browser::new(app);
    let mut browsers = Vec::new();
    for role in ROLES {
        let email = format!("{}@{slug}.test", role.as_str());
        if role != Role::Owner {
            let (status, body) = login_as(&mut owner, &base, "owner", slug).await;
            assert_eq!(status, 200, "{body}");
            let (status, body) = owner
                .post(
                    &format!("{base}/users"),
                    json!({ "email": email, "role": role, "password": PASSWORD }),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
        let mut browser = Browser::new(app);
        let (status, body) = login_as(&mut browser, &base, role.as_str(), slug).await;
        assert_eq!(status, 200, "{body}");
        browsers.push((role, browser));
    }
    let owner = &mut browsers[0].1;
    let (status, body) = owner
        .post(
            &format!("{base}/users"),
            json!({ "email": format!("target@{slug}.test"), "role": "member" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let target_user = body["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = owner
        .post(
            &format!("{base}/tokens"),
            json!({ "name": "script", "role": "admin" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let token = body["secret"].as_str().unwrap().to_owned();
    // Made by the admin: an owner's tokens are for owners alone, as owners are.
    let admin = &mut browsers[1].1;
    let (_, body) = admin
        .post(
            &format!("{base}/tokens"),
            json!({ "name": "target", "role": "viewer" }),
        )
        .await;
    let target_token = body["token"]["id"].as_str().unwrap().to_owned();
    let records = populate_crm(&mut browsers[0].1, &base).await;
    Tenant {
        slug,
        browsers,
        token,
        target_user,
        target_token,
        records,
    }
}

async fn login_as(browser: &mut Browser<'_>, base: &str, who: &str, slug: &str) -> (u16, Value) {
    browser
        .post(
            &format!("{base}/auth/login"),
            json!({ "email": format!("{who}@{slug}.test"), "password": PASSWORD }),
        )
        .await
}

/// The operator of an appliance licensed for five tenants, fifty seats and API tokens.
async fn licensed_operator(app: &TestApp) -> Browser<'_> {
    let mut op = set_up(app).await;
    install_license(&mut op, |p| {
        p.max_tenants = 5;
        p.max_seats = 50;
        p.features = vec!["api_tokens".into()];
    })
    .await;
    op
}

/// The path of `endpoint` for `tenant` (by prefix), with its `{id}` naming a real record of
/// `owner_of_ids` — another tenant's, when guessing ids across tenants.
fn path(endpoint: &Endpoint, tenant: &str, owner_of_ids: &Tenant<'_>) -> String {
    let record = owner_of_ids
        .records
        .iter()
        .find(|(prefix, _)| endpoint.path.starts_with(&format!("{prefix}/")));
    let id = match record {
        Some((_, id)) => id,
        None if endpoint.path.starts_with("/tokens") => &owner_of_ids.target_token,
        None => &owner_of_ids.target_user,
    };
    format!("/t/{tenant}{}", endpoint.full_path().replace("{id}", id))
}

fn method(endpoint: &Endpoint) -> reqwest::Method {
    endpoint.method.parse().unwrap()
}

/// What the owner of `tenant` sees of it: its users and tokens, and its CRM: every record of
/// every kind with its timeline, the pipelines, custom fields and tags.
async fn snapshot(tenant: &mut Tenant<'_>) -> Value {
    let base = format!("/t/{}/api/v1", tenant.slug);
    let owner = &mut tenant.browsers[0].1;
    let mut seen = serde_json::Map::new();
    for list in [
        "users",
        "tokens",
        "contacts",
        "companies",
        "deals",
        "activities",
        "pipelines",
        "fields",
        "tags",
        "teams",
        "views",
        "trash",
        "visibility",
        "settings",
    ] {
        let (status, body) = owner.get(&format!("{base}/{list}")).await;
        assert_eq!(status, 200, "{list}: {body}");
        seen.insert(list.to_owned(), body);
    }
    for (prefix, id) in &tenant.records {
        if ["/contacts", "/companies", "/deals", "/activities"].contains(prefix) {
            let (_, timeline) = owner.get(&format!("{base}{prefix}/{id}/timeline")).await;
            seen.insert(format!("{prefix} timeline"), timeline);
        }
    }
    Value::Object(seen)
}

fn tenant_endpoints() -> Vec<Endpoint> {
    let all: Vec<Endpoint> = holdfast::web::api_endpoints()
        .into_iter()
        .filter(|e| e.area == Area::Tenant)
        .collect();
    assert!(all.len() >= 10, "the walk covers the tenant API");
    all
}

#[tokio::test]
async fn no_session_or_token_of_another_tenant_reaches_any_route() {
    let app = TestApp::spawn_with(|s| s.base_domain = Some("crm.test".into())).await;
    let mut op = licensed_operator(&app).await;
    let mut acme = populate(&app, &mut op, "acme").await;
    let mut beta = populate(&app, &mut op, "beta").await;
    let before = snapshot(&mut acme).await;

    for endpoint in tenant_endpoints() {
        let Access::Tenant(_) = endpoint.access else {
            continue;
        };
        let target = path(&endpoint, "acme", &acme);
        for (role, browser) in &mut beta.browsers {
            // By prefix, with acme's real ids.
            let (status, _, body) = browser
                .send(method(&endpoint), &target, Some(json!({})))
                .await;
            assert_eq!(
                status, 404,
                "{role:?} of beta: {} {target}: {body}",
                endpoint.method
            );
            // By host.
            browser.host = Some("acme.crm.test".into());
            let by_host = target.trim_start_matches("/t/acme");
            let (status, _, body) = browser
                .send(method(&endpoint), by_host, Some(json!({})))
                .await;
            browser.host = None;
            assert_eq!(
                status, 404,
                "{role:?} of beta by host: {} {by_host}: {body}",
                endpoint.method
            );
        }
        let mut stranger = Browser::new(&app);
        let response = app
            .client
            .request(method(&endpoint), app.url(&target))
            .bearer_auth(&beta.token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            404,
            "beta's token: {} {target}",
            endpoint.method
        );
        let (status, _, body) = stranger
            .send(method(&endpoint), &target, Some(json!({})))
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthenticated")),
            "{} {target}",
            endpoint.method
        );
    }
    assert_eq!(snapshot(&mut acme).await, before, "nothing of acme changed");
}

/// The path of the session `browser` is signed in with.
async fn own_session(browser: &mut Browser<'_>) -> String {
    let (status, body) = browser.get("/t/acme/api/v1/auth/sessions").await;
    assert_eq!(status, 200, "{body}");
    let current = body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap();
    format!(
        "/t/acme/api/v1/auth/sessions/{}",
        current["id"].as_str().unwrap()
    )
}

#[tokio::test]
async fn every_route_admits_exactly_the_roles_the_table_gives_it() {
    let app = TestApp::spawn().await;
    let mut op = licensed_operator(&app).await;
    let mut acme = populate(&app, &mut op, "acme").await;
    // Lowest role first, so that what a viewer may do runs before an owner deletes things.
    acme.browsers.reverse();
    for endpoint in tenant_endpoints() {
        let Access::Tenant(minimum) = endpoint.access else {
            continue;
        };
        let shared_target = path(&endpoint, "acme", &acme);
        for (role, browser) in &mut acme.browsers {
            // A session is its user's own: each ends the one it signed in with.
            let target = if endpoint.path == "/auth/sessions/{id}" {
                own_session(browser).await
            } else {
                shared_target.clone()
            };
            let (status, _, body) = browser
                .send(method(&endpoint), &target, Some(json!({})))
                .await;
            let code = body["error"]["code"].as_str().unwrap_or("");
            let signed_out = matches!(endpoint.path, "/auth/logout" | "/auth/sessions/{id}");
            if signed_out && status == 204 {
                // Signed out as asked: sign in again for the rest of the walk.
                let (status, _) = login_as(browser, "/t/acme/api/v1", role.as_str(), "acme").await;
                assert_eq!(status, 200);
            }
            if (200..300).contains(&status) {
                assert_eq!(
                    status, endpoint.success,
                    "{} {target} answers the success the table declares",
                    endpoint.method
                );
            }
            if role.at_least(minimum) {
                assert!(
                    !matches!(
                        code,
                        "forbidden" | "unauthenticated" | "not_found" | "csrf_failed"
                    ),
                    "{role:?} may {} {target}: {status} {body}",
                    endpoint.method
                );
            } else {
                assert_eq!(
                    (status, code),
                    (403, "forbidden"),
                    "{role:?} may not {} {target}",
                    endpoint.method
                );
            }
        }
    }
}

#[tokio::test]
async fn every_operator_route_needs_an_operator_session() {
    let app = TestApp::spawn().await;
    let mut op = licensed_operator(&app).await;
    let acme = populate(&app, &mut op, "acme").await;
    let mut user = acme.browsers.into_iter().next().unwrap().1;
    let mut stranger = Browser::new(&app);
    let operator_routes: Vec<Endpoint> = holdfast::web::api_endpoints()
        .into_iter()
        .filter(|e| e.access == Access::Operator)
        .collect();
    assert!(operator_routes.len() >= 10);
    for endpoint in operator_routes {
        let target = endpoint
            .full_path()
            .replace("{slug}", "acme")
            .replace("{id}", &"0".repeat(32));
        for browser in [&mut user, &mut stranger] {
            let (status, _, body) = browser
                .send(method(&endpoint), &target, Some(json!({})))
                .await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (401, Some("unauthenticated")),
                "{} {target}",
                endpoint.method
            );
        }
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_with_its_error_codes() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for endpoint in holdfast::web::api_endpoints() {
        let op = &doc["paths"][endpoint.full_path()][endpoint.method.to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{} {} is described",
            endpoint.method,
            endpoint.full_path()
        );
        let listed: Vec<&str> = op["responses"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(|r| r["x-error-codes"].as_array())
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for code in endpoint.errors() {
            assert!(
                listed.contains(&code.as_str()),
                "{} {}: {code}",
                endpoint.method,
                endpoint.full_path()
            );
        }
    }
    let all: Vec<&str> = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
        ["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(all.contains(&"seat_limit_reached") && all.contains(&"tenant_suspended"));
}

/// Makes an admin API token as `who`@acme (who signs in for it) and returns its secret.
async fn admin_token_of(app: &TestApp, who: &str) -> String {
    let mut maker = Browser::new(app);
    let (status, body) = login_as(&mut maker, "/t/acme/api/v1", who, "acme").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = maker
        .post(
            "/t/acme/api/v1/tokens",
            json!({ "name": format!("{who}'s script"), "role": "admin" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_route_bounds_a_token_by_what_its_maker_may_do_now() {
    let app = TestApp::spawn().await;
    let mut op = licensed_operator(&app).await;
    let mut acme = populate(&app, &mut op, "acme").await;
    let base = "/t/acme/api/v1";
    let owner = &mut acme.browsers[0].1;
    for who in ["demoted", "gone"] {
        let (status, body) = owner
            .post(
                &format!("{base}/users"),
                json!({ "email": format!("{who}@acme.test"), "role": "admin", "password": PASSWORD }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let demoted = admin_token_of(&app, "demoted").await;
    let gone = admin_token_of(&app, "gone").await;
    let (_, body) = owner.get(&format!("{base}/users")).await;
    let id_of = |who: &str| {
        body["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == format!("{who}@acme.test"))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (demoted_id, gone_id) = (id_of("demoted"), id_of("gone"));
    let (status, _, body) = owner
        .send(
            reqwest::Method::PATCH,
            &format!("{base}/users/{demoted_id}"),
            Some(json!({ "role": "viewer" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = owner
        .post(&format!("{base}/users/{gone_id}/deactivate"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");

    for endpoint in tenant_endpoints() {
        let Access::Tenant(minimum) = endpoint.access else {
            continue;
        };
        let target = path(&endpoint, "acme", &acme);
        for (token, maker) in [(&demoted, "demoted to viewer"), (&gone, "deactivated")] {
            let response = app
                .client
                .request(method(&endpoint), app.url(&target))
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let code = body["error"]["code"].as_str().unwrap_or("");
            let expected = match maker {
                "deactivated" => Some((401, "unauthenticated")),
                _ if !Role::Viewer.at_least(minimum) => Some((403, "forbidden")),
                // Sessions are their user's, and a token is not a signed-in user.
                _ if endpoint.path.starts_with("/auth/sessions") => Some((403, "forbidden")),
                _ => None,
            };
            match expected {
                Some(refusal) => assert_eq!(
                    (status, code),
                    refusal,
                    "a token of a maker {maker} may not {} {target}: {body}",
                    endpoint.method
                ),
                None => assert!(
                    !matches!(code, "forbidden" | "unauthenticated" | "not_found"),
                    "a token of a maker {maker} still reads {target}: {status} {body}"
                ),
            }
        }
    }
}

/// Every `$ref` in `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => refs(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| refs(i, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_describes_bodies_from_the_types_and_declared_successes() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let post = &doc["paths"]["/api/v1/contacts"]["post"];
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ContactInput"
    );
    assert_eq!(
        post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ContactAnswer"
    );
    let input = &doc["components"]["schemas"]["ContactInput"];
    assert_eq!(input["additionalProperties"], false);
    assert_eq!(
        input["properties"]["lifecycle_stage"]["enum"],
        json!(["lead", "qualified", "customer", "other"])
    );
    assert!(
        doc["components"]["schemas"]["DealInput"]["properties"]
            .get("status")
            .is_none(),
        "kept by Holdfast, not sent"
    );
    assert!(doc["paths"]["/api/v1/deals/{id}"]["delete"]["responses"]["204"].is_object());
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 30, "{}", found.len());
    for target in found {
        let name = target.trim_start_matches("#/components/schemas/");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{target} is defined"
        );
    }
}
