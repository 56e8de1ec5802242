//! Shared set-up for the catalog, request and approval tests.

use serde_json::{Value, json};
use tier0_testkit::smtp::SmtpSink;
use tier0_testkit::{Client, Resp, Spawn, TestApp, TestUser, spawn_app_with};

/// A service desk with one user per role.
pub struct Desk {
    pub admin: TestUser,
    pub agent: TestUser,
    pub operator: TestUser,
    pub alice: TestUser,
    pub bob: TestUser,
}

pub async fn desk(app: &TestApp) -> Desk {
    let admin = app.admin().await;
    Desk {
        agent: app.user(&admin, "fulfiller").await,
        operator: app.user(&admin, "operator").await,
        alice: app.user(&admin, "requester").await,
        bob: app.user(&admin, "requester").await,
        admin,
    }
}

/// Sessions that outlive the clock jumps of a test.
pub fn long_sessions(b: tier0_testkit::Backend) -> Spawn {
    Spawn::new(b).tweak(|c| {
        c.session_idle_secs = 60 * 24 * 3600;
        c.session_absolute_secs = 60 * 24 * 3600;
    })
}

/// A second app on the same backend, mailing to a fresh SMTP sink; `None`
/// (after a skip notice) when the sink cannot run.
pub async fn with_mail(app: &TestApp) -> Option<(SmtpSink, TestApp)> {
    let sink = SmtpSink::start()?;
    let backend = app.backend;
    let url = sink.url();
    let mailed = spawn_app_with(Spawn::new(backend).smtp(url)).await?;
    Some((sink, mailed))
}

/// `POST /api/itsm/catalog` as `by`; returns the item.
pub async fn item(by: &TestUser, body: Value) -> Value {
    let r = by.api.post("/api/itsm/catalog", body).await;
    r.expect(201);
    r.json()
}

/// A published item with a small form, visible to everyone.
pub async fn laptop_item(admin: &TestUser) -> Value {
    item(
        admin,
        json!({
            "name": "New laptop",
            "description": "A laptop for work",
            "icon": "laptop",
            "fulfillment_target_hours": 48,
            "fields": [
                {"key": "model", "label": "Model", "type": "select", "required": true, "options": ["13 inch", "15 inch"]},
                {"key": "reason", "label": "Why", "type": "textarea", "required": false}
            ]
        }),
    )
    .await
}

/// `POST /api/itsm/requests` as `by`, expecting 201; returns the request.
pub async fn file(by: &TestUser, body: Value) -> Value {
    let r = by.api.post("/api/itsm/requests", body).await;
    r.expect(201);
    r.json()
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

/// Ids of a list response's items.
pub fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().map(|a| a.iter().map(id).collect()).unwrap_or_default()
}

/// Wait (up to 20 s) for a mail to `to` whose decoded text contains `text`.
pub async fn wait_mail(sink: &SmtpSink, to: &str, text: &str) -> Option<tier0_testkit::smtp::Mail> {
    for _ in 0..200 {
        if let Some(m) = sink.messages().into_iter().find(|m| m.to().contains(to) && m.decoded().contains(text)) {
            return Some(m);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}

/// A browser-like client signed in through the sign-in form (cookie).
pub async fn browser(u: &TestUser) -> Client {
    let c = u.api.fresh();
    let r = c.post_form("/login", &[("email", &u.email), ("password", &u.password), ("next", "/portal")]).await;
    assert_eq!(r.status, 303, "page sign-in failed: {}", r.text);
    c
}

/// `POST /api/itsm/requests/{rid}/attachments` with one file as `u`.
pub async fn upload(u: &TestUser, rid: &str, name: &str, data: Vec<u8>) -> Resp {
    let part = reqwest::multipart::Part::bytes(data).file_name(name.to_owned()).mime_str("text/plain").unwrap();
    let form = reqwest::multipart::Form::new().text("note", "x").part("file", part);
    u.api
        .send(u.api.request(reqwest::Method::POST, &format!("/api/itsm/requests/{rid}/attachments")).multipart(form))
        .await
}
