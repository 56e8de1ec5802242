//! Portal: status page, announcements, portal settings, branding and
//! section toggles — API and pages, per role, across tenants.

use crate::itsm_support::browser;
use serde_json::{Value, json};
use tier0_testkit::isolation::{Probe, assert_isolated};
use tier0_testkit::{Client, TestApp, dual_test};

fn rfc(app: &TestApp, offset_secs: i64) -> String {
    app.app.now().plus_secs(offset_secs).to_rfc3339()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// The smallest thing `infer` takes for a PNG / JPEG.
fn png(len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    v.resize(len.max(v.len()), 0);
    v
}

fn jpeg() -> Vec<u8> {
    let mut v = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0".to_vec();
    v.resize(64, 0);
    v
}

async fn upload(c: &Client, path: &str, field: &str, bytes: Vec<u8>, file_name: &str) -> tier0_testkit::Resp {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned());
    let form = reqwest::multipart::Form::new().part(field.to_owned(), part);
    c.send(c.request(reqwest::Method::POST, path).multipart(form)).await
}

async fn status_api_by_role(app: &TestApp) {
    let admin = app.admin().await;
    let op = app.user(&admin, "operator").await;
    let req = app.user(&admin, "requester").await;
    let anon = app.client();

    // Only status:manage writes.
    let r = op.api.post("/api/itsm/status/services", json!({"name": "E-mail", "state": "degraded"})).await;
    r.expect(201);
    let email = r.json();
    assert_eq!(email["state"], "degraded");
    req.api.post("/api/itsm/status/services", json!({"name": "VPN"})).await.expect_error(403, "forbidden");
    anon.post("/api/itsm/status/services", json!({"name": "VPN"})).await.expect(401);
    req.api.get("/api/itsm/status/services").await.expect(403);
    anon.get("/api/status").await.expect(401);

    // Validation and conflicts.
    let r = op.api.post("/api/itsm/status/services", json!({"name": "  ", "state": "on_fire", "position": -3})).await;
    r.expect_error(422, "validation_failed");
    let f = &r.json()["error"]["fields"];
    assert!(f["name"].is_string() && f["state"].is_string() && f["position"].is_string(), "{}", r.text);
    op.api.post("/api/itsm/status/services", json!({"name": "E-mail"})).await.expect_error(409, "service_exists");
    op.api.post("/api/itsm/status/services", json!({"name": 5})).await.expect_error(422, "validation_failed");
    let vpn = op.api.post("/api/itsm/status/services", json!({"name": "VPN", "description": "Remote access"})).await;
    vpn.expect(201);
    let vpn = vpn.json();
    assert_eq!(vpn["state"], "operational");
    assert!(vpn["position"].as_i64() > email["position"].as_i64());

    // Everyone with itsm:read reads the overview.
    let o = req.api.get("/api/status").await;
    o.expect(200);
    let o = o.json();
    assert_eq!(o["overall"], "degraded");
    assert_eq!(o["services"].as_array().map(Vec::len), Some(2));
    assert_eq!(o["services"][0]["name"], "E-mail");

    // Updates.
    let r = op.api.patch(&format!("/api/itsm/status/services/{}", id(&vpn)), json!({"state": "major_outage"})).await;
    r.expect(200);
    assert_eq!(r.json()["description"], "Remote access", "PATCH keeps absent fields");
    assert_eq!(req.api.get("/api/status").await.json()["overall"], "major_outage");
    op.api.patch(&format!("/api/itsm/status/services/{}", id(&vpn)), json!({"name": "E-mail"})).await.expect(409);
    op.api.patch("/api/itsm/status/services/01NOPE", json!({"state": "degraded"})).await.expect(404);

    // Maintenance windows.
    let bad = op
        .api
        .post(
            "/api/itsm/status/maintenance",
            json!({"title": "Upgrade", "starts_at": rfc(app, 3600), "ends_at": rfc(app, 60), "service_ids": ["01NOPE"]}),
        )
        .await;
    bad.expect_error(422, "validation_failed");
    assert!(bad.json()["error"]["fields"]["ends_at"].is_string(), "{}", bad.text);
    assert!(bad.json()["error"]["fields"]["service_ids"].is_string(), "{}", bad.text);
    op.api
        .post("/api/itsm/status/maintenance", json!({"title": "x", "starts_at": "soon", "ends_at": "later"}))
        .await
        .expect_error(422, "validation_failed");
    let now_mw = op
        .api
        .post(
            "/api/itsm/status/maintenance",
            json!({"title": "Mail server upgrade", "note": "Expect short gaps.", "starts_at": rfc(app, -600), "ends_at": rfc(app, 3600), "service_ids": [id(&email)]}),
        )
        .await;
    now_mw.expect(201);
    let now_mw = now_mw.json();
    assert_eq!(now_mw["service_ids"], json!([id(&email)]));
    let past = op
        .api
        .post(
            "/api/itsm/status/maintenance",
            json!({"title": "Old work", "starts_at": rfc(app, -7200), "ends_at": rfc(app, -3600)}),
        )
        .await;
    past.expect(201);
    let o = req.api.get("/api/status").await.json();
    let titles: Vec<&str> = o["maintenance"].as_array().unwrap().iter().filter_map(|m| m["title"].as_str()).collect();
    assert_eq!(titles, vec!["Mail server upgrade"], "finished windows leave the public page");
    assert_eq!(op.api.get("/api/itsm/status/maintenance").await.json()["items"].as_array().map(Vec::len), Some(2));
    let r = op
        .api
        .put(
            &format!("/api/itsm/status/maintenance/{}", id(&now_mw)),
            json!({"title": "Mail server upgrade", "starts_at": rfc(app, -600), "ends_at": rfc(app, 7200), "service_ids": [id(&email), id(&vpn)]}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["service_ids"].as_array().map(Vec::len), Some(2));

    // Incident notes.
    op.api
        .post("/api/itsm/status/notes", json!({"service_id": "01NOPE", "body": "x"}))
        .await
        .expect_error(422, "validation_failed");
    op.api
        .post("/api/itsm/status/notes", json!({"service_id": id(&vpn), "body": ""}))
        .await
        .expect_error(422, "validation_failed");
    let note = op
        .api
        .post("/api/itsm/status/notes", json!({"service_id": id(&vpn), "body": "VPN is down; we are on it."}))
        .await;
    note.expect(201);
    let o = req.api.get("/api/status").await.json();
    assert_eq!(o["notes"][0]["body"], "VPN is down; we are on it.");
    let r = op
        .api
        .put(
            &format!("/api/itsm/status/notes/{}", id(&note.json())),
            json!({"service_id": id(&vpn), "body": "VPN is back."}),
        )
        .await;
    r.expect(200);
    assert_eq!(op.api.get("/api/itsm/status/notes").await.json()["items"][0]["body"], "VPN is back.");
    req.api.get(&format!("/api/itsm/status/notes/{}", id(&note.json()))).await.expect(403);

    // Paging.
    let p1 = op.api.get("/api/itsm/status/services?limit=1").await.json();
    assert_eq!(p1["items"].as_array().map(Vec::len), Some(1));
    let cur = p1["next_cursor"].as_str().expect("a second page").to_owned();
    let p2 = op.api.get(&format!("/api/itsm/status/services?limit=1&cursor={cur}")).await.json();
    assert_eq!(p2["items"][0]["name"], "VPN");
    assert!(p2["next_cursor"].is_null());
    op.api.get("/api/itsm/status/services?cursor=bogus!").await.expect_error(422, "validation_failed");
    op.api.get("/api/itsm/status/services?limit=0").await.expect_error(422, "validation_failed");

    // Deleting a service takes its notes and maintenance links with it.
    op.api.delete(&format!("/api/itsm/status/services/{}", id(&vpn))).await.expect(204);
    op.api.delete(&format!("/api/itsm/status/services/{}", id(&vpn))).await.expect(404);
    let o = req.api.get("/api/status").await.json();
    assert_eq!(o["notes"].as_array().map(Vec::len), Some(0));
    assert_eq!(o["maintenance"][0]["service_ids"], json!([id(&email)]));

    // Audited.
    let audit = admin.api.get("/api/audit?action=status.service_created").await.json();
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(2));
    let doc = anon.get("/api/openapi.json").await.json();
    for path in [
        "/api/status",
        "/api/itsm/status/services/{id}",
        "/api/itsm/status/maintenance/{id}",
        "/api/itsm/status/notes/{id}",
        "/api/itsm/announcements/{id}",
        "/api/announcements/{id}/dismiss",
        "/api/settings/portal",
        "/api/settings/portal/logo",
        "/api/portal",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi lacks {path}");
    }
}
dual_test!(status_api_by_role);

