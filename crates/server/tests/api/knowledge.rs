//! Knowledge base and KEDB (SPEC §6): authoring and publishing rules,
//! visibility per role and tenant, search quality and safety, freshness
//! across nodes, feedback, deflection and the search log.

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tier0_testkit::isolation::{Probe, assert_isolated};
use tier0_testkit::{Client, Spawn, TestApp, TestUser, dual_test};

/// Writes of views and searches every 100 ms instead of every second.
fn fast_flush(b: tier0_testkit::Backend) -> Spawn {
    Spawn::new(b).tweak(|c| c.kb.flush_interval_ms = 100)
}

async fn create(u: &TestUser, body: Value) -> Value {
    let r = u.api.post("/api/itsm/kb/articles", body).await;
    r.expect(201);
    r.json()
}

async fn publish(u: &TestUser, id: &str) -> Value {
    let r = u.api.patch(&format!("/api/itsm/kb/articles/{id}"), json!({"status": "published"})).await;
    r.expect(200);
    r.json()
}

async fn search(c: &Client, q: &str) -> Value {
    let r = c.post("/api/itsm/kedb/search", json!({"query": q})).await;
    r.expect(200);
    r.json()
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .map(|a| a.iter().map(|i| i["id"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

/// Poll `q` on `c` until `pred` holds; returns how long it took. Panics
/// after `limit`.
async fn until(c: &Client, q: &str, limit: Duration, pred: impl Fn(&Value) -> bool) -> Duration {
    let start = Instant::now();
    loop {
        let v = search(c, q).await;
        if pred(&v) {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{q:?} did not reach the expected state within {limit:?}: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn roles(app: &TestApp) -> (TestUser, TestUser, TestUser, TestUser) {
    let admin = app.admin().await;
    let fulfiller = app.user(&admin, "fulfiller").await;
    let operator = app.user(&admin, "operator").await;
    let requester = app.user(&admin, "requester").await;
    (admin, fulfiller, operator, requester)
}

async fn authoring_and_publishing(app: &TestApp) {
    let (_admin, fulfiller, operator, requester) = roles(app).await;
    // Requesters cannot author; anonymous callers are told to sign in.
    requester.api.post("/api/itsm/kb/articles", json!({"title": "x"})).await.expect_error(403, "forbidden");
    app.client().post("/api/itsm/kb/articles", json!({"title": "x"})).await.expect_error(401, "unauthorized");
    app.client().get("/api/itsm/kb/articles").await.expect_error(401, "unauthorized");

    // Validation names each field.
    let r = fulfiller
        .api
        .post(
            "/api/itsm/kb/articles",
            json!({"title": " ", "tags": (0..21).map(|i| i.to_string()).collect::<Vec<_>>(), "review_by": "soon", "status": "live"}),
        )
        .await;
    r.expect_error(422, "validation_failed");
    for f in ["title", "tags", "review_by", "status"] {
        assert!(r.json()["error"]["fields"][f].is_string(), "{f}: {}", r.text);
    }
    let r = fulfiller
        .api
        .post("/api/itsm/kb/articles", json!({"title": "x", "owner_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}))
        .await;
    r.expect_error(422, "validation_failed");

    // A writer drafts; publishing is a publisher's call.
    let a = create(
        &fulfiller,
        json!({"title": "Reset a forgotten password", "body_markdown": "Use **Forgot password?** on the sign-in page.",
               "category": "Accounts", "tags": ["Password", "sign-in"], "review_by": "2099-01-31"}),
    )
    .await;
    let id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(a["number"], "KB-1");
    assert_eq!(a["status"], "draft");
    assert_eq!(a["tags"], json!(["password", "sign-in"]));
    assert_eq!(a["owner_id"], fulfiller.id.as_str());
    assert_eq!(a["version"], 1);
    assert_eq!(a["stale"], false);
    assert_eq!(a["review_by"], "2099-01-31T23:59:59.999Z");
    assert!(a["body_html"].as_str().unwrap().contains("<strong>Forgot password?</strong>"));
    for field in ["views", "helpful_yes", "helpful_no", "updated_at", "category", "body_markdown"] {
        assert!(!a[field].is_null(), "{field} missing: {a}");
    }
    fulfiller
        .api
        .post("/api/itsm/kb/articles", json!({"title": "y", "status": "published", "body_markdown": "b"}))
        .await
        .expect_error(403, "forbidden");
    let path = format!("/api/itsm/kb/articles/{id}");
    fulfiller.api.patch(&path, json!({"status": "published"})).await.expect_error(403, "forbidden");
    requester.api.get(&path).await.expect_error(404, "not_found");
    // An empty article cannot be published.
    let empty = create(&operator, json!({"title": "Empty"})).await;
    operator
        .api
        .patch(&format!("/api/itsm/kb/articles/{}", empty["id"].as_str().unwrap()), json!({"status": "published"}))
        .await
        .expect_error(422, "validation_failed");

    let p = publish(&operator, &id).await;
    assert_eq!(p["status"], "published");
    assert!(p["published_at"].is_string());
    assert_eq!(p["version"], 2);
    // Readers now see it; writers without kb:publish cannot change it.
    let r = requester.api.get(&path).await;
    r.expect(200);
    assert_eq!(r.json()["title"], "Reset a forgotten password");
    fulfiller.api.patch(&path, json!({"title": "Changed"})).await.expect_error(403, "forbidden");
    // Publishers edit; a stale version is a conflict.
    let e = operator.api.patch(&path, json!({"title": "Reset your password", "if_version": 2})).await;
    e.expect(200);
    assert_eq!(e.json()["version"], 3);
    operator.api.patch(&path, json!({"title": "Again", "if_version": 2})).await.expect_error(409, "edit_conflict");
    // No change, no new version.
    let same = operator.api.patch(&path, json!({"title": "Reset your password"})).await;
    assert_eq!(same.json()["version"], 3);

    // History: who changed what, when.
    let h = fulfiller.api.get(&format!("{path}/versions")).await;
    h.expect(200);
    let items = h.json()["items"].as_array().cloned().unwrap();
    assert_eq!(items.len(), 3, "{}", h.text);
    assert_eq!(items[0]["version"], 3);
    assert_eq!(items[0]["changes"], json!(["title"]));
    assert_eq!(items[0]["actor_id"], operator.id.as_str());
    assert_eq!(items[0]["snapshot"]["title"], "Reset your password");
    assert_eq!(items[1]["changes"], json!(["status"]));
    assert_eq!(items[2]["changes"], json!(["created"]));
    assert_eq!(items[2]["actor_id"], fulfiller.id.as_str());
    requester.api.get(&format!("{path}/versions")).await.expect_error(403, "forbidden");

    // Lists: readers get published only, authors filter.
    let l = requester.api.get("/api/itsm/kb/articles?status=draft").await;
    l.expect(200);
    assert_eq!(ids(&l.json()), vec![id.clone()]);
    let l = fulfiller.api.get("/api/itsm/kb/articles?status=draft").await;
    assert_eq!(ids(&l.json()), vec![empty["id"].as_str().unwrap().to_owned()]);
    let l = fulfiller.api.get("/api/itsm/kb/articles?mine=true").await;
    assert_eq!(ids(&l.json()), vec![id.clone()]);
    fulfiller.api.get("/api/itsm/kb/articles?status=nope").await.expect_error(422, "validation_failed");
    fulfiller.api.get("/api/itsm/kb/articles?limit=0").await.expect_error(422, "validation_failed");
    let page = fulfiller.api.get("/api/itsm/kb/articles?limit=1").await.json();
    let next = page["next_cursor"].as_str().unwrap().to_owned();
    let page2 = fulfiller.api.get(&format!("/api/itsm/kb/articles?limit=1&cursor={next}")).await.json();
    assert_ne!(ids(&page), ids(&page2));

    // Stale articles are flagged to their owner.
    let old =
        create(&fulfiller, json!({"title": "Old VPN client", "body_markdown": "x", "review_by": "2001-01-01"})).await;
    assert_eq!(old["stale"], true);
    let stale = fulfiller.api.get("/api/itsm/kb/articles?stale=true&mine=true").await.json();
    assert_eq!(ids(&stale), vec![old["id"].as_str().unwrap().to_owned()]);
    let r = fulfiller
        .api
        .patch(&format!("/api/itsm/kb/articles/{}", old["id"].as_str().unwrap()), json!({"review_by": null}))
        .await;
    assert_eq!(r.json()["stale"], false);

    // Archiving takes it away from readers.
    operator.api.patch(&path, json!({"status": "archived"})).await.expect(200);
    requester.api.get(&path).await.expect_error(404, "not_found");
    fulfiller.api.get(&path).await.expect(200);
    // Unknown or malformed ids are 404.
    requester.api.get("/api/itsm/kb/articles/nope").await.expect_error(404, "not_found");
    operator
        .api
        .patch("/api/itsm/kb/articles/01ARZ3NDEKTSV4RRFFQ69G5FAV", json!({"title": "x"}))
        .await
        .expect_error(404, "not_found");
}
dual_test!(authoring_and_publishing);

async fn known_errors_visibility(app: &TestApp) {
    let (_admin, fulfiller, operator, requester) = roles(app).await;
    let r = fulfiller
        .api
        .post(
            "/api/itsm/kb/known-errors",
            json!({"title": "Outlook crashes on start", "symptoms": "Outlook closes at once.", "public": true}),
        )
        .await;
    r.expect_error(403, "forbidden");
    let r = fulfiller
        .api
        .post(
            "/api/itsm/kb/known-errors",
            json!({"title": "Outlook crashes on start", "symptoms": "Outlook closes at once.",
                   "workaround": "Start it with `outlook.exe /safe`.", "root_cause": "Faulty add-in on build 2405", "problem_id": "PRB-7"}),
        )
        .await;
    r.expect(201);
    let ke = r.json();
    assert_eq!(ke["number"], "KE-1");
    assert_eq!(ke["public"], false);
    let id = ke["id"].as_str().unwrap().to_owned();
    let path = format!("/api/itsm/kb/known-errors/{id}");
    requester.api.get(&path).await.expect_error(404, "not_found");
    assert!(ids(&requester.api.get("/api/itsm/kb/known-errors").await.json()).is_empty());
    fulfiller.api.patch(&path, json!({"public": true})).await.expect_error(403, "forbidden");
    let p = operator.api.patch(&path, json!({"public": true})).await;
    p.expect(200);
    assert_eq!(p.json()["version"], 2);
    let seen = requester.api.get(&path).await;
    seen.expect(200);
    let seen = seen.json();
    assert!(seen["root_cause"].is_null() && seen["problem_id"].is_null(), "staff-only fields leaked: {seen}");
    assert!(seen["workaround_html"].as_str().unwrap().contains("<code>outlook.exe /safe</code>"));
    assert!(!requester.api.get(&path).await.text.contains("Faulty add-in"));
    let staff = fulfiller.api.get(&path).await.json();
    assert_eq!(staff["root_cause"], "Faulty add-in on build 2405");
    assert_eq!(staff["problem_id"], "PRB-7");
    fulfiller.api.patch(&path, json!({"workaround": "x"})).await.expect_error(403, "forbidden");
    operator.api.patch(&path, json!({"problem_id": "<bad>"})).await.expect_error(422, "validation_failed");
    let v = fulfiller.api.get(&format!("{path}/versions")).await.json();
    assert_eq!(v["items"][0]["changes"], json!(["public"]));
    // Search: the public known error is found by requesters, the root
    // cause never is (it is not indexed).
    until(&requester.api, "outlook crashes", Duration::from_secs(5), |v| ids(v).contains(&id)).await;
    let r = search(&requester.api, "faulty add-in").await;
    assert!(!ids(&r).contains(&id), "{r}");
}
dual_test!(known_errors_visibility);

async fn search_visibility_per_role(app: &TestApp) {
    let (_admin, fulfiller, operator, requester) = roles(app).await;
    let published = create(&operator, json!({"title": "Printer offline in the office", "body_markdown": "Restart the printer queue.", "status": "published"})).await;
    let draft = create(
        &fulfiller,
        json!({"title": "Printer drivers for the new copier", "body_markdown": "Draft notes about printer drivers."}),
    )
    .await;
    let archived = create(
        &operator,
        json!({"title": "Old printer fleet", "body_markdown": "printer printer", "status": "published"}),
    )
    .await;
    operator
        .api
        .patch(&format!("/api/itsm/kb/articles/{}", archived["id"].as_str().unwrap()), json!({"status": "archived"}))
        .await
        .expect(200);
    let internal = operator
        .api
        .post(
            "/api/itsm/kb/known-errors",
            json!({"title": "Printer firmware bug", "symptoms": "Printer reboots when scanning."}),
        )
        .await
        .json();
    let public_ke = operator
        .api
        .post("/api/itsm/kb/known-errors", json!({"title": "Printer shows paper jam", "symptoms": "Printer reports a jam with no paper.", "public": true}))
        .await
        .json();
    let (p, d, a, i, k) = (
        published["id"].as_str().unwrap().to_owned(),
        draft["id"].as_str().unwrap().to_owned(),
        archived["id"].as_str().unwrap().to_owned(),
        internal["id"].as_str().unwrap().to_owned(),
        public_ke["id"].as_str().unwrap().to_owned(),
    );
    let all = |v: &Value| ids(v).len() == 4;
    until(&fulfiller.api, "printer", Duration::from_secs(5), all).await;
    let staff = search(&fulfiller.api, "printer").await;
    let got = ids(&staff);
    for want in [&p, &d, &i, &k] {
        assert!(got.contains(want), "author misses {want}: {staff}");
    }
    assert!(!got.contains(&a), "archived articles are not searched");
    let mine = search(&requester.api, "printer").await;
    let got = ids(&mine);
    assert_eq!(got.len(), 2, "{mine}");
    assert!(got.contains(&p) && got.contains(&k), "{mine}");
    assert_eq!(mine["total"], 2);
    // Item shape.
    let item = mine["items"].as_array().unwrap().iter().find(|x| x["id"] == p.as_str()).cloned().unwrap();
    assert_eq!(item["kind"], "article");
    assert_eq!(item["url"], format!("/portal/knowledge/{p}"));
    assert!(item["snippet"].as_str().unwrap().contains("<mark>printer</mark>"), "{item}");
    assert!(item["score"].as_f64().unwrap() > 0.0);
    assert!(mine["took_ms"].is_number());
    // Filters.
    let r =
        requester.api.post("/api/itsm/kedb/search", json!({"query": "printer", "kind": "known_error"})).await.json();
    assert_eq!(ids(&r), vec![k.clone()]);
    let r = requester.api.post("/api/itsm/kedb/search", json!({"query": "printer", "kind": "nope"})).await;
    r.expect_error(422, "validation_failed");
    requester
        .api
        .post("/api/itsm/kedb/search", json!({"query": "printer", "limit": 51}))
        .await
        .expect_error(422, "validation_failed");
    requester.api.post("/api/itsm/kedb/search", json!({"limit": 5})).await.expect_error(422, "validation_failed");
    let r =
        requester.api.post("/api/itsm/kedb/search", json!({"query": "printer", "category": "General"})).await.json();
    assert_eq!(ids(&r), vec![p.clone()]);
    // Type-ahead: the same rules.
    let s = requester.api.get("/api/itsm/kedb/suggest?q=print").await;
    s.expect(200);
    let got = ids(&s.json());
    assert!(got.contains(&p) && !got.contains(&d) && !got.contains(&i), "{}", s.text);
    assert!(ids(&requester.api.get("/api/itsm/kedb/suggest?q=pr").await.json()).is_empty());
    let s = fulfiller.api.get("/api/itsm/kedb/suggest?q=printer%20dri").await.json();
    assert_eq!(ids(&s).first(), Some(&d), "{s}");
    app.client().get("/api/itsm/kedb/suggest?q=printer").await.expect_error(401, "unauthorized");
    app.client().post("/api/itsm/kedb/search", json!({"query": "printer"})).await.expect_error(401, "unauthorized");
}
dual_test!(search_visibility_per_role);

async fn guests_read_only_published(app: &TestApp) {
    let admin = app.admin().await;
    let a = create(
        &admin,
        json!({"title": "VPN from home", "body_markdown": "Open GlobalProtect.", "status": "published"}),
    )
    .await;
    let d = create(&admin, json!({"title": "VPN draft notes", "body_markdown": "secret vpn"})).await;
    let guest = app.client();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = guest.get("/api/itsm/kedb/suggest?q=vpn").await;
        s.expect(200);
        let got = ids(&s.json());
        assert!(!got.contains(&d["id"].as_str().unwrap().to_owned()), "guest sees a draft: {}", s.text);
        if got.contains(&a["id"].as_str().unwrap().to_owned()) {
            break;
        }
        assert!(Instant::now() < deadline, "guest never found the article");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    guest.get(&format!("/api/itsm/kb/articles/{}", a["id"].as_str().unwrap())).await.expect(200);
    guest.get(&format!("/api/itsm/kb/articles/{}", d["id"].as_str().unwrap())).await.expect_error(404, "not_found");
    // Guests never write.
    guest.post("/api/itsm/kedb/search", json!({"query": "vpn"})).await.expect_error(401, "unauthorized");
    guest
        .post(&format!("/api/itsm/kb/articles/{}/feedback", a["id"].as_str().unwrap()), json!({"helpful": true}))
        .await
        .expect_error(401, "unauthorized");
}
dual_test!(guests_read_only_published, |b| tier0_testkit::Spawn::new(b).anonymous_read());

async fn tenants_are_isolated(app: &TestApp) {
    let admin_a = app.admin().await;
    let admin_b = app.tenant("beta").await;
    let a_art =
        create(&admin_a, json!({"title": "Alpha Wi-Fi guide", "body_markdown": "Corp network", "status": "published"}))
            .await;
    let b_art = create(
        &admin_b,
        json!({"title": "Beta zebrafish printer guide", "body_markdown": "zebrafish printers", "status": "published"}),
    )
    .await;
    let b_ke = admin_b
        .api
        .post(
            "/api/itsm/kb/known-errors",
            json!({"title": "Beta zebrafish outage", "symptoms": "zebrafish down", "public": true}),
        )
        .await
        .json();
    // Both numbered from 1 in their own tenant.
    assert_eq!(a_art["number"], "KB-1");
    assert_eq!(b_art["number"], "KB-1");
    // B's own search finds them (so the index has them)...
    until(&admin_b.api, "zebrafish", Duration::from_secs(5), |v| ids(v).len() == 2).await;
    let b_id = b_art["id"].as_str().unwrap().to_owned();
    let b_ke_id = b_ke["id"].as_str().unwrap().to_owned();
    let foreign = vec![b_id.clone(), b_ke_id.clone()];
    // ...and tenant A sees nothing of B, however it asks.
    assert_isolated(
        &admin_a.api,
        &foreign,
        &[
            Probe::List("/api/itsm/kb/articles".into()),
            Probe::List("/api/itsm/kb/articles?q=zebrafish".into()),
            Probe::List("/api/itsm/kb/known-errors".into()),
            Probe::Search("/api/itsm/kedb/search".into(), json!({"query": "zebrafish"})),
            Probe::Search("/api/itsm/kedb/search".into(), json!({"query": "zebrafsh printer outage guide"})),
            Probe::Search("/api/itsm/kedb/search".into(), json!({"query": "kb-1"})),
            Probe::List("/api/itsm/kedb/suggest?q=zebraf".into()),
            Probe::List("/api/itsm/kedb/zero-results".into()),
            Probe::Get(format!("/api/itsm/kb/articles/{b_id}")),
            Probe::Get(format!("/api/itsm/kb/articles/{b_id}/versions")),
            Probe::Get(format!("/api/itsm/kb/known-errors/{b_ke_id}")),
            Probe::Get(format!("/api/itsm/kb/known-errors/{b_ke_id}/versions")),
            Probe::Get(format!("/portal/knowledge/{b_id}")),
            Probe::Get(format!("/portal/knowledge/{b_ke_id}")),
            Probe::List("/portal/knowledge?q=zebrafish".into()),
            Probe::List("/itsm/kb".into()),
        ],
    )
    .await;
    admin_a
        .api
        .patch(&format!("/api/itsm/kb/articles/{b_id}"), json!({"title": "hijack"}))
        .await
        .expect_error(404, "not_found");
    admin_a
        .api
        .post(&format!("/api/itsm/kb/articles/{b_id}/feedback"), json!({"helpful": true}))
        .await
        .expect_error(404, "not_found");
    // A tenant's session is not valid on another tenant's host.
    let stolen = app.client_for("beta").with_token(&admin_a.token);
    stolen.get("/api/itsm/kb/articles").await.expect_error(401, "unauthorized");
}
dual_test!(tenants_are_isolated);

async fn markdown_is_sanitised(app: &TestApp) {
    let admin = app.admin().await;
    let payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<details open ontoggle=alert(1)>x</details>",
        "<svg onload=alert(1)><script>alert(2)</script></svg>",
        "<a href=\"javascript&#58;alert(1)\">a</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">b</a>",
        "<a href=\"&#x6A;avascript:alert(1)\">c</a>",
        "[d](javascript:alert(1))",
        "<a href=\"data:text/html,<script>alert(1)</script>\">e</a>",
        "<iframe src=https://evil.example></iframe>",
        "<form action=/x><input name=a></form>",
        "<p style=\"color:red\" onclick=\"alert(1)\">styled</p>",
        "[ok](https://example.com)",
    ];
    let body = payloads.join("\n\n");
    let a = create(&admin, json!({"title": "XSS zoo", "body_markdown": body, "status": "published"})).await;
    let html = a["body_html"].as_str().unwrap().to_ascii_lowercase();
    for bad in [
        "<script",
        "onerror",
        "ontoggle",
        "onload",
        "onclick",
        "javascript",
        "data:text",
        "<iframe",
        "<form",
        "<input",
        "<svg",
        "style=",
    ] {
        assert!(!html.contains(bad), "{bad} survived: {html}");
    }
    assert!(html.contains("<a href=\"https://example.com\" rel=\"noopener noreferrer nofollow\">ok</a>"), "{html}");
    // The preview API gives the same.
    let p = admin.api.post("/api/itsm/kb/preview", json!({"body_markdown": body})).await;
    p.expect(200);
    assert_eq!(p.json()["html"].as_str().unwrap().to_ascii_lowercase(), html);
    // And so does the portal page.
    let page = admin.api.get(&format!("/portal/knowledge/{}", a["id"].as_str().unwrap())).await;
    page.expect(200);
    let lower = page.text.to_ascii_lowercase();
    assert!(
        !lower.contains("onerror") && !lower.contains("alert(1)</script") && !lower.contains("javascript:"),
        "{}",
        page.text
    );
}
dual_test!(markdown_is_sanitised);

async fn typo_synonym_and_exact_ranking(app: &TestApp) {
    let admin = app.admin().await;
    let pw = create(&admin, json!({"title": "Reset your password", "body_markdown": "Choose Forgot password on the sign-in page.", "status": "published"})).await;
    let wifi = create(
        &admin,
        json!({"title": "Connect to the office Wi-Fi", "body_markdown": "Join Corp-Secure.", "status": "published"}),
    )
    .await;
    let vpn = create(
        &admin,
        json!({"title": "Remote access from home", "body_markdown": "Install the client.", "status": "published"}),
    )
    .await;
    until(&admin.api, "password", Duration::from_secs(5), |v| !ids(v).is_empty()).await;
    until(&admin.api, "remote", Duration::from_secs(5), |v| !ids(v).is_empty()).await;
    for (q, want) in [("pasword", &pw), ("wifi", &wifi), ("wireless", &wifi), ("vpn", &vpn), ("passwords", &pw)] {
        let r = search(&admin.api, q).await;
        assert_eq!(ids(&r).first().map(String::as_str), want["id"].as_str(), "{q}: {r}");
    }
    // Per-tenant synonyms: publishers change them, everyone's searches follow.
    let hr = create(
        &admin,
        json!({"title": "HR onboarding checklist", "body_markdown": "For new people.", "status": "published"}),
    )
    .await;
    let fulfiller = app.user(&admin, "fulfiller").await;
    let s = fulfiller.api.get("/api/itsm/kb/synonyms").await;
    s.expect(200);
    assert_eq!(s.json()["is_default"], true);
    assert!(s.text.contains("wi-fi"));
    fulfiller
        .api
        .put("/api/itsm/kb/synonyms", json!({"groups": [["hr", "human resources"]]}))
        .await
        .expect_error(403, "forbidden");
    admin.api.put("/api/itsm/kb/synonyms", json!({"groups": [["x"]]})).await.expect_error(422, "validation_failed");
    let put = admin.api.put("/api/itsm/kb/synonyms", json!({"groups": [["hr", "human resources"]]})).await;
    put.expect(200);
    assert_eq!(put.json()["is_default"], false);
    let hr_id = hr["id"].as_str().unwrap().to_owned();
    until(&admin.api, "human resources", Duration::from_secs(2), |v| ids(v).first() == Some(&hr_id)).await;
    // The defaults are gone for this tenant now: "wireless" no longer means Wi-Fi.
    until(&admin.api, "wireless", Duration::from_secs(2), |v| ids(v).is_empty()).await;
    admin.api.put("/api/itsm/kb/synonyms", json!({"groups": null})).await.expect(200);
    until(&admin.api, "wireless", Duration::from_secs(2), |v| !ids(v).is_empty()).await;
}
dual_test!(typo_synonym_and_exact_ranking);

/// Any text is data: query-language punctuation, unbalanced quotes, NULs,
/// emoji, 10 kB strings. Never a server error.
async fn query_text_is_data(app: &TestApp) {
    let admin = app.admin().await;
    create(&admin, json!({"title": "Printer help", "body_markdown": "printer", "status": "published"})).await;
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: Vec<char> =
        "ab printer\"'()[]{}:*?~^!+-&|\\/<>=;,.%$#@\0\u{1}\t\n🙂ß中文é\u{202e}\u{fffd}".chars().collect();
    let mut queries: Vec<String> = vec![
        "\"".into(),
        "(((".into(),
        "title:printer AND -body:x".into(),
        "printer~2^5".into(),
        "*".into(),
        "\0".into(),
        "🙂🙂🙂".into(),
        "x".repeat(10_000),
        "printer ".repeat(2_000),
        "kb-999999999999999999999".into(),
        "\u{feff}printer".into(),
    ];
    for _ in 0..60 {
        let len = (next() % 80) as usize;
        queries.push((0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect());
    }
    for q in &queries {
        let r = admin.api.post("/api/itsm/kedb/search", json!({"query": q})).await;
        assert_eq!(r.status, 200, "{q:?}: {}", r.text);
        let enc = percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC).to_string();
        if enc.len() < 8_000 {
            let r = admin.api.get(&format!("/api/itsm/kedb/suggest?q={enc}")).await;
            assert_eq!(r.status, 200, "suggest {q:?}: {}", r.text);
            let r = admin.api.get(&format!("/portal/knowledge?q={enc}")).await;
            assert_eq!(r.status, 200, "portal {q:?}");
        }
    }
    // NULs and other control characters elsewhere: filters, ids, fields.
    for path in [
        "/api/itsm/kb/articles?q=%00&category=%00",
        "/api/itsm/kb/known-errors?q=a%00b",
        "/portal/knowledge?category=%00",
        "/portal/knowledge?q=%00&kind=%00",
        "/itsm/kb?q=%00&status=%00",
        "/itsm/kb/known-errors?q=%00",
    ] {
        let r = admin.api.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    for path in [
        "/api/itsm/kb/articles/%00",
        "/api/itsm/kb/articles/%00/versions",
        "/api/itsm/kb/known-errors/%00/versions",
        "/portal/knowledge/%00",
        "/itsm/kb/%00",
    ] {
        let r = admin.api.get(path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
    }
    admin.api.patch("/api/itsm/kb/articles/%00", json!({"title": "x"})).await.expect_error(404, "not_found");
    admin.api.patch("/api/itsm/kb/known-errors/%00", json!({"title": "x"})).await.expect_error(404, "not_found");
    admin
        .api
        .post("/api/itsm/kb/articles", json!({"title": "x", "owner_id": "\u{0}"}))
        .await
        .expect_error(422, "validation_failed");
    admin.api.post("/api/itsm/kb/articles/%00/feedback", json!({"helpful": true})).await.expect_error(404, "not_found");
    let r = admin.api.post("/api/itsm/kedb/search", json!({"query": "printer", "category": "a\u{0}b"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Wrong types are validation errors, not crashes.
    admin.api.post("/api/itsm/kedb/search", json!({"query": 5})).await.expect_error(422, "validation_failed");
    admin.api.post("/api/itsm/kedb/search", json!({"query": ["a"]})).await.expect_error(422, "validation_failed");
    // The log accepted every one of them (NUL included, on PostgreSQL too).
    tokio::time::sleep(Duration::from_millis(400)).await;
    let tenant = app.app.tenant_by_slug("default").await.unwrap().unwrap();
    let logged = app.app.store().tenant(&tenant.id).read().await.unwrap().kb_recent_searches(500).await.unwrap();
    assert!(logged.len() >= queries.len() - 5, "{} of {} logged", logged.len(), queries.len());
}
dual_test!(query_text_is_data, super::fast_flush);

async fn feedback_and_deflection(app: &TestApp) {
    let (_admin, fulfiller, operator, requester) = roles(app).await;
    let a = create(
        &operator,
        json!({"title": "Map the S: drive", "body_markdown": "Use File Explorer.", "status": "published"}),
    )
    .await;
    let d = create(&fulfiller, json!({"title": "Draft", "body_markdown": "x"})).await;
    let id = a["id"].as_str().unwrap();
    let fb = format!("/api/itsm/kb/articles/{id}/feedback");
    let r = requester.api.post(&fb, json!({"helpful": false, "comment": "Did not mention Macs"})).await;
    r.expect(200);
    assert_eq!((r.json()["helpful_yes"].as_i64(), r.json()["helpful_no"].as_i64()), (Some(0), Some(1)));
    assert_eq!(r.json()["deflection"], false);
    // Answering again replaces the answer; "solved" is a deflection.
    let r = requester
        .api
        .post(&fb, json!({"helpful": true, "solved": true, "search_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}))
        .await;
    r.expect(200);
    assert_eq!((r.json()["helpful_yes"].as_i64(), r.json()["helpful_no"].as_i64()), (Some(1), Some(0)));
    assert_eq!(r.json()["deflection"], true);
    let r = fulfiller.api.post(&fb, json!({"helpful": true, "solved": true, "source": "request_check"})).await;
    assert_eq!(r.json()["helpful_yes"], 2);
    let art = operator.api.get(&format!("/api/itsm/kb/articles/{id}")).await.json();
    assert_eq!(
        (art["helpful_yes"].as_i64(), art["helpful_no"].as_i64(), art["deflections"].as_i64()),
        (Some(2), Some(0), Some(2))
    );
    let tenant = app.app.tenant_by_slug("default").await.unwrap().unwrap();
    let n = app
        .app
        .store()
        .tenant(&tenant.id)
        .read()
        .await
        .unwrap()
        .kb_deflections_for_search("01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Invalid answers.
    requester.api.post(&fb, json!({"helpful": false, "solved": true})).await.expect_error(422, "validation_failed");
    requester.api.post(&fb, json!({"helpful": "yes"})).await.expect_error(422, "validation_failed");
    requester
        .api
        .post(&fb, json!({"helpful": true, "comment": "x".repeat(2_001)}))
        .await
        .expect_error(422, "validation_failed");
    requester
        .api
        .post(&fb, json!({"helpful": true, "source": "elsewhere"}))
        .await
        .expect_error(422, "validation_failed");
    // Drafts cannot be rated by readers; nobody rates without signing in.
    requester
        .api
        .post(&format!("/api/itsm/kb/articles/{}/feedback", d["id"].as_str().unwrap()), json!({"helpful": true}))
        .await
        .expect_error(404, "not_found");
    app.client().post(&fb, json!({"helpful": true})).await.expect_error(401, "unauthorized");
}
dual_test!(feedback_and_deflection);

async fn search_log_clicks_and_zero_results(app: &TestApp) {
    let (_admin, fulfiller, operator, requester) = roles(app).await;
    let a = create(
        &operator,
        json!({"title": "Clear a paper jam", "body_markdown": "Open the side door.", "status": "published"}),
    )
    .await;
    let id = a["id"].as_str().unwrap().to_owned();
    until(&requester.api, "paper jam", Duration::from_secs(5), |v| ids(v).contains(&id)).await;
    let hit = search(&requester.api, "paper jam").await;
    let sid = hit["search_id"].as_str().unwrap().to_owned();
    for q in ["teleporter booking", "Teleporter   BOOKING", "quantum stapler"] {
        let r = search(&requester.api, q).await;
        assert_eq!(r["total"], 0);
        assert!(r["search_id"].is_string());
    }
    // Opening a result from the results page records the click.
    requester.api.get(&format!("/api/itsm/kb/articles/{id}?from_search={sid}")).await.expect(200);
    requester.api.get(&format!("/api/itsm/kb/articles/{id}?from_search=garbage")).await.expect(200);
    // KB owners see what nobody found (after the batch is written).
    let deadline = Instant::now() + Duration::from_secs(5);
    let z = loop {
        let z = fulfiller.api.get("/api/itsm/kedb/zero-results?days=7").await;
        z.expect(200);
        if z.text.contains("teleporter booking") && z.text.contains("quantum stapler") {
            break z.json();
        }
        assert!(Instant::now() < deadline, "zero-result queries never showed up: {}", z.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // (The searches made while waiting for the article to be indexed may
    // be listed too.)
    let count = |q: &str| z["items"].as_array().unwrap().iter().find(|i| i["query"] == q).map(|i| i["count"].clone());
    assert_eq!(count("teleporter booking"), Some(json!(2)), "{z}");
    assert_eq!(count("quantum stapler"), Some(json!(1)), "{z}");
    let pos = |q: &str| z["items"].as_array().unwrap().iter().position(|i| i["query"] == q);
    assert!(pos("teleporter booking") < pos("quantum stapler"), "most frequent first: {z}");
    assert!(z["summary"]["searches"].as_i64().unwrap() >= 4);
    assert_eq!(z["summary"]["clicks"], 1);
    requester.api.get("/api/itsm/kedb/zero-results").await.expect_error(403, "forbidden");
    fulfiller.api.get("/api/itsm/kedb/zero-results?days=0").await.expect_error(422, "validation_failed");
    let tenant = app.app.tenant_by_slug("default").await.unwrap().unwrap();
    let mut r = app.app.store().tenant(&tenant.id).read().await.unwrap();
    assert_eq!(r.kb_clicks_for_search(&sid).await.unwrap(), vec![id.clone()]);
    let logged = r.kb_recent_searches(10).await.unwrap();
    let mine = logged.iter().find(|s| s.id.as_str() == sid).expect("search logged");
    assert_eq!((mine.query.as_str(), mine.results, mine.source), ("paper jam", 1, "api"));
    assert_eq!(mine.user_id.as_ref().map(|u| u.as_str()), Some(requester.id.as_str()));
}
dual_test!(search_log_clicks_and_zero_results, super::fast_flush);

/// A published change is searchable within a second. On PostgreSQL, two
/// nodes share the database: a change made on one is found on the other.
async fn fresh_within_a_second_on_every_node(app: &TestApp) {
    let admin = app.admin().await;
    let peer = app.spawn_peer().await;
    let other = match &peer {
        Some(p) => {
            // The same session works on every node (it lives in the database).
            let c = tier0_testkit::Client::new(p.addr, None).with_token(&admin.token);
            c.get("/api/me").await.expect(200);
            c
        }
        None => admin.api.clone(),
    };
    let limit = Duration::from_secs(1);
    for round in 0..3 {
        let title = format!("Quokka hotspot guide {round}");
        let a = create(
            &admin,
            json!({"title": title, "body_markdown": "Step-by-step instructions.", "status": "published"}),
        )
        .await;
        let id = a["id"].as_str().unwrap().to_owned();
        let took = until(&other, &title, limit, |v| ids(v).first() == Some(&id)).await;
        eprintln!("round {round}: created on node A, found on node B after {took:?}");
        // An edit made on the other node shows up on the first.
        let r = other
            .patch(&format!("/api/itsm/kb/articles/{id}"), json!({"title": format!("Wombat tethering guide {round}")}))
            .await;
        r.expect(200);
        let took =
            until(&admin.api, &format!("wombat tethering {round}"), limit, |v| ids(v).first() == Some(&id)).await;
        eprintln!("round {round}: edited on node B, found on node A after {took:?}");
        until(&admin.api, "quokka hotspot", limit, |v| !ids(v).contains(&id)).await;
        // Unpublishing removes it everywhere.
        admin.api.patch(&format!("/api/itsm/kb/articles/{id}"), json!({"status": "draft"})).await.expect(200);
        let requester_view = |v: &Value| !ids(v).contains(&id);
        let req = app.user(&admin, "requester").await;
        let req_other = match &peer {
            Some(p) => tier0_testkit::Client::new(p.addr, None).with_token(&req.token),
            None => req.api.clone(),
        };
        until(&req_other, "wombat tethering", limit, requester_view).await;
    }
    // A node started later builds its index from the database.
    if let Some(p) = peer {
        p.shutdown().await;
        let late = app.spawn_peer().await.expect("late peer");
        let c = tier0_testkit::Client::new(late.addr, None).with_token(&admin.token);
        let r = search(&c, "wombat tethering 2").await;
        assert_eq!(r["items"][0]["title"], "Wombat tethering guide 2", "{r}");
        assert_eq!(r["total"], 3, "{r}");
        late.shutdown().await;
    }
}
dual_test!(fresh_within_a_second_on_every_node);

/// Sequence numbers committed out of order (PostgreSQL hands them out at
/// insert time) are still picked up.
async fn late_commits_are_not_missed(app: &TestApp) {
    let admin = app.admin().await;
    let a = create(&admin, json!({"title": "Late bloomer", "body_markdown": "x", "status": "published"})).await;
    let id = a["id"].as_str().unwrap().to_owned();
    until(&admin.api, "late bloomer", Duration::from_secs(2), |v| ids(v).contains(&id)).await;
    if app.backend != tier0_testkit::Backend::Postgres {
        return;
    }
    // Hold a transaction that has taken a feed number, let a later one
    // commit and be indexed, then commit the first.
    let url = std::env::var("TIER0_TEST_POSTGRES_URL").unwrap();
    let schema: String = {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let row: (String,) = sqlx::query_as(
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't0test\\_%' ORDER BY oid DESC LIMIT 1",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        row.0
    };
    // Find our own schema: the one holding this article.
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut ours = schema;
    let schemas: Vec<(String,)> =
        sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't0test\\_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for (s,) in schemas {
        let q = format!("SELECT COUNT(*) FROM \"{s}\".kb_articles WHERE id = $1");
        if let Ok((n,)) = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(q)).bind(&id).fetch_one(&mut conn).await
            && n == 1
        {
            ours = s;
        }
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("SET search_path TO \"{ours}\""))).execute(&mut conn).await.unwrap();
    let mut slow = conn.begin().await.unwrap();
    let tenant: (String,) = sqlx::query_as("SELECT tenant_id FROM kb_articles WHERE id = $1")
        .bind(&id)
        .fetch_one(&mut *slow)
        .await
        .unwrap();
    sqlx::query("UPDATE kb_articles SET title = 'Slowpoke sloth article' WHERE id = $1")
        .bind(&id)
        .execute(&mut *slow)
        .await
        .unwrap();
    sqlx::query("INSERT INTO kb_changes (tenant_id, doc_kind, doc_id, at) VALUES ($1, 'article', $2, 0)")
        .bind(&tenant.0)
        .bind(&id)
        .execute(&mut *slow)
        .await
        .unwrap();
    // A later change commits first and is indexed.
    let b = create(&admin, json!({"title": "Speedy hare article", "body_markdown": "x", "status": "published"})).await;
    let bid = b["id"].as_str().unwrap().to_owned();
    until(&admin.api, "speedy hare", Duration::from_secs(1), |v| ids(v).contains(&bid)).await;
    slow.commit().await.unwrap();
    until(&admin.api, "slowpoke sloth", Duration::from_secs(1), |v| ids(v).contains(&id)).await;
}
dual_test!(late_commits_are_not_missed);

async fn openapi_lists_knowledge(app: &TestApp) {
    let doc = app.client().get("/api/openapi.json").await.json();
    for path in [
        "/api/itsm/kb/articles",
        "/api/itsm/kb/articles/{id}",
        "/api/itsm/kb/articles/{id}/versions",
        "/api/itsm/kb/articles/{id}/feedback",
        "/api/itsm/kb/known-errors",
        "/api/itsm/kb/known-errors/{id}",
        "/api/itsm/kb/synonyms",
        "/api/itsm/kb/preview",
        "/api/itsm/kedb/search",
        "/api/itsm/kedb/suggest",
        "/api/itsm/kedb/zero-results",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi lacks {path}");
    }
    // Every schema reference resolves.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        out.push(x.as_str().unwrap_or_default().to_owned());
                    } else {
                        refs(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(doc["components"]["schemas"][name].is_object(), "dangling reference {r}");
    }
}
dual_test!(openapi_lists_knowledge);

/// No inline scripts or styles (the CSP forbids them) and every script is
/// a file of ours.
fn assert_csp_clean(html: &str) {
    let lower = html.to_ascii_lowercase();
    for (i, _) in lower.match_indices("<script") {
        let tag = &lower[i..i + lower[i..].find('>').unwrap()];
        assert!(tag.contains("src=\"/assets/"), "inline script: {tag}");
    }
    assert!(!lower.contains(" style=\""), "inline style in page");
}

async fn portal_pages_work_without_javascript(app: &TestApp) {
    let (_admin, fulfiller, operator, requester) = roles(app).await;
    let a = create(
        &operator,
        json!({"title": "Connect to the VPN from home", "body_markdown": "Open **GlobalProtect** and connect.", "category": "Network", "tags": ["vpn"], "status": "published"}),
    )
    .await;
    let id = a["id"].as_str().unwrap().to_owned();
    let draft = create(&fulfiller, json!({"title": "VPN draft", "body_markdown": "draft vpn"})).await;
    let ke = operator
        .api
        .post("/api/itsm/kb/known-errors", json!({"title": "VPN drops every hour", "symptoms": "The VPN disconnects.", "workaround": "Reconnect.", "root_cause": "Gateway bug", "public": true}))
        .await
        .json();
    let ke_id = ke["id"].as_str().unwrap().to_owned();
    until(&requester.api, "vpn", Duration::from_secs(5), |v| ids(v).contains(&id) && ids(v).contains(&ke_id)).await;

    // Anonymous visitors sign in first.
    let r = app.client().get("/portal/knowledge").await;
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/login?next="));

    // Home: search box, categories, popular articles.
    let home = requester.api.get("/portal/knowledge").await;
    home.expect(200);
    for want in [
        "Knowledge Base",
        "name=\"q\"",
        "data-suggest",
        "Popular articles",
        "Connect to the VPN from home",
        "/portal/knowledge?category=Network",
        "src=\"/assets/deflect.js\"",
    ] {
        assert!(home.text.contains(want), "home lacks {want}");
    }
    assert!(!home.text.contains("VPN draft"));
    assert_csp_clean(&home.text);
    let cat = requester.api.get("/portal/knowledge?category=Network").await;
    assert!(cat.text.contains("Connect to the VPN from home"));

    // Results with snippets and tracked links; typos welcome.
    let res = requester.api.get("/portal/knowledge?q=conect%20vpn").await;
    res.expect(200);
    assert!(res.text.contains(&format!("/portal/knowledge/{id}?from_search=")), "{}", res.text);
    assert!(res.text.contains("<mark>"), "no highlighted snippet");
    assert!(res.text.contains(ke["id"].as_str().unwrap()));
    assert!(!res.text.contains(draft["id"].as_str().unwrap()));
    let none = requester.api.get("/portal/knowledge?q=teleporter").await;
    assert!(none.text.contains("No articles match"));
    assert!(none.text.contains("/portal/request/new?title=teleporter"));

    // The article: sanitised body, helpful form, still need help.
    let sid = res.text.split("from_search=").nth(1).unwrap().split(['&', '"']).next().unwrap().to_owned();
    let page = requester.api.get(&format!("/portal/knowledge/{id}?from_search={sid}&q=conect%20vpn")).await;
    page.expect(200);
    for want in [
        "<strong>GlobalProtect</strong>",
        "Was this helpful?",
        "name=\"answer\" value=\"yes\"",
        "Still need help?",
        "/portal/request/new?title=conect%20vpn&amp;details=",
    ] {
        assert!(page.text.contains(want), "article page lacks {want}: {}", page.text);
    }
    assert_csp_clean(&page.text);
    // "No" keeps the search and points to a pre-filled request.
    let r = requester
        .api
        .post_form(
            &format!("/portal/knowledge/{id}/feedback"),
            &[("answer", "no"), ("comment", "Mac?"), ("from_search", &sid), ("q", "conect vpn")],
        )
        .await;
    assert_eq!(r.status, 303);
    let loc = r.header("location").unwrap();
    assert!(loc.contains("feedback=no"), "{loc}");
    let after = requester.api.get(&loc).await;
    assert!(after.text.contains("Still need help? Submit a request"), "{}", after.text);
    assert!(
        after.text.contains("/portal/request/new?title=conect%20vpn&amp;details=I%20read%20KB%2D1"),
        "{}",
        after.text
    );
    // "Yes" is a deflection.
    let r = requester
        .api
        .post_form(&format!("/portal/knowledge/{id}/feedback"), &[("answer", "yes"), ("from_search", &sid)])
        .await;
    assert_eq!(r.status, 303);
    assert!(requester.api.get(&r.header("location").unwrap()).await.text.contains("Glad that solved it"));
    let art = operator.api.get(&format!("/api/itsm/kb/articles/{id}")).await.json();
    assert_eq!(
        (art["helpful_yes"].as_i64(), art["helpful_no"].as_i64(), art["deflections"].as_i64()),
        (Some(1), Some(0), Some(1))
    );
    let tenant = app.app.tenant_by_slug("default").await.unwrap().unwrap();
    let clicks = app.app.store().tenant(&tenant.id).read().await.unwrap().kb_clicks_for_search(&sid).await.unwrap();
    assert_eq!(clicks, vec![id.clone()]);

    // Views are counted (written in batches).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let v = operator.api.get(&format!("/api/itsm/kb/articles/{id}")).await.json()["views"].as_i64().unwrap();
        if v >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "views not counted: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Known errors: readable, root cause hidden.
    let kp = requester.api.get(&format!("/portal/knowledge/{}", ke["id"].as_str().unwrap())).await;
    kp.expect(200);
    assert!(kp.text.contains("Workaround") && kp.text.contains("Reconnect."));
    assert!(!kp.text.contains("Gateway bug"));
    assert!(
        fulfiller
            .api
            .get(&format!("/portal/knowledge/{}", ke["id"].as_str().unwrap()))
            .await
            .text
            .contains("Gateway bug")
    );
    // Drafts are 404 for requesters, visible to authors.
    assert_eq!(requester.api.get(&format!("/portal/knowledge/{}", draft["id"].as_str().unwrap())).await.status, 404);
    let dp = fulfiller.api.get(&format!("/portal/knowledge/{}", draft["id"].as_str().unwrap())).await;
    assert!(dp.status == 200 && dp.text.contains("not published"));
    assert_eq!(requester.api.get("/portal/knowledge/nope").await.status, 404);
}
dual_test!(portal_pages_work_without_javascript, super::fast_flush);

async fn request_check_deflects(app: &TestApp) {
    let (_admin, _fulfiller, operator, requester) = roles(app).await;
    let a = create(&operator, json!({"title": "Printer shows offline", "body_markdown": "Remove and add the printer.", "status": "published"})).await;
    let id = a["id"].as_str().unwrap().to_owned();
    until(&requester.api, "printer offline", Duration::from_secs(5), |v| ids(v).contains(&id)).await;
    // No title: straight to the form; nothing matches: straight to the form.
    let r = requester.api.get("/portal/request/check?title=").await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/portal/request/new")));
    let r = requester.api.get("/portal/request/check?title=quantum%20teleporter").await;
    assert_eq!(
        (r.status, r.header("location").as_deref()),
        (303, Some("/portal/request/new?title=quantum%20teleporter"))
    );
    // Matches: check these first.
    let page = requester.api.get("/portal/request/check?title=my%20printer%20is%20offline").await;
    page.expect(200);
    for want in [
        "Check these articles first",
        "Printer shows offline",
        "This solved my problem",
        "Continue to the request form",
        "/portal/request/new?title=my%20printer%20is%20offline",
    ] {
        assert!(page.text.contains(want), "check page lacks {want}");
    }
    assert_csp_clean(&page.text);
    // Arriving from the request form (its "check first" button submits the
    // form by GET), what was typed in the details is carried on.
    let from_form = requester
        .api
        .get("/portal/request/check?title=my%20printer%20is%20offline&details=Since%20Monday&priority=high")
        .await;
    from_form.expect(200);
    assert!(
        from_form.text.contains("/portal/request/new?title=my%20printer%20is%20offline&amp;details=Since%20Monday"),
        "{}",
        from_form.text
    );
    let sid = page.text.split("name=\"search_id\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = requester
        .api
        .post_form(
            "/portal/request/check/solved",
            &[("article_id", &id), ("search_id", &sid), ("title", "my printer is offline")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location").unwrap(), format!("/portal/knowledge/{id}?feedback=solved"));
    let tenant = app.app.tenant_by_slug("default").await.unwrap().unwrap();
    let n = app.app.store().tenant(&tenant.id).read().await.unwrap().kb_deflections_for_search(&sid).await.unwrap();
    assert_eq!(n, 1);
    // Anonymous: sign in first.
    let r = app.client().get("/portal/request/check?title=printer").await;
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/login"));
    // The enhancement script is served as a file.
    let js = app.client().get("/assets/deflect.js").await;
    js.expect(200);
    assert!(js.header("content-type").unwrap().starts_with("text/javascript"));
    assert!(js.text.contains("/api/itsm/kedb/suggest"));
    let js = app.client().get("/assets/kb-editor.js").await;
    assert!(js.text.contains("/api/itsm/kb/preview"));
}
dual_test!(request_check_deflects);

async fn authoring_pages(app: &TestApp) {
    let (_admin, fulfiller, operator, requester) = roles(app).await;
    // Requesters are not authors; anonymous visitors sign in.
    assert_eq!(requester.api.get("/itsm/kb").await.status, 403);
    assert_eq!(app.client().get("/itsm/kb").await.status, 303);

    let list = fulfiller.api.get("/itsm/kb").await;
    list.expect(200);
    for want in ["New article", "Drafts", "Review overdue", "Mine", "Searches that found nothing"] {
        assert!(list.text.contains(want), "list lacks {want}");
    }
    assert_csp_clean(&list.text);

    // Preview without saving, sanitised.
    let r = fulfiller
        .api
        .post_form(
            "/itsm/kb/new",
            &[
                ("title", "Teams audio"),
                ("body_markdown", "**Mute** off <script>alert(1)</script>"),
                ("action", "preview"),
            ],
        )
        .await;
    r.expect(200);
    assert!(r.text.contains("<strong>Mute</strong>"));
    assert!(!r.text.contains("<script>alert"));
    assert!(r.text.contains("src=\"/assets/kb-editor.js\""));
    // Validation errors next to the fields.
    let r = fulfiller.api.post_form("/itsm/kb/new", &[("title", ""), ("review_by", "nope"), ("action", "save")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("f-title-error") && r.text.contains("f-review_by-error"), "{}", r.text);
    // Save a draft.
    let r = fulfiller
        .api
        .post_form(
            "/itsm/kb/new",
            &[
                ("title", "Teams audio"),
                ("category", "Collaboration"),
                ("tags", "teams, audio"),
                ("review_by", "2001-02-03"),
                ("body_markdown", "Check the headset."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let loc = r.header("location").unwrap();
    let id = loc.trim_start_matches("/itsm/kb/").split('?').next().unwrap().to_owned();
    let edit = fulfiller.api.get(&loc).await;
    edit.expect(200);
    assert!(
        edit.text.contains("Saved.")
            && edit.text.contains("value=\"teams, audio\"")
            && edit.text.contains("value=\"2001-02-03\"")
    );
    assert!(!edit.text.contains(">Publish<"), "writers without kb:publish get no publish button");
    // The owner is told about overdue reviews.
    let list = fulfiller.api.get("/itsm/kb").await;
    assert!(list.text.contains("past the review date"), "{}", list.text);
    assert!(fulfiller.api.get("/itsm/kb?stale=1&mine=1").await.text.contains("Teams audio"));
    // Edit with the version; a stale version is refused.
    let r = fulfiller
        .api
        .post_form(
            &format!("/itsm/kb/{id}"),
            &[
                ("title", "Teams audio problems"),
                ("body_markdown", "Check the headset."),
                ("version", "1"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let r = fulfiller
        .api
        .post_form(
            &format!("/itsm/kb/{id}"),
            &[("title", "Other"), ("body_markdown", "x"), ("version", "1"), ("action", "save")],
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(r.text.contains("changed since you opened it"));
    // Publishing needs kb:publish.
    let r = fulfiller.api.post_form(&format!("/itsm/kb/{id}/status"), &[("status", "published")]).await;
    assert_eq!(r.status, 403);
    let r = operator.api.post_form(&format!("/itsm/kb/{id}/status"), &[("status", "published")]).await;
    assert_eq!(r.status, 303);
    assert!(operator.api.get(&format!("/itsm/kb/{id}")).await.text.contains("Unpublish"));
    // History.
    let h = fulfiller.api.get(&format!("/itsm/kb/{id}/history?v=1")).await;
    h.expect(200);
    assert!(
        h.text.contains("Version 3") && h.text.contains("Changed: status") && h.text.contains("Version 1: Teams audio")
    );
    // Known errors.
    let r = fulfiller
        .api
        .post_form(
            "/itsm/kb/known-errors/new",
            &[("title", "Teams crash"), ("symptoms", "Teams closes."), ("problem_id", "PRB-3")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let ke_loc = r.header("location").unwrap();
    let kp = fulfiller.api.get(&ke_loc).await;
    assert!(kp.status == 200 && kp.text.contains("PRB-3") && kp.text.contains("internal"));
    assert!(fulfiller.api.get("/itsm/kb/known-errors").await.text.contains("Teams crash"));
    let r = fulfiller.api.post_form("/itsm/kb/known-errors/new", &[("title", ""), ("symptoms", "")]).await;
    assert_eq!(r.status, 422);
    // Synonyms: everyone with kb:write reads them, publishers change them.
    let s = fulfiller.api.get("/itsm/kb/synonyms").await;
    assert!(s.status == 200 && s.text.contains("wifi, wi-fi, wireless"));
    assert_eq!(
        fulfiller
            .api
            .post_form("/itsm/kb/synonyms", &[("groups", "hr, human resources"), ("action", "save")])
            .await
            .status,
        403
    );
    let r = operator
        .api
        .post_form("/itsm/kb/synonyms", &[("groups", "hr, human resources\nlaptop, notebook"), ("action", "save")])
        .await;
    assert_eq!(r.status, 303);
    assert!(operator.api.get("/itsm/kb/synonyms").await.text.contains("hr, human resources"));
    let r = operator.api.post_form("/itsm/kb/synonyms", &[("groups", "lonely"), ("action", "save")]).await;
    assert_eq!(r.status, 422);
    assert_eq!(operator.api.post_form("/itsm/kb/synonyms", &[("action", "reset")]).await.status, 303);
    // Zero-result searches show up for owners with a "write an article" link.
    search(&requester.api, "holodeck booking").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let l = fulfiller.api.get("/itsm/kb").await;
        if l.text.contains("holodeck booking") {
            assert!(l.text.contains("/itsm/kb/new?title=holodeck%20booking"));
            break;
        }
        assert!(Instant::now() < deadline, "zero-result query not listed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
dual_test!(authoring_pages, super::fast_flush);

/// `tier0 reindex` builds and verifies an index of the database next to a
/// running server (SQLite; the command is the same on PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_command_builds_and_verifies() {
    let app = tier0_testkit::spawn_app(tier0_testkit::Backend::Sqlite).await.expect("app");
    let admin = app.admin().await;
    create(&admin, json!({"title": "Printer offline", "body_markdown": "x", "status": "published"})).await;
    let d = create(&admin, json!({"title": "Draft one", "body_markdown": "y"})).await;
    admin
        .api
        .patch(&format!("/api/itsm/kb/articles/{}", d["id"].as_str().unwrap()), json!({"status": "archived"}))
        .await
        .expect(200);
    admin.api.post("/api/itsm/kb/known-errors", json!({"title": "VPN drops", "symptoms": "z"})).await.expect(201);
    let url = app.app.store().db().url().to_string();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tier0"))
        .args(["--database-url", &url, "reindex"])
        .env_remove("TIER0_CONFIG")
        .output()
        .await
        .expect("run tier0 reindex");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Indexed 2 articles and 1 known errors"), "{stdout}");
    assert!(stdout.contains("Verified 3 records (2 found by searching for their number)"), "{stdout}");
    assert!(stdout.contains("The index matches the database."), "{stdout}");
    app.shutdown().await;
}
