//! Foundation: system endpoints, SPEC §3 errors, tenancy, durability.

use serde_json::json;
use tier0_testkit::isolation::{Probe, assert_isolated};
use tier0_testkit::{TestApp, dual_test};

async fn system_endpoints(app: &TestApp) {
    let c = app.client();
    c.get("/healthz").await.expect(200);
    let r = c.get("/readyz").await;
    r.expect(200);
    assert_eq!(r.json()["database"], "ok");
    // Tenant-less: even an unknown host gets them.
    let other = app.client_for("nosuchtenant");
    other.get("/healthz").await.expect(200);

    let doc = c.get("/api/openapi.json").await;
    doc.expect(200);
    let doc = doc.json();
    assert_eq!(doc["openapi"].as_str().map(|s| s.starts_with("3.")), Some(true));
    for path in ["/api/auth/login", "/api/me", "/api/users/{id}", "/api/rbac/can-i", "/api/audit"] {
        assert!(doc["paths"][path].is_object(), "openapi lacks {path}");
    }

    c.get("/api/me").await.expect(401);
    let m = c.get("/metrics").await;
    m.expect(200);
    assert!(
        m.text.contains("tier0_http_requests_total{method=\"GET\",route=\"/api/me\",status=\"401\"}"),
        "{}",
        m.text
    );
    assert!(m.text.contains("tier0_http_request_duration_seconds_bucket"));
    assert!(m.text.contains("tier0_db_pool_connections{state=\"max\"}"));
}
dual_test!(system_endpoints);

async fn errors_follow_spec(app: &TestApp) {
    let c = app.client();
    // Unknown API route: JSON 404.
    c.get("/api/definitely/not/here").await.expect_error(404, "not_found");
    // Wrong method.
    let r = c.send(c.request(reqwest::Method::DELETE, "/api/me")).await;
    r.expect_error(405, "method_not_allowed");
    // ... and for a page address (a form's action opened directly), a page.
    let r = c.get("/portal/notifications/read-all").await;
    assert_eq!(r.status, 405);
    assert!(r.text.contains("only takes a form being sent"), "{}", r.text);
    assert!(r.header("content-type").unwrap_or_default().starts_with("text/html"));
    // Wrong content type.
    let r = c.send(c.request(reqwest::Method::POST, "/api/auth/login").body("email=a")).await;
    r.expect_error(415, "unsupported_media_type");
    // Malformed JSON.
    let r = c
        .send(
            c.request(reqwest::Method::POST, "/api/auth/login")
                .header("content-type", "application/json")
                .body("{nope"),
        )
        .await;
    r.expect_error(400, "malformed_json");
    // Deeply nested JSON is a clean client error, never a crash.
    for deep in [
        format!(r#"{{"email":"a@b.co","password":"x","extra":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000)),
        format!(r#"{{"email":{}{},"password":"x"}}"#, "[".repeat(10_000), "]".repeat(10_000)),
    ] {
        let r = c
            .send(
                c.request(reqwest::Method::POST, "/api/auth/login")
                    .header("content-type", "application/json")
                    .body(deep),
            )
            .await;
        assert!((400..500).contains(&r.status), "{}", r.text);
    }
    c.get("/healthz").await.expect(200);
    // A body of the wrong shape is a validation error on the body.
    let r = c.post("/api/auth/login", json!([1, 2])).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["body"].is_string(), "{}", r.text);
    // Wrong field types: 422 naming the field.
    let r = c.post("/api/auth/login", json!({"email": 5, "password": "x"})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["email"].is_string(), "{}", r.text);
    // Over 1 MiB.
    let big = json!({"email": "a@b.co", "password": "x".repeat(1024 * 1024 + 10)});
    c.post("/api/auth/login", big).await.expect_error(413, "payload_too_large");
    // Request ids: generated, echoed, and accepted when sane.
    let r = c.get("/healthz").await;
    assert!(r.header("x-request-id").is_some_and(|v| !v.is_empty()));
    let r = c.with_header("x-request-id", "abc-123").get("/healthz").await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("abc-123"));
    let r = c.with_header("x-request-id", "bad id with spaces").get("/healthz").await;
    assert_ne!(r.header("x-request-id").as_deref(), Some("bad id with spaces"));
    // Bad query parameters: 422.
    let admin = app.admin().await;
    admin.api.get("/api/users?limit=abc").await.expect_error(422, "validation_failed");
    admin.api.get("/api/users?limit=100000").await.expect_error(422, "validation_failed");
    admin.api.get("/api/users?cursor=%00%00").await.expect_error(422, "validation_failed");
}
dual_test!(errors_follow_spec);

