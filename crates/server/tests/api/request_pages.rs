//! The service desk pages (SPEC §5, §7, §8) driven as a browser without
//! JavaScript would: signed in through `/login` (cookie jar), forms posted
//! URL-encoded or multipart, redirects followed by hand. Per role, across
//! tenants, on both databases.

use crate::itsm_support::*;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tier0_testkit::isolation::{Probe, assert_isolated};
use tier0_testkit::{Client, Resp, TestApp, TestUser, dual_test};

#[track_caller]
fn location(r: &Resp) -> String {
    assert!((300..400).contains(&r.status), "expected a redirect, got {}: {}", r.status, r.text);
    r.header("location").expect("location header")
}

/// The id in `/portal/requests/{id}?done=…` (or any `…/{id}[/…][?…]`
/// after `prefix`).
fn id_after(loc: &str, prefix: &str) -> String {
    let rest = loc.strip_prefix(prefix).unwrap_or_else(|| panic!("{loc} does not start with {prefix}"));
    rest.split(['/', '?', '#']).next().unwrap_or_default().to_owned()
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")
}

/// The value of the first `<input … name="…" value="…">`.
fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let v = tag.split(" value=\"").nth(1)?;
    Some(unescape(&v[..v.find('"')?]))
}

/// The text of the first `<textarea … name="…">…</textarea>`.
fn textarea_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let open_end = at + html[at..].find('>')? + 1;
    let close = open_end + html[open_end..].find("</textarea>")?;
    Some(unescape(&html[open_end..close]))
}

/// The target of the page's `rel="next"` link.
fn next_link(html: &str) -> Option<String> {
    let end = html.find("\" rel=\"next\"")?;
    let start = html[..end].rfind("href=\"")? + 6;
    Some(html[start..end].replace("&amp;", "&"))
}

fn owned(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

async fn post(c: &Client, path: &str, fields: &[(String, String)]) -> Resp {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.post_form(path, &refs).await
}

/// A multipart form post with an optional file in the part `file`.
async fn post_multipart(c: &Client, path: &str, fields: &[(&str, &str)], file: Option<(&str, Vec<u8>)>) -> Resp {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    if let Some((name, bytes)) = file {
        form = form.part("file", Part::bytes(bytes).file_name(name.to_owned()));
    }
    c.send(c.request(reqwest::Method::POST, path).multipart(form)).await
}

async fn detail(u: &TestUser, rid: &str) -> Value {
    let r = u.api.get(&format!("/api/itsm/requests/{rid}")).await;
    r.expect(200);
    r.json()
}

/// An item asking every kind of question.
async fn badge_item(admin: &TestUser, category: Option<&str>) -> Value {
    item(
        admin,
        json!({
            "name": "Access badge",
            "description": "A badge to enter the building",
            "icon": "access",
            "category_id": category,
            "fulfillment_target_hours": 48,
            "fields": [
                {"key": "full_name", "label": "Name on the badge", "type": "text", "required": true, "help": "As it should be printed"},
                {"key": "why", "label": "Why you need it", "type": "textarea"},
                {"key": "floors", "label": "Number of floors", "type": "number"},
                {"key": "start", "label": "Start date", "type": "date", "required": true},
                {"key": "building", "label": "Building", "type": "select", "required": true, "options": ["North", "South"]},
                {"key": "rooms", "label": "Rooms", "type": "multiselect", "options": ["Lab", "Server room"]},
                {"key": "agree", "label": "I will wear it visibly", "type": "checkbox", "required": true},
                {"key": "manager", "label": "Manager e-mail", "type": "email"}
            ]
        }),
    )
    .await
}

async fn catalog_and_request_form(app: &TestApp) {
    let d = desk(app).await;
    d.admin
        .api
        .put("/api/settings/portal", json!({"description": "Ask us for equipment and access here."}))
        .await
        .expect(200);
    let hw = d.admin.api.post("/api/itsm/catalog/categories", json!({"name": "Facilities", "position": 1})).await;
    hw.expect(201);
    let cat = id(&hw.json());
    let badge = badge_item(&d.admin, Some(&cat)).await;
    let laptop = laptop_item(&d.admin).await;
    let wf = d
        .admin
        .api
        .post("/api/itsm/workflows", json!({"name": "Boss", "stages": [{"approvers": {"roles": ["operator"]}}]}))
        .await;
    wf.expect(201);
    let gated = item(
        &d.admin,
        json!({"name": "Admin rights", "workflow_definition_id": id(&wf.json()), "fulfillment_target_hours": 4}),
    )
    .await;
    item(&d.admin, json!({"name": "Secret item", "published": false})).await;

    let alice = browser(&d.alice).await;
    // The catalog: description, categories, cards with icons, targets and approval.
    let p = alice.get("/portal").await;
    p.expect(200);
    assert!(p.text.contains("Ask us for equipment and access here."), "{}", p.text);
    assert!(p.text.contains("Service Catalog") && p.text.contains("Facilities"));
    for name in ["Access badge", "New laptop", "Admin rights"] {
        assert!(p.text.contains(name), "{name} missing");
    }
    assert!(!p.text.contains("Secret item"));
    assert!(p.text.contains("Usually done within 2 days") && p.text.contains("Usually done within 4 hours"));
    assert!(p.text.contains("Needs approval"));
    assert!(p.text.contains("<svg class=\"icon\""));
    assert!(p.text.contains("href=\"/portal/request/new\"") && p.text.contains("Submit a request"));
    // Search and category filter; "can't find it" carries the words.
    let s = alice.get("/portal?q=laptop").await;
    s.expect(200);
    assert!(s.text.contains("New laptop") && !s.text.contains("Access badge"));
    assert!(s.text.contains("href=\"/portal/request/new?title=laptop\""), "{}", s.text);
    let s = alice.get(&format!("/portal?category_id={cat}")).await;
    assert!(s.text.contains("Access badge") && !s.text.contains("New laptop"));
    let s = alice.get("/portal?q=nothing-like-this").await;
    assert!(s.text.contains("Nothing in the catalog matches."));
    // A bad cursor is not an error page.
    alice.get("/portal?cursor=garbage").await.expect(200);

    // The generated form: every field type, required markers, help.
    let path = format!("/portal/catalog/{}", id(&badge));
    let f = alice.get(&path).await;
    f.expect(200);
    for needle in [
        "type=\"text\" name=\"fields.full_name\"",
        "<textarea id=\"f-why\" name=\"fields.why\"",
        "type=\"number\" name=\"fields.floors\"",
        "type=\"date\" name=\"fields.start\"",
        "<select id=\"f-building\" name=\"fields.building\"",
        "type=\"checkbox\" id=\"f-rooms-1\" name=\"fields.rooms\" value=\"Server room\"",
        "type=\"checkbox\" id=\"f-agree\" name=\"fields.agree\" value=\"true\"",
        "type=\"email\" name=\"fields.manager\"",
        "As it should be printed",
        "(required)",
        "enctype=\"multipart/form-data\"",
    ] {
        assert!(f.text.contains(needle), "{needle} missing in {}", f.text);
    }
    assert_eq!(input_value(&f.text, "title").as_deref(), Some("Access badge"));
    assert!(!f.text.contains("Also create an incident"), "requesters never see the incident box");
    // Unpublished or unknown items are not found.
    alice.get("/portal/catalog/01HZZZZZZZZZZZZZZZZZZZZZZZ").await.expect(404);

    // Wrong values: 422, each message next to its field, values kept.
    let bad = [
        ("title", "Badge for me"),
        ("fields.full_name", " "),
        ("fields.floors", "abc"),
        ("fields.start", "tomorrow"),
        ("fields.building", "West"),
        ("fields.rooms", "Lab"),
        ("fields.manager", "not an address"),
        ("details", "kept details"),
    ];
    let r = alice.post_form(&path, &bad).await;
    assert_eq!(r.status, 422, "{}", r.text);
    for (id, text) in [
        ("f-full_name-error", "Name on the badge is required"),
        ("f-floors-error", "Number of floors must be a number"),
        ("f-start-error", "Start date must be a date"),
        ("f-building-error", "Building must be one of the options"),
        ("f-agree-error", "I will wear it visibly must be checked"),
        ("f-manager-error", "Manager e-mail"),
    ] {
        let at = r.text.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("{id} missing: {}", r.text));
        assert!(r.text[at..].contains(text), "{id}: {text}");
    }
    assert_eq!(input_value(&r.text, "fields.floors").as_deref(), Some("abc"));
    assert_eq!(input_value(&r.text, "fields.manager").as_deref(), Some("not an address"));
    assert!(r.text.contains("name=\"fields.rooms\" value=\"Lab\" checked"));
    assert!(r.text.contains("<option value=\"North\">North</option>"));
    assert_eq!(textarea_value(&r.text, "details").as_deref(), Some("kept details"));
    assert!(r.text.contains("aria-invalid=\"true\""));
    assert_eq!(alice.get("/api/itsm/requests").await.json()["items"].as_array().map(Vec::len), Some(0));

    // Right values (multipart, with a file): filed, then shown labelled.
    let good = [
        ("title", "Badge for me"),
        ("fields.full_name", "Alice Example"),
        ("fields.floors", "3"),
        ("fields.start", "2030-01-02"),
        ("fields.building", "North"),
        ("fields.rooms", "Lab"),
        ("fields.rooms", "Server room"),
        ("fields.agree", "true"),
        ("details", ""),
    ];
    let r = post_multipart(&alice, &path, &good, Some(("photo.txt", b"my photo, as text".to_vec()))).await;
    let loc = location(&r);
    assert!(loc.ends_with("?done=filed"), "{loc}");
    let rid = id_after(&loc, "/portal/requests/");
    let v = detail(&d.alice, &rid).await;
    assert_eq!(
        v["fields"],
        json!({"full_name": "Alice Example", "floors": 3, "start": "2030-01-02", "building": "North", "rooms": ["Lab", "Server room"], "agree": true})
    );
    assert_eq!(v["attachments"][0]["filename"], "photo.txt");
    let page = alice.get(&loc).await;
    page.expect(200);
    assert!(page.text.contains("your request was submitted"));
    for needle in
        ["<dt>Name on the badge</dt>", "Alice Example", "Lab, Server room", "<dt>I will wear it visibly</dt>", "Yes"]
    {
        assert!(page.text.contains(needle), "{needle} missing");
    }
    assert!(page.text.contains("Usually done by"));
    assert!(page.text.contains(&format!("/api/itsm/requests/{rid}/attachments/")));
    // The download link works for the requester.
    let aid = v["attachments"][0]["id"].as_str().unwrap();
    let dl = alice.get(&format!("/api/itsm/requests/{rid}/attachments/{aid}")).await;
    dl.expect(200);
    assert_eq!(dl.text, "my photo, as text");

    // An item with approval says so, and the request waits.
    let gp = format!("/portal/catalog/{}", id(&gated));
    assert!(alice.get(&gp).await.text.contains("This request needs approval"));
    let r = alice.post_form(&gp, &[("title", "Admin rights please")]).await;
    let gid = id_after(&location(&r), "/portal/requests/");
    let page = alice.get(&format!("/portal/requests/{gid}")).await;
    assert!(page.text.contains("Waiting for approval"), "{}", page.text);
    assert!(page.text.contains("Pending approval"));
    let _ = laptop;
}
dual_test!(catalog_and_request_form);

