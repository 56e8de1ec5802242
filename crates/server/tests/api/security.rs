//! The security suite: hostile input and hostile callers, each test
//! asserting the safe outcome. Stored XSS in every user-writable field is
//! inert on every page and in mail; ids of other users, other tenants and
//! deleted objects are 404 on every id-taking route; foreign ids inside
//! bodies write nothing; requesters cannot change fields that are not
//! theirs; malformed, oversized and SQL-ish input gets a clean 4xx; every
//! response carries the security headers.
//!
//! Sessions, CSRF, throttling, tokens and redirects have their own tests
//! (see `identity::security`, `identity::pages`, `identity::mail`); the
//! README's "Security" section lists where each property is proven.

use crate::itsm_support::*;
use serde_json::{Value, json};
use tier0_testkit::{Client, Resp, TestApp, dual_test};

/// Each payload carries a marker so its rendering can be found.
const PAYLOADS: &[&str] = &[
    "<script>alert('x1')</script>",
    "<img src=x onerror=alert('x2')>",
    "<details open ontoggle=alert('x3')>",
    "<svg onload=alert('x4')><circle/></svg>",
    "<a href=\"javascript:alert('x5')\">x5</a>",
    "<a href=\"jav&#x09;ascript:alert('x6')\">x6</a>",
    "<a href=\"JaVaScRiPt&colon;alert('x7')\">x7</a>",
    "\"><script>alert('x8')</script>",
    "<iframe src=\"javascript:alert('x9')\"></iframe>",
    "[x10](javascript:alert('x10'))",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x11</a>",
    "'';!--\"<x12>=&{()}",
];

/// Every payload in one string, for long fields.
fn all() -> String {
    PAYLOADS.join(" ")
}

/// Payload `i` (cycled), for short fields.
fn one(i: usize) -> &'static str {
    PAYLOADS[i % PAYLOADS.len()]
}

/// Decode the entities a browser would decode inside an attribute value,
/// enough to see through `&#x09;`, `&colon;` and friends.
fn decode_attr(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').filter(|&e| e < 12);
        let Some(end) = end else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let ch = match ent {
            "colon" => Some(':'),
            "tab" | "Tab" => Some('\t'),
            "newline" | "NewLine" => Some('\n'),
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "#39" | "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => {
                u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32)
            }
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The attributes of one tag (`<name a="1" b=2 c>`), honouring quotes.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let b = tag.as_bytes();
    let mut i = 0;
    // Skip the tag name.
    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'/' {
        i += 1;
    }
    let mut out = Vec::new();
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        let name = tag[start..i].to_ascii_lowercase();
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                i = vs;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = tag[vs..i.min(b.len())].to_owned();
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = tag[vs..i].to_owned();
            }
        }
        if !name.is_empty() {
            out.push((name, value));
        }
    }
    out
}

/// Assert that `html` holds nothing that runs: no script element other
/// than the product's own `/assets/…` files, no event-handler attribute,
/// no `javascript:`/`vbscript:` URL (after entity decoding), no `data:`
/// link target, no frames or embedded objects.
#[track_caller]
fn assert_inert(what: &str, html: &str) {
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        rest = &rest[end..];
        if tag.starts_with('/') || tag.starts_with('!') || tag.is_empty() {
            continue;
        }
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
        let attrs = attributes(tag);
        assert!(
            !matches!(name.as_str(), "iframe" | "frame" | "object" | "embed" | "base"),
            "{what}: <{name}> element: <{tag}>"
        );
        if name == "script" {
            let src = attrs.iter().find(|(n, _)| n == "src").map(|(_, v)| v.as_str()).unwrap_or_default();
            assert!(src.starts_with("/assets/"), "{what}: inline or foreign script: <{tag}>");
        }
        for (n, v) in &attrs {
            assert!(!n.starts_with("on"), "{what}: event handler attribute {n}: <{tag}>");
            let url: String = decode_attr(v).chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
            let url = url.to_ascii_lowercase();
            assert!(
                !url.starts_with("javascript:") && !url.starts_with("vbscript:"),
                "{what}: script URL in {n}: <{tag}>"
            );
            if matches!(n.as_str(), "href" | "action" | "formaction" | "xlink:href") {
                assert!(!url.starts_with("data:"), "{what}: data: URL in {n}: <{tag}>");
            }
        }
    }
}

#[test]
fn the_scanner_sees_what_runs() {
    for bad in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<details open ontoggle=alert(1)>",
        "<svg onload=alert(1)>",
        "<a href=\"jav&#x09;ascript:alert(1)\">",
        "<a href='JaVaScRiPt&colon;alert(1)'>",
        "<a href=\"data:text/html,x\">",
        "<iframe src=\"/x\"></iframe>",
        "<p><a title=\"x\" ONCLICK=\"y\">",
    ] {
        assert!(std::panic::catch_unwind(|| assert_inert("probe", bad)).is_err(), "missed {bad}");
    }
    assert_inert(
        "escaped",
        "<p title=\"&lt;img onerror=1&gt;\">&lt;script&gt;alert(1)&lt;/script&gt; onerror=x</p>\
         <input value=\"&quot; onfocus=alert(1) x=&quot;\"><script src=\"/assets/deflect.js\" defer></script>\
         <img src=\"data:image/png;base64,AAAA\" alt=\"\">",
    );
}

#[track_caller]
fn ok(r: &Resp, what: &str) -> Value {
    assert!((200..300).contains(&r.status), "{what}: {} {}", r.status, r.text);
    if r.text.is_empty() { Value::Null } else { r.json() }
}

fn rfc(app: &TestApp, secs: i64) -> String {
    app.app.now().plus_secs(secs).to_rfc3339()
}

/// The HTML part of a mail (its plain-text part is not markup).
#[track_caller]
fn html_part(text: &str) -> &str {
    let start = text.find("<!DOCTYPE html").or_else(|| text.find("<html")).expect("an HTML part");
    let end = text[start..].find("</html>").map_or(text.len(), |e| start + e + 7);
    &text[start..end]
}

