//! The SPEC §4 table per role, invites, roles and permissions, users, the
//! audit log and tenant isolation.

use super::*;
use reqwest::Method;
use serde_json::{Value, json};
use tier0_testkit::dual_test;
use tier0_testkit::isolation::{Probe, assert_isolated};

/// A custom role: a requester who may also manage people.
pub const PEOPLE_MANAGER: &[&str] = &["itsm:read", "itsm:write", "users:read", "users:write"];

/// Who is asking, in table order.
const WHO: [&str; 6] = ["requester", "fulfiller", "operator", "admin", "people manager", "anonymous"];

struct Row {
    method: Method,
    path: String,
    /// Built per caller (so that e-mails and names are unique).
    body: fn(usize) -> Option<Value>,
    expect: [u16; 6],
}

fn none(_: usize) -> Option<Value> {
    None
}

fn code_for(status: u16) -> Option<&'static str> {
    match status {
        401 => Some("unauthorized"),
        403 => Some("forbidden"),
        404 => Some("not_found"),
        _ => None,
    }
}

/// Every SPEC §4 call that depends on who asks, for the four built-in
/// roles, a custom role (requester + users:read/write) and an anonymous
/// caller: exact status and error code.
async fn permission_table_per_role(app: &TestApp) {
    let admin = app.admin().await;
    custom_role(&admin, "people manager", PEOPLE_MANAGER).await;
    let scratch = custom_role(&admin, "scratch", &["itsm:read"]).await;
    let requester_role = role_id(&admin, "requester").await;
    let target = app.user(&admin, "requester").await;
    let callers: Vec<Client> = vec![
        app.user(&admin, "requester").await.api,
        app.user(&admin, "fulfiller").await.api,
        app.user(&admin, "operator").await.api,
        admin.api.clone(),
        member(&admin, "people manager").await.api,
        app.client(),
    ];
    let t = &target.id;
    let rows = vec![
        Row { method: Method::GET, path: "/api/me".into(), body: none, expect: [200, 200, 200, 200, 200, 401] },
        Row {
            method: Method::GET,
            path: "/api/me/sessions".into(),
            body: none,
            expect: [200, 200, 200, 200, 200, 401],
        },
        Row { method: Method::GET, path: "/api/users".into(), body: none, expect: [403, 403, 200, 200, 200, 401] },
        Row {
            method: Method::GET,
            path: "/api/users?active=true&q=example".into(),
            body: none,
            expect: [403, 403, 200, 200, 200, 401],
        },
        Row {
            method: Method::GET,
            path: format!("/api/users/{t}"),
            body: none,
            expect: [404, 404, 200, 200, 200, 401],
        },
        Row {
            method: Method::PATCH,
            path: format!("/api/users/{t}"),
            body: |i| Some(json!({"name": format!("Renamed {i}")})),
            expect: [403, 403, 403, 200, 200, 401],
        },
        Row {
            method: Method::PATCH,
            path: format!("/api/users/{t}"),
            body: |_| Some(json!({"role": "fulfiller"})),
            expect: [403, 403, 403, 200, 403, 401],
        },
        Row {
            method: Method::POST,
            path: "/api/auth/invite".into(),
            body: |i| Some(json!({"email": unique_email(&format!("table{i}-"))})),
            expect: [403, 403, 403, 201, 201, 401],
        },
        Row {
            method: Method::GET,
            path: "/api/auth/invites".into(),
            body: none,
            expect: [403, 403, 200, 200, 200, 401],
        },
        Row {
            method: Method::DELETE,
            path: "/api/auth/invites/01HZZZZZZZZZZZZZZZZZZZZZZZ".into(),
            body: none,
            expect: [403, 403, 403, 404, 404, 401],
        },
        Row { method: Method::GET, path: "/api/roles".into(), body: none, expect: [403, 403, 403, 200, 403, 401] },
        Row {
            method: Method::POST,
            path: "/api/roles".into(),
            body: |i| Some(json!({"name": format!("table role {i}"), "permissions": ["itsm:read"]})),
            expect: [403, 403, 403, 201, 403, 401],
        },
        Row {
            method: Method::GET,
            path: format!("/api/rbac/role-permissions?role_id={requester_role}"),
            body: none,
            expect: [403, 403, 403, 200, 403, 401],
        },
        Row {
            method: Method::PUT,
            path: "/api/rbac/role-permissions".into(),
            body: none, // filled below: needs the scratch role id
            expect: [403, 403, 403, 200, 403, 401],
        },
        Row {
            method: Method::DELETE,
            path: "/api/roles/01HZZZZZZZZZZZZZZZZZZZZZZZ".into(),
            body: none,
            expect: [403, 403, 403, 404, 403, 401],
        },
        Row {
            method: Method::GET,
            path: "/api/rbac/can-i?permission=itsm:fulfill".into(),
            body: none,
            expect: [200, 200, 200, 200, 200, 401],
        },
        Row { method: Method::GET, path: "/api/audit".into(), body: none, expect: [403, 403, 403, 200, 403, 401] },
    ];
    for row in &rows {
        for (i, c) in callers.iter().enumerate() {
            let mut rb = c.request(row.method.clone(), &row.path);
            let body = if row.path == "/api/rbac/role-permissions" && row.method == Method::PUT {
                Some(json!({"role_id": scratch, "permissions": ["itsm:read", "itsm:write"]}))
            } else {
                (row.body)(i)
            };
            if let Some(b) = body {
                rb = rb.json(&b);
            }
            let r = c.send(rb).await;
            assert_eq!(r.status, row.expect[i], "{} {} as {}: {}", row.method, row.path, WHO[i], r.text);
            if let Some(code) = code_for(row.expect[i]) {
                assert_eq!(r.code(), code, "{} {} as {}: {}", row.method, row.path, WHO[i], r.text);
            }
        }
    }
    // can-i answers for the caller's own role.
    for (i, expected) in [false, true, true, true, false].iter().enumerate() {
        let r = callers[i].get("/api/rbac/can-i?permission=itsm:fulfill").await;
        assert_eq!(r.json()["allowed"], *expected, "{}: {}", WHO[i], r.text);
        assert_eq!(r.json()["permission"], "itsm:fulfill");
    }
    admin.api.get("/api/rbac/can-i?permission=bogus").await.expect_error(422, "validation_failed");
    // Everyone may read their own record; /api/me shows role, permissions and navigation.
    for (i, c) in callers.iter().take(5).enumerate() {
        let me = c.get("/api/me").await.json();
        let id = me["id"].as_str().unwrap().to_owned();
        c.get(&format!("/api/users/{id}")).await.expect(200);
        assert_eq!(me["role"], WHO[i]);
        assert_eq!(me["tenant"]["slug"], "default");
        let landing = me["nav"]["landing"].as_str().unwrap();
        assert_eq!(landing, if matches!(i, 0 | 4) { "/portal" } else { "/itsm" }, "{}", WHO[i]);
        assert!(me["nav"]["items"].as_array().is_some_and(|a| !a.is_empty()));
    }
    let me = callers[3].get("/api/me").await.json();
    assert!(me["permissions"].as_array().unwrap().iter().any(|p| p == "*"));
    let me = callers[0].get("/api/me").await.json();
    assert_eq!(me["permissions"], json!(["itsm:read", "itsm:write"]));
}
dual_test!(permission_table_per_role);