async fn generic_request_form(app: &TestApp) {
    let d = desk(app).await;
    let alice = browser(&d.alice).await;
    let agent = browser(&d.agent).await;
    // Pre-filled from the knowledge base's link; the deflection hook.
    let f = alice.get("/portal/request/new?title=Printer%20jams&details=It%20beeps%20%3Cloudly%3E").await;
    f.expect(200);
    assert_eq!(input_value(&f.text, "title").as_deref(), Some("Printer jams"));
    assert_eq!(textarea_value(&f.text, "details").as_deref(), Some("It beeps <loudly>"));
    assert!(f.text.contains("It beeps &lt;loudly&gt;"));
    assert!(f.text.contains("data-suggest") && f.text.contains("autocomplete=\"off\""));
    // Suggestions as people type (script) and, without JavaScript, a button
    // that submits the form to the knowledge check step.
    assert!(f.text.contains("<script src=\"/assets/deflect.js\" defer>"), "{}", f.text);
    assert!(f.text.contains("formaction=\"/portal/request/check\" formmethod=\"get\""));
    assert!(f.text.contains("name=\"priority\" value=\"urgent\""));
    // Agent-only inputs are absent for requesters, present for fulfillers.
    assert!(!f.text.contains("Also create an incident") && !f.text.contains("name=\"requester\""));
    let g = agent.get("/portal/request/new").await;
    assert!(g.text.contains("Also create an incident (for urgent issues)") && g.text.contains("name=\"requester\""));

    // Errors are shown next to the field; values kept.
    let r =
        alice.post_form("/portal/request/new", &[("title", "  "), ("details", "Keep me"), ("priority", "high")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"f-title-error\"") && r.text.contains("Summary is required"), "{}", r.text);
    assert_eq!(textarea_value(&r.text, "details").as_deref(), Some("Keep me"));
    assert!(r.text.contains("value=\"high\" checked"));
    // A forged incident box from a requester is refused and files nothing.
    let r = alice
        .post_form(
            "/portal/request/new",
            &[("title", "Urgent"), ("also_create_incident", "true"), ("requester", &d.bob.email)],
        )
        .await;
    let filed = d.alice.api.get("/api/itsm/requests").await.json()["items"].as_array().map(Vec::len);
    // Requesters' agent-only fields are ignored, not obeyed.
    assert_eq!(r.status, 303, "{}", r.text);
    let rid = id_after(&location(&r), "/portal/requests/");
    let v = detail(&d.alice, &rid).await;
    assert_eq!(v["requester"]["id"], d.alice.id.as_str());
    assert!(v["incident_id"].is_null());
    assert_eq!(filed, Some(1));

    // A fulfiller files for Bob with an incident.
    let r = agent
        .post_form(
            "/portal/request/new",
            &[
                ("title", "VPN down for Bob"),
                ("details", "Cannot connect"),
                ("priority", "urgent"),
                ("requester", &d.bob.email),
                ("also_create_incident", "true"),
            ],
        )
        .await;
    let rid = id_after(&location(&r), "/portal/requests/");
    let v = detail(&d.agent, &rid).await;
    assert_eq!(v["requester"]["id"], d.bob.id.as_str());
    assert_eq!(v["priority"], "urgent");
    assert!(v["incident_id"].is_string(), "{v}");
    // On behalf of an unknown person: the message is next to the field.
    let r = agent.post_form("/portal/request/new", &[("title", "x"), ("requester", "nobody@nowhere.example")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"f-requester-error\""));
    // A file too large for the limit is refused with the form kept.
    let big = vec![b'a'; 25 * 1024 * 1024 + 10];
    let r = post_multipart(&alice, "/portal/request/new", &[("title", "Big file")], Some(("big.txt", big))).await;
    assert_eq!(r.status, 413, "{}", &r.text[..r.text.len().min(500)]);
    assert!(r.text.contains("id=\"f-file-error\"") && r.text.contains("larger than 25 MB"));
    assert_eq!(input_value(&r.text, "title").as_deref(), Some("Big file"));
    // Anonymous visitors are sent to sign in.
    let r = app.client().get("/portal/request/new?title=x").await;
    assert!(location(&r).starts_with("/login?next=%2Fportal%2Frequest%2Fnew"));
}
dual_test!(generic_request_form);