/// Stored XSS: payloads in every field a user can write, read back on every
/// page that shows them, for the requester, the agent and the admin.
async fn stored_xss_is_inert_everywhere(app: &TestApp) {
    let d = desk(app).await;
    let x = all();
    // People.
    ok(&d.alice.api.patch("/api/me", json!({"name": one(1)})).await, "requester name");
    ok(&d.agent.api.patch("/api/me", json!({"name": one(2)})).await, "agent name");
    // Catalog and approvals.
    let wf = ok(
        &d.admin
            .api
            .post(
                "/api/itsm/workflows",
                json!({"name": one(3), "stages": [{"approvers": {"users": [d.operator.email]}}]}),
            )
            .await,
        "workflow",
    );
    let cat = ok(
        &d.admin.api.post("/api/itsm/catalog/categories", json!({"name": one(4), "description": one(0)})).await,
        "category",
    );
    let it = item(
        &d.admin,
        json!({"name": one(5), "description": one(6), "category_id": id(&cat), "workflow_definition_id": id(&wf),
               "fields": [{"key": "v", "label": one(7), "type": "select", "options": [one(8), "plain"], "help": one(9)},
                          {"key": "w", "label": one(10), "type": "textarea", "help": one(11)}]}),
    )
    .await;
    let plain =
        item(&d.admin, json!({"name": "Plain item", "description": "No approval", "category_id": id(&cat)})).await;
    // Requests, comments, attachments.
    let req = file(&d.alice, json!({"title": one(0), "details": x, "catalog_item_id": id(&plain), "fields": {}})).await;
    let rid = id(&req);
    let pending = file(
        &d.alice,
        json!({"title": one(1), "details": x, "catalog_item_id": id(&it), "fields": {"v": one(8), "w": x}}),
    )
    .await;
    ok(&d.alice.api.post(&format!("/api/itsm/requests/{rid}/comments"), json!({"body": x})).await, "comment");
    ok(
        &d.agent.api.post(&format!("/api/itsm/requests/{rid}/comments"), json!({"body": x, "internal": true})).await,
        "note",
    );
    ok(&d.agent.api.post(&format!("/api/itsm/requests/{rid}/comments"), json!({"body": x})).await, "reply");
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>"#.to_vec();
    let up = upload(&d.alice, &rid, &format!("{}.svg", one(1)), svg).await;
    let att = ok(&up, "svg attachment");
    let dl = d.agent.api.get(&format!("/api/itsm/requests/{rid}/attachments/{}", id(&att))).await;
    dl.expect(200);
    assert_ne!(dl.header("content-type").as_deref(), Some("image/svg+xml"), "SVG is never served as an image");
    assert!(dl.header("content-disposition").unwrap_or_default().starts_with("attachment"));
    assert_eq!(dl.header("x-content-type-options").as_deref(), Some("nosniff"));
    let inc = file(&d.agent, json!({"title": one(2), "details": x, "also_create_incident": true})).await;
    // Knowledge.
    let art = ok(
        &d.admin
            .api
            .post(
                "/api/itsm/kb/articles",
                json!({"title": format!("Printer help {}", one(3)), "body_markdown": format!("# Printer\n\n{x}\n\n[link](javascript:alert(1)) ![img](javascript:alert(2))"),
                       "category": one(4), "tags": [one(1), one(11)], "status": "published"}),
            )
            .await,
        "article",
    );
    let ke = ok(
        &d.admin
            .api
            .post(
                "/api/itsm/kb/known-errors",
                json!({"title": format!("Printer error {}", one(6)), "symptoms": x, "workaround": x, "root_cause": x, "public": true}),
            )
            .await,
        "known error",
    );
    // Status page, announcements, portal settings, roles.
    let svc = ok(
        &d.admin
            .api
            .post("/api/itsm/status/services", json!({"name": one(7), "description": one(8), "state": "degraded"}))
            .await,
        "service",
    );
    ok(
        &d.admin
            .api
            .post(
                "/api/itsm/status/maintenance",
                json!({"title": one(9), "note": x, "starts_at": rfc(app, -60), "ends_at": rfc(app, 3600), "service_ids": [id(&svc)]}),
            )
            .await,
        "maintenance",
    );
    ok(&d.admin.api.post("/api/itsm/status/notes", json!({"service_id": id(&svc), "body": x})).await, "status note");
    ok(&d.admin.api.post("/api/itsm/announcements", json!({"body": one(10)})).await, "announcement");
    ok(
        &d.admin
            .api
            .put("/api/settings/portal", json!({"name": one(11), "description": one(0), "announcement": one(1)}))
            .await,
        "portal settings",
    );
    ok(&d.admin.api.post("/api/roles", json!({"name": "helpers", "permissions": ["itsm:read"]})).await, "role");

    let alice = browser(&d.alice).await;
    let agent = browser(&d.agent).await;
    let op = browser(&d.operator).await;
    let admin = browser(&d.admin).await;
    let (it, pending, inc_id, art, ke) =
        (id(&it), id(&pending), inc["incident_id"].as_str().unwrap_or_default().to_owned(), id(&art), id(&ke));
    let pages: Vec<(&Client, String)> = vec![
        (&alice, "/portal".into()),
        (&alice, "/portal?q=%3Cscript%3Ealert(1)%3C/script%3E".into()),
        (&alice, format!("/portal/catalog/{it}")),
        (&alice, "/portal/request/new?title=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E".into()),
        (&alice, "/portal/requests".into()),
        (&alice, format!("/portal/requests/{rid}")),
        (&alice, format!("/portal/requests/{pending}")),
        (&alice, "/portal/knowledge".into()),
        (&alice, "/portal/knowledge?q=printer".into()),
        (&alice, "/portal/knowledge?q=%3Csvg%20onload%3Dalert(1)%3E".into()),
        (&alice, format!("/portal/knowledge/{art}")),
        (&alice, format!("/portal/knowledge/{ke}")),
        (&alice, "/portal/status".into()),
        (&alice, "/portal/notifications".into()),
        (&alice, "/portal/profile".into()),
        (&op, "/portal/approvals".into()),
        (&agent, "/itsm".into()),
        (&agent, "/itsm/requests".into()),
        (&agent, format!("/itsm/requests/{rid}")),
        (&agent, format!("/itsm/requests/{pending}")),
        (&agent, "/itsm/incidents".into()),
        (&agent, format!("/itsm/incidents/{inc_id}")),
        (&admin, "/itsm/kb".into()),
        (&admin, format!("/itsm/kb/{art}")),
        (&admin, format!("/itsm/kb/{art}/history")),
        (&admin, "/itsm/kb/known-errors".into()),
        (&admin, format!("/itsm/kb/known-errors/{ke}")),
        (&admin, "/itsm/catalog".into()),
        (&admin, format!("/itsm/catalog/{it}/edit")),
        (&admin, "/itsm/workflows".into()),
        (&admin, format!("/itsm/workflows/{}", id(&wf))),
        (&admin, "/itsm/status".into()),
        (&admin, format!("/itsm/status/services/{}", id(&svc))),
        (&admin, "/settings/users".into()),
        (&admin, "/settings/roles".into()),
        (&admin, "/settings/audit".into()),
        (&admin, "/settings/portal".into()),
    ];
    for (c, p) in pages {
        let r = c.get(&p).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text);
        assert_inert(&p, &r.text);
    }
    // The escaped text is really shown (the check above is not vacuous).
    let page = alice.get(&format!("/portal/requests/{rid}")).await.text;
    assert!(page.contains("&lt;script&gt;alert("), "request page shows the escaped payload");
}
dual_test!(stored_xss_is_inert_everywhere);

