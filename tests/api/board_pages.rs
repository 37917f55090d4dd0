//! The board filtered to one's own deals, on the page and in the API, kept after a move.

use crate::helpers::{TestApp, licensed_tenants};
use crate::pages::{client, csrf_of, location, sign_in_at};

#[tokio::test]
async fn the_board_shows_ones_own_deals_when_asked_and_keeps_asking_after_a_move() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let (status, _) = owner
        .post(
            "/t/acme/api/v1/deals",
            serde_json::json!({"title": "Owners deal"}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, member) = &mut tenants[0][2];
    let (status, made) = member
        .post(
            "/t/acme/api/v1/deals",
            serde_json::json!({"title": "Members deal"}),
        )
        .await;
    assert_eq!(status, 201);
    let deal = made["deal"]["id"].as_str().unwrap().to_owned();
    let pipeline = made["deal"]["pipeline_id"].as_str().unwrap().to_owned();

    let (status, board) = member
        .get(&format!(
            "/t/acme/api/v1/pipelines/{pipeline}/board?owner=me"
        ))
        .await;
    assert_eq!(status, 200, "{board}");
    let titles: Vec<&str> = board["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["deals"].as_array().unwrap())
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Members deal"]);

    let web = client();
    sign_in_at(&app, &web, "acme", "member@acme.test").await;
    let all = web.get(app.url("/t/acme/deals")).send().await.unwrap();
    let all = all.text().await.unwrap();
    assert!(all.contains("Owners deal") && all.contains("Members deal"));
    let mine = web
        .get(app.url("/t/acme/deals?owner=me"))
        .send()
        .await
        .unwrap();
    let mine = mine.text().await.unwrap();
    assert!(
        !mine.contains("Owners deal") && mine.contains("Members deal"),
        "{mine}"
    );
    assert!(mine.contains(r#"<option value="me" selected>"#));

    // Moved from the filtered board, back to the filtered board.
    let stages: Vec<String> = board["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"]["id"].as_str().unwrap().to_owned())
        .collect();
    let moved = web
        .post(app.url(&format!("/t/acme/deals/{deal}/move")))
        .form(&[
            ("csrf", csrf_of(&mine).as_str()),
            ("stage_id", stages[1].as_str()),
            ("pipeline", pipeline.as_str()),
            ("owner", "me"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 303);
    assert_eq!(
        location(&moved),
        format!("/t/acme/deals?pipeline={pipeline}&owner=me")
    );
}
