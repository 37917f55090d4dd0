//! The tenant app's pages over plain HTTP, as a browser without JavaScript uses them: forms
//! that post and redirect, the CSRF token in the form, refusals as pages.

use reqwest::redirect::Policy;

use crate::helpers::{PASSWORD, TestApp, licensed_tenants};
use crate::pages::{client, csrf_of, follow, location, sign_in_at};

async fn sign_in(app: &TestApp, web: &reqwest::Client, email: &str) -> reqwest::Response {
    sign_in_at(app, web, "acme", email).await
}

#[tokio::test]
async fn sign_in_with_the_form_see_the_contacts_and_sign_out() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let (status, body) = owner
        .post(
            "/t/acme/api/v1/contacts",
            serde_json::json!({"first_name": "Ada", "last_name": "Lovelace <b>", "emails": ["ada@example.com"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let web = client();
    // Not signed in: to the sign-in page, which comes back here after.
    let home = web.get(app.url("/t/acme/contacts")).send().await.unwrap();
    assert_eq!(home.status(), 303);
    assert_eq!(location(&home), "/t/acme/sign-in?next=/t/acme/contacts");

    let signed_in = sign_in(&app, &web, "viewer@acme.test").await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/t/acme/contacts");

    let page = web.get(app.url("/t/acme/contacts")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Lovelace &#60;b&#62;") || html.contains("Lovelace &lt;b&gt;"),
        "escaped: {html}"
    );
    assert!(html.contains("ada@example.com"));
    assert!(html.contains("viewer@acme.test"));

    let dashboard = web.get(app.url("/t/acme/")).send().await.unwrap();
    assert_eq!(dashboard.status(), 200);
    let html = dashboard.text().await.unwrap();
    assert!(
        html.contains("Open pipeline") && html.contains("Ada Lovelace"),
        "{html}"
    );

    // Signing out needs the session's token in the form.
    let forged = web
        .post(app.url("/t/acme/sign-out"))
        .form(&[("csrf", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().contains("csrf_failed"));
    let out = web
        .post(app.url("/t/acme/sign-out"))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "/t/acme/sign-in");
    let after = web.get(app.url("/t/acme/contacts")).send().await.unwrap();
    assert_eq!(after.status(), 303, "the session is over");
}

#[tokio::test]
async fn a_wrong_password_a_forged_form_and_an_open_redirect_are_refused() {
    let app = TestApp::spawn().await;
    licensed_tenants(&app, &["acme"]).await;
    let web = client();

    let form = web.get(app.url("/t/acme/sign-in")).send().await.unwrap();
    let csrf = csrf_of(&form.text().await.unwrap());
    let wrong = web
        .post(app.url("/t/acme/sign-in"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("next", ""),
            ("email", "owner@acme.test"),
            ("password", "not the password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let html = wrong.text().await.unwrap();
    assert!(
        html.contains("role=\"alert\"") && html.contains("owner@acme.test"),
        "{html}"
    );

    // A post from another site carries no form cookie of ours: refused, nobody signed in.
    let forged = client()
        .post(app.url("/t/acme/sign-in"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("next", ""),
            ("email", "owner@acme.test"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.headers().get("set-cookie").is_none());

    // After signing in, only this tenant's pages: never another site.
    let evil = web
        .post(app.url("/t/acme/sign-in"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("next", "//evil.example/"),
            ("email", "owner@acme.test"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 303);
    assert_eq!(location(&evil), "/t/acme/");
}

#[tokio::test]
async fn pages_of_another_tenant_or_none_answer_with_a_page() {
    let app = TestApp::spawn().await;
    licensed_tenants(&app, &["acme", "beta"]).await;
    let web = client();
    assert_eq!(sign_in(&app, &web, "owner@acme.test").await.status(), 303);
    // Acme's session means nothing to beta: its pages ask for a sign-in of their own.
    let other = web.get(app.url("/t/beta/contacts")).send().await.unwrap();
    assert_eq!(other.status(), 303);
    assert_eq!(location(&other), "/t/beta/sign-in?next=/t/beta/contacts");
    let missing = web.get(app.url("/t/nobody/contacts")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let html = missing.text().await.unwrap();
    assert!(html.contains("tenant_not_found"), "{html}");
}

#[tokio::test]
async fn contacts_are_made_and_changed_with_forms_and_a_stale_edit_shows_both_versions() {
    let app = TestApp::spawn().await;
    licensed_tenants(&app, &["acme"]).await;
    let web = client();
    assert_eq!(sign_in(&app, &web, "member@acme.test").await.status(), 303);
    let form = web
        .get(app.url("/t/acme/contacts/new"))
        .send()
        .await
        .unwrap();
    let csrf = csrf_of(&form.text().await.unwrap());

    // A bad address comes back next to its field, with what was typed kept.
    let refused = web
        .post(app.url("/t/acme/contacts"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("first_name", "Ada"),
            ("last_name", "Lovelace"),
            ("emails", "not-an-address"),
            ("lifecycle_stage", "lead"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("id=\"emails-error\""), "{html}");
    assert!(html.contains("value=\"not-an-address\""));

    let made = web
        .post(app.url("/t/acme/contacts"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("first_name", "Ada"),
            ("last_name", "Lovelace"),
            ("emails", "ada@example.com, ada@work.example"),
            ("lifecycle_stage", "lead"),
        ])
        .send()
        .await
        .unwrap();
    let contact_path = location(&made);
    let page = follow(&app, &web, made).await;
    assert!(page.contains("<h1>Ada Lovelace</h1>"), "{page}");
    assert!(
        page.contains("ada@example.com, ada@work.example"),
        "both addresses kept"
    );
    assert!(page.contains("created"));
    // The timeline says who by their address, not by the id the audit keeps.
    assert!(page.contains("</span> by member@acme.test"), "{page}");
    let version = page
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let edit = |title: &'static str| {
        let fields = [
            ("csrf", csrf.clone()),
            ("version", version.clone()),
            ("first_name", "Ada".to_owned()),
            ("last_name", "Lovelace".to_owned()),
            ("emails", "ada@example.com, ada@work.example".to_owned()),
            ("title", title.to_owned()),
            ("lifecycle_stage", "lead".to_owned()),
        ];
        web.post(app.url(&contact_path)).form(&fields).send()
    };
    let first = edit("Countess").await.unwrap();
    let page = follow(&app, &web, first).await;
    assert!(page.contains("title: — → Countess"), "{page}");

    // The same form again, from the version before: refused, both versions shown.
    let stale = edit("Analyst").await.unwrap();
    assert_eq!(stale.status(), 412);
    let html = stale.text().await.unwrap();
    assert!(html.contains("Someone changed this contact"), "{html}");
    assert!(html.contains("<td>Countess</td><td>Analyst</td>"), "{html}");
}

#[tokio::test]
async fn a_viewer_is_offered_no_edit_controls_and_is_refused_anyway() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let (_, body) = owner
        .post(
            "/t/acme/api/v1/contacts",
            serde_json::json!({"first_name": "Ada"}),
        )
        .await;
    let id = body["contact"]["id"].as_str().unwrap().to_owned();
    let web = client();
    assert_eq!(sign_in(&app, &web, "viewer@acme.test").await.status(), 303);
    let list = web
        .get(app.url("/t/acme/contacts"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list.contains("New contact"));
    let page = web
        .get(app.url(&format!("/t/acme/contacts/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("<form class=\"form record-form\""), "{page}");
    let csrf = csrf_of(&page);
    let refused = web
        .post(app.url(&format!("/t/acme/contacts/{id}")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", "1"),
            ("first_name", "Eve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("forbidden"));
    let new = web
        .get(app.url("/t/acme/contacts/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 403);
}

#[tokio::test]
async fn the_board_shows_each_stage_per_currency_and_a_form_moves_a_deal() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let mut ids = Vec::new();
    for (title, amount, currency) in [("Big", 1_250_000, "EUR"), ("Small", 300_000, "USD")] {
        let (status, body) = owner
            .post(
                "/t/acme/api/v1/deals",
                serde_json::json!({"title": title, "amount": amount, "currency": currency}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["deal"]["id"].as_str().unwrap().to_owned());
    }
    let (_, board) = owner.get("/t/acme/api/v1/pipelines").await;
    let pipeline = &board["pipelines"][0];
    let second_stage = pipeline["stages"][1]["id"].as_str().unwrap().to_owned();

    let web = client();
    assert_eq!(sign_in(&app, &web, "member@acme.test").await.status(), 303);
    let html = web
        .get(app.url("/t/acme/deals"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(
            r#"<data class="money" value="1250000" data-currency="EUR">12,500.00 EUR</data> · <data class="money" value="300000" data-currency="USD">3,000.00 USD</data>"#
        ),
        "per currency, never added: {html}"
    );
    assert!(html.contains("Big") && html.contains("Small"));

    let moved = web
        .post(app.url(&format!("/t/acme/deals/{}/move", ids[0])))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("stage_id", second_stage.as_str()),
            ("pipeline", pipeline["id"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 303);
    assert!(location(&moved).starts_with("/t/acme/deals?pipeline="));
    let (_, deal) = owner.get(&format!("/t/acme/api/v1/deals/{}", ids[0])).await;
    assert_eq!(deal["deal"]["stage_id"], second_stage.as_str());
}

/// The session cookie a sign-in through the form set.
async fn session_cookie(app: &TestApp, slug: &str, email: &str) -> String {
    let web = client();
    let response = sign_in_at(app, &web, slug, email).await;
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("holdfast_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// Every page with every role, signed out, and with another tenant's session: each gets what
/// the route table says, and a foreign session sees nothing.
#[tokio::test]
async fn every_page_answers_each_role_as_the_route_table_says() {
    use holdfast::web::endpoint::Access;
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme", "beta"]).await;
    let (_, owner) = &mut tenants[0][0];
    let mut ids = std::collections::HashMap::new();
    for (plural, noun, body) in [
        (
            "contacts",
            "contact",
            serde_json::json!({"first_name": "Ada"}),
        ),
        ("companies", "company", serde_json::json!({"name": "Acme"})),
        ("deals", "deal", serde_json::json!({"title": "Big"})),
    ] {
        let (status, made) = owner.post(&format!("/t/acme/api/v1/{plural}"), body).await;
        assert_eq!(status, 201, "{made}");
        ids.insert(plural, made[noun]["id"].as_str().unwrap().to_owned());
    }
    let (status, _, made) = owner
        .send_raw(
            reqwest::Method::POST,
            "/t/acme/api/v1/imports?record_kind=contact&file_name=a.csv",
            b"email\nada@example.com\n".to_vec(),
            "text/csv",
        )
        .await;
    assert_eq!(status, 201);
    let made: serde_json::Value = serde_json::from_slice(&made).unwrap();
    ids.insert("imports", made["import"]["id"].as_str().unwrap().to_owned());
    let plain = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let pages: Vec<_> = holdfast::web::page_endpoints()
        .into_iter()
        // The brand's stylesheet and logo are not pages (see `brand_pages`).
        .filter(|e| e.method == "GET" && !e.path.starts_with("/brand"))
        .collect();
    assert!(pages.len() >= 5, "{pages:?}");
    let mut checked = 0;
    for role in ["owner", "admin", "member", "viewer"] {
        let cookie = session_cookie(&app, "acme", &format!("{role}@acme.test")).await;
        let beta_cookie = session_cookie(&app, "beta", &format!("{role}@beta.test")).await;
        for page in &pages {
            let plural = page.path.split('/').nth(1).unwrap_or_default();
            let id = ids.get(plural).map_or("", String::as_str);
            let path = format!("/t/acme{}", page.path.replace("{id}", id));
            let answer = plain
                .get(app.url(&path))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            let allowed = match page.access {
                Access::Tenant(minimum) => role
                    .parse::<holdfast::identity::Role>()
                    .unwrap()
                    .at_least(minimum),
                _ => true,
            };
            let expected = if allowed { 200 } else { 403 };
            assert_eq!(answer.status(), expected, "{role} GET {path}");
            assert!(
                answer.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            );

            // Another tenant's session, presented here: as if nothing were here.
            let foreign = plain
                .get(app.url(&path))
                .header("cookie", &beta_cookie)
                .send()
                .await
                .unwrap();
            let expected = if matches!(page.access, Access::Tenant(_)) {
                404
            } else {
                200
            };
            assert_eq!(foreign.status(), expected, "beta's {role} GET {path}");

            let anonymous = plain.get(app.url(&path)).send().await.unwrap();
            let expected = if matches!(page.access, Access::Tenant(_)) {
                303
            } else {
                200
            };
            assert_eq!(anonymous.status(), expected, "signed out GET {path}");
            checked += 1;
        }
    }
    assert_eq!(checked, pages.len() * 4);
}

#[tokio::test]
async fn companies_and_deals_are_made_with_their_forms() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let web = client();
    assert_eq!(sign_in(&app, &web, "member@acme.test").await.status(), 303);
    let form = web
        .get(app.url("/t/acme/companies/new"))
        .send()
        .await
        .unwrap();
    let csrf = csrf_of(&form.text().await.unwrap());
    let made = web
        .post(app.url("/t/acme/companies"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Analytical Engines Ltd"),
            ("domain", "engines.example"),
            ("size", "11-50"),
            ("lifecycle_stage", "lead"),
        ])
        .send()
        .await
        .unwrap();
    let page = follow(&app, &web, made).await;
    assert!(page.contains("<h1>Analytical Engines Ltd</h1>"), "{page}");
    let list = web
        .get(app.url("/t/acme/companies"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("engines.example"));

    let form = web
        .get(app.url("/t/acme/deals/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (_, pipelines) = tenants[0][0].1.get("/t/acme/api/v1/pipelines").await;
    let stage = pipelines["pipelines"][0]["stages"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        form.contains(&format!("value=\"{stage}\"")),
        "stages offered"
    );
    let deal = |amount: &'static str| {
        let fields = [
            ("csrf", csrf.clone()),
            ("title", "Difference engine".to_owned()),
            ("amount", amount.to_owned()),
            ("currency", "EUR".to_owned()),
            ("stage_id", stage.clone()),
            ("expected_close", "2027-03-31".to_owned()),
        ];
        web.post(app.url("/t/acme/deals")).form(&fields).send()
    };
    let refused = deal("12.345").await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("id=\"amount-error\"")
    );
    let made = deal("12,500.00").await.unwrap();
    let id = location(&made).rsplit('/').next().unwrap().to_owned();
    let page = follow(&app, &web, made).await;
    assert!(page.contains("value=\"12500.00\""), "{page}");
    let (_, api) = tenants[0][0]
        .1
        .get(&format!("/t/acme/api/v1/deals/{id}"))
        .await;
    assert_eq!(api["deal"]["amount"], 1_250_000);
    assert_eq!(api["deal"]["stage_id"], stage.as_str());
    assert_eq!(api["deal"]["expected_close"], "2027-03-31");
}

#[tokio::test]
async fn the_search_page_groups_what_matches_and_marks_the_words() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    owner
        .post(
            "/t/acme/api/v1/contacts",
            serde_json::json!({"first_name": "Ada", "last_name": "Lovelace"}),
        )
        .await;
    owner
        .post(
            "/t/acme/api/v1/companies",
            serde_json::json!({"name": "Lovelace Analytics"}),
        )
        .await;
    let web = client();
    assert_eq!(sign_in(&app, &web, "viewer@acme.test").await.status(), 303);
    let html = web
        .get(app.url("/t/acme/search?q=lovel"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"results-contacts\"") && html.contains("id=\"results-companies\""),
        "{html}"
    );
    assert!(html.contains("<mark>Lovelace</mark>"), "{html}");
    let none = web
        .get(app.url("/t/acme/search?q=%22"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 200);
    assert!(none.text().await.unwrap().contains("role=\"alert\""));
}

#[tokio::test]
async fn an_invitation_is_accepted_with_the_form_even_without_javascript() {
    let app = TestApp::spawn().await;
    let mut op = crate::helpers::set_up(&app).await;
    crate::helpers::install_license(&mut op, |p| p.max_tenants = 3).await;
    let token = crate::helpers::invite_owner(&mut op, "acme").await;
    let web = client();
    let page = web
        .get(app.url("/t/acme/accept-invite"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("id=\"token\""),
        "the form asks for the token without script"
    );

    let post = |token: String, confirm: &'static str| {
        web.post(app.url("/t/acme/accept-invite"))
            .form(&[
                ("token", token.as_str()),
                ("password", PASSWORD),
                ("confirm", confirm),
            ])
            .send()
    };
    let differ = post(token.clone(), "something else entirely")
        .await
        .unwrap();
    assert_eq!(differ.status(), 422);
    let wrong = post("x".repeat(43), PASSWORD).await.unwrap();
    assert!(wrong.status().is_client_error());
    assert!(wrong.text().await.unwrap().contains("role=\"alert\""));

    let done = post(token.clone(), PASSWORD).await.unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/t/acme/sign-in?email=owner%40acme.test");
    let again = post(token, PASSWORD).await.unwrap();
    assert!(again.status().is_client_error(), "a link works once");
    assert_eq!(
        sign_in(&app, &client(), "owner@acme.test").await.status(),
        303
    );
}

/// Nobody makes the server read a page form's body without a session: the caller is
/// authenticated first (a 4 KiB post over a 1 KiB limit is refused as unauthenticated, not as
/// too large, which it was when the body was read for its token first).
#[tokio::test]
async fn an_anonymous_form_post_is_refused_before_its_body_is_read() {
    let app = TestApp::spawn_with(|s| s.max_body_bytes = 1024).await;
    licensed_tenants(&app, &["acme"]).await;
    let big = "x".repeat(4096);
    let anonymous = client()
        .post(app.url("/t/acme/contacts"))
        .form(&[("csrf", "anything"), ("first_name", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.text().await.unwrap().contains("unauthenticated"));
}
