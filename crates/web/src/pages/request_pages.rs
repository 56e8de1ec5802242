//! My Requests (`/portal/requests`) and a request's page, in two views of
//! one renderer: the requester's (`/portal/requests/{id}`) and the
//! agent's (`/itsm/requests/{id}`: assignment, priority, internal notes,
//! watchers, the linked incident). Every action is a form posted to a
//! sub-path that redirects back with a confirmation, or re-renders the
//! page with the message next to its field.

use super::forms::{FormData, see_other, time_el};
use super::layout::{Chrome, Tab, page, page_at};
use super::request_parts::{
    Errors, PAGE_SIZE, approval_status, attachments, deny, not_found, pager, priority_pill, read_posted, status_pill,
    submitted_values, timeline, transition_verb, url_with,
};
use super::{PageCaller, done_message, notice};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;
use tier0_app::auth::users::Page;
use tier0_app::itsm::comments::{CommentInput, CommentQuery};
use tier0_app::itsm::requests::{RequestDetail, RequestListQuery, RequestPatch, TransitionInput, WatcherInput};
use tier0_app::{AppError, Can, caps};
use tier0_domain::itsm::records::{Comment, ServiceRequest, UserRef};
use tier0_domain::itsm::{FormField, Priority, RequestStatus};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal/requests", get(my_requests))
        .route("/portal/requests/{id}", get(portal_detail))
        .route("/portal/requests/{id}/comments", post(portal_comment))
        .route("/portal/requests/{id}/transition", post(portal_transition))
        .route("/itsm/requests/{id}", get(itsm_detail))
        .route("/itsm/requests/{id}/comments", post(itsm_comment))
        .route("/itsm/requests/{id}/transition", post(itsm_transition))
        .route("/itsm/requests/{id}/update", post(itsm_update))
        .route("/itsm/requests/{id}/watchers", post(itsm_add_watcher))
        .route("/itsm/requests/{id}/watchers/{user_id}/remove", post(itsm_remove_watcher))
}

/// Routes taking a file (upload limit instead of the form limit).
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/portal/requests/{id}/attachments", post(portal_upload))
        .route("/itsm/requests/{id}/attachments", post(itsm_upload))
}

const DONE: &[(&str, &str)] = &[
    ("filed", "Thank you: your request was submitted. We will keep you posted here and by e-mail."),
    ("filed_without_file", "Your request was submitted, but the file could not be attached. Please add it below."),
    ("replied", "Your reply was added."),
    ("noted", "The internal note was added."),
    ("status", "The status was changed."),
    ("uploaded", "The file was added."),
    ("updated", "The request was updated."),
    ("watcher_added", "The watcher was added."),
    ("watcher_removed", "The watcher was removed."),
];

// ---- My Requests -------------------------------------------------------------

const FINISHED: &str = "resolved,closed,rejected,cancelled";

