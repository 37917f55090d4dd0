//! Linked records on record pages, over plain HTTP: a contact's company set by typing its
//! name (exactly one company, or the refusal lists candidates and nothing changes), a
//! company's page listing its contacts and deals, and a deal's contacts linked and unlinked
//! through its forms at the version the page showed.

use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, licensed_tenants};
use crate::pages::{client, csrf_of, location, sign_in_at};

const API: &str = "/t/acme/api/v1";

/// A record made through the API; its id.
async fn made(who: &mut Browser<'_>, plural: &str, body: Value) -> String {
    let (status, made) = who.post(&format!("{API}/{plural}"), body).await;
    assert_eq!(status, 201, "{made}");
    let record = made.as_object().unwrap().values().next().unwrap();
    record["id"].as_str().unwrap().to_owned()
}

fn version_of(html: &str) -> String {
    crate::pages::quoted_after(html, "name=\"version\" value=\"")
}

async fn page(app: &TestApp, web: &reqwest::Client, path: &str) -> String {
    let answer = web.get(app.url(path)).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{path}");
    answer.text().await.unwrap()
}

async fn post(
    app: &TestApp,
    web: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    web.post(app.url(path)).form(form).send().await.unwrap()
}

/// Posts the contact's edit form with `company` typed; the other fields as they are.
async fn contact_with_company(
    app: &TestApp,
    web: &reqwest::Client,
    id: &str,
    company: &str,
) -> reqwest::Response {
    let html = page(app, web, &format!("/t/acme/contacts/{id}")).await;
    let (csrf, version) = (csrf_of(&html), version_of(&html));
    let path = format!("/t/acme/contacts/{id}");
    let form = [
        ("csrf", csrf.as_str()),
        ("version", &version),
        ("first_name", "Ada"),
        ("lifecycle_stage", "lead"),
        ("company", company),
        ("company_ref", ""),
    ];
    post(app, web, &path, &form).await
}

async fn company_of(admin: &mut Browser<'_>, contact: &str) -> Value {
    let (_, body) = admin.get(&format!("{API}/contacts/{contact}")).await;
    body["contact"]["company_id"].clone()
}

#[tokio::test]
async fn a_contacts_company_is_set_by_its_name_and_only_when_it_names_one() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let admin = &mut tenants[0][1].1;
    let globex = made(admin, "companies", json!({ "name": "Globex" })).await;
    let acme_com = made(
        admin,
        "companies",
        json!({ "name": "Acme", "domain": "acme.com" }),
    )
    .await;
    made(
        admin,
        "companies",
        json!({ "name": "Acme", "domain": "acme.de" }),
    )
    .await;
    let ada = made(admin, "contacts", json!({ "first_name": "Ada" })).await;
    let web = client();
    sign_in_at(&app, &web, "acme", "admin@acme.test").await;

    let set = contact_with_company(&app, &web, &ada, "Globex").await;
    assert_eq!(location(&set), format!("/t/acme/contacts/{ada}"));
    assert_eq!(company_of(admin, &ada).await, json!(globex));
    let html = page(&app, &web, &format!("/t/acme/contacts/{ada}")).await;
    assert!(
        html.contains(&format!("href=\"/t/acme/companies/{globex}\">Globex</a>")),
        "the company is a link: {html}"
    );

    let ambiguous = contact_with_company(&app, &web, &ada, "Acme").await;
    assert_eq!(ambiguous.status(), 422);
    let html = ambiguous.text().await.unwrap();
    assert!(html.contains("id=\"company-error\""), "{html}");
    assert!(
        html.contains("Acme (acme.com)") && html.contains("Acme (acme.de)"),
        "the candidates are listed: {html}"
    );
    assert!(html.contains("value=\"Acme\""), "what was typed is kept");
    assert_eq!(
        company_of(admin, &ada).await,
        json!(globex),
        "nothing changed"
    );

    let unknown = contact_with_company(&app, &web, &ada, "Initech").await;
    assert_eq!(unknown.status(), 422);
    let html = unknown.text().await.unwrap();
    assert!(
        html.contains("nothing you can see is called “Initech”"),
        "{html}"
    );
    assert_eq!(
        company_of(admin, &ada).await,
        json!(globex),
        "nothing changed"
    );

    let exact = contact_with_company(&app, &web, &ada, "Acme (acme.com)").await;
    assert_eq!(exact.status(), 303);
    assert_eq!(company_of(admin, &ada).await, json!(acme_com));
    let cleared = contact_with_company(&app, &web, &ada, "").await;
    assert_eq!(cleared.status(), 303);
    assert_eq!(
        company_of(admin, &ada).await,
        Value::Null,
        "an empty field clears it"
    );
}

