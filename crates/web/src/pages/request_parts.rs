//! Pieces shared by the catalog, request, approval and agent pages:
//! refusals (404 for pages the caller may not use), status and priority
//! pills, friendly fulfilment times, catalog icons, the request form
//! generated from an item's fields, submitted values, the timeline,
//! attachments, and posted forms that may carry one file.

use super::forms::{FormData, refusal, time_el};
use super::{PageCaller, error_page};
use crate::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use maud::{Markup, html};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use tier0_app::AppError;
use tier0_app::itsm::requests::RequestDetail;
use tier0_domain::itsm::records::{Attachment, Comment, RequestEvent};
use tier0_domain::itsm::{ApprovalState, DecisionState, FieldType, FormField, Priority, RequestStatus};

/// Per-field messages of a form, keyed by input name.
pub type Errors = BTreeMap<String, String>;

/// Rows per page of the lists.
pub const PAGE_SIZE: i64 = 25;

/// The answer for a page the caller may not use: sign-in for anonymous
/// visitors, "not found" for signed-in users without the permission (as
/// for anything they may not see), an error page otherwise.
pub fn deny(c: &PageCaller, e: AppError) -> Response {
    match e {
        AppError::Forbidden { .. } => not_found(),
        other => refusal(c, other),
    }
}

pub fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "Page not found", "The page you asked for does not exist.")
}

/// `base?k=v&…` with the empty values left out.
pub fn url_with(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut qs = url::form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in pairs {
        if !v.is_empty() {
            qs.append_pair(k, v);
            any = true;
        }
    }
    if any { format!("{base}?{}", qs.finish()) } else { base.to_owned() }
}

/// "Next page" (and "First page" when not on the first one).
pub fn pager(first: &str, next: Option<String>, on_later_page: bool) -> Markup {
    html! {
        @if next.is_some() || on_later_page {
            nav class="pager" aria-label="More pages" {
                @if on_later_page { a href=(first) { "First page" } }
                @if let Some(n) = next { a href=(n) rel="next" { "Next page" } }
            }
        }
    }
}

// ---- Labels ------------------------------------------------------------------

/// A status as people read it; agents see "Waiting on customer" where the
/// requester reads "Waiting on you".
pub fn status_label(s: RequestStatus, agent: bool) -> &'static str {
    match s {
        RequestStatus::WaitingOnCustomer if agent => "Waiting on customer",
        other => other.label(),
    }
}

pub fn status_pill(s: RequestStatus, agent: bool) -> Markup {
    html! { span class={ "pill " (s.as_str()) } { (status_label(s, agent)) } }
}

pub fn priority_pill(p: Priority) -> Markup {
    html! { span class={ "pill prio " (p.as_str()) } { (p.label()) } }
}

/// What the button moving a request to `to` says.
pub fn transition_verb(from: RequestStatus, to: RequestStatus, agent: bool) -> &'static str {
    use RequestStatus::*;
    match to {
        Cancelled => "Cancel the request",
        Resolved if agent => "Resolve",
        Resolved => "Mark as resolved",
        Open | InProgress if from == Resolved && !agent => "Reopen",
        Open if from == Resolved => "Reopen",
        Open => "Move back to open",
        InProgress if from == WaitingOnCustomer => "Resume work",
        InProgress if from == Resolved => "Reopen and work on it",
        InProgress => "Start work",
        WaitingOnCustomer => "Wait for the requester",
        Closed => "Close",
        New | PendingApproval | Rejected => to.label(),
    }
}

/// "4 hours", "2 days", "1 week", "about 3 days".
pub fn friendly_hours(h: i64) -> String {
    let plural = |n: i64, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    match h {
        i64::MIN..=1 => "1 hour".to_owned(),
        2..=23 => format!("{h} hours"),
        _ if h % 168 == 0 => plural(h / 168, "week", "weeks"),
        _ if h % 24 == 0 => plural(h / 24, "day", "days"),
        25..=47 => format!("{h} hours"),
        _ => format!("about {} days", (h + 12) / 24),
    }
}

