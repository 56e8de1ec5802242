//! The portal's Status tab (`/portal/status`), dismissing announcements,
//! and the status page management in the agent workspace
//! (`/itsm/status`: services, maintenance, updates, announcements).

use super::forms::{FormData, checkbox_group, field_errors, refusal, see_other, select_field, time_el};
use super::layout::{Chrome, Tab, page_at};
use super::{FieldOpts, PageCaller, field, notice, safe_next};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use tier0_app::portal::announcements::AnnouncementInput;
use tier0_app::portal::status::{ListQuery, MaintenanceInput, NoteInput, NoteQuery, ServiceInput, ServicePatch};
use tier0_app::{AppError, caps};
use tier0_domain::portal::{Announcement, MaintenanceWindow, StatusNote, StatusService, form_datetime};
use tier0_domain::{ServiceState, Severity, Timestamp};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal/status", get(portal_status))
        .route("/portal/announcements/{id}/dismiss", post(dismiss))
        .route("/itsm/status", get(manage))
        .route("/itsm/status/services/new", get(service_new).post(service_create))
        .route("/itsm/status/services/{id}", get(service_edit).post(service_update))
        .route("/itsm/status/services/{id}/delete", post(service_delete))
        .route("/itsm/status/maintenance/new", get(maintenance_new).post(maintenance_create))
        .route("/itsm/status/maintenance/{id}", get(maintenance_edit).post(maintenance_update))
        .route("/itsm/status/maintenance/{id}/delete", post(maintenance_delete))
        .route("/itsm/status/notes/new", get(note_new).post(note_create))
        .route("/itsm/status/notes/{id}", get(note_edit).post(note_update))
        .route("/itsm/status/notes/{id}/delete", post(note_delete))
        .route("/itsm/status/announcements/new", get(announcement_new).post(announcement_create))
        .route("/itsm/status/announcements/{id}", get(announcement_edit).post(announcement_update))
        .route("/itsm/status/announcements/{id}/delete", post(announcement_delete))
}

const MANAGE: &str = "/itsm/status";

fn state_pill(s: ServiceState) -> Markup {
    html! { span class={ "pill " (s.as_str()) } { (s.label()) } }
}

fn when(m: &MaintenanceWindow, now: Timestamp) -> Markup {
    html! {
        @if m.is_ongoing(now) {
            span class="pill maintenance" { "Happening now" } " until " (time_el(m.ends_at))
        } @else if m.ends_at <= now {
            "Finished " (time_el(m.ends_at))
        } @else {
            "From " (time_el(m.starts_at)) " to " (time_el(m.ends_at))
        }
    }
}

fn service_names(services: &[StatusService]) -> HashMap<String, String> {
    services.iter().map(|s| (s.id.to_string(), s.name.clone())).collect()
}

/// The affected services' names ("" when none is named).
fn affected(m: &MaintenanceWindow, names: &HashMap<String, String>) -> String {
    let v: Vec<&str> = m.service_ids.iter().filter_map(|id| names.get(id.as_str()).map(String::as_str)).collect();
    v.join(", ")
}

// ---- Portal: the Status tab ------------------------------------------------

