//! The identity pages, driven as a browser without JavaScript would:
//! forms posted as `application/x-www-form-urlencoded`, a cookie jar,
//! redirects followed by hand.

use super::*;
use serde_json::json;
use tier0_testkit::dual_test;

/// Sign in through the sign-in form; the client keeps the cookie.
async fn browser(app: &TestApp, email: &str, password: &str) -> Client {
    let c = app.client();
    let r = c.post_form("/login", &[("email", email), ("password", password), ("next", "/portal")]).await;
    assert_eq!(location(&r), "/portal", "{}", r.text);
    c
}

/// The target of the page's `rel="next"` link.
fn next_link(html: &str) -> Option<String> {
    let end = html.find("\" rel=\"next\"")?;
    let start = html[..end].rfind("href=\"")? + 6;
    Some(html[start..end].replace("&amp;", "&"))
}

/// Text between `start` and the next `end`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = html.find(start)? + start.len();
    Some(&html[i..i + html[i..].find(end)?])
}

async fn sign_in_page_with_two_steps(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    let c = app.client();
    let page = c.get("/login?next=/portal/profile").await;
    page.expect(200);
    assert!(page.text.contains("action=\"/login\"") && page.text.contains("name=\"password\""));
    assert_eq!(input_value(&page.text, "next").as_deref(), Some("/portal/profile"));
    // Empty fields and wrong passwords are shown on the page.
    let r = c.post_form("/login", &[("email", ""), ("password", "")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("E-mail address is required"), "{}", r.text);
    let r = c.post_form("/login", &[("email", &u.email), ("password", "wrong wrong wrong")]).await;
    assert_eq!(r.status, 401);
    assert!(r.text.contains("not correct"));
    assert_eq!(input_value(&r.text, "email").as_deref(), Some(u.email.as_str()));
    // Turn 2FA on (API), then sign in through both steps.
    let secret = u.api.post("/api/me/totp/setup", json!({})).await.json()["secret"].as_str().unwrap().to_owned();
    u.api.post("/api/me/totp/enable", json!({"code": totp_code(app, &secret, 0)})).await.expect(200);
    let r = c.post_form("/login", &[("email", &u.email), ("password", PASSWORD), ("next", "/portal/profile")]).await;
    r.expect(200);
    assert!(r.header("set-cookie").is_none(), "no session before the second step");
    assert!(r.text.contains("action=\"/login/verify\""));
    let challenge = input_value(&r.text, "challenge").expect("challenge");
    assert_eq!(input_value(&r.text, "next").as_deref(), Some("/portal/profile"));
    let r = c
        .post_form("/login/verify", &[("challenge", &challenge), ("code", "000000"), ("next", "/portal/profile")])
        .await;
    assert_eq!(r.status, 401);
    assert!(r.text.contains("Code is not valid"), "{}", r.text);
    c.get("/api/me").await.expect(401);
    // A tampered challenge does not work.
    let forged = format!("{}x", challenge);
    let r = c.post_form("/login/verify", &[("challenge", &forged), ("code", &totp_code(app, &secret, 1))]).await;
    assert_eq!(r.status, 401);
    let code = totp_code(app, &secret, 1);
    let r =
        c.post_form("/login/verify", &[("challenge", &challenge), ("code", &code), ("next", "/portal/profile")]).await;
    assert_eq!(location(&r), "/portal/profile");
    assert!(r.header("set-cookie").is_some_and(|v| v.contains("HttpOnly")));
    c.get("/api/me").await.expect(200);
    // Replaying the same code through the form fails.
    let c2 = app.client();
    let r = c2.post_form("/login", &[("email", &u.email), ("password", PASSWORD)]).await;
    let ch2 = input_value(&r.text, "challenge").unwrap();
    let r = c2.post_form("/login/verify", &[("challenge", &ch2), ("code", &code)]).await;
    assert_eq!(r.status, 401);
    // The challenge expires after five minutes.
    app.clock.advance_secs(301);
    let r = c2.post_form("/login/verify", &[("challenge", &ch2), ("code", &totp_code(app, &secret, 0))]).await;
    assert_eq!(r.status, 401);
    assert!(r.text.contains("took too long"), "{}", r.text);
    // Signing out through the header form.
    let r = c.post_form("/logout", &[]).await;
    assert_eq!(location(&r), "/login");
    assert!(r.header("set-cookie").is_some_and(|v| v.contains("Max-Age=0")));
    c.get("/api/me").await.expect(401);
}
dual_test!(sign_in_page_with_two_steps);

/// `next=` only ever leads to a path on this site.
async fn next_cannot_redirect_off_site(app: &TestApp) {
    let admin = app.admin().await;
    for bad in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/\\/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/x\r\nLocation: //evil.example",
        "/a/../https://evil.example",
        " //evil.example",
    ] {
        let c = app.client();
        let r = c.post_form("/login", &[("email", &admin.email), ("password", PASSWORD), ("next", bad)]).await;
        assert_eq!(location(&r), "/", "{bad:?}");
        // Signed in, /login?next= redirects at once, just as safely.
        let q: String = url::form_urlencoded::byte_serialize(bad.as_bytes()).collect();
        assert_eq!(location(&c.get(&format!("/login?next={q}")).await), "/", "{bad:?}");
    }
    // A same-site path is kept.
    let c = app.client();
    let r = c
        .post_form("/login", &[("email", &admin.email), ("password", PASSWORD), ("next", "/settings/users?q=a")])
        .await;
    assert_eq!(location(&r), "/settings/users?q=a");
    // Signed-in pages send anonymous visitors to sign in, and back.
    for path in
        ["/portal/profile", "/settings", "/settings/users?q=x", "/settings/roles", "/settings/audit", "/settings/mail"]
    {
        let r = app.client().get(path).await;
        let expected = format!("/login?next={}", percent(path));
        assert_eq!(location(&r), expected, "{path}");
    }
    // `/` lands each role where it belongs.
    let r = app.client().get("/").await;
    assert_eq!(location(&r), "/login");
    assert_eq!(location(&c.get("/").await), "/itsm");
    let req = app.user(&admin, "requester").await;
    let rc = browser(app, &req.email, PASSWORD).await;
    assert_eq!(location(&rc.get("/").await), "/portal");
}
dual_test!(next_cannot_redirect_off_site);

