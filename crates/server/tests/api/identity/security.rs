//! Sign-in and sessions: credentials, cookies, fixation, expiry,
//! revocation, throttling, trusted proxies, CSRF and two-step
//! verification.

use super::*;
use serde_json::json;
use tier0_testkit::dual_test;

async fn register_and_sign_in(app: &TestApp) {
    let c = app.client();
    let email = unique_email("first");
    // Validation comes with per-field messages.
    let r = c.post("/api/auth/register", json!({"email": "nope", "password": "short", "name": ""})).await;
    r.expect_error(422, "validation_failed");
    let f = &r.json()["error"]["fields"];
    assert!(f["email"].is_string() && f["password"].is_string() && f["name"].is_string(), "{}", r.text);
    let r = c.post("/api/auth/register", json!({"email": email, "password": PASSWORD, "name": "First Admin"})).await;
    r.expect(201);
    assert_eq!(r.json()["user"]["role"], "admin");
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.starts_with("tier0_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-http public URL: {cookie}");
    // The cookie alone authenticates.
    let me = c.get("/api/me").await;
    me.expect(200);
    assert_eq!(me.json()["email"], email.as_str());
    // Registration is closed from now on, even with a valid body.
    app.client()
        .post("/api/auth/register", json!({"email": unique_email("late"), "password": PASSWORD, "name": "Late"}))
        .await
        .expect_error(403, "registration_closed");
    // Sign-in: token, user and cookie; the token works as a bearer.
    let r = login(&c, &email.to_uppercase(), PASSWORD).await;
    r.expect(200);
    let body = r.json();
    assert_eq!(body["user"]["email"], email.as_str());
    assert!(body["user"].get("password_hash").is_none() && !r.text.contains("argon2"));
    let token = body["token"].as_str().unwrap();
    assert!(token.len() >= 40);
    app.client().with_token(token).get("/api/me").await.expect(200);
    assert!(r.header("set-cookie").is_some_and(|v| v.contains(token)));
}
dual_test!(register_and_sign_in);

/// Unknown e-mail and wrong password are indistinguishable: same status,
/// code and body, and (roughly) the same time.
async fn no_account_enumeration(app: &TestApp) {
    let admin = app.admin().await;
    let wrong = login(&app.client(), &admin.email, "not the right password").await;
    let unknown = login(&app.client(), "nobody-here@example.com", "not the right password").await;
    let malformed = login(&app.client(), "not-an-email", "not the right password").await;
    wrong.expect_error(401, "invalid_credentials");
    assert_eq!(wrong.text, unknown.text);
    assert_eq!(wrong.text, malformed.text);
    assert_eq!(wrong.header("content-type"), unknown.header("content-type"));
    // A deactivated account looks the same.
    let u = app.user(&admin, "requester").await;
    admin.api.patch(&format!("/api/users/{}", u.id), json!({"active": false})).await.expect(200);
    let inactive = login(&app.client(), &u.email, PASSWORD).await;
    assert_eq!((inactive.status, inactive.text.as_str()), (401, wrong.text.as_str()));
    // Both paths spend a password hash: their times stay within a factor.
    let time = |email: String| {
        let c = app.client();
        async move {
            let t = std::time::Instant::now();
            for _ in 0..3 {
                login(&c, &email, "not the right password").await;
            }
            t.elapsed()
        }
    };
    let a = time(admin.email.clone()).await;
    let b = time("ghost@example.com".into()).await;
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    assert!(hi < lo * 5 + std::time::Duration::from_millis(200), "{a:?} vs {b:?}");
}
dual_test!(no_account_enumeration);