/// "model_name" → "Model name", for values whose form is unknown.
pub fn humanize_key(k: &str) -> String {
    let s = k.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// File sizes for people.
pub fn friendly_size(n: i64) -> String {
    const KB: i64 = 1024;
    match n {
        ..KB => format!("{n} bytes"),
        _ if n < KB * KB => format!("{:.0} KB", n as f64 / KB as f64),
        _ => format!("{:.1} MB", n as f64 / (KB * KB) as f64),
    }
}

// ---- Icons ---------------------------------------------------------------------

/// The catalog's icons: (name, what the editor calls it, SVG path data on a
/// 24×24 grid, drawn with strokes). Anything else shows the package.
pub const ICONS: &[(&str, &str, &str)] = &[
    ("package", "Package (general)", "M3 7l9-4 9 4v10l-9 4-9-4z M3 7l9 4 9-4 M12 11v10"),
    ("laptop", "Laptop or computer", "M5 5h14v10H5z M2 19h20"),
    ("phone", "Phone", "M8 2h8a1 1 0 0 1 1 1v18a1 1 0 0 1-1 1H8a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1z M11 18h2"),
    ("printer", "Printer", "M6 9V3h12v6 M4 9h16v7H4z M7 14h10v7H7z"),
    ("software", "Software", "M3 4h18v16H3z M3 9h18 M6 6.5h2"),
    ("access", "Access or key", "M8 11a4 4 0 1 0 0 8a4 4 0 1 0 0-8z M11 12l9-9 M17 6l3 3 M14 9l2 2"),
    (
        "network",
        "Network or Wi-Fi",
        "M2 9a15 15 0 0 1 20 0 M5 12.5a10 10 0 0 1 14 0 M8.5 16a5 5 0 0 1 7 0 M12 19.5h.01",
    ),
    ("mail", "E-mail", "M3 5h18v14H3z M3 7l9 6 9-6"),
    ("account", "Account or person", "M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8z M4 21a8 8 0 0 1 16 0"),
    ("security", "Security", "M12 3l8 3v6c0 5-3.5 8-8 9c-4.5-1-8-4-8-9V6z M9 12l2 2 4-4"),
    ("repair", "Repair", "M4 20l8-8 M14 4a5 5 0 0 0 6 6l-3-3z M12 12l2 2"),
    (
        "help",
        "Help or question",
        "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .8-1 1.5V14 M12 17h.01",
    ),
];

/// The icon of a catalog item (decorative: the item's name says what it is).
pub fn icon(name: &str) -> Markup {
    let d = ICONS.iter().find(|(n, _, _)| *n == name.trim()).unwrap_or(&ICONS[0]).2;
    html! {
        svg class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"
            fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" {
            path d=(d) {}
        }
    }
}

// ---- The request form generated from an item's fields -----------------------

/// A label with its "(required)" marker.
pub fn label_text(label: &str, required: bool) -> Markup {
    html! { (label) @if required { " " span class="req" { "(required)" } } }
}

/// `aria-describedby` for an input with an optional error and hint.
fn described(err: Option<&String>, err_id: &str, hint: bool, hint_id: &str) -> Option<String> {
    match (err.is_some(), hint) {
        (true, true) => Some(format!("{err_id} {hint_id}")),
        (true, false) => Some(err_id.to_owned()),
        (false, true) => Some(hint_id.to_owned()),
        (false, false) => None,
    }
}