/// `TIER0_SHARED_ANONYMOUS_ACCESS`: anonymous GETs act as a read-only
/// guest; writes and anything beyond `itsm:read` still need sign-in.
async fn guest_is_read_only(app: &TestApp) {
    let admin = app.admin().await;
    let guest = app.client();
    let me = guest.get("/api/me").await;
    me.expect(200);
    assert_eq!(me.json()["role"], "guest");
    assert_eq!(me.json()["permissions"], json!(["itsm:read"]));
    assert_eq!(guest.get("/api/rbac/can-i?permission=itsm:read").await.json()["allowed"], true);
    assert_eq!(guest.get("/api/rbac/can-i?permission=itsm:write").await.json()["allowed"], false);
    guest.get("/api/users").await.expect_error(401, "unauthorized");
    guest.get("/api/audit").await.expect_error(401, "unauthorized");
    guest.get("/api/roles").await.expect_error(401, "unauthorized");
    guest.get("/api/me/sessions").await.expect_error(401, "unauthorized");
    guest.get(&format!("/api/users/{}", admin.id)).await.expect_error(404, "not_found");
    // No write, whatever the body.
    guest.post("/api/auth/invite", json!({"email": "x@example.com"})).await.expect_error(401, "unauthorized");
    guest.patch("/api/me", json!({"name": "Guest"})).await.expect_error(401, "unauthorized");
    guest.post("/api/auth/logout", json!({})).await.expect_error(401, "unauthorized");
    guest.post("/api/me/totp/setup", json!({})).await.expect_error(401, "unauthorized");
    guest.post("/api/roles", json!({"name": "x", "permissions": []})).await.expect_error(401, "unauthorized");
    // Signing in still works and replaces the guest.
    let r = login(&guest, &admin.email, &admin.password).await;
    r.expect(200);
    // Pages: the guest is sent to sign in for anything personal.
    assert!(location(&guest.get("/portal/profile").await).starts_with("/login?next="));
    assert!(location(&guest.get("/settings").await).starts_with("/login?next="));
}
dual_test!(guest_is_read_only, |b| tier0_testkit::Spawn::new(b).anonymous_read());