fn percent(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

async fn signup_from_invite_page(app: &TestApp) {
    let admin = app.admin().await;
    let email = unique_email("page-signup");
    let r = admin.api.post("/api/auth/invite", json!({"email": email, "role": "fulfiller"})).await.json();
    let token = token_of(r["invite_url"].as_str().unwrap());
    let c = app.client();
    let page = c.get(&format!("/signup?token={token}")).await;
    page.expect(200);
    assert!(page.text.contains(&email) && page.text.contains("fulfiller"), "{}", page.text);
    assert!(!page.text.contains("name=\"email\""), "the invited address is fixed");
    // Field errors come back next to the field, with the name kept.
    let r = c.post_form("/signup", &[("token", &token), ("name", "Fran Fulfiller"), ("password", "password")]).await;
    assert_eq!(r.status, 422);
    assert!(
        r.text.contains("Choose a password must be at least 8 characters")
            || r.text.contains("Choose a password is too common"),
        "{}",
        r.text
    );
    assert!(r.text.contains("aria-invalid=\"true\""));
    assert_eq!(input_value(&r.text, "name").as_deref(), Some("Fran Fulfiller"));
    let r = c.post_form("/signup", &[("token", &token), ("name", ""), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Your name is required"));
    let r = c.post_form("/signup", &[("token", &token), ("name", "Fran Fulfiller"), ("password", PASSWORD)]).await;
    assert_eq!(location(&r), "/");
    assert_eq!(location(&c.get("/").await), "/itsm");
    let me = c.get("/api/me").await.json();
    assert_eq!(
        (me["email"].as_str(), me["role"].as_str(), me["name"].as_str()),
        (Some(email.as_str()), Some("fulfiller"), Some("Fran Fulfiller"))
    );
    // Used and bogus links show a clear page.
    for t in [token.as_str(), "bogus"] {
        let r = app.client().get(&format!("/signup?token={t}")).await;
        assert_eq!(r.status, 400);
        assert!(r.text.contains("This link cannot be used"));
        let r = app.client().post_form("/signup", &[("token", t), ("name", "X"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, 400);
    }
    // A new tenant's first-admin invite has no address: the page asks for it.
    let (_, url) = app.app.create_tenant("gamma", "Gamma").await.unwrap();
    let token = token_of(&url);
    let g = app.client_for("gamma");
    let page = g.get(&format!("/signup?token={token}")).await;
    page.expect(200);
    assert!(page.text.contains("name=\"email\"") && page.text.contains("admin"));
    let r = g
        .post_form(
            "/signup",
            &[("token", &token), ("email", "not-an-address"), ("name", "Gina"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("E-mail address is not a valid e-mail address"), "{}", r.text);
    let r = g
        .post_form(
            "/signup",
            &[("token", &token), ("email", "gina@gamma.example"), ("name", "Gina"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&r), "/");
    let me = g.get("/api/me").await.json();
    assert_eq!((me["role"].as_str(), me["tenant"]["slug"].as_str()), (Some("admin"), Some("gamma")));
}
dual_test!(signup_from_invite_page);

async fn profile_page(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    let c = browser(app, &u.email, PASSWORD).await;
    let p = c.get("/portal/profile").await;
    p.expect(200);
    for s in
        ["Your details", "Notifications", "Password", "Two-step verification", "This device", "aria-current=\"page\""]
    {
        assert!(p.text.contains(s), "profile lacks {s}");
    }
    // Details: errors next to the field, then success after a redirect.
    let r = c.post_form("/portal/profile", &[("name", "Rhea Requester"), ("username", "Not OK!")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Username must be 3–32"), "{}", r.text);
    assert_eq!(input_value(&r.text, "name").as_deref(), Some("Rhea Requester"));
    let r = c.post_form("/portal/profile", &[("name", "Rhea Requester"), ("username", "rhea")]).await;
    assert_eq!(location(&r), "/portal/profile?done=details");
    let p = c.get("/portal/profile?done=details").await;
    assert!(p.text.contains("Your details were saved.") && p.text.contains("Rhea Requester"));
    admin.api.patch("/api/me", json!({"username": "taken"})).await.expect(200);
    let r = c.post_form("/portal/profile", &[("name", "Rhea"), ("username", "taken")]).await;
    assert_eq!(r.status, 409);
    assert!(r.text.contains("Username is taken"), "{}", r.text);
    // Unknown `done` codes show nothing (no reflected text).
    let p = c.get("/portal/profile?done=%3Cscript%3E").await;
    assert!(!p.text.contains("<script>") && !p.text.contains("notice ok"));
    // Notification preferences: unticked boxes are off.
    let r = c.post_form("/portal/profile/notifications", &[("email_comments", "on")]).await;
    assert_eq!(location(&r), "/portal/profile?done=notifications");
    let prefs = u.api.get("/api/me").await.json()["notification_prefs"].clone();
    assert_eq!(prefs, json!({"email_status_changes": false, "email_comments": true, "email_approvals": false}));
    // Password: wrong current password, then a change that signs out other devices.
    let r = c
        .post_form(
            "/portal/profile/password",
            &[("current_password", "nope nope nope"), ("new_password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Current password is not correct"));
    let r = c
        .post_form("/portal/profile/password", &[("current_password", PASSWORD), ("new_password", NEW_PASSWORD)])
        .await;
    assert_eq!(location(&r), "/portal/profile?done=password");
    u.api.get("/api/me").await.expect(401);
    c.get("/api/me").await.expect(200);
    // Two-step verification: QR code and key, confirm, recovery codes once.
    let r = c.post_form("/portal/profile/totp/setup", &[]).await;
    r.expect(200);
    assert!(r.text.contains("<svg role=\"img\"") && r.text.contains("aria-label=\"QR code"));
    let secret: String = between(&r.text, "<code class=\"secret\">", "</code>").unwrap().replace(' ', "");
    assert!(secret.len() >= 32, "{secret}");
    let r = c.post_form("/portal/profile/totp/enable", &[("code", "123")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Code is not valid") && r.text.contains(&secret[..4]));
    let r = c.post_form("/portal/profile/totp/enable", &[("code", &totp_code(app, &secret, 0))]).await;
    r.expect(200);
    let codes: Vec<&str> = r.text.split("<li><code>").skip(1).filter_map(|s| s.split("</code>").next()).collect();
    assert_eq!(codes.len(), 10, "{}", r.text);
    let p = c.get("/portal/profile").await;
    assert!(p.text.contains("Turn off two-step verification") && !p.text.contains(codes[0]));
    let rc = app
        .client()
        .post("/api/auth/login", json!({"email": u.email, "password": NEW_PASSWORD, "totp_code": codes[0]}))
        .await;
    rc.expect(200);
    let r = c.post_form("/portal/profile/totp/disable", &[("password", "wrong one")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Password is not correct"));
    let r = c.post_form("/portal/profile/totp/disable", &[("password", NEW_PASSWORD)]).await;
    assert_eq!(location(&r), "/portal/profile?done=totp_off");
    assert_eq!(c.get("/api/me").await.json()["totp_enabled"], false);
    // Devices: sign another one out, then this one.
    let other = app.client().with_token(rc.json()["token"].as_str().unwrap());
    let p = c.get("/portal/profile").await;
    let forms: Vec<&str> =
        p.text.split("action=\"/portal/profile/sessions/").skip(1).filter_map(|s| s.split('/').next()).collect();
    assert_eq!(forms.len(), 2, "{}", p.text);
    let mine = c.get("/api/me/sessions").await.json();
    let newest = mine[0]["id"].as_str().unwrap().to_owned(); // the API sign-in above
    let r = c.post_form(&format!("/portal/profile/sessions/{newest}/revoke"), &[]).await;
    assert_eq!(location(&r), "/portal/profile?done=session");
    other.get("/api/me").await.expect(401);
    let own = forms.iter().find(|id| **id != newest).unwrap();
    let r = c.post_form(&format!("/portal/profile/sessions/{own}/revoke"), &[]).await;
    assert_eq!(location(&r), "/login");
    c.get("/api/me").await.expect(401);
    // Signed out: the forms send you to sign in.
    let r = c.post_form("/portal/profile/password", &[("current_password", "x"), ("new_password", "y")]).await;
    assert!(location(&r).starts_with("/login?next="));
}
dual_test!(profile_page);

async fn settings_pages_by_role(app: &TestApp) {
    let admin = app.admin().await;
    let req = app.user(&admin, "requester").await;
    let op = app.user(&admin, "operator").await;
    let a = browser(app, &admin.email, PASSWORD).await;
    let r = browser(app, &req.email, PASSWORD).await;
    let o = browser(app, &op.email, PASSWORD).await;
    let pages = ["/settings", "/settings/users", "/settings/roles", "/settings/audit", "/settings/mail"];
    for p in pages {
        a.get(p).await.expect(200);
        let rr = r.get(p).await;
        assert_eq!(rr.status, 404, "requester {p}");
        assert!(rr.text.contains("Page not found"));
    }
    for p in ["/settings", "/settings/users"] {
        o.get(p).await.expect(200);
    }
    for p in ["/settings/roles", "/settings/audit", "/settings/mail"] {
        assert_eq!(o.get(p).await.status, 404, "operator {p}");
    }
    let idx = a.get("/settings").await.text;
    for s in ["Users &amp; access", "Roles &amp; permissions", "Audit log", "Outgoing mail"] {
        assert!(idx.contains(s), "admin index lacks {s}");
    }
    let idx = o.get("/settings").await.text;
    assert!(idx.contains("/settings/users") && !idx.contains("/settings/roles") && !idx.contains("/settings/audit"));
    // Operators read the user list but cannot invite or change anyone.
    let users = o.get("/settings/users").await.text;
    assert!(users.contains(&admin.email) && !users.contains("Invite someone") && !users.contains("/active\""));
    // Writes are refused the same way.
    for (path, form) in [
        ("/settings/users/invite", vec![("email", "x@example.com")]),
        ("/settings/roles", vec![("name", "x")]),
        ("/settings/roles/whatever/permissions", vec![]),
    ] {
        assert_eq!(r.post_form(path, &form).await.status, 404, "{path}");
        assert_eq!(o.post_form(path, &form).await.status, 404, "{path}");
    }
    assert_eq!(o.post_form(&format!("/settings/users/{}/active", req.id), &[("active", "false")]).await.status, 404);
    req.api.get("/api/me").await.expect(200);
    // The header links to Settings only for those who have some.
    assert!(a.get("/portal/profile").await.text.contains("href=\"/settings\""));
    assert!(!r.get("/portal/profile").await.text.contains("href=\"/settings\""));
}
dual_test!(settings_pages_by_role);

async fn users_settings_page(app: &TestApp) {
    let admin = app.admin().await;
    let a = browser(app, &admin.email, PASSWORD).await;
    let page = a.get("/settings/users").await;
    page.expect(200);
    let select = between(&page.text, "name=\"role\"", "</select>").unwrap();
    for r in ["requester", "fulfiller", "operator", "admin"] {
        assert!(select.contains(&format!("value=\"{r}\"")), "{r}");
    }
    assert!(select.contains("value=\"requester\" selected"), "requester is the default: {select}");
    // Invite: without mail, the link is shown once.
    let email = unique_email("via-page");
    let r = a.post_form("/settings/users/invite", &[("email", &email), ("role", "fulfiller")]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let url = between(&r.text, "id=\"invite-url\" type=\"text\" readonly value=\"", "\"").expect("invite url shown");
    assert!(url.starts_with(&format!("http://localhost:{}/signup?token=", app.addr.port())), "{url}");
    assert!(r.text.contains("Pending invitations") && r.text.contains(&email));
    let r2 =
        app.client().post("/api/auth/signup-exchange", json!({"token": token_of(url), "password": PASSWORD})).await;
    r2.expect(201);
    assert_eq!(r2.json()["user"]["role"], "fulfiller");
    let fid = r2.json()["user"]["id"].as_str().unwrap().to_owned();
    let f_api = app.client().with_token(r2.json()["token"].as_str().unwrap());
    // Errors next to the field.
    let r = a.post_form("/settings/users/invite", &[("email", &email), ("role", "requester")]).await;
    assert_eq!(r.status, 409);
    assert!(r.text.contains("E-mail address already belongs to an account"), "{}", r.text);
    let r = a.post_form("/settings/users/invite", &[("email", "nope"), ("role", "requester")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("E-mail address is not a valid e-mail address"));
    assert_eq!(input_value(&r.text, "email").as_deref(), Some("nope"));
    // Withdraw a pending invitation.
    let pending = unique_email("pending");
    let r = a.post_form("/settings/users/invite", &[("email", &pending), ("role", "requester")]).await;
    let pending_url = between(&r.text, "id=\"invite-url\" type=\"text\" readonly value=\"", "\"").unwrap().to_owned();
    let list = a.get("/settings/users").await.text;
    let iid = between(&list, "action=\"/settings/users/invites/", "/revoke").unwrap().to_owned();
    let r = a.post_form(&format!("/settings/users/invites/{iid}/revoke"), &[]).await;
    assert_eq!(location(&r), "/settings/users?done=withdrawn");
    assert!(a.get("/settings/users?done=withdrawn").await.text.contains("The invitation was withdrawn"));
    app.client()
        .post("/api/auth/signup-exchange", json!({"token": token_of(&pending_url), "password": PASSWORD}))
        .await
        .expect_error(400, "invalid_token");
    // Change a role with the dropdown, returning to the filtered list.
    let back = format!("/settings/users?q={}", email.split('@').next().unwrap());
    let r = a.post_form(&format!("/settings/users/{fid}/role"), &[("role", "operator"), ("back", &back)]).await;
    assert_eq!(location(&r), format!("{back}&done=role"));
    assert_eq!(f_api.get("/api/me").await.json()["role"], "operator");
    let filtered = a.get(&back).await.text;
    assert!(filtered.contains(&email) && !filtered.contains(&admin.email));
    assert!(filtered.contains("value=\"operator\" selected"));
    // Deactivate and activate.
    let r = a
        .post_form(&format!("/settings/users/{fid}/active"), &[("active", "false"), ("back", "https://evil.example/")])
        .await;
    assert_eq!(location(&r), "/settings/users?done=deactivated");
    f_api.get("/api/me").await.expect(401);
    let inactive = a.get("/settings/users?active=false").await.text;
    assert!(inactive.contains(&email) && inactive.contains("Deactivated") && inactive.contains(">Activate<"));
    let r = a.post_form(&format!("/settings/users/{fid}/active"), &[("active", "true")]).await;
    assert_eq!(location(&r), "/settings/users?done=activated");
    login(&app.client(), &email, PASSWORD).await.expect(200);
    // The last admin: refused with the reason on the page.
    let r = a.post_form(&format!("/settings/users/{}/role", admin.id), &[("role", "requester")]).await;
    assert_eq!(r.status, 409);
    assert!(r.text.contains("last active administrator"), "{}", r.text);
    // Paging through more than a page of people.
    for i in 0..26 {
        tier0_testkit::fixtures::invite_user(&admin, "requester", &format!("bulk{i:02}@paging.example")).await;
    }
    let first = a.get("/settings/users?q=paging.example").await.text;
    assert_eq!(first.matches("@paging.example</td>").count(), 25);
    let next = next_link(&first).expect("next page link");
    assert!(next.starts_with("/settings/users?q=paging.example&cursor="), "{next}");
    assert!(first.contains("bulk00@paging.example") && !first.contains("bulk25@paging.example"));
    let second = a.get(&next).await.text;
    assert_eq!(second.matches("@paging.example</td>").count(), 1);
    assert!(second.contains("bulk25@paging.example"), "{second}");
    assert!(!second.contains("rel=\"next\""));
    assert!(second.contains("First page"));
    // A broken cursor falls back to the first page with a note.
    let r = a.get("/settings/users?cursor=%%%").await;
    r.expect(200);
    assert!(r.text.contains("does not exist"));
}
dual_test!(users_settings_page);

/// Someone who may manage people but not roles sees only what they may do.
async fn users_page_for_a_people_manager(app: &TestApp) {
    let admin = app.admin().await;
    custom_role(&admin, "people manager", super::api::PEOPLE_MANAGER).await;
    let pm = member(&admin, "people manager").await;
    let req = app.user(&admin, "requester").await;
    let c = browser(app, &pm.email, PASSWORD).await;
    let page = c.get("/settings/users").await.text;
    let select = between(&page, "id=\"f-role\" name=\"role\"", "</select>").unwrap();
    assert!(select.contains("requester") && select.contains("people manager"));
    assert!(!select.contains("fulfiller") && !select.contains("\"admin\""), "{select}");
    // No role dropdowns without rbac:manage; no actions on the admin.
    assert!(!page.contains("/role\""), "{page}");
    assert!(page.contains(&format!("/settings/users/{}/active", req.id)));
    assert!(!page.contains(&format!("/settings/users/{}/active", admin.id)));
    let r = c.post_form(&format!("/settings/users/{}/active", admin.id), &[("active", "false")]).await;
    assert_eq!(r.status, 403);
    let r = c.post_form("/settings/users/invite", &[("email", &unique_email("pm")), ("role", "admin")]).await;
    assert_eq!(r.status, 403);
    assert!(r.text.contains("permissions you do not hold"), "{}", r.text);
}
dual_test!(users_page_for_a_people_manager);

async fn roles_settings_page(app: &TestApp) {
    let admin = app.admin().await;
    let a = browser(app, &admin.email, PASSWORD).await;
    let page = a.get("/settings/roles").await;
    page.expect(200);
    let admin_role = role_id(&admin, "admin").await;
    // The admin column is read-only; others are forms.
    assert!(page.text.contains(&format!("form=\"perms-{admin_role}\" checked disabled")), "{}", page.text);
    assert!(!page.text.contains(&format!("action=\"/settings/roles/{admin_role}/permissions\"")));
    let fid = role_id(&admin, "fulfiller").await;
    assert!(page.text.contains(&format!("action=\"/settings/roles/{fid}/permissions\"")));
    assert!(page.text.contains("<label class=\"visually-hidden\""));
    // Create a custom role.
    let r = a.post_form("/settings/roles", &[("name", "x"), ("permissions", "itsm:read")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Name must be 2–40"), "{}", r.text);
    assert!(r.text.contains("value=\"itsm:read\" checked"), "ticks are kept");
    let r = a
        .post_form(
            "/settings/roles",
            &[
                ("name", "Desk Lead"),
                ("description", "Leads the desk"),
                ("permissions", "itsm:read"),
                ("permissions", "itsm:fulfill"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/settings/roles?done=created");
    let lead = role_id(&admin, "desk lead").await;
    let perms = admin.api.get(&format!("/api/rbac/role-permissions?role_id={lead}")).await.json();
    assert_eq!(perms["permissions"], json!(["itsm:fulfill", "itsm:read"]));
    let r = a.post_form("/settings/roles", &[("name", "desk lead")]).await;
    assert_eq!(r.status, 409);
    assert!(r.text.contains("Name is taken by another role"));
    // Edit its column.
    let r = a
        .post_form(
            &format!("/settings/roles/{lead}/permissions"),
            &[("permissions", "itsm:read"), ("permissions", "kb:write"), ("permissions", "audit:read")],
        )
        .await;
    assert_eq!(location(&r), "/settings/roles?done=saved");
    let perms = admin.api.get(&format!("/api/rbac/role-permissions?role_id={lead}")).await.json();
    assert_eq!(perms["permissions"], json!(["audit:read", "itsm:read", "kb:write"]));
    let page = a.get("/settings/roles?done=saved").await.text;
    assert!(page.contains("permissions were saved"));
    assert!(
        page.contains(&format!(
            "id=\"p-{lead}-kb_write\" name=\"permissions\" value=\"kb:write\" form=\"perms-{lead}\" checked"
        )),
        "{page}"
    );
    // The admin role cannot change; a built-in role cannot go.
    let r = a.post_form(&format!("/settings/roles/{admin_role}/permissions"), &[("permissions", "itsm:read")]).await;
    assert_eq!(r.status, 409);
    assert!(r.text.contains("cannot be changed"));
    let r = a.post_form(&format!("/settings/roles/{fid}/delete"), &[]).await;
    assert_eq!(r.status, 409);
    assert!(r.text.contains("built-in roles cannot be deleted"));
    // Delete the custom role.
    let r = a.post_form(&format!("/settings/roles/{lead}/delete"), &[]).await;
    assert_eq!(location(&r), "/settings/roles?done=deleted");
    assert!(!a.get("/settings/roles").await.text.contains("desk lead"));
    // "Can I?"
    let yes = a.get("/settings/roles?permission=audit:read").await.text;
    assert!(yes.contains("Yes: you hold"), "{yes}");
    custom_role(&admin, "role keeper", &["rbac:manage"]).await;
    let keeper = member(&admin, "role keeper").await;
    let k = browser(app, &keeper.email, PASSWORD).await;
    let no = k.get("/settings/roles?permission=audit:read").await.text;
    assert!(no.contains("No: you do not hold"), "{no}");
    let bad = k.get("/settings/roles?permission=nope").await.text;
    assert!(bad.contains("not a known permission"));
    // Granting beyond oneself is refused on the page too.
    let r = k.post_form(&format!("/settings/roles/{fid}/permissions"), &[("permissions", "audit:read")]).await;
    assert_eq!(r.status, 403);
}
dual_test!(roles_settings_page);

async fn audit_settings_page(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    for _ in 0..3 {
        login(&app.client(), &u.email, "wrong password again").await.expect(401);
    }
    admin.api.patch(&format!("/api/users/{}", u.id), json!({"active": false})).await.expect(200);
    let a = browser(app, &admin.email, PASSWORD).await;
    let page = a.get("/settings/audit").await;
    page.expect(200);
    let t = page.text.split("<tbody>").nth(1).expect("a table");
    // Newest first: the sign-in of this browser, then the deactivation.
    let signed_in = t.find("Signed in").unwrap();
    let deactivated = t.find("Deactivated a user").unwrap();
    let failed = t.find("Sign-in failed").unwrap();
    assert!(signed_in < deactivated && deactivated < failed, "order");
    assert!(t.contains("127.0.0.1") && t.contains(&u.email) && t.contains("reason: invalid_credentials"));
    // Filter by action.
    let f = a.get("/settings/audit?action=auth.login_failed").await.text;
    assert_eq!(f.matches("<code class=\"meta\">auth.login_failed</code>").count(), 3);
    assert!(!f.contains("<code class=\"meta\">user.deactivated</code>"));
    assert!(f.contains("value=\"auth.login_failed\" selected"));
    // Paging: 50 per page.
    for i in 0..50 {
        login(&app.client(), "nobody@example.com", "x").await.expect(401);
        if i % 5 == 4 {
            app.clock.advance_secs(60 * 16); // stay clear of the throttle
        }
    }
    let first = a.get("/settings/audit?action=auth.login_failed").await.text;
    assert_eq!(first.matches("<code class=\"meta\">auth.login_failed</code>").count(), 50);
    let next = next_link(&first).expect("older entries");
    let second = a.get(&next).await.text;
    assert_eq!(second.matches("<code class=\"meta\">auth.login_failed</code>").count(), 3);
    assert!(second.contains("Newest entries"));
}
dual_test!(audit_settings_page);
