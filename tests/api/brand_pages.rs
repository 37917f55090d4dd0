//! A tenant's brand: set on its settings page when the license includes branding, worn by
//! its pages through `brand.css` and `brand/logo`; refused, and Holdfast's own, without.

use reqwest::multipart::{Form, Part};

use crate::helpers::{TestApp, licensed_tenants, licensed_tenants_with};
use crate::pages::{client, csrf_of, sign_in_at};

/// The smallest PNG: one transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0d, 0x49, 0x44, 0x41, 0x54,
    0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

fn logo_form(csrf: &str, bytes: &[u8], name: &str) -> Form {
    Form::new().text("csrf", csrf.to_owned()).part(
        "logo",
        Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
    )
}

async fn admin(app: &TestApp) -> (reqwest::Client, String) {
    let web = client();
    sign_in_at(app, &web, "acme", "admin@acme.test").await;
    let html = web
        .get(app.url("/t/acme/settings/branding"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (web, csrf_of(&html))
}

#[tokio::test]
async fn a_licensed_tenant_wears_its_colour_and_logo_and_a_light_colour_is_refused() {
    let app = TestApp::spawn().await;
    licensed_tenants_with(&app, &["acme"], |p| p.features.push("branding".to_owned())).await;
    let (web, csrf) = admin(&app).await;
    let light = web
        .post(app.url("/t/acme/settings/branding"))
        .form(&[("csrf", csrf.as_str()), ("accent", "#ffd700")])
        .send()
        .await
        .unwrap();
    assert_eq!(light.status(), 422);
    assert!(light.text().await.unwrap().contains("too light"));
    let saved = web
        .post(app.url("/t/acme/settings/branding"))
        .form(&[("csrf", csrf.as_str()), ("accent", "#123456")])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);

    // Anyone who reaches the tenant gets the stylesheet (its sign-in page wears it), and a
    // browser that has it already is told so.
    let anonymous = client();
    let css = anonymous
        .get(app.url("/t/acme/brand.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    let etag = css.headers()["etag"].clone();
    assert!(css.text().await.unwrap().contains("--hf-accent: #123456"));
    let again = anonymous
        .get(app.url("/t/acme/brand.css"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let sign_in = anonymous
        .get(app.url("/t/acme/sign-in"))
        .send()
        .await
        .unwrap();
    assert!(sign_in.text().await.unwrap().contains("/t/acme/brand.css"));

    // A logo: an SVG is refused (it could carry script), a PNG is served as it was sent.
    let svg = web
        .post(app.url("/t/acme/settings/branding/logo"))
        .multipart(logo_form(
            &csrf,
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            "l.svg",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.status(), 422);
    let default = anonymous
        .get(app.url("/t/acme/brand/logo"))
        .send()
        .await
        .unwrap();
    assert_eq!(default.status(), 302, "still Holdfast's");
    let png = web
        .post(app.url("/t/acme/settings/branding/logo"))
        .multipart(logo_form(&csrf, PNG, "logo.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(png.status(), 303);
    let logo = anonymous
        .get(app.url("/t/acme/brand/logo"))
        .send()
        .await
        .unwrap();
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.bytes().await.unwrap().as_ref(), PNG);

    let removed = web
        .post(app.url("/t/acme/settings/branding/logo/delete"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 303);
    let logo = anonymous
        .get(app.url("/t/acme/brand/logo"))
        .send()
        .await
        .unwrap();
    assert_eq!(logo.status(), 302);
}

#[tokio::test]
async fn without_the_branding_feature_the_brand_is_refused_and_holdfasts_own() {
    let app = TestApp::spawn().await;
    licensed_tenants(&app, &["acme"]).await;
    let (web, csrf) = admin(&app).await;
    let page = web
        .get(app.url("/t/acme/settings/branding"))
        .send()
        .await
        .unwrap();
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("does not include branding")
    );
    let refused = web
        .post(app.url("/t/acme/settings/branding"))
        .form(&[("csrf", csrf.as_str()), ("accent", "#123456")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("does not include branding")
    );
    let css = client()
        .get(app.url("/t/acme/brand.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.text().await.unwrap(), "");
    // A member may not reach the page at all.
    let member = client();
    sign_in_at(&app, &member, "acme", "member@acme.test").await;
    let page = member
        .get(app.url("/t/acme/settings/branding"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
}