/// Every sign-in issues a new session token; a cookie planted before
/// sign-in is never adopted.
async fn session_fixation(app: &TestApp) {
    let admin = app.admin().await;
    let planted = "attacker-chosen-session-token-value-000000000000";
    let c = app.client().with_header("cookie", &format!("tier0_session={planted}"));
    let r = c.post("/api/auth/login", json!({"email": admin.email, "password": PASSWORD})).await;
    r.expect(200);
    let t1 = r.json()["token"].as_str().unwrap().to_owned();
    assert_ne!(t1, planted);
    app.client().with_token(planted).get("/api/me").await.expect(401);
    let t2 = login(&app.client(), &admin.email, PASSWORD).await.json()["token"].as_str().unwrap().to_owned();
    assert_ne!(t1, t2);
    assert_ne!(t2, admin.token);
    for t in [&t1, &t2, &admin.token] {
        app.client().with_token(t).get("/api/me").await.expect(200);
    }
    let sessions = admin.api.get("/api/me/sessions").await.json();
    assert_eq!(sessions.as_array().unwrap().len(), 3, "{sessions}");
    assert!(!sessions.to_string().contains(&t1), "session list never shows tokens");
}
dual_test!(session_fixation);

async fn logout_revokes_at_once(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    // Bearer.
    admin.api.post("/api/auth/logout", json!({})).await.expect(204);
    admin.api.get("/api/me").await.expect_error(401, "unauthorized");
    admin.api.post("/api/auth/logout", json!({})).await.expect_error(401, "unauthorized");
    // Cookie: the cookie is cleared too.
    let c = app.client();
    c.post("/api/auth/login", json!({"email": admin.email, "password": PASSWORD})).await.expect(200);
    c.get("/api/me").await.expect(200);
    let r = c.post("/api/auth/logout", json!({})).await;
    r.expect(204);
    assert!(r.header("set-cookie").is_some_and(|v| v.contains("Max-Age=0")));
    c.get("/api/me").await.expect(401);
    // Signing one device out from another.
    let token = |r: Resp| r.json()["token"].as_str().unwrap().to_owned();
    let a_api = app.client().with_token(&token(login(&app.client(), &admin.email, PASSWORD).await));
    let b_api = app.client().with_token(&token(login(&app.client(), &admin.email, PASSWORD).await));
    let b_id = b_api.get("/api/me/sessions").await.json()[0]["id"].as_str().unwrap().to_owned();
    a_api.delete(&format!("/api/me/sessions/{b_id}")).await.expect(204);
    b_api.get("/api/me").await.expect_error(401, "unauthorized");
    a_api.get("/api/me").await.expect(200);
    a_api.delete(&format!("/api/me/sessions/{b_id}")).await.expect_error(404, "not_found");
    assert_eq!(audit(&TestUser { api: a_api.clone(), ..admin.clone() }, "auth.session_revoked").await.len(), 1);
    // Someone else's session is 404 and stays alive.
    let u_id = u.api.get("/api/me/sessions").await.json()[0]["id"].as_str().unwrap().to_owned();
    a_api.delete(&format!("/api/me/sessions/{u_id}")).await.expect_error(404, "not_found");
    u.api.get("/api/me").await.expect(200);
}
dual_test!(logout_revokes_at_once);

async fn password_change_revokes_other_sessions(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    let other =
        app.client().with_token(login(&app.client(), &u.email, PASSWORD).await.json()["token"].as_str().unwrap());
    other.get("/api/me").await.expect(200);
    let r = u
        .api
        .post("/api/me/password", json!({"current_password": "wrong password!", "new_password": NEW_PASSWORD}))
        .await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["current_password"].is_string());
    let r = u.api.post("/api/me/password", json!({"current_password": PASSWORD, "new_password": "12345678"})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["new_password"].is_string());
    other.get("/api/me").await.expect(200);
    u.api
        .post("/api/me/password", json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .await
        .expect(204);
    // The other session is gone at once; this one stays.
    other.get("/api/me").await.expect_error(401, "unauthorized");
    u.api.get("/api/me").await.expect(200);
    login(&app.client(), &u.email, PASSWORD).await.expect_error(401, "invalid_credentials");
    login(&app.client(), &u.email, NEW_PASSWORD).await.expect(200);
    assert_eq!(audit(&admin, "user.password_changed").await.len(), 1);
}
dual_test!(password_change_revokes_other_sessions);