async fn my_requests_and_actions(app: &TestApp) {
    let d = desk(app).await;
    let alice = browser(&d.alice).await;
    let bob = browser(&d.bob).await;
    let a1 = id(&file(&d.alice, json!({"title": "Monitor flickers"})).await);
    let a2 = id(&file(&d.alice, json!({"title": "Keyboard sticky"})).await);

    // The list, its filters and the empty state.
    let l = alice.get("/portal/requests").await;
    l.expect(200);
    assert!(l.text.contains("Monitor flickers") && l.text.contains("Keyboard sticky"));
    assert!(l.text.contains("class=\"pill new\""));
    assert!(alice.get("/portal/requests?status=finished").await.text.contains("No requests match."));
    assert!(alice.get("/portal/requests?status=active&q=monitor").await.text.contains("Monitor flickers"));
    assert!(!alice.get("/portal/requests?q=monitor").await.text.contains("Keyboard sticky"));
    let b = bob.get("/portal/requests").await;
    assert!(b.text.contains("You have no requests yet.") && !b.text.contains("Monitor"));
    // Someone else's request does not exist for Bob (page and actions).
    bob.get(&format!("/portal/requests/{a1}")).await.expect(404);
    bob.post_form(&format!("/portal/requests/{a1}/comments"), &[("body", "hi")]).await.expect(404);
    bob.post_form(&format!("/portal/requests/{a1}/transition"), &[("to", "cancelled")]).await.expect(404);

    // Replies.
    let r = alice.post_form(&format!("/portal/requests/{a1}/comments"), &[("body", "It flickers every 5 s")]).await;
    assert_eq!(location(&r), format!("/portal/requests/{a1}?done=replied"));
    let r = alice.post_form(&format!("/portal/requests/{a1}/comments"), &[("body", "   ")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"f-body-error\""));
    // The agent asks a question; the requester's reply resumes work.
    d.agent.api.post(&format!("/api/itsm/requests/{a1}/transition"), json!({"to": "in_progress"})).await.expect(200);
    d.agent
        .api
        .post(
            &format!("/api/itsm/requests/{a1}/transition"),
            json!({"to": "waiting_on_customer", "comment": "Which cable?"}),
        )
        .await
        .expect(200);
    let p = alice.get(&format!("/portal/requests/{a1}")).await;
    assert!(p.text.contains("Waiting on you") && p.text.contains("When you reply, the request goes back to the team"));
    assert!(p.text.contains("Which cable?") && p.text.contains("It flickers every 5 s"));
    alice.post_form(&format!("/portal/requests/{a1}/comments"), &[("body", "HDMI")]).await;
    assert_eq!(detail(&d.alice, &a1).await["status"], "in_progress");

    // Exactly the allowed transitions are offered.
    let p = alice.get(&format!("/portal/requests/{a1}")).await;
    assert!(p.text.contains("name=\"to\" value=\"cancelled\"") && p.text.contains("name=\"to\" value=\"resolved\""));
    for never in
        ["value=\"closed\"", "value=\"waiting_on_customer\"", "value=\"open\"", "name=\"to\" value=\"in_progress\""]
    {
        assert!(!p.text.contains(never), "{never} must not be offered");
    }
    // An illegal move is refused with a message (409).
    let r = alice.post_form(&format!("/portal/requests/{a1}/transition"), &[("to", "closed")]).await;
    assert_eq!(r.status, 409);
    assert!(r.text.contains("That status change is not possible now"));
    // Mark resolved (with a comment), then reopen within 7 days.
    let r = alice
        .post_form(&format!("/portal/requests/{a1}/transition"), &[("to", "resolved"), ("comment", "Works now")])
        .await;
    assert_eq!(location(&r), format!("/portal/requests/{a1}?done=status"));
    let p = alice.get(&format!("/portal/requests/{a1}")).await;
    assert!(p.text.contains("name=\"to\" value=\"open\"") && p.text.contains("Reopen"));
    assert!(p.text.contains("within 7 days"));
    assert_eq!(p.text.matches("Works now").count(), 1, "a transition comment is shown once");
    app.clock.advance_secs(8 * 24 * 3600);
    let p = alice.get(&format!("/portal/requests/{a1}")).await;
    p.expect(200);
    assert!(!p.text.contains("name=\"to\" value=\"open\""), "the reopen window has passed");
    // Cancel the other one.
    let r = alice.post_form(&format!("/portal/requests/{a2}/transition"), &[("to", "cancelled")]).await;
    location(&r);
    assert_eq!(detail(&d.alice, &a2).await["status"], "cancelled");
    let p = alice.get(&format!("/portal/requests/{a2}")).await;
    assert!(!p.text.contains("name=\"to\""), "no moves out of cancelled");
    assert!(alice.get("/portal/requests?status=finished").await.text.contains("Keyboard sticky"));

    // Attachments through the page.
    let r = post_multipart(
        &alice,
        &format!("/portal/requests/{a2}/attachments"),
        &[],
        Some(("log.txt", b"line 1".to_vec())),
    )
    .await;
    assert_eq!(location(&r), format!("/portal/requests/{a2}?done=uploaded"));
    let p = alice.get(&format!("/portal/requests/{a2}")).await;
    assert!(p.text.contains("Download log.txt"));
    // No file chosen: browsers send an empty part without a name.
    let r = post_multipart(&alice, &format!("/portal/requests/{a2}/attachments"), &[], Some(("", Vec::new()))).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"f-file-error\""));
    let r =
        post_multipart(&bob, &format!("/portal/requests/{a2}/attachments"), &[], Some(("x.txt", b"x".to_vec()))).await;
    assert_eq!(r.status, 404);
}
dual_test!(my_requests_and_actions, crate::itsm_support::long_sessions);

async fn internal_notes_stay_internal(app: &TestApp) {
    let d = desk(app).await;
    let rid = id(&file(&d.alice, json!({"title": "Laptop slow"})).await);
    let agent = browser(&d.agent).await;
    let alice = browser(&d.alice).await;
    let r = agent
        .post_form(
            &format!("/itsm/requests/{rid}/comments"),
            &[("body", "Suspect malware, do not tell yet"), ("internal", "true")],
        )
        .await;
    assert_eq!(location(&r), format!("/itsm/requests/{rid}?done=noted"));
    let r = agent.post_form(&format!("/itsm/requests/{rid}/comments"), &[("body", "We are looking into it")]).await;
    assert_eq!(location(&r), format!("/itsm/requests/{rid}?done=replied"));
    // The agent's page shows the note, marked.
    let p = agent.get(&format!("/itsm/requests/{rid}")).await;
    p.expect(200);
    assert!(p.text.contains("Suspect malware, do not tell yet") && p.text.contains("We are looking into it"));
    assert!(
        p.text.contains("class=\"comment internal\"")
            && p.text.contains("Internal note — not visible to the requester")
    );
    assert!(p.text.contains("Internal — not visible to the requester"));
    // The agent's view of the portal page also marks it.
    let p = agent.get(&format!("/portal/requests/{rid}")).await;
    assert!(p.text.contains("class=\"comment internal\""));
    // The requester never sees it.
    let p = alice.get(&format!("/portal/requests/{rid}")).await;
    p.expect(200);
    assert!(p.text.contains("We are looking into it"));
    assert!(!p.text.contains("Suspect malware") && !p.text.contains("Internal note"));
    // Nor by forging the internal flag on the portal form.
    let r =
        alice.post_form(&format!("/portal/requests/{rid}/comments"), &[("body", "sneaky"), ("internal", "true")]).await;
    location(&r);
    let c = d.agent.api.get(&format!("/api/itsm/requests/{rid}/comments")).await.json();
    let sneaky = c["items"].as_array().unwrap().iter().find(|x| x["body"] == "sneaky").unwrap().clone();
    assert_eq!(sneaky["internal"], false);
    // Requesters cannot use the agent's forms.
    alice
        .post_form(&format!("/itsm/requests/{rid}/comments"), &[("body", "x"), ("internal", "true")])
        .await
        .expect(404);
}
dual_test!(internal_notes_stay_internal);

