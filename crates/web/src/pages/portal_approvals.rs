//! The Approvals tab (`/portal/approvals`): the decisions asked of the
//! caller (what, who asked, the submitted values, the stage) with approve
//! and reject buttons and an optional comment, and their recent
//! decisions. Also the notifications list (`/portal/notifications`).

use super::forms::{FormData, see_other, time_el};
use super::layout::{Chrome, Tab, page};
use super::request_parts::{Errors, deny, pager, priority_pill, submitted_values, url_with};
use super::{PageCaller, done_message, notice, safe_next};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use tier0_app::AppError;
use tier0_app::itsm::approvals::{ApprovalQuery, DecisionInput};
use tier0_app::itsm::notify::NotificationQuery;
use tier0_domain::itsm::DecisionState;
use tier0_domain::itsm::records::ApprovalTask;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal/approvals", get(approvals))
        .route("/portal/approvals/{id}", post(decide))
        .route("/portal/notifications", get(notifications))
        .route("/portal/notifications/read-all", post(read_all))
        .route("/portal/notifications/{id}/read", post(read_one))
}

const DONE: &[(&str, &str)] = &[
    ("approved", "You approved the request. The requester has been told."),
    ("rejected", "You rejected the request. The requester has been told, with your comment."),
    ("read_all", "All notifications are marked as read."),
    ("read", "The notification is marked as read."),
];

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub done: Option<String>,
}

/// A re-render's extras for one task's form.
#[derive(Default)]
struct View {
    status: Option<StatusCode>,
    error: Option<String>,
    task: Option<String>,
    errors: Errors,
    values: FormData,
}

fn decision_pill(s: DecisionState) -> Markup {
    let label = match s {
        DecisionState::Pending => "Waiting for you",
        DecisionState::Approved => "Approved",
        DecisionState::Rejected => "Rejected",
        DecisionState::Skipped => "No longer needed",
    };
    html! { span class={ "pill " (s.as_str()) } { (label) } }
}

fn task_card(t: &ApprovalTask, v: &View) -> Markup {
    let mine = v.task.as_deref() == Some(t.id.as_str());
    let err = if mine { v.errors.get("comment") } else { None };
    let cid = format!("f-comment-{}", t.id);
    let eid = format!("{cid}-error");
    let hid = format!("{cid}-hint");
    let r = &t.request;
    html! {
        li class="card approval" {
            h3 { span class="number" { (r.number) } " " (r.title) }
            p class="meta" {
                "Asked by " strong { (r.requester.name) } " (" (r.requester.email) ") · " (time_el(r.created_at))
                " · approval step " (t.stage + 1)
            }
            p class="row" {
                @if let Some(n) = &r.catalog_item_name { span { (n) } }
                (priority_pill(r.priority))
            }
            @if !r.details.is_empty() { p class="comment-body" { (r.details) } }
            (submitted_values(&[], &r.fields))
            @if mine { @if let Some(e) = &v.error { (notice("error", e)) } }
            form class="stack decision" method="post" action={ "/portal/approvals/" (t.id) } novalidate {
                div class={ "field" @if err.is_some() { " invalid" } } {
                    label for=(cid) { "Comment " span class="optional" { "(optional)" } }
                    span class="hint" id=(hid) { "Shown to the requester. Say why when you reject." }
                    textarea id=(cid) name="comment" maxlength="2000" aria-invalid=[err.map(|_| "true")]
                        aria-describedby=(if err.is_some() { format!("{eid} {hid}") } else { hid.clone() }) {
                        @if mine { (v.values.get("comment")) }
                    }
                    @if let Some(e) = err { div class="field-error" id=(eid) role="alert" { "Comment " (e) } }
                }
                div class="row" {
                    button class="btn" type="submit" name="decision" value="approve" {
                        "Approve" span class="visually-hidden" { " " (r.number) }
                    }
                    button class="btn danger" type="submit" name="decision" value="reject" {
                        "Reject" span class="visually-hidden" { " " (r.number) }
                    }
                }
            }
        }
    }
}

