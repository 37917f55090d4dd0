//! The tables of contacts, companies and deals as a browser without JavaScript uses them:
//! columns chosen in the address, saved views, and bulk changes of the rows checked.

use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, licensed_tenants, licensed_tenants_with, past_grace};
use crate::pages::{client, csrf_of, follow, location, sign_in_at};

const API: &str = "/t/acme/api/v1";

async fn get(app: &TestApp, web: &reqwest::Client, path: &str) -> (u16, String) {
    let answer = web.get(app.url(path)).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap())
}

async fn post(
    app: &TestApp,
    web: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    web.post(app.url(path)).form(form).send().await.unwrap()
}

async fn contact(who: &mut Browser<'_>, body: Value) -> String {
    let (status, made) = who.post(&format!("{API}/contacts"), body).await;
    assert_eq!(status, 201, "{made}");
    made["contact"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn chosen_columns_show_and_the_export_carries_them() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let field = json!({ "record_kind": "contact", "key": "tier", "label": "Tier", "kind": "text" });
    let (status, body) = owner.post(&format!("{API}/fields"), field).await;
    assert_eq!(status, 201, "{body}");
    contact(
        owner,
        json!({"first_name": "Ada", "last_name": "Lovelace", "source": "Fair", "title": "Countess", "custom": {"tier": "gold"}}),
    )
    .await;
    let web = client();
    assert_eq!(
        sign_in_at(&app, &web, "acme", "viewer@acme.test")
            .await
            .status(),
        303
    );
    // The column form's checkboxes: one field each, gathered into one address.
    let picked = web
        .get(app.url("/t/acme/contacts?q=Love&columns=source&columns=custom.tier&sort=-created_at"))
        .send()
        .await
        .unwrap();
    assert_eq!(picked.status(), 303);
    let to = location(&picked);
    assert_eq!(
        to,
        "/t/acme/contacts?q=Love&sort=-created_at&columns=source,custom.tier"
    );
    let (status, html) = get(&app, &web, &to).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<th scope=\"col\">Source</th>"), "{html}");
    assert!(html.contains("<th scope=\"col\">Tier</th>"), "{html}");
    assert!(html.contains("Fair") && html.contains("gold"), "{html}");
    assert!(!html.contains("<th scope=\"col\">Title</th>"), "{html}");
    assert!(!html.contains("Countess"), "a column not chosen: {html}");
    assert!(
        html.contains("columns=first_name,last_name,source,custom.tier&amp;format=csv"),
        "the export: {html}"
    );
    assert!(html.contains("value=\"source\" checked"), "{html}");
    // The export link answers with those columns.
    let start = html.find("/t/acme/api/v1/export/contacts?").unwrap();
    let export = html[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let (status, csv) = get(&app, &web, &export).await;
    assert_eq!(status, 200, "{csv}");
    assert!(
        csv.starts_with("first_name,last_name,source,custom.tier"),
        "{csv}"
    );
    assert!(csv.contains("Ada,Lovelace,Fair,gold"), "{csv}");

    // A viewer gets no checkboxes and no bulk form, and a bulk post is refused.
    assert!(!html.contains("name=\"ids\"") && !html.contains("id=\"bulk\""));
    let refused = post(
        &app,
        &web,
        "/t/acme/bulk/contacts",
        &[("csrf", csrf_of(&html).as_str()), ("action", "delete")],
    )
    .await;
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn a_saved_view_keeps_filters_sort_and_columns() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    for (first, last, stage) in [
        ("Ada", "Lovelace", "customer"),
        ("Alan", "Lovelock", "lead"),
        ("Grace", "Hopper", "customer"),
    ] {
        contact(
            owner,
            json!({"first_name": first, "last_name": last, "lifecycle_stage": stage, "source": "Fair"}),
        )
        .await;
    }
    let web = client();
    sign_in_at(&app, &web, "acme", "member@acme.test").await;
    let (_, html) = get(&app, &web, "/t/acme/contacts").await;
    assert!(html.contains("Save as view"));
    assert!(!html.contains("view-shared"), "members share no views");
    let csrf = csrf_of(&html);
    let back = "q=Love&stage=customer&sort=-created_at&columns=source";
    let form = [
        ("csrf", csrf.as_str()),
        ("kind", "contact"),
        ("back", back),
        ("name", "Lovers"),
    ];
    // Shared, by a member: refused, nothing saved.
    let mut shared = form.to_vec();
    shared.push(("shared", "on"));
    let refused = post(&app, &web, "/t/acme/views", &shared).await;
    assert_eq!(refused.status(), 422);
    let (_, member) = &mut tenants[0][2];
    let (_, views) = member.get(&format!("{API}/views")).await;
    assert_eq!(views["views"], json!([]), "{views}");

    let saved = post(&app, &web, "/t/acme/views", &form).await;
    let to = location(&saved);
    assert!(to.starts_with("/t/acme/contacts?view="), "{to}");
    let (_, views) = member.get(&format!("{API}/views")).await;
    let view = &views["views"][0];
    assert_eq!(view["name"], "Lovers");
    assert_eq!(view["sort"], "-created_at");
    assert_eq!(view["columns"], json!(["source"]));
    assert_eq!(view["filters"].as_array().unwrap().len(), 2, "{view}");
    let id = view["id"].as_str().unwrap().to_owned();

    // Applied: its filters, sort and columns.
    let html = follow(&app, &web, saved).await;
    assert!(
        html.contains("role=\"status\">Saved the view Lovers."),
        "{html}"
    );
    assert!(html.contains("Ada Lovelace"), "{html}");
    assert!(!html.contains("Alan Lovelock") && !html.contains("Grace Hopper"));
    assert!(html.contains("<th scope=\"col\">Source</th>"), "{html}");
    assert!(html.contains(&format!("value=\"{id}\" selected")), "{html}");
    assert!(
        html.contains("value=\"Love\""),
        "the search box says it: {html}"
    );

    // Renamed and deleted, back to the table.
    let renamed = post(
        &app,
        &web,
        &format!("/t/acme/views/{id}/rename"),
        &[
            ("csrf", csrf.as_str()),
            ("kind", "contact"),
            ("back", format!("view={id}").as_str()),
            ("name", "Ada's"),
        ],
    )
    .await;
    assert_eq!(
        location(&renamed),
        format!("/t/acme/contacts?view={id}&done=Renamed%20the%20view%20to%20Ada%27s.")
    );
    let (_, views) = member.get(&format!("{API}/views")).await;
    assert_eq!(views["views"][0]["name"], "Ada's");
    let deleted = post(
        &app,
        &web,
        &format!("/t/acme/views/{id}/delete"),
        &[("csrf", csrf.as_str()), ("kind", "contact")],
    )
    .await;
    assert_eq!(deleted.status(), 303);
    let (_, views) = member.get(&format!("{API}/views")).await;
    assert_eq!(views["views"], json!([]));

    // An admin is offered the shared checkbox.
    let admin = client();
    sign_in_at(&app, &admin, "acme", "admin@acme.test").await;
    let (_, html) = get(&app, &admin, "/t/acme/contacts").await;
    assert!(html.contains("id=\"view-shared\""));
}