/// `GET /portal/status`.
pub async fn portal_status(State(st): State<AppState>, c: PageCaller) -> Response {
    if let Err(r) = c.reader() {
        return r;
    }
    let overview = match c.ctx.can::<caps::ItsmRead>() {
        Ok(by) => st.app.status_overview(by).await,
        Err(e) => Err(e),
    };
    let o = match overview {
        Ok(o) => o,
        Err(e) => return refusal(&c, e),
    };
    let now = st.app.now();
    let names = service_names(&o.services);
    let (summary_class, summary) = match o.overall {
        _ if o.services.is_empty() => ("operational", "No services are listed yet."),
        ServiceState::Operational => ("operational", "All services are working normally."),
        ServiceState::Maintenance => ("maintenance", "Some services are under maintenance."),
        _ => ("problem", "Some services have problems. We are working on it."),
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let body = html! {
        h1 { "Service status" }
        p class={ "status-summary " (summary_class) } { (summary) }
        section aria-labelledby="services-h" {
            h2 id="services-h" { "Services" }
            @if o.services.is_empty() {
                p class="meta" { "Nothing to show." }
            } @else {
                ul class="status-list" {
                    @for s in &o.services {
                        li {
                            div {
                                span class="name" { (s.name) }
                                @if !s.description.is_empty() { span class="meta" { (s.description) } }
                            }
                            (state_pill(s.state))
                        }
                    }
                }
            }
        }
        section aria-labelledby="maintenance-h" {
            h2 id="maintenance-h" { "Planned maintenance" }
            @if o.maintenance.is_empty() {
                p class="meta" { "No maintenance is planned." }
            } @else {
                ul class="plain stack" {
                    @for m in &o.maintenance {
                        li class="card" {
                            h3 { (m.title) }
                            p class="meta" { (when(m, now)) }
                            @let services = affected(m, &names);
                            @if !services.is_empty() { p { "Affects: " (services) } }
                            @if !m.note.is_empty() { p class="comment-body" { (m.note) } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="updates-h" {
            h2 id="updates-h" { "Recent updates" }
            @if o.notes.is_empty() {
                p class="meta" { "No updates in the last two weeks." }
            } @else {
                ol class="timeline" {
                    @for n in &o.notes {
                        li {
                            p class="meta" {
                                strong { (names.get(n.service_id.as_str()).map_or("A service", String::as_str)) }
                                " · " (time_el(n.created_at))
                            }
                            p class="comment-body" { (n.body) }
                        }
                    }
                }
            }
        }
    };
    page_at(&chrome, "Service status", Tab::Status, "/portal/status", body).into_response()
}

/// Where to return after dismissing: the page the form was on (same
/// site only), else the portal.
fn back_to(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let path = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|u| {
            let authority = match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
                None => u.host_str().unwrap_or_default().to_owned(),
            };
            authority.eq_ignore_ascii_case(host)
        })
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        });
    let next = safe_next(path.as_deref());
    if next == "/" { "/portal".into() } else { next }
}

/// `POST /portal/announcements/{id}/dismiss`.
pub async fn dismiss(
    State(st): State<AppState>,
    c: PageCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let me = match c.signed_in() {
        Ok(me) => me,
        Err(r) => return r,
    };
    match st.app.dismiss_announcement(me, &id).await {
        Ok(()) => see_other(&back_to(&headers)),
        Err(e) => refusal(&c, e),
    }
}

// ---- ITSM: managing the status page ----------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: Option<String>,
}

fn done_message(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "service_saved" => "The service was saved.",
        "service_deleted" => "The service was deleted.",
        "maintenance_saved" => "The maintenance window was saved.",
        "maintenance_deleted" => "The maintenance window was deleted.",
        "note_saved" => "The update was posted.",
        "note_deleted" => "The update was deleted.",
        "announcement_saved" => "The announcement was saved.",
        "announcement_deleted" => "The announcement was deleted.",
        _ => return None,
    })
}

async fn shell(st: &AppState, c: &PageCaller, title: &str, body: Markup) -> Markup {
    let chrome = Chrome::for_ctx(st, &c.ctx).await;
    page_at(&chrome, title, Tab::Itsm, MANAGE, body)
}

fn announcement_window(a: &Announcement, now: Timestamp) -> Markup {
    html! {
        @if a.is_active(now) {
            span class="pill ok" { "Showing" }
            @if let Some(u) = a.active_until { " until " (time_el(u)) }
        } @else if a.active_from > now {
            span class="pill info" { "Scheduled" } " from " (time_el(a.active_from))
        } @else {
            span class="pill" { "Ended" }
        }
    }
}