/// Without the switch, anonymous GETs are 401.
async fn no_guest_by_default(app: &TestApp) {
    app.client().get("/api/me").await.expect_error(401, "unauthorized");
    app.client().get("/api/rbac/can-i?permission=itsm:read").await.expect_error(401, "unauthorized");
}
dual_test!(no_guest_by_default);

async fn invites(app: &TestApp) {
    let admin = app.admin().await;
    // Role defaults to requester.
    let email = unique_email("inv");
    let r = admin.api.post("/api/auth/invite", json!({"email": email})).await;
    r.expect(201);
    let body = r.json();
    assert_eq!(body["emailed"], false);
    assert!(body["id"].is_string() && body["expires_at"].is_string());
    let url = body["invite_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("http://localhost:{}/signup?token=", app.addr.port())), "{url}");
    // The expiry is 72 hours out.
    let exp = body["expires_at"].as_str().unwrap();
    let exp_ms = tier0_domain::Timestamp::parse_rfc3339(exp).unwrap().millis();
    let delta = exp_ms - app.app.now().millis();
    assert!((72 * 3600 * 1000 - 60_000..=72 * 3600 * 1000).contains(&delta), "{delta}");
    // Listed as pending.
    let list = admin.api.get("/api/auth/invites").await;
    list.expect(200);
    assert!(
        list.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["email"] == email.as_str() && i["role"] == "requester")
    );
    let anon = app.client();
    let token = token_of(&url);
    // A weak password is refused next to the field; the invite survives.
    let r = anon.post("/api/auth/signup-exchange", json!({"token": token, "password": "password1"})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["password"].is_string());
    let r = anon.post("/api/auth/signup-exchange", json!({"token": token, "password": PASSWORD, "name": "Ivy"})).await;
    r.expect(201);
    assert_eq!(r.json()["user"]["role"], "requester");
    assert_eq!(r.json()["user"]["email"], email.as_str());
    assert!(r.header("set-cookie").is_some_and(|c| c.starts_with("tier0_session=")));
    // Single use.
    anon.fresh()
        .post("/api/auth/signup-exchange", json!({"token": token, "password": PASSWORD}))
        .await
        .expect_error(400, "invalid_token");
    // Forged and tampered tokens.
    let mut bad = token.clone();
    bad.push('x');
    anon.post("/api/auth/signup-exchange", json!({"token": bad, "password": PASSWORD}))
        .await
        .expect_error(400, "invalid_token");
    anon.post("/api/auth/signup-exchange", json!({"token": "a.b.c", "password": PASSWORD}))
        .await
        .expect_error(400, "invalid_token");
    // Existing accounts cannot be invited again; unknown roles are 422.
    admin.api.post("/api/auth/invite", json!({"email": email})).await.expect_error(409, "user_exists");
    let r = admin.api.post("/api/auth/invite", json!({"email": unique_email("x"), "role": "emperor"})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["role"].is_string());
    let r = admin.api.post("/api/auth/invite", json!({"email": "not an address"})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["email"].is_string());

    // An explicit role, by name.
    let f = app.user(&admin, "fulfiller").await;
    assert_eq!(f.api.get("/api/me").await.json()["role"], "fulfiller");

    // Sending again replaces the older link.
    let again = unique_email("again");
    let first = admin.api.post("/api/auth/invite", json!({"email": again, "role": "operator"})).await.json();
    let second = admin.api.post("/api/auth/invite", json!({"email": again, "role": "operator"})).await.json();
    let t1 = token_of(first["invite_url"].as_str().unwrap());
    let t2 = token_of(second["invite_url"].as_str().unwrap());
    anon.fresh()
        .post("/api/auth/signup-exchange", json!({"token": t1, "password": PASSWORD}))
        .await
        .expect_error(400, "invalid_token");
    let r = anon.fresh().post("/api/auth/signup-exchange", json!({"token": t2, "password": PASSWORD})).await;
    r.expect(201);
    assert_eq!(r.json()["user"]["role"], "operator");

    // Withdrawn invites stop working; withdrawing twice is 404.
    let w = admin.api.post("/api/auth/invite", json!({"email": unique_email("w")})).await.json();
    let wid = w["id"].as_str().unwrap();
    admin.api.delete(&format!("/api/auth/invites/{wid}")).await.expect(204);
    admin.api.delete(&format!("/api/auth/invites/{wid}")).await.expect_error(404, "not_found");
    let wt = token_of(w["invite_url"].as_str().unwrap());
    anon.fresh()
        .post("/api/auth/signup-exchange", json!({"token": wt, "password": PASSWORD}))
        .await
        .expect_error(400, "invalid_token");
    assert!(!admin.api.get("/api/auth/invites").await.text.contains(wid));
    assert_eq!(audit(&admin, "user.invite_revoked").await.len(), 1);

    // 72 hours: valid just before, invalid after.
    let late = admin.api.post("/api/auth/invite", json!({"email": unique_email("late")})).await.json();
    let late2 = admin.api.post("/api/auth/invite", json!({"email": unique_email("late2")})).await.json();
    app.clock.advance_secs(72 * 3600 - 60);
    let r = anon
        .fresh()
        .post(
            "/api/auth/signup-exchange",
            json!({"token": token_of(late["invite_url"].as_str().unwrap()), "password": PASSWORD}),
        )
        .await;
    r.expect(201);
    app.clock.advance_secs(61);
    let r = anon
        .fresh()
        .post(
            "/api/auth/signup-exchange",
            json!({"token": token_of(late2["invite_url"].as_str().unwrap()), "password": PASSWORD}),
        )
        .await;
    r.expect_error(400, "invalid_token");
}
dual_test!(invites);