#[tokio::test]
async fn a_bulk_stage_change_changes_exactly_the_rows_checked() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let mut ids = Vec::new();
    for name in ["Ada", "Bob", "Cy", "Dee"] {
        ids.push(
            contact(
                owner,
                json!({"first_name": name, "lifecycle_stage": "lead"}),
            )
            .await,
        );
    }
    let web = client();
    sign_in_at(&app, &web, "acme", "member@acme.test").await;
    let (_, html) = get(&app, &web, "/t/acme/contacts?sort=-created_at").await;
    assert!(html.contains("data-pick-all"), "{html}");
    assert!(html.contains(&format!("value=\"{}\" form=\"bulk\"", ids[0])));
    let csrf = csrf_of(&html);
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("back", "sort=-created_at"),
        ("action", "lifecycle_stage"),
        ("lifecycle_stage", "qualified"),
        ("tag", ""),
    ];
    form.extend(ids[..3].iter().map(|id| ("ids", id.as_str())));
    let done = post(&app, &web, "/t/acme/bulk/contacts", &form).await;
    assert_eq!(
        location(&done),
        "/t/acme/contacts?sort=-created_at&done=Changed%203%20of%203%20contacts."
    );
    let html = follow(&app, &web, done).await;
    assert!(html.contains("role=\"status\">Changed 3 of 3 contacts."));
    for (i, id) in ids.iter().enumerate() {
        let (_, got) = owner.get(&format!("{API}/contacts/{id}")).await;
        let stage = if i < 3 { "qualified" } else { "lead" };
        assert_eq!(got["contact"]["lifecycle_stage"], stage, "{got}");
        let (_, timeline) = owner.get(&format!("{API}/contacts/{id}/timeline")).await;
        let said = timeline["entries"][0].to_string();
        assert_eq!(
            i < 3,
            said.contains("qualified") && timeline["entries"][0]["detail"]["bulk"] == true,
            "{timeline}"
        );
    }
}