async fn deactivation_revokes_at_once(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "fulfiller").await;
    let cookie = app.client();
    cookie.post("/api/auth/login", json!({"email": u.email, "password": PASSWORD})).await.expect(200);
    cookie.get("/api/me").await.expect(200);
    let r = admin.api.patch(&format!("/api/users/{}", u.id), json!({"active": false})).await;
    r.expect(200);
    assert_eq!(r.json()["active"], false);
    // The very next request of every session is 401, and sign-in is blocked.
    u.api.get("/api/me").await.expect_error(401, "unauthorized");
    cookie.get("/api/me").await.expect_error(401, "unauthorized");
    login(&app.client(), &u.email, PASSWORD).await.expect_error(401, "invalid_credentials");
    // History stays: the user is still listed and audited.
    let got = admin.api.get(&format!("/api/users/{}", u.id)).await;
    got.expect(200);
    assert_eq!(got.json()["active"], false);
    assert_eq!(audit(&admin, "user.deactivated").await[0]["target_id"], u.id.as_str());
    // Reactivation allows sign-in again, but old sessions stay revoked.
    admin.api.patch(&format!("/api/users/{}", u.id), json!({"active": true})).await.expect(200);
    u.api.get("/api/me").await.expect(401);
    cookie.get("/api/me").await.expect(401);
    login(&app.client(), &u.email, PASSWORD).await.expect(200);
    assert_eq!(audit(&admin, "user.activated").await.len(), 1);
}
dual_test!(deactivation_revokes_at_once);

/// Idle (12 h) and absolute (7 days) expiry, measured on the server clock.
async fn sessions_expire(app: &TestApp) {
    let admin = app.admin().await;
    let idle = login(&app.client(), &admin.email, PASSWORD).await.json()["token"].as_str().unwrap().to_owned();
    let busy = login(&app.client(), &admin.email, PASSWORD).await.json()["token"].as_str().unwrap().to_owned();
    let idle = app.client().with_token(&idle);
    let busy = app.client().with_token(&busy);
    app.clock.advance_secs(11 * 3600);
    busy.get("/api/me").await.expect(200);
    app.clock.advance_secs(3600 + 1);
    idle.get("/api/me").await.expect_error(401, "unauthorized");
    busy.get("/api/me").await.expect(200);
    // Used every 11 hours, the session still ends 7 days after sign-in.
    let mut elapsed = 12 * 3600 + 1;
    while elapsed + 11 * 3600 < 7 * 24 * 3600 {
        app.clock.advance_secs(11 * 3600);
        elapsed += 11 * 3600;
        busy.get("/api/me").await.expect(200);
    }
    app.clock.advance_secs(11 * 3600);
    busy.get("/api/me").await.expect_error(401, "unauthorized");
    // An expired session is not listed.
    let fresh = login(&app.client(), &admin.email, PASSWORD).await.json()["token"].as_str().unwrap().to_owned();
    let list = app.client().with_token(&fresh).get("/api/me/sessions").await.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}
dual_test!(sessions_expire);

/// Failed sign-ins are throttled per account (5 per 15 minutes by
/// default) with `Retry-After`, in the database.
async fn throttle_per_account(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    for _ in 0..5 {
        login(&app.client(), &u.email, "wrong password again").await.expect_error(401, "invalid_credentials");
    }
    // Now even the right password waits.
    let r = login(&app.client(), &u.email, PASSWORD).await;
    r.expect_error(429, "too_many_requests");
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // Other accounts from the same address are unaffected.
    login(&app.client(), &admin.email, PASSWORD).await.expect(200);
    // The budget lives in the database (shared by every node).
    let tenant = app.app.resolve_host("localhost").await.unwrap();
    let mut r = app.app.store().tenant(&tenant.id).read().await.unwrap();
    let w = r.rate_window("login_account", &u.email).await.unwrap().expect("stored window");
    assert_eq!(w.hits, 5);
    drop(r);
    // The window passes.
    app.clock.advance_secs(retry as i64 + 1);
    login(&app.client(), &u.email, PASSWORD).await.expect(200);
    // A success resets the account's count.
    for _ in 0..4 {
        login(&app.client(), &u.email, "wrong password again").await.expect(401);
    }
    login(&app.client(), &u.email, PASSWORD).await.expect(200);
    login(&app.client(), &u.email, "wrong password again").await.expect(401);
    login(&app.client(), &u.email, PASSWORD).await.expect(200);
    // Unknown accounts are throttled the same way (no enumeration by 429).
    for _ in 0..5 {
        login(&app.client(), "ghost@example.com", "wrong password again").await.expect(401);
    }
    login(&app.client(), "ghost@example.com", "wrong password again").await.expect_error(429, "too_many_requests");
}
dual_test!(throttle_per_account);

