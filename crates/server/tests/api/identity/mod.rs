//! Identity and access (SPEC §2, §4): the API per role, sessions,
//! throttling, CSRF, 2FA, e-mail delivery and the pages, each test on
//! SQLite and PostgreSQL.

mod api;
mod mail;
mod pages;
mod security;

use serde_json::json;
use tier0_app::Ctx;
use tier0_app::auth::totp;
use tier0_testkit::fixtures::{PASSWORD, invite_user, unique_email};
use tier0_testkit::{Client, Resp, TestApp, TestUser};

/// The token parameter of an invite or reset URL.
pub fn token_of(url: &str) -> String {
    let t = url.split("token=").nth(1).expect("token in url");
    t.split(['&', '"', '<', ' ', '\r', '\n']).next().unwrap_or_default().to_owned()
}

/// The `Location` of a redirect.
#[track_caller]
pub fn location(r: &Resp) -> String {
    assert!((300..400).contains(&r.status), "expected a redirect, got {}: {}", r.status, r.text);
    r.header("location").expect("location header")
}

/// The value of the first `<input name="…" value="…">` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.split("value=\"").nth(1)?;
    Some(unescape(&v[..v.find('"')?]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")
}

/// A 6-digit code for `secret` (base32) at the server's clock, `offset`
/// steps away from now.
pub fn totp_code(app: &TestApp, secret: &str, offset: i64) -> String {
    let key = totp::base32_decode(secret).expect("base32 secret");
    let step = totp::step_of(app.app.now().secs()) + offset;
    format!("{:06}", totp::hotp(&key, step as u64, 6))
}

/// Sign in through the API with a fresh client of the same host.
pub async fn login(c: &Client, email: &str, password: &str) -> Resp {
    c.fresh().post("/api/auth/login", json!({"email": email, "password": password})).await
}

/// A custom role with `perms`, created by `admin`; returns its id.
pub async fn custom_role(admin: &TestUser, name: &str, perms: &[&str]) -> String {
    let r = admin.api.post("/api/roles", json!({"name": name, "permissions": perms})).await;
    r.expect(201);
    r.json()["id"].as_str().expect("role id").to_owned()
}

/// A member of a (custom) role.
pub async fn member(admin: &TestUser, role: &str) -> TestUser {
    invite_user(admin, role, &unique_email(&role.replace(' ', "-"))).await
}

/// The id of a role by name.
pub async fn role_id(admin: &TestUser, name: &str) -> String {
    let r = admin.api.get("/api/roles").await;
    r.expect(200);
    r.json()
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == name))
        .and_then(|x| x["id"].as_str())
        .expect("role exists")
        .to_owned()
}

/// The app-level context of a signed-in user on the default tenant, for
/// calling use cases directly (e.g. the outbox view).
pub async fn ctx_of(app: &TestApp, token: &str) -> Ctx {
    let tenant = app.app.resolve_host("localhost").await.expect("default tenant");
    app.app.context(tenant, Some(token), true, Some("127.0.0.1".into()), None).await.expect("context")
}

/// Audit entries (newest first) with `action`.
pub async fn audit(admin: &TestUser, action: &str) -> Vec<serde_json::Value> {
    let r = admin.api.get(&format!("/api/audit?action={action}&limit=200")).await;
    r.expect(200);
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

pub const NEW_PASSWORD: &str = "another quite long passphrase 7";

/// A second admin of the default tenant.
pub async fn second_admin(admin: &TestUser) -> TestUser {
    invite_user(admin, "admin", &unique_email("admin2-")).await
}