async fn approvals_tab(app: &TestApp) {
    let d = desk(app).await;
    let wf = d
        .admin
        .api
        .post(
            "/api/itsm/workflows",
            json!({"name": "Ops approval", "stages": [{"approvers": {"users": [d.operator.email]}}]}),
        )
        .await;
    wf.expect(201);
    let gated = item(
        &d.admin,
        json!({"name": "Server access", "workflow_definition_id": id(&wf.json()),
               "fields": [{"key": "server_name", "label": "Server", "type": "text", "required": true}]}),
    )
    .await;
    let alice = browser(&d.alice).await;
    let op = browser(&d.operator).await;
    let bob = browser(&d.bob).await;
    let path = format!("/portal/catalog/{}", id(&gated));
    let r1 = id_after(
        &location(&alice.post_form(&path, &[("title", "Access to db1"), ("fields.server_name", "db1")]).await),
        "/portal/requests/",
    );
    let r2 = id_after(
        &location(&alice.post_form(&path, &[("title", "Access to db2"), ("fields.server_name", "db2")]).await),
        "/portal/requests/",
    );
    // Nothing for others; the approver sees what, who, the values.
    assert!(bob.get("/portal/approvals").await.text.contains("Nothing is waiting for your approval."));
    // The Approvals tab is shown only to people who approve (named in a
    // workflow, in person or by role).
    let tab = "href=\"/portal/approvals\"";
    assert!(!bob.get("/portal").await.text.contains(tab), "no Approvals tab for a requester who approves nothing");
    assert!(op.get("/portal").await.text.contains(tab), "the approver has the tab");
    let by_role = d
        .admin
        .api
        .post(
            "/api/itsm/workflows",
            json!({"name": "Agents approve", "stages": [{"approvers": {"roles": ["fulfiller"]}}]}),
        )
        .await;
    by_role.expect(201);
    let agent = browser(&d.agent).await;
    assert!(agent.get("/portal").await.text.contains(tab), "named by role");
    let p = op.get("/portal/approvals").await;
    p.expect(200);
    assert!(p.text.contains("Access to db1") && p.text.contains("Access to db2"));
    assert!(p.text.contains(&d.alice.email) && p.text.contains("Server access"));
    assert!(p.text.contains("<dt>Server name</dt>") && p.text.contains("db1"));
    assert!(
        p.text.contains("name=\"decision\" value=\"approve\"") && p.text.contains("name=\"decision\" value=\"reject\"")
    );
    let tasks = d.operator.api.get("/api/itsm/approvals?state=pending").await.json();
    let task_of = |rid: &str| {
        tasks["items"].as_array().unwrap().iter().find(|t| t["request"]["id"] == rid).map(id).expect("task")
    };
    let (t1, t2) = (task_of(&r1), task_of(&r2));
    // Nobody else can decide.
    bob.post_form(&format!("/portal/approvals/{t1}"), &[("decision", "approve")]).await.expect(404);
    // Approve one; reject the other with a reason.
    let r = op.post_form(&format!("/portal/approvals/{t1}"), &[("decision", "approve"), ("comment", "Fine")]).await;
    assert_eq!(location(&r), "/portal/approvals?done=approved");
    assert_eq!(detail(&d.alice, &r1).await["status"], "open");
    let r = op
        .post_form(&format!("/portal/approvals/{t2}"), &[("decision", "reject"), ("comment", "Not in the budget")])
        .await;
    assert_eq!(location(&r), "/portal/approvals?done=rejected");
    assert_eq!(detail(&d.alice, &r2).await["status"], "rejected");
    // Deciding twice: 409 with a message.
    let r = op.post_form(&format!("/portal/approvals/{t2}"), &[("decision", "approve")]).await;
    assert_eq!(r.status, 409);
    assert!(r.text.contains("no longer waiting for your decision"));
    let r = op.post_form(&format!("/portal/approvals/{t1}"), &[("decision", "maybe")]).await;
    assert!(r.status == 422 || r.status == 409, "{}", r.status);
    // Recent decisions and the requester's view of the rejection.
    let p = op.get("/portal/approvals").await;
    assert!(p.text.contains("Your recent decisions") && p.text.contains("Not in the budget"));
    assert!(p.text.contains("Nothing is waiting for your approval."));
    let p = alice.get(&format!("/portal/requests/{r2}")).await;
    assert!(p.text.contains("This request was not approved.") && p.text.contains("Not in the budget"), "{}", p.text);
    assert!(!p.text.contains("name=\"to\""));
    let p = alice.get(&format!("/portal/requests/{r1}")).await;
    assert!(p.text.contains("Approved") && p.text.contains("class=\"pill open\""));
}
dual_test!(approvals_tab);

async fn notifications_and_unread_count(app: &TestApp) {
    let d = desk(app).await;
    let rid = id(&file(&d.alice, json!({"title": "Phone broken"})).await);
    let alice = browser(&d.alice).await;
    let none = alice.get("/portal").await;
    assert!(!none.text.contains("class=\"badge\""));
    d.agent.api.post(&format!("/api/itsm/requests/{rid}/comments"), json!({"body": "Which model?"})).await.expect(201);
    d.agent.api.post(&format!("/api/itsm/requests/{rid}/transition"), json!({"to": "in_progress"})).await.expect(200);
    // The header counts them on every page.
    for path in ["/portal", "/portal/requests", "/portal/profile"] {
        let p = alice.get(path).await;
        assert!(p.text.contains("<span class=\"badge\">2<span class=\"visually-hidden\"> unread</span>"), "{path}");
    }
    let p = alice.get("/portal/notifications").await;
    p.expect(200);
    assert!(p.text.contains("2 unread notifications."));
    assert_eq!(p.text.matches("class=\"card notification unread\"").count(), 2);
    assert!(p.text.contains(&format!("href=\"/portal/requests/{rid}\"")));
    assert!(p.text.contains("Which model?"));
    // Mark one read, then all.
    let list = d.alice.api.get("/api/notifications").await.json();
    let nid = id(&list["items"][0]);
    let r = alice.post_form(&format!("/portal/notifications/{nid}/read"), &[]).await;
    assert_eq!(location(&r), "/portal/notifications?done=read");
    let p = alice.get("/portal/notifications").await;
    assert!(p.text.contains("1 unread notification.") && p.text.contains("<span class=\"badge\">1<"));
    let r = alice.post_form("/portal/notifications/read-all", &[]).await;
    assert_eq!(location(&r), "/portal/notifications?done=read_all");
    let p = alice.get("/portal/notifications").await;
    assert!(p.text.contains("You are all caught up.") && !p.text.contains("class=\"badge\""));
    // Someone else's notification is not found; anonymous visitors sign in.
    let bob = browser(&d.bob).await;
    bob.post_form(&format!("/portal/notifications/{nid}/read"), &[]).await.expect(404);
    let r = app.client().get("/portal/notifications").await;
    assert_eq!(location(&r), "/login?next=%2Fportal%2Fnotifications");
}
dual_test!(notifications_and_unread_count);

