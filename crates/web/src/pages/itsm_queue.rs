//! The agent workspace's request side (`itsm:fulfill`): the dashboard
//! (`/itsm`: counts by status, overdue, unassigned, mine, the newest
//! requests) and the queue (`/itsm/requests`: open requests unless
//! filtered otherwise) with its filters and keyset
//! pages. A request's agent page is in `request_pages`.

use super::forms::time_el;
use super::layout::{Chrome, Tab, page_at};
use super::request_parts::{PAGE_SIZE, deny, pager, priority_pill, status_label, status_pill, url_with};
use super::{PageCaller, notice};
use crate::AppState;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use tier0_app::itsm::requests::RequestListQuery;
use tier0_app::{AppError, caps};
use tier0_domain::itsm::records::ServiceRequest;
use tier0_domain::itsm::{Priority, RequestStatus};

pub fn routes() -> Router<AppState> {
    Router::new().route("/itsm", get(dashboard)).route("/itsm/requests", get(queue))
}

/// Rows of a queue table: overdue due dates highlighted.
fn queue_table(items: &[ServiceRequest], caption: &str) -> Markup {
    html! {
        div class="table-wrap" {
            table class="queue" {
                caption class="visually-hidden" { (caption) }
                thead { tr {
                    th scope="col" { "Request" }
                    th scope="col" { "Requester" }
                    th scope="col" { "Status" }
                    th scope="col" { "Priority" }
                    th scope="col" { "Assigned to" }
                    th scope="col" { "Due" }
                    th scope="col" { "Filed" }
                } }
                tbody {
                    @for r in items {
                        tr class=[r.overdue.then_some("overdue")] {
                            th scope="row" { a href={ "/itsm/requests/" (r.id) } { span class="number" { (r.number) } " " (r.title) } }
                            td { (r.requester.name) }
                            td { (status_pill(r.status, true)) }
                            td { (priority_pill(r.priority)) }
                            td { @if let Some(a) = &r.assignee { (a.name) } @else { span class="meta" { "Unassigned" } } }
                            td class="due" {
                                @if let Some(d) = r.due_at {
                                    @if r.status.is_active() {
                                        (time_el(d))
                                        @if r.overdue { " " span class="pill bad" { "Overdue" } }
                                    } @else { span class="meta" { "—" } }
                                } @else { span class="meta" { "No target" } }
                            }
                            td { (time_el(r.created_at)) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /itsm`.
pub async fn dashboard(State(st): State<AppState>, c: PageCaller) -> Response {
    let (fulfill, read) = match (c.ctx.can::<caps::Fulfill>(), c.ctx.can::<caps::ItsmRead>()) {
        (Ok(f), Ok(r)) => (f, r),
        (Err(e), _) | (_, Err(e)) => return deny(&c, e),
    };
    let mine_q = RequestListQuery {
        status: Some("active".into()),
        assignee: Some("me".into()),
        limit: Some(100),
        ..RequestListQuery::default()
    };
    let loaded = async {
        let summary = st.app.queue_summary(fulfill).await?;
        let mine = st.app.list_requests(read, mine_q).await?;
        let recent = st.app.list_requests(read, RequestListQuery { limit: Some(10), ..Default::default() }).await?;
        Ok::<_, AppError>((summary, mine, recent))
    }
    .await;
    let (summary, mine, recent) = match loaded {
        Ok(v) => v,
        Err(e) => return deny(&c, e),
    };
    let mine_count =
        if mine.next_cursor.is_some() { format!("{}+", mine.items.len()) } else { mine.items.len().to_string() };
    let active_total: i64 = summary.by_status.values().sum();
    let body = html! {
        h1 { "ITSM Dashboard" }
        section aria-labelledby="h-glance" {
            h2 id="h-glance" { "At a glance" }
            ul class="plain grid counters" {
                li class="card counter" { a href="/itsm/requests?status=active" { span class="count" { (active_total) } span { "Open requests" } } }
                li class={ "card counter" @if summary.overdue > 0 { " alert" } } { a href="/itsm/requests?overdue=1" { span class="count" { (summary.overdue) } span { "Overdue" } } }
                li class="card counter" { a href="/itsm/requests?status=active&assignee=none" { span class="count" { (summary.unassigned) } span { "Unassigned" } } }
                li class="card counter" { a href="/itsm/requests?status=active&assignee=me" { span class="count" { (mine_count) } span { "Assigned to me" } } }
            }
        }
        section aria-labelledby="h-by-status" {
            h2 id="h-by-status" { "Open requests by status" }
            ul class="plain grid counters" {
                @for s in RequestStatus::ACTIVE {
                    li class="card counter" {
                        a href={ "/itsm/requests?status=" (s.as_str()) } {
                            span class="count" { (summary.by_status.get(s.as_str()).copied().unwrap_or(0)) }
                            span { (status_label(s, true)) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="h-recent" {
            div class="row" { h2 id="h-recent" { "Newest requests" } span class="spacer" {} a href="/itsm/requests?status=any" { "Open the queue" } }
            @if recent.items.is_empty() { p class="card empty" { "No requests yet." } }
            @else { (queue_table(&recent.items, "The ten newest requests")) }
        }
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    page_at(&chrome, "ITSM Dashboard", Tab::Itsm, "/itsm", body).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueParams {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub overdue: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /itsm/requests`: the whole queue, filtered; newest first, or most
/// overdue first with "Overdue only".
pub async fn queue(State(st): State<AppState>, c: PageCaller, Query(p): Query<QueueParams>) -> Response {
    let (fulfill, read) = match (c.ctx.can::<caps::Fulfill>(), c.ctx.can::<caps::ItsmRead>()) {
        (Ok(f), Ok(r)) => (f, r),
        (Err(e), _) | (_, Err(e)) => return deny(&c, e),
    };
    let trim = |o: &Option<String>| o.as_deref().map(str::trim).unwrap_or("").to_owned();
    // Open requests unless asked otherwise; "any" shows every status.
    let status = trim(&p.status);
    let status =
        if status == "any" || RequestStatus::from_str_opt(&status).is_some() { status } else { "active".into() };
    let status_filter = if status == "any" { String::new() } else { status.clone() };
    let priority = trim(&p.priority);
    let priority = if Priority::from_str_opt(&priority).is_some() { priority } else { String::new() };
    let assignee = trim(&p.assignee);
    let overdue = matches!(trim(&p.overdue).as_str(), "1" | "true" | "on");
    let q = trim(&p.q);
    let agents = match st.app.assignable_agents(fulfill).await {
        Ok(a) => a,
        Err(e) => return deny(&c, e),
    };
    let query = |cursor: Option<String>| RequestListQuery {
        status: Some(status_filter.clone()),
        priority: Some(priority.clone()),
        assignee: Some(assignee.clone()),
        mine: None,
        q: Some(q.clone()),
        overdue: Some(overdue),
        limit: Some(PAGE_SIZE),
        cursor,
    };
    let mut problem = None;
    let list = match st.app.list_requests(read, query(p.cursor.clone())).await {
        Err(AppError::Validation(_)) if p.cursor.is_some() => {
            problem = Some("That page of the queue does not exist; showing the first page.");
            st.app.list_requests(read, query(None)).await
        }
        other => other,
    };
    let list = match list {
        Ok(l) => l,
        Err(e) => return deny(&c, e),
    };
    let od = if overdue { "1" } else { "" };
    let params =
        [("status", status.as_str()), ("priority", &priority), ("assignee", &assignee), ("overdue", od), ("q", &q)];
    let first = url_with("/itsm/requests", &params);
    let next = list.next_cursor.as_deref().map(|n| {
        let mut all = params.to_vec();
        all.push(("cursor", n));
        url_with("/itsm/requests", &all)
    });
    let is_default = |k: &str, v: &str| v.is_empty() || (k == "status" && v == "active");
    let filtered = params.iter().any(|(k, v)| !is_default(k, v));
    let body = html! {
        h1 { "Request queue" }
        @if let Some(pr) = problem { (notice("error", pr)) }
        form class="filters queue-filters" method="get" action="/itsm/requests" role="search" aria-label="Filter the queue" {
            div class="row" {
                div {
                    label for="f-q" { "Number or title" }
                    input id="f-q" type="search" name="q" value=(q) placeholder="REQ-12 or words" maxlength="200";
                }
                div {
                    label for="f-status" { "Status" }
                    select id="f-status" name="status" {
                        option value="active" selected[status == "active"] { "Open (not finished)" }
                        option value="any" selected[status == "any"] { "Any status" }
                        @for s in RequestStatus::ALL { option value=(s.as_str()) selected[status == s.as_str()] { (status_label(s, true)) } }
                    }
                }
                div {
                    label for="f-priority" { "Priority" }
                    select id="f-priority" name="priority" {
                        option value="" selected[priority.is_empty()] { "Any" }
                        @for pr in Priority::ALL { option value=(pr.as_str()) selected[priority == pr.as_str()] { (pr.label()) } }
                    }
                }
                div {
                    label for="f-assignee" { "Assigned to" }
                    select id="f-assignee" name="assignee" {
                        option value="" selected[assignee.is_empty()] { "Anyone" }
                        option value="me" selected[assignee == "me"] { "Me" }
                        option value="none" selected[assignee == "none"] { "Nobody (unassigned)" }
                        @for a in &agents { option value=(a.id) selected[assignee == a.id.as_str()] { (a.name) } }
                    }
                }
                div class="check" {
                    input id="f-overdue" type="checkbox" name="overdue" value="1" checked[overdue];
                    label for="f-overdue" { "Overdue only (most overdue first)" }
                }
                button class="btn secondary" type="submit" { "Filter" }
                @if filtered { a href="/itsm/requests" { "Clear filters" } }
            }
        }
        p class="meta" { @if overdue { "Sorted by due date, most overdue first." } @else { "Newest first." } }
        @if list.items.is_empty() {
            p class="card empty" { @if filtered { "No requests match these filters." } @else { "The queue is empty." } }
        } @else {
            (queue_table(&list.items, "Requests in the queue"))
        }
        (pager(&first, next, p.cursor.is_some()))
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    page_at(&chrome, "Request queue", Tab::Itsm, "/itsm/requests", body).into_response()
}
