//! Invites and password resets by e-mail: the durable outbox delivering to
//! a real SMTP server on loopback (aiosmtpd), links built from the public
//! URL, retries with back-off, and the reset flow through API and pages.
//!
//! Each test starts its own mail-enabled server next to the one
//! `dual_test!` gives it, on the same kind of database.

use super::*;
use serde_json::json;
use tier0_app::caps;
use tier0_store::outbox::OutboxStatus;
use tier0_testkit::smtp::{Mail, SmtpSink};
use tier0_testkit::{Spawn, dual_test, spawn_app_with};

/// A mail sink and a server that delivers to it, or `None` (SKIPPED)
/// when aiosmtpd is unavailable.
async fn with_sink(app: &TestApp, spawn: impl FnOnce(Spawn) -> Spawn) -> Option<(SmtpSink, TestApp)> {
    let sink = SmtpSink::start()?;
    let mailed = spawn_app_with(spawn(Spawn::new(app.backend).smtp(sink.url()))).await.expect("mail-enabled app");
    Some((sink, mailed))
}

#[track_caller]
fn link_in(mail: &Mail, prefix: &str) -> String {
    let text = mail.decoded();
    let at = text.find(prefix).unwrap_or_else(|| panic!("no {prefix} link in:\n{text}"));
    let rest = &text[at..];
    let end = rest.find(|c: char| c.is_whitespace() || c == '"' || c == '<').unwrap_or(rest.len());
    rest[..end].to_owned()
}

async fn invites_are_mailed(app: &TestApp) {
    let Some((sink, app)) = with_sink(app, |s| s).await else { return };
    let port = app.addr.port();
    let admin = app.admin().await;
    let email = unique_email("mailed");
    let r = admin.api.post("/api/auth/invite", json!({"email": email, "role": "fulfiller"})).await;
    r.expect(201);
    assert_eq!(r.json()["emailed"], true);
    let returned = r.json()["invite_url"].as_str().unwrap().to_owned();
    let mail = sink.wait_for(&email, 20).await.expect("invite e-mail arrives");
    assert!(mail.subject().contains("invited"), "{}", mail.subject());
    assert!(mail.raw.contains("multipart/alternative"), "text and HTML parts");
    let link = link_in(&mail, &format!("http://localhost:{port}/signup?token="));
    assert_eq!(link, returned);
    assert!(mail.decoded().contains("fulfiller") && mail.decoded().contains("72 hours"));
    let r =
        app.client().post("/api/auth/signup-exchange", json!({"token": token_of(&link), "password": PASSWORD})).await;
    r.expect(201);
    assert_eq!(r.json()["user"]["role"], "fulfiller");
    // A tenant's mail links to the tenant's own host.
    let acme = app.tenant("acme").await;
    let email = unique_email("acme");
    acme.api.post("/api/auth/invite", json!({"email": email})).await.expect(201);
    let mail = sink.wait_for(&email, 20).await.expect("tenant invite e-mail");
    let link = link_in(&mail, &format!("http://acme.localhost:{port}/signup?token="));
    app.client_for("acme")
        .post("/api/auth/signup-exchange", json!({"token": token_of(&link), "password": PASSWORD}))
        .await
        .expect(201);
    // Delivered rows are marked sent in the outbox (Settings → Outgoing mail).
    let ctx = ctx_of(&app, &admin.token).await;
    let rows =
        app.app.mail_outbox(ctx.can::<caps::SettingsManage>().unwrap(), tier0_domain::Limit::default()).await.unwrap();
    assert_eq!(rows.len(), 1, "only this tenant's mail");
    assert!(rows[0].sent && rows[0].attempts == 1 && rows[0].last_error.is_none(), "{rows:?}");
    app.shutdown().await;
}
dual_test!(invites_are_mailed);