/// Mail carries user-written text (titles, replies, names) only escaped.
async fn xss_in_mail_is_inert(app: &TestApp) {
    let Some((sink, app)) = with_mail(app).await else { return };
    let d = desk(&app).await;
    let x = all();
    ok(&d.agent.api.patch("/api/me", json!({"name": one(1)})).await, "agent name");
    let req = file(&d.alice, json!({"title": one(0), "details": x})).await;
    let rid = id(&req);
    ok(
        &d.agent
            .api
            .post(&format!("/api/itsm/requests/{rid}/comments"), json!({"body": format!("{x} public-reply-marker")}))
            .await,
        "reply",
    );
    ok(
        &d.agent
            .api
            .post(
                &format!("/api/itsm/requests/{rid}/comments"),
                json!({"body": "internal-note-marker", "internal": true}),
            )
            .await,
        "note",
    );
    let mail = wait_mail(&sink, &d.alice.email, "public-reply-marker").await.expect("reply mailed to the requester");
    let text = mail.decoded();
    let html = html_part(&text);
    assert_inert("reply mail", html);
    assert!(
        html.contains("public-reply-marker") && html.contains("&lt;script&gt;"),
        "the HTML part shows the reply escaped"
    );
    assert!(!text.contains("internal-note-marker"), "internal notes are never mailed");
    // An invite carries the inviter's name.
    let mut with_name = d.admin.clone();
    ok(&with_name.api.patch("/api/me", json!({"name": one(2)})).await, "admin name");
    with_name.email = tier0_testkit::fixtures::unique_email("invitee");
    ok(&d.admin.api.post("/api/auth/invite", json!({"email": with_name.email})).await, "invite");
    let invite = wait_mail(&sink, &with_name.email, "signup?token=").await.expect("invite mailed");
    assert_inert("invite mail", html_part(&invite.decoded()));
    app.shutdown().await;
}
dual_test!(xss_in_mail_is_inert);

/// Every kind of object tenant-owned data can be, created once.
struct World {
    d: Desk,
    cat: String,
    item: String,
    wf: String,
    req: String,
    pending: String,
    approval: String,
    attachment: String,
    incident: String,
    article: String,
    draft: String,
    ke_public: String,
    ke_private: String,
    service: String,
    maintenance: String,
    note: String,
    announcement: String,
    role: String,
    invite: String,
    notification: String,
    session: String,
}

async fn world(app: &TestApp) -> World {
    let d = desk(app).await;
    let a = &d.admin.api;
    let wf = ok(
        &a.post(
            "/api/itsm/workflows",
            json!({"name": "Manager", "stages": [{"approvers": {"users": [d.operator.email]}}]}),
        )
        .await,
        "wf",
    );
    let cat = ok(&a.post("/api/itsm/catalog/categories", json!({"name": "Access"})).await, "cat");
    let it = item(&d.admin, json!({"name": "VPN", "description": "Remote access", "category_id": id(&cat), "workflow_definition_id": id(&wf)})).await;
    let req = file(&d.alice, json!({"title": "My laptop is slow", "priority": "normal"})).await;
    let pending = file(&d.alice, json!({"title": "VPN please", "catalog_item_id": id(&it), "fields": {}})).await;
    let approvals = d.operator.api.get("/api/itsm/approvals?state=pending").await.json();
    let approval = ids(&approvals).into_iter().next().expect("a pending approval");
    let att = ok(&upload(&d.alice, &id(&req), "note.txt", b"hello".to_vec()).await, "attachment");
    ok(
        &d.agent.api.post(&format!("/api/itsm/requests/{}/comments", id(&req)), json!({"body": "On it"})).await,
        "reply",
    );
    let inc = file(&d.agent, json!({"title": "Mail is down", "also_create_incident": true})).await;
    let art = ok(
        &a.post(
            "/api/itsm/kb/articles",
            json!({"title": "Reset your password", "body_markdown": "Steps", "status": "published"}),
        )
        .await,
        "art",
    );
    let draft = ok(
        &a.post("/api/itsm/kb/articles", json!({"title": "Draft about printers", "body_markdown": "Soon"})).await,
        "draft",
    );
    let kep = ok(
        &a.post("/api/itsm/kb/known-errors", json!({"title": "VPN drops", "symptoms": "Drops hourly", "public": true}))
            .await,
        "ke",
    );
    let kex = ok(
        &a.post(
            "/api/itsm/kb/known-errors",
            json!({"title": "Core switch bug", "symptoms": "Internal", "public": false}),
        )
        .await,
        "ke",
    );
    let svc = ok(&a.post("/api/itsm/status/services", json!({"name": "E-mail"})).await, "svc");
    let mw = ok(
        &a.post("/api/itsm/status/maintenance", json!({"title": "Upgrade", "starts_at": rfc(app, 3600), "ends_at": rfc(app, 7200), "service_ids": [id(&svc)]})).await,
        "mw",
    );
    let note = ok(&a.post("/api/itsm/status/notes", json!({"service_id": id(&svc), "body": "Slow"})).await, "note");
    let ann = ok(&a.post("/api/itsm/announcements", json!({"body": "Office closed Friday"})).await, "ann");
    let role = ok(&a.post("/api/roles", json!({"name": "auditors", "permissions": ["audit:read"]})).await, "role");
    let inv = ok(
        &a.post("/api/auth/invite", json!({"email": tier0_testkit::fixtures::unique_email("pending")})).await,
        "invite",
    );
    let invites = a.get("/api/auth/invites").await.json();
    let invite = invites["items"]
        .as_array()
        .and_then(|v| v.iter().find(|i| i["email"] == inv["email"] || i["expires_at"] == inv["expires_at"]))
        .map(id)
        .expect("the invite is listed");
    let notes = d.alice.api.get("/api/notifications").await.json();
    let notification = ids(&notes).into_iter().next().expect("alice has a notification");
    let sessions = d.alice.api.get("/api/me/sessions").await.json();
    let session = sessions
        .as_array()
        .or_else(|| sessions["items"].as_array())
        .and_then(|v| v.first())
        .map(id)
        .expect("alice has a session");
    World {
        cat: id(&cat),
        item: id(&it),
        wf: id(&wf),
        req: id(&req),
        pending: id(&pending),
        approval,
        attachment: id(&att),
        incident: inc["incident_id"].as_str().expect("incident").to_owned(),
        article: id(&art),
        draft: id(&draft),
        ke_public: id(&kep),
        ke_private: id(&kex),
        service: id(&svc),
        maintenance: id(&mw),
        note: id(&note),
        announcement: id(&ann),
        role: id(&role),
        invite,
        notification,
        session,
        d,
    }
}

