//! The import wizard's pages without JavaScript: upload a file with a form, see its columns
//! mapped, check it, import it, download the rejected rows, revert it — and the form's CSRF
//! token checked before the file is read.

use std::time::Duration;

use reqwest::multipart::{Form, Part};

use crate::helpers::{TestApp, licensed_tenants};
use crate::pages::{client, csrf_of, location, sign_in_at};

/// Three people, the second of whom has an e-mail address that is not one.
const FILE: &str = "First name,Last name,E-mail,Favourite colour\n\
                    Ada,Lovelace,ada@example.com,green\n\
                    Bob,Broken,not-an-address,blue\n\
                    Cy,Young,cy@example.com,red\n";

/// The upload form's post: the token first, as the page's form sends it.
fn upload_form(csrf: &str, file: &str) -> Form {
    Form::new()
        .text("csrf", csrf.to_owned())
        .text("record_kind", "contact")
        .part(
            "file",
            Part::bytes(file.as_bytes().to_vec()).file_name("people.csv"),
        )
}

/// The import's page once it is no longer running.
async fn settled(app: &TestApp, web: &reqwest::Client, path: &str) -> String {
    for _ in 0..400 {
        let answer = web.get(app.url(path)).send().await.unwrap();
        let status = answer.status();
        let html = answer.text().await.unwrap();
        assert_eq!(status, 200, "{html}");
        if !html.contains("data-import-progress") {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the import at {path} never ended");
}

/// The `(name, value)` of every select of the plan's form as the page chose them.
fn chosen(html: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for select in html.split("<select name=\"").skip(1) {
        let name = select.split('"').next().unwrap().to_owned();
        let body = select.split("</select>").next().unwrap();
        let value = body
            .split("<option value=\"")
            .skip(1)
            .find(|o| o.contains("\" selected>"))
            .map_or("", |o| o.split('"').next().unwrap());
        fields.push((name, value.to_owned()));
    }
    fields
}

#[tokio::test]
async fn a_file_is_checked_imported_and_reverted_with_forms() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let web = client();
    sign_in_at(&app, &web, "acme", "admin@acme.test").await;
    let page = web.get(app.url("/t/acme/imports")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csrf = csrf_of(&page.text().await.unwrap());

    let uploaded = web
        .post(app.url("/t/acme/imports"))
        .multipart(upload_form(&csrf, FILE))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 303, "{:?}", uploaded.text().await);
    let path = location(&uploaded);
    assert!(path.starts_with("/t/acme/imports/"), "{path}");
    let html = web
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The columns are matched from their headers; the unknown one is left out.
    let mut plan = chosen(&html);
    assert_eq!(
        plan[..4],
        [
            ("column.0".to_owned(), "first_name".to_owned()),
            ("column.1".to_owned(), "last_name".to_owned()),
            ("column.2".to_owned(), "emails".to_owned()),
            ("column.3".to_owned(), String::new()),
        ]
    );
    assert!(html.contains("ada@example.com · not-an-address"), "{html}");
    // Keep the colour, as a new custom field.
    plan[3].1 = "custom.favourite_colour".to_owned();
    plan.push(("csrf".to_owned(), csrf.clone()));

    // A check changes nothing, and says what an import would do.
    let checked = web
        .post(app.url(&format!("{path}/check")))
        .form(&plan)
        .send()
        .await
        .unwrap();
    assert_eq!(checked.status(), 303);
    let html = settled(&app, &web, &path).await;
    assert!(html.contains("A check changed nothing"), "{html}");
    assert!(html.contains("<dt>Created</dt><dd>2</dd>"), "{html}");
    assert!(html.contains("<dt>Rejected</dt><dd>1</dd>"), "{html}");
    let admin = &mut tenants[0][1].1;
    let (_, none) = admin.get("/t/acme/api/v1/contacts").await;
    assert_eq!(none["records"].as_array().unwrap().len(), 0, "{none}");

    // The plan the check used is offered again, and the import does what it said.
    assert_eq!(chosen(&html)[3].1, "custom.favourite_colour");
    let started = web
        .post(app.url(&format!("{path}/start")))
        .form(&plan)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    let html = settled(&app, &web, &path).await;
    assert!(html.contains("contact import: done"), "{html}");
    assert!(html.contains("<dt>Created</dt><dd>2</dd>"), "{html}");
    let (_, made) = admin.get("/t/acme/api/v1/contacts?sort=first_name").await;
    let made = made["records"].as_array().unwrap().clone();
    assert_eq!(made.len(), 2);
    assert_eq!(made[0]["custom"]["favourite_colour"], "green", "{made:?}");

    // The rejected row, with its line and reason, downloads through the page's link.
    let link = html
        .split("href=\"")
        .find_map(|h| h.split('"').next().filter(|h| h.ends_with("/rejected.csv")))
        .unwrap()
        .to_owned();
    let rejected = web.get(app.url(&link)).send().await.unwrap();
    assert_eq!(rejected.status(), 200);
    let rejected = rejected.text().await.unwrap();
    assert!(
        rejected.contains("Bob,Broken,not-an-address,blue,3,"),
        "{rejected}"
    );
    assert_eq!(rejected.lines().count(), 2, "{rejected}");

    // Reverted: the two contacts go to the trash.
    let reverted = web
        .post(app.url(&format!("{path}/revert")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(reverted.status(), 303);
    let html = web
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("contact import: reverted"), "{html}");
    let (_, gone) = admin.get("/t/acme/api/v1/contacts").await;
    assert_eq!(gone["records"].as_array().unwrap().len(), 0, "{gone}");
}

#[tokio::test]
async fn an_upload_is_refused_before_its_file_is_read_without_the_token_first() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let web = client();
    sign_in_at(&app, &web, "acme", "admin@acme.test").await;
    let page = web.get(app.url("/t/acme/imports")).send().await.unwrap();
    let csrf = csrf_of(&page.text().await.unwrap());

    // A wrong token; the token after the file; a first part far larger than any token.
    let late = Form::new()
        .text("record_kind", "contact")
        .part(
            "file",
            Part::bytes(FILE.as_bytes().to_vec()).file_name("a.csv"),
        )
        .text("csrf", csrf.clone());
    let huge = Form::new().text("csrf", "x".repeat(1024 * 1024)).part(
        "file",
        Part::bytes(FILE.as_bytes().to_vec()).file_name("a.csv"),
    );
    for form in [upload_form("forged", FILE), late, huge] {
        let refused = web
            .post(app.url("/t/acme/imports"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403);
        assert!(refused.text().await.unwrap().contains("csrf_failed"));
    }
    let admin = &mut tenants[0][1].1;
    let (_, imports) = admin.get("/t/acme/api/v1/imports").await;
    assert_eq!(imports["imports"].as_array().unwrap().len(), 0, "{imports}");

    // A member may not import at all; a file that is not CSV is refused on the page.
    let member = client();
    sign_in_at(&app, &member, "acme", "member@acme.test").await;
    let refused = member
        .post(app.url("/t/acme/imports"))
        .multipart(upload_form(&csrf, FILE))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let binary = web
        .post(app.url("/t/acme/imports"))
        .multipart(upload_form(&csrf, "\u{0}\u{1}\u{2}binary\u{0}"))
        .send()
        .await
        .unwrap();
    assert_eq!(binary.status(), 422);
    assert!(binary.text().await.unwrap().contains("cannot be imported"));
}

#[tokio::test]
async fn the_export_links_of_a_list_carry_its_filters() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let owner = &mut tenants[0][0].1;
    for (first, last) in [("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper")] {
        let body = serde_json::json!({"first_name": first, "last_name": last});
        assert_eq!(owner.post("/t/acme/api/v1/contacts", body).await.0, 201);
    }
    let web = client();
    sign_in_at(&app, &web, "acme", "viewer@acme.test").await;
    let html = web
        .get(app.url("/t/acme/contacts?q=tur"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = html
        .split("href=\"")
        .find_map(|h| h.split('"').next().filter(|h| h.contains("format=csv")))
        .unwrap()
        .replace("&amp;", "&");
    let csv = web.get(app.url(&link)).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("Turing"), "{csv}");
    assert!(
        !csv.contains("Hopper") && !csv.contains("Lovelace"),
        "{csv}"
    );
}