async fn agent_queue_and_workspace(app: &TestApp) {
    let d = desk(app).await;
    let quick = item(&d.admin, json!({"name": "Quick fix", "fulfillment_target_hours": 1})).await;
    let late = id(&file(&d.alice, json!({"title": "Late one", "catalog_item_id": id(&quick)})).await);
    for n in 0..26 {
        file(&d.bob, json!({"title": format!("Bulk request {n}"), "priority": if n == 3 { "urgent" } else { "low" }}))
            .await;
    }
    let mine = id(&file(&d.alice, json!({"title": "Assign me"})).await);
    app.clock.advance_secs(2 * 3600);
    let agent = browser(&d.agent).await;

    // Dashboard.
    let p = agent.get("/itsm").await;
    p.expect(200);
    assert!(p.text.contains("ITSM Dashboard") && p.text.contains("href=\"/itsm/requests?overdue=1\""));
    assert!(p.text.contains("<span class=\"count\">28</span><span>Open requests</span>"), "{}", p.text);
    assert!(p.text.contains("<span class=\"count\">1</span><span>Overdue</span>"));
    assert!(
        p.text.contains("aria-current=\"page\">Dashboard</a>") && p.text.contains("href=\"/itsm/requests\">Queue</a>")
    );
    assert!(p.text.contains("Newest requests"));

    // The queue pages by 25.
    let q = agent.get("/itsm/requests").await;
    q.expect(200);
    assert!(q.text.contains("Assign me") && !q.text.contains("Late one"));
    let next = next_link(&q.text).expect("a next page");
    let q2 = agent.get(&next).await;
    assert!(q2.text.contains("Late one") && q2.text.contains("First page"));
    // Filters: overdue (highlighted), priority, number, assignee.
    let o = agent.get("/itsm/requests?overdue=1").await;
    assert!(o.text.contains("Late one") && !o.text.contains("Bulk request") && o.text.contains("class=\"overdue\""));
    assert!(o.text.contains("Overdue") && o.text.contains("most overdue first"));
    let u = agent.get("/itsm/requests?priority=urgent").await;
    assert!(u.text.contains("Bulk request 3") && !u.text.contains("Bulk request 4"));
    let n = detail(&d.alice, &mine).await["number"].as_str().unwrap().to_owned();
    let byn = agent.get(&format!("/itsm/requests?q={n}")).await;
    assert!(byn.text.contains("Assign me") && !byn.text.contains("Bulk"));
    assert!(agent.get("/itsm/requests?assignee=me").await.text.contains("No requests match these filters."));

    // Assignment and priority.
    let ap = agent.get(&format!("/itsm/requests/{mine}")).await;
    ap.expect(200);
    assert!(
        ap.text.contains("Assignment and priority") && ap.text.contains(&format!("<option value=\"{}\"", d.agent.id))
    );
    assert!(ap.text.contains("name=\"assignee\" value=\"me\""));
    let r = agent
        .post_form(&format!("/itsm/requests/{mine}/update"), &[("assignee", &d.alice.id), ("priority", "high")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"f-assignee-error\"") && r.text.contains("is not an active agent"));
    let r = agent
        .post_form(&format!("/itsm/requests/{mine}/update"), &[("assignee", &d.agent.id), ("priority", "high")])
        .await;
    assert_eq!(location(&r), format!("/itsm/requests/{mine}?done=updated"));
    let v = detail(&d.agent, &mine).await;
    assert_eq!((v["assignee"]["id"].as_str(), v["priority"].as_str()), (Some(d.agent.id.as_str()), Some("high")));
    let m = agent.get("/itsm/requests?assignee=me").await;
    assert!(m.text.contains("Assign me") && !m.text.contains("Bulk"));
    assert!(!agent.get("/itsm/requests?assignee=none&status=active").await.text.contains("Assign me"));
    let p = agent.get(&format!("/itsm/requests/{mine}")).await;
    assert!(p.text.contains("Assigned to <strong>") && p.text.contains("Priority changed to <strong>High</strong>"));
    // Transitions offered to agents.
    assert!(
        p.text.contains("name=\"to\" value=\"in_progress\"")
            && p.text.contains("name=\"to\" value=\"waiting_on_customer\"")
    );
    let r = agent.post_form(&format!("/itsm/requests/{mine}/transition"), &[("to", "in_progress")]).await;
    assert_eq!(location(&r), format!("/itsm/requests/{mine}?done=status"));
    // Watchers.
    let r = agent.post_form(&format!("/itsm/requests/{mine}/watchers"), &[("user", &d.bob.email)]).await;
    assert_eq!(location(&r), format!("/itsm/requests/{mine}?done=watcher_added"));
    let p = agent.get(&format!("/itsm/requests/{mine}")).await;
    assert!(p.text.contains(&d.bob.email));
    assert!(d.bob.api.get(&format!("/api/itsm/requests/{mine}")).await.status == 200);
    let r = agent.post_form(&format!("/itsm/requests/{mine}/watchers"), &[("user", "ghost@example.com")]).await;
    assert_eq!(r.status, 422);
    let r = agent.post_form(&format!("/itsm/requests/{mine}/watchers/{}/remove", d.bob.id), &[]).await;
    assert_eq!(location(&r), format!("/itsm/requests/{mine}?done=watcher_removed"));
    d.bob.api.get(&format!("/api/itsm/requests/{mine}")).await.expect(404);

    // Incidents: raised from the request page, listed with their source.
    assert!(p.text.contains("Raise an incident from this request"));
    let f = agent.get(&format!("/itsm/incidents/new?source_request_id={mine}&title=Assign%20me")).await;
    f.expect(200);
    assert!(f.text.contains(&format!("name=\"source_request_id\" value=\"{mine}\"")) && f.text.contains(&n));
    let r = agent.post_form("/itsm/incidents/new", &[("title", ""), ("source_request_id", &mine)]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"f-title-error\""));
    let r = agent
        .post_form(
            "/itsm/incidents/new",
            &[("title", "Printers down"), ("priority", "high"), ("source_request_id", &mine)],
        )
        .await;
    let loc = location(&r);
    let iid = id_after(&loc, "/itsm/incidents/");
    let ip = agent.get(&loc).await;
    assert!(
        ip.text.contains("The incident was reported.") && ip.text.contains("Printers down") && ip.text.contains(&n)
    );
    let r = agent.post_form("/itsm/incidents/new", &[("title", "Wi-Fi flaky")]).await;
    location(&r);
    let l = agent.get("/itsm/incidents?from_requests=1").await;
    assert!(l.text.contains("Printers down") && !l.text.contains("Wi-Fi flaky"));
    assert!(l.text.contains(&format!("href=\"/itsm/requests/{mine}\">{n}</a>")));
    assert!(agent.get("/itsm/incidents").await.text.contains("Wi-Fi flaky"));
    let p = agent.get(&format!("/itsm/requests/{mine}")).await;
    assert!(p.text.contains(&format!("href=\"/itsm/incidents/{iid}\"")), "linked incident shown");
    // The requester's page does not show the incident link.
    let alice = browser(&d.alice).await;
    assert!(!alice.get(&format!("/portal/requests/{mine}")).await.text.contains("/itsm/incidents/"));
    // The queue shows open requests unless asked for every status, and
    // the choice survives paging.
    let gone = id(&file(&d.bob, json!({"title": "Gone already"})).await);
    d.bob.api.post(&format!("/api/itsm/requests/{gone}/transition"), json!({"to": "cancelled"})).await.expect(200);
    assert!(!agent.get("/itsm/requests?q=Gone").await.text.contains("Gone already"));
    let any = agent.get("/itsm/requests?status=any").await;
    assert!(any.text.contains("Gone already") && any.text.contains("<option value=\"any\" selected>"));
    assert!(next_link(&any.text).is_some_and(|n| n.contains("status=any")));
    let _ = late;
}
dual_test!(agent_queue_and_workspace);

/// The fields of the item editor for a given state.
fn editor_fields(name: &str, questions: &[[&str; 6]], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let base = [
        ("name", name),
        ("description", "A screen for your desk"),
        ("icon", "laptop"),
        ("fulfillment_target_hours", "24"),
    ];
    // A field given in `extra` replaces the default.
    let mut v: Vec<(String, String)> =
        owned(&base).into_iter().filter(|(k, _)| !extra.iter().any(|(e, _)| e == k)).collect();
    v.push(("field_count".into(), questions.len().to_string()));
    for (i, [key, label, kind, required, options, help]) in questions.iter().enumerate() {
        v.push((format!("f{i}_key"), (*key).into()));
        v.push((format!("f{i}_label"), (*label).into()));
        v.push((format!("f{i}_type"), (*kind).into()));
        if *required == "on" {
            v.push((format!("f{i}_required"), "on".into()));
        }
        v.push((format!("f{i}_options"), (*options).into()));
        v.push((format!("f{i}_help"), (*help).into()));
    }
    v.extend(owned(extra));
    v
}