#[derive(Debug, Default, Deserialize)]
pub struct MineParams {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /portal/requests`: the caller's requests (those they filed, are
/// the requester of, or watch), newest first.
pub async fn my_requests(State(st): State<AppState>, c: PageCaller, Query(p): Query<MineParams>) -> Response {
    if let Err(r) = c.signed_in() {
        return r;
    }
    let by = match c.ctx.can::<caps::ItsmRead>() {
        Ok(by) => by,
        Err(e) => return deny(&c, e),
    };
    let show = p.status.as_deref().map(str::trim).unwrap_or("").to_owned();
    let q = p.q.as_deref().map(str::trim).unwrap_or("").to_owned();
    let status = match show.as_str() {
        "" => None,
        "finished" => Some(FINISHED.to_owned()),
        s if s == "active" || RequestStatus::from_str_opt(s).is_some() => Some(s.to_owned()),
        _ => None,
    };
    let query = |cursor: Option<String>| RequestListQuery {
        status: status.clone(),
        mine: Some(true),
        q: Some(q.clone()),
        limit: Some(PAGE_SIZE),
        cursor,
        ..RequestListQuery::default()
    };
    let mut problem = None;
    let list = match st.app.list_requests(by, query(p.cursor.clone())).await {
        Err(AppError::Validation(_)) if p.cursor.is_some() => {
            problem = Some("That page of the list does not exist; showing the first page.");
            st.app.list_requests(by, query(None)).await
        }
        other => other,
    };
    let list: Page<ServiceRequest> = match list {
        Ok(l) => l,
        Err(e) => return deny(&c, e),
    };
    let filtered = !show.is_empty() || !q.is_empty();
    let first = url_with("/portal/requests", &[("status", &show), ("q", &q)]);
    let next = list
        .next_cursor
        .as_deref()
        .map(|n| url_with("/portal/requests", &[("status", &show), ("q", &q), ("cursor", n)]));
    let body = html! {
        h1 { "My Requests" }
        @if let Some(pr) = problem { (notice("error", pr)) }
        form class="row filters" method="get" action="/portal/requests" role="search" {
            label for="f-status" { "Show" }
            select id="f-status" name="status" {
                option value="" selected[show.is_empty()] { "All requests" }
                option value="active" selected[show == "active"] { "Open (still being worked on)" }
                option value="finished" selected[show == "finished"] { "Closed (finished)" }
                @for s in RequestStatus::ALL {
                    option value=(s.as_str()) selected[show == s.as_str()] { "Status: " (s.label()) }
                }
            }
            label class="visually-hidden" for="f-q" { "Search by number or title" }
            input id="f-q" type="search" name="q" value=(q) placeholder="REQ-12 or words of the title" maxlength="200";
            button class="btn secondary" type="submit" { "Show" }
        }
        @if list.items.is_empty() {
            div class="card empty" {
                @if filtered {
                    p { "No requests match." }
                    p { a href="/portal/requests" { "Show all your requests" } }
                } @else {
                    p { "You have no requests yet." }
                    p { a href="/portal" { "Browse the Service Catalog" } " or " a href="/portal/request/new" { "submit a request" } "." }
                }
            }
        } @else {
            div class="table-wrap" {
                table {
                    caption class="visually-hidden" { "Your requests, newest first" }
                    thead { tr {
                        th scope="col" { "Request" }
                        th scope="col" { "Status" }
                        th scope="col" { "Usually done by" }
                        th scope="col" { "Last update" }
                    } }
                    tbody {
                        @for r in &list.items {
                            tr {
                                th scope="row" {
                                    a href={ "/portal/requests/" (r.id) } { span class="number" { (r.number) } " " (r.title) }
                                }
                                td { (status_pill(r.status, false)) }
                                td { @if let Some(d) = r.due_at { @if r.status.is_active() { (time_el(d)) } @else { "—" } } @else { "—" } }
                                td { (time_el(r.updated_at)) }
                            }
                        }
                    }
                }
            }
        }
        (pager(&first, next, p.cursor.is_some()))
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    page(&chrome, "My Requests", Tab::Requests, body).into_response()
}

// ---- One request ---------------------------------------------------------------

/// Which view of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `/portal/requests/{id}`: the requester's view.
    Portal,
    /// `/itsm/requests/{id}`: the agent's view.
    Itsm,
}

impl Side {
    fn base(self) -> &'static str {
        match self {
            Side::Portal => "/portal/requests",
            Side::Itsm => "/itsm/requests",
        }
    }
}

/// A re-render's extras: the status, a message, field errors and values.
#[derive(Default)]
pub struct View {
    pub status: Option<StatusCode>,
    pub done: Option<String>,
    pub error: Option<String>,
    pub errors: Errors,
    pub values: FormData,
}

impl View {
    fn failed(status: StatusCode, errors: Errors, values: FormData) -> Self {
        Self { status: Some(status), errors, values, ..Self::default() }
    }
}

/// Every comment the caller may read (internal notes only for agents),
/// oldest first; at most 2,000.
async fn all_comments(st: &AppState, by: Can<'_, caps::ItsmRead>, id: &str) -> Result<Vec<Comment>, AppError> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = st.app.list_comments(by, id, CommentQuery { limit: Some(200), cursor }).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}

fn add_name(names: &mut HashMap<String, String>, u: &UserRef) {
    names.entry(u.id.to_string()).or_insert_with(|| u.name.clone());
}

/// Everything the page shows, loaded.
struct Loaded {
    d: RequestDetail,
    comments: Vec<Comment>,
    form: Vec<FormField>,
    agents: Vec<UserRef>,
    incident: Option<(String, String)>,
}

async fn load(st: &AppState, c: &PageCaller, side: Side, id: &str) -> Result<Loaded, AppError> {
    let agents = match side {
        Side::Itsm => {
            let fulfill = c.ctx.can::<caps::Fulfill>()?;
            st.app.assignable_agents(fulfill).await?
        }
        Side::Portal => Vec::new(),
    };
    let by = c.ctx.can::<caps::ItsmRead>()?;
    let d = st.app.get_request(by, id).await?;
    let comments = all_comments(st, by, id).await?;
    let form = match &d.request.catalog_item_id {
        Some(item) => st.app.get_catalog_item(by, item.as_str()).await.map(|i| i.fields).unwrap_or_default(),
        None => Vec::new(),
    };
    let incident = match (&d.request.incident_id, c.ctx.can::<caps::IncidentsRead>()) {
        (Some(inc), Ok(ir)) if d.can_work => {
            st.app.get_incident(ir, inc.as_str()).await.ok().map(|i| (i.id.to_string(), i.number))
        }
        _ => None,
    };
    Ok(Loaded { d, comments, form, agents, incident })
}

fn facts(r: &ServiceRequest, agent: bool) -> Markup {
    html! {
        dl class="facts" {
            dt { "Number" } dd { (r.number) }
            dt { "Status" } dd { (status_pill(r.status, agent)) }
            dt { "Priority" } dd { (priority_pill(r.priority)) }
            @if let Some(n) = &r.catalog_item_name { dt { "Service" } dd { (n) } }
            dt { "Requested by" } dd { (r.requester.name) @if agent { " (" (r.requester.email) ")" } }
            @if r.created_by.id != r.requester.id { dt { "Filed by" } dd { (r.created_by.name) } }
            dt { "Filed" } dd { (time_el(r.created_at)) }
            @if let Some(due) = r.due_at {
                @if r.status.is_active() {
                    dt { "Usually done by" }
                    dd { (time_el(due)) @if r.overdue { " " span class="pill bad" { "Overdue" } } }
                }
            }
            @if let Some(at) = r.resolved_at { dt { "Resolved" } dd { (time_el(at)) } }
            @if let Some(at) = r.closed_at { @if r.status != RequestStatus::Resolved { dt { "Finished" } dd { (time_el(at)) } } }
            dt { "Assigned to" } dd { @if let Some(a) = &r.assignee { (a.name) } @else { "Nobody yet" } }
        }
    }
}

/// The status buttons: exactly the transitions the caller may take now.
fn transition_form(side: Side, r: &ServiceRequest, allowed: &[RequestStatus], agent: bool, v: &View) -> Markup {
    let err = v.errors.get("comment");
    let action = format!("{}/{}/transition", side.base(), r.id);
    let requester_view = side == Side::Portal;
    html! {
        @if !allowed.is_empty() {
            section class="card" aria-labelledby="h-status" {
                h2 id="h-status" {
                    @if !requester_view { "Change the status" }
                    @else if r.status == RequestStatus::Resolved { "Not fixed after all?" }
                    @else { "Done with this request?" }
                }
                @if requester_view && r.status == RequestStatus::Resolved {
                    p class="meta" { "You can reopen it within 7 days of it being resolved." }
                }
                form class="stack" method="post" action=(action) novalidate {
                    div class={ "field" @if err.is_some() { " invalid" } } {
                        label for="f-tcomment" { "Comment " span class="optional" { "(optional)" } }
                        span class="hint" id="f-tcomment-hint" { "Say why, if it helps. Everyone who can see the request reads it." }
                        textarea id="f-tcomment" name="comment" maxlength="20000" aria-invalid=[err.map(|_| "true")]
                            aria-describedby=(if err.is_some() { "f-tcomment-error f-tcomment-hint" } else { "f-tcomment-hint" }) { (v.values.get("comment")) }
                        @if let Some(e) = err { div class="field-error" id="f-tcomment-error" role="alert" { "Comment " (e) } }
                    }
                    div class="row" {
                        @for to in allowed {
                            button type="submit" name="to" value=(to.as_str())
                                class=(if *to == RequestStatus::Cancelled { "btn danger" } else { "btn secondary" }) {
                                (transition_verb(r.status, *to, agent))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn reply_form(side: Side, r: &ServiceRequest, requester: bool, v: &View) -> Markup {
    let err = v.errors.get("body");
    let action = format!("{}/{}/comments", side.base(), r.id);
    html! {
        section class="card" aria-labelledby="h-reply" {
            h2 id="h-reply" { @if side == Side::Itsm { "Reply to the requester" } @else { "Add a reply" } }
            @if requester && r.status == RequestStatus::WaitingOnCustomer {
                (notice("warn", "We are waiting for your answer. When you reply, the request goes back to the team."))
            }
            form class="stack" method="post" action=(action) novalidate {
                div class={ "field" @if err.is_some() { " invalid" } } {
                    label for="f-body" { @if side == Side::Itsm { "Public reply" } @else { "Your reply" } }
                    span class="hint" id="f-body-hint" { "Visible to the requester and everyone watching this request." }
                    textarea id="f-body" name="body" required maxlength="20000" aria-invalid=[err.map(|_| "true")]
                        aria-describedby=(if err.is_some() { "f-body-error f-body-hint" } else { "f-body-hint" }) { (v.values.get("body")) }
                    @if let Some(e) = err { div class="field-error" id="f-body-error" role="alert" { "Reply " (e) } }
                }
                button class="btn" type="submit" { "Send reply" }
            }
        }
    }
}

/// Agents' notes: a separate, visibly different form.
fn note_form(r: &ServiceRequest, v: &View) -> Markup {
    let err = v.errors.get("note");
    html! {
        section class="card internal-form" aria-labelledby="h-note" {
            h2 id="h-note" { "Internal note" }
            p class="internal-label" { "Internal — not visible to the requester" }
            form class="stack" method="post" action={ "/itsm/requests/" (r.id) "/comments" } novalidate {
                input type="hidden" name="internal" value="true";
                div class={ "field" @if err.is_some() { " invalid" } } {
                    label for="f-note" { "Note for agents" }
                    textarea id="f-note" name="body" required maxlength="20000" aria-invalid=[err.map(|_| "true")]
                        aria-describedby=[err.map(|_| "f-note-error")] { (v.values.get("note")) }
                    @if let Some(e) = err { div class="field-error" id="f-note-error" role="alert" { "Note " (e) } }
                }
                button class="btn secondary" type="submit" { "Add internal note" }
            }
        }
    }
}

fn work_form(r: &ServiceRequest, agents: &[UserRef], me: &str, v: &View) -> Markup {
    let assignee = if v.values.has("assignee") {
        v.values.get("assignee").to_owned()
    } else {
        r.assignee_id.as_ref().map(|a| a.to_string()).unwrap_or_default()
    };
    let prio =
        if v.values.has("priority") { v.values.get("priority").to_owned() } else { r.priority.as_str().to_owned() };
    let aerr = v.errors.get("assignee");
    let perr = v.errors.get("priority");
    html! {
        section class="card" aria-labelledby="h-work" {
            h2 id="h-work" { "Assignment and priority" }
            form class="stack" method="post" action={ "/itsm/requests/" (r.id) "/update" } novalidate {
                div class={ "field" @if aerr.is_some() { " invalid" } } {
                    label for="f-assignee" { "Assigned agent" }
                    select id="f-assignee" name="assignee" aria-invalid=[aerr.map(|_| "true")] aria-describedby=[aerr.map(|_| "f-assignee-error")] {
                        option value="" selected[assignee.is_empty()] { "Nobody" }
                        @for a in agents {
                            option value=(a.id) selected[a.id.as_str() == assignee] {
                                (a.name) @if a.id.as_str() == me { " (me)" }
                            }
                        }
                    }
                    @if let Some(e) = aerr { div class="field-error" id="f-assignee-error" role="alert" { "Assignee " (e) } }
                }
                div class={ "field" @if perr.is_some() { " invalid" } } {
                    label for="f-priority" { "Priority" }
                    select id="f-priority" name="priority" aria-invalid=[perr.map(|_| "true")] aria-describedby=[perr.map(|_| "f-priority-error")] {
                        @for p in Priority::ALL { option value=(p.as_str()) selected[p.as_str() == prio] { (p.label()) } }
                    }
                    @if let Some(e) = perr { div class="field-error" id="f-priority-error" role="alert" { "Priority " (e) } }
                }
                button class="btn secondary" type="submit" { "Save" }
            }
            @if r.assignee_id.as_ref().is_none_or(|a| a.as_str() != me) {
                form method="post" action={ "/itsm/requests/" (r.id) "/update" } {
                    input type="hidden" name="assignee" value="me";
                    input type="hidden" name="priority" value=(r.priority.as_str());
                    button class="btn small" type="submit" { "Assign to me" }
                }
            }
        }
    }
}

fn watchers_section(r: &ServiceRequest, watchers: &[UserRef], v: &View) -> Markup {
    let err = v.errors.get("user");
    html! {
        section class="card" aria-labelledby="h-watchers" {
            h2 id="h-watchers" { "Watchers" }
            p class="meta" { "Watchers can see the request and are told about public replies and status changes." }
            @if watchers.is_empty() {
                p { "Nobody is watching." }
            } @else {
                ul class="plain watchers" {
                    @for w in watchers {
                        li class="row" {
                            span { (w.name) " (" (w.email) ")" }
                            form method="post" action={ "/itsm/requests/" (r.id) "/watchers/" (w.id) "/remove" } {
                                button class="link-button" type="submit" { "Remove" span class="visually-hidden" { " " (w.name) } }
                            }
                        }
                    }
                }
            }
            form class="row" method="post" action={ "/itsm/requests/" (r.id) "/watchers" } novalidate {
                div class={ "field" @if err.is_some() { " invalid" } } {
                    label for="f-watcher" { "Add a watcher by e-mail address" }
                    input id="f-watcher" type="email" name="user" value=(v.values.get("user")) maxlength="254" autocomplete="off"
                        aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| "f-watcher-error")];
                    @if let Some(e) = err { div class="field-error" id="f-watcher-error" role="alert" { "Watcher " (e) } }
                }
                button class="btn secondary small" type="submit" { "Add watcher" }
            }
        }
    }
}

/// Render a request's page (either view).
pub async fn render(st: &AppState, c: &PageCaller, side: Side, id: &str, v: View) -> Response {
    let l = match load(st, c, side, id).await {
        Ok(l) => l,
        Err(e) => return deny(c, e),
    };
    let d = &l.d;
    let r = &d.request;
    let me = c.ctx.principal().map(|p| p.user.id.to_string()).unwrap_or_default();
    let agent_view = side == Side::Itsm;
    let is_requester = r.requester_id.as_str() == me;
    let mut names: HashMap<String, String> = HashMap::new();
    for a in &l.agents {
        add_name(&mut names, a);
    }
    for u in [Some(&r.requester), Some(&r.created_by), r.assignee.as_ref()].into_iter().flatten() {
        add_name(&mut names, u);
    }
    for w in &d.watchers {
        add_name(&mut names, w);
    }
    let done = done_message(DONE, v.done.as_deref());
    let upload_action = format!("{}/{}/attachments", side.base(), r.id);
    let max_upload = st.web.max_upload_bytes;
    let body = html! {
        p {
            @if agent_view { a href="/itsm/requests" { "← Back to the queue" } }
            @else { a href="/portal/requests" { "← Back to My Requests" } }
        }
        h1 { span class="number" { (r.number) } " " (r.title) }
        p class="row status-line" {
            (status_pill(r.status, agent_view)) (priority_pill(r.priority))
            @if r.overdue { span class="pill bad" { "Overdue" } }
            @if agent_view { a href={ "/portal/requests/" (r.id) } { "See what the requester sees" } }
            @else if d.can_work { a href={ "/itsm/requests/" (r.id) } { "Open in the agent workspace" } }
        }
        @if let Some(m) = done { (notice("ok", m)) }
        @if let Some(e) = &v.error { (notice("error", e)) }
        @if !v.errors.is_empty() && v.error.is_none() { (notice("error", "Please correct the fields marked below.")) }
        (approval_status(d))
        @if !agent_view && is_requester && r.status == RequestStatus::WaitingOnCustomer {
            (notice("warn", "We need something from you: please read the latest reply and answer below."))
        }
        div class="cols request-cols" {
            div class="request-main" {
                section aria-labelledby="h-about" {
                    h2 id="h-about" { "About this request" }
                    (facts(r, agent_view))
                    @if !r.details.is_empty() { h3 { "Details" } p class="comment-body" { (r.details) } }
                    @if r.fields.as_object().is_some_and(|o| !o.is_empty()) {
                        h3 { "What was asked for" }
                        (submitted_values(&l.form, &r.fields))
                    }
                    @if d.can_work {
                        @if let Some(inc) = &r.incident_id {
                            p class="linked-incident" {
                                "Linked incident: "
                                @if let Some((iid, num)) = &l.incident { a href={ "/itsm/incidents/" (iid) } { (num) } }
                                @else { a href={ "/itsm/incidents/" (inc) } { "view the incident" } }
                            }
                        } @else if agent_view && c.ctx.allows("incidents:write") {
                            p { a href=(url_with("/itsm/incidents/new", &[("source_request_id", r.id.as_str()), ("title", &r.title)])) { "Raise an incident from this request" } }
                        }
                    }
                }
                section aria-labelledby="h-timeline" id="timeline" {
                    h2 id="h-timeline" { "Timeline" }
                    (timeline(d, &l.comments, &names, agent_view || d.can_work))
                }
                (reply_form(side, r, is_requester, &v))
                @if agent_view { (note_form(r, &v)) }
            }
            div class="request-side" {
                @if agent_view { (work_form(r, &l.agents, &me, &v)) }
                (transition_form(side, r, &d.allowed_transitions, d.can_work, &v))
                section class="card" aria-labelledby="h-files" {
                    h2 id="h-files" { "Files" }
                    (attachments(r.id.as_str(), &d.attachments, &upload_action, v.errors.get("file").map(String::as_str), max_upload))
                }
                @if agent_view { (watchers_section(r, &d.watchers, &v)) }
            }
        }
    };
    let chrome = Chrome::for_ctx(st, &c.ctx).await;
    let title = format!("{} {}", r.number, r.title);
    let status = v.status.unwrap_or(StatusCode::OK);
    let markup = match side {
        Side::Portal => page(&chrome, &title, Tab::Requests, body),
        Side::Itsm => page_at(&chrome, &title, Tab::Itsm, "/itsm/requests", body),
    };
    (status, markup).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: Option<String>,
}

/// `GET /portal/requests/{id}`.
pub async fn portal_detail(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    if let Err(r) = c.signed_in() {
        return r;
    }
    render(&st, &c, Side::Portal, &id, View { done: q.done, ..View::default() }).await
}

/// `GET /itsm/requests/{id}`.
pub async fn itsm_detail(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    if let Err(r) = c.signed_in() {
        return r;
    }
    render(&st, &c, Side::Itsm, &id, View { done: q.done, ..View::default() }).await
}

fn back(side: Side, id: &str, done: &str) -> Response {
    see_other(&format!("{}/{id}?done={done}", side.base()))
}

/// The agent view needs `itsm:fulfill` before anything is done there.
fn side_allowed(c: &PageCaller, side: Side) -> Result<(), Response> {
    match side {
        Side::Itsm => c.ctx.can::<caps::Fulfill>().map(|_| ()).map_err(|e| deny(c, e)),
        Side::Portal => Ok(()),
    }
}

async fn comment(st: AppState, c: PageCaller, side: Side, id: String, f: FormData) -> Response {
    if let Err(r) = side_allowed(&c, side) {
        return r;
    }
    let by = match c.ctx.can::<caps::ItsmWrite>() {
        Ok(by) => by,
        Err(e) => return deny(&c, e),
    };
    let internal = side == Side::Itsm && f.get("internal") == "true";
    let input = CommentInput { body: f.get("body").to_owned(), internal: Some(internal) };
    match st.app.add_comment(by, &id, input).await {
        Ok(_) => back(side, &id, if internal { "noted" } else { "replied" }),
        Err(AppError::Validation(v)) => {
            let key = if internal { "note" } else { "body" };
            let msg = v.fields.into_values().next().unwrap_or_else(|| "is not valid".into());
            let values = FormData(vec![(key.to_owned(), f.get("body").to_owned())]);
            let view = View::failed(StatusCode::UNPROCESSABLE_ENTITY, Errors::from([(key.to_owned(), msg)]), values);
            render(&st, &c, side, &id, view).await
        }
        Err(e) => deny(&c, e),
    }
}

async fn transition(st: AppState, c: PageCaller, side: Side, id: String, f: FormData) -> Response {
    if let Err(r) = side_allowed(&c, side) {
        return r;
    }
    let by = match c.ctx.can::<caps::ItsmWrite>() {
        Ok(by) => by,
        Err(e) => return deny(&c, e),
    };
    let input = TransitionInput { to: f.get("to").to_owned(), comment: f.opt("comment") };
    match st.app.transition_request(by, &id, input).await {
        Ok(_) => back(side, &id, "status"),
        Err(AppError::Validation(v)) => {
            let mut errors = v.fields;
            let bad_target = errors.remove("to");
            let mut view = View::failed(StatusCode::UNPROCESSABLE_ENTITY, errors, f);
            if bad_target.is_some() {
                view.error = Some("Choose one of the status buttons.".into());
            }
            render(&st, &c, side, &id, view).await
        }
        Err(AppError::Conflict { .. }) => {
            let mut view = View::failed(StatusCode::CONFLICT, Errors::new(), f);
            view.error = Some("That status change is not possible now; the buttons below show what you can do.".into());
            render(&st, &c, side, &id, view).await
        }
        Err(e) => deny(&c, e),
    }
}

async fn upload(st: AppState, c: PageCaller, side: Side, id: String, req: Request) -> Response {
    if let Err(r) = side_allowed(&c, side) {
        return r;
    }
    // Who may upload, and where, is settled before the body is read.
    let by = match c.ctx.can::<caps::ItsmWrite>() {
        Ok(by) => by,
        Err(e) => return deny(&c, e),
    };
    let seen = match c.ctx.can::<caps::ItsmRead>() {
        Ok(r) => st.app.ensure_request_visible(r, &id).await,
        Err(e) => Err(e),
    };
    if let Err(e) = seen {
        return deny(&c, e);
    }
    let posted = match read_posted(&st, req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let fail = |status: StatusCode, msg: String| {
        View::failed(status, Errors::from([("file".to_owned(), msg)]), FormData::default())
    };
    let view = match (posted.file_error, posted.file) {
        (Some((status, msg)), _) => fail(status, msg),
        (None, None) => fail(StatusCode::UNPROCESSABLE_ENTITY, "is required: choose a file first".into()),
        (None, Some(file)) => match st.app.add_attachment(by, &id, &file.filename, file.data).await {
            Ok(_) => return back(side, &id, "uploaded"),
            Err(AppError::Validation(v)) => {
                fail(StatusCode::UNPROCESSABLE_ENTITY, v.fields.into_values().next().unwrap_or_default())
            }
            Err(e) => return deny(&c, e),
        },
    };
    render(&st, &c, side, &id, view).await
}

pub async fn portal_comment(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    f: FormData,
) -> Response {
    comment(st, c, Side::Portal, id, f).await
}

pub async fn itsm_comment(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>, f: FormData) -> Response {
    comment(st, c, Side::Itsm, id, f).await
}

pub async fn portal_transition(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    f: FormData,
) -> Response {
    transition(st, c, Side::Portal, id, f).await
}

pub async fn itsm_transition(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    f: FormData,
) -> Response {
    transition(st, c, Side::Itsm, id, f).await
}

pub async fn portal_upload(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    upload(st, c, Side::Portal, id, req).await
}

pub async fn itsm_upload(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>, req: Request) -> Response {
    upload(st, c, Side::Itsm, id, req).await
}

/// `POST /itsm/requests/{id}/update`: assignee and priority.
pub async fn itsm_update(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>, f: FormData) -> Response {
    let by = match c.ctx.can::<caps::Fulfill>() {
        Ok(by) => by,
        Err(e) => return deny(&c, e),
    };
    let patch = RequestPatch {
        assignee: f.has("assignee").then(|| f.opt("assignee")),
        priority: f.opt("priority"),
        ..RequestPatch::default()
    };
    match st.app.patch_request(by, &id, patch).await {
        Ok(_) => back(Side::Itsm, &id, "updated"),
        Err(AppError::Validation(v)) => {
            render(&st, &c, Side::Itsm, &id, View::failed(StatusCode::UNPROCESSABLE_ENTITY, v.fields, f)).await
        }
        Err(e) => deny(&c, e),
    }
}

/// `POST /itsm/requests/{id}/watchers`.
pub async fn itsm_add_watcher(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    f: FormData,
) -> Response {
    if let Err(r) = side_allowed(&c, Side::Itsm) {
        return r;
    }
    let by = match c.ctx.can::<caps::ItsmWrite>() {
        Ok(by) => by,
        Err(e) => return deny(&c, e),
    };
    match st.app.add_watcher(by, &id, WatcherInput { user: f.get("user").to_owned() }).await {
        Ok(_) => back(Side::Itsm, &id, "watcher_added"),
        Err(AppError::Validation(v)) => {
            let msg = v.fields.into_values().next().unwrap_or_default();
            let view = View::failed(StatusCode::UNPROCESSABLE_ENTITY, Errors::from([("user".to_owned(), msg)]), f);
            render(&st, &c, Side::Itsm, &id, view).await
        }
        Err(e) => deny(&c, e),
    }
}

/// `POST /itsm/requests/{id}/watchers/{user_id}/remove`.
pub async fn itsm_remove_watcher(
    State(st): State<AppState>,
    c: PageCaller,
    Path((id, user_id)): Path<(String, String)>,
) -> Response {
    if let Err(r) = side_allowed(&c, Side::Itsm) {
        return r;
    }
    let r = match c.ctx.can::<caps::ItsmWrite>() {
        Ok(by) => st.app.remove_watcher(by, &id, &user_id).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => back(Side::Itsm, &id, "watcher_removed"),
        Err(AppError::NotFound) => not_found(),
        Err(e) => deny(&c, e),
    }
}
