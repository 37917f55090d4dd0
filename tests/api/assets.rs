//! Embedded static assets: allowlisted, typed, with ETags and revalidation.

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn assets_have_their_content_type_and_an_etag() {
    let app = TestApp::spawn().await;
    for (path, expected) in [
        ("/assets/css/holdfast.css", "text/css; charset=utf-8"),
        ("/assets/img/holdfast.svg", "image/svg+xml"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert_eq!(headers["content-type"], expected, "{path}");
        assert!(headers["etag"].to_str().unwrap().starts_with('"'), "{path}");
        assert_eq!(headers["cache-control"], "public, no-cache", "{path}");
        let on_disk = std::fs::read(format!(
            "{}/assets{}",
            env!("CARGO_MANIFEST_DIR"),
            &path[7..]
        ))
        .unwrap();
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            on_disk.as_slice(),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_matching_etag_answers_not_modified() {
    let app = TestApp::spawn().await;
    let first = app.get("/assets/css/holdfast.css").await;
    let etag = first.headers()["etag"].clone();
    let again = app
        .client
        .get(app.url("/assets/css/holdfast.css"))
        .header("If-None-Match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag);
    assert!(again.bytes().await.unwrap().is_empty());

    let stale = app
        .client
        .get(app.url("/assets/css/holdfast.css"))
        .header("If-None-Match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
}

#[tokio::test]
async fn only_allowlisted_files_are_served() {
    let app = TestApp::spawn().await;
    for path in [
        "/assets/pages/welcome.html",
        "/assets/css/missing.css",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/Cargo.toml",
        "/assets/css/../../src/lib.rs",
    ] {
        assert_error(app.get(path).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn the_welcome_page_loads_only_its_own_assets() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains(holdfast::build_info::VERSION));
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline code"
    );
    for link in ["/assets/css/holdfast.css", "/assets/img/holdfast.svg"] {
        assert!(html.contains(link), "{link}");
        assert_eq!(app.get(link).await.status(), 200, "{link}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing external"
    );
}