/// One generated field. Inputs are named `fields.<key>`, the key of its
/// 422 message, so errors land next to their field; `prefix` keeps ids
/// unique when a preview shares the page with an editor.
pub fn item_field(fd: &FormField, vals: &FormData, errors: &Errors, prefix: &str) -> Markup {
    let name = format!("fields.{}", fd.key);
    let id = format!("{prefix}f-{}", fd.key);
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let err = errors.get(&name);
    let has_help = !fd.help.is_empty();
    let describedby = described(err, &err_id, has_help, &hint_id);
    let value = vals.get(&name);
    let invalid = err.map(|_| "true");
    let hint = html! { @if has_help { span class="hint" id=(hint_id) { (fd.help) } } };
    let error =
        html! { @if let Some(e) = err { div class="field-error" id=(err_id) role="alert" { (fd.label) " " (e) } } };
    match fd.kind {
        FieldType::Multiselect => {
            let chosen = vals.all(&name);
            html! {
                fieldset class={ "field choices" @if err.is_some() { " invalid" } } aria-describedby=[describedby.as_deref()] {
                    legend { (label_text(&fd.label, fd.required)) }
                    (hint)
                    @for (i, o) in fd.options.iter().enumerate() {
                        @let oid = format!("{id}-{i}");
                        div class="check" {
                            input type="checkbox" id=(oid) name=(name) value=(o) checked[chosen.iter().any(|c| c == o)];
                            label for=(oid) { (o) }
                        }
                    }
                    (error)
                }
            }
        }
        FieldType::Checkbox => html! {
            div class={ "field" @if err.is_some() { " invalid" } } {
                div class="check" {
                    input type="checkbox" id=(id) name=(name) value="true" checked[vals.has(&name)] required[fd.required]
                        aria-invalid=[invalid] aria-describedby=[describedby.as_deref()];
                    label for=(id) { (label_text(&fd.label, fd.required)) }
                }
                (hint)
                (error)
            }
        },
        FieldType::Select => html! {
            div class={ "field" @if err.is_some() { " invalid" } } {
                label for=(id) { (label_text(&fd.label, fd.required)) }
                (hint)
                select id=(id) name=(name) required[fd.required] aria-invalid=[invalid] aria-describedby=[describedby.as_deref()] {
                    option value="" { "Choose…" }
                    @for o in &fd.options { option value=(o) selected[o == value] { (o) } }
                }
                (error)
            }
        },
        FieldType::Textarea => html! {
            div class={ "field" @if err.is_some() { " invalid" } } {
                label for=(id) { (label_text(&fd.label, fd.required)) }
                (hint)
                textarea id=(id) name=(name) required[fd.required] maxlength="10000" aria-invalid=[invalid]
                    aria-describedby=[describedby.as_deref()] { (value) }
                (error)
            }
        },
        FieldType::Text | FieldType::Number | FieldType::Date | FieldType::Email => {
            let kind = match fd.kind {
                FieldType::Number => "number",
                FieldType::Date => "date",
                FieldType::Email => "email",
                _ => "text",
            };
            html! {
                div class={ "field" @if err.is_some() { " invalid" } } {
                    label for=(id) { (label_text(&fd.label, fd.required)) }
                    (hint)
                    input id=(id) type=(kind) name=(name) value=(value) required[fd.required]
                        maxlength=[(fd.kind == FieldType::Text).then_some("1000")]
                        step=[(fd.kind == FieldType::Number).then_some("any")]
                        inputmode=[(fd.kind == FieldType::Number).then_some("decimal")]
                        aria-invalid=[invalid] aria-describedby=[describedby.as_deref()];
                    (error)
                }
            }
        }
    }
}

/// Every generated field of a form.
pub fn item_fields(fields: &[FormField], vals: &FormData, errors: &Errors, prefix: &str) -> Markup {
    html! { @for fd in fields { (item_field(fd, vals, errors, prefix)) } }
}

/// The submitted values of a generated form, as the API takes them.
pub fn field_values(fields: &[FormField], f: &FormData) -> Value {
    let mut m = Map::new();
    for fd in fields {
        let name = format!("fields.{}", fd.key);
        match fd.kind {
            FieldType::Checkbox => {
                m.insert(fd.key.clone(), Value::Bool(f.has(&name)));
            }
            FieldType::Multiselect => {
                let v: Vec<Value> =
                    f.all(&name).into_iter().filter(|s| !s.trim().is_empty()).map(Value::String).collect();
                if !v.is_empty() {
                    m.insert(fd.key.clone(), Value::Array(v));
                }
            }
            _ => {
                if f.has(&name) {
                    m.insert(fd.key.clone(), Value::String(f.get(&name).to_owned()));
                }
            }
        }
    }
    Value::Object(m)
}

