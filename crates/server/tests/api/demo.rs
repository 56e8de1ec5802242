//! `tier0 serve --demo` (SPEC §9): the demo organisation as a first-time
//! visitor meets it, through the HTTP API, and what later starts do.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use tier0_app::demo::{DemoOutcome, DemoSignIn};
use tier0_testkit::{Backend, Client, Spawn, TestApp, dual_test};

fn demo(b: Backend) -> Spawn {
    Spawn::new(b).demo()
}

/// Sign in with the printed details; returns a client with the session.
async fn sign_in(app: &TestApp, s: &DemoSignIn) -> Client {
    let r = app.client().post("/api/auth/login", json!({"email": s.email, "password": s.password})).await;
    r.expect(200);
    app.client().with_token(r.json()["token"].as_str().expect("token"))
}

/// Every item of a list endpoint (following cursors).
async fn all(c: &Client, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{sep}limit=200");
    loop {
        let r = c.get(&url).await;
        r.expect(200);
        let body = r.json();
        out.extend(body["items"].as_array().cloned().unwrap_or_default());
        match body["next_cursor"].as_str() {
            Some(cur) => url = format!("{path}{sep}limit=200&cursor={cur}"),
            None => return out,
        }
    }
}

fn by_label<'a>(signs: &'a [DemoSignIn], label: &str) -> &'a DemoSignIn {
    signs.iter().find(|s| s.label.starts_with(label)).unwrap_or_else(|| panic!("a {label} sign-in: {signs:?}"))
}

/// Counts of what the demo created, to compare across starts.
async fn inventory(admin: &Client) -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("users", all(admin, "/api/users").await.len()),
        ("articles", all(admin, "/api/itsm/kb/articles").await.len()),
        ("known_errors", all(admin, "/api/itsm/kb/known-errors").await.len()),
        ("catalog_items", all(admin, "/api/itsm/catalog?all=true").await.len()),
        ("categories", all(admin, "/api/itsm/catalog/categories").await.len()),
        ("workflows", all(admin, "/api/itsm/workflows").await.len()),
        ("requests", all(admin, "/api/itsm/requests").await.len()),
        ("services", all(admin, "/api/itsm/status/services").await.len()),
        ("maintenance", all(admin, "/api/itsm/status/maintenance").await.len()),
        ("announcements", all(admin, "/api/itsm/announcements").await.len()),
    ])
}