/// An inviter cannot grant a role with permissions they lack, and cannot
/// manage users who hold more than they do.
async fn no_privilege_escalation(app: &TestApp) {
    let admin = app.admin().await;
    custom_role(&admin, "people manager", PEOPLE_MANAGER).await;
    let pm = member(&admin, "people manager").await;
    // Requester is within a people manager's permissions; fulfiller and admin are not.
    pm.api.post("/api/auth/invite", json!({"email": unique_email("ok")})).await.expect(201);
    pm.api.post("/api/auth/invite", json!({"email": unique_email("ok"), "role": "requester"})).await.expect(201);
    for role in ["fulfiller", "operator", "admin", "people manager"] {
        let r = pm.api.post("/api/auth/invite", json!({"email": unique_email("no"), "role": role})).await;
        if role == "people manager" {
            r.expect(201); // exactly their own permissions
        } else {
            r.expect_error(403, "forbidden");
        }
    }
    // Role changes need rbac:manage.
    let req = app.user(&admin, "requester").await;
    pm.api.patch(&format!("/api/users/{}", req.id), json!({"role": "requester"})).await.expect_error(403, "forbidden");
    // They may deactivate a requester, but not an admin or a fulfiller.
    pm.api.patch(&format!("/api/users/{}", req.id), json!({"active": false})).await.expect(200);
    pm.api.patch(&format!("/api/users/{}", admin.id), json!({"active": false})).await.expect_error(403, "forbidden");
    let f = app.user(&admin, "fulfiller").await;
    pm.api.patch(&format!("/api/users/{}", f.id), json!({"name": "Hijacked"})).await.expect_error(403, "forbidden");
    admin.api.get("/api/me").await.expect(200);
    // An rbac:manage holder without "*" cannot create or widen roles beyond themselves.
    custom_role(&admin, "role editor", &["rbac:manage", "users:read", "users:write", "itsm:read", "itsm:write"]).await;
    let editor = member(&admin, "role editor").await;
    editor.api.post("/api/roles", json!({"name": "narrow", "permissions": ["itsm:read"]})).await.expect(201);
    editor
        .api
        .post("/api/roles", json!({"name": "wide", "permissions": ["itsm:fulfill"]}))
        .await
        .expect_error(403, "forbidden");
    editor.api.post("/api/roles", json!({"name": "all", "permissions": ["*"]})).await.expect_error(403, "forbidden");
    let fid = role_id(&admin, "fulfiller").await;
    editor
        .api
        .put("/api/rbac/role-permissions", json!({"role_id": fid, "permissions": ["audit:read"]}))
        .await
        .expect_error(403, "forbidden");
    // ... nor give anyone a role above themselves.
    editor
        .api
        .patch(&format!("/api/users/{}", req.id), json!({"role": "fulfiller"}))
        .await
        .expect_error(403, "forbidden");
    editor.api.patch(&format!("/api/users/{}", req.id), json!({"role": "narrow"})).await.expect(200);
}
dual_test!(no_privilege_escalation);