/// `GET /itsm/status`.
pub async fn manage(State(st): State<AppState>, c: PageCaller, Query(q): Query<DoneQuery>) -> Response {
    let by = match c.ctx.can::<caps::StatusManage>() {
        Ok(by) => by,
        Err(e) => return refusal(&c, e),
    };
    let all = ListQuery { limit: Some(200), cursor: None };
    let loaded = async {
        let services = st.app.list_status_services(by, all.clone()).await?;
        let maintenance = st.app.list_maintenance(by, all.clone()).await?;
        let notes = st.app.list_status_notes(by, NoteQuery { limit: Some(50), ..Default::default() }).await?;
        let announcements = st.app.list_announcements(by, ListQuery { limit: Some(50), cursor: None }).await?;
        Ok::<_, AppError>((services.items, maintenance.items, notes.items, announcements.items))
    }
    .await;
    let (services, maintenance, notes, announcements) = match loaded {
        Ok(v) => v,
        Err(e) => return refusal(&c, e),
    };
    let now = st.app.now();
    let names = service_names(&services);
    let body = html! {
        h1 { "Status page" }
        p class="lead" { "What everyone sees on the portal's " a href="/portal/status" { "Status tab" } ", and the announcement banner. Changes show at once." }
        @if let Some(m) = done_message(q.done.as_deref()) { (notice("ok", m)) }
        section aria-labelledby="svc-h" class="manage-section" {
            div class="row" { h2 id="svc-h" { "Services" } span class="spacer" {} a class="btn small" href="/itsm/status/services/new" { "Add a service" } }
            @if services.is_empty() {
                p class="meta" { "No services yet. Add the services people depend on, such as e-mail, VPN or Wi-Fi." }
            } @else {
                div class="table-wrap" {
                    table {
                        caption class="visually-hidden" { "Services" }
                        thead { tr { th scope="col" { "Service" } th scope="col" { "State" } th scope="col" { "Order" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                        tbody {
                            @for s in &services {
                                tr {
                                    td { (s.name) @if !s.description.is_empty() { br; span class="meta" { (s.description) } } }
                                    td { (state_pill(s.state)) }
                                    td { (s.position) }
                                    td { a href={ "/itsm/status/services/" (s.id) } { "Edit" span class="visually-hidden" { " " (s.name) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="mw-h" class="manage-section" {
            div class="row" { h2 id="mw-h" { "Maintenance" } span class="spacer" {} a class="btn small" href="/itsm/status/maintenance/new" { "Schedule maintenance" } }
            @if maintenance.is_empty() {
                p class="meta" { "No maintenance windows." }
            } @else {
                div class="table-wrap" {
                    table {
                        caption class="visually-hidden" { "Maintenance windows" }
                        thead { tr { th scope="col" { "Title" } th scope="col" { "When" } th scope="col" { "Affects" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                        tbody {
                            @for m in &maintenance {
                                tr {
                                    td { (m.title) }
                                    td { (when(m, now)) }
                                    td { (affected(m, &names)) }
                                    td { a href={ "/itsm/status/maintenance/" (m.id) } { "Edit" span class="visually-hidden" { " " (m.title) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="notes-h" class="manage-section" {
            div class="row" { h2 id="notes-h" { "Updates" } span class="spacer" {}
                @if !services.is_empty() { a class="btn small" href="/itsm/status/notes/new" { "Post an update" } } }
            @if notes.is_empty() {
                p class="meta" { "No updates posted. Updates tell people what is happening with a service." }
            } @else {
                div class="table-wrap" {
                    table {
                        caption class="visually-hidden" { "Updates" }
                        thead { tr { th scope="col" { "Posted" } th scope="col" { "Service" } th scope="col" { "Update" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                        tbody {
                            @for n in &notes {
                                tr {
                                    td { (time_el(n.created_at)) }
                                    td { (names.get(n.service_id.as_str()).map_or("", String::as_str)) }
                                    td class="comment-body" { (n.body) }
                                    td { a href={ "/itsm/status/notes/" (n.id) } { "Edit" span class="visually-hidden" { " update of " (n.created_at.display_short()) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="ann-h" class="manage-section" {
            div class="row" { h2 id="ann-h" { "Announcements" } span class="spacer" {} a class="btn small" href="/itsm/status/announcements/new" { "New announcement" } }
            @if announcements.is_empty() {
                p class="meta" { "No announcements. An announcement is a banner at the top of every portal page." }
            } @else {
                div class="table-wrap" {
                    table {
                        caption class="visually-hidden" { "Announcements" }
                        thead { tr { th scope="col" { "Message" } th scope="col" { "Kind" } th scope="col" { "Shown" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                        tbody {
                            @for a in &announcements {
                                tr {
                                    td { (a.body) @if a.from_settings { br; span class="meta" { "Set in portal settings" } } }
                                    td { (a.severity.label()) }
                                    td { (announcement_window(a, now)) }
                                    td { a href={ "/itsm/status/announcements/" (a.id) } { "Edit" span class="visually-hidden" { " announcement" } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    shell(&st, &c, "Status page", body).await.into_response()
}

/// A form page: heading, optional intro, errors summary, the form and,
/// for existing records, a delete button.
fn form_page(
    heading: &str,
    action: &str,
    errors: &BTreeMap<String, String>,
    fields: Markup,
    submit: &str,
    delete: Option<(&str, &str)>,
) -> Markup {
    html! {
        p { a href=(MANAGE) { "← Back to the status page" } }
        h1 { (heading) }
        @if !errors.is_empty() { (notice("error", "Please correct the fields marked below.")) }
        form class="stack" method="post" action=(action) novalidate {
            (fields)
            div class="row" {
                button class="btn" type="submit" { (submit) }
                a href=(MANAGE) { "Cancel" }
            }
        }
        @if let Some((url, label)) = delete {
            form class="danger-zone" method="post" action=(url) {
                button class="btn danger" type="submit" { (label) }
            }
        }
    }
}

fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// Validation errors re-render the form; conflicts become a field error;
/// anything else is a refusal page.
fn form_errors(
    c: &PageCaller,
    e: AppError,
    conflict_field: &str,
) -> Result<(StatusCode, BTreeMap<String, String>), Response> {
    let status = status_of(&e);
    match e {
        AppError::Conflict { message, .. } => Ok((status, BTreeMap::from([(conflict_field.to_owned(), message)]))),
        other => field_errors(other).map(|f| (status, f)).map_err(|e| refusal(c, e)),
    }
}

/// One kind of record managed on the status page: where its forms live
/// and how they are worded. Every kind has the same pages (new, edit,
/// delete) and the same way back to the status page.
struct Kind {
    /// `/itsm/status/<x>`: `…/new`, `…/{id}`, `…/{id}/delete`.
    path: &'static str,
    /// `done=<x>_saved` / `done=<x>_deleted` on the status page.
    done: &'static str,
    new_title: &'static str,
    create_label: &'static str,
    edit_title: &'static str,
    delete_label: &'static str,
    /// The field a conflict is reported on.
    focus: &'static str,
}

const SERVICE: Kind = Kind {
    path: "/itsm/status/services",
    done: "service",
    new_title: "Add a service",
    create_label: "Add service",
    edit_title: "Edit service",
    delete_label: "Delete this service",
    focus: "name",
};
const MAINTENANCE: Kind = Kind {
    path: "/itsm/status/maintenance",
    done: "maintenance",
    new_title: "Schedule maintenance",
    create_label: "Schedule",
    edit_title: "Edit maintenance",
    delete_label: "Delete this maintenance window",
    focus: "title",
};
const NOTE: Kind = Kind {
    path: "/itsm/status/notes",
    done: "note",
    new_title: "Post an update",
    create_label: "Post update",
    edit_title: "Edit update",
    delete_label: "Delete this update",
    focus: "body",
};
const ANNOUNCEMENT: Kind = Kind {
    path: "/itsm/status/announcements",
    done: "announcement",
    new_title: "New announcement",
    create_label: "Publish",
    edit_title: "Edit announcement",
    delete_label: "Delete this announcement",
    focus: "body",
};

type Errors = BTreeMap<String, String>;

impl Kind {
    /// The form page for a new record (`id` is `None`) or an existing one.
    async fn form(
        &self,
        st: &AppState,
        c: &PageCaller,
        id: Option<&str>,
        heading: Option<&str>,
        (status, errors): (StatusCode, &Errors),
        fields: Markup,
    ) -> Response {
        let (action, title, submit, delete) = match id {
            None => (format!("{}/new", self.path), self.new_title, self.create_label, None),
            Some(id) => (
                format!("{}/{id}", self.path),
                self.edit_title,
                "Save changes",
                Some(format!("{}/{id}/delete", self.path)),
            ),
        };
        let delete = delete.as_deref().map(|d| (d, self.delete_label));
        let body = form_page(heading.unwrap_or(title), &action, errors, fields, submit, delete);
        (status, shell(st, c, title, body).await).into_response()
    }

    /// After a save: back to the status page, a refusal page, or
    /// `Ok((status, errors))` for the caller to show the form again.
    fn saved<T>(&self, c: &PageCaller, r: Result<T, AppError>) -> Result<(StatusCode, Errors), Response> {
        match r {
            Ok(_) => Err(see_other(&format!("{MANAGE}?done={}_saved", self.done))),
            Err(e) => form_errors(c, e, self.focus),
        }
    }

    fn deleted(&self, c: &PageCaller, r: Result<(), AppError>) -> Response {
        match r {
            Ok(()) => see_other(&format!("{MANAGE}?done={}_deleted", self.done)),
            Err(e) => refusal(c, e),
        }
    }
}

/// The caller's `status:manage` proof, or the refusal page.
#[allow(clippy::result_large_err)]
fn manager(c: &PageCaller) -> Result<tier0_app::Can<'_, caps::StatusManage>, Response> {
    c.ctx.can::<caps::StatusManage>().map_err(|e| refusal(c, e))
}

const FRESH: (StatusCode, &Errors) = (StatusCode::OK, &BTreeMap::new());

// -- services

fn service_fields(f: &FormData, errors: &Errors) -> Markup {
    let states: Vec<(&str, &str)> = ServiceState::ALL.iter().map(|s| (s.as_str(), s.label())).collect();
    let state = if f.get("state").is_empty() { "operational" } else { f.get("state") };
    html! {
        (field("Name", "name", "text", f.get("name"), errors.get("name"), FieldOpts::required().max(80).hint("Use the name people know, for example \"E-mail\" or \"VPN\".")))
        (field("Description", "description", "textarea", f.get("description"), errors.get("description"), FieldOpts::default().max(500)))
        (select_field("State", "state", &states, state, errors.get("state"), None))
        (field("Order", "position", "number", f.get("position"), errors.get("position"), FieldOpts { inputmode: Some("numeric"), ..FieldOpts::default().hint("Lower numbers are listed first. Leave empty to add at the end.") }))
    }
}

fn service_form_data(s: &StatusService) -> FormData {
    FormData(vec![
        ("name".into(), s.name.clone()),
        ("description".into(), s.description.clone()),
        ("state".into(), s.state.as_str().into()),
        ("position".into(), s.position.to_string()),
    ])
}

/// The optional "Order" field, or the form's errors.
fn parse_position(f: &FormData) -> Result<Option<i64>, (StatusCode, Errors)> {
    match f.opt("position") {
        None => Ok(None),
        Some(p) => p.parse::<i64>().map(Some).map_err(|_| {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                BTreeMap::from([("position".to_owned(), "must be a whole number".to_owned())]),
            )
        }),
    }
}

async fn service_new(State(st): State<AppState>, c: PageCaller) -> Response {
    if let Err(r) = manager(&c) {
        return r;
    }
    SERVICE.form(&st, &c, None, None, FRESH, service_fields(&FormData::default(), &BTreeMap::new())).await
}

async fn service_create(State(st): State<AppState>, c: PageCaller, f: FormData) -> Response {
    let by = match manager(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let saved = match parse_position(&f) {
        Ok(position) => {
            let input = ServiceInput {
                name: f.get("name").into(),
                description: f.opt("description"),
                state: f.opt("state"),
                position,
            };
            SERVICE.saved(&c, st.app.create_status_service(by, input).await)
        }
        Err(invalid) => Ok(invalid),
    };
    match saved {
        Ok((status, errors)) => SERVICE.form(&st, &c, None, None, (status, &errors), service_fields(&f, &errors)).await,
        Err(r) => r,
    }
}

async fn service_edit(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    let s = match manager(&c) {
        Ok(by) => st.app.get_status_service(by, &id).await,
        Err(r) => return r,
    };
    match s {
        Ok(s) => {
            let heading = format!("Edit {}", s.name);
            let fields = service_fields(&service_form_data(&s), &BTreeMap::new());
            SERVICE.form(&st, &c, Some(&id), Some(&heading), FRESH, fields).await
        }
        Err(e) => refusal(&c, e),
    }
}

async fn service_update(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>, f: FormData) -> Response {
    let by = match manager(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let saved = match parse_position(&f) {
        Ok(position) => {
            let patch = ServicePatch {
                name: Some(f.get("name").into()),
                description: Some(f.get("description").into()),
                state: Some(f.get("state").into()),
                position,
            };
            SERVICE.saved(&c, st.app.update_status_service(by, &id, patch).await)
        }
        Err(invalid) => Ok(invalid),
    };
    match saved {
        Ok((status, errors)) => {
            SERVICE.form(&st, &c, Some(&id), None, (status, &errors), service_fields(&f, &errors)).await
        }
        Err(r) => r,
    }
}

async fn service_delete(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    match manager(&c) {
        Ok(by) => SERVICE.deleted(&c, st.app.delete_status_service(by, &id).await),
        Err(r) => r,
    }
}

// -- maintenance

async fn service_options(
    st: &AppState,
    by: tier0_app::Can<'_, caps::StatusManage>,
) -> Result<Vec<(String, String)>, AppError> {
    let all = st.app.list_status_services(by, ListQuery { limit: Some(200), cursor: None }).await?;
    Ok(all.items.into_iter().map(|s| (s.id.to_string(), s.name)).collect())
}

fn maintenance_fields(f: &FormData, services: &[(String, String)], errors: &Errors) -> Markup {
    html! {
        (field("Title", "title", "text", f.get("title"), errors.get("title"), FieldOpts::required().max(120).hint("For example \"E-mail server upgrade\".")))
        (field("Starts (UTC)", "starts_at", "datetime-local", f.get("starts_at"), errors.get("starts_at"), FieldOpts::required()))
        (field("Ends (UTC)", "ends_at", "datetime-local", f.get("ends_at"), errors.get("ends_at"), FieldOpts::required()))
        (checkbox_group("Affected services", "service_ids", services, &f.all("service_ids"), errors.get("service_ids"), None))
        (field("What people should know", "note", "textarea", f.get("note"), errors.get("note"), FieldOpts::default().max(2000)))
    }
}

fn maintenance_input(f: &FormData) -> MaintenanceInput {
    MaintenanceInput {
        title: f.get("title").into(),
        note: f.opt("note"),
        starts_at: f.get("starts_at").into(),
        ends_at: f.get("ends_at").into(),
        service_ids: f.all("service_ids"),
    }
}

fn maintenance_form_data(m: &MaintenanceWindow) -> FormData {
    let mut v = vec![
        ("title".to_owned(), m.title.clone()),
        ("note".to_owned(), m.note.clone()),
        ("starts_at".to_owned(), form_datetime(m.starts_at)),
        ("ends_at".to_owned(), form_datetime(m.ends_at)),
    ];
    v.extend(m.service_ids.iter().map(|id| ("service_ids".to_owned(), id.to_string())));
    FormData(v)
}

async fn maintenance_new(State(st): State<AppState>, c: PageCaller) -> Response {
    let opts = match manager(&c) {
        Ok(by) => service_options(&st, by).await,
        Err(r) => return r,
    };
    match opts {
        Ok(o) => {
            MAINTENANCE
                .form(&st, &c, None, None, FRESH, maintenance_fields(&FormData::default(), &o, &BTreeMap::new()))
                .await
        }
        Err(e) => refusal(&c, e),
    }
}

/// Saves a maintenance window (new when `id` is `None`).
async fn maintenance_save(st: AppState, c: PageCaller, id: Option<String>, f: FormData) -> Response {
    let by = match manager(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let r = match &id {
        None => st.app.create_maintenance(by, maintenance_input(&f)).await,
        Some(id) => st.app.update_maintenance(by, id, maintenance_input(&f)).await,
    };
    match MAINTENANCE.saved(&c, r) {
        Ok((status, errors)) => {
            let opts = service_options(&st, by).await.unwrap_or_default();
            let fields = maintenance_fields(&f, &opts, &errors);
            MAINTENANCE.form(&st, &c, id.as_deref(), None, (status, &errors), fields).await
        }
        Err(r) => r,
    }
}

async fn maintenance_create(State(st): State<AppState>, c: PageCaller, f: FormData) -> Response {
    maintenance_save(st, c, None, f).await
}

async fn maintenance_edit(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    let by = match manager(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    match (st.app.get_maintenance(by, &id).await, service_options(&st, by).await) {
        (Ok(m), Ok(opts)) => {
            let fields = maintenance_fields(&maintenance_form_data(&m), &opts, &BTreeMap::new());
            MAINTENANCE.form(&st, &c, Some(&id), None, FRESH, fields).await
        }
        (Err(e), _) | (_, Err(e)) => refusal(&c, e),
    }
}

async fn maintenance_update(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    f: FormData,
) -> Response {
    maintenance_save(st, c, Some(id), f).await
}

async fn maintenance_delete(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    match manager(&c) {
        Ok(by) => MAINTENANCE.deleted(&c, st.app.delete_maintenance(by, &id).await),
        Err(r) => r,
    }
}

// -- notes (public incident updates)

fn note_fields(f: &FormData, services: &[(String, String)], errors: &Errors) -> Markup {
    let mut opts: Vec<(&str, &str)> = vec![("", "Choose a service")];
    opts.extend(services.iter().map(|(id, name)| (id.as_str(), name.as_str())));
    html! {
        (select_field("Service", "service_id", &opts, f.get("service_id"), errors.get("service_id"), None))
        (field("Update", "body", "textarea", f.get("body"), errors.get("body"), FieldOpts::required().max(2000).hint("Say what is happening and what people can do, in plain words. Everyone who can see the portal reads this.")))
    }
}

fn note_input(f: &FormData) -> NoteInput {
    NoteInput { service_id: f.get("service_id").into(), body: f.get("body").into() }
}

fn note_form_data(n: &StatusNote) -> FormData {
    FormData(vec![("service_id".into(), n.service_id.to_string()), ("body".into(), n.body.clone())])
}

async fn note_new(State(st): State<AppState>, c: PageCaller, Query(q): Query<HashMap<String, String>>) -> Response {
    let opts = match manager(&c) {
        Ok(by) => service_options(&st, by).await,
        Err(r) => return r,
    };
    match opts {
        Ok(o) => {
            let preset =
                FormData(q.get("service_id").map(|s| vec![("service_id".to_owned(), s.clone())]).unwrap_or_default());
            NOTE.form(&st, &c, None, None, FRESH, note_fields(&preset, &o, &BTreeMap::new())).await
        }
        Err(e) => refusal(&c, e),
    }
}

/// Saves an update (new when `id` is `None`).
async fn note_save(st: AppState, c: PageCaller, id: Option<String>, f: FormData) -> Response {
    let by = match manager(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let r = match &id {
        None => st.app.create_status_note(by, note_input(&f)).await,
        Some(id) => st.app.update_status_note(by, id, note_input(&f)).await,
    };
    match NOTE.saved(&c, r) {
        Ok((status, errors)) => {
            let opts = service_options(&st, by).await.unwrap_or_default();
            NOTE.form(&st, &c, id.as_deref(), None, (status, &errors), note_fields(&f, &opts, &errors)).await
        }
        Err(r) => r,
    }
}

async fn note_create(State(st): State<AppState>, c: PageCaller, f: FormData) -> Response {
    note_save(st, c, None, f).await
}

async fn note_edit(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    let by = match manager(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    match (st.app.get_status_note(by, &id).await, service_options(&st, by).await) {
        (Ok(n), Ok(opts)) => {
            let fields = note_fields(&note_form_data(&n), &opts, &BTreeMap::new());
            NOTE.form(&st, &c, Some(&id), None, FRESH, fields).await
        }
        (Err(e), _) | (_, Err(e)) => refusal(&c, e),
    }
}

async fn note_update(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>, f: FormData) -> Response {
    note_save(st, c, Some(id), f).await
}

async fn note_delete(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    match manager(&c) {
        Ok(by) => NOTE.deleted(&c, st.app.delete_status_note(by, &id).await),
        Err(r) => r,
    }
}

// -- announcements

fn announcement_fields(f: &FormData, errors: &Errors) -> Markup {
    let severities: Vec<(&str, &str)> = Severity::ALL.iter().map(|s| (s.as_str(), s.label())).collect();
    let severity = if f.get("severity").is_empty() { "info" } else { f.get("severity") };
    html! {
        (field("Message", "body", "textarea", f.get("body"), errors.get("body"), FieldOpts::required().max(500).hint("One or two short sentences, for example \"Wi-Fi in building B is down until 14:00.\"")))
        (field("Link", "link", "text", f.get("link"), errors.get("link"), FieldOpts::default().max(500).hint("A page with more information: https://… or a path on this site such as /portal/status.")))
        (select_field("Kind", "severity", &severities, severity, errors.get("severity"), None))
        (field("Show from (UTC)", "active_from", "datetime-local", f.get("active_from"), errors.get("active_from"), FieldOpts::default().hint("Leave empty to show it now.")))
        (field("Show until (UTC)", "active_until", "datetime-local", f.get("active_until"), errors.get("active_until"), FieldOpts::default().hint("Leave empty to show it until you delete it.")))
    }
}

fn announcement_input(f: &FormData) -> AnnouncementInput {
    AnnouncementInput {
        body: f.get("body").into(),
        link: f.opt("link"),
        severity: f.opt("severity"),
        active_from: f.opt("active_from"),
        active_until: f.opt("active_until"),
    }
}

fn announcement_form_data(a: &Announcement) -> FormData {
    FormData(vec![
        ("body".into(), a.body.clone()),
        ("link".into(), a.link.clone().unwrap_or_default()),
        ("severity".into(), a.severity.as_str().into()),
        ("active_from".into(), form_datetime(a.active_from)),
        ("active_until".into(), a.active_until.map(form_datetime).unwrap_or_default()),
    ])
}

async fn announcement_new(State(st): State<AppState>, c: PageCaller) -> Response {
    if let Err(r) = manager(&c) {
        return r;
    }
    ANNOUNCEMENT.form(&st, &c, None, None, FRESH, announcement_fields(&FormData::default(), &BTreeMap::new())).await
}

/// Saves an announcement (new when `id` is `None`).
async fn announcement_save(st: AppState, c: PageCaller, id: Option<String>, f: FormData) -> Response {
    let by = match manager(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let r = match &id {
        None => st.app.create_announcement(by, announcement_input(&f)).await,
        Some(id) => st.app.update_announcement(by, id, announcement_input(&f)).await,
    };
    match ANNOUNCEMENT.saved(&c, r) {
        Ok((status, errors)) => {
            ANNOUNCEMENT.form(&st, &c, id.as_deref(), None, (status, &errors), announcement_fields(&f, &errors)).await
        }
        Err(r) => r,
    }
}

async fn announcement_create(State(st): State<AppState>, c: PageCaller, f: FormData) -> Response {
    announcement_save(st, c, None, f).await
}

async fn announcement_edit(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    let a = match manager(&c) {
        Ok(by) => st.app.get_announcement(by, &id).await,
        Err(r) => return r,
    };
    match a {
        Ok(a) => {
            let fields = announcement_fields(&announcement_form_data(&a), &BTreeMap::new());
            ANNOUNCEMENT.form(&st, &c, Some(&id), None, FRESH, fields).await
        }
        Err(e) => refusal(&c, e),
    }
}

async fn announcement_update(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    f: FormData,
) -> Response {
    announcement_save(st, c, Some(id), f).await
}

async fn announcement_delete(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    match manager(&c) {
        Ok(by) => ANNOUNCEMENT.deleted(&c, st.app.delete_announcement(by, &id).await),
        Err(r) => r,
    }
}