/// Every id-taking API route with a valid body, for `w`'s objects.
fn id_routes(app: &TestApp, w: &World) -> Vec<(reqwest::Method, String, Option<Value>)> {
    use reqwest::Method as M;
    let r = &w.req;
    vec![
        (M::GET, format!("/api/itsm/requests/{r}"), None),
        (M::PATCH, format!("/api/itsm/requests/{r}"), Some(json!({"priority": "urgent"}))),
        (M::GET, format!("/api/itsm/requests/{r}/comments"), None),
        (M::POST, format!("/api/itsm/requests/{r}/comments"), Some(json!({"body": "intruder"}))),
        (M::POST, format!("/api/itsm/requests/{r}/transition"), Some(json!({"to": "cancelled"}))),
        (M::GET, format!("/api/itsm/requests/{r}/attachments/{}", w.attachment), None),
        (M::POST, format!("/api/itsm/requests/{r}/watchers"), Some(json!({"user": "me"}))),
        (M::DELETE, format!("/api/itsm/requests/{r}/watchers/{}", w.d.alice.id), None),
        (M::POST, format!("/api/itsm/approvals/{}", w.approval), Some(json!({"decision": "approve"}))),
        (M::GET, format!("/api/itsm/incidents/{}", w.incident), None),
        (M::GET, format!("/api/itsm/catalog/{}", w.item), None),
        (M::PATCH, format!("/api/itsm/catalog/{}", w.item), Some(json!({"name": "Hijacked"}))),
        (M::DELETE, format!("/api/itsm/catalog/{}", w.item), None),
        (M::GET, format!("/api/itsm/catalog/categories/{}", w.cat), None),
        (M::PATCH, format!("/api/itsm/catalog/categories/{}", w.cat), Some(json!({"name": "Hijacked"}))),
        (M::DELETE, format!("/api/itsm/catalog/categories/{}", w.cat), None),
        (M::GET, format!("/api/itsm/workflows/{}", w.wf), None),
        (M::PATCH, format!("/api/itsm/workflows/{}", w.wf), Some(json!({"name": "Hijacked"}))),
        (M::GET, format!("/api/itsm/kb/articles/{}", w.article), None),
        (M::PATCH, format!("/api/itsm/kb/articles/{}", w.article), Some(json!({"title": "Hijacked"}))),
        (M::GET, format!("/api/itsm/kb/articles/{}/versions", w.article), None),
        (M::POST, format!("/api/itsm/kb/articles/{}/feedback", w.article), Some(json!({"helpful": false}))),
        (M::GET, format!("/api/itsm/kb/known-errors/{}", w.ke_public), None),
        (M::PATCH, format!("/api/itsm/kb/known-errors/{}", w.ke_public), Some(json!({"title": "Hijacked"}))),
        (M::GET, format!("/api/itsm/kb/known-errors/{}/versions", w.ke_public), None),
        (M::GET, format!("/api/itsm/status/services/{}", w.service), None),
        (M::PATCH, format!("/api/itsm/status/services/{}", w.service), Some(json!({"state": "major_outage"}))),
        (M::DELETE, format!("/api/itsm/status/services/{}", w.service), None),
        (M::GET, format!("/api/itsm/status/maintenance/{}", w.maintenance), None),
        (
            M::PUT,
            format!("/api/itsm/status/maintenance/{}", w.maintenance),
            Some(json!({"title": "Hijacked", "starts_at": rfc(app, 3600), "ends_at": rfc(app, 7200)})),
        ),
        (M::DELETE, format!("/api/itsm/status/maintenance/{}", w.maintenance), None),
        (M::GET, format!("/api/itsm/status/notes/{}", w.note), None),
        (
            M::PUT,
            format!("/api/itsm/status/notes/{}", w.note),
            Some(json!({"service_id": w.service, "body": "Hijacked"})),
        ),
        (M::DELETE, format!("/api/itsm/status/notes/{}", w.note), None),
        (M::GET, format!("/api/itsm/announcements/{}", w.announcement), None),
        (M::PUT, format!("/api/itsm/announcements/{}", w.announcement), Some(json!({"body": "Hijacked"}))),
        (M::DELETE, format!("/api/itsm/announcements/{}", w.announcement), None),
        (M::POST, format!("/api/announcements/{}/dismiss", w.announcement), None),
        (M::GET, format!("/api/users/{}", w.d.alice.id), None),
        (M::PATCH, format!("/api/users/{}", w.d.alice.id), Some(json!({"active": false}))),
        (M::DELETE, format!("/api/roles/{}", w.role), None),
        (M::GET, format!("/api/rbac/role-permissions?role_id={}", w.role), None),
        (M::PUT, "/api/rbac/role-permissions".into(), Some(json!({"role_id": w.role, "permissions": ["*"]}))),
        (M::DELETE, format!("/api/auth/invites/{}", w.invite), None),
        (M::POST, format!("/api/notifications/{}/read", w.notification), None),
        (M::DELETE, format!("/api/me/sessions/{}", w.session), None),
    ]
}