/// Found by the API fuzzer: serde reads a struct from a JSON array of its
/// fields in order, so `[null, null]` was a valid "change nothing" PATCH and
/// `[]` a valid PUT, and nested structs too (`notification_prefs: [false,
/// false, false]`). Every API body is a JSON object and every struct in it
/// an object; anything else is 422.
async fn bodies_must_be_json_objects(app: &TestApp) {
    let admin = app.admin().await;
    let user = app.user(&admin, "requester").await;
    for body in [json!([null, null]), json!([]), json!(["Mallory"]), json!("x"), json!(7), json!(null)] {
        let r = user.api.patch("/api/me", body.clone()).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.json()["error"]["fields"]["body"], "must be a JSON object", "{body}: {}", r.text);
        let r = admin.api.patch(&format!("/api/users/{}", user.id), body.clone()).await;
        r.expect_error(422, "validation_failed");
        let r = admin.api.put("/api/settings/portal", body.clone()).await;
        r.expect_error(422, "validation_failed");
    }
    // At any depth: a struct is read from an object only.
    let r = user.api.patch("/api/me", json!({"notification_prefs": [false, false, false]})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["notification_prefs"].is_string(), "{}", r.text);
    let r = admin
        .api
        .post("/api/itsm/workflows", json!({"name": "w", "stages": [[{"users": [admin.id], "roles": []}, "any"]]}))
        .await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["stages[0]"].is_string(), "{}", r.text);
    let u = admin.api.get(&format!("/api/users/{}", user.id)).await.json();
    assert_eq!(u["notification_prefs"]["email_comments"], true, "{u}");
    // Whitespace before the object is still an object; malformed JSON is
    // still 400 and a wrong content type still 415.
    let c = &user.api;
    let r = c
        .send(c.request(reqwest::Method::PATCH, "/api/me").header("content-type", "application/json").body(" \n{}"))
        .await;
    r.expect(200);
    let r = c
        .send(c.request(reqwest::Method::PATCH, "/api/me").header("content-type", "application/json").body("[nope"))
        .await;
    r.expect_error(400, "malformed_json");
    let r = c
        .send(
            c.request(reqwest::Method::PATCH, "/api/me")
                .header("content-type", "application/merge-patch+json")
                .body(r#"{"name": "Renamed"}"#),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["name"], "Renamed");
    let r = c.send(c.request(reqwest::Method::PATCH, "/api/me").header("content-type", "text/plain").body("{}")).await;
    r.expect_error(415, "unsupported_media_type");
    // Nothing was changed by the refused bodies.
    let u = admin.api.get(&format!("/api/users/{}", user.id)).await.json();
    assert_eq!((u["active"].as_bool(), u["role"].as_str()), (Some(true), Some("requester")), "{u}");
}
dual_test!(bodies_must_be_json_objects);

/// Every `/api` route is in the document, including the document itself,
/// and every page size is documented with its bounds.
async fn openapi_is_complete(app: &TestApp) {
    let doc = app.client().get("/api/openapi.json").await;
    doc.expect(200);
    let doc = doc.json();
    assert!(doc["paths"]["/api/openapi.json"]["get"].is_object());
    let mut limits = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let codes = op["responses"].as_object().expect("responses");
            assert!(codes.keys().any(|c| c.starts_with('2')), "{method} {path} documents no success");
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "query" && p["name"] == "limit" {
                    limits += 1;
                    let s = &p["schema"];
                    assert!(s["minimum"].is_number() && s["maximum"].is_number(), "{method} {path}: limit {s}");
                }
            }
        }
    }
    assert!(limits > 10, "{limits}");
}
dual_test!(openapi_is_complete);