const SIZE: [&str; 6] = ["screen_size", "Screen size", "select", "on", "24 inch\r\n27 inch", "Bigger needs approval"];
const REASON: [&str; 6] = ["reason", "Reason", "textarea", "", "", ""];

async fn catalog_admin_and_form_builder(app: &TestApp) {
    let d = desk(app).await;
    let admin = browser(&d.admin).await;
    let alice = browser(&d.alice).await;

    // Categories: add (with errors), reorder, edit, delete.
    let p = admin.get("/itsm/catalog").await;
    p.expect(200);
    assert!(p.text.contains("No items yet") && p.text.contains("aria-current=\"page\">Catalog</a>"));
    let r = admin.post_form("/itsm/catalog/categories", &[("name", ""), ("position", "first")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"f-name-error\"") && r.text.contains("id=\"f-position-error\""));
    for (name, position) in [("Hardware", "1"), ("Access", "2")] {
        let r = admin
            .post_form("/itsm/catalog/categories", &[("name", name), ("description", ""), ("position", position)])
            .await;
        assert_eq!(location(&r), "/itsm/catalog?done=category_added");
    }
    let cats = d.admin.api.get("/api/itsm/catalog/categories").await.json();
    let access = cats["items"].as_array().unwrap().iter().find(|c| c["name"] == "Access").map(id).unwrap();
    let r = admin.post_form(&format!("/itsm/catalog/categories/{access}/move"), &[("direction", "up")]).await;
    assert_eq!(location(&r), "/itsm/catalog?done=category_moved");
    let cats = d.admin.api.get("/api/itsm/catalog/categories").await.json();
    assert_eq!(cats["items"][0]["name"], "Access", "{cats}");
    let e = admin.get(&format!("/itsm/catalog/categories/{access}")).await;
    assert_eq!(input_value(&e.text, "name").as_deref(), Some("Access"));
    let r = admin
        .post_form(&format!("/itsm/catalog/categories/{access}"), &[("name", "Access & rights"), ("position", "5")])
        .await;
    assert_eq!(location(&r), "/itsm/catalog?done=category_saved");
    assert!(admin.get("/itsm/catalog").await.text.contains("Access &amp; rights"));

    // The builder: add, add, a refused add, move, remove — nothing stored.
    let e = admin.get("/itsm/catalog/new").await;
    e.expect(200);
    assert!(e.text.contains("Add a question") && e.text.contains("Preview") && e.text.contains("Access &amp; rights"));
    let r = post(
        &admin,
        "/itsm/catalog/new",
        &editor_fields(
            "Monitor",
            &[],
            &[
                ("new_label", "Screen size"),
                ("new_type", "select"),
                ("new_required", "on"),
                ("new_options", "24 inch\r\n27 inch"),
                ("new_help", "Bigger needs approval"),
                ("op", "add"),
            ],
        ),
    )
    .await;
    r.expect(200);
    assert_eq!(input_value(&r.text, "f0_label").as_deref(), Some("Screen size"));
    assert_eq!(input_value(&r.text, "f0_key").as_deref(), Some("screen_size"), "key made from the label");
    assert_eq!(textarea_value(&r.text, "f0_options").as_deref(), Some("24 inch\n27 inch"));
    assert!(r.text.contains("Not saved yet"));
    assert!(r.text.contains("<select id=\"pv-f-q0\""), "preview shows the question");
    assert!(
        r.text.contains("formaction=\"/itsm/catalog/new#field-0\"")
            || r.text.contains("formaction=\"/itsm/catalog/new#form-builder\"")
    );
    assert!(d.admin.api.get("/api/itsm/catalog?all=true").await.json()["items"].as_array().unwrap().is_empty());
    let r = post(
        &admin,
        "/itsm/catalog/new",
        &editor_fields("Monitor", &[SIZE], &[("new_label", "Reason"), ("new_type", "textarea"), ("op", "add")]),
    )
    .await;
    assert_eq!(input_value(&r.text, "f1_key").as_deref(), Some("reason"));
    let r = post(
        &admin,
        "/itsm/catalog/new",
        &editor_fields("Monitor", &[SIZE, REASON], &[("new_label", "Colour"), ("new_type", "select"), ("op", "add")]),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text.contains("id=\"b-new_options-error\"") && r.text.contains("a choice field needs at least one option")
    );
    assert_eq!(input_value(&r.text, "new_label").as_deref(), Some("Colour"));
    assert!(input_value(&r.text, "f2_label").is_none());
    let r = post(&admin, "/itsm/catalog/new", &editor_fields("Monitor", &[SIZE, REASON], &[("op", "up:1")])).await;
    assert_eq!(input_value(&r.text, "f0_label").as_deref(), Some("Reason"));
    assert_eq!(input_value(&r.text, "f1_label").as_deref(), Some("Screen size"));
    let r = post(&admin, "/itsm/catalog/new", &editor_fields("Monitor", &[REASON, SIZE], &[("op", "down:0")])).await;
    assert_eq!(input_value(&r.text, "f0_label").as_deref(), Some("Screen size"));
    let r = post(&admin, "/itsm/catalog/new", &editor_fields("Monitor", &[SIZE, REASON], &[("op", "remove:1")])).await;
    assert_eq!(input_value(&r.text, "f0_label").as_deref(), Some("Screen size"));
    assert!(input_value(&r.text, "f1_label").is_none());
    // Save errors are shown next to their field; nothing is stored.
    let r = post(
        &admin,
        "/itsm/catalog/new",
        &editor_fields(
            "",
            &[["Bad Key", "Size", "select", "", "A", ""]],
            &[("fulfillment_target_hours", "soon"), ("op", "save")],
        ),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"f-fulfillment_target_hours-error\""), "{}", r.text);
    let r = post(
        &admin,
        "/itsm/catalog/new",
        &editor_fields("", &[["Bad Key", "Size", "select", "", "A", ""]], &[("op", "save")]),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"f-name-error\"") && r.text.contains("id=\"b-f0_key-error\""), "{}", r.text);
    // Save: created, hidden until published.
    let mut fields = editor_fields("Monitor", &[SIZE], &[("op", "save"), ("category_id", &access)]);
    fields.push(("visible_to_roles".into(), "requester".into()));
    let r = post(&admin, "/itsm/catalog/new", &fields).await;
    let loc = location(&r);
    assert!(loc.ends_with("/edit?done=created"), "{loc}");
    let item_id = id_after(&loc, "/itsm/catalog/");
    let it = d.admin.api.get(&format!("/api/itsm/catalog/{item_id}")).await.json();
    assert_eq!(it["published"], false);
    assert_eq!(it["icon"], "laptop");
    assert_eq!(it["fulfillment_target_hours"], 24);
    assert_eq!(it["visible_to_roles"], json!(["requester"]));
    assert_eq!(
        it["fields"],
        json!([{"key": "screen_size", "label": "Screen size", "type": "select", "required": true, "options": ["24 inch", "27 inch"], "help": "Bigger needs approval"}])
    );
    let e = admin.get(&loc).await;
    assert!(e.text.contains("The item was created.") && e.text.contains("<select id=\"pv-f-q0\""));
    assert_eq!(input_value(&e.text, "f0_key").as_deref(), Some("screen_size"));
    assert!(!alice.get("/portal").await.text.contains("Monitor"));
    alice.get(&format!("/portal/catalog/{item_id}")).await.expect(404);
    // Publish from the list; the requester can now request it.
    let r = admin.post_form(&format!("/itsm/catalog/{item_id}/publish"), &[("published", "true")]).await;
    assert_eq!(location(&r), "/itsm/catalog?done=published");
    assert!(alice.get("/portal").await.text.contains("Monitor"));
    let f = alice.get(&format!("/portal/catalog/{item_id}")).await;
    assert!(f.text.contains("name=\"fields.screen_size\"") && f.text.contains("Bigger needs approval"));
    let list = admin.get("/itsm/catalog").await;
    assert!(list.text.contains("Published") && list.text.contains("1 day"));
    // Edit (a question's label) and unpublish, then delete.
    let mut fields = editor_fields(
        "Monitor",
        &[["screen_size", "Screen size (inches)", "select", "on", "24 inch\n27 inch", ""]],
        &[("op", "save"), ("published", "true")],
    );
    fields.push(("visible_to_roles".into(), "requester".into()));
    let r = post(&admin, &format!("/itsm/catalog/{item_id}/edit"), &fields).await;
    assert_eq!(location(&r), format!("/itsm/catalog/{item_id}/edit?done=saved"));
    let it = d.admin.api.get(&format!("/api/itsm/catalog/{item_id}")).await.json();
    assert_eq!(it["fields"][0]["label"], "Screen size (inches)");
    assert_eq!(it["published"], true);
    let r = admin.post_form(&format!("/itsm/catalog/{item_id}/publish"), &[("published", "false")]).await;
    assert_eq!(location(&r), "/itsm/catalog?done=unpublished");
    assert!(!alice.get("/portal").await.text.contains("Monitor"));
    let r = admin.post_form(&format!("/itsm/catalog/{item_id}/delete"), &[]).await;
    assert_eq!(location(&r), "/itsm/catalog?done=deleted");
    admin.get(&format!("/itsm/catalog/{item_id}/edit")).await.expect(404);
    let r = admin.post_form(&format!("/itsm/catalog/categories/{access}/delete"), &[]).await;
    assert_eq!(location(&r), "/itsm/catalog?done=category_deleted");
}
dual_test!(catalog_admin_and_form_builder);

