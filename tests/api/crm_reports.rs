//! The dashboard and reports: money per currency, converted only with the tenant's rates;
//! activities due; the funnel.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, licensed_tenants};

const BASE: &str = "/t/acme/api/v1";

async fn stage(owner: &mut Browser<'_>, name: &str) -> String {
    let (_, body) = owner.get(&format!("{BASE}/pipelines")).await;
    body["pipelines"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn deal(owner: &mut Browser<'_>, body: Value) -> String {
    let (status, answer) = owner.post(&format!("{BASE}/deals"), body).await;
    assert_eq!(status, 201, "{answer}");
    answer["deal"]["id"].as_str().unwrap().to_owned()
}

async fn move_to(owner: &mut Browser<'_>, deal: &str, stage: &str) {
    let (status, body) = owner
        .post(
            &format!("{BASE}/deals/{deal}/move"),
            json!({ "stage_id": stage }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_dashboard_totals_each_currency_apart_and_converts_only_with_rates() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let won = deal(owner, json!({ "title": "Won", "amount": 50_000 })).await;
    deal(owner, json!({ "title": "Open USD", "amount": 10_000 })).await;
    deal(
        owner,
        json!({ "title": "Open EUR", "amount": 10_000, "currency": "EUR" }),
    )
    .await;
    let won_stage = stage(owner, "Won").await;
    move_to(owner, &won, &won_stage).await;
    let now = time::OffsetDateTime::now_utc();
    for (subject, due) in [
        ("Overdue", now - time::Duration::days(2)),
        ("Later", now + time::Duration::days(9)),
    ] {
        let due = due
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let (status, body) = owner
            .post(
                &format!("{BASE}/activities"),
                json!({ "kind": "task", "subject": subject, "due_at": due }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    let (status, board) = owner.get(&format!("{BASE}/dashboard")).await;
    assert_eq!(status, 200, "{board}");
    let open = &board["open_deals"];
    assert_eq!(
        open["totals"],
        json!([
            { "currency": "EUR", "count": 1, "amount": 10_000, "weighted": 1_000 },
            { "currency": "USD", "count": 1, "amount": 10_000, "weighted": 1_000 },
        ])
    );
    assert_eq!(
        open["converted"]["amount"],
        Value::Null,
        "no rate for EUR: no sum"
    );
    assert_eq!(open["converted"]["missing_rates"], json!(["EUR"]));
    assert_eq!(board["this_month"]["won"]["totals"][0]["amount"], 50_000);
    assert_eq!(board["activities_due"][0]["overdue"], 1);
    assert_eq!(board["activities_due"][0]["due_today"], 0);
    assert_eq!(board["seats"]["this_tenant"], 4);
    assert!(
        board["recent_changes"].as_array().unwrap().len() >= 5,
        "{board}"
    );

    let (status, _, body) = owner
        .send(
            Method::PUT,
            &format!("{BASE}/exchange-rates"),
            Some(json!({ "rates": { "EUR": "1.10" } })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, board) = owner.get(&format!("{BASE}/dashboard")).await;
    assert_eq!(
        board["open_deals"]["converted"]["amount"], 21_000,
        "10,000 + 11,000 cents"
    );
    for bad in [
        json!({ "rates": { "EUR": "-1" } }),
        json!({ "rates": { "XYZ": "1" } }),
        json!({ "rates": { "EUR": 1.1 } }),
    ] {
        let (status, _, body) = owner
            .send(
                Method::PUT,
                &format!("{BASE}/exchange-rates"),
                Some(bad.clone()),
            )
            .await;
        assert!(matches!(status, 400 | 422), "{bad}: {body}");
    }
    let (_, rates) = owner.get(&format!("{BASE}/exchange-rates")).await;
    assert_eq!(
        rates["rates"],
        json!({ "EUR": "1.10" }),
        "a refused change changed nothing"
    );

    let (_, months) = owner
        .get(&format!("{BASE}/reports/won-by-month?months=3"))
        .await;
    let months = months["months"].as_array().unwrap();
    assert_eq!(months.len(), 3);
    assert_eq!(months[2]["totals"][0]["amount"], 50_000, "this month last");
}

#[tokio::test]
async fn the_funnel_counts_the_deals_that_reached_each_stage() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let (qualified, proposal, lost) = (
        stage(owner, "Qualified").await,
        stage(owner, "Proposal").await,
        stage(owner, "Lost").await,
    );
    let far = deal(owner, json!({ "title": "Far" })).await;
    move_to(owner, &far, &qualified).await;
    move_to(owner, &far, &proposal).await;
    let dropped = deal(owner, json!({ "title": "Dropped" })).await;
    move_to(owner, &dropped, &lost).await;
    deal(owner, json!({ "title": "New" })).await;

    let (_, pipelines) = owner.get(&format!("{BASE}/pipelines")).await;
    let sales = pipelines["pipelines"][0]["id"].as_str().unwrap();
    let (status, funnel) = owner
        .get(&format!("{BASE}/reports/funnel?pipeline_id={sales}"))
        .await;
    assert_eq!(status, 200, "{funnel}");
    let reached: Vec<i64> = funnel["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reached"].as_i64().unwrap())
        .collect();
    assert_eq!(
        reached,
        [3, 1, 1, 0, 0],
        "Lead in, Qualified, Proposal, Negotiation, Won: {funnel}"
    );
    assert_eq!(funnel["steps"][0]["to_next"], 1.0 / 3.0);
}