async fn call(c: &Client, m: &reqwest::Method, path: &str, body: &Option<Value>) -> Resp {
    let rb = c.request(m.clone(), path);
    let rb = match body {
        Some(b) => rb.json(b),
        None => rb,
    };
    c.send(rb).await
}

/// IDOR: another tenant's admin (who holds every permission) gets 404 on
/// every id-taking route for this tenant's ids, and nothing changes; other
/// users of the same tenant get 404 for what is not theirs; deleted
/// objects are 404 afterwards; hostile ids are 404 too.
async fn idor_on_every_id_route(app: &TestApp) {
    let w = world(app).await;
    let before = w.d.admin.api.get(&format!("/api/itsm/requests/{}", w.req)).await.text;
    let intruder = app.tenant("intruder").await;
    for (m, path, body) in id_routes(app, &w) {
        let r = call(&intruder.api, &m, &path, &body).await;
        assert_eq!(r.status, 404, "{m} {path} across tenants: {} {}", r.status, r.text);
        assert_eq!(r.code(), "not_found", "{m} {path}");
    }
    // Nothing was written: the request, its comments, the objects stand.
    let after = w.d.admin.api.get(&format!("/api/itsm/requests/{}", w.req)).await.text;
    assert_eq!(before, after, "a cross-tenant call changed the request");
    assert_eq!(w.d.admin.api.get(&format!("/api/itsm/catalog/{}", w.item)).await.json()["name"], "VPN");
    assert_eq!(w.d.admin.api.get(&format!("/api/users/{}", w.d.alice.id)).await.json()["active"], true);
    w.d.admin.api.get(&format!("/api/itsm/status/services/{}", w.service)).await.expect(200);
    w.d.alice.api.get("/api/me").await.expect(200);

    // The same tenant, someone else's things.
    let bob = &w.d.bob.api;
    let r = &w.req;
    for (m, path, body) in [
        (reqwest::Method::GET, format!("/api/itsm/requests/{r}"), None),
        (reqwest::Method::GET, format!("/api/itsm/requests/{r}/comments"), None),
        (reqwest::Method::POST, format!("/api/itsm/requests/{r}/comments"), Some(json!({"body": "hi"}))),
        (reqwest::Method::POST, format!("/api/itsm/requests/{r}/transition"), Some(json!({"to": "cancelled"}))),
        (reqwest::Method::GET, format!("/api/itsm/requests/{r}/attachments/{}", w.attachment), None),
        (reqwest::Method::POST, format!("/api/itsm/requests/{r}/watchers"), Some(json!({"user": "me"}))),
        (reqwest::Method::POST, format!("/api/itsm/approvals/{}", w.approval), Some(json!({"decision": "approve"}))),
        (reqwest::Method::GET, format!("/api/itsm/kb/articles/{}", w.draft), None),
        (reqwest::Method::GET, format!("/api/itsm/kb/known-errors/{}", w.ke_private), None),
        (reqwest::Method::POST, format!("/api/notifications/{}/read", w.notification), None),
        (reqwest::Method::DELETE, format!("/api/me/sessions/{}", w.session), None),
    ] {
        let resp = call(bob, &m, &path, &body).await;
        assert_eq!(resp.status, 404, "{m} {path} as another requester: {}", resp.text);
    }
    // A fulfiller who is not the approver cannot decide either.
    let resp = w.d.agent.api.post(&format!("/api/itsm/approvals/{}", w.approval), json!({"decision": "approve"})).await;
    assert_eq!(resp.status, 404, "non-approver decided: {}", resp.text);
    let pending = w.d.alice.api.get(&format!("/api/itsm/requests/{}", w.pending)).await.json();
    assert_eq!(pending["status"], "pending_approval");
    w.d.alice.api.get("/api/me").await.expect(200);
    // Pages too.
    let bob_pages = browser(&w.d.bob).await;
    for p in [
        format!("/portal/requests/{r}"),
        format!("/portal/knowledge/{}", w.draft),
        format!("/portal/knowledge/{}", w.ke_private),
    ] {
        assert_eq!(bob_pages.get(&p).await.status, 404, "{p}");
    }
    let intruder_pages = browser(&intruder).await;
    for p in [
        format!("/portal/requests/{r}"),
        format!("/itsm/requests/{r}"),
        format!("/itsm/catalog/{}/edit", w.item),
        format!("/itsm/kb/{}", w.article),
    ] {
        assert_eq!(intruder_pages.get(&p).await.status, 404, "{p} across tenants");
    }

    // Deleted objects are gone for everyone, including their owner.
    let a = &w.d.admin.api;
    for (del, path) in [
        (format!("/api/itsm/announcements/{}", w.announcement), format!("/api/itsm/announcements/{}", w.announcement)),
        (format!("/api/itsm/status/notes/{}", w.note), format!("/api/itsm/status/notes/{}", w.note)),
        (
            format!("/api/itsm/status/maintenance/{}", w.maintenance),
            format!("/api/itsm/status/maintenance/{}", w.maintenance),
        ),
        (format!("/api/roles/{}", w.role), format!("/api/rbac/role-permissions?role_id={}", w.role)),
        (format!("/api/auth/invites/{}", w.invite), format!("/api/auth/invites/{}", w.invite)),
    ] {
        let r = a.delete(&del).await;
        assert!((200..300).contains(&r.status), "DELETE {del}: {} {}", r.status, r.text);
        let again = a.delete(&del).await;
        assert_eq!(again.status, 404, "DELETE {del} twice: {}", again.text);
        if !path.contains("/invites/") {
            let g = a.get(&path).await;
            assert_eq!(g.status, 404, "GET {path} after delete: {}", g.text);
        }
    }
    let r = a.put(&format!("/api/itsm/announcements/{}", w.announcement), json!({"body": "Back"})).await;
    assert_eq!(r.status, 404, "PUT on a deleted announcement: {}", r.text);

    // Hostile ids: never a 500, never someone's data.
    for hostile in [
        "1%27%20OR%20%271%27%3D%271",
        "%00",
        "..%2F..%2Fetc%2Fpasswd",
        "%2A",
        "1;DROP%20TABLE%20requests",
        &"9".repeat(5000),
    ] {
        for p in [
            format!("/api/itsm/requests/{hostile}"),
            format!("/api/itsm/catalog/{hostile}"),
            format!("/api/itsm/kb/articles/{hostile}"),
            format!("/api/users/{hostile}"),
            format!("/portal/requests/{hostile}"),
        ] {
            let r = w.d.admin.api.get(&p).await;
            assert!((400..500).contains(&r.status), "{p}: {} {}", r.status, r.text);
        }
    }
    assert!(
        w.d.admin.api.get("/api/itsm/requests?limit=200").await.json()["items"]
            .as_array()
            .is_some_and(|v| v.len() >= 3)
    );
}
dual_test!(idor_on_every_id_route);