/// Per client address: the socket peer, or the right-most untrusted
/// `X-Forwarded-For` entry when the peer is a trusted proxy.
async fn throttle_per_address_behind_proxy(app: &TestApp) {
    let admin = app.admin().await;
    let from = |ip: &str| app.client().with_header("x-forwarded-for", &format!("{ip}, 127.0.0.1"));
    for i in 0..4 {
        let r = from("203.0.113.7")
            .post("/api/auth/login", json!({"email": format!("x{i}@example.com"), "password": "nope nope nope"}))
            .await;
        r.expect(401);
    }
    let r = from("203.0.113.7").post("/api/auth/login", json!({"email": admin.email, "password": PASSWORD})).await;
    r.expect_error(429, "too_many_requests");
    assert!(r.header("retry-after").is_some());
    // Another client behind the same proxy is not affected.
    from("198.51.100.9").post("/api/auth/login", json!({"email": admin.email, "password": PASSWORD})).await.expect(200);
    // The audit trail records the client, not the proxy.
    let failed = audit(&admin, "auth.login_failed").await;
    assert!(failed.iter().all(|e| e["ip"] == "203.0.113.7"), "{failed:?}");
    let ok = audit(&admin, "auth.login").await;
    assert_eq!(ok[0]["ip"], "198.51.100.9");
}
dual_test!(throttle_per_address_behind_proxy, |b| tier0_testkit::Spawn {
    trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
    ..tier0_testkit::Spawn::new(b).tweak(|c| {
        c.throttle.address_failures = 4;
        c.throttle.account_failures = 100;
    })
});

/// Without a trusted proxy, `X-Forwarded-For` is ignored: a client cannot
/// dodge the address limit by inventing addresses.
async fn forwarded_for_is_ignored_by_default(app: &TestApp) {
    let admin = app.admin().await;
    for i in 0..4 {
        let c = app.client().with_header("x-forwarded-for", &format!("10.0.0.{i}"));
        c.post("/api/auth/login", json!({"email": format!("y{i}@example.com"), "password": "nope nope nope"}))
            .await
            .expect(401);
    }
    let c = app.client().with_header("x-forwarded-for", "10.9.9.9");
    c.post("/api/auth/login", json!({"email": admin.email, "password": PASSWORD}))
        .await
        .expect_error(429, "too_many_requests");
    assert!(audit(&admin, "auth.login_failed").await.iter().all(|e| e["ip"] == "127.0.0.1"));
}
dual_test!(forwarded_for_is_ignored_by_default, |b| tier0_testkit::Spawn::new(b).tweak(|c| {
    c.throttle.address_failures = 4;
    c.throttle.account_failures = 100;
}));