fn show_value(v: &Value) -> String {
    match v {
        Value::Bool(true) => "Yes".into(),
        Value::Bool(false) => "No".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(show_value).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The values a request was filed with, labelled from its form when known
/// (in the form's order), by their humanised key otherwise.
pub fn submitted_values(form: &[FormField], values: &Value) -> Markup {
    let Some(obj) = values.as_object().filter(|o| !o.is_empty()) else { return html! {} };
    let mut rows: Vec<(String, String)> = Vec::new();
    for fd in form {
        if let Some(v) = obj.get(&fd.key) {
            rows.push((fd.label.clone(), show_value(v)));
        }
    }
    for (k, v) in obj {
        if !form.iter().any(|f| &f.key == k) {
            rows.push((humanize_key(k), show_value(v)));
        }
    }
    html! {
        dl class="facts values" {
            @for (label, value) in &rows { dt { (label) } dd class="comment-body" { (value) } }
        }
    }
}

// ---- Timeline --------------------------------------------------------------

enum Entry<'a> {
    Event(&'a RequestEvent),
    Comment(&'a Comment),
}

impl Entry<'_> {
    fn at(&self) -> tier0_domain::Timestamp {
        match self {
            Entry::Event(e) => e.at,
            Entry::Comment(c) => c.created_at,
        }
    }
}

/// What happened to a request, oldest first: its events and the comments
/// the caller may read (the app never returns internal notes to
/// requesters), internal notes marked. `names` resolves user ids of
/// assignment events; `agent` words statuses for agents.
pub fn timeline(d: &RequestDetail, comments: &[Comment], names: &HashMap<String, String>, agent: bool) -> Markup {
    let mut entries: Vec<Entry<'_>> =
        d.events.iter().map(Entry::Event).chain(comments.iter().map(Entry::Comment)).collect();
    // Stable: at one instant an event comes before the comment made with it.
    entries.sort_by_key(|e| (e.at(), matches!(e, Entry::Comment(_))));
    // A transition's comment is stored both as the event's note and as a
    // public comment (written within the same moment): show it once.
    let said = |ev: &RequestEvent, note: &str| {
        comments.iter().any(|c| {
            !c.internal
                && c.body.trim() == note.trim()
                && ev.actor.as_ref().is_some_and(|a| a.id == c.author.id)
                && (c.created_at.millis() - ev.at.millis()).abs() <= 5_000
        })
    };
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| "an agent".into());
    let status_of = |s: Option<&str>| {
        s.and_then(RequestStatus::from_str_opt).map(|s| status_label(s, agent).to_owned()).unwrap_or_default()
    };
    html! {
        @if entries.is_empty() {
            p class="meta" { "Nothing has happened yet." }
        } @else {
            ol class="timeline" {
                @for e in &entries {
                    @match e {
                        Entry::Event(ev) => {
                            li class="event" {
                                p {
                                    @match ev.kind.as_str() {
                                        "created" => { "Request filed" }
                                        "status" => { "Status changed " @if ev.from.is_some() { "from " strong { (status_of(ev.from.as_deref())) } " " } "to " strong { (status_of(ev.to.as_deref())) } }
                                        "assigned" => {
                                            @match ev.to.as_deref() {
                                                Some(id) => { "Assigned to " strong { (name_of(id)) } }
                                                None => { "No longer assigned" }
                                            }
                                        }
                                        "priority" => {
                                            "Priority changed to "
                                            strong { (ev.to.as_deref().and_then(Priority::from_str_opt).map(Priority::label).unwrap_or("?")) }
                                        }
                                        "incident" => { "Incident " (ev.to.as_deref().unwrap_or("")) " raised" }
                                        other => { (humanize_key(other)) }
                                    }
                                }
                                p class="meta" {
                                    @if let Some(a) = &ev.actor { (a.name) " · " } @else { "Automatic · " }
                                    (time_el(ev.at))
                                }
                                @if let Some(n) = &ev.note {
                                    @if !said(ev, n) { p class="comment-body note" { (n) } }
                                }
                            }
                        }
                        Entry::Comment(c) => {
                            li class={ "comment" @if c.internal { " internal" } } {
                                @if c.internal {
                                    p { strong class="internal-label" { "Internal note — not visible to the requester" } }
                                }
                                p class="meta" { strong { (c.author.name) } " · " (time_el(c.created_at)) }
                                p class="comment-body" { (c.body) }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---- Approval status -----------------------------------------------------------

/// Where the approval stands, for the request's page: who is asked now,
/// or the approvers' comments once it was rejected.
pub fn approval_status(d: &RequestDetail) -> Markup {
    let Some(a) = &d.approval else { return html! {} };
    let stage_count = a.stages.len();
    let current = usize::try_from(a.current_stage).unwrap_or(0);
    html! {
        @match a.state {
            ApprovalState::Pending => {
                div class="notice info" role="status" {
                    p { strong { "Waiting for approval" } @if stage_count > 1 { " (step " (current + 1) " of " (stage_count) ")" } "." }
                    @if let Some(stage) = a.stages.get(current) {
                        @let waiting: Vec<&str> = stage.decisions.iter().filter(|x| x.state == DecisionState::Pending).map(|x| x.approver.name.as_str()).collect();
                        @if !waiting.is_empty() { p { "Asked: " (waiting.join(", ")) } }
                    }
                }
            }
            ApprovalState::Rejected => {
                div class="notice error" {
                    p { strong { "This request was not approved." } }
                    @for stage in &a.stages {
                        @for x in stage.decisions.iter().filter(|x| x.state == DecisionState::Rejected) {
                            p { (x.approver.name) " wrote: " @if let Some(c) = &x.comment { span class="comment-body" { (c) } } @else { em { "no comment" } } }
                        }
                    }
                }
            }
            ApprovalState::Approved => { p class="meta" { "Approved" @if let Some(at) = a.decided_at { " " (time_el(at)) } "." } }
            ApprovalState::Cancelled => { p class="meta" { "The approval was stopped when the request was cancelled." } }
        }
    }
}

// ---- Attachments -------------------------------------------------------------

/// The files of a request (downloads) and the form to add one.
pub fn attachments(request_id: &str, files: &[Attachment], action: &str, error: Option<&str>, max: usize) -> Markup {
    html! {
        @if files.is_empty() {
            p class="meta" { "No files yet." }
        } @else {
            ul class="plain files" {
                @for f in files {
                    li {
                        a href={ "/api/itsm/requests/" (request_id) "/attachments/" (f.id) } download {
                            "Download " (f.filename)
                        }
                        " " span class="meta" { "(" (friendly_size(f.size)) ", added by " (f.uploaded_by.name) " " (time_el(f.created_at)) ")" }
                    }
                }
            }
        }
        form class="stack upload" method="post" action=(action) enctype="multipart/form-data" {
            div class={ "field" @if error.is_some() { " invalid" } } {
                label for="f-file" { "Add a file" }
                span class="hint" id="f-file-hint" { "A screenshot or document, at most " (max / (1024 * 1024)) " MB." }
                input id="f-file" type="file" name="file" required aria-invalid=[error.map(|_| "true")]
                    aria-describedby=(if error.is_some() { "f-file-error f-file-hint" } else { "f-file-hint" });
                @if let Some(e) = error { div class="field-error" id="f-file-error" role="alert" { "File " (e) } }
            }
            button class="btn secondary" type="submit" { "Upload file" }
        }
    }
}

// ---- Posted forms (URL-encoded, or multipart with one file) ----------------

/// A file from a multipart form.
pub struct Upload {
    pub filename: String,
    pub data: Vec<u8>,
}

/// A submitted form: its fields, the file in the part named `file` (when
/// one was chosen), or why the file was refused (status, message).
#[derive(Default)]
pub struct Posted {
    pub form: FormData,
    pub file: Option<Upload>,
    pub file_error: Option<(StatusCode, String)>,
}

/// Slack for multipart boundaries and the other fields around the file.
const MULTIPART_OVERHEAD: usize = 256 * 1024;

/// Read a form posted as `application/x-www-form-urlencoded` (at most the
/// body limit) or `multipart/form-data` (one file of at most the upload
/// limit in the part `file`, other parts within the body limit). Call it
/// after deciding who may post: nothing is read before.
pub async fn read_posted(st: &AppState, req: Request) -> Result<Posted, Response> {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let form_limit = st.web.max_body_bytes;
    if ct.starts_with("application/x-www-form-urlencoded") {
        let body = http_body_util::Limited::new(req.into_body(), form_limit);
        let bytes = body.collect().await.map_err(|_| {
            error_page(StatusCode::PAYLOAD_TOO_LARGE, "Form not accepted", "The form is too large to be read.")
        })?;
        let form = url::form_urlencoded::parse(&bytes.to_bytes()).into_owned().collect();
        return Ok(Posted { form: FormData(form), ..Posted::default() });
    }
    if !ct.starts_with("multipart/form-data") {
        return Err(error_page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Form not understood",
            "Send this form from its page.",
        ));
    }
    let file_limit = st.web.max_upload_bytes;
    let (parts, body) = req.into_parts();
    let limited =
        Request::from_parts(parts, Body::new(http_body_util::Limited::new(body, file_limit + MULTIPART_OVERHEAD)));
    let mut mp = Multipart::from_request(limited, &()).await.map_err(|_| {
        error_page(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Form not understood", "Send this form from its page.")
    })?;
    let too_large = || (StatusCode::PAYLOAD_TOO_LARGE, format!("is larger than {} MB", file_limit / (1024 * 1024)));
    let mut out = Posted::default();
    let mut text_bytes = 0usize;
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                out.file_error = Some(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    (StatusCode::BAD_REQUEST, "could not be read; please try again".into())
                });
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(filename) = field.file_name().map(str::to_owned) {
            if name != "file" || out.file.is_some() {
                continue;
            }
            let mut data = Vec::new();
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if data.len() + chunk.len() > file_limit {
                            out.file_error = Some(too_large());
                            return Ok(out);
                        }
                        data.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        out.file_error = Some(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                            too_large()
                        } else {
                            (StatusCode::BAD_REQUEST, "could not be read; please try again".into())
                        });
                        return Ok(out);
                    }
                }
            }
            if !data.is_empty() {
                out.file = Some(Upload { filename, data });
            }
        } else {
            let text = field
                .text()
                .await
                .map_err(|_| error_page(StatusCode::BAD_REQUEST, "Form not accepted", "The form could not be read."))?;
            text_bytes += text.len();
            if text_bytes > form_limit {
                return Err(error_page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Form not accepted",
                    "The form is too large to be read.",
                ));
            }
            out.form.0.push((name, text));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_times() {
        assert_eq!(friendly_hours(1), "1 hour");
        assert_eq!(friendly_hours(4), "4 hours");
        assert_eq!(friendly_hours(24), "1 day");
        assert_eq!(friendly_hours(36), "36 hours");
        assert_eq!(friendly_hours(48), "2 days");
        assert_eq!(friendly_hours(168), "1 week");
        assert_eq!(friendly_hours(336), "2 weeks");
        assert_eq!(friendly_hours(100), "about 4 days");
        assert_eq!(friendly_hours(110), "about 5 days");
    }

    #[test]
    fn values_from_a_form() {
        let form: Vec<FormField> = serde_json::from_value(serde_json::json!([
            {"key": "model", "label": "Model", "type": "select", "options": ["A", "B"]},
            {"key": "extras", "label": "Extras", "type": "multiselect", "options": ["X", "Y"]},
            {"key": "ok", "label": "OK", "type": "checkbox"},
            {"key": "n", "label": "N", "type": "number"}
        ]))
        .unwrap();
        let f = FormData(vec![
            ("fields.model".into(), "B".into()),
            ("fields.extras".into(), "X".into()),
            ("fields.extras".into(), "Y".into()),
            ("fields.n".into(), "".into()),
        ]);
        let v = field_values(&form, &f);
        assert_eq!(v, serde_json::json!({"model": "B", "extras": ["X", "Y"], "ok": false, "n": ""}));
        assert_eq!(humanize_key("cost_centre"), "Cost centre");
        assert_eq!(friendly_size(2048), "2 KB");
    }
}