/// Ids of tenant B inside tenant A's bodies are refused and write nothing.
async fn foreign_ids_in_bodies_write_nothing(app: &TestApp) {
    let d = desk(app).await;
    let b = app.tenant("other").await;
    let b_agent =
        tier0_testkit::fixtures::invite_user(&b, "fulfiller", &tier0_testkit::fixtures::unique_email("b-agent")).await;
    let b_role = b.api.get("/api/roles").await.json().as_array().and_then(|r| r.first()).map(id).expect("B has roles");
    let b_cat = ok(&b.api.post("/api/itsm/catalog/categories", json!({"name": "Theirs"})).await, "b cat");
    let b_item = item(&b, json!({"name": "Their item", "description": "x"})).await;
    let b_wf = ok(
        &b.api
            .post(
                "/api/itsm/workflows",
                json!({"name": "Theirs", "stages": [{"approvers": {"users": [b_agent.email]}}]}),
            )
            .await,
        "b wf",
    );
    let b_svc = ok(&b.api.post("/api/itsm/status/services", json!({"name": "Their mail"})).await, "b svc");
    let a = &d.admin.api;
    let items_before = a.get("/api/itsm/catalog").await.json()["items"].as_array().map(Vec::len);
    let req = file(&d.alice, json!({"title": "Mine"})).await;
    let requests_before = a.get("/api/itsm/requests?limit=200").await.json()["items"].as_array().map(Vec::len);

    let refused = |r: &Resp, what: &str| {
        assert!(matches!(r.status, 404 | 422), "{what}: {} {}", r.status, r.text);
    };
    refused(
        &a.post("/api/itsm/catalog", json!({"name": "X", "description": "x", "category_id": id(&b_cat)})).await,
        "item in a foreign category",
    );
    refused(
        &a.post("/api/itsm/catalog", json!({"name": "Y", "description": "y", "workflow_definition_id": id(&b_wf)}))
            .await,
        "item with a foreign workflow",
    );
    refused(
        &d.alice.api.post("/api/itsm/requests", json!({"title": "Z", "catalog_item_id": id(&b_item)})).await,
        "request for a foreign item",
    );
    refused(
        &d.agent.api.post("/api/itsm/requests", json!({"title": "Z", "requester": b_agent.id})).await,
        "request on behalf of a foreign user",
    );
    refused(
        &d.agent.api.patch(&format!("/api/itsm/requests/{}", id(&req)), json!({"assignee": b_agent.id})).await,
        "foreign assignee",
    );
    refused(
        &d.agent.api.patch(&format!("/api/itsm/requests/{}", id(&req)), json!({"assignee": b_agent.email})).await,
        "foreign assignee by e-mail",
    );
    refused(
        &d.agent.api.post(&format!("/api/itsm/requests/{}/watchers", id(&req)), json!({"user": b_agent.id})).await,
        "foreign watcher",
    );
    refused(
        &a.post("/api/itsm/workflows", json!({"name": "W", "stages": [{"approvers": {"users": [b_agent.id]}}]})).await,
        "foreign approver",
    );
    refused(
        &a.post("/api/itsm/status/notes", json!({"service_id": id(&b_svc), "body": "x"})).await,
        "note on a foreign service",
    );
    refused(
        &a.post(
            "/api/itsm/status/maintenance",
            json!({"title": "M", "starts_at": rfc(app, 60), "ends_at": rfc(app, 120), "service_ids": [id(&b_svc)]}),
        )
        .await,
        "maintenance of a foreign service",
    );
    refused(
        &a.put("/api/rbac/role-permissions", json!({"role_id": b_role, "permissions": ["itsm:read"]})).await,
        "foreign role",
    );

    assert_eq!(a.get("/api/itsm/catalog").await.json()["items"].as_array().map(Vec::len), items_before);
    assert_eq!(a.get("/api/itsm/requests?limit=200").await.json()["items"].as_array().map(Vec::len), requests_before);
    let r = a.get(&format!("/api/itsm/requests/{}", id(&req))).await.json();
    assert!(r["assignee"].is_null(), "{r}");
    assert_eq!(a.get("/api/itsm/workflows").await.json()["items"].as_array().map(Vec::len).unwrap_or(0), 0);
    assert_eq!(a.get("/api/itsm/status/notes").await.json()["items"].as_array().map(Vec::len).unwrap_or(0), 0);
    assert_eq!(a.get("/api/itsm/status/maintenance").await.json()["items"].as_array().map(Vec::len).unwrap_or(0), 0);
    // Tenant B is untouched too.
    assert_eq!(b.api.get(&format!("/api/itsm/catalog/{}", id(&b_item))).await.json()["name"], "Their item");
}
dual_test!(foreign_ids_in_bodies_write_nothing);