async fn render(st: &AppState, c: &PageCaller, cursor: Option<String>, done: Option<&str>, v: View) -> Response {
    let me = match c.ctx.signed_in() {
        Ok(me) => me,
        Err(e) => return deny(c, e),
    };
    let q = |state: &str, limit: i64, cursor: Option<String>| ApprovalQuery {
        state: Some(state.into()),
        limit: Some(limit),
        cursor,
    };
    let on_later = cursor.is_some();
    let pending = match st.app.list_approval_tasks(me, q("pending", 25, cursor.clone())).await {
        Err(AppError::Validation(_)) if on_later => st.app.list_approval_tasks(me, q("pending", 25, None)).await,
        other => other,
    };
    let (pending, recent) = match (pending, st.app.list_approval_tasks(me, q("decided", 10, None)).await) {
        (Ok(p), Ok(r)) => (p, r),
        (Err(e), _) | (_, Err(e)) => return deny(c, e),
    };
    let next = pending.next_cursor.as_deref().map(|n| url_with("/portal/approvals", &[("cursor", n)]));
    let body = html! {
        h1 { "Approvals" }
        p class="lead" { "Requests waiting for your decision. Work starts on a request once it is approved." }
        @if let Some(d) = done_message(DONE, done) { (notice("ok", d)) }
        @if v.task.is_none() { @if let Some(e) = &v.error { (notice("error", e)) } }
        section aria-labelledby="h-pending" {
            h2 id="h-pending" { "Waiting for you" }
            @if pending.items.is_empty() {
                p class="card empty" { "Nothing is waiting for your approval." }
            } @else {
                ul class="plain stack approvals" { @for t in &pending.items { (task_card(t, &v)) } }
            }
            (pager("/portal/approvals", next, on_later))
        }
        @if !recent.items.is_empty() {
            section aria-labelledby="h-recent" {
                h2 id="h-recent" { "Your recent decisions" }
                div class="table-wrap" {
                    table {
                        caption class="visually-hidden" { "Your recent decisions, newest first" }
                        thead { tr { th scope="col" { "Request" } th scope="col" { "Asked by" } th scope="col" { "Decision" } th scope="col" { "When" } } }
                        tbody {
                            @for t in &recent.items {
                                tr {
                                    th scope="row" { span class="number" { (t.request.number) } " " (t.request.title) }
                                    td { (t.request.requester.name) }
                                    td { (decision_pill(t.state)) @if let Some(cm) = &t.comment { br; span class="meta comment-body" { (cm) } } }
                                    td { @if let Some(at) = t.decided_at { (time_el(at)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let chrome = Chrome::for_ctx(st, &c.ctx).await;
    (v.status.unwrap_or(StatusCode::OK), page(&chrome, "Approvals", Tab::Approvals, body)).into_response()
}

/// `GET /portal/approvals`.
pub async fn approvals(State(st): State<AppState>, c: PageCaller, Query(p): Query<ListParams>) -> Response {
    if let Err(r) = c.signed_in() {
        return r;
    }
    render(&st, &c, p.cursor, p.done.as_deref(), View::default()).await
}

/// `POST /portal/approvals/{id}`: approve or reject (`decision`).
pub async fn decide(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>, f: FormData) -> Response {
    let me = match c.ctx.signed_in() {
        Ok(me) => me,
        Err(e) => return deny(&c, e),
    };
    let decision = f.get("decision").to_owned();
    let input = DecisionInput { decision: decision.clone(), comment: f.opt("comment") };
    let view = |status, error: Option<String>, errors: Errors| View {
        status: Some(status),
        error,
        task: Some(id.clone()),
        errors,
        values: f.clone(),
    };
    let v = match st.app.decide_approval(me, &id, input).await {
        Ok(out) => {
            let done = if out.decision == DecisionState::Approved { "approved" } else { "rejected" };
            return see_other(&format!("/portal/approvals?done={done}"));
        }
        Err(AppError::Validation(v)) => {
            let mut errors = v.fields;
            let bad = errors.remove("decision").map(|_| "Choose Approve or Reject.".to_owned());
            view(StatusCode::UNPROCESSABLE_ENTITY, bad, errors)
        }
        Err(AppError::Conflict { .. }) => View {
            status: Some(StatusCode::CONFLICT),
            error: Some("That request is no longer waiting for your decision.".into()),
            ..View::default()
        },
        Err(e) => return deny(&c, e),
    };
    render(&st, &c, None, None, v).await
}

// ---- Notifications ---------------------------------------------------------

/// `GET /portal/notifications`: newest first, unread ones marked.
pub async fn notifications(State(st): State<AppState>, c: PageCaller, Query(p): Query<ListParams>) -> Response {
    if let Err(r) = c.signed_in() {
        return r;
    }
    let Ok(me) = c.ctx.signed_in() else { return deny(&c, AppError::Unauthenticated) };
    let q = |cursor| NotificationQuery { unread: None, limit: Some(30), cursor };
    let on_later = p.cursor.is_some();
    let list = match st.app.list_notifications(me, q(p.cursor.clone())).await {
        Err(AppError::Validation(_)) if on_later => st.app.list_notifications(me, q(None)).await,
        other => other,
    };
    let list = match list {
        Ok(l) => l,
        Err(e) => return deny(&c, e),
    };
    let next = list.next_cursor.as_deref().map(|n| url_with("/portal/notifications", &[("cursor", n)]));
    let body = html! {
        div class="row" {
            h1 { "Notifications" }
            span class="spacer" {}
            @if list.unread_count > 0 {
                form method="post" action="/portal/notifications/read-all" {
                    button class="btn secondary small" type="submit" { "Mark all as read" }
                }
            }
        }
        @if let Some(d) = done_message(DONE, p.done.as_deref()) { (notice("ok", d)) }
        p class="meta" {
            @if list.unread_count == 0 { "You are all caught up." }
            @else if list.unread_count == 1 { "1 unread notification." }
            @else { (list.unread_count) " unread notifications." }
        }
        @if list.items.is_empty() {
            p class="card empty" { "No notifications yet. You will hear here when something happens to your requests." }
        } @else {
            ul class="plain notification-list" {
                @for n in &list.items {
                    li class={ "card notification" @if !n.read { " unread" } } {
                        p {
                            @if !n.read { span class="pill info" { "Unread" } " " }
                            a href=(safe_next(Some(&n.link))) { (n.title) }
                        }
                        p class="comment-body" { (n.body) }
                        p class="meta row" {
                            (time_el(n.created_at))
                            @if !n.read {
                                form method="post" action={ "/portal/notifications/" (n.id) "/read" } {
                                    button class="link-button" type="submit" { "Mark as read" span class="visually-hidden" { ": " (n.title) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        (pager("/portal/notifications", next, on_later))
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    page(&chrome, "Notifications", Tab::Notifications, body).into_response()
}

/// `POST /portal/notifications/read-all`.
pub async fn read_all(State(st): State<AppState>, c: PageCaller) -> Response {
    let r = match c.ctx.signed_in() {
        Ok(me) => st.app.mark_all_notifications_read(me).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => see_other("/portal/notifications?done=read_all"),
        Err(e) => deny(&c, e),
    }
}

/// `POST /portal/notifications/{id}/read`.
pub async fn read_one(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    let r = match c.ctx.signed_in() {
        Ok(me) => st.app.mark_notification_read(me, &id).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => see_other("/portal/notifications?done=read"),
        Err(e) => deny(&c, e),
    }
}