/// Found by the API fuzzer on PostgreSQL, whose text type cannot hold NUL:
/// a `%00` in an id, a filter, a body reference or a login e-mail was a
/// 500 there (and fine on SQLite). Each is an ordinary client answer on
/// both databases now.
async fn nul_characters_are_client_errors(app: &TestApp) {
    let admin = app.admin().await;
    let user = app.user(&admin, "requester").await;
    // Ids in paths: absent.
    for path in [
        "/api/users/%00",
        "/api/itsm/requests/%00",
        "/api/itsm/requests/%00/comments",
        "/api/itsm/requests/%00/attachments/%00",
        "/api/itsm/catalog/%00",
        "/api/itsm/catalog/categories/%00",
        "/api/itsm/incidents/%00",
        "/api/itsm/workflows/%00",
        "/api/itsm/status/services/%00",
        "/api/itsm/status/maintenance/%00",
        "/api/itsm/status/notes/%00",
        "/api/itsm/announcements/%00",
        "/portal/requests/%00",
        "/portal/catalog/%00",
        "/itsm/requests/%00",
    ] {
        let r = admin.api.get(path).await;
        assert_eq!(r.status, 404, "GET {path}: {}", r.text);
    }
    for (method, path) in [
        (reqwest::Method::DELETE, "/api/itsm/catalog/%00"),
        (reqwest::Method::DELETE, "/api/me/sessions/%00"),
        (reqwest::Method::DELETE, "/api/auth/invites/%00"),
        (reqwest::Method::DELETE, "/api/roles/%00"),
        (reqwest::Method::POST, "/api/notifications/%00/read"),
        (reqwest::Method::POST, "/api/announcements/%00/dismiss"),
    ] {
        let r = admin.api.send(admin.api.request(method.clone(), path)).await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.text);
    }
    admin.api.patch("/api/users/%00", json!({})).await.expect_error(404, "not_found");
    admin.api.patch("/api/itsm/catalog/%00", json!({})).await.expect_error(404, "not_found");
    user.api.post("/api/itsm/requests/%00/comments", json!({"body": "x"})).await.expect_error(404, "not_found");
    admin.api.post("/api/itsm/approvals/%00", json!({"decision": "approve"})).await.expect_error(404, "not_found");
    // Filters: they match nothing (or are not valid).
    for path in [
        "/api/users?q=a%00b",
        "/api/audit?action=a%00b",
        "/api/itsm/catalog?q=a%00b&category_id=%00",
        "/api/itsm/requests?q=a%00b&assignee=%00",
        "/api/itsm/incidents?q=a%00b",
        "/api/itsm/status/notes?service_id=%00",
        "/itsm/requests?q=a%00",
        "/itsm/incidents?q=%00",
        "/settings/users?q=a%00",
    ] {
        let r = admin.api.get(path).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
    }
    let r = admin.api.get("/api/rbac/role-permissions?role_id=%00").await;
    r.expect_error(404, "not_found");
    // References in bodies: unknown, so invalid.
    let nul = "a\u{0}b";
    for (path, body) in [
        ("/api/itsm/requests", json!({"title": "t", "requester": nul})),
        ("/api/itsm/catalog", json!({"name": "x", "category_id": nul})),
        ("/api/itsm/catalog", json!({"name": "x", "workflow_definition_id": nul})),
        ("/api/itsm/catalog", json!({"name": "x", "visible_to_roles": [nul]})),
        ("/api/itsm/status/notes", json!({"service_id": nul, "body": "b"})),
        ("/api/itsm/workflows", json!({"name": "w", "stages": [{"approvers": {"users": [nul], "roles": [nul]}}]})),
        ("/api/auth/invite", json!({"email": "nul@example.com", "role": nul})),
        ("/api/itsm/incidents", json!({"title": "t", "source_request_id": nul})),
    ] {
        let r = admin.api.post(path, body.clone()).await;
        assert!(matches!(r.status, 404 | 422), "POST {path} {body}: {} {}", r.status, r.text);
    }
    let r = admin.api.put("/api/rbac/role-permissions", json!({"role_id": nul, "permissions": []})).await;
    r.expect_error(404, "not_found");
    // Signing in with one is just a wrong e-mail address, and counts as one.
    let r = app.client().post("/api/auth/login", json!({"email": nul, "password": "x"})).await;
    r.expect_error(401, "invalid_credentials");
    app.client().get("/readyz").await.expect(200);
}
dual_test!(nul_characters_are_client_errors);