async fn status_pages_by_role(app: &TestApp) {
    let admin = app.admin().await;
    let op = app.user(&admin, "operator").await;
    let req = app.user(&admin, "requester").await;
    let email = op.api.post("/api/itsm/status/services", json!({"name": "E-mail", "state": "degraded"})).await.json();
    op.api
        .post("/api/itsm/status/notes", json!({"service_id": id(&email), "body": "Sending is slow <b>today</b>."}))
        .await
        .expect(201);

    // Anonymous visitors are sent to sign in.
    let r = app.client().get("/portal/status").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location").as_deref(), Some("/login?next=%2Fportal%2Fstatus"));

    // A requester sees services with their state as pills, escaped text.
    let rb = browser(&req).await;
    let page = rb.get("/portal/status").await;
    page.expect(200);
    for want in [
        "<h1>Service status</h1>",
        "E-mail",
        "class=\"pill degraded\"",
        "Slow or unreliable",
        "Some services have problems",
        "Sending is slow &lt;b&gt;today&lt;/b&gt;.",
        "aria-current=\"page\"",
        "Skip to main content",
        "Submit a request",
    ] {
        assert!(page.text.contains(want), "missing {want:?}");
    }
    assert!(!page.text.contains("ITSM Dashboard"), "requesters get no agent shortcuts");
    assert!(!page.text.contains("style="), "no inline styles (CSP)");
    let r = rb.get("/itsm/status").await;
    assert_eq!(r.status, 403);
    assert!(r.text.contains("You don't have access"));
    let r = rb.post_form("/itsm/status/services/new", &[("name", "Sneaky")]).await;
    assert_eq!(r.status, 403);

    // An operator manages it with plain forms.
    let ob = browser(&op).await;
    let m = ob.get("/itsm/status").await;
    m.expect(200);
    assert!(m.text.contains("E-mail") && m.text.contains("ITSM Dashboard") && m.text.contains("Report an incident"));
    ob.get("/itsm/status/services/new").await.expect(200);
    let r = ob.post_form("/itsm/status/services/new", &[("name", ""), ("state", "operational")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("role=\"alert\"") && r.text.contains("Name is required"), "{}", r.text);
    let r = ob.post_form("/itsm/status/services/new", &[("name", "E-mail"), ("state", "operational")]).await;
    assert_eq!(r.status, 409);
    assert!(r.text.contains("already exists"));
    let r = ob
        .post_form("/itsm/status/services/new", &[("name", "Wi-Fi"), ("state", "partial_outage"), ("position", "")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.header("location").as_deref(), Some("/itsm/status?done=service_saved"));
    let m = ob.get("/itsm/status?done=service_saved").await;
    assert!(m.text.contains("The service was saved."));
    let services = op.api.get("/api/itsm/status/services").await.json();
    let wifi = services["items"].as_array().unwrap().iter().find(|s| s["name"] == "Wi-Fi").cloned().unwrap();
    assert_eq!(wifi["state"], "partial_outage");
    let edit = ob.get(&format!("/itsm/status/services/{}", id(&wifi))).await;
    edit.expect(200);
    assert!(edit.text.contains("value=\"partial_outage\" selected"), "current state preselected");
    let r = ob
        .post_form(
            &format!("/itsm/status/services/{}", id(&wifi)),
            &[("name", "Wi-Fi"), ("description", "Office wireless"), ("state", "operational"), ("position", "0")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let got = op.api.get(&format!("/api/itsm/status/services/{}", id(&wifi))).await.json();
    assert_eq!((got["state"].as_str(), got["position"].as_i64()), (Some("operational"), Some(0)));
    let r =
        ob.post_form(&format!("/itsm/status/services/{}", id(&wifi)), &[("name", "Wi-Fi"), ("position", "abc")]).await;
    assert_eq!(r.status, 422);

    // Maintenance with two affected services (a checkbox group).
    let r = ob
        .post_form(
            "/itsm/status/maintenance/new",
            &[
                ("title", "Network work"),
                ("starts_at", &app.app.now().plus_secs(3600).to_rfc3339()[..16]),
                ("ends_at", &app.app.now().plus_secs(7200).to_rfc3339()[..16]),
                ("service_ids", &id(&email)),
                ("service_ids", &id(&wifi)),
                ("note", "Short interruptions."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let mws = op.api.get("/api/itsm/status/maintenance").await.json();
    assert_eq!(mws["items"][0]["service_ids"].as_array().map(Vec::len), Some(2));
    let r = ob
        .post_form(
            "/itsm/status/maintenance/new",
            &[("title", "Bad"), ("starts_at", "2026-01-02T10:00"), ("ends_at", "2026-01-01T10:00")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("must be after the start"));

    // Updates and announcements through forms; the requester sees them.
    let r = ob.post_form("/itsm/status/notes/new", &[("service_id", &id(&wifi)), ("body", "Wi-Fi restored.")]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = ob
        .post_form(
            "/itsm/status/announcements/new",
            &[("body", "Network work tonight"), ("severity", "warning"), ("link", "/portal/status")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = rb.get("/portal/status").await;
    for want in
        ["Network work", "Short interruptions.", "Wi-Fi restored.", "Network work tonight", "announcement warning"]
    {
        assert!(page.text.contains(want), "missing {want:?}");
    }
    let maint_id = id(&mws["items"][0]);
    ob.get(&format!("/itsm/status/maintenance/{maint_id}")).await.expect(200);
    let r = ob.post_form(&format!("/itsm/status/maintenance/{maint_id}/delete"), &[]).await;
    assert_eq!(r.status, 303);
    assert!(!rb.get("/portal/status").await.text.contains("Short interruptions."));
    let r = ob.post_form(&format!("/itsm/status/services/{}/delete", id(&wifi)), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(ob.get(&format!("/itsm/status/services/{}", id(&wifi))).await.status, 404);
}
dual_test!(status_pages_by_role);

async fn guest_reads_status(app: &TestApp) {
    let admin = app.admin().await;
    admin.api.post("/api/itsm/status/services", json!({"name": "Printing", "state": "maintenance"})).await.expect(201);
    admin.api.post("/api/itsm/announcements", json!({"body": "Printers are being serviced"})).await.expect(201);
    let guest = app.client();
    let r = guest.get("/api/status").await;
    r.expect(200);
    assert_eq!(r.json()["overall"], "maintenance");
    let page = guest.get("/portal/status").await;
    page.expect(200);
    assert!(page.text.contains("Printing") && page.text.contains("Under maintenance"));
    assert!(page.text.contains("Printers are being serviced"), "guests see announcements");
    assert!(!page.text.contains("/dismiss"), "guests cannot dismiss");
    assert!(!page.text.contains("Submit a request"), "guests cannot file requests");
    guest.post("/api/itsm/status/services", json!({"name": "x"})).await.expect(401);
    guest.get("/api/itsm/status/services").await.expect(401);
    guest.get("/api/settings/portal").await.expect(401);
    assert_eq!(guest.get("/itsm/status").await.status, 303, "management needs sign-in");
    assert_eq!(guest.get("/api/announcements/active").await.json().as_array().map(Vec::len), Some(1));
}
dual_test!(guest_reads_status, |b| tier0_testkit::Spawn::new(b).anonymous_read());

async fn announcements_and_dismissal(app: &TestApp) {
    let admin = app.admin().await;
    let op = app.user(&admin, "operator").await;
    let alice = app.user(&admin, "requester").await;
    let bob = app.user(&admin, "requester").await;

    let a = op
        .api
        .post(
            "/api/itsm/announcements",
            json!({"body": "VPN upgrade tonight", "severity": "warning", "link": "https://example.com/vpn"}),
        )
        .await;
    a.expect(201);
    let a = a.json();
    assert_eq!((a["severity"].as_str(), a["from_settings"].as_bool()), (Some("warning"), Some(false)));
    op.api.post("/api/itsm/announcements", json!({"body": "Later", "active_from": rfc(app, 3600)})).await.expect(201);
    op.api
        .post(
            "/api/itsm/announcements",
            json!({"body": "Over", "active_from": rfc(app, -7200), "active_until": rfc(app, -3600)}),
        )
        .await
        .expect(201);
    for (body, field) in [
        (json!({"body": "x", "link": "javascript:alert(1)"}), "link"),
        (json!({"body": "x", "link": "//evil.example"}), "link"),
        (json!({"body": "x", "active_from": rfc(app, 60), "active_until": rfc(app, 0)}), "active_until"),
        (json!({"body": "", "severity": "panic"}), "severity"),
        (json!({"body": "x".repeat(501)}), "body"),
    ] {
        let r = op.api.post("/api/itsm/announcements", body).await;
        r.expect_error(422, "validation_failed");
        assert!(r.json()["error"]["fields"][field].is_string(), "{field}: {}", r.text);
    }
    alice.api.post("/api/itsm/announcements", json!({"body": "mine"})).await.expect(403);

    let active = |c: Client| async move {
        let r = c.get("/api/announcements/active").await;
        r.expect(200);
        r.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["body"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(active(alice.api.clone()).await, vec!["VPN upgrade tonight"]);

    // The banner is on the page with a no-JS dismiss form; dismissing is
    // per user and persists.
    let ab = browser(&alice).await;
    let page = ab.get("/portal/status").await;
    assert!(page.text.contains("VPN upgrade tonight") && page.text.contains("https://example.com/vpn"));
    let action = format!("/portal/announcements/{}/dismiss", id(&a));
    assert!(page.text.contains(&action));
    let r = ab.with_header("referer", &ab.url("/portal/status?x=1")).post_form(&action, &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location").as_deref(), Some("/portal/status?x=1"), "back to the page it was on");
    let r = ab.with_header("referer", "https://evil.example/phish").post_form(&action, &[]).await;
    assert_eq!(r.header("location").as_deref(), Some("/portal"), "never back to another site");
    assert!(!ab.get("/portal/status").await.text.contains("VPN upgrade tonight"));
    assert!(active(alice.api.clone()).await.is_empty());
    assert_eq!(active(bob.api.clone()).await, vec!["VPN upgrade tonight"], "dismissal is per user");
    bob.api.post("/api/announcements/01NOPE/dismiss", json!({})).await.expect(404);
    app.client().post(&format!("/api/announcements/{}/dismiss", id(&a)), json!({})).await.expect(401);
    bob.api.post(&format!("/api/announcements/{}/dismiss", id(&a)), json!({})).await.expect(204);
    bob.api.post(&format!("/api/announcements/{}/dismiss", id(&a)), json!({})).await.expect(204);
    assert!(active(bob.api.clone()).await.is_empty());

    // Editing and deleting.
    let r = op
        .api
        .put(
            &format!("/api/itsm/announcements/{}", id(&a)),
            json!({"body": "VPN upgrade moved", "severity": "critical"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["severity"], "critical");
    op.api.delete(&format!("/api/itsm/announcements/{}", id(&a))).await.expect(204);
    op.api.get(&format!("/api/itsm/announcements/{}", id(&a))).await.expect(404);
    assert_eq!(op.api.get("/api/itsm/announcements").await.json()["items"].as_array().map(Vec::len), Some(2));

    // The settings shortcut: one announcement, shown again when reworded.
    let put = |text: Option<&str>| json!({"announcement": text});
    admin.api.put("/api/settings/portal", put(Some("Office closed Friday"))).await.expect(200);
    let shown = alice.api.get("/api/announcements/active").await.json();
    assert_eq!(shown[0]["body"], "Office closed Friday");
    assert_eq!(shown[0]["from_settings"], true);
    alice.api.post(&format!("/api/announcements/{}/dismiss", id(&shown[0])), json!({})).await.expect(204);
    assert!(active(alice.api.clone()).await.is_empty());
    admin.api.put("/api/settings/portal", put(Some("Office closed Friday"))).await.expect(200);
    assert!(active(alice.api.clone()).await.is_empty(), "saving the same text keeps dismissals");
    admin.api.put("/api/settings/portal", put(Some("Office closed Friday and Monday"))).await.expect(200);
    assert_eq!(active(alice.api.clone()).await, vec!["Office closed Friday and Monday"]);
    assert_eq!(admin.api.get("/api/settings/portal").await.json()["announcement"], "Office closed Friday and Monday");
    admin.api.put("/api/settings/portal", put(None)).await.expect(200);
    assert!(active(bob.api.clone()).await.is_empty());
}
dual_test!(announcements_and_dismissal);

async fn portal_settings_api_and_pages(app: &TestApp) {
    let admin = app.admin().await;
    let op = app.user(&admin, "operator").await;
    let req = app.user(&admin, "requester").await;
    req.api.get("/api/settings/portal").await.expect(403);
    op.api.put("/api/settings/portal", json!({})).await.expect(403);
    app.client().get("/api/settings/portal").await.expect(401);
    let d = admin.api.get("/api/settings/portal").await;
    d.expect(200);
    assert_eq!(d.json()["display_name"], "Default support");
    assert_eq!(d.json()["hidden_sections"], json!([]));

    for bad in ["red", "#abc", "#12345g", "#1234567", "123456", "javascript:x"] {
        let r = admin.api.put("/api/settings/portal", json!({"primary_colour": bad})).await;
        r.expect_error(422, "validation_failed");
        assert!(r.json()["error"]["fields"]["primary_colour"].is_string(), "{bad}: {}", r.text);
    }
    let r = admin.api.put("/api/settings/portal", json!({"name": "x".repeat(61)})).await;
    assert!(r.json()["error"]["fields"]["name"].is_string(), "{}", r.text);
    let r = admin.api.put("/api/settings/portal", json!({"hidden_sections": ["bogus"]})).await;
    assert!(r.json()["error"]["fields"]["hidden_sections"].is_string(), "{}", r.text);

    let r = admin
        .api
        .put(
            "/api/settings/portal",
            json!({"name": "Acme Help", "description": "Ask for things here.", "primary_colour": "#FFD400"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["primary_colour"], "#ffd400");
    assert_eq!(r.json()["display_name"], "Acme Help");

    // The name and colour reach every page; the colour comes as a
    // stylesheet with readable ink.
    let rb = browser(&req).await;
    let page = rb.get("/portal/status").await;
    assert!(page.text.contains("<title>Service status · Acme Help</title>"), "{}", page.text);
    let start = page.text.find("/branding/theme.css?v=").expect("theme stylesheet linked");
    let href: String = page.text[start..].chars().take_while(|c| *c != '"').collect();
    let css = rb.get(&href).await;
    css.expect(200);
    assert_eq!(css.header("content-type").as_deref(), Some("text/css; charset=utf-8"));
    assert!(css.text.contains("--brand: #ffd400") && css.text.contains("--brand-ink: #000000"), "{}", css.text);
    assert!(css.header("cache-control").unwrap_or_default().contains("immutable"));
    assert!(!rb.get("/branding/theme.css").await.header("cache-control").unwrap_or_default().contains("immutable"));

    let info = app.client().get("/api/portal").await;
    info.expect(200);
    assert_eq!(info.json()["name"], "Acme Help");
    assert_eq!(info.json()["sections"].as_array().map(Vec::len), Some(5));

    // Audited with what changed.
    let audit = admin.api.get("/api/audit?action=portal.settings_changed").await.json();
    let changed = &audit["items"][0]["details"]["changed"];
    assert!(changed.as_array().unwrap().iter().any(|c| c == "primary_colour"), "{audit}");

    // The settings page: a plain form.
    let ab = browser(&admin).await;
    let p = ab.get("/settings/portal").await;
    p.expect(200);
    assert!(p.text.contains("value=\"Acme Help\"") && p.text.contains("name=\"show\""));
    assert!(p.text.contains("aria-current=\"page\""), "area navigation marks the page");
    let r = ab
        .post_form(
            "/settings/portal",
            &[("name", "Acme IT"), ("primary_colour", "purple"), ("show", "catalog"), ("show", "status")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Primary colour must be a colour like #2446c7"), "{}", r.text);
    assert!(r.text.contains("value=\"Acme IT\""), "the form keeps what was typed");
    let r = ab
        .post_form(
            "/settings/portal",
            &[
                ("name", "Acme IT"),
                ("primary_colour", ""),
                ("show", "catalog"),
                ("show", "status"),
                ("show", "knowledge"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let s = admin.api.get("/api/settings/portal").await.json();
    assert_eq!(s["name"], "Acme IT");
    assert!(s["primary_colour"].is_null());
    assert_eq!(s["hidden_sections"], json!(["requests", "approvals"]));
    assert!(!rb.get("/portal/status").await.text.contains("/branding/theme.css"), "no colour, no theme sheet");
    rb.get("/settings/portal").await.expect(403);
    let r = rb.post_form("/settings/portal", &[("name", "Hijack")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(admin.api.get("/api/settings/portal").await.json()["name"], "Acme IT");
}
dual_test!(portal_settings_api_and_pages);

async fn logo_upload_validation(app: &TestApp) {
    let admin = app.admin().await;
    let req = app.user(&admin, "requester").await;
    let logo_path = "/api/settings/portal/logo";

    let r = upload(&admin.api, logo_path, "logo", png(2000), "logo.png").await;
    r.expect(200);
    let url = r.json()["logo_url"].as_str().expect("logo_url").to_owned();
    assert!(url.starts_with("/branding/logo?v="));
    let got = app.client().get(&url).await;
    got.expect(200);
    assert_eq!(got.header("content-type").as_deref(), Some("image/png"));
    assert_eq!(got.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(got.header("cache-control").unwrap_or_default().contains("max-age=31536000"));
    assert_eq!(got.header("content-length").as_deref(), Some("2000"));
    let page = browser(&req).await.get("/portal/status").await;
    assert!(page.text.contains(&format!("src=\"{}\"", url.replace('&', "&amp;"))), "the header shows the logo");

    // The type comes from the bytes: a JPEG named .png is a JPEG.
    upload(&admin.api, logo_path, "logo", jpeg(), "logo.png").await.expect(200);
    assert_eq!(app.client().get("/branding/logo").await.header("content-type").as_deref(), Some("image/jpeg"));

    // Refused: SVG (scriptable), other types, empty, too big, wrong shape.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    for (bytes, name) in
        [(svg, "logo.svg"), (b"GIF89a\x01\0\x01\0".to_vec(), "logo.gif"), (b"hello".to_vec(), "logo.png")]
    {
        let r = upload(&admin.api, logo_path, "logo", bytes, name).await;
        r.expect_error(422, "validation_failed");
        assert!(r.json()["error"]["fields"]["logo"].is_string(), "{}", r.text);
    }
    upload(&admin.api, logo_path, "logo", Vec::new(), "empty.png").await.expect_error(422, "validation_failed");
    upload(&admin.api, logo_path, "other", png(100), "logo.png").await.expect_error(422, "validation_failed");
    upload(&admin.api, logo_path, "logo", png(600 * 1024), "big.png").await.expect_error(413, "payload_too_large");
    admin.api.post(logo_path, json!({"logo": "x"})).await.expect_error(415, "unsupported_media_type");
    upload(&req.api, logo_path, "logo", png(100), "logo.png").await.expect(403);
    assert_eq!(app.client().get("/branding/logo").await.header("content-type").as_deref(), Some("image/jpeg"));

    // The page form: multipart, errors next to the field.
    let ab = browser(&admin).await;
    let r = upload(&ab, "/settings/portal/logo", "logo", b"<svg/>".to_vec(), "x.svg").await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("SVG is not accepted") && r.text.contains("role=\"alert\""), "{}", r.text);
    let r = upload(&ab, "/settings/portal/logo", "logo", png(700 * 1024), "big.png").await;
    assert_eq!(r.status, 413);
    let r = upload(&ab, "/settings/portal/logo", "logo", png(500), "logo.png").await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(app.client().get("/branding/logo").await.header("content-type").as_deref(), Some("image/png"));
    assert_eq!(upload(&browser(&req).await, "/settings/portal/logo", "logo", png(500), "l.png").await.status, 403);

    // Removal.
    let r = ab.post_form("/settings/portal/logo/delete", &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(app.client().get("/branding/logo").await.status, 404);
    admin.api.delete(logo_path).await.expect(204);
    assert!(admin.api.get("/api/settings/portal").await.json()["logo_url"].is_null());
    let audit = admin.api.get("/api/audit?action=portal.logo_changed").await.json();
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(3));
}
dual_test!(logo_upload_validation);

async fn section_toggles(app: &TestApp) {
    let admin = app.admin().await;
    let req = app.user(&admin, "requester").await;
    admin.api.post("/api/itsm/status/services", json!({"name": "E-mail"})).await.expect(201);
    let rb = browser(&req).await;
    let hide = |sections: Value| json!({"hidden_sections": sections});

    let page = rb.get("/portal/status").await;
    for tab in
        ["href=\"/portal\"", "href=\"/portal/requests\"", "href=\"/portal/knowledge\"", "href=\"/portal/status\""]
    {
        assert!(page.text.contains(tab), "{tab}");
    }

    // Hidden Status: gone for everyone, pages and API alike, exactly like
    // a path that does not exist.
    admin.api.put("/api/settings/portal", hide(json!(["status"]))).await.expect(200);
    let r = rb.get("/portal/status").await;
    assert_eq!(r.status, 404);
    assert!(r.text.contains("Page not found"));
    req.api.get("/api/status").await.expect_error(404, "not_found");
    admin.api.get("/api/status").await.expect_error(404, "not_found");
    admin.api.post("/api/status", json!({})).await.expect_error(404, "not_found");
    assert_eq!(browser(&admin).await.get("/portal/status").await.status, 404);
    let unknown = admin.api.get("/api/does-not-exist").await;
    assert_eq!(admin.api.get("/api/status").await.text, unknown.text, "indistinguishable from no route");
    // Management and settings stay reachable.
    admin.api.get("/api/itsm/status/services").await.expect(200);
    let ab = browser(&admin).await;
    ab.get("/itsm/status").await.expect(200);
    ab.get("/settings/portal").await.expect(200);

    // Hidden Knowledge and Requests: their tabs and the request button go.
    admin.api.put("/api/settings/portal", hide(json!(["knowledge", "requests"]))).await.expect(200);
    let page = rb.get("/portal/status").await;
    page.expect(200);
    assert!(!page.text.contains("href=\"/portal/knowledge\"") && !page.text.contains("Knowledge Base"));
    assert!(!page.text.contains("href=\"/portal/requests\"") && !page.text.contains("Submit a request"));
    assert!(page.text.contains("href=\"/portal/status\""));
    for path in
        ["/api/itsm/kb/articles", "/api/itsm/requests", "/portal/requests", "/portal/request/new", "/portal/knowledge"]
    {
        assert_eq!(rb.get(path).await.status, 404, "{path}");
    }
    req.api.post("/api/itsm/kedb/search", json!({"query": "vpn"})).await.expect_error(404, "not_found");

    // A hidden catalog: /portal lands on the first visible section.
    admin.api.put("/api/settings/portal", hide(json!(["catalog", "requests"]))).await.expect(200);
    let r = rb.get("/portal").await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/portal/knowledge")));
    admin.api.get("/api/itsm/catalog").await.expect_error(404, "not_found");
    admin
        .api
        .put("/api/settings/portal", hide(json!(["catalog", "requests", "knowledge", "status", "approvals"])))
        .await
        .expect(200);
    let r = rb.get("/portal").await;
    assert_eq!(r.header("location").as_deref(), Some("/portal/profile"));
    let info = rb.get("/api/portal").await.json();
    assert_eq!(info["sections"], json!([]));
    ab.get("/settings/portal").await.expect(200);

    // Shown again at once.
    admin.api.put("/api/settings/portal", hide(json!([]))).await.expect(200);
    rb.get("/portal/status").await.expect(200);
    req.api.get("/api/status").await.expect(200);
    let audit = admin.api.get("/api/audit?action=portal.settings_changed").await.json();
    assert!(audit["items"][0]["details"]["from_hidden_sections"].as_array().map(Vec::len) == Some(5), "{audit}");
}
dual_test!(section_toggles);

async fn portal_data_is_tenant_isolated(app: &TestApp) {
    let a = app.admin().await;
    let b = app.tenant("beta").await;
    let svc =
        b.api.post("/api/itsm/status/services", json!({"name": "Beta VPN", "state": "major_outage"})).await.json();
    let mw = b
        .api
        .post(
            "/api/itsm/status/maintenance",
            json!({"title": "Beta window", "starts_at": rfc(app, -60), "ends_at": rfc(app, 3600), "service_ids": [id(&svc)]}),
        )
        .await
        .json();
    let note = b.api.post("/api/itsm/status/notes", json!({"service_id": id(&svc), "body": "Beta note"})).await.json();
    let ann = b.api.post("/api/itsm/announcements", json!({"body": "Beta banner"})).await.json();
    b.api
        .put("/api/settings/portal", json!({"name": "Beta Desk", "primary_colour": "#112233", "announcement": "Beta shortcut", "hidden_sections": ["knowledge"]}))
        .await
        .expect(200);
    upload(&b.api, "/api/settings/portal/logo", "logo", png(300), "b.png").await.expect(200);

    // A's own data, so the probes read real lists.
    a.api.post("/api/itsm/status/services", json!({"name": "Alpha mail"})).await.expect(201);
    let foreign = [
        id(&svc),
        id(&mw),
        id(&note),
        id(&ann),
        "Beta VPN".into(),
        "Beta banner".into(),
        "Beta Desk".into(),
        "Beta shortcut".into(),
        "#112233".into(),
    ];
    assert_isolated(
        &a.api,
        &foreign,
        &[
            Probe::List("/api/status".into()),
            Probe::List("/api/itsm/status/services".into()),
            Probe::List("/api/itsm/status/maintenance".into()),
            Probe::List("/api/itsm/status/notes".into()),
            Probe::List(format!("/api/itsm/status/notes?service_id={}", id(&svc))),
            Probe::List("/api/itsm/announcements".into()),
            Probe::List("/api/announcements/active".into()),
            Probe::List("/api/settings/portal".into()),
            Probe::List("/api/portal".into()),
            Probe::Get(format!("/api/itsm/status/services/{}", id(&svc))),
            Probe::Get(format!("/api/itsm/status/maintenance/{}", id(&mw))),
            Probe::Get(format!("/api/itsm/status/notes/{}", id(&note))),
            Probe::Get(format!("/api/itsm/announcements/{}", id(&ann))),
        ],
    )
    .await;
    a.api.patch(&format!("/api/itsm/status/services/{}", id(&svc)), json!({"state": "operational"})).await.expect(404);
    a.api.delete(&format!("/api/itsm/announcements/{}", id(&ann))).await.expect(404);
    a.api.post(&format!("/api/announcements/{}/dismiss", id(&ann)), json!({})).await.expect(404);
    a.api
        .post("/api/itsm/status/notes", json!({"service_id": id(&svc), "body": "cross-tenant"}))
        .await
        .expect_error(422, "validation_failed");
    a.api
        .post(
            "/api/itsm/status/maintenance",
            json!({"title": "x", "starts_at": rfc(app, 0), "ends_at": rfc(app, 60), "service_ids": [id(&svc)]}),
        )
        .await
        .expect_error(422, "validation_failed");
    // Pages and branding too.
    let page = browser(&a).await.get("/portal/status").await;
    page.expect(200);
    for f in &foreign {
        assert!(!page.text.contains(f.as_str()), "page leaked {f}");
    }
    assert!(page.text.contains("href=\"/portal/knowledge\""), "B's toggles do not hide A's sections");
    assert_eq!(app.client().get("/branding/logo").await.status, 404);
    assert!(!app.client().get("/branding/theme.css").await.text.contains("#112233"));
    assert_eq!(app.client_for("beta").get("/branding/logo").await.status, 200);
    // B sees its own.
    assert_eq!(b.api.get("/api/status").await.json()["services"][0]["name"], "Beta VPN");
}
dual_test!(portal_data_is_tenant_isolated);

async fn shell_per_role(app: &TestApp) {
    let admin = app.admin().await;
    let req = app.user(&admin, "requester").await;
    let ful = app.user(&admin, "fulfiller").await;
    let rb = browser(&req).await;
    let fb = browser(&ful).await;
    let ab = browser(&admin).await;

    // `/` sends each role to its landing path.
    assert_eq!(rb.get("/").await.header("location").as_deref(), Some("/portal"));
    assert_eq!(fb.get("/").await.header("location").as_deref(), Some("/itsm"));
    assert_eq!(app.client().get("/").await.header("location").as_deref(), Some("/login"));

    let r = rb.get("/portal/status").await.text;
    assert!(r.contains("Submit a request") && r.contains("href=\"/portal/profile\""));
    assert!(!r.contains("Report an incident") && !r.contains("ITSM Dashboard") && !r.contains("href=\"/settings\""));
    assert!(r.contains("<nav class=\"tabs\" aria-label=\"Portal sections\">") && r.contains("<main id=\"main\""));
    let f = fb.get("/portal/status").await.text;
    assert!(f.contains("Submit a request") && f.contains("Report an incident") && f.contains("ITSM Dashboard"));
    assert!(!f.contains("href=\"/settings\""), "fulfillers have no settings");
    assert_eq!(fb.get("/itsm/status").await.status, 403, "fulfillers lack status:manage");
    let a = ab.get("/portal/status").await.text;
    assert!(a.contains("href=\"/settings\""));
    // The settings area navigation offers what the caller may use.
    let s = ab.get("/settings/portal").await.text;
    for link in ["/settings/users", "/settings/roles", "/settings/audit", "/settings/portal"] {
        assert!(s.contains(&format!("href=\"{link}\"")), "{link}");
    }
    // Security headers on pages and branding.
    let r = rb.get("/portal/status").await;
    assert!(r.header("content-security-policy").unwrap_or_default().contains("style-src 'self'"));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
}
dual_test!(shell_per_role);