/// Cookie-authenticated unsafe requests from another origin are refused;
/// bearer requests are not subject to CSRF.
async fn csrf(app: &TestApp) {
    let admin = app.admin().await;
    let c = app.client();
    c.post("/api/auth/login", json!({"email": admin.email, "password": PASSWORD})).await.expect(200);
    let host = c.host();
    let evil = c.with_header("origin", "https://evil.example");
    evil.patch("/api/me", json!({"name": "Pwned"})).await.expect_error(403, "csrf_rejected");
    evil.post("/api/auth/invite", json!({"email": unique_email("csrf")})).await.expect_error(403, "csrf_rejected");
    c.with_header("sec-fetch-site", "cross-site")
        .patch("/api/me", json!({"name": "Pwned"}))
        .await
        .expect_error(403, "csrf_rejected");
    // A sibling tenant is another site too.
    c.with_header("origin", &format!("http://beta.localhost:{}", app.addr.port()))
        .patch("/api/me", json!({"name": "Pwned"}))
        .await
        .expect_error(403, "csrf_rejected");
    // Sign-in from another site (login CSRF) is refused as well.
    app.client()
        .with_header("origin", "https://evil.example")
        .post("/api/auth/login", json!({"email": admin.email, "password": PASSWORD}))
        .await
        .expect_error(403, "csrf_rejected");
    // Pages' forms too.
    let r = evil.post_form("/portal/profile", &[("name", "Pwned"), ("username", "")]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(admin.api.get("/api/me").await.json()["name"], "Ada Admin");
    // Safe methods and same-origin writes pass.
    evil.get("/api/me").await.expect(200);
    c.with_header("origin", &format!("http://{host}"))
        .patch("/api/me", json!({"name": "Same Origin"}))
        .await
        .expect(200);
    c.with_header("sec-fetch-site", "same-origin").patch("/api/me", json!({"name": "Same Origin 2"})).await.expect(200);
    // Bearer tokens are not ambient credentials: no CSRF check.
    admin
        .api
        .with_header("origin", "https://evil.example")
        .patch("/api/me", json!({"name": "Bearer"}))
        .await
        .expect(200);
    admin
        .api
        .with_header("sec-fetch-site", "cross-site")
        .patch("/api/me", json!({"name": "Bearer 2"}))
        .await
        .expect(200);
}
dual_test!(csrf);

/// RFC 6238 two-step verification: setup, confirmation, sign-in with a
/// code, replay refused, recovery codes single-use, disable with password.
async fn two_step_verification(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    u.api.post("/api/me/totp/enable", json!({"code": "123456"})).await.expect_error(409, "totp_not_set_up");
    let setup = u.api.post("/api/me/totp/setup", json!({})).await;
    setup.expect(200);
    let secret = setup.json()["secret"].as_str().unwrap().to_owned();
    let uri = setup.json()["otpauth_uri"].as_str().unwrap().to_owned();
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains("algorithm=SHA1") && uri.contains("digits=6") && uri.contains("period=30"));
    assert!(tier0_app::auth::totp::base32_decode(&secret).unwrap().len() >= 20);
    // Not on until confirmed.
    login(&app.client(), &u.email, PASSWORD).await.expect(200);
    let r = u.api.post("/api/me/totp/enable", json!({"code": "000000"})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["code"].is_string());
    let first = totp_code(app, &secret, 0);
    let r = u.api.post("/api/me/totp/enable", json!({"code": first})).await;
    r.expect(200);
    let codes: Vec<String> =
        r.json()["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 11 && c.chars().nth(5) == Some('-')));
    assert_eq!(u.api.get("/api/me").await.json()["totp_enabled"], true);
    u.api.post("/api/me/totp/setup", json!({})).await.expect_error(409, "totp_enabled");
    // Sign-in now needs a code.
    let c = app.client();
    let body = |code: Option<&str>| json!({"email": u.email, "password": PASSWORD, "totp_code": code});
    c.post("/api/auth/login", body(None)).await.expect_error(401, "totp_required");
    c.post("/api/auth/login", body(Some(""))).await.expect_error(401, "totp_required");
    c.post("/api/auth/login", body(Some("abcdef"))).await.expect_error(401, "invalid_totp");
    // The wrong password still says only that.
    c.post("/api/auth/login", json!({"email": u.email, "password": "wrong one here", "totp_code": first}))
        .await
        .expect_error(401, "invalid_credentials");
    // The code that confirmed setup cannot be replayed.
    c.post("/api/auth/login", body(Some(&first))).await.expect_error(401, "invalid_totp");
    // The next step's code works once (±1 step of clock drift allowed).
    let next = totp_code(app, &secret, 1);
    c.post("/api/auth/login", body(Some(&next))).await.expect(200);
    c.post("/api/auth/login", body(Some(&next))).await.expect_error(401, "invalid_totp");
    // Codes from too far away never work.
    c.post("/api/auth/login", body(Some(&totp_code(app, &secret, 5)))).await.expect_error(401, "invalid_totp");
    // Recovery codes: any case and spacing, each once.
    let rc = codes[3].to_uppercase().replace('-', " ");
    c.post("/api/auth/login", body(Some(&rc))).await.expect(200);
    c.post("/api/auth/login", body(Some(&codes[3]))).await.expect_error(401, "invalid_totp");
    c.post("/api/auth/login", body(Some(&codes[4]))).await.expect(200);
    // A minute later, a fresh code works.
    app.clock.advance_secs(90);
    c.post("/api/auth/login", body(Some(&totp_code(app, &secret, 0)))).await.expect(200);
    // Disabling needs the password.
    let r = u.api.post("/api/me/totp/disable", json!({"password": "not my password"})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["password"].is_string());
    u.api.post("/api/me/totp/disable", json!({"password": PASSWORD})).await.expect(204);
    assert_eq!(u.api.get("/api/me").await.json()["totp_enabled"], false);
    login(&app.client(), &u.email, PASSWORD).await.expect(200);
    // Old recovery codes are gone with it.
    let again = u.api.post("/api/me/totp/setup", json!({})).await.json();
    let s2 = again["secret"].as_str().unwrap().to_owned();
    assert_ne!(s2, secret);
    u.api.post("/api/me/totp/enable", json!({"code": totp_code(app, &s2, 0)})).await.expect(200);
    c.post("/api/auth/login", body(Some(&codes[5]))).await.expect_error(401, "invalid_totp");
    for a in ["user.totp_enabled", "user.totp_disabled"] {
        assert!(!audit(&admin, a).await.is_empty(), "{a}");
    }
    let failed = audit(&admin, "auth.login_failed").await;
    assert!(failed.iter().any(|e| e["details"]["reason"] == "invalid_totp"));
}
dual_test!(two_step_verification);

/// Wrong second-factor codes count toward the sign-in throttle, and a
/// stolen session cannot guess the password to turn 2FA off.
async fn second_factor_is_throttled(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    let secret = u.api.post("/api/me/totp/setup", json!({})).await.json()["secret"].as_str().unwrap().to_owned();
    u.api.post("/api/me/totp/enable", json!({"code": totp_code(app, &secret, 0)})).await.expect(200);
    let c = app.client();
    for _ in 0..5 {
        c.post("/api/auth/login", json!({"email": u.email, "password": PASSWORD, "totp_code": "000000"}))
            .await
            .expect_error(401, "invalid_totp");
    }
    let r = c
        .post(
            "/api/auth/login",
            json!({"email": u.email, "password": PASSWORD, "totp_code": totp_code(app, &secret, 1)}),
        )
        .await;
    r.expect_error(429, "too_many_requests");
    app.clock.advance_secs(15 * 60 + 1);
    let other = admin.api.clone();
    for _ in 0..5 {
        other.post("/api/me/totp/disable", json!({"password": "guessing guessing"})).await.expect(422);
    }
    other.post("/api/me/totp/disable", json!({"password": PASSWORD})).await.expect_error(429, "too_many_requests");
    other
        .post("/api/me/password", json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .await
        .expect_error(429, "too_many_requests");
    assert_eq!(audit(&admin, "auth.password_check_failed").await.len(), 5);
}
dual_test!(second_factor_is_throttled);

/// Without SMTP, "forgot password" still answers 202 for everyone and
/// leaves a trace for administrators, but issues no link nobody can get.
async fn forgot_password_without_mail(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    let known = app.client().post("/api/auth/forgot-password", json!({"email": u.email})).await;
    let unknown = app.client().post("/api/auth/forgot-password", json!({"email": "nobody@example.com"})).await;
    known.expect(202);
    assert_eq!(known.text, unknown.text);
    let a = audit(&admin, "auth.reset_requested").await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["details"]["emailed"], false);
    assert_eq!(a[0]["target_id"], u.id.as_str());
    // Invalid input is still a 202, never a hint.
    app.client().post("/api/auth/forgot-password", json!({"email": ""})).await.expect(202);
    app.client().post("/api/auth/forgot-password", json!({"nope": 1})).await.expect_error(422, "validation_failed");
}
dual_test!(forgot_password_without_mail);
