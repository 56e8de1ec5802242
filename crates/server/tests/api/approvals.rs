//! Approval workflows and decisions (SPEC §5), per role, on both databases.

use crate::itsm_support::*;
use serde_json::{Value, json};
use tier0_testkit::isolation::{Probe, assert_isolated};
use tier0_testkit::{TestApp, TestUser, dual_test};

async fn workflow(admin: &TestUser, body: Value) -> Value {
    let r = admin.api.post("/api/itsm/workflows", body).await;
    r.expect(201);
    r.json()
}

async fn pending(u: &TestUser) -> Vec<Value> {
    let r = u.api.get("/api/itsm/approvals?state=pending").await;
    r.expect(200);
    r.json()["items"].as_array().unwrap().clone()
}

async fn decide(u: &TestUser, id: &str, decision: &str, comment: Option<&str>) -> tier0_testkit::Resp {
    u.api.post(&format!("/api/itsm/approvals/{id}"), json!({"decision": decision, "comment": comment})).await
}

async fn multi_stage_approval(app: &TestApp) {
    let d = desk(app).await;
    let op2 = app.user(&d.admin, "operator").await;
    let manager = app.user(&d.admin, "requester").await;
    // Stage 1: the manager (any); stage 2: every operator (all).
    let wf = workflow(
        &d.admin,
        json!({"name": "Manager then operators", "stages": [
            {"approvers": {"users": [manager.email]}, "rule": "any"},
            {"approvers": {"roles": ["operator"]}, "rule": "all"}
        ]}),
    )
    .await;
    assert_eq!(wf["stages"][0]["approvers"]["users"], json!([manager.id]));
    assert_eq!(wf["stages"][1]["approvers"]["roles"], json!(["operator"]));
    let gated = item(&d.admin, json!({"name": "Admin rights", "workflow_definition_id": id(&wf)})).await;
    assert_eq!(gated["requires_approval"], true);

    let r = file(&d.alice, json!({"title": "Admin rights please", "catalog_item_id": id(&gated)})).await;
    let rid = id(&r);
    assert_eq!(r["status"], "pending_approval");
    assert_eq!(r["approval"]["state"], "pending");
    assert_eq!(r["approval"]["stages"][0]["decisions"][0]["approver"]["id"], manager.id.as_str());
    assert_eq!(r["allowed_transitions"], json!(["cancelled"]));
    let timeline: Vec<&str> =
        r["events"].as_array().unwrap().iter().map(|e| e["to"].as_str().unwrap_or_default()).collect();
    assert_eq!(timeline, vec!["new", "pending_approval"]);

    // Only the manager has something to decide; nobody else can.
    assert!(pending(&d.alice).await.is_empty());
    assert!(pending(&d.operator).await.is_empty());
    let tasks = pending(&manager).await;
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0];
    assert_eq!(task["request"]["id"], rid.as_str());
    assert_eq!(task["request"]["title"], "Admin rights please");
    let tid = id(task);
    for who in [&d.alice, &d.agent, &d.operator, &d.admin] {
        decide(who, &tid, "approve", None).await.expect_error(404, "not_found");
    }
    app.client().get("/api/itsm/approvals").await.expect_error(401, "unauthorized");
    decide(&manager, &tid, "maybe", None).await.expect_error(422, "validation_failed");
    // The manager was notified in-app.
    let n = manager.api.get("/api/notifications").await.json();
    assert_eq!(n["items"][0]["kind"], "approval_needed", "{n}");

    // Stage 1 approved → stage 2 asks both operators.
    let out = decide(&manager, &tid, "approve", Some("Fine by me")).await;
    out.expect(200);
    assert_eq!(out.json()["request_status"], "pending_approval");
    assert_eq!(out.json()["approval"]["current_stage"], 1);
    decide(&manager, &tid, "approve", None).await.expect_error(409, "already_decided");
    assert!(pending(&manager).await.is_empty());
    assert_eq!(
        manager.api.get("/api/itsm/approvals?state=approved").await.json()["items"].as_array().unwrap().len(),
        1
    );
    let op_tasks = pending(&d.operator).await;
    assert_eq!(op_tasks.len(), 1);
    assert_eq!(pending(&op2).await.len(), 1);
    // "all": one approval is not enough.
    let one = decide(&d.operator, &id(&op_tasks[0]), "approve", None).await;
    assert_eq!(one.json()["request_status"], "pending_approval");
    // The request's approval id works too.
    let approval_id = r["approval"]["id"].as_str().unwrap();
    let last = decide(&op2, approval_id, "approve", None).await;
    last.expect(200);
    assert_eq!(last.json()["request_status"], "open");
    assert_eq!(last.json()["approval"]["state"], "approved");
    let now = d.alice.api.get(&format!("/api/itsm/requests/{rid}")).await.json();
    assert_eq!(now["status"], "open");
    assert_eq!(now["approval"]["state"], "approved");
    let n = d.alice.api.get("/api/notifications").await.json();
    assert!(n["items"].as_array().unwrap().iter().any(|x| x["kind"] == "approval_decided"), "{n}");
    // Work continues as usual.
    d.agent.api.post(&format!("/api/itsm/requests/{rid}/transition"), json!({"to": "in_progress"})).await.expect(200);
    // Audit of workflow changes.
    let audit = d.admin.api.get("/api/audit?action=workflow.created").await.json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
}
dual_test!(multi_stage_approval);