#[tokio::test]
async fn a_company_page_lists_its_contacts_and_deals() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let admin = &mut tenants[0][1].1;
    let globex = made(admin, "companies", json!({ "name": "Globex" })).await;
    let hank = made(
        admin,
        "contacts",
        json!({ "first_name": "Hank", "last_name": "Scorpio", "company_id": globex }),
    )
    .await;
    made(admin, "contacts", json!({ "first_name": "Homer" })).await;
    let deal = made(
        admin,
        "deals",
        json!({ "title": "Doomsday device", "company_id": globex }),
    )
    .await;
    let web = client();
    sign_in_at(&app, &web, "acme", "viewer@acme.test").await;
    let html = page(&app, &web, &format!("/t/acme/companies/{globex}")).await;
    assert!(
        html.contains(&format!(
            "href=\"/t/acme/contacts/{hank}\">Hank Scorpio</a>"
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "href=\"/t/acme/deals/{deal}\">Doomsday device</a>"
        )),
        "{html}"
    );
    assert!(!html.contains("Homer"), "not its contact: {html}");
    assert!(
        !html.contains("All contacts of this company"),
        "all are listed"
    );
    let deal_page = page(&app, &web, &format!("/t/acme/deals/{deal}")).await;
    assert!(
        deal_page.contains(&format!("href=\"/t/acme/companies/{globex}\">Globex</a>")),
        "{deal_page}"
    );

    for n in 0..25 {
        let body = json!({ "first_name": format!("Minion {n:02}"), "company_id": globex });
        made(admin, "contacts", body).await;
    }
    let html = page(&app, &web, &format!("/t/acme/companies/{globex}")).await;
    let all = format!("href=\"/t/acme/contacts?company={globex}\"");
    assert!(
        html.contains(&all),
        "more than a page links to the rest: {html}"
    );
    let table = page(&app, &web, &format!("/t/acme/contacts?company={globex}")).await;
    assert!(
        table.contains("Hank Scorpio") && table.contains("Minion 24"),
        "{table}"
    );
    assert!(!table.contains("Homer"), "only the company's: {table}");
}

/// The deal's contact ids, as the API has them.
async fn contacts_of(admin: &mut Browser<'_>, deal: &str) -> Value {
    let (_, body) = admin.get(&format!("{API}/deals/{deal}")).await;
    body["deal"]["contact_ids"].clone()
}

#[tokio::test]
async fn a_deals_contacts_are_linked_and_unlinked_at_the_version_shown() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let admin = &mut tenants[0][1].1;
    let deal = made(admin, "deals", json!({ "title": "Big one" })).await;
    let ann = made(
        admin,
        "contacts",
        json!({ "first_name": "Ann", "last_name": "Lee", "emails": ["ann@lee.test"] }),
    )
    .await;
    let bob = made(admin, "contacts", json!({ "first_name": "Bob" })).await;
    let web = client();
    sign_in_at(&app, &web, "acme", "member@acme.test").await;
    let path = format!("/t/acme/deals/{deal}");
    let link = format!("{path}/contacts");

    let html = page(&app, &web, &path).await;
    let (csrf, stale) = (csrf_of(&html), version_of(&html));
    let linked = post(
        &app,
        &web,
        &link,
        &[
            ("csrf", &csrf),
            ("version", &stale),
            ("contact", "ann@lee.test"),
        ],
    )
    .await;
    assert_eq!(location(&linked), format!("{path}#contacts-title"));
    assert_eq!(contacts_of(admin, &deal).await, json!([ann]));

    let refused = post(
        &app,
        &web,
        &link,
        &[("csrf", &csrf), ("version", &stale), ("contact", "Bob")],
    )
    .await;
    assert_eq!(refused.status(), 412, "a stale page changes nothing");
    let html = refused.text().await.unwrap();
    assert!(html.contains("changed after the page was opened"), "{html}");
    assert_eq!(contacts_of(admin, &deal).await, json!([ann]));

    let version = version_of(&html);
    let unknown = post(
        &app,
        &web,
        &link,
        &[
            ("csrf", &csrf),
            ("version", &version),
            ("contact", "Nobody"),
        ],
    )
    .await;
    assert_eq!(unknown.status(), 422);
    let html = unknown.text().await.unwrap();
    assert!(
        html.contains("id=\"link-contact-error\"") && html.contains("value=\"Nobody\""),
        "{html}"
    );

    let linked = post(
        &app,
        &web,
        &link,
        &[("csrf", &csrf), ("version", &version), ("contact", "Bob")],
    )
    .await;
    assert_eq!(linked.status(), 303);
    let mut both = vec![ann.clone(), bob.clone()];
    both.sort();
    assert_eq!(contacts_of(admin, &deal).await, json!(both));
    let html = page(&app, &web, &path).await;
    assert!(
        html.contains(&format!("href=\"/t/acme/contacts/{ann}\">Ann Lee</a>")),
        "{html}"
    );

    let remove = format!("{path}/contacts/remove");
    let stale_removal = post(
        &app,
        &web,
        &remove,
        &[("csrf", &csrf), ("version", &version), ("contact_id", &ann)],
    )
    .await;
    assert_eq!(stale_removal.status(), 412);
    assert_eq!(
        contacts_of(admin, &deal).await,
        json!(both),
        "nothing changed"
    );
    let current = version_of(&page(&app, &web, &path).await);
    let removed = post(
        &app,
        &web,
        &remove,
        &[("csrf", &csrf), ("version", &current), ("contact_id", &ann)],
    )
    .await;
    assert_eq!(removed.status(), 303);
    assert_eq!(contacts_of(admin, &deal).await, json!([bob]));
}

#[tokio::test]
async fn a_viewer_is_neither_offered_nor_allowed_to_link_a_contact() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let admin = &mut tenants[0][1].1;
    let deal = made(admin, "deals", json!({ "title": "Big one" })).await;
    made(
        admin,
        "contacts",
        json!({ "first_name": "Ann", "last_name": "Lee" }),
    )
    .await;
    let path = format!("/t/acme/deals/{deal}");
    let link = format!("{path}/contacts");
    let viewer = client();
    sign_in_at(&app, &viewer, "acme", "viewer@acme.test").await;
    let html = page(&app, &viewer, &path).await;
    assert!(
        !html.contains("Link contact") && !html.contains(">Remove<"),
        "not offered"
    );
    let csrf = csrf_of(&html);
    let refused = post(
        &app,
        &viewer,
        &link,
        &[("csrf", &csrf), ("version", "1"), ("contact", "Ann Lee")],
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(contacts_of(admin, &deal).await, json!([]));
}
