//! What the tests of pages share: a browser without JavaScript (a cookie-keeping client that
//! does not follow redirects, so each hop can be checked), the CSRF token of a form, and a
//! sign-in through the tenant app's form.

use reqwest::redirect::Policy;

use crate::helpers::{PASSWORD, TestApp};

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// [`client`] with its cookie jar, to set a cookie as a page's script would.
pub fn client_with_jar() -> (reqwest::Client, std::sync::Arc<reqwest::cookie::Jar>) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let web = reqwest::Client::builder()
        .cookie_provider(std::sync::Arc::clone(&jar))
        .redirect(Policy::none())
        .build()
        .unwrap();
    (web, jar)
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The value of the hidden `csrf` field of a page's form.
pub fn csrf_of(html: &str) -> String {
    quoted_after(html, "name=\"csrf\" value=\"")
}

/// The text from the first `marker` of `html` to the next `"`: an attribute's value, when
/// `marker` ends with its opening quote.
pub fn quoted_after(html: &str, marker: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Signs `email` in to tenant `slug` through the sign-in form; answers the form's redirect.
pub async fn sign_in_at(
    app: &TestApp,
    web: &reqwest::Client,
    slug: &str,
    email: &str,
) -> reqwest::Response {
    let form = web
        .get(app.url(&format!("/t/{slug}/sign-in")))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let csrf = csrf_of(&form.text().await.unwrap());
    let next = format!("/t/{slug}/contacts");
    web.post(app.url(&format!("/t/{slug}/sign-in")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("next", next.as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
}

/// The page a form's `303` leads to.
pub async fn follow(app: &TestApp, web: &reqwest::Client, response: reqwest::Response) -> String {
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    let to = location(&response);
    web.get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// An operator signed in to the console through its form; returns a page's CSRF token.
pub async fn operator_signed_in(app: &TestApp, web: &reqwest::Client) -> String {
    let form = web.get(app.url("/admin/sign-in")).send().await.unwrap();
    let csrf = csrf_of(&form.text().await.unwrap());
    let done = web
        .post(app.url("/admin/sign-in"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("next", "/admin/license"),
            ("email", "op@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/admin/license");
    let page = web
        .get(app.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    csrf_of(&page)
}
