//! Incidents in the agent workspace: the list (`/itsm/incidents`, with a
//! "raised from requests" filter showing the source request), "Report an
//! incident" (`/itsm/incidents/new`, the header's button; may start from a
//! request) and one incident (`/itsm/incidents/{id}`).

use super::forms::{FormData, see_other, time_el};
use super::layout::{Chrome, Tab, page_at};
use super::request_parts::{Errors, PAGE_SIZE, deny, label_text, pager, priority_pill, url_with};
use super::{PageCaller, done_message, notice};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use tier0_app::itsm::incidents::{IncidentInput, IncidentQuery};
use tier0_app::{AppError, caps};
use tier0_domain::itsm::{IncidentStatus, Priority};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/itsm/incidents", get(list))
        .route("/itsm/incidents/new", get(new_form).post(create))
        .route("/itsm/incidents/{id}", get(show))
}

const HOME: &str = "/itsm/incidents";

fn status_pill(s: IncidentStatus) -> Markup {
    html! { span class={ "pill " (s.as_str()) } { (s.label()) } }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub from_requests: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /itsm/incidents`.
pub async fn list(State(st): State<AppState>, c: PageCaller, Query(p): Query<ListParams>) -> Response {
    let by = match c.ctx.can::<caps::IncidentsRead>() {
        Ok(by) => by,
        Err(e) => return deny(&c, e),
    };
    let trim = |o: &Option<String>| o.as_deref().map(str::trim).unwrap_or("").to_owned();
    let status = trim(&p.status);
    let status = if IncidentStatus::from_str_opt(&status).is_some() { status } else { String::new() };
    let from_requests = matches!(trim(&p.from_requests).as_str(), "1" | "true" | "on");
    let q = trim(&p.q);
    let query = |cursor| IncidentQuery {
        status: Some(status.clone()),
        from_requests: Some(from_requests),
        q: Some(q.clone()),
        limit: Some(PAGE_SIZE),
        cursor,
    };
    let list = match st.app.list_incidents(by, query(p.cursor.clone())).await {
        Err(AppError::Validation(_)) if p.cursor.is_some() => st.app.list_incidents(by, query(None)).await,
        other => other,
    };
    let list = match list {
        Ok(l) => l,
        Err(e) => return deny(&c, e),
    };
    let fr = if from_requests { "1" } else { "" };
    let params = [("status", status.as_str()), ("from_requests", fr), ("q", &q)];
    let first = url_with(HOME, &params);
    let next = list.next_cursor.as_deref().map(|n| {
        let mut all = params.to_vec();
        all.push(("cursor", n));
        url_with(HOME, &all)
    });
    let filtered = params.iter().any(|(_, v)| !v.is_empty());
    let body = html! {
        div class="row" {
            h1 { "Incidents" }
            span class="spacer" {}
            @if c.ctx.allows("incidents:write") { a class="btn" href="/itsm/incidents/new" { "Report an incident" } }
        }
        form class="row filters" method="get" action=(HOME) role="search" aria-label="Filter incidents" {
            label class="visually-hidden" for="f-q" { "Number or title" }
            input id="f-q" type="search" name="q" value=(q) placeholder="INC-3 or words" maxlength="200";
            label class="visually-hidden" for="f-status" { "Status" }
            select id="f-status" name="status" {
                option value="" selected[status.is_empty()] { "Any status" }
                @for s in IncidentStatus::ALL { option value=(s.as_str()) selected[status == s.as_str()] { (s.label()) } }
            }
            div class="check" {
                input id="f-from" type="checkbox" name="from_requests" value="1" checked[from_requests];
                label for="f-from" { "Only those raised from requests" }
            }
            button class="btn secondary" type="submit" { "Filter" }
            @if filtered { a href=(HOME) { "Clear filters" } }
        }
        @if list.items.is_empty() {
            p class="card empty" { @if filtered { "No incidents match." } @else { "No incidents. Long may it last." } }
        } @else {
            div class="table-wrap" {
                table {
                    caption class="visually-hidden" { "Incidents, newest first" }
                    thead { tr {
                        th scope="col" { "Incident" } th scope="col" { "Status" } th scope="col" { "Priority" }
                        th scope="col" { "From request" } th scope="col" { "Reported by" } th scope="col" { "Reported" }
                    } }
                    tbody {
                        @for i in &list.items {
                            tr {
                                th scope="row" { a href={ "/itsm/incidents/" (i.id) } { span class="number" { (i.number) } " " (i.title) } }
                                td { (status_pill(i.status)) }
                                td { (priority_pill(i.priority)) }
                                td {
                                    @if let Some(rid) = &i.source_request_id {
                                        a href={ "/itsm/requests/" (rid) } { (i.source_request_number.as_deref().unwrap_or("the request")) }
                                    } @else { span class="meta" { "—" } }
                                }
                                td { (i.reported_by.name) }
                                td { (time_el(i.created_at)) }
                            }
                        }
                    }
                }
            }
        }
        (pager(&first, next, p.cursor.is_some()))
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    page_at(&chrome, "Incidents", Tab::Itsm, HOME, body).into_response()
}

fn form_body(f: &FormData, errors: &Errors, source: Option<(&str, &str)>) -> Markup {
    let terr = errors.get("title");
    let derr = errors.get("description");
    let prio = if f.get("priority").is_empty() { "normal" } else { f.get("priority") };
    html! {
        p { a href=(HOME) { "← Back to incidents" } }
        h1 { "Report an incident" }
        p class="lead" { "An incident is an unplanned interruption or a drop in quality of a service." }
        @if let Some(e) = errors.get("source_request_id") { (notice("error", &format!("The request {e}."))) }
        @else if !errors.is_empty() { (notice("error", "Please correct the fields marked below.")) }
        form class="stack" method="post" action="/itsm/incidents/new" novalidate {
            @if let Some((id, label)) = source {
                input type="hidden" name="source_request_id" value=(id);
                p { "Raised from request " a href={ "/itsm/requests/" (id) } { (label) } "." }
            }
            div class={ "field" @if terr.is_some() { " invalid" } } {
                label for="f-title" { (label_text("Title", true)) }
                span class="hint" id="f-title-hint" { "What is broken, for whom. For example \"E-mail down for the Paris office\"." }
                input id="f-title" type="text" name="title" value=(f.get("title")) required maxlength="200"
                    aria-invalid=[terr.map(|_| "true")] aria-describedby=(if terr.is_some() { "f-title-error f-title-hint" } else { "f-title-hint" });
                @if let Some(e) = terr { div class="field-error" id="f-title-error" role="alert" { "Title " (e) } }
            }
            div class={ "field" @if derr.is_some() { " invalid" } } {
                label for="f-description" { "Description " span class="optional" { "(optional)" } }
                textarea id="f-description" name="description" maxlength="20000" aria-invalid=[derr.map(|_| "true")]
                    aria-describedby=[derr.map(|_| "f-description-error")] { (f.get("description")) }
                @if let Some(e) = derr { div class="field-error" id="f-description-error" role="alert" { "Description " (e) } }
            }
            div class="field" {
                label for="f-priority" { "Priority" }
                select id="f-priority" name="priority" {
                    @for p in Priority::ALL { option value=(p.as_str()) selected[p.as_str() == prio] { (p.label()) } }
                }
                @if let Some(e) = errors.get("priority") { div class="field-error" role="alert" { "Priority " (e) } }
            }
            div class="row" {
                button class="btn" type="submit" { "Report incident" }
                a href=(HOME) { "Cancel" }
            }
        }
    }
}

/// The request an incident starts from, when the caller can see it.
async fn source_of(st: &AppState, c: &PageCaller, id: &str) -> Option<(String, String)> {
    let by = c.ctx.can::<caps::ItsmRead>().ok()?;
    let d = st.app.get_request(by, id).await.ok()?;
    Some((d.request.id.to_string(), d.request.number))
}

/// `GET /itsm/incidents/new[?source_request_id=&title=]`.
pub async fn new_form(
    State(st): State<AppState>,
    c: PageCaller,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if let Err(e) = c.ctx.can::<caps::IncidentsWrite>() {
        return deny(&c, e);
    }
    let source = match q.get("source_request_id").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(id) => source_of(&st, &c, id).await,
        None => None,
    };
    let title: String = q.get("title").map(|t| t.chars().take(200).collect()).unwrap_or_default();
    let f = FormData(vec![("title".into(), title)]);
    let body = form_body(&f, &Errors::new(), source.as_ref().map(|(a, b)| (a.as_str(), b.as_str())));
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    page_at(&chrome, "Report an incident", Tab::Itsm, HOME, body).into_response()
}

/// `POST /itsm/incidents/new`.
pub async fn create(State(st): State<AppState>, c: PageCaller, f: FormData) -> Response {
    let by = match c.ctx.can::<caps::IncidentsWrite>() {
        Ok(by) => by,
        Err(e) => return deny(&c, e),
    };
    let input = IncidentInput {
        title: f.get("title").to_owned(),
        description: f.opt("description"),
        priority: f.opt("priority"),
        source_request_id: f.opt("source_request_id"),
    };
    match st.app.create_incident(by, input).await {
        Ok(i) => see_other(&format!("/itsm/incidents/{}?done=created", i.id)),
        Err(AppError::Validation(v)) => {
            let source = match f.opt("source_request_id") {
                Some(id) => source_of(&st, &c, &id).await,
                None => None,
            };
            let body = form_body(&f, &v.fields, source.as_ref().map(|(a, b)| (a.as_str(), b.as_str())));
            let chrome = Chrome::for_ctx(&st, &c.ctx).await;
            (StatusCode::UNPROCESSABLE_ENTITY, page_at(&chrome, "Report an incident", Tab::Itsm, HOME, body))
                .into_response()
        }
        Err(e) => deny(&c, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: Option<String>,
}

/// `GET /itsm/incidents/{id}`.
pub async fn show(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let i = match c.ctx.can::<caps::IncidentsRead>() {
        Ok(by) => st.app.get_incident(by, &id).await,
        Err(e) => Err(e),
    };
    let i = match i {
        Ok(i) => i,
        Err(e) => return deny(&c, e),
    };
    let body = html! {
        p { a href=(HOME) { "← Back to incidents" } }
        @if let Some(m) = done_message(&[("created", "The incident was reported.")], q.done.as_deref()) { (notice("ok", m)) }
        h1 { span class="number" { (i.number) } " " (i.title) }
        dl class="facts" {
            dt { "Status" } dd { (status_pill(i.status)) }
            dt { "Priority" } dd { (priority_pill(i.priority)) }
            dt { "Reported by" } dd { (i.reported_by.name) }
            dt { "Reported" } dd { (time_el(i.created_at)) }
            dt { "Last change" } dd { (time_el(i.updated_at)) }
            @if let Some(rid) = &i.source_request_id {
                dt { "Raised from" }
                dd { a href={ "/itsm/requests/" (rid) } { (i.source_request_number.as_deref().unwrap_or("the request")) } }
            }
        }
        @if !i.description.is_empty() { h2 { "Description" } p class="comment-body" { (i.description) } }
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    page_at(&chrome, &format!("{} {}", i.number, i.title), Tab::Itsm, HOME, body).into_response()
}