async fn demo_organisation(app: TestApp) -> TestApp {
    let Some(DemoOutcome::Seeded { sign_ins, summary }) = app.demo.clone() else {
        panic!("the first start seeds: {:?}", app.demo)
    };
    assert!(app.first_invite.is_none(), "no first-admin link with --demo");

    // One person per built-in role plus the approving manager; each signs
    // in with the printed password and lands where their role belongs.
    let roles: BTreeSet<&str> = sign_ins.iter().map(|s| s.role.as_str()).collect();
    assert_eq!(roles, BTreeSet::from(["admin", "fulfiller", "operator", "requester"]));
    assert_eq!(sign_ins.len(), 5, "{sign_ins:?}");
    let mut clients = BTreeMap::new();
    for s in &sign_ins {
        assert!(s.email.ends_with("@example.com"), "{}", s.email);
        let c = sign_in(&app, s).await;
        let me = c.get("/api/me").await;
        me.expect(200);
        let me = me.json();
        assert_eq!(me["role"], s.role.as_str(), "{}", s.email);
        let landing = if s.role == "requester" { "/portal" } else { "/itsm" };
        assert_eq!(me["nav"]["landing"], landing, "{}", s.email);
        clients.insert(s.label.clone(), (c, me["id"].as_str().unwrap_or_default().to_owned()));
    }
    let person = |label: &str| clients.get(&by_label(&sign_ins, label).label).expect("signed in").clone();
    let (admin, _) = person("Admin");
    let (requester, _) = person("Requester");
    let (manager, manager_id) = person("Manager");
    let (_, fulfiller_id) = person("Fulfiller");

    // The first-admin link of the new organisation was withdrawn and
    // registration is closed.
    assert!(all(&admin, "/api/auth/invites").await.is_empty(), "no invite stays usable");
    app.client()
        .post(
            "/api/auth/register",
            json!({"email": "late@example.com", "password": "another fine phrase 7", "name": "Late"}),
        )
        .await
        .expect_error(403, "registration_closed");

    // Knowledge: at least 40 published articles, some due for review, and
    // the password reset article found despite a typo and by its wording.
    let published = all(&requester, "/api/itsm/kb/articles").await;
    assert!(published.len() >= 40, "{} articles", published.len());
    assert_eq!(summary.articles, published.len());
    assert!(published.iter().all(|a| a["status"] == "published"));
    let categories: BTreeSet<&str> = published.iter().filter_map(|a| a["category"].as_str()).collect();
    assert!(categories.len() >= 8, "{categories:?}");
    assert!(published.iter().all(|a| a["tags"].as_array().is_some_and(|t| !t.is_empty())));
    assert!(!all(&admin, "/api/itsm/kb/articles?stale=true").await.is_empty(), "some articles are stale");
    for q in ["pasword", "forgot password", "reset password"] {
        let r = requester.post("/api/itsm/kedb/search", json!({"query": q})).await;
        r.expect(200);
        let titles: Vec<String> = r.json()["items"]
            .as_array()
            .map(|a| a.iter().take(3).map(|i| i["title"].as_str().unwrap_or_default().to_owned()).collect())
            .unwrap_or_default();
        assert!(titles.iter().any(|t| t == "Reset your password"), "{q:?} → {titles:?}");
    }
    for (q, title) in [
        ("forgot password", "Reset your password"),
        ("vpn slow", "The VPN is slow"),
        ("wifi guest", "Get Wi-Fi for a visitor"),
    ] {
        let r = requester.post("/api/itsm/kedb/search", json!({"query": q})).await;
        let first = r.json()["items"][0]["title"].as_str().unwrap_or_default().to_owned();
        assert_eq!(first, title, "{q:?}");
    }
    // Public known errors are searchable by requesters.
    let r = requester.post("/api/itsm/kedb/search", json!({"query": "outlook iphone password"})).await;
    assert!(r.json()["items"].as_array().unwrap().iter().any(|i| i["kind"] == "known_error"), "{}", r.text);

    // Catalog: 15+ items in 5+ categories, varied forms, VPN access and an
    // onboarding item approved by the manager.
    let items = all(&requester, "/api/itsm/catalog").await;
    assert!(items.len() >= 15, "{} items", items.len());
    let cats: BTreeSet<&str> = items.iter().filter_map(|i| i["category_id"].as_str()).collect();
    assert!(cats.len() >= 5, "{cats:?}");
    let kinds: BTreeSet<&str> =
        items.iter().flat_map(|i| i["fields"].as_array().unwrap().iter().filter_map(|f| f["type"].as_str())).collect();
    assert_eq!(kinds.len(), 8, "every field type is used: {kinds:?}");
    assert!(items.iter().all(|i| i["fulfillment_target_hours"].as_i64().is_some()));
    assert!(items.iter().any(|i| i["name"] == "Request VPN access"));
    let onboarding = items.iter().find(|i| i["name"] == "New hire onboarding").expect("onboarding item");
    let wf = onboarding["workflow_definition_id"].as_str().expect("onboarding has a workflow");
    let wf = admin.get(&format!("/api/itsm/workflows/{wf}")).await;
    wf.expect(200);
    assert_eq!(wf.json()["stages"][0]["approvers"]["users"], json!([manager_id]), "{}", wf.text);

    // Status page: one degraded service, the rest operational, planned
    // maintenance and a note.
    let st = requester.get("/api/status").await;
    st.expect(200);
    let st = st.json();
    let states: Vec<&str> = st["services"].as_array().unwrap().iter().filter_map(|s| s["state"].as_str()).collect();
    assert_eq!(states.iter().filter(|s| **s == "degraded").count(), 1, "{states:?}");
    assert!(states.iter().all(|s| *s == "degraded" || *s == "operational"), "{states:?}");
    assert_eq!(st["overall"], "degraded");
    assert_eq!(st["maintenance"].as_array().map(Vec::len), Some(1));
    assert!(!st["notes"].as_array().unwrap().is_empty());

    // Requests in every state, filed by the requester and the manager, one
    // with an incident assigned to the fulfiller, with comments and notes.
    let requests = all(&admin, "/api/itsm/requests").await;
    let statuses: BTreeSet<&str> = requests.iter().filter_map(|r| r["status"].as_str()).collect();
    let every = [
        "new",
        "pending_approval",
        "open",
        "in_progress",
        "waiting_on_customer",
        "resolved",
        "closed",
        "rejected",
        "cancelled",
    ];
    assert_eq!(statuses, BTreeSet::from(every), "{statuses:?}");
    let requesters: BTreeSet<&str> = requests.iter().filter_map(|r| r["requester"]["email"].as_str()).collect();
    assert_eq!(
        requesters,
        BTreeSet::from([
            by_label(&sign_ins, "Requester").email.as_str(),
            by_label(&sign_ins, "Manager").email.as_str()
        ])
    );
    let incident = requests.iter().find(|r| r["incident_id"].is_string()).expect("a request with an incident");
    assert_eq!(incident["assignee_id"], fulfiller_id.as_str());
    let mut internal = 0;
    let mut public = 0;
    for r in &requests {
        for c in all(&admin, &format!("/api/itsm/requests/{}/comments", r["id"].as_str().unwrap())).await {
            if c["internal"] == true { internal += 1 } else { public += 1 }
        }
    }
    assert!(internal >= 1 && public >= 3, "{internal} internal notes, {public} public comments");
    let mine = all(&requester, "/api/itsm/requests").await;
    assert!(mine.len() >= 4 && mine.len() < requests.len(), "the requester sees only theirs");
    let pending = all(&manager, "/api/itsm/approvals?state=pending").await;
    assert_eq!(pending.len(), 1, "the onboarding request waits for the manager");
    assert_eq!(pending[0]["request"]["catalog_item_name"], "New hire onboarding");

    // A second start on the same data changes nothing and reports the
    // same sign-ins.
    let before = inventory(&admin).await;
    let app = app.restart().await;
    assert_eq!(app.demo, Some(DemoOutcome::AlreadySeeded { sign_ins: sign_ins.clone() }));
    assert!(app.first_invite.is_none());
    let admin = sign_in(&app, by_label(&sign_ins, "Admin")).await;
    assert_eq!(inventory(&admin).await, before);
    app
}
dual_test!(demo_organisation, super::demo, owned);