#[tokio::test]
async fn a_members_bulk_delete_of_someone_elses_record_is_refused() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let theirs = contact(&mut tenants[0][0].1, json!({"first_name": "Owned"})).await;
    let mine = contact(&mut tenants[0][2].1, json!({"first_name": "Mine"})).await;
    let web = client();
    sign_in_at(&app, &web, "acme", "member@acme.test").await;
    let (_, html) = get(&app, &web, "/t/acme/contacts").await;
    let csrf = csrf_of(&html);
    let both = [
        ("csrf", csrf.as_str()),
        ("action", "delete"),
        ("ids", theirs.as_str()),
        ("ids", mine.as_str()),
    ];
    let refused = post(&app, &web, "/t/acme/bulk/contacts", &both).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("not_your_record"));
    let owner = &mut tenants[0][0].1;
    for id in [&theirs, &mine] {
        let (status, _) = owner.get(&format!("{API}/contacts/{id}")).await;
        assert_eq!(status, 200, "nothing was deleted");
    }
    let own = post(
        &app,
        &web,
        "/t/acme/bulk/contacts",
        &[both[0], both[1], both[3]],
    )
    .await;
    assert!(location(&own).ends_with("done=Moved%201%20contact%20to%20the%20trash."));
    let (status, _) = owner.get(&format!("{API}/contacts/{mine}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_deals_table_lists_deals_and_filters_by_stage() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let (_, pipelines) = owner.get(&format!("{API}/pipelines")).await;
    let stages = &pipelines["pipelines"][0]["stages"];
    let second = stages[1]["id"].as_str().unwrap().to_owned();
    for (title, amount, stage) in [
        ("Big", 1_250_000, stages[0]["id"].as_str().unwrap()),
        ("Small", 300_000, second.as_str()),
    ] {
        let (status, body) = owner
            .post(
                &format!("{API}/deals"),
                json!({"title": title, "amount": amount, "currency": "EUR", "stage_id": stage, "expected_close": "2031-05-01"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let web = client();
    sign_in_at(&app, &web, "acme", "viewer@acme.test").await;
    let (status, html) = get(&app, &web, "/t/acme/deals/table").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Big") && html.contains("12,500.00 EUR"),
        "{html}"
    );
    assert!(html.contains("Small") && html.contains("3,000.00 EUR"));
    assert!(html.contains("<time datetime=\"2031-05-01\">"), "{html}");
    assert!(html.contains("href=\"/t/acme/deals\""), "to the board");
    let (_, html) = get(&app, &web, &format!("/t/acme/deals/table?stage={second}")).await;
    assert!(html.contains("Small") && !html.contains(">Big<"), "{html}");
    assert!(html.contains(&format!("value=\"{second}\" selected")));
    let (_, board) = get(&app, &web, "/t/acme/deals").await;
    assert!(
        board.contains("href=\"/t/acme/deals/table\""),
        "to the table"
    );
}

/// A forged form changes nothing; read-only (past the license's grace), the table offers
/// no checkboxes, bulk form or view to save, and the gate refuses the forms anyway.
#[tokio::test]
async fn forged_or_read_only_table_forms_are_refused() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants_with(&app, &["acme"], |p| {
        p.expires_at = Some(p.issued_at + 10 * 86_400);
        p.grace_days = 5;
    })
    .await;
    let id = contact(&mut tenants[0][1].1, json!({"first_name": "Ada"})).await;
    let web = client();
    sign_in_at(&app, &web, "acme", "admin@acme.test").await;
    let (_, html) = get(&app, &web, "/t/acme/contacts").await;
    let csrf = csrf_of(&html);
    let forms: [(&str, Vec<(&str, &str)>); 2] = [
        (
            "/t/acme/bulk/contacts",
            vec![("action", "delete"), ("ids", id.as_str())],
        ),
        ("/t/acme/views", vec![("kind", "contact"), ("name", "Mine")]),
    ];
    for (path, form) in &forms {
        let mut forged = vec![("csrf", "forged")];
        forged.extend(form.iter().copied());
        let refused = post(&app, &web, path, &forged).await;
        assert_eq!(refused.status(), 403, "{path}");
    }
    past_grace(&app).await;
    let (status, html) = get(&app, &web, "/t/acme/contacts").await;
    assert_eq!(status, 200);
    assert!(html.contains("Ada"), "{html}");
    assert!(!html.contains("name=\"ids\"") && !html.contains("id=\"bulk\""));
    assert!(!html.contains("Save as view"), "{html}");
    for (path, form) in &forms {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form.iter().copied());
        let refused = post(&app, &web, path, &fields).await;
        assert_eq!(refused.status(), 403, "{path}");
        assert!(
            refused.text().await.unwrap().contains("read_only"),
            "{path}"
        );
    }
    let (status, _) = tenants[0][1].1.get(&format!("{API}/contacts/{id}")).await;
    assert_eq!(status, 200, "nothing was deleted");
}