/// Forgot password: always 202, mails a single-use 30-minute link built
/// from the public URL (never the request's Host), and the reset revokes
/// every session.
async fn password_reset_by_mail(app: &TestApp) {
    let Some((sink, app)) = with_sink(app, |s| s).await else { return };
    let port = app.addr.port();
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    let other_device =
        app.client().with_token(login(&app.client(), &u.email, PASSWORD).await.json()["token"].as_str().unwrap());
    // Same answer for known, unknown and malformed addresses.
    let c = app.client().with_header("x-forwarded-host", "evil.example");
    let known = c.post("/api/auth/forgot-password", json!({"email": u.email.to_uppercase()})).await;
    let unknown = c.post("/api/auth/forgot-password", json!({"email": "nobody@example.com"})).await;
    let malformed = c.post("/api/auth/forgot-password", json!({"email": "not an address"})).await;
    for r in [&known, &unknown, &malformed] {
        r.expect(202);
    }
    assert_eq!(known.text, unknown.text);
    assert_eq!(known.text, malformed.text);
    // The request came to 127.0.0.1; the link uses the public URL.
    let mail = wait_mail(&sink, &u.email, "Reset").await;
    let link = link_in(&mail, &format!("http://localhost:{port}/reset-password?token="));
    let body = mail.decoded();
    let body = &body[body.find("text/plain").expect("a text part")..];
    assert!(!body.contains("127.0.0.1") && !body.contains("evil.example"), "{body}");
    assert!(mail.decoded().contains("30 minutes"));
    let token = token_of(&link);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 2, "the invite (none for the unknown address) and the reset");
    // Weak passwords are refused without using the link.
    let r = app.client().post("/api/auth/reset-password", json!({"token": token, "password": "password"})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["password"].is_string());
    let r = app.client().post("/api/auth/reset-password", json!({"token": token, "password": NEW_PASSWORD})).await;
    r.expect(200);
    assert!(r.header("set-cookie").is_some());
    let fresh = app.client().with_token(r.json()["token"].as_str().unwrap());
    fresh.get("/api/me").await.expect(200);
    // Every earlier session is gone; the old password too; the link is spent.
    u.api.get("/api/me").await.expect_error(401, "unauthorized");
    other_device.get("/api/me").await.expect_error(401, "unauthorized");
    login(&app.client(), &u.email, PASSWORD).await.expect_error(401, "invalid_credentials");
    login(&app.client(), &u.email, NEW_PASSWORD).await.expect(200);
    app.client()
        .post("/api/auth/reset-password", json!({"token": token, "password": "yet another long passphrase 3"}))
        .await
        .expect_error(400, "invalid_token");
    assert_eq!(audit(&admin, "auth.password_reset").await.len(), 1);
    assert_eq!(audit(&admin, "auth.reset_requested").await.len(), 1);
    // Links expire after 30 minutes.
    app.client().post("/api/auth/forgot-password", json!({"email": u.email})).await.expect(202);
    app.client().post("/api/auth/forgot-password", json!({"email": u.email})).await.expect(202);
    let links = wait_links(&sink, &u.email, 3, port).await;
    app.clock.advance_secs(30 * 60 + 1);
    app.client()
        .post(
            "/api/auth/reset-password",
            json!({"token": token_of(&links[1]), "password": "yet another long passphrase 3"}),
        )
        .await
        .expect_error(400, "invalid_token");
    // Tenant links point at the tenant's host, and do not work elsewhere.
    let acme = app.tenant("acme").await;
    app.client_for("acme").post("/api/auth/forgot-password", json!({"email": acme.email})).await.expect(202);
    let mail = wait_mail(&sink, &acme.email, "Reset").await;
    let link = link_in(&mail, &format!("http://acme.localhost:{port}/reset-password?token="));
    app.client()
        .post("/api/auth/reset-password", json!({"token": token_of(&link), "password": NEW_PASSWORD}))
        .await
        .expect_error(400, "invalid_token");
    app.client_for("acme")
        .post("/api/auth/reset-password", json!({"token": token_of(&link), "password": NEW_PASSWORD}))
        .await
        .expect(200);
    // Deactivated accounts get no reset mail.
    let v = app.user(&admin, "requester").await;
    admin.api.patch(&format!("/api/users/{}", v.id), json!({"active": false})).await.expect(200);
    app.client().post("/api/auth/forgot-password", json!({"email": v.email})).await.expect(202);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert!(!sink.messages().iter().any(|m| m.to().contains(&v.email) && m.subject().contains("Reset")));
    app.shutdown().await;
}
dual_test!(password_reset_by_mail);

