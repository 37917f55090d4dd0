//! The account page over plain HTTP: changing one's own password, and one's own sessions —
//! listed, ended one by one or all at once — never anyone else's (on the page or the API).

use crate::helpers::{PASSWORD, TestApp, licensed_tenants};
use crate::pages::{client, csrf_of, location, sign_in_at};

const NEW_PASSWORD: &str = "a brand new passphrase 42";

async fn page(app: &TestApp, web: &reqwest::Client) -> (u16, String) {
    let answer = web.get(app.url("/t/acme/account")).send().await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

async fn get(app: &TestApp, web: &reqwest::Client, path: &str) -> (u16, String) {
    let answer = web.get(app.url(path)).send().await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

async fn signed_in(app: &TestApp, email: &str) -> reqwest::Client {
    let web = client();
    assert_eq!(sign_in_at(app, &web, "acme", email).await.status(), 303);
    web
}

/// Signs in through the form with `password`: where the form leads, if anywhere.
async fn sign_in_with(app: &TestApp, email: &str, password: &str) -> Option<String> {
    let web = client();
    let form = web.get(app.url("/t/acme/sign-in")).send().await.unwrap();
    let csrf = csrf_of(&form.text().await.unwrap());
    let answer = web
        .post(app.url("/t/acme/sign-in"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("next", ""),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    (answer.status() == 303).then(|| location(&answer))
}

async fn change(
    app: &TestApp,
    web: &reqwest::Client,
    csrf: &str,
    current: &str,
    new: &str,
    confirm: &str,
) -> reqwest::Response {
    web.post(app.url("/t/acme/account/password"))
        .form(&[
            ("csrf", csrf),
            ("current_password", current),
            ("new_password", new),
            ("confirm_password", confirm),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_user_changes_their_password_only_with_the_right_current_one() {
    let app = TestApp::spawn().await;
    let _tenants = licensed_tenants(&app, &["acme"]).await;
    let web = signed_in(&app, "member@acme.test").await;
    let (status, html) = page(&app, &web).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("href=\"/t/acme/account\""),
        "the name links here"
    );
    let csrf = csrf_of(&html);

    let wrong = change(
        &app,
        &web,
        &csrf,
        "not my password",
        NEW_PASSWORD,
        NEW_PASSWORD,
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("id=\"current-password-error\""), "{html}");
    let differ = change(
        &app,
        &web,
        &csrf,
        PASSWORD,
        NEW_PASSWORD,
        "something else 1234",
    )
    .await;
    assert_eq!(differ.status(), 422);
    assert!(
        differ
            .text()
            .await
            .unwrap()
            .contains("id=\"confirm-password-error\"")
    );
    let weak = change(&app, &web, &csrf, PASSWORD, "short", "short").await;
    assert_eq!(weak.status(), 422);
    assert!(
        weak.text()
            .await
            .unwrap()
            .contains("id=\"new-password-error\"")
    );
    assert!(
        sign_in_with(&app, "member@acme.test", PASSWORD)
            .await
            .is_some()
    );

    let done = change(&app, &web, &csrf, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/t/acme/account?done=password");
    let (status, html) = get(&app, &web, &location(&done)).await;
    assert_eq!(status, 200, "this session goes on");
    assert!(html.contains("Your password is changed"));
    assert!(
        sign_in_with(&app, "member@acme.test", PASSWORD)
            .await
            .is_none()
    );
    assert!(
        sign_in_with(&app, "member@acme.test", NEW_PASSWORD)
            .await
            .is_some()
    );
}

/// The ids of the other sessions on an account page.
fn other_sessions(html: &str) -> Vec<String> {
    html.split("/account/sessions/")
        .skip(1)
        .map(|rest| rest.split('/').next().unwrap().to_owned())
        .filter(|id| id.len() == 32)
        .collect()
}

#[tokio::test]
async fn a_user_sees_their_sessions_and_ends_another_one() {
    let app = TestApp::spawn().await;
    let _tenants = licensed_tenants(&app, &["acme"]).await;
    let here = signed_in(&app, "viewer@acme.test").await;
    let there = signed_in(&app, "viewer@acme.test").await;
    let (_, html) = page(&app, &here).await;
    assert_eq!(html.matches("This session").count(), 1, "{html}");
    let others = other_sessions(&html);
    assert_eq!(
        others.len(),
        1 + 1,
        "the API sign-in of the setup and the other form"
    );
    let (_, theirs) = page(&app, &there).await;
    let there_id = other_sessions(&html)
        .into_iter()
        .find(|id| !theirs.contains(&format!("/account/sessions/{id}/")))
        .unwrap();

    let ended = here
        .post(app.url(&format!("/t/acme/account/sessions/{there_id}/end")))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 303);
    let refused = there.get(app.url("/t/acme/contacts")).send().await.unwrap();
    assert_eq!(refused.status(), 303, "its cookie no longer works");
    assert_eq!(page(&app, &here).await.0, 200);

    // Everywhere else: the remaining one (the setup's API sign-in) ends too.
    let (_, html) = page(&app, &here).await;
    assert_eq!(other_sessions(&html).len(), 1);
    let all = here
        .post(app.url("/t/acme/account/sessions/end-others"))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(all.status(), 303);
    let (_, html) = get(&app, &here, &location(&all)).await;
    assert!(other_sessions(&html).is_empty() && html.contains("Every other session"));
}

#[tokio::test]
async fn nobody_sees_or_ends_another_users_session() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (owner_part, rest) = tenants[0].split_at_mut(1);
    let owner = &mut owner_part[0].1;
    let member = &mut rest[1].1;
    let (status, mine) = owner.get("/t/acme/api/v1/auth/sessions").await;
    assert_eq!(status, 200);
    let sessions = mine["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{mine}");
    assert_eq!(sessions[0]["current"], true);
    assert!(sessions[0].get("id_hash").is_none() && sessions[0].get("csrf_token").is_none());
    let owners = sessions[0]["id"].as_str().unwrap().to_owned();

    let (status, theirs) = member.get("/t/acme/api/v1/auth/sessions").await;
    assert_eq!(status, 200);
    assert!(!theirs.to_string().contains(&owners));
    let (status, _, _) = member
        .send(
            reqwest::Method::DELETE,
            &format!("/t/acme/api/v1/auth/sessions/{owners}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "another user's session is not found");
    let web = signed_in(&app, "member@acme.test").await;
    let (_, html) = page(&app, &web).await;
    let on_page = web
        .post(app.url(&format!("/t/acme/account/sessions/{owners}/end")))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(on_page.status(), 404);
    assert_eq!(
        owner.get("/t/acme/api/v1/auth/me").await.0,
        200,
        "still signed in"
    );

    // Their own, by id, on the API.
    let (_, listed) = member.get("/t/acme/api/v1/auth/sessions").await;
    let other = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, _) = member
        .send(
            reqwest::Method::DELETE,
            &format!("/t/acme/api/v1/auth/sessions/{other}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        page(&app, &web).await.0,
        303,
        "the page's session was that one"
    );
}