async fn rejection_reaches_the_requester(app: &TestApp) {
    let Some((sink, app)) = with_mail(app).await else { return };
    let d = desk(&app).await;
    let wf =
        workflow(&d.admin, json!({"name": "Operator", "stages": [{"approvers": {"users": [d.operator.id]}}]})).await;
    let gated = item(&d.admin, json!({"name": "Gated", "workflow_definition_id": id(&wf)})).await;
    let r = file(&d.alice, json!({"title": "Please", "catalog_item_id": id(&gated)})).await;
    let rid = id(&r);
    // The approver is e-mailed.
    let ask = wait_mail(&sink, &d.operator.email, "Approval needed").await.expect("approval mail");
    assert!(ask.subject().contains("Approval needed"), "{}", ask.raw);
    let tid = id(&pending(&d.operator).await[0]);
    let out = decide(&d.operator, &tid, "reject", Some("BUDGET-FROZEN-2211 until next quarter")).await;
    out.expect(200);
    assert_eq!(out.json()["request_status"], "rejected");
    // The requester sees the reason: timeline, approval, notification, e-mail.
    let now = d.alice.api.get(&format!("/api/itsm/requests/{rid}")).await.json();
    assert_eq!(now["status"], "rejected");
    assert!(now["closed_at"].is_string());
    let last = now["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["to"].as_str(), last["note"].as_str()),
        (Some("rejected"), Some("BUDGET-FROZEN-2211 until next quarter"))
    );
    assert_eq!(now["approval"]["stages"][0]["decisions"][0]["comment"], "BUDGET-FROZEN-2211 until next quarter");
    let n = d.alice.api.get("/api/notifications").await.text;
    assert!(n.contains("BUDGET-FROZEN-2211"));
    let mut found = false;
    for _ in 0..200 {
        if sink.messages().iter().any(|m| m.to().contains(&d.alice.email) && m.decoded().contains("BUDGET-FROZEN-2211"))
        {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found, "the rejection reason is mailed to the requester");
    // Rejected is terminal.
    for to in ["open", "cancelled", "resolved"] {
        d.agent
            .api
            .post(&format!("/api/itsm/requests/{rid}/transition"), json!({"to": to}))
            .await
            .expect_error(409, "illegal_transition");
    }
    decide(&d.operator, &tid, "approve", None).await.expect_error(409, "already_decided");
    app.shutdown().await;
}
dual_test!(rejection_reaches_the_requester);

async fn cancelling_withdraws_the_approval(app: &TestApp) {
    let d = desk(app).await;
    let wf =
        workflow(&d.admin, json!({"name": "Ops", "stages": [{"approvers": {"roles": ["operator"]}, "rule": "any"}]}))
            .await;
    let gated = item(&d.admin, json!({"name": "Gated", "workflow_definition_id": id(&wf)})).await;
    let r = file(&d.alice, json!({"title": "Never mind", "catalog_item_id": id(&gated)})).await;
    let tid = id(&pending(&d.operator).await[0]);
    let c = d.alice.api.post(&format!("/api/itsm/requests/{}/transition", id(&r)), json!({"to": "cancelled"})).await;
    c.expect(200);
    assert_eq!(c.json()["approval"]["state"], "cancelled");
    assert!(pending(&d.operator).await.is_empty());
    decide(&d.operator, &tid, "approve", None).await.expect_error(409, "already_decided");
    // A requester who is also an approver never approves their own request.
    let self_wf =
        workflow(&d.admin, json!({"name": "Self", "stages": [{"approvers": {"users": [d.alice.id, d.operator.id]}}]}))
            .await;
    let own = item(&d.admin, json!({"name": "Own", "workflow_definition_id": id(&self_wf)})).await;
    let r = file(&d.alice, json!({"title": "Mine", "catalog_item_id": id(&own)})).await;
    let approvers: Vec<&str> = r["approval"]["stages"][0]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["approver"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(approvers, vec![d.operator.id.as_str()]);
    assert!(pending(&d.alice).await.is_empty());
}
dual_test!(cancelling_withdraws_the_approval);

async fn workflow_definitions_per_role(app: &TestApp) {
    let d = desk(app).await;
    let other = app.tenant("other").await;
    let body = json!({"name": "W", "stages": [{"approvers": {"users": [d.operator.id]}}]});
    for who in [&d.alice, &d.agent, &d.operator] {
        who.api.post("/api/itsm/workflows", body.clone()).await.expect_error(403, "forbidden");
        who.api.get("/api/itsm/workflows").await.expect_error(403, "forbidden");
    }
    app.client().post("/api/itsm/workflows", body.clone()).await.expect_error(401, "unauthorized");
    // Validation, including another tenant's users and roles: nothing written.
    let other_role = other.api.get("/api/roles").await.json()[0]["id"].as_str().unwrap().to_owned();
    for (bad, field) in [
        (json!({"name": "", "stages": [{"approvers": {"users": [d.operator.id]}}]}), "name"),
        (json!({"name": "W", "stages": []}), "stages"),
        (json!({"name": "W", "stages": [{"approvers": {}}]}), "stages[0].approvers"),
        (json!({"name": "W", "stages": [{"approvers": {"users": [d.operator.id]}, "rule": "most"}]}), "stages[0].rule"),
        (json!({"name": "W", "stages": [{"approvers": {"users": [other.id]}}]}), "stages[0].approvers"),
        (json!({"name": "W", "stages": [{"approvers": {"users": [other.email]}}]}), "stages[0].approvers"),
        (json!({"name": "W", "stages": [{"approvers": {"roles": [other_role]}}]}), "stages[0].approvers"),
        (json!({"name": "W", "stages": [{"approvers": {"roles": ["wizards"]}}]}), "stages[0].approvers"),
    ] {
        let r = d.admin.api.post("/api/itsm/workflows", bad.clone()).await;
        r.expect_error(422, "validation_failed");
        assert!(r.json()["error"]["fields"][field].is_string(), "{bad}: {}", r.text);
    }
    assert!(ids(&d.admin.api.get("/api/itsm/workflows").await.json()).is_empty());
    let wf = workflow(&d.admin, body).await;
    let path = format!("/api/itsm/workflows/{}", id(&wf));
    d.admin.api.get(&path).await.expect(200);
    let p = d.admin.api.patch(&path, json!({"name": "Renamed"})).await;
    p.expect(200);
    assert_eq!((p.json()["name"].as_str(), p.json()["stages"].as_array().map(Vec::len)), (Some("Renamed"), Some(1)));
    d.admin
        .api
        .patch(&path, json!({"stages": [{"approvers": {"users": [other.id]}}]}))
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(d.admin.api.get(&path).await.json()["stages"][0]["approvers"]["users"], json!([d.operator.id]));
    d.agent.api.patch(&path, json!({"name": "x"})).await.expect_error(403, "forbidden");
}
dual_test!(workflow_definitions_per_role);

async fn approvals_are_tenant_isolated(app: &TestApp) {
    let d = desk(app).await;
    let b = app.tenant("beta").await;
    let b_op = app.user(&b, "operator").await;
    let b_user = app.user(&b, "requester").await;
    let b_wf = workflow(&b, json!({"name": "Beta", "stages": [{"approvers": {"users": [b_op.id]}}]})).await;
    let b_item = item(&b, json!({"name": "Beta gated", "workflow_definition_id": id(&b_wf)})).await;
    let b_req = file(&b_user, json!({"title": "Beta approval", "catalog_item_id": id(&b_item)})).await;
    let b_task = id(&pending(&b_op).await[0]);
    let b_approval = b_req["approval"]["id"].as_str().unwrap().to_owned();
    let foreign = vec![b_task.clone(), b_approval.clone(), id(&b_req)];
    for who in [&d.admin, &d.operator, &d.alice] {
        assert_isolated(
            &who.api,
            &foreign,
            &[
                Probe::List("/api/itsm/approvals".into()),
                Probe::List("/api/itsm/approvals?state=all".into()),
                Probe::List("/api/notifications".into()),
            ],
        )
        .await;
        decide(who, &b_task, "approve", None).await.expect_error(404, "not_found");
        decide(who, &b_approval, "approve", None).await.expect_error(404, "not_found");
    }
    // B's approver, on A's host with B's token, is not signed in there.
    app.client()
        .with_token(&b_op.token)
        .post(&format!("/api/itsm/approvals/{b_task}"), json!({"decision": "approve"}))
        .await
        .expect(401);
    assert_eq!(pending(&b_op).await.len(), 1, "still pending");
}
dual_test!(approvals_are_tenant_isolated);
