//! Pipelines, stages and deals moving through them; the board's totals per currency;
//! converting a lead; the CRM on an expired license.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, licensed_tenants, licensed_tenants_with, past_grace};

const BASE: &str = "/t/acme/api/v1";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn sales(owner: &mut Browser<'_>) -> Value {
    let (status, body) = owner.get(&format!("{BASE}/pipelines")).await;
    assert_eq!(status, 200, "{body}");
    body["pipelines"][0].clone()
}

fn stage_id(pipeline: &Value, name: &str) -> String {
    pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn deal(owner: &mut Browser<'_>, body: Value) -> Value {
    let (status, answer) = owner.post(&format!("{BASE}/deals"), body).await;
    assert_eq!(status, 201, "{answer}");
    answer["deal"].clone()
}

#[tokio::test]
async fn a_new_deal_starts_in_sales_and_the_board_never_adds_currencies() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let sales = sales(owner).await;
    assert_eq!(sales["name"], "Sales");
    let names: Vec<&str> = sales["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Lead in",
            "Qualified",
            "Proposal",
            "Negotiation",
            "Won",
            "Lost"
        ]
    );

    let first = deal(owner, json!({ "title": "A", "amount": 10_000 })).await;
    assert_eq!(
        (first["currency"].as_str(), first["status"].as_str()),
        (Some("USD"), Some("open"))
    );
    assert_eq!(first["stage_id"], json!(stage_id(&sales, "Lead in")));
    let proposal = stage_id(&sales, "Proposal");
    deal(
        owner,
        json!({ "title": "B", "amount": 5_001, "stage_id": proposal }),
    )
    .await;
    deal(owner, json!({ "title": "C", "amount": 7_000, "currency": "EUR", "stage_id": proposal, "probability": 20 })).await;

    let (status, board) = owner
        .get(&format!(
            "{BASE}/pipelines/{}/board",
            sales["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200, "{board}");
    let column = board["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["stage"]["name"] == "Proposal")
        .unwrap();
    assert_eq!(column["count"], 2);
    assert_eq!(
        column["totals"],
        json!([
            { "currency": "EUR", "count": 1, "amount": 7_000, "weighted": 1_400 },
            { "currency": "USD", "count": 1, "amount": 5_001, "weighted": 2_501 },
        ]),
        "one total per currency, weighted by the deal's probability or else the stage's"
    );
    assert_eq!(column["deals"].as_array().unwrap().len(), 2);
    assert_eq!(board["totals"].as_array().unwrap().len(), 2, "{board}");
}

#[tokio::test]
async fn a_deal_moves_in_one_call_its_status_follows_and_the_timeline_records_it() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let sales = sales(owner).await;
    let proposal = stage_id(&sales, "Proposal");
    let first = deal(owner, json!({ "title": "A", "amount": 10_000 })).await;
    // Won: status and close time follow the stage, and the move is in the timeline.
    let path = format!("{BASE}/deals/{}", first["id"].as_str().unwrap());
    let (status, moved) = owner
        .post(
            &format!("{path}/move"),
            json!({ "stage_id": stage_id(&sales, "Won") }),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["deal"]["status"], "won");
    assert!(moved["deal"]["closed_at"].is_string());
    let (status, moved) = owner
        .post(
            &format!("{path}/move"),
            json!({ "stage_id": stage_id(&sales, "Lost"), "lost_reason": "Budget" }),
        )
        .await;
    assert_eq!(
        (
            status,
            moved["deal"]["status"].as_str(),
            moved["deal"]["lost_reason"].as_str()
        ),
        (200, Some("lost"), Some("Budget"))
    );
    let (_, timeline) = owner.get(&format!("{path}/timeline")).await;
    let latest = &timeline["entries"][0];
    assert_eq!(
        (
            latest["event"].as_str(),
            latest["detail"]["to"]["stage"].as_str()
        ),
        (Some("stage_moved"), Some("Lost"))
    );
    assert_eq!(latest["detail"]["status"], json!(["won", "lost"]));
    let (status, body) = owner
        .post(
            &format!("{path}/move"),
            json!({ "stage_id": "0".repeat(32) }),
        )
        .await;
    assert_eq!((status, code(&body)), (422, "invalid_input"));
    let (status, _, body) = owner
        .send_with(
            Method::POST,
            &format!("{path}/move"),
            Some(json!({ "stage_id": proposal })),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!((status, code(&body)), (412, "version_mismatch"));
}

#[tokio::test]
async fn a_stage_with_deals_goes_only_with_somewhere_for_them_to_go() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let sales = sales(owner).await;
    let qualified = stage_id(&sales, "Qualified");
    let held = deal(owner, json!({ "title": "Held", "stage_id": qualified })).await;
    let (status, body) = owner
        .post(&format!("{BASE}/pipelines"), json!({ "name": "Support", "stages": [{ "name": "New" }, { "name": "Done", "kind": "won" }] }))
        .await;
    assert_eq!(status, 201, "{body}");
    let other = body["pipeline"]["stages"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let remove = |to: Option<&str>| match to {
        Some(to) => format!("{BASE}/stages/{qualified}?move_to={to}"),
        None => format!("{BASE}/stages/{qualified}"),
    };
    let (status, _, body) = owner.send(Method::DELETE, &remove(None), None).await;
    assert_eq!((status, code(&body)), (409, "conflict"), "{body}");
    let (status, _, body) = owner
        .send(Method::DELETE, &remove(Some(&other)), None)
        .await;
    assert_eq!(
        (status, code(&body)),
        (422, "invalid_input"),
        "another pipeline's stage: {body}"
    );
    let proposal = stage_id(&sales, "Proposal");
    let (status, _, body) = owner
        .send(Method::DELETE, &remove(Some(&proposal)), None)
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, now) = owner
        .get(&format!("{BASE}/deals/{}", held["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        now["deal"]["stage_id"],
        json!(proposal),
        "moved, never orphaned"
    );
    assert_eq!(
        sales_stages(owner).await,
        ["Lead in", "Proposal", "Negotiation", "Won", "Lost"]
    );

    // A stage's kind is its deals' status.
    let (status, _, body) = owner
        .send(
            Method::PATCH,
            &format!("{BASE}/stages/{proposal}"),
            Some(json!({ "kind": "won" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, now) = owner
        .get(&format!("{BASE}/deals/{}", held["id"].as_str().unwrap()))
        .await;
    assert_eq!(now["deal"]["status"], "won");
}

async fn sales_stages(owner: &mut Browser<'_>) -> Vec<String> {
    sales(owner).await["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn converting_a_lead_makes_a_customer_and_its_first_deal_at_once() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let member = &mut people[2].1;
    let (_, company) = member
        .post(&format!("{BASE}/companies"), json!({ "name": "Initech" }))
        .await;
    let company_id = company["company"]["id"].as_str().unwrap().to_owned();
    let (_, contact) = member
        .post(
            &format!("{BASE}/contacts"),
            json!({ "first_name": "Peter", "company_id": company_id }),
        )
        .await;
    let path = format!(
        "{BASE}/contacts/{}",
        contact["contact"]["id"].as_str().unwrap()
    );
    let (status, body) = member
        .post(
            &format!("{path}/convert"),
            json!({ "deal": { "title": "Initech seats", "amount": 99_00 } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["contact"]["lifecycle_stage"], "customer");
    assert_eq!(body["deal"]["company_id"], json!(company_id));
    assert_eq!(
        body["deal"]["contact_ids"],
        json!([contact["contact"]["id"]])
    );
    let (_, timeline) = member.get(&format!("{path}/timeline")).await;
    assert_eq!(timeline["entries"][0]["event"], "converted");
    assert_eq!(
        timeline["entries"][0]["detail"]["deal_id"],
        body["deal"]["id"]
    );

    // A conversion whose deal is refused converts nothing.
    let (_, other) = member
        .post(
            &format!("{BASE}/contacts"),
            json!({ "first_name": "Milton" }),
        )
        .await;
    let other_path = format!(
        "{BASE}/contacts/{}",
        other["contact"]["id"].as_str().unwrap()
    );
    let (status, body) = member
        .post(
            &format!("{other_path}/convert"),
            json!({ "deal": { "title": "" } }),
        )
        .await;
    assert_eq!((status, code(&body)), (422, "invalid_input"));
    let (_, unchanged) = member.get(&other_path).await;
    assert_eq!(unchanged["contact"]["lifecycle_stage"], "lead");
}

#[tokio::test]
async fn after_grace_every_crm_write_is_refused_and_every_read_still_works() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants_with(&app, &["acme"], |p| {
        p.expires_at = Some(p.issued_at + 10 * 86_400);
        p.grace_days = 5;
    })
    .await
    .remove(0);
    let owner = &mut people[0].1;
    let made = deal(owner, json!({ "title": "Frozen" })).await;
    past_grace(&app).await;
    let crm_writes: Vec<_> = holdfast::web::api_endpoints()
        .into_iter()
        .filter(|e| e.area == holdfast::web::endpoint::Area::Tenant && e.method != "GET")
        .filter(|e| e.errors.contains(&holdfast::error::ErrorCode::ReadOnly))
        .collect();
    assert!(crm_writes.len() >= 20, "{}", crm_writes.len());
    for endpoint in crm_writes {
        let path = format!(
            "/t/acme{}",
            endpoint
                .full_path()
                .replace("{id}", made["id"].as_str().unwrap())
        );
        let (status, _, body) = owner
            .send(endpoint.method.parse().unwrap(), &path, Some(json!({})))
            .await;
        assert_eq!(
            (status, code(&body)),
            (403, "read_only"),
            "{} {path}",
            endpoint.method
        );
    }
    for read in ["/deals", "/search?q=froz", "/pipelines", "/fields", "/tags"] {
        let (status, body) = owner.get(&format!("{BASE}{read}")).await;
        assert_eq!(status, 200, "{read}: {body}");
    }
    let (_, found) = owner.get(&format!("{BASE}/search?q=froz")).await;
    assert_eq!(found["deals"].as_array().unwrap().len(), 1);
}
