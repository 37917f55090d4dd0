//! Teams and record visibility: where a kind is `own_and_team`, a member of another team
//! reaches none of a hidden record through any route — not by id, not in a list, a search
//! or the board — while its owner, their teammates and admins see it.

use holdfast::identity::Role;
use holdfast::web::endpoint::{Access, Area};
use serde_json::json;

use crate::helpers::{Browser, PASSWORD, TestApp, licensed_tenants, sign_in_as};

const BASE: &str = "/t/acme/api/v1";

async fn user_id(browser: &mut Browser<'_>) -> String {
    let (_, me) = browser.get(&format!("{BASE}/auth/me")).await;
    me["user"]["id"].as_str().unwrap().to_owned()
}

/// What `browser` gets at `path`, with `If-Match: *` so that a change goes as far as it can.
async fn call(
    browser: &mut Browser<'_>,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> (u16, String) {
    let (status, _, body) = browser
        .send_with(
            method.parse().unwrap(),
            path,
            Some(body),
            &[("if-match", "*")],
        )
        .await;
    (status, body.to_string())
}

#[tokio::test]
async fn a_member_of_another_team_reaches_none_of_a_hidden_record_by_any_route() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let (owner, rest) = people.split_first_mut().unwrap();
    let owner = &mut owner.1;
    let (status, body) = owner
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "rival@acme.test", "role": "member", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut rival = sign_in_as(&app, "acme", "rival@acme.test").await;
    let (member_id, rival_id) = (user_id(&mut rest[1].1).await, user_id(&mut rival).await);
    let viewer_id = user_id(&mut rest[2].1).await;
    for (name, members) in [
        ("East", vec![&member_id, &viewer_id]),
        ("West", vec![&rival_id]),
    ] {
        let (status, body) = owner
            .post(
                &format!("{BASE}/teams"),
                json!({ "name": name, "member_ids": members }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let rule = "own_and_team";
    let (status, _, body) = owner
        .send(
            reqwest::Method::PUT,
            &format!("{BASE}/visibility"),
            Some(json!({ "contact": rule, "company": rule, "deal": rule, "activity": rule })),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let hidden = hide(&mut rest[1].1).await;
    let (_, pipelines) = owner.get(&format!("{BASE}/pipelines")).await;
    let sales = pipelines["pipelines"][0]["id"].as_str().unwrap().to_owned();
    let stage = pipelines["pipelines"][0]["stages"][1]["id"].clone();

    for endpoint in holdfast::web::api_endpoints() {
        let signs_out = endpoint.path.starts_with("/auth/");
        if endpoint.area != Area::Tenant
            || !matches!(endpoint.access, Access::Tenant(_))
            || signs_out
        {
            continue;
        }
        let kind = ["/contacts", "/companies", "/deals", "/activities"]
            .iter()
            .position(|prefix| endpoint.path.starts_with(&format!("{prefix}/")));
        let path = match kind {
            Some(i) => endpoint.full_path().replace("{id}", &hidden[i].1),
            None => endpoint.full_path().replace("{id}", &sales),
        };
        let path = match endpoint.path {
            "/search" => format!("/t/acme{path}?q=hidden"),
            _ => format!("/t/acme{path}"),
        };
        // A well-formed body, so that only the record's visibility can refuse.
        let body = if path.ends_with("/move") {
            json!({ "stage_id": stage })
        } else {
            json!({})
        };
        let (status, body) = call(&mut rival, endpoint.method, &path, body).await;
        if kind.is_some() {
            // A route above the rival's role is refused by the gate, before any record is
            // looked at; every other says there is no such record.
            let above =
                matches!(endpoint.access, Access::Tenant(needed) if !Role::Member.at_least(needed));
            let expected = if above { 403 } else { 404 };
            assert_eq!(status, expected, "{} {path}: {body}", endpoint.method);
        }
        for (what, id) in &hidden {
            assert!(
                !body.contains(id.as_str()),
                "{} {path} shows the hidden {what}: {body}",
                endpoint.method
            );
        }
    }

    // Its owner, a teammate who only views, and admins see every one of them.
    for (_, browser) in rest.iter_mut() {
        let (_, found) = browser.get(&format!("{BASE}/search?q=hidden")).await;
        for group in ["contacts", "companies", "deals", "activities"] {
            assert_eq!(
                found[group].as_array().unwrap().len(),
                1,
                "{group}: {found}"
            );
        }
    }
}

/// A company, contact, deal and activity of `member`, all named "Hidden".
async fn hide(member: &mut Browser<'_>) -> Vec<(&'static str, String)> {
    let mut made = Vec::new();
    for (kind, list, body) in [
        ("company", "companies", json!({ "name": "Hidden Corp" })),
        (
            "contact",
            "contacts",
            json!({ "first_name": "Hidden", "last_name": "Person" }),
        ),
        (
            "deal",
            "deals",
            json!({ "title": "Hidden deal", "amount": 1 }),
        ),
        (
            "activity",
            "activities",
            json!({ "kind": "task", "subject": "Hidden task" }),
        ),
    ] {
        let (status, body) = member.post(&format!("{BASE}/{list}"), body).await;
        assert_eq!(status, 201, "{body}");
        made.push((kind, body[kind]["id"].as_str().unwrap().to_owned()));
    }
    // Order as the walk's prefixes: contacts, companies, deals, activities.
    made.swap(0, 1);
    made
}