/// Requesters cannot change what is not theirs to change: status,
/// priority, assignee, number, tenant, role. Refused or ignored, never
/// applied.
async fn requesters_cannot_change_protected_fields(app: &TestApp) {
    let d = desk(app).await;
    let other = app.tenant("elsewhere").await;
    let other_tenant = other.api.get("/api/me").await.json()["tenant"].clone();
    let r = d
        .alice
        .api
        .post(
            "/api/itsm/requests",
            json!({"title": "Printer is jammed", "status": "resolved", "assignee": d.agent.id, "assignee_id": d.agent.id,
                   "number": 9999, "tenant_id": other_tenant["id"], "tenant": other_tenant, "created_by": d.admin.id,
                   "due_at": "2000-01-01T00:00:00Z", "incident_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}),
        )
        .await;
    assert!(matches!(r.status, 201 | 422), "{}", r.text);
    let rid =
        if r.status == 201 { id(&r.json()) } else { id(&file(&d.alice, json!({"title": "Printer is jammed"})).await) };
    let path = format!("/api/itsm/requests/{rid}");
    let fresh = d.alice.api.get(&path).await.json();
    assert_eq!(fresh["status"], "new", "{fresh}");
    assert!(fresh["assignee"].is_null() && fresh["incident_id"].is_null(), "{fresh}");
    assert_ne!(fresh["number"], 9999);
    assert_ne!(fresh["number"], "REQ-9999");
    for patch in [
        json!({"status": "resolved"}),
        json!({"priority": "urgent"}),
        json!({"assignee": d.alice.id}),
        json!({"assignee": "me"}),
        json!({"tenant_id": "x"}),
    ] {
        let r = d.alice.api.patch(&path, patch.clone()).await;
        assert!(matches!(r.status, 403 | 404 | 422), "requester PATCH {patch}: {} {}", r.status, r.text);
    }
    // A transition a requester may not make.
    d.alice
        .api
        .post(&format!("{path}/transition"), json!({"to": "in_progress"}))
        .await
        .expect_error(409, "illegal_transition");
    assert_eq!(d.alice.api.get(&path).await.text, d.alice.api.get(&path).await.text);
    let now = d.alice.api.get(&path).await.json();
    assert_eq!((now["status"].as_str(), now["priority"].as_str()), (Some("new"), fresh["priority"].as_str()));
    assert!(now["assignee"].is_null());
    // Internal notes are not a requester's to write.
    d.alice.api.post(&format!("{path}/comments"), json!({"body": "x", "internal": true})).await.expect(403);
    // Their own account: no role, no activation, no one else's name.
    let me = d
        .alice
        .api
        .patch("/api/me", json!({"role": "admin", "permissions": ["*"], "active": true, "tenant_id": "x"}))
        .await;
    assert!(matches!(me.status, 200 | 422), "{}", me.text);
    d.alice.api.patch(&format!("/api/users/{}", d.alice.id), json!({"role": "admin"})).await.expect(403);
    d.alice.api.patch(&format!("/api/users/{}", d.bob.id), json!({"name": "Hijacked"})).await.expect(403);
    let me = d.alice.api.get("/api/me").await.json();
    assert_eq!(me["role"], "requester");
    assert_eq!(me["permissions"], json!(["itsm:read", "itsm:write"]));
    assert_ne!(d.admin.api.get(&format!("/api/users/{}", d.bob.id)).await.json()["name"], "Hijacked");
}
dual_test!(requesters_cannot_change_protected_fields);

/// Malformed, oversized and SQL-ish input: a clean SPEC §3 4xx, on every
/// list endpoint and the request body paths, never a 500.
async fn hostile_input_gets_a_clean_4xx(app: &TestApp) {
    let d = desk(app).await;
    let a = &d.admin.api;
    let lists = [
        "/api/users",
        "/api/audit",
        "/api/auth/invites",
        "/api/itsm/requests",
        "/api/itsm/catalog",
        "/api/itsm/incidents",
        "/api/itsm/approvals",
        "/api/itsm/kb/articles",
        "/api/itsm/kb/known-errors",
        "/api/itsm/workflows",
        "/api/itsm/announcements",
        "/api/itsm/status/services",
        "/api/itsm/status/maintenance",
        "/api/itsm/status/notes",
        "/api/notifications",
    ];
    for l in lists {
        a.get(l).await.expect(200);
        for q in [
            "limit=1000000",
            "limit=0",
            "limit=-5",
            "limit=abc",
            "limit=99999999999999999999999",
            "cursor=%00%00",
            "cursor=' OR 1=1 --",
            "cursor=zzzz",
        ] {
            let r = a.get(&format!("{l}?{q}")).await;
            assert!((400..500).contains(&r.status), "{l}?{q}: {} {}", r.status, r.text);
            assert!(r.json()["error"]["code"].is_string(), "{l}?{q}: {}", r.text);
        }
        // Unknown or SQL-ish filters and sort keys are ignored or refused, never run.
        for q in [
            "sort=id;DROP TABLE users",
            "order=1 desc--",
            "status=' OR '1'='1",
            "q=%00",
            "q=' OR 1=1 --",
            "q=%E2%80%AE%F0%9F%92%A9",
        ] {
            let r = a.get(&format!("{l}?{q}")).await;
            assert!(r.status < 500, "{l}?{q}: {} {}", r.status, r.text);
        }
    }
    a.get("/api/users").await.expect(200);
    // NUL bytes in text are refused (PostgreSQL cannot store them; neither do we on SQLite).
    for body in [json!({"title": "a\u{0}b"}), json!({"title": "ok", "details": "x\u{0}y"})] {
        let r = d.alice.api.post("/api/itsm/requests", body.clone()).await;
        r.expect_error(422, "validation_failed");
    }
    for (path, body) in [
        ("/api/itsm/kb/articles", json!({"title": "t\u{0}", "body_markdown": "b"})),
        ("/api/itsm/catalog/categories", json!({"name": "c\u{0}"})),
        ("/api/itsm/status/services", json!({"name": "s\u{0}"})),
        ("/api/itsm/announcements", json!({"body": "a\u{0}"})),
        ("/api/auth/login", json!({"email": "a\u{0}@example.com", "password": "x"})),
        ("/api/itsm/kedb/search", json!({"query": "printer\u{0}"})),
    ] {
        let r = a.post(path, body).await;
        assert!(
            (400..500).contains(&r.status) || (path == "/api/itsm/kedb/search" && r.status == 200),
            "{path}: {} {}",
            r.status,
            r.text
        );
    }
    let r = a.patch("/api/me", json!({"name": "n\u{0}"})).await;
    r.expect_error(422, "validation_failed");
    // Oversized and deeply nested bodies on a write path.
    let big = json!({"title": "Big", "details": "x".repeat(1024 * 1024 + 1)});
    d.alice.api.post("/api/itsm/requests", big).await.expect_error(413, "payload_too_large");
    let deep = format!(r#"{{"title":"Deep","fields":{}{}}}"#, "{\"a\":".repeat(5000), "}".repeat(5000));
    let r = d
        .alice
        .api
        .send(
            d.alice
                .api
                .request(reqwest::Method::POST, "/api/itsm/requests")
                .header("content-type", "application/json")
                .body(deep),
        )
        .await;
    assert!((400..500).contains(&r.status), "deep JSON: {} {}", r.status, r.text);
    // Long fields are refused with the field named.
    let r = d.alice.api.post("/api/itsm/requests", json!({"title": "t".repeat(201)})).await;
    r.expect_error(422, "validation_failed");
    assert!(r.json()["error"]["fields"]["title"].is_string());
    // Wrong types and shapes.
    for body in [
        json!({"title": ["x"]}),
        json!({"title": {"$ne": ""}}),
        json!("title"),
        json!(null),
        json!({"title": "ok", "priority": "SELECT 1"}),
    ] {
        let r = d.alice.api.post("/api/itsm/requests", body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
    }
    // Odd headers.
    let r = a
        .with_header("content-type", "application/json; charset=utf-16")
        .post("/api/itsm/requests", json!({"title": "x"}))
        .await;
    assert!(r.status < 500, "{}", r.text);
    let anon = a.fresh();
    let r = anon.with_header("authorization", "Bearer ' OR 1=1 --").get("/api/me").await;
    r.expect_error(401, "unauthorized");
    let r = anon.with_header("authorization", &format!("Bearer {}", "a".repeat(10_000))).get("/api/me").await;
    assert!(matches!(r.status, 400 | 401 | 431), "{}", r.status);
    let r = anon.with_header("cookie", &format!("tier0_session={}", "%00".repeat(50))).get("/api/me").await;
    r.expect_error(401, "unauthorized");
    // Pages take hostile query strings too.
    let pages = browser(&d.alice).await;
    for p in [
        "/portal?q=%00",
        "/portal?category=' OR 1=1",
        "/portal/requests?status=%00&cursor=zz",
        "/portal/knowledge?q=%22%3E%3Cscript%3E",
        "/login?next=%00",
        "/portal/requests?limit=1000000",
    ] {
        let r = pages.get(p).await;
        assert!(r.status < 500, "{p}: {} {}", r.status, r.text);
    }
}
dual_test!(hostile_input_gets_a_clean_4xx);

const PAGE_PATHS: &[&str] = &[
    "/login",
    "/forgot-password",
    "/portal",
    "/portal/requests",
    "/portal/knowledge",
    "/portal/status",
    "/portal/approvals",
    "/portal/profile",
    "/portal/notifications",
    "/portal/request/new",
    "/itsm",
    "/itsm/requests",
    "/itsm/kb",
    "/itsm/catalog",
    "/itsm/status",
    "/settings/users",
    "/settings/portal",
    "/api/me",
    "/api/openapi.json",
    "/api/definitely-not-here",
    "/no-such-page",
];

#[track_caller]
fn assert_security_headers(what: &str, r: &Resp, https: bool) {
    let csp = r.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
    let script = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .or_else(|| csp.split(';').map(str::trim).find(|d| d.starts_with("default-src")));
    let script = script.unwrap_or_else(|| panic!("{what}: CSP has no script policy: {csp}"));
    assert!(!script.contains("unsafe-inline") && !script.contains("unsafe-eval"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"), "{what}");
    assert!(r.header("referrer-policy").is_some_and(|v| !v.contains("unsafe-url")), "{what}");
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"), "{what}");
    let hsts = r.header("strict-transport-security");
    if https {
        assert!(hsts.is_some_and(|v| v.contains("max-age=") && !v.contains("max-age=0")), "{what}: no HSTS over https");
    } else {
        assert!(hsts.is_none(), "{what}: HSTS over plain http");
    }
}

/// Security headers on every page and API response, signed in or not; HSTS
/// exactly when the public URL is https.
async fn security_headers_on_every_response(app: &TestApp) {
    let admin = app.admin().await;
    let signed_in = browser(&admin).await;
    let anon = app.client();
    for p in PAGE_PATHS {
        assert_security_headers(&format!("anonymous {p}"), &anon.get(p).await, false);
        assert_security_headers(&format!("admin {p}"), &signed_in.get(p).await, false);
    }
    assert_security_headers(
        "POST",
        &anon.post("/api/auth/login", json!({"email": "a@b.co", "password": "x"})).await,
        false,
    );
    assert_security_headers("healthz", &anon.get("/healthz").await, false);
    assert_security_headers("css", &anon.get("/assets/app.css").await, false);
}
dual_test!(security_headers_on_every_response);

async fn hsts_over_https(app: &TestApp) {
    let anon = app.client();
    for p in ["/login", "/api/me", "/healthz"] {
        assert_security_headers(p, &anon.get(p).await, true);
    }
    // The session cookie is Secure behind https.
    let admin = app.admin().await;
    let r = admin.api.fresh().post("/api/auth/login", json!({"email": admin.email, "password": admin.password})).await;
    r.expect(200);
    let cookie = r.header("set-cookie").unwrap_or_default();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
}
dual_test!(hsts_over_https, |b| tier0_testkit::Spawn::new(b).tweak(|c| {
    c.public_url = url::Url::parse("https://localhost").unwrap();
}));