/// The first message to `to` whose subject contains `subject`.
async fn wait_mail(sink: &SmtpSink, to: &str, subject: &str) -> Mail {
    for _ in 0..200 {
        if let Some(m) = sink.messages().into_iter().find(|m| m.to().contains(to) && m.subject().contains(subject)) {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no {subject:?} mail to {to}");
}

/// Every reset link mailed to `to`, oldest first, once `n` have arrived.
async fn wait_links(sink: &SmtpSink, to: &str, n: usize, port: u16) -> Vec<String> {
    for _ in 0..200 {
        let links: Vec<String> = sink
            .messages()
            .iter()
            .filter(|m| m.to().contains(to) && m.subject().contains("Reset"))
            .map(|m| link_in(m, &format!("http://localhost:{port}/reset-password?token=")))
            .collect();
        if links.len() >= n {
            return links;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} reset mails to {to}");
}

/// Reset mail cannot be used to bomb a mailbox: a few per account per
/// hour (then silently none, still 202), and 429 per client address.
async fn reset_mail_is_rate_limited(app: &TestApp) {
    let Some((sink, app)) = with_sink(app, |s| {
        s.tweak(|c| {
            c.throttle.resets_per_account = 2;
            c.throttle.resets_per_address = 5;
        })
    })
    .await
    else {
        return;
    };
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    for _ in 0..4 {
        app.client().post("/api/auth/forgot-password", json!({"email": u.email})).await.expect(202);
    }
    let r = app.client().post("/api/auth/forgot-password", json!({"email": "someone@example.com"})).await;
    r.expect(202);
    let r = app.client().post("/api/auth/forgot-password", json!({"email": "someone@example.com"})).await;
    r.expect_error(429, "too_many_requests");
    assert!(r.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s > 0));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let resets =
        sink.messages().into_iter().filter(|m| m.to().contains(&u.email) && m.subject().contains("Reset")).count();
    assert_eq!(resets, 2);
    // An hour later the budget is back.
    app.clock.advance_secs(3601);
    app.client().post("/api/auth/forgot-password", json!({"email": u.email})).await.expect(202);
    wait_links(&sink, &u.email, 3, app.addr.port()).await;
    app.shutdown().await;
}
dual_test!(reset_mail_is_rate_limited);

/// With 2FA on, a reset link alone is not enough: it needs a code, and
/// wrong codes count toward the sign-in throttle.
async fn reset_needs_second_factor(app: &TestApp) {
    let Some((sink, app)) = with_sink(app, |s| s).await else { return };
    let port = app.addr.port();
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    let secret = u.api.post("/api/me/totp/setup", json!({})).await.json()["secret"].as_str().unwrap().to_owned();
    u.api.post("/api/me/totp/enable", json!({"code": totp_code(&app, &secret, 0)})).await.expect(200);
    app.client().post("/api/auth/forgot-password", json!({"email": u.email})).await.expect(202);
    let token = token_of(&wait_links(&sink, &u.email, 1, port).await[0]);
    let reset = |code: Option<String>| {
        let c = app.client();
        let token = token.clone();
        async move {
            c.post("/api/auth/reset-password", json!({"token": token, "password": NEW_PASSWORD, "totp_code": code}))
                .await
        }
    };
    reset(None).await.expect_error(401, "totp_required");
    for _ in 0..5 {
        reset(Some("000000".into())).await.expect_error(401, "invalid_totp");
    }
    reset(Some(totp_code(&app, &secret, 1))).await.expect_error(429, "too_many_requests");
    assert_eq!(audit(&admin, "auth.reset_failed").await.len(), 5);
    app.clock.advance_secs(15 * 60 + 1);
    let r = reset(Some(totp_code(&app, &secret, 0))).await;
    r.expect(200);
    u.api.get("/api/me").await.expect(401);
    app.shutdown().await;
}
dual_test!(reset_needs_second_factor);

/// The forgot and reset pages, as a browser without JavaScript.
async fn reset_pages(app: &TestApp) {
    let Some((sink, app)) = with_sink(app, |s| s).await else { return };
    let port = app.addr.port();
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    let c = app.client();
    let page = c.get("/forgot-password").await;
    page.expect(200);
    assert!(page.text.contains("action=\"/forgot-password\""));
    assert!(c.get("/login").await.text.contains("href=\"/forgot-password\""));
    let r = c.post_form("/forgot-password", &[("email", "not an address")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("E-mail address is not a valid e-mail address"));
    let r = c.post_form("/forgot-password", &[("email", &u.email)]).await;
    assert_eq!(r.status, 202);
    assert!(r.text.contains("Check your e-mail"));
    let r2 = c.post_form("/forgot-password", &[("email", "nobody@example.com")]).await;
    assert_eq!(r2.status, 202);
    assert_eq!(r.text.replace(&u.email, "X"), r2.text.replace("nobody@example.com", "X"), "no enumeration");
    let link = wait_links(&sink, &u.email, 1, port).await.remove(0);
    let path = link.trim_start_matches(&format!("http://localhost:{port}"));
    let page = c.get(path).await;
    page.expect(200);
    assert!(page.text.contains(&u.email) && !page.text.contains("name=\"totp_code\""));
    let token = token_of(&link);
    let r = c.post_form("/reset-password", &[("token", &token), ("password", "short")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("New password must be at least 8 characters"), "{}", r.text);
    let r = c.post_form("/reset-password", &[("token", &token), ("password", NEW_PASSWORD)]).await;
    assert_eq!(location(&r), "/");
    assert_eq!(location(&c.get("/").await), "/portal");
    u.api.get("/api/me").await.expect(401);
    // Spent link: a clear page with the way forward.
    let r = app.client().get(path).await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("href=\"/forgot-password\""));
    // With 2FA the page asks for the code, and says when it is wrong.
    let me =
        app.client().with_token(login(&app.client(), &u.email, NEW_PASSWORD).await.json()["token"].as_str().unwrap());
    let secret = me.post("/api/me/totp/setup", json!({})).await.json()["secret"].as_str().unwrap().to_owned();
    me.post("/api/me/totp/enable", json!({"code": totp_code(&app, &secret, 0)})).await.expect(200);
    c.post_form("/forgot-password", &[("email", &u.email)]).await;
    // The sink lists mail in no particular order: take the new link.
    let spent = link;
    let link = wait_links(&sink, &u.email, 2, port).await.into_iter().find(|l| *l != spent).expect("a second link");
    let token = token_of(&link);
    let page = c.get(&format!("/reset-password?token={token}")).await;
    assert!(page.text.contains("name=\"totp_code\""));
    let r = c.post_form("/reset-password", &[("token", &token), ("password", PASSWORD), ("totp_code", "000000")]).await;
    assert_eq!(r.status, 401);
    assert!(r.text.contains("Authenticator code is not valid"), "{}", r.text);
    let r = c
        .post_form(
            "/reset-password",
            &[("token", &token), ("password", PASSWORD), ("totp_code", &totp_code(&app, &secret, 1))],
        )
        .await;
    assert_eq!(location(&r), "/");
    app.shutdown().await;
}
dual_test!(reset_pages);

/// SMTP down: the message stays queued with its attempts and last error,
/// and is retried later (exponential back-off), never lost.
async fn mail_is_retried_when_smtp_is_down(app: &TestApp) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(Spawn::new(app.backend).smtp(format!("smtp://127.0.0.1:{closed}"))).await.expect("app");
    let admin = app.admin().await;
    let r = admin.api.post("/api/auth/invite", json!({"email": unique_email("queued")})).await;
    r.expect(201);
    assert_eq!(r.json()["emailed"], true);
    let ctx = ctx_of(&app, &admin.token).await;
    let by = ctx.can::<caps::SettingsManage>().unwrap();
    let row = wait_attempts(&app, by, 1).await;
    assert!(!row.sent && !row.failed, "{row:?}");
    assert!(row.next_attempt_at > app.app.now(), "retry scheduled later: {row:?}");
    let first_retry_in = row.next_attempt_at.millis() - app.app.now().millis();
    // Not retried before its time…
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let again = app.app.mail_outbox(by, tier0_domain::Limit::default()).await.unwrap()[0].clone();
    assert_eq!(again.attempts, 1, "{again:?}");
    // …but after it, with a longer pause next time.
    app.clock.advance_secs(first_retry_in / 1000 + 1);
    let row2 = wait_attempts(&app, by, 2).await;
    assert!(!row2.sent && !row2.failed);
    let second_retry_in = row2.next_attempt_at.millis() - app.app.now().millis();
    assert!(second_retry_in > first_retry_in, "{first_retry_in} then {second_retry_in}");
    // The admin sees it on Settings → Outgoing mail.
    let c = app.client();
    c.post_form("/login", &[("email", &admin.email), ("password", PASSWORD)]).await;
    let page = c.get("/settings/mail").await;
    page.expect(200);
    assert!(page.text.contains("Pending") && page.text.contains("2 attempts"), "{}", page.text);
    assert!(page.text.contains(row2.last_error.as_deref().unwrap().split(':').next().unwrap()));
    app.shutdown().await;
}
dual_test!(mail_is_retried_when_smtp_is_down);

/// The newest outbox row once it has `n` failed attempts.
async fn wait_attempts(app: &TestApp, by: tier0_app::Can<'_, caps::SettingsManage>, n: i64) -> OutboxStatus {
    for _ in 0..150 {
        let rows = app.app.mail_outbox(by, tier0_domain::Limit::default()).await.unwrap();
        if rows[0].attempts >= n && rows[0].last_error.is_some() {
            return rows[0].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no attempt {n}");
}