/// `--demo` on an organisation that already has its own accounts adds
/// nothing and says so.
async fn demo_leaves_a_used_organisation_alone(app: TestApp) -> TestApp {
    let admin = app.admin().await;
    let app = app.restart_with(|s| s.demo = true).await;
    match &app.demo {
        Some(DemoOutcome::NotAdded { reason }) => assert!(reason.contains("already has accounts"), "{reason}"),
        other => panic!("nothing is added: {other:?}"),
    }
    // The restarted server listens elsewhere: sign in there.
    let r = app.client().post("/api/auth/login", json!({"email": admin.email, "password": admin.password})).await;
    r.expect(200);
    let admin = app.client().with_token(r.json()["token"].as_str().expect("token"));
    assert_eq!(all(&admin, "/api/users").await.len(), 1);
    assert!(all(&admin, "/api/itsm/catalog?all=true").await.is_empty());
    app
}
dual_test!(demo_leaves_a_used_organisation_alone, tier0_testkit::Spawn::new, owned);

/// A demo seed that stopped half-way (here: right after the demo admin was
/// created) is reported as incomplete, not as already there.
async fn demo_interrupted_half_way_says_so(app: TestApp) -> TestApp {
    let r = app
        .client()
        .post(
            "/api/auth/register",
            json!({"email": "admin@example.com", "password": "sunny lemon harbour", "name": "Demo admin"}),
        )
        .await;
    r.expect(201);
    let app = app.restart_with(|s| s.demo = true).await;
    match &app.demo {
        Some(DemoOutcome::NotAdded { reason }) => assert!(reason.contains("stopped before"), "{reason}"),
        other => panic!("an incomplete demo is not reported as seeded: {other:?}"),
    }
    assert!(app.demo.as_ref().is_some_and(|d| d.sign_ins().is_empty()));
    app
}
dual_test!(demo_interrupted_half_way_says_so, tier0_testkit::Spawn::new, owned);

/// A first start without `--demo` printed a first-admin link; starting
/// with `--demo` before anyone used it seeds and withdraws that link.
async fn demo_after_a_plain_first_start_withdraws_the_admin_link(app: TestApp) -> TestApp {
    let link = app.first_invite.clone().expect("a plain first start prints the admin link");
    let token = link.split("token=").nth(1).expect("token").to_owned();
    let app = app.restart_with(|s| s.demo = true).await;
    assert!(matches!(app.demo, Some(DemoOutcome::Seeded { .. })), "{:?}", app.demo);
    app.client()
        .post(
            "/api/auth/signup-exchange",
            json!({"token": token, "password": "another fine phrase 7", "email": "x@example.com", "name": "X"}),
        )
        .await
        .expect_error(400, "invalid_token");
    app
}
dual_test!(demo_after_a_plain_first_start_withdraws_the_admin_link, tier0_testkit::Spawn::new, owned);