async fn roles_and_permissions(app: &TestApp) {
    let admin = app.admin().await;
    let roles = admin.api.get("/api/roles").await.json();
    let names: Vec<&str> = roles.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["requester", "fulfiller", "operator", "admin"]);
    assert!(roles.as_array().unwrap().iter().all(|r| r["builtin"] == true));
    let admin_role = role_id(&admin, "admin").await;
    let operator = role_id(&admin, "operator").await;
    // Built-in permissions (SPEC §2).
    let perms = |v: &Value| -> Vec<String> {
        let mut p: Vec<String> =
            v["permissions"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_owned()).collect();
        p.sort();
        p
    };
    let op = admin.api.get(&format!("/api/rbac/role-permissions?role_id={operator}")).await;
    op.expect(200);
    assert_eq!(
        perms(&op.json()),
        [
            "analytics:read",
            "changes:approve",
            "changes:read",
            "changes:write",
            "incidents:read",
            "incidents:write",
            "itsm:fulfill",
            "itsm:read",
            "itsm:write",
            "kb:publish",
            "kb:write",
            "problems:read",
            "problems:write",
            "status:manage",
            "users:read"
        ]
    );
    // Admin is immutable.
    admin
        .api
        .put("/api/rbac/role-permissions", json!({"role_id": admin_role, "permissions": ["itsm:read"]}))
        .await
        .expect_error(409, "role_immutable");
    admin.api.get("/api/rbac/role-permissions?role_id=nope").await.expect_error(404, "not_found");
    admin
        .api
        .put("/api/rbac/role-permissions", json!({"role_id": "nope", "permissions": []}))
        .await
        .expect_error(404, "not_found");
    let r =
        admin.api.put("/api/rbac/role-permissions", json!({"role_id": operator, "permissions": ["bogus:thing"]})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["permissions"].is_string());

    // Custom roles.
    let r = admin.api.post("/api/roles", json!({"name": "HR Agent", "description": "People team", "permissions": ["itsm:read", "itsm:write", "users:read"]})).await;
    r.expect(201);
    assert_eq!(r.json()["name"], "hr agent");
    assert_eq!(r.json()["builtin"], false);
    let hr = r.json()["id"].as_str().unwrap().to_owned();
    admin.api.post("/api/roles", json!({"name": "hr agent", "permissions": []})).await.expect_error(409, "role_exists");
    admin.api.post("/api/roles", json!({"name": "admin", "permissions": []})).await.expect_error(409, "role_exists");
    let r = admin.api.post("/api/roles", json!({"name": "x", "permissions": ["nope"]})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["name"].is_string() && r.json()["error"]["fields"]["permissions"].is_string());
    // A member's permissions follow their role immediately.
    let hr_member = member(&admin, "hr agent").await;
    assert_eq!(hr_member.api.get("/api/rbac/can-i?permission=users:read").await.json()["allowed"], true);
    hr_member.api.get("/api/users").await.expect(200);
    let r = admin.api.put("/api/rbac/role-permissions", json!({"role_id": hr, "permissions": ["itsm:read"]})).await;
    r.expect(200);
    assert_eq!(r.json()["permissions"], json!(["itsm:read"]));
    assert_eq!(hr_member.api.get("/api/rbac/can-i?permission=users:read").await.json()["allowed"], false);
    hr_member.api.get("/api/users").await.expect_error(403, "forbidden");
    // Built-in (non-admin) roles are editable.
    let req = role_id(&admin, "requester").await;
    admin
        .api
        .put(
            "/api/rbac/role-permissions",
            json!({"role_id": req, "permissions": ["itsm:read", "itsm:write", "kb:write"]}),
        )
        .await
        .expect(200);
    // Deleting: built-in 409, in use 409, unused 204 and gone.
    admin.api.delete(&format!("/api/roles/{operator}")).await.expect_error(409, "role_builtin");
    admin.api.delete(&format!("/api/roles/{hr}")).await.expect_error(409, "role_in_use");
    admin.api.patch(&format!("/api/users/{}", hr_member.id), json!({"role": "requester"})).await.expect(200);
    // A pending invite into the role is withdrawn with it.
    let inv = admin.api.post("/api/auth/invite", json!({"email": unique_email("hr"), "role": "hr agent"})).await.json();
    admin.api.delete(&format!("/api/roles/{hr}")).await.expect(204);
    admin.api.delete(&format!("/api/roles/{hr}")).await.expect_error(404, "not_found");
    app.client()
        .post(
            "/api/auth/signup-exchange",
            json!({"token": token_of(inv["invite_url"].as_str().unwrap()), "password": PASSWORD}),
        )
        .await
        .expect_error(400, "invalid_token");
    assert!(!admin.api.get("/api/roles").await.text.contains("hr agent"));

    // A custom all-powerful role may lose "*" only while another active admin remains.
    custom_role(&admin, "superuser", &["*"]).await;
    let su = role_id(&admin, "superuser").await;
    let only = member(&admin, "superuser").await;
    admin.api.put("/api/rbac/role-permissions", json!({"role_id": su, "permissions": ["itsm:read"]})).await.expect(200);
    assert_eq!(only.api.get("/api/rbac/can-i?permission=audit:read").await.json()["allowed"], false);
    // Audit entries for every change.
    for action in ["role.created", "role.permissions_changed", "role.deleted", "user.role_changed"] {
        assert!(!audit(&admin, action).await.is_empty(), "{action}");
    }
    let changed = &audit(&admin, "role.permissions_changed").await[0];
    assert_eq!(changed["details"]["role"], "superuser");
    assert_eq!(changed["actor"], admin.email.as_str());
}
dual_test!(roles_and_permissions);