async fn unknown_tenants_get_404(app: &TestApp) {
    let c = app.client_for("ghost");
    c.get("/api/me").await.expect_error(404, "unknown_tenant");
    c.post("/api/auth/login", json!({"email": "a@b.co", "password": "x"})).await.expect_error(404, "unknown_tenant");
    let page = c.get("/login").await;
    assert_eq!(page.status, 404);
    assert!(page.text.contains("No organisation here"));
    for host in ["evil.com", "cp.localhost", "www.localhost", "a.b.localhost"] {
        let r = app.client().with_header("host", host).get("/api/me").await;
        assert_eq!((r.status, r.code().as_str()), (404, "unknown_tenant"), "{host}");
    }
}
dual_test!(unknown_tenants_get_404);

async fn default_tenant_exists_and_registration_closes(app: &TestApp) {
    let c = app.client();
    let admin = app.admin().await;
    let me = admin.api.get("/api/me").await;
    me.expect(200);
    assert_eq!(me.json()["tenant"]["slug"], "default");
    assert_eq!(me.json()["role"], "admin");
    c.post(
        "/api/auth/register",
        json!({"email": "second@example.com", "password": "another fine passphrase 9", "name": "X"}),
    )
    .await
    .expect_error(403, "registration_closed");
}
dual_test!(default_tenant_exists_and_registration_closes);

async fn tenant_invite_is_single_use(app: &TestApp) {
    let (_, url) = app.app.create_tenant("acme", "Acme").await.expect("create");
    assert!(url.starts_with(&format!("http://acme.localhost:{}/signup?token=", app.addr.port())), "{url}");
    let token = url.split("token=").nth(1).unwrap();
    let c = app.client_for("acme");
    let body = json!({"token": token, "password": "correct horse battery staple 42", "name": "Acme Admin", "email": "boss@acme.test"});
    let r = c.post("/api/auth/signup-exchange", body.clone()).await;
    r.expect(201);
    assert_eq!(r.json()["user"]["role"], "admin");
    let r2 = c
        .fresh()
        .post(
            "/api/auth/signup-exchange",
            json!({"token": token, "password": "correct horse battery staple 42", "email": "x@acme.test"}),
        )
        .await;
    r2.expect_error(400, "invalid_token");
    // The token is bound to its tenant.
    let r3 = app.client().post("/api/auth/signup-exchange", body).await;
    r3.expect_error(400, "invalid_token");
    // Duplicate slugs and bad slugs are refused.
    assert!(app.app.create_tenant("acme", "Again").await.is_err());
    for bad in ["cp", "www", "api", "Bad", "-x", "x_y"] {
        assert!(app.app.create_tenant(bad, "Bad").await.is_err(), "{bad}");
    }
}
dual_test!(tenant_invite_is_single_use);

async fn sessions_do_not_cross_tenants(app: &TestApp) {
    let a = app.admin().await;
    let b = app.tenant("beta").await;
    // B's token on A's host (and vice versa) is not a session.
    app.client().with_token(&b.token).get("/api/me").await.expect(401);
    app.client_for("beta").with_token(&a.token).get("/api/me").await.expect(401);
    // A never sees B's users or audit entries.
    let b_user = app.user(&b, "requester").await;
    assert_isolated(
        &a.api,
        &[b.id.clone(), b_user.id.clone(), b.email.clone(), b_user.email.clone()],
        &[
            Probe::List("/api/users".into()),
            Probe::List("/api/users?q=beta".into()),
            Probe::List("/api/audit".into()),
            Probe::List("/api/roles".into()),
            Probe::Get(format!("/api/users/{}", b.id)),
            Probe::Get(format!("/api/users/{}", b_user.id)),
        ],
    )
    .await;
}
dual_test!(sessions_do_not_cross_tenants);

/// 16 concurrent writers never see "database is locked" (or any error).
async fn concurrent_writers_succeed(app: &TestApp) {
    let admin = app.admin().await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let api = admin.api.clone();
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for j in 0..5 {
                let email = format!("w{i}-{j}@example.com");
                let r = api.post("/api/auth/invite", json!({"email": email})).await;
                statuses.push((r.status, r.text));
            }
            statuses
        }));
    }
    let mut ok = 0;
    for t in tasks {
        for (status, text) in t.await.unwrap() {
            assert_eq!(status, 201, "{text}");
            ok += 1;
        }
    }
    assert_eq!(ok, 80);
    let audit = admin.api.get("/api/audit?action=user.invited&limit=200").await;
    assert_eq!(audit.json()["items"].as_array().map(Vec::len), Some(80));
}
dual_test!(concurrent_writers_succeed);
