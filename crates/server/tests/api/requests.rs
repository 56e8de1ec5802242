//! Service requests (SPEC §5): filing, the queue, transitions, assignment,
//! comments, attachments and notifications, per role, on both databases.

use crate::itsm_support::*;
use serde_json::{Value, json};
use tier0_testkit::isolation::{Probe, assert_isolated};
use tier0_testkit::{TestApp, TestUser, dual_test};

fn events_to(detail: &Value) -> Vec<String> {
    detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "status" || e["kind"] == "created")
        .map(|e| e["to"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn transition(u: &TestUser, id: &str, to: &str) -> tier0_testkit::Resp {
    u.api.post(&format!("/api/itsm/requests/{id}/transition"), json!({"to": to})).await
}

async fn filing_rules_per_role(app: &TestApp) {
    let d = desk(app).await;
    let laptop = laptop_item(&d.admin).await;
    let lid = id(&laptop);

    // Anonymous: 401.
    app.client().post("/api/itsm/requests", json!({"title": "x"})).await.expect_error(401, "unauthorized");

    // A requester files for themselves; the item's target sets due_at.
    let before = app.app.now();
    let r = file(
        &d.alice,
        json!({"title": "  Laptop please  ", "details": "Mine broke", "catalog_item_id": lid, "fields": {"model": "13 inch"}}),
    )
    .await;
    assert_eq!(
        (r["number"].as_str(), r["status"].as_str(), r["priority"].as_str()),
        (Some("REQ-1"), Some("new"), Some("normal"))
    );
    assert_eq!(r["title"], "Laptop please");
    assert_eq!(r["requester"]["id"], d.alice.id.as_str());
    assert_eq!(r["created_by"]["id"], d.alice.id.as_str());
    assert_eq!(r["catalog_item_name"], "New laptop");
    assert_eq!(r["fields"], json!({"model": "13 inch"}));
    assert!(r["incident_id"].is_null() && r["approval"].is_null(), "{r}");
    let due = tier0_domain::Timestamp::parse_rfc3339(r["due_at"].as_str().unwrap()).unwrap();
    assert!((due.millis() - before.millis() - 48 * 3600 * 1000).abs() < 60_000, "{r}");
    assert_eq!(events_to(&r), vec!["new"]);
    assert_eq!(r["allowed_transitions"], json!(["resolved", "cancelled"]));

    // Title rules: required, 1–200 characters after trimming, one line.
    for bad in [json!({}), json!({"title": "   "}), json!({"title": "x".repeat(201)}), json!({"title": "a\nb"})] {
        let res = d.alice.api.post("/api/itsm/requests", bad.clone()).await;
        res.expect_error(422, "validation_failed");
        assert!(res.json()["error"]["fields"]["title"].is_string(), "{bad}: {}", res.text);
    }
    file(&d.alice, json!({"title": format!("  {}  ", "é".repeat(200))})).await;
    // Priority.
    let res = d.alice.api.post("/api/itsm/requests", json!({"title": "x", "priority": "critical"})).await;
    res.expect_error(422, "validation_failed");
    assert!(res.json()["error"]["fields"]["priority"].is_string());
    assert_eq!(file(&d.alice, json!({"title": "x", "priority": "urgent"})).await["priority"], "urgent");
    // Form values are validated against the item's fields.
    let res = d
        .alice
        .api
        .post(
            "/api/itsm/requests",
            json!({"title": "x", "catalog_item_id": lid, "fields": {"model": "17 inch", "extra": 1}}),
        )
        .await;
    res.expect_error(422, "validation_failed");
    let f = &res.json()["error"]["fields"];
    assert!(f["fields.model"].is_string() && f["fields.extra"].is_string(), "{}", res.text);
    let res = d.alice.api.post("/api/itsm/requests", json!({"title": "x", "catalog_item_id": lid})).await;
    assert_eq!(res.json()["error"]["fields"]["fields.model"], "is required", "{}", res.text);
    // Unknown item.
    let res = d
        .alice
        .api
        .post("/api/itsm/requests", json!({"title": "x", "catalog_item_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}))
        .await;
    assert!(res.json()["error"]["fields"]["catalog_item_id"].is_string(), "{}", res.text);

    // A requester may not file for someone else, nor raise an incident.
    let n_before = d.agent.api.get("/api/itsm/requests?limit=200").await.json()["items"].as_array().unwrap().len();
    d.alice
        .api
        .post("/api/itsm/requests", json!({"title": "x", "requester": d.bob.email}))
        .await
        .expect_error(403, "forbidden");
    d.alice
        .api
        .post("/api/itsm/requests", json!({"title": "x", "requester": d.bob.id}))
        .await
        .expect_error(403, "forbidden");
    d.alice
        .api
        .post("/api/itsm/requests", json!({"title": "x", "also_create_incident": true}))
        .await
        .expect_error(403, "forbidden");
    // Naming oneself is fine.
    file(&d.alice, json!({"title": "mine", "requester": d.alice.email.to_uppercase()})).await;
    let n_after = d.agent.api.get("/api/itsm/requests?limit=200").await.json()["items"].as_array().unwrap().len();
    assert_eq!(n_after, n_before + 1, "refused requests must write nothing");

    // An agent files on behalf (by e-mail or id) and may raise an incident.
    let r =
        file(&d.agent, json!({"title": "VPN down for Bob", "requester": d.bob.email, "also_create_incident": true}))
            .await;
    assert_eq!(r["requester"]["id"], d.bob.id.as_str());
    assert_eq!(r["created_by"]["id"], d.agent.id.as_str());
    let inc = r["incident_id"].as_str().expect("incident created").to_owned();
    let i = d.agent.api.get(&format!("/api/itsm/incidents/{inc}")).await;
    i.expect(200);
    assert_eq!(i.json()["source_request_id"], r["id"]);
    assert!(i.json()["number"].as_str().unwrap().starts_with("INC-"));
    let r2 = file(&d.agent, json!({"title": "For Bob again", "requester": d.bob.id})).await;
    assert_eq!(r2["requester"]["id"], d.bob.id.as_str());
    for bad in ["nobody@example.com", "01HZZZZZZZZZZZZZZZZZZZZZZZ", "not an email"] {
        let res = d.agent.api.post("/api/itsm/requests", json!({"title": "x", "requester": bad})).await;
        res.expect_error(422, "validation_failed");
        assert!(res.json()["error"]["fields"]["requester"].is_string());
    }
    // Bob was told someone filed for him.
    let n = d.bob.api.get("/api/notifications").await.json();
    assert!(n["items"].as_array().unwrap().iter().any(|x| x["kind"] == "created_for_you"), "{n}");
}
dual_test!(filing_rules_per_role);

async fn visibility_and_queue(app: &TestApp) {
    let d = desk(app).await;
    let a1 = file(&d.alice, json!({"title": "Alice one"})).await;
    let b1 = file(&d.bob, json!({"title": "Bob one"})).await;
    let g1 = file(&d.agent, json!({"title": "Agent own"})).await;

    // Requesters see only their own; others' are 404.
    let mine = d.alice.api.get("/api/itsm/requests").await;
    mine.expect(200);
    assert_eq!(ids(&mine.json()), vec![id(&a1)]);
    d.alice.api.get(&format!("/api/itsm/requests/{}", id(&b1))).await.expect_error(404, "not_found");
    d.alice.api.get(&format!("/api/itsm/requests/{}/comments", id(&b1))).await.expect_error(404, "not_found");
    transition(&d.alice, &id(&b1), "cancelled").await.expect_error(404, "not_found");
    d.alice
        .api
        .post(&format!("/api/itsm/requests/{}/comments", id(&b1)), json!({"body": "hi"}))
        .await
        .expect_error(404, "not_found");
    // Agents see the whole queue, newest first; mine=true narrows.
    let all = d.agent.api.get("/api/itsm/requests").await.json();
    assert_eq!(ids(&all), vec![id(&g1), id(&b1), id(&a1)]);
    let own = d.agent.api.get("/api/itsm/requests?mine=true").await.json();
    assert_eq!(ids(&own), vec![id(&g1)]);
    d.operator.api.get(&format!("/api/itsm/requests/{}", id(&a1))).await.expect(200);
    d.admin.api.get(&format!("/api/itsm/requests/{}", id(&a1))).await.expect(200);
    app.client().get("/api/itsm/requests").await.expect_error(401, "unauthorized");

    // A watcher sees the request too (but cannot act on it).
    d.alice
        .api
        .post(&format!("/api/itsm/requests/{}/watchers", id(&a1)), json!({"user": d.bob.email}))
        .await
        .expect(200);
    let seen = d.bob.api.get(&format!("/api/itsm/requests/{}", id(&a1))).await;
    seen.expect(200);
    assert_eq!(seen.json()["allowed_transitions"], json!([]));
    assert_eq!(seen.json()["watchers"][0]["id"], d.bob.id.as_str());
    let bobs = d.bob.api.get("/api/itsm/requests").await.json();
    assert_eq!(ids(&bobs), vec![id(&b1), id(&a1)]);
    transition(&d.bob, &id(&a1), "cancelled").await.expect_error(409, "illegal_transition");
    d.bob
        .api
        .post(&format!("/api/itsm/requests/{}/watchers", id(&a1)), json!({"user": d.agent.email}))
        .await
        .expect_error(403, "forbidden");
    d.alice
        .api
        .post(&format!("/api/itsm/requests/{}/watchers", id(&a1)), json!({"user": "ghost@example.com"}))
        .await
        .expect_error(422, "validation_failed");
    d.bob.api.delete(&format!("/api/itsm/requests/{}/watchers/{}", id(&a1), d.bob.id)).await.expect(200);
    d.bob.api.get(&format!("/api/itsm/requests/{}", id(&a1))).await.expect_error(404, "not_found");
}
dual_test!(visibility_and_queue);

async fn queue_filters_and_paging(app: &TestApp) {
    let d = desk(app).await;
    let fast = item(&d.admin, json!({"name": "Quick fix", "fulfillment_target_hours": 1})).await;
    let mut made = Vec::new();
    for i in 0..7 {
        let pr = ["low", "normal", "high", "urgent"][i % 4];
        let body = if i % 2 == 0 {
            json!({"title": format!("Printer jam {i}"), "priority": pr, "catalog_item_id": id(&fast)})
        } else {
            json!({"title": format!("Password reset {i}"), "priority": pr})
        };
        made.push(file(&d.alice, body).await);
    }
    let get = |q: &str| {
        let api = d.agent.api.clone();
        let q = q.to_owned();
        async move {
            let r = api.get(&format!("/api/itsm/requests?{q}")).await;
            r.expect(200);
            r.json()
        }
    };
    // Keyset pages of 3 cover everything once, newest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("limit=3&cursor={c}"),
            None => "limit=3".into(),
        };
        let page = get(&q).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let expected: Vec<String> = made.iter().rev().map(id).collect();
    assert_eq!(seen, expected);
    // Filters.
    assert_eq!(ids(&get("priority=urgent").await), vec![id(&made[3])]);
    assert_eq!(ids(&get("priority=low,urgent").await).len(), 3);
    assert_eq!(ids(&get("q=printer").await).len(), 4);
    assert_eq!(ids(&get(&format!("q={}", made[5]["number"].as_str().unwrap())).await), vec![id(&made[5])]);
    assert_eq!(ids(&get("status=new").await).len(), 7);
    assert_eq!(ids(&get("status=active").await).len(), 7);
    assert_eq!(ids(&get("status=resolved").await).len(), 0);
    transition(&d.agent, &id(&made[0]), "in_progress").await.expect(200);
    assert_eq!(ids(&get("status=in_progress").await), vec![id(&made[0])]);
    assert_eq!(ids(&get("status=new,in_progress").await).len(), 7);
    d.agent.api.patch(&format!("/api/itsm/requests/{}", id(&made[1])), json!({"assignee": "me"})).await.expect(200);
    assert_eq!(ids(&get("assignee=me").await), vec![id(&made[1])]);
    assert_eq!(ids(&get(&format!("assignee={}", d.agent.id)).await), vec![id(&made[1])]);
    assert_eq!(ids(&get("assignee=none").await).len(), 6);
    // Overdue: the 1-hour items, once an hour has passed, most overdue first.
    assert_eq!(ids(&get("overdue=true").await).len(), 0);
    app.clock.advance_secs(2 * 3600);
    transition(&d.agent, &id(&made[2]), "resolved").await.expect(200);
    let overdue = get("overdue=true&limit=2").await;
    assert_eq!(ids(&overdue), vec![id(&made[0]), id(&made[4])]);
    assert!(overdue["items"][0]["overdue"].as_bool().unwrap());
    let rest = get(&format!("overdue=true&limit=2&cursor={}", overdue["next_cursor"].as_str().unwrap())).await;
    assert_eq!(ids(&rest), vec![id(&made[6])]);
    let summary = d.agent.api.get("/api/itsm/requests/summary").await;
    summary.expect(200);
    let s = summary.json();
    assert_eq!((s["by_status"]["new"].as_i64(), s["by_status"]["in_progress"].as_i64()), (Some(5), Some(1)), "{s}");
    assert_eq!((s["overdue"].as_i64(), s["unassigned"].as_i64()), (Some(3), Some(5)), "{s}");
    d.alice.api.get("/api/itsm/requests/summary").await.expect_error(403, "forbidden");
    // Bad parameters are 422, never 500.
    for bad in ["status=bogus", "priority=meh", "limit=0", "limit=201", "cursor=%%%", "overdue=maybe", "cursor=AAAA"] {
        let r = d.agent.api.get(&format!("/api/itsm/requests?{bad}")).await;
        r.expect_error(422, "validation_failed");
    }
    // A requester's filters apply within their own requests only.
    let bobs = d.bob.api.get("/api/itsm/requests?status=active").await.json();
    assert!(ids(&bobs).is_empty());
}
dual_test!(queue_filters_and_paging);

async fn transitions_follow_the_state_machine(app: &TestApp) {
    let d = desk(app).await;
    // Requester: cancel their open request.
    let r = file(&d.alice, json!({"title": "Cancel me"})).await;
    transition(&d.alice, &id(&r), "in_progress").await.expect_error(409, "illegal_transition");
    let c = transition(&d.alice, &id(&r), "cancelled").await;
    c.expect(200);
    assert_eq!(c.json()["status"], "cancelled");
    assert!(c.json()["closed_at"].is_string());
    // Terminal means terminal, for everyone.
    for to in ["open", "in_progress", "resolved", "closed", "new"] {
        transition(&d.agent, &id(&r), to).await.expect_error(409, "illegal_transition");
    }
    transition(&d.alice, &id(&r), "bogus").await.expect_error(422, "validation_failed");

    // The agent's path, with the requester's reply resuming work.
    let r = file(&d.alice, json!({"title": "Printer"})).await;
    let rid = id(&r);
    transition(&d.agent, &rid, "open").await.expect(200);
    transition(&d.agent, &rid, "in_progress").await.expect(200);
    let w = d
        .agent
        .api
        .post(
            &format!("/api/itsm/requests/{rid}/transition"),
            json!({"to": "waiting_on_customer", "comment": "Which floor?"}),
        )
        .await;
    w.expect(200);
    assert_eq!(w.json()["status"], "waiting_on_customer");
    d.alice.api.post(&format!("/api/itsm/requests/{rid}/comments"), json!({"body": "Third floor"})).await.expect(201);
    let now = d.alice.api.get(&format!("/api/itsm/requests/{rid}")).await.json();
    assert_eq!(now["status"], "in_progress");
    // Requester marks it resolved, reopens within 7 days.
    transition(&d.alice, &rid, "resolved").await.expect(200);
    let res = d.alice.api.get(&format!("/api/itsm/requests/{rid}")).await.json();
    assert!(res["resolved_at"].is_string());
    assert_eq!(res["allowed_transitions"], json!(["open"]));
    app.clock.advance_secs(6 * 24 * 3600);
    let re = transition(&d.alice, &rid, "open").await;
    re.expect(200);
    assert!(re.json()["resolved_at"].is_null());
    // ... but not after 7 days.
    transition(&d.agent, &rid, "resolved").await.expect(200);
    app.clock.advance_secs(8 * 24 * 3600);
    let late = transition(&d.alice, &rid, "open").await;
    late.expect_error(409, "illegal_transition");
    assert!(late.json()["error"]["message"].as_str().unwrap().contains("7 days"));
    // Requesters cannot close; agents can.
    transition(&d.alice, &rid, "closed").await.expect_error(409, "illegal_transition");
    let closed = transition(&d.agent, &rid, "closed").await;
    closed.expect(200);
    let detail = closed.json();
    assert_eq!(
        events_to(&detail),
        vec![
            "new",
            "open",
            "in_progress",
            "waiting_on_customer",
            "in_progress",
            "resolved",
            "open",
            "resolved",
            "closed"
        ]
    );
    assert!(detail["events"].as_array().unwrap().iter().any(|e| e["note"] == "Which floor?"));
    assert!(detail["resolved_at"].is_string() && detail["closed_at"].is_string());
    // The transition comment is a public comment.
    let comments = d.alice.api.get(&format!("/api/itsm/requests/{rid}/comments")).await.json();
    assert!(comments["items"].as_array().unwrap().iter().any(|c| c["body"] == "Which floor?"));
    // No one but the approval outcome moves a request out of pending_approval.
    let wf = d
        .admin
        .api
        .post(
            "/api/itsm/workflows",
            json!({"name": "Boss", "stages": [{"approvers": {"users": [d.operator.id]}, "rule": "any"}]}),
        )
        .await;
    wf.expect(201);
    let gated = item(&d.admin, json!({"name": "Gated", "workflow_definition_id": id(&wf.json())})).await;
    let p = file(&d.alice, json!({"title": "Needs approval", "catalog_item_id": id(&gated)})).await;
    assert_eq!(p["status"], "pending_approval");
    for to in ["open", "in_progress", "rejected", "resolved"] {
        transition(&d.agent, &id(&p), to).await.expect_error(409, "illegal_transition");
        transition(&d.alice, &id(&p), to).await.expect_error(409, "illegal_transition");
    }
}
dual_test!(transitions_follow_the_state_machine, crate::itsm_support::long_sessions);

async fn assignment_and_agent_updates(app: &TestApp) {
    let d = desk(app).await;
    let other = app.tenant("other").await;
    let other_agent = app.user(&other, "fulfiller").await;
    let r = file(&d.alice, json!({"title": "Assign me"})).await;
    let rid = id(&r);
    let path = format!("/api/itsm/requests/{rid}");
    // Requesters cannot patch anything: refused, nothing changes.
    for body in [json!({"status": "resolved"}), json!({"priority": "urgent"}), json!({"assignee": d.agent.id})] {
        d.alice.api.patch(&path, body).await.expect_error(403, "forbidden");
    }
    let untouched = d.alice.api.get(&path).await.json();
    assert_eq!((untouched["status"].as_str(), untouched["priority"].as_str()), (Some("new"), Some("normal")));
    assert!(untouched["assignee"].is_null());
    // Agents assign to an active agent of this tenant only.
    for bad in [
        d.bob.id.clone(),
        other_agent.id.clone(),
        other.id.clone(),
        "01HZZZZZZZZZZZZZZZZZZZZZZZ".into(),
        other_agent.email.clone(),
    ] {
        let res = d.agent.api.patch(&path, json!({"assignee": bad, "priority": "high"})).await;
        res.expect_error(422, "validation_failed");
        assert!(res.json()["error"]["fields"]["assignee"].is_string());
    }
    let unchanged = d.agent.api.get(&path).await.json();
    assert_eq!(unchanged["priority"], "normal", "a refused patch writes nothing");
    assert!(unchanged["assignee"].is_null());
    assert_eq!(unchanged["events"].as_array().unwrap().len(), 1);
    let ok = d.agent.api.patch(&path, json!({"assignee": d.operator.email, "priority": "high"})).await;
    ok.expect(200);
    let v = ok.json();
    assert_eq!((v["assignee"]["id"].as_str(), v["priority"].as_str()), (Some(d.operator.id.as_str()), Some("high")));
    assert_eq!(v["assignee_id"], d.operator.id.as_str());
    let kinds: Vec<&str> = v["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["created", "priority", "assigned"]);
    // The new assignee is told.
    let n = d.operator.api.get("/api/notifications").await.json();
    assert!(n["items"].as_array().unwrap().iter().any(|x| x["kind"] == "assigned"), "{n}");
    // Status through PATCH follows the same state machine.
    d.agent.api.patch(&path, json!({"status": "closed"})).await.expect_error(409, "illegal_transition");
    assert_eq!(d.agent.api.patch(&path, json!({"status": "in_progress"})).await.json()["status"], "in_progress");
    // Unassign.
    let un = d.agent.api.patch(&path, json!({"assignee": null})).await.json();
    assert!(un["assignee"].is_null());
    // The agent list offers agents only.
    let agents = d.agent.api.get("/api/itsm/agents").await.json();
    let agent_ids: Vec<&str> = agents.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert!(agent_ids.contains(&d.agent.id.as_str()) && agent_ids.contains(&d.admin.id.as_str()));
    assert!(!agent_ids.contains(&d.alice.id.as_str()));
    d.alice.api.get("/api/itsm/agents").await.expect_error(403, "forbidden");
}
dual_test!(assignment_and_agent_updates);

async fn internal_notes_never_reach_requesters(app: &TestApp) {
    let Some((sink, app)) = with_mail(app).await else { return };
    let d = desk(&app).await;
    let r = file(&d.alice, json!({"title": "Secret stuff"})).await;
    let rid = id(&r);
    d.alice.api.post(&format!("/api/itsm/requests/{rid}/watchers"), json!({"user": d.bob.id})).await.expect(200);
    let secret = "INTERNAL-ONLY-7731 the user is a known troublemaker";
    d.alice
        .api
        .post(&format!("/api/itsm/requests/{rid}/comments"), json!({"body": "psst", "internal": true}))
        .await
        .expect_error(403, "forbidden");
    let note = d
        .agent
        .api
        .post(&format!("/api/itsm/requests/{rid}/comments"), json!({"body": secret, "internal": true}))
        .await;
    note.expect(201);
    assert_eq!(note.json()["internal"], true);
    d.agent
        .api
        .post(&format!("/api/itsm/requests/{rid}/comments"), json!({"body": "PUBLIC-REPLY-4410 on it"}))
        .await
        .expect(201);
    transition(&d.agent, &rid, "in_progress").await.expect(200);
    // Agents see both.
    let agent_view = d.agent.api.get(&format!("/api/itsm/requests/{rid}/comments")).await.text;
    assert!(agent_view.contains(secret) && agent_view.contains("PUBLIC-REPLY-4410"));
    // Requester and watcher: API list, request detail, notifications.
    for who in [&d.alice, &d.bob] {
        for path in [
            format!("/api/itsm/requests/{rid}/comments"),
            format!("/api/itsm/requests/{rid}"),
            "/api/itsm/requests".to_owned(),
            "/api/notifications".to_owned(),
        ] {
            let res = who.api.get(&path).await;
            res.expect(200);
            assert!(!res.text.contains("INTERNAL-ONLY-7731"), "{path} leaked the internal note: {}", res.text);
        }
        let comments = who.api.get(&format!("/api/itsm/requests/{rid}/comments")).await.text;
        assert!(comments.contains("PUBLIC-REPLY-4410"));
    }
    // E-mail: the requester and watcher get the public reply and the status
    // change, never the note.
    let got = |mails: &[tier0_testkit::smtp::Mail], to: &str, text: &str| {
        mails.iter().any(|m| m.to().contains(to) && m.decoded().contains(text))
    };
    let mut mails = Vec::new();
    for _ in 0..200 {
        mails = sink.messages();
        if got(&mails, &d.alice.email, "PUBLIC-REPLY-4410")
            && got(&mails, &d.bob.email, "PUBLIC-REPLY-4410")
            && got(&mails, &d.alice.email, "in progress")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(got(&mails, &d.alice.email, "PUBLIC-REPLY-4410"), "the public reply is mailed to the requester");
    assert!(got(&mails, &d.bob.email, "PUBLIC-REPLY-4410"), "and to the watcher");
    assert!(got(&mails, &d.alice.email, "in progress"), "the status change is mailed");
    for m in &mails {
        assert!(!m.decoded().contains("INTERNAL-ONLY-7731"), "a mail leaked the internal note: {}", m.raw);
    }
    app.shutdown().await;
}
dual_test!(internal_notes_never_reach_requesters);

async fn notifications_follow_preferences(app: &TestApp) {
    let Some((sink, app)) = with_mail(app).await else { return };
    let d = desk(&app).await;
    let r = file(&d.alice, json!({"title": "Monitor flickers"})).await;
    let rid = id(&r);
    d.agent.api.patch(&format!("/api/itsm/requests/{rid}"), json!({"assignee": "me"})).await.expect(200);
    transition(&d.agent, &rid, "in_progress").await.expect(200);
    // In-app with unread count; e-mail with text and HTML parts.
    let n = d.alice.api.get("/api/notifications").await.json();
    assert_eq!(n["unread_count"], 1, "{n}");
    let first = &n["items"][0];
    assert_eq!((first["kind"].as_str(), first["read"].as_bool()), (Some("status"), Some(false)));
    assert_eq!(first["link"], format!("/portal/requests/{rid}"));
    let number = r["number"].as_str().unwrap();
    let mail = wait_mail(&sink, &d.alice.email, &format!("[{number}] In progress")).await.expect("status mail");
    assert!(mail.subject().contains(number), "{}", mail.raw);
    assert!(mail.raw.contains("text/plain") && mail.raw.contains("text/html"));
    // Mark read: one, then all; someone else's is 404.
    let nid = first["id"].as_str().unwrap();
    d.bob.api.post(&format!("/api/notifications/{nid}/read"), json!({})).await.expect_error(404, "not_found");
    let m = d.alice.api.post(&format!("/api/notifications/{nid}/read"), json!({})).await;
    m.expect(200);
    assert_eq!(m.json()["unread_count"], 0);
    d.agent
        .api
        .post(&format!("/api/itsm/requests/{rid}/comments"), json!({"body": "Try another cable"}))
        .await
        .expect(201);
    assert_eq!(d.alice.api.get("/api/notifications?unread=true").await.json()["items"].as_array().unwrap().len(), 1);
    d.alice.api.post("/api/notifications/read-all", json!({})).await.expect(200);
    assert_eq!(d.alice.api.get("/api/notifications").await.json()["unread_count"], 0);
    app.client().get("/api/notifications").await.expect_error(401, "unauthorized");
    // A requester's reply notifies the assignee.
    d.alice.api.post(&format!("/api/itsm/requests/{rid}/comments"), json!({"body": "Did not help"})).await.expect(201);
    let agent_n = d.agent.api.get("/api/notifications").await.json();
    assert!(agent_n["items"].as_array().unwrap().iter().any(|x| x["kind"] == "reply"), "{agent_n}");
    // Preferences: no status e-mails, but still in-app.
    d.bob.api.patch("/api/me", json!({"notification_prefs": {"email_status_changes": false, "email_comments": true, "email_approvals": true}})).await.expect(200);
    let rb = file(&d.bob, json!({"title": "Bob quiet"})).await;
    transition(&d.agent, &id(&rb), "in_progress").await.expect(200);
    d.agent
        .api
        .post(&format!("/api/itsm/requests/{}/comments", id(&rb)), json!({"body": "BOB-COMMENT-99"}))
        .await
        .expect(201);
    wait_mail(&sink, &d.bob.email, "BOB-COMMENT-99").await.expect("comment mail");
    assert!(!sink.messages().iter().any(|m| m.to().contains(&d.bob.email) && m.subject().contains("In progress")));
    let bn = d.bob.api.get("/api/notifications").await.json();
    assert!(bn["items"].as_array().unwrap().iter().any(|x| x["kind"] == "status"));
    app.shutdown().await;
}
dual_test!(notifications_follow_preferences);

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn attachments_are_safe_downloads(app: &TestApp) {
    let d = desk(app).await;
    let r = file(&d.alice, json!({"title": "Screenshot attached"})).await;
    let rid = id(&r);
    // Sniffed type, sanitised name.
    let up = upload(&d.alice, &rid, "../../etc/evil\"name.txt", PNG.to_vec()).await;
    up.expect(201);
    let a = up.json();
    assert_eq!((a["content_type"].as_str(), a["filename"].as_str()), (Some("image/png"), Some("evil_name.txt")), "{a}");
    assert_eq!(a["size"], PNG.len());
    let aid = id(&a);
    let dl = d.agent.api.get(&format!("/api/itsm/requests/{rid}/attachments/{aid}")).await;
    dl.expect(200);
    assert_eq!(dl.header("content-type").as_deref(), Some("image/png"));
    assert_eq!(dl.header("x-content-type-options").as_deref(), Some("nosniff"));
    let cd = dl.header("content-disposition").unwrap();
    assert!(cd.starts_with("attachment;") && cd.contains("evil_name.txt"), "{cd}");
    // HTML is never served as HTML.
    let h =
        upload(&d.alice, &rid, "page.html", b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec()).await;
    h.expect(201);
    let hd = d.alice.api.get(&format!("/api/itsm/requests/{rid}/attachments/{}", id(&h.json()))).await;
    assert_eq!(hd.header("content-type").as_deref(), Some("application/octet-stream"));
    assert!(hd.header("content-disposition").unwrap().starts_with("attachment"));
    // Listed on the request.
    let detail = d.alice.api.get(&format!("/api/itsm/requests/{rid}")).await.json();
    assert_eq!(detail["attachments"].as_array().unwrap().len(), 2);
    // Only those who see the request.
    d.bob.api.get(&format!("/api/itsm/requests/{rid}/attachments/{aid}")).await.expect_error(404, "not_found");
    upload(&d.bob, &rid, "x.txt", b"hello".to_vec()).await.expect_error(404, "not_found");
    let anon = app.client();
    anon.get(&format!("/api/itsm/requests/{rid}/attachments/{aid}")).await.expect_error(401, "unauthorized");
    // Bad uploads.
    upload(&d.alice, &rid, "empty.txt", Vec::new()).await.expect_error(422, "validation_failed");
    let no_file = d
        .alice
        .api
        .send(
            d.alice
                .api
                .request(reqwest::Method::POST, &format!("/api/itsm/requests/{rid}/attachments"))
                .multipart(reqwest::multipart::Form::new().text("other", "x")),
        )
        .await;
    no_file.expect_error(422, "validation_failed");
    d.alice
        .api
        .post(&format!("/api/itsm/requests/{rid}/attachments"), json!({"file": "x"}))
        .await
        .expect_error(415, "unsupported_media_type");
    // The 25 MiB limit (and not the 1 MiB JSON limit) applies.
    upload(&d.alice, &rid, "big.bin", vec![7u8; 3 * 1024 * 1024]).await.expect(201);
    upload(&d.alice, &rid, "huge.bin", vec![7u8; 25 * 1024 * 1024 + 1]).await.expect_error(413, "payload_too_large");
    let after = d.alice.api.get(&format!("/api/itsm/requests/{rid}")).await.json();
    assert_eq!(after["attachments"].as_array().unwrap().len(), 3);
}
dual_test!(attachments_are_safe_downloads);

async fn concurrent_filing_numbers_are_unique(app: &TestApp) {
    let d = desk(app).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let api = if i % 2 == 0 { d.alice.api.clone() } else { d.agent.api.clone() };
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for j in 0..5 {
                // Every third one is invalid: refused without disturbing the others.
                let title = if j == 2 { String::new() } else { format!("Parallel {i}-{j}") };
                let r = api.post("/api/itsm/requests", json!({"title": title})).await;
                out.push((r.status, r.json()["number"].as_str().map(str::to_owned)));
            }
            out
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        for (status, number) in t.await.unwrap() {
            match status {
                201 => numbers.push(number.unwrap()),
                422 => {}
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!(numbers.len(), 64);
    let mut n: Vec<i64> = numbers.iter().map(|s| s.trim_start_matches("REQ-").parse().unwrap()).collect();
    n.sort();
    assert_eq!(n, (1..=64).collect::<Vec<_>>(), "gap-free, unique numbers");
}
dual_test!(concurrent_filing_numbers_are_unique);

async fn request_data_is_tenant_isolated(app: &TestApp) {
    let d = desk(app).await;
    let b_admin = app.tenant("beta").await;
    let b_agent = app.user(&b_admin, "fulfiller").await;
    let b_user = app.user(&b_admin, "requester").await;
    let b_req = file(&b_user, json!({"title": "Beta secret"})).await;
    let b_rid = id(&b_req);
    let b_comment =
        b_agent.api.post(&format!("/api/itsm/requests/{b_rid}/comments"), json!({"body": "beta note"})).await;
    b_comment.expect(201);
    let b_att = upload(&b_user, &b_rid, "beta.txt", b"beta file".to_vec()).await;
    b_att.expect(201);
    let b_inc = b_agent.api.post("/api/itsm/incidents", json!({"title": "Beta outage"})).await;
    b_inc.expect(201);
    transition(&b_agent, &b_rid, "in_progress").await.expect(200);
    let b_note = b_user.api.get("/api/notifications").await.json()["items"][0]["id"].as_str().unwrap().to_owned();
    let foreign = vec![b_rid.clone(), id(&b_comment.json()), id(&b_att.json()), id(&b_inc.json()), b_note.clone()];
    // Tenant A has data of its own too.
    let a_req = file(&d.alice, json!({"title": "Alpha"})).await;
    for who in [&d.admin, &d.agent, &d.alice] {
        assert_isolated(
            &who.api,
            &foreign,
            &[
                Probe::List("/api/itsm/requests".into()),
                Probe::List("/api/itsm/requests?q=beta".into()),
                Probe::List(format!("/api/itsm/requests/{}/comments", id(&a_req))),
                Probe::List(format!("/api/itsm/requests/{}", id(&a_req))),
                Probe::List("/api/notifications".into()),
                Probe::Get(format!("/api/itsm/requests/{b_rid}")),
                Probe::Get(format!("/api/itsm/requests/{b_rid}/comments")),
                Probe::Get(format!("/api/itsm/requests/{b_rid}/attachments/{}", id(&b_att.json()))),
            ],
        )
        .await;
    }
    assert_isolated(
        &d.agent.api,
        &foreign,
        &[Probe::List("/api/itsm/incidents".into()), Probe::Get(format!("/api/itsm/incidents/{}", id(&b_inc.json())))],
    )
    .await;
    // Writes into the other tenant's records are 404 and change nothing.
    transition(&d.agent, &b_rid, "resolved").await.expect_error(404, "not_found");
    d.agent
        .api
        .patch(&format!("/api/itsm/requests/{b_rid}"), json!({"priority": "low"}))
        .await
        .expect_error(404, "not_found");
    d.agent
        .api
        .post(&format!("/api/itsm/requests/{b_rid}/comments"), json!({"body": "x"}))
        .await
        .expect_error(404, "not_found");
    upload(&d.agent, &b_rid, "x.txt", b"x".to_vec()).await.expect_error(404, "not_found");
    d.alice.api.post(&format!("/api/notifications/{b_note}/read"), json!({})).await.expect_error(404, "not_found");
    // Foreign ids inside bodies: 422, nothing written.
    let n_before = d.agent.api.get("/api/itsm/incidents").await.json()["items"].as_array().unwrap().len();
    let r = d.agent.api.post("/api/itsm/incidents", json!({"title": "x", "source_request_id": b_rid})).await;
    r.expect_error(422, "validation_failed");
    assert_eq!(d.agent.api.get("/api/itsm/incidents").await.json()["items"].as_array().unwrap().len(), n_before);
    d.agent
        .api
        .post("/api/itsm/requests", json!({"title": "x", "requester": b_user.id}))
        .await
        .expect_error(422, "validation_failed");
    let still = b_user.api.get(&format!("/api/itsm/requests/{b_rid}")).await.json();
    assert_eq!((still["status"].as_str(), still["priority"].as_str()), (Some("in_progress"), Some("normal")));
}
dual_test!(request_data_is_tenant_isolated);

async fn incidents_per_role(app: &TestApp) {
    let d = desk(app).await;
    d.alice.api.get("/api/itsm/incidents").await.expect_error(403, "forbidden");
    d.alice.api.post("/api/itsm/incidents", json!({"title": "x"})).await.expect_error(403, "forbidden");
    app.client().get("/api/itsm/incidents").await.expect_error(401, "unauthorized");
    let plain = d.agent.api.post("/api/itsm/incidents", json!({"title": "Mail is down", "priority": "urgent"})).await;
    plain.expect(201);
    assert_eq!((plain.json()["number"].as_str(), plain.json()["status"].as_str()), (Some("INC-1"), Some("new")));
    d.agent.api.post("/api/itsm/incidents", json!({"title": ""})).await.expect_error(422, "validation_failed");
    let req = file(&d.alice, json!({"title": "Cannot print"})).await;
    let linked = d
        .operator
        .api
        .post("/api/itsm/incidents", json!({"title": "Printers down", "source_request_id": id(&req)}))
        .await;
    linked.expect(201);
    assert_eq!(linked.json()["source_request_number"], req["number"]);
    let now = d.alice.api.get(&format!("/api/itsm/requests/{}", id(&req))).await.json();
    assert_eq!(now["incident_id"], linked.json()["id"]);
    let from_requests = d.agent.api.get("/api/itsm/incidents?from_requests=true").await.json();
    assert_eq!(ids(&from_requests), vec![id(&linked.json())]);
    assert_eq!(ids(&d.agent.api.get("/api/itsm/incidents?q=INC-1").await.json()), vec![id(&plain.json())]);
    assert_eq!(ids(&d.agent.api.get("/api/itsm/incidents").await.json()).len(), 2);
    d.agent.api.get("/api/itsm/incidents?status=bogus").await.expect_error(422, "validation_failed");
}
dual_test!(incidents_per_role);

async fn openapi_lists_the_request_api(app: &TestApp) {
    let doc = app.client().get("/api/openapi.json").await.json();
    for path in [
        "/api/itsm/catalog",
        "/api/itsm/catalog/{id}",
        "/api/itsm/catalog/categories",
        "/api/itsm/requests",
        "/api/itsm/requests/{id}",
        "/api/itsm/requests/{id}/comments",
        "/api/itsm/requests/{id}/transition",
        "/api/itsm/requests/{id}/attachments",
        "/api/itsm/requests/{id}/attachments/{aid}",
        "/api/itsm/workflows",
        "/api/itsm/workflows/{id}",
        "/api/itsm/approvals",
        "/api/itsm/approvals/{id}",
        "/api/itsm/incidents",
        "/api/itsm/incidents/{id}",
        "/api/notifications",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi lacks {path}");
    }
    assert!(
        doc["paths"]["/api/itsm/requests/{id}/attachments"]["post"]["requestBody"]["content"]["multipart/form-data"]
            .is_object()
    );
}
dual_test!(openapi_lists_the_request_api);