/// The last active administrator can be neither deactivated nor demoted.
async fn last_admin_is_protected(app: &TestApp) {
    let admin = app.admin().await;
    let me = format!("/api/users/{}", admin.id);
    admin.api.patch(&me, json!({"active": false})).await.expect_error(409, "last_admin");
    admin.api.patch(&me, json!({"role": "operator"})).await.expect_error(409, "last_admin");
    admin.api.patch(&me, json!({"role": "admin"})).await.expect(200); // no change
    let second = second_admin(&admin).await;
    // A deactivated admin does not count.
    admin.api.patch(&format!("/api/users/{}", second.id), json!({"active": false})).await.expect(200);
    admin.api.patch(&me, json!({"role": "fulfiller"})).await.expect_error(409, "last_admin");
    admin.api.patch(&format!("/api/users/{}", second.id), json!({"active": true})).await.expect(200);
    // Now one of two may go.
    let second = super::login(&app.client(), &second.email, PASSWORD).await;
    let second_api = app.client().with_token(second.json()["token"].as_str().unwrap());
    second_api.patch(&me, json!({"role": "fulfiller"})).await.expect(200);
    assert_eq!(admin.api.get("/api/me").await.json()["role"], "fulfiller");
    let second_id = second.json()["user"]["id"].as_str().unwrap().to_owned();
    second_api
        .patch(&format!("/api/users/{second_id}"), json!({"active": false}))
        .await
        .expect_error(409, "last_admin");
}
dual_test!(last_admin_is_protected);

/// Two admins deactivating (or demoting) each other at once: exactly one
/// succeeds and an active administrator always remains.
async fn last_admin_race(app: &TestApp) {
    let mut survivor = app.admin().await;
    for patch in [json!({"active": false}), json!({"role": "requester"}), json!({"active": false})] {
        let other = second_admin(&survivor).await;
        let (to_other, to_survivor) = (format!("/api/users/{}", other.id), format!("/api/users/{}", survivor.id));
        let (ra, rb) =
            tokio::join!(survivor.api.patch(&to_other, patch.clone()), other.api.patch(&to_survivor, patch.clone()));
        assert_eq!([ra.status, rb.status].iter().filter(|s| **s == 200).count(), 1, "{} / {}", ra.text, rb.text);
        // The loser was refused as the last admin, or had already lost the right to ask.
        let loser = if ra.status == 200 { &rb } else { &ra };
        assert!(matches!(loser.status, 401 | 403 | 409), "{}", loser.text);
        survivor = if ra.status == 200 { survivor } else { other };
        let admins = survivor.api.get("/api/users?active=true").await.json();
        let n = admins["items"].as_array().unwrap().iter().filter(|u| u["role"] == "admin").count();
        assert_eq!(n, 1, "{admins}");
    }
}
dual_test!(last_admin_race);