async fn workflow_editor(app: &TestApp) {
    let d = desk(app).await;
    let admin = browser(&d.admin).await;
    let p = admin.get("/itsm/workflows").await;
    p.expect(200);
    assert!(p.text.contains("No workflows yet"));
    let e = admin.get("/itsm/workflows/new").await;
    assert!(e.text.contains("Step 1") && e.text.contains("name=\"s0_roles\" value=\"operator\""));
    // Adding a step is a round trip; nothing stored.
    let r = admin
        .post_form(
            "/itsm/workflows/new",
            &[("name", "Two steps"), ("stage_count", "1"), ("s0_users", &d.operator.email), ("op", "add")],
        )
        .await;
    r.expect(200);
    assert!(r.text.contains("Step 2") && r.text.contains("Not saved yet"));
    assert_eq!(textarea_value(&r.text, "s0_users").as_deref(), Some(d.operator.email.as_str()));
    // Errors next to the step and the name.
    let r = admin
        .post_form("/itsm/workflows/new", &[("name", ""), ("stage_count", "1"), ("s0_users", ""), ("op", "save")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"stage-0-error\"") && r.text.contains("id=\"f-name-error\""), "{}", r.text);
    let r = admin
        .post_form(
            "/itsm/workflows/new",
            &[("name", "X"), ("stage_count", "1"), ("s0_users", "ghost@example.com"), ("op", "save")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("is not an active user"));
    // Save two steps: a person (any), then a role (all).
    let r = admin
        .post_form(
            "/itsm/workflows/new",
            &[
                ("name", "Manager then ops"),
                ("stage_count", "2"),
                ("s0_users", &d.operator.email),
                ("s0_rule", "any"),
                ("s1_users", ""),
                ("s1_roles", "operator"),
                ("s1_rule", "all"),
                ("op", "save"),
            ],
        )
        .await;
    let loc = location(&r);
    assert!(loc.ends_with("?done=created"), "{loc}");
    let wid = id_after(&loc, "/itsm/workflows/");
    let w = d.admin.api.get(&format!("/api/itsm/workflows/{wid}")).await.json();
    assert_eq!(w["stages"][0]["approvers"]["users"], json!([d.operator.id]));
    assert_eq!(w["stages"][1]["approvers"]["roles"], json!(["operator"]));
    assert_eq!(w["stages"][1]["rule"], "all");
    let e = admin.get(&loc).await;
    assert!(e.text.contains("The workflow was created."));
    assert_eq!(textarea_value(&e.text, "s0_users").as_deref(), Some(d.operator.email.as_str()));
    assert!(
        e.text.contains("name=\"s1_roles\" value=\"operator\" checked")
            && e.text.contains("name=\"s1_rule\" value=\"all\" checked")
    );
    // Reorder and save.
    let r = admin
        .post_form(
            &format!("/itsm/workflows/{wid}"),
            &[
                ("name", "Ops then manager"),
                ("stage_count", "2"),
                ("s0_users", &d.operator.email),
                ("s1_roles", "operator"),
                ("s1_rule", "all"),
                ("op", "up:1"),
            ],
        )
        .await;
    assert!(r.text.contains("name=\"s0_roles\" value=\"operator\" checked"));
    let r = admin
        .post_form(
            &format!("/itsm/workflows/{wid}"),
            &[
                ("name", "Ops then manager"),
                ("stage_count", "2"),
                ("s0_roles", "operator"),
                ("s0_rule", "all"),
                ("s1_users", &d.operator.email),
                ("op", "save"),
            ],
        )
        .await;
    assert_eq!(location(&r), format!("/itsm/workflows/{wid}?done=saved"));
    let w = d.admin.api.get(&format!("/api/itsm/workflows/{wid}")).await.json();
    assert_eq!(w["name"], "Ops then manager");
    assert_eq!(w["stages"][0]["approvers"]["roles"], json!(["operator"]));
    let l = admin.get("/itsm/workflows").await;
    assert!(
        l.text.contains("Ops then manager") && l.text.contains(&d.operator.email) && l.text.contains("role operator")
    );
    // The item editor offers it.
    assert!(
        admin
            .get("/itsm/catalog/new")
            .await
            .text
            .contains(&format!("<option value=\"{wid}\">Ops then manager</option>"))
    );
}
dual_test!(workflow_editor);

async fn pages_per_role(app: &TestApp) {
    let d = desk(app).await;
    let rid = id(&file(&d.alice, json!({"title": "Mine"})).await);
    let it = id(&laptop_item(&d.admin).await);
    let inc = d.agent.api.post("/api/itsm/incidents", json!({"title": "Down"})).await;
    let inc = id(&inc.json());
    let wf = d
        .admin
        .api
        .post("/api/itsm/workflows", json!({"name": "W", "stages": [{"approvers": {"roles": ["admin"]}}]}))
        .await;
    let wf = id(&wf.json());
    let agent_pages = [
        "/itsm".to_owned(),
        "/itsm/requests".into(),
        format!("/itsm/requests/{rid}"),
        "/itsm/incidents".into(),
        "/itsm/incidents/new".into(),
        format!("/itsm/incidents/{inc}"),
    ];
    let admin_pages = [
        "/itsm/catalog".to_owned(),
        "/itsm/catalog/new".into(),
        format!("/itsm/catalog/{it}/edit"),
        "/itsm/workflows".into(),
        "/itsm/workflows/new".into(),
        format!("/itsm/workflows/{wf}"),
    ];
    // Requesters: every agent and admin page is not found.
    let alice = browser(&d.alice).await;
    for p in agent_pages.iter().chain(admin_pages.iter()) {
        alice.get(p).await.expect(404);
    }
    for (p, f) in [
        (format!("/itsm/requests/{rid}/update"), vec![("assignee", "me")]),
        (format!("/itsm/requests/{rid}/transition"), vec![("to", "open")]),
        ("/itsm/incidents/new".to_owned(), vec![("title", "x")]),
        ("/itsm/catalog/categories".to_owned(), vec![("name", "x")]),
        (format!("/itsm/catalog/{it}/publish"), vec![("published", "false")]),
        ("/itsm/workflows/new".to_owned(), vec![("name", "x")]),
    ] {
        alice.post_form(&p, &f).await.expect(404);
    }
    let alice_nav = alice.get("/portal").await;
    assert!(!alice_nav.text.contains("ITSM Dashboard") && !alice_nav.text.contains("Report an incident"));
    // Fulfillers: the workspace, not the catalog administration.
    let agent = browser(&d.agent).await;
    for p in &agent_pages {
        agent.get(p).await.expect(200);
    }
    for p in &admin_pages {
        agent.get(p).await.expect(404);
    }
    let nav = agent.get("/itsm").await;
    assert!(
        nav.text.contains("href=\"/itsm/incidents\">Incidents</a>")
            && !nav.text.contains("href=\"/itsm/catalog\">Catalog</a>")
    );
    assert!(nav.text.contains("Report an incident") && nav.text.contains("ITSM Dashboard"));
    // Admins: everything.
    let admin = browser(&d.admin).await;
    for p in agent_pages.iter().chain(admin_pages.iter()) {
        admin.get(p).await.expect(200);
    }
    let nav = admin.get("/itsm").await;
    assert!(
        nav.text.contains("href=\"/itsm/catalog\">Catalog</a>")
            && nav.text.contains("href=\"/itsm/workflows\">Workflows</a>")
    );
    // Anonymous visitors sign in first.
    let anon = app.client();
    for p in [
        "/portal",
        "/portal/requests",
        "/portal/approvals",
        "/itsm",
        "/itsm/catalog",
        &format!("/portal/requests/{rid}"),
    ] {
        let r = anon.get(p).await;
        assert!(location(&r).starts_with("/login?next="), "{p}");
    }
    // Hidden sections hide their pages.
    d.admin.api.put("/api/settings/portal", json!({"hidden_sections": ["requests", "approvals"]})).await.expect(200);
    alice.get("/portal/requests").await.expect(404);
    alice.get(&format!("/portal/requests/{rid}")).await.expect(404);
    alice.get("/portal/request/new").await.expect(404);
    alice.get("/portal/approvals").await.expect(404);
    let p = alice.get("/portal").await;
    assert!(!p.text.contains("href=\"/portal/request/new\""), "no Submit a request with Requests hidden");
}
dual_test!(pages_per_role);

async fn page_urls_are_tenant_isolated(app: &TestApp) {
    let d = desk(app).await;
    file(&d.alice, json!({"title": "Home request"})).await;
    // Tenant B with its own data.
    let b = app.tenant("beta").await;
    let b_item = item(&b, json!({"name": "Beta item", "fields": [{"key": "x", "label": "X", "type": "text"}]})).await;
    let b_req = file(&b, json!({"title": "Beta request", "catalog_item_id": id(&b_item), "fields": {"x": "1"}})).await;
    let b_inc = b.api.post("/api/itsm/incidents", json!({"title": "Beta incident"})).await.json();
    let b_wf = b
        .api
        .post("/api/itsm/workflows", json!({"name": "Beta flow", "stages": [{"approvers": {"roles": ["admin"]}}]}))
        .await
        .json();
    let b_cat = b.api.post("/api/itsm/catalog/categories", json!({"name": "Beta cat"})).await.json();
    let foreign: Vec<String> = [&b_item, &b_req, &b_inc, &b_wf, &b_cat].iter().map(|v| id(v)).collect();
    // Tenant B's admin sees its pages.
    let bb = browser(&b).await;
    bb.get(&format!("/portal/requests/{}", id(&b_req))).await.expect(200);
    // Tenant A's admin, through every page: not found, never listed.
    let a = browser(&d.admin).await;
    let mut probes = vec![
        Probe::Get(format!("/portal/requests/{}", id(&b_req))),
        Probe::Get(format!("/itsm/requests/{}", id(&b_req))),
        Probe::Get(format!("/portal/catalog/{}", id(&b_item))),
        Probe::Get(format!("/itsm/catalog/{}/edit", id(&b_item))),
        Probe::Get(format!("/itsm/incidents/{}", id(&b_inc))),
        Probe::Get(format!("/itsm/workflows/{}", id(&b_wf))),
        Probe::Get(format!("/itsm/catalog/categories/{}", id(&b_cat))),
    ];
    for p in [
        "/portal",
        "/portal/requests",
        "/itsm",
        "/itsm/requests",
        "/itsm/catalog",
        "/itsm/incidents",
        "/itsm/workflows",
        "/portal/approvals",
        "/portal/notifications",
    ] {
        probes.push(Probe::List(p.to_owned()));
    }
    assert_isolated(&a, &foreign, &probes).await;
    // Writes through page forms cannot reach them either.
    a.post_form(&format!("/portal/requests/{}/comments", id(&b_req)), &[("body", "x")]).await.expect(404);
    a.post_form(&format!("/itsm/catalog/{}/publish", id(&b_item)), &[("published", "false")]).await.expect(404);
    let r = a.post_form(&format!("/portal/catalog/{}", id(&b_item)), &[("title", "x")]).await;
    assert_eq!(r.status, 404);
    assert_eq!(b.api.get(&format!("/api/itsm/catalog/{}", id(&b_item))).await.json()["published"], true);
}
dual_test!(page_urls_are_tenant_isolated);

async fn user_input_is_escaped(app: &TestApp) {
    const XSS: &str = "<script>alert(\"x\")</script>";
    const SAFE: &str = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;";
    let d = desk(app).await;
    let wf = d
        .admin
        .api
        .post("/api/itsm/workflows", json!({"name": XSS, "stages": [{"approvers": {"users": [d.operator.email]}}]}))
        .await;
    wf.expect(201);
    let cat = d.admin.api.post("/api/itsm/catalog/categories", json!({"name": XSS, "description": XSS})).await.json();
    let it = item(
        &d.admin,
        json!({"name": XSS, "description": XSS, "category_id": id(&cat), "workflow_definition_id": id(&wf.json()),
               "fields": [{"key": "v", "label": XSS, "type": "select", "options": [XSS], "help": XSS}]}),
    )
    .await;
    let alice = browser(&d.alice).await;
    let r = alice
        .post_form(&format!("/portal/catalog/{}", id(&it)), &[("title", XSS), ("details", XSS), ("fields.v", XSS)])
        .await;
    let rid = id_after(&location(&r), "/portal/requests/");
    alice.post_form(&format!("/portal/requests/{rid}/comments"), &[("body", XSS)]).await;
    let agent = browser(&d.agent).await;
    agent.post_form(&format!("/itsm/requests/{rid}/comments"), &[("body", XSS), ("internal", "true")]).await;
    agent.post_form(&format!("/itsm/requests/{rid}/comments"), &[("body", XSS)]).await;
    let op = browser(&d.operator).await;
    let admin = browser(&d.admin).await;
    let pages: Vec<(&Client, String)> = vec![
        (&alice, "/portal".into()),
        (&alice, format!("/portal?q={}", "%3Cscript")),
        (&alice, format!("/portal/catalog/{}", id(&it))),
        (&alice, "/portal/requests".into()),
        (&alice, format!("/portal/requests/{rid}")),
        (&alice, "/portal/notifications".into()),
        (&op, "/portal/approvals".into()),
        (&op, "/portal/notifications".into()),
        (&agent, "/itsm".into()),
        (&agent, "/itsm/requests".into()),
        (&agent, format!("/itsm/requests/{rid}")),
        (&admin, "/itsm/catalog".into()),
        (&admin, format!("/itsm/catalog/{}/edit", id(&it))),
        (&admin, "/itsm/workflows".into()),
    ];
    for (c, p) in pages {
        let r = c.get(&p).await;
        r.expect(200);
        assert!(!r.text.contains("<script>alert"), "{p} let markup through");
        assert!(r.text.contains(SAFE) || r.text.contains("&lt;script&gt;"), "{p} does not show the escaped text");
    }
}
dual_test!(user_input_is_escaped);
