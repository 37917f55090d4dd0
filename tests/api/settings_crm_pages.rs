//! The settings pages that shape the CRM, without JavaScript: pipelines and their stages,
//! and custom fields — each form one change, refusals shown on the page, nothing lost.

use serde_json::json;

use crate::helpers::{TestApp, licensed_tenants};
use crate::pages::{client, csrf_of, sign_in_at};

/// An admin's browser on the page `path`, and the page's CSRF token.
async fn admin_on(app: &TestApp, path: &str) -> (reqwest::Client, String) {
    let web = client();
    sign_in_at(app, &web, "acme", "admin@acme.test").await;
    let html = web
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (web, csrf_of(&html))
}

async fn post(
    app: &TestApp,
    web: &reqwest::Client,
    path: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    let answer = web.post(app.url(path)).form(&form).send().await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

#[tokio::test]
async fn stages_are_added_reordered_and_removed_and_their_deals_move_with_them() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let owner = &mut tenants[0][0].1;
    let (_, pipelines) = owner.get("/t/acme/api/v1/pipelines").await;
    let sales = pipelines["pipelines"][0].clone();
    let pipeline = sales["id"].as_str().unwrap().to_owned();
    let first = sales["stages"][0]["id"].as_str().unwrap().to_owned();
    let second = sales["stages"][1]["id"].as_str().unwrap().to_owned();
    let (_, deal) = owner
        .post(
            "/t/acme/api/v1/deals",
            json!({"title": "Kept", "stage_id": first}),
        )
        .await;
    let deal = deal["deal"]["id"].as_str().unwrap().to_owned();
    let (web, csrf) = admin_on(&app, "/t/acme/settings/pipelines").await;

    let base = format!("/t/acme/settings/pipelines/{pipeline}");
    let (status, _) = post(
        &app,
        &web,
        &format!("{base}/stages"),
        &csrf,
        &[("name", "Pilot"), ("probability", "70")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, html) = post(
        &app,
        &web,
        &format!("{base}/stages"),
        &csrf,
        &[("name", "Odd"), ("probability", "170")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("0 to 100"), "{html}");

    // Second goes up: first place.
    let (status, _) = post(
        &app,
        &web,
        &format!("/t/acme/settings/stages/{second}/move"),
        &csrf,
        &[("direction", "up")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, now) = owner.get("/t/acme/api/v1/pipelines").await;
    let stages = now["pipelines"][0]["stages"].as_array().unwrap().clone();
    assert_eq!(stages[0]["id"], second.as_str());
    assert_eq!(stages[1]["id"], first.as_str());
    assert_eq!(stages.last().unwrap()["name"], "Pilot");
    assert_eq!(stages.last().unwrap()["probability"], 70);

    // The first stage holds a deal: removed, the deal moves where the form says.
    let (status, _) = post(
        &app,
        &web,
        &format!("/t/acme/settings/stages/{first}/delete"),
        &csrf,
        &[("move_to", second.as_str())],
    )
    .await;
    assert_eq!(status, 303);
    let (_, moved) = owner.get(&format!("/t/acme/api/v1/deals/{deal}")).await;
    assert_eq!(moved["deal"]["stage_id"], second.as_str());

    // A stage renamed and made a won stage.
    let (status, _) = post(
        &app,
        &web,
        &format!("/t/acme/settings/stages/{second}"),
        &csrf,
        &[("name", "Signed"), ("probability", "100"), ("kind", "won")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, moved) = owner.get(&format!("/t/acme/api/v1/deals/{deal}")).await;
    assert_eq!(moved["deal"]["status"], "won", "its deals follow the stage");
}

#[tokio::test]
async fn custom_fields_are_defined_renamed_and_removed_and_members_may_not() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (web, csrf) = admin_on(&app, "/t/acme/settings/fields").await;
    let (status, _) = post(
        &app,
        &web,
        "/t/acme/settings/fields",
        &csrf,
        &[
            ("record_kind", "contact"),
            ("label", "Customer tier"),
            ("key", ""),
            ("kind", "select"),
            ("choices", "Gold\nSilver\n"),
            ("currency", ""),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let owner = &mut tenants[0][0].1;
    let (_, fields) = owner.get("/t/acme/api/v1/fields?record_kind=contact").await;
    let field = fields["fields"][0].clone();
    assert_eq!(field["key"], "customer_tier");
    assert_eq!(field["options"]["choices"], json!(["Gold", "Silver"]));
    let id = field["id"].as_str().unwrap();

    let (status, html) = post(
        &app,
        &web,
        "/t/acme/settings/fields",
        &csrf,
        &[
            ("record_kind", "contact"),
            ("label", "Again"),
            ("key", "customer_tier"),
            ("kind", "text"),
        ],
    )
    .await;
    assert_eq!(status, 409, "a key is taken once: {html}");

    let (status, _) = post(
        &app,
        &web,
        &format!("/t/acme/settings/fields/{id}"),
        &csrf,
        &[("label", "Tier"), ("choices", "Gold\nSilver\nBronze")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, fields) = owner.get("/t/acme/api/v1/fields?record_kind=contact").await;
    assert_eq!(fields["fields"][0]["label"], "Tier");
    assert_eq!(
        fields["fields"][0]["options"]["choices"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // A member is refused, and nothing changes.
    let member = client();
    sign_in_at(&app, &member, "acme", "member@acme.test").await;
    let html = member
        .get(app.url("/t/acme/contacts"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refused = member
        .post(app.url(&format!("/t/acme/settings/fields/{id}/delete")))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let (status, _) = post(
        &app,
        &web,
        &format!("/t/acme/settings/fields/{id}/delete"),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let (_, fields) = owner.get("/t/acme/api/v1/fields?record_kind=contact").await;
    assert_eq!(fields["fields"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_pipeline_is_added_from_lines_and_removed_into_another_but_never_the_last() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let owner = &mut tenants[0][0].1;
    let (_, pipelines) = owner.get("/t/acme/api/v1/pipelines").await;
    let pipeline = pipelines["pipelines"][0]["id"].as_str().unwrap().to_owned();
    let (_, deal) = owner
        .post("/t/acme/api/v1/deals", json!({"title": "Kept"}))
        .await;
    let deal = deal["deal"]["id"].as_str().unwrap().to_owned();
    let (web, csrf) = admin_on(&app, "/t/acme/settings/pipelines").await;
    let base = format!("/t/acme/settings/pipelines/{pipeline}");
    let (status, _) = post(
        &app,
        &web,
        "/t/acme/settings/pipelines",
        &csrf,
        &[("name", "Support"), ("stages", "Open\nWon\nLost")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, all) = owner.get("/t/acme/api/v1/pipelines").await;
    let support = all["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Support")
        .unwrap()
        .clone();
    let kinds: Vec<&str> = support["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["open", "won", "lost"]);
    let support_id = support["id"].as_str().unwrap();
    let target = support["stages"][0]["id"].as_str().unwrap();
    let (status, _) = post(
        &app,
        &web,
        &format!("{base}/delete"),
        &csrf,
        &[("move_to", target)],
    )
    .await;
    assert_eq!(status, 303);
    let (_, moved) = owner.get(&format!("/t/acme/api/v1/deals/{deal}")).await;
    assert_eq!(moved["deal"]["stage_id"], target);
    let (status, html) = post(
        &app,
        &web,
        &format!("/t/acme/settings/pipelines/{support_id}/delete"),
        &csrf,
        &[("move_to", "")],
    )
    .await;
    assert_eq!(status, 409, "{html}");
}