async fn users_list_search_and_paging(app: &TestApp) {
    let admin = app.admin().await;
    let mut ids = vec![admin.id.clone()];
    for i in 0..5 {
        let u = tier0_testkit::fixtures::invite_user(&admin, "requester", &format!("pager{i}@corp.example")).await;
        ids.push(u.id);
    }
    let r = admin.api.get("/api/users?limit=2").await;
    r.expect(200);
    let mut seen: Vec<String> = Vec::new();
    let mut page = r.json();
    loop {
        for u in page["items"].as_array().unwrap() {
            seen.push(u["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => page = admin.api.get(&format!("/api/users?limit=2&cursor={c}")).await.json(),
            None => break,
        }
    }
    assert_eq!(seen, ids, "stable order, no gaps or repeats");
    let r = admin.api.get("/api/users?q=CORP.EXAMPLE").await.json();
    assert_eq!(r["items"].as_array().unwrap().len(), 5);
    let r = admin.api.get("/api/users?q=pager3").await.json();
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    // LIKE wildcards are literal.
    assert_eq!(admin.api.get("/api/users?q=%25").await.json()["items"].as_array().unwrap().len(), 0);
    admin.api.patch(&format!("/api/users/{}", ids[2]), json!({"active": false})).await.expect(200);
    let inactive = admin.api.get("/api/users?active=false").await.json();
    assert_eq!(inactive["items"].as_array().unwrap().len(), 1);
    assert_eq!(inactive["items"][0]["id"], ids[2].as_str());
    assert_eq!(admin.api.get("/api/users?active=true").await.json()["items"].as_array().unwrap().len(), 5);
    admin.api.get("/api/users?active=maybe").await.expect_error(422, "validation_failed");
    admin.api.get("/api/users/NOPE").await.expect_error(404, "not_found");
    admin.api.patch("/api/users/NOPE", json!({"name": "x"})).await.expect_error(404, "not_found");
    let r = admin.api.patch(&format!("/api/users/{}", ids[1]), json!({"name": "   "})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["name"].is_string());
    let r = admin.api.patch(&format!("/api/users/{}", ids[1]), json!({"name": "Paula Pager"})).await;
    r.expect(200);
    assert_eq!(r.json()["name"], "Paula Pager");
    assert_eq!(audit(&admin, "user.updated").await[0]["details"]["to"], "Paula Pager");
}
dual_test!(users_list_search_and_paging);

async fn profile_api(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    let r = u
        .api
        .patch("/api/me", json!({"name": "Rita Requester", "username": "rita.r", "notification_prefs": {"email_status_changes": false, "email_comments": true, "email_approvals": false}}))
        .await;
    r.expect(200);
    let body = r.json();
    assert_eq!(body["name"], "Rita Requester");
    assert_eq!(body["username"], "rita.r");
    assert_eq!(body["notification_prefs"]["email_status_changes"], false);
    let me = u.api.get("/api/me").await.json();
    assert_eq!(me["username"], "rita.r");
    assert_eq!(me["notification_prefs"]["email_comments"], true);
    // Usernames are unique and shaped; clearing works.
    admin.api.patch("/api/me", json!({"username": "rita.r"})).await.expect_error(409, "username_taken");
    let r = admin.api.patch("/api/me", json!({"username": "No Spaces!"})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["username"].is_string());
    u.api.patch("/api/me", json!({"username": ""})).await.expect(200);
    assert!(u.api.get("/api/me").await.json()["username"].is_null());
    admin.api.patch("/api/me", json!({"username": "rita.r"})).await.expect(200);
    let r = u.api.patch("/api/me", json!({"name": ""})).await;
    r.expect_error(422, "validation_failed");
    let r = u.api.patch("/api/me", json!({"name": "x".repeat(101)})).await;
    r.expect_error(422, "validation_failed");
}
dual_test!(profile_api);

async fn audit_log(app: &TestApp) {
    let admin = app.admin().await;
    let u = app.user(&admin, "requester").await;
    login(&app.client(), &u.email, "wrong password here").await.expect(401);
    login(&app.client(), "nobody@example.com", "wrong password here").await.expect(401);
    login(&app.client(), &u.email, PASSWORD).await.expect(200);
    admin.api.patch(&format!("/api/users/{}", u.id), json!({"role": "fulfiller"})).await.expect(200);
    admin.api.patch(&format!("/api/users/{}", u.id), json!({"active": false})).await.expect(200);
    admin.api.patch(&format!("/api/users/{}", u.id), json!({"active": true})).await.expect(200);
    let all = admin.api.get("/api/audit?limit=200").await.json();
    let items = all["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    // Newest first.
    assert_eq!(
        &actions[..5],
        ["user.activated", "user.deactivated", "user.role_changed", "auth.login", "auth.login_failed"]
    );
    let ids: Vec<&str> = items.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted);
    for a in ["auth.register_first_admin", "user.invited", "auth.signup"] {
        assert!(actions.contains(&a), "{a}");
    }
    let failed = audit(&admin, "auth.login_failed").await;
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["actor"], "nobody@example.com");
    assert!(failed[0]["actor_id"].is_null());
    assert_eq!(failed[1]["actor_id"], u.id.as_str());
    assert_eq!(failed[1]["ip"], "127.0.0.1");
    assert_eq!(failed[1]["details"]["reason"], "invalid_credentials");
    let role = &audit(&admin, "user.role_changed").await[0];
    assert_eq!(role["details"]["from"], "requester");
    assert_eq!(role["details"]["to"], "fulfiller");
    assert_eq!(role["target_id"], u.id.as_str());
    assert_eq!(role["actor"], admin.email.as_str());
    let ok = &audit(&admin, "auth.login").await[0];
    assert_eq!(ok["actor_id"], u.id.as_str());
    assert!(ok["at"].as_str().unwrap().ends_with('Z'));
    // Paging with a cursor covers everything exactly once.
    let mut seen = Vec::new();
    let mut page = admin.api.get("/api/audit?limit=3").await.json();
    loop {
        seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => page = admin.api.get(&format!("/api/audit?limit=3&cursor={c}")).await.json(),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    admin.api.get("/api/audit?limit=0").await.expect_error(422, "validation_failed");
    admin.api.get("/api/audit?cursor=***").await.expect_error(422, "validation_failed");
}
dual_test!(audit_log);

/// Users, sessions, invites, roles and audit entries of another tenant are
/// invisible.
async fn identity_is_tenant_isolated(app: &TestApp) {
    let a = app.admin().await;
    let b = app.tenant("beta").await;
    let b_user = app.user(&b, "requester").await;
    custom_role(&b, "beta only role", &["itsm:read"]).await;
    let b_role = role_id(&b, "beta only role").await;
    let b_invite = b.api.post("/api/auth/invite", json!({"email": unique_email("beta-inv")})).await.json();
    let b_invite_id = b_invite["id"].as_str().unwrap().to_owned();
    let b_sessions = b_user.api.get("/api/me/sessions").await.json();
    let b_session = b_sessions[0]["id"].as_str().unwrap().to_owned();
    login(&app.client_for("beta"), &b_user.email, "wrong password here").await.expect(401);
    let a_user = app.user(&a, "requester").await;
    for client in [&a.api, &a_user.api] {
        let foreign = [
            b.id.clone(),
            b_user.id.clone(),
            b.email.clone(),
            b_user.email.clone(),
            b_role.clone(),
            b_invite_id.clone(),
            b_session.clone(),
        ];
        let mut probes = vec![Probe::List("/api/me/sessions".into()), Probe::List("/api/me".into())];
        if client.token() == a.api.token() {
            probes.extend([
                Probe::List("/api/users".into()),
                Probe::List(format!("/api/users?q={}", b_user.email)),
                Probe::List("/api/audit?limit=200".into()),
                Probe::List("/api/audit?action=auth.login_failed".into()),
                Probe::List("/api/roles".into()),
                Probe::List("/api/auth/invites".into()),
                Probe::Get(format!("/api/users/{}", b_user.id)),
                Probe::Get(format!("/api/rbac/role-permissions?role_id={b_role}")),
            ]);
        }
        assert_isolated(client, &foreign, &probes).await;
    }
    // Nor can any of it be changed from tenant A.
    a.api.patch(&format!("/api/users/{}", b_user.id), json!({"active": false})).await.expect_error(404, "not_found");
    a.api.delete(&format!("/api/roles/{b_role}")).await.expect_error(404, "not_found");
    a.api.delete(&format!("/api/auth/invites/{b_invite_id}")).await.expect_error(404, "not_found");
    a.api.delete(&format!("/api/me/sessions/{b_session}")).await.expect_error(404, "not_found");
    a.api
        .put("/api/rbac/role-permissions", json!({"role_id": b_role, "permissions": []}))
        .await
        .expect_error(404, "not_found");
    b_user.api.get("/api/me").await.expect(200);
    b.api.get(&format!("/api/users/{}", b_user.id)).await.expect(200);
    // A's credentials do not sign in on B, nor B's invite link on A.
    login(&app.client_for("beta"), &a.email, PASSWORD).await.expect_error(401, "invalid_credentials");
    app.client()
        .post(
            "/api/auth/signup-exchange",
            json!({"token": token_of(b_invite["invite_url"].as_str().unwrap()), "password": PASSWORD}),
        )
        .await
        .expect_error(400, "invalid_token");
}
dual_test!(identity_is_tenant_isolated);

/// Every identity endpoint is in the OpenAPI document.
async fn openapi_lists_identity(app: &TestApp) {
    let doc = app.client().get("/api/openapi.json").await.json();
    for (path, method) in [
        ("/api/auth/register", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth/logout", "post"),
        ("/api/auth/invite", "post"),
        ("/api/auth/invites", "get"),
        ("/api/auth/invites/{id}", "delete"),
        ("/api/auth/signup-exchange", "post"),
        ("/api/auth/forgot-password", "post"),
        ("/api/auth/reset-password", "post"),
        ("/api/me", "get"),
        ("/api/me", "patch"),
        ("/api/me/password", "post"),
        ("/api/me/sessions", "get"),
        ("/api/me/sessions/{id}", "delete"),
        ("/api/me/totp/setup", "post"),
        ("/api/me/totp/enable", "post"),
        ("/api/me/totp/disable", "post"),
        ("/api/users", "get"),
        ("/api/users/{id}", "get"),
        ("/api/users/{id}", "patch"),
        ("/api/roles", "get"),
        ("/api/roles", "post"),
        ("/api/roles/{id}", "delete"),
        ("/api/rbac/role-permissions", "get"),
        ("/api/rbac/role-permissions", "put"),
        ("/api/rbac/can-i", "get"),
        ("/api/audit", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "openapi lacks {method} {path}");
    }
    // The errors every body or query can produce are documented too (SPEC §3).
    let login = &doc["paths"]["/api/auth/login"]["post"]["responses"];
    for code in ["400", "403", "413", "415", "422", "429"] {
        assert!(login[code].is_object(), "login lacks {code}");
    }
    assert!(doc["paths"]["/api/users"]["get"]["responses"]["422"].is_object());
    assert!(doc["paths"]["/api/me"]["get"]["responses"]["403"].is_null(), "safe methods need no CSRF answer");
    let limit = doc["paths"]["/api/audit"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .cloned()
        .unwrap();
    assert_eq!((limit["schema"]["minimum"].as_i64(), limit["schema"]["maximum"].as_i64()), (Some(1), Some(200)));
}
dual_test!(openapi_lists_identity);
