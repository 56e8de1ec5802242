//! The Service Catalog tab (`/portal`, the requesters' landing page), the
//! request form generated from an item (`/portal/catalog/{item_id}`) and
//! the generic "Submit a request" form (`/portal/request/new`, pre-filled
//! from `?title=&details=` by the knowledge base).

use super::forms::FormData;
use super::layout::{Chrome, Tab, page};
use super::request_parts::{
    Errors, Posted, deny, field_values, friendly_hours, icon, item_fields, label_text, pager, read_posted, url_with,
};
use super::{PageCaller, notice};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use tier0_app::itsm::catalog::CatalogQuery;
use tier0_app::itsm::requests::NewRequestInput;
use tier0_app::{AppError, caps};
use tier0_domain::Section;
use tier0_domain::itsm::Priority;
use tier0_domain::itsm::records::{CatalogItem, Category};

/// Pages whose forms may carry a file (their body limit is the upload
/// limit, enforced while reading).
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/portal/catalog/{item_id}", get(item_form).post(item_submit))
        .route("/portal/request/new", get(generic_form).post(generic_submit))
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/portal", get(catalog))
}

const CATALOG_PAGE: i64 = 60;

#[derive(Debug, Default, Deserialize)]
pub struct CatalogParams {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub category_id: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
}

fn item_card(i: &CatalogItem) -> Markup {
    html! {
        li class="card item-card" {
            span class="item-icon" { (icon(&i.icon)) }
            div {
                h3 { a href={ "/portal/catalog/" (i.id) } { (i.name) } }
                @if !i.description.is_empty() { p class="item-description" { (i.description) } }
                p class="meta item-facts" {
                    @if let Some(h) = i.fulfillment_target_hours { span { "Usually done within " (friendly_hours(h)) } }
                    @if i.requires_approval { " " span class="pill pending_approval" { "Needs approval" } }
                }
            }
        }
    }
}

/// `GET /portal`: the catalog.
pub async fn catalog(State(st): State<AppState>, c: PageCaller, Query(p): Query<CatalogParams>) -> Response {
    if let Err(r) = c.reader() {
        return r;
    }
    let by = match c.ctx.can::<caps::ItsmRead>() {
        Ok(by) => by,
        Err(e) => return deny(&c, e),
    };
    let q = p.q.as_deref().map(str::trim).unwrap_or("").to_owned();
    let cat = p.category_id.as_deref().map(str::trim).unwrap_or("").to_owned();
    let categories = match st.app.list_categories(by).await {
        Ok(c) => c.items,
        Err(e) => return deny(&c, e),
    };
    let query = |cursor: Option<String>| CatalogQuery {
        q: Some(q.clone()),
        category_id: Some(cat.clone()),
        all: None,
        limit: Some(CATALOG_PAGE),
        cursor,
    };
    let mut problem = None;
    let items = match st.app.list_catalog(by, query(p.cursor.clone())).await {
        Err(AppError::Validation(_)) => {
            problem = Some("That page of the catalog does not exist; showing the first page.");
            st.app.list_catalog(by, query(None)).await
        }
        other => other,
    };
    let items = match items {
        Ok(i) => i,
        Err(e) => return deny(&c, e),
    };
    let filtered = !q.is_empty() || !cat.is_empty();
    let first = url_with("/portal", &[("q", &q), ("category_id", &cat)]);
    let next =
        items.next_cursor.as_deref().map(|n| url_with("/portal", &[("q", &q), ("category_id", &cat), ("cursor", n)]));
    let chosen: Option<&Category> = categories.iter().find(|x| x.id.as_str() == cat);
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let can_file = c.ctx.allows("itsm:write") && c.ctx.is_signed_in() && chrome.shows(Section::Requests);
    let new_link = url_with("/portal/request/new", &[("title", &q)]);
    let groups: Vec<(Option<&Category>, Vec<&CatalogItem>)> = if filtered {
        vec![(None, items.items.iter().collect())]
    } else {
        let mut g: Vec<(Option<&Category>, Vec<&CatalogItem>)> = categories
            .iter()
            .map(|k| (Some(k), items.items.iter().filter(|i| i.category_id.as_ref() == Some(&k.id)).collect()))
            .collect();
        let known = |i: &&CatalogItem| i.category_id.as_ref().is_some_and(|id| categories.iter().any(|k| &k.id == id));
        g.push((None, items.items.iter().filter(|i| !known(i)).collect()));
        g.retain(|(_, v)| !v.is_empty());
        g
    };
    let body = html! {
        h1 { "Service Catalog" }
        @if let Some(d) = &chrome.description { p class="lead portal-description" { (d) } }
        @if let Some(pr) = problem { (notice("error", pr)) }
        form class="row filters catalog-search" method="get" action="/portal" role="search" {
            label class="visually-hidden" for="f-q" { "Search the catalog" }
            input id="f-q" type="search" name="q" value=(q) placeholder="What do you need? For example \"laptop\"" maxlength="200";
            label class="visually-hidden" for="f-category" { "Category" }
            select id="f-category" name="category_id" {
                option value="" selected[cat.is_empty()] { "All categories" }
                @for k in &categories { option value=(k.id) selected[k.id.as_str() == cat] { (k.name) } }
            }
            button class="btn" type="submit" { "Search" }
        }
        @if !categories.is_empty() {
            nav class="categories" aria-label="Categories" {
                ul class="plain row" {
                    li { a href="/portal" aria-current=[(!filtered).then_some("page")] { "Everything" } }
                    @for k in &categories {
                        li { a href=(url_with("/portal", &[("category_id", k.id.as_str())])) aria-current=[(k.id.as_str() == cat && q.is_empty()).then_some("page")] { (k.name) } }
                    }
                }
            }
        }
        @if filtered {
            h2 {
                @if let Some(k) = chosen { (k.name) } @else { "Results" }
                @if !q.is_empty() { " for \u{201c}" (q) "\u{201d}" }
            }
            @if let Some(k) = chosen { @if !k.description.is_empty() { p class="meta" { (k.description) } } }
        }
        @if items.items.is_empty() {
            div class="card empty" {
                @if filtered {
                    p { "Nothing in the catalog matches." }
                    p { a href="/portal" { "Show the whole catalog" } }
                } @else {
                    p { "The catalog is empty for now." }
                }
            }
        }
        @for (k, list) in &groups {
            section class="catalog-group" aria-label=[k.map(|k| k.name.as_str())] {
                @if !filtered {
                    @if let Some(k) = k { h2 { (k.name) } @if !k.description.is_empty() { p class="meta" { (k.description) } } }
                    @else if groups.len() > 1 { h2 { "Other" } }
                }
                ul class="plain grid items" { @for i in list { (item_card(i)) } }
            }
        }
        (pager(&first, next, p.cursor.is_some()))
        @if can_file {
            div class="card cant-find" {
                h2 { "Can't find it?" }
                p { "Describe what you need in your own words and we will take it from there." }
                p { a class="btn" href=(new_link) { "Submit a request" } }
            }
        }
    };
    page(&chrome, "Service Catalog", Tab::Catalog, body).into_response()
}

// ---- Request forms -------------------------------------------------------------

/// What a request form shows: submitted values, messages by field, a
/// summary message and the status to answer with.
struct FormView {
    status: StatusCode,
    values: FormData,
    errors: Errors,
    message: Option<String>,
}

impl FormView {
    fn fresh(values: FormData) -> Self {
        Self { status: StatusCode::OK, values, errors: Errors::new(), message: None }
    }
}

/// The title input with the knowledge-base deflection hook: suggestions
/// appear right below it (wired in by the knowledge base).
fn title_field(label: &str, hint: &str, v: &FormView, deflect: bool) -> Markup {
    let err = v.errors.get("title");
    html! {
        div class={ "field" @if err.is_some() { " invalid" } } {
            label for="f-title" { (label_text(label, true)) }
            span class="hint" id="f-title-hint" { (hint) }
            @if deflect {
                input id="f-title" type="text" name="title" value=(v.values.get("title")) required maxlength="200"
                    autocomplete="off" data-suggest
                    aria-invalid=[err.map(|_| "true")] aria-describedby=(if err.is_some() { "f-title-error f-title-hint" } else { "f-title-hint" });
            } @else {
                input id="f-title" type="text" name="title" value=(v.values.get("title")) required maxlength="200"
                    aria-invalid=[err.map(|_| "true")] aria-describedby=(if err.is_some() { "f-title-error f-title-hint" } else { "f-title-hint" });
            }
            @if let Some(e) = err { div class="field-error" id="f-title-error" role="alert" { "Summary " (e) } }
        }
        @if deflect {
            // Suggestions appear under the title as people type (script);
            // without JavaScript the same step is this button.
            script src="/assets/deflect.js" defer {}
            p class="deflect-step" {
                button type="submit" class="btn secondary small" formaction="/portal/request/check" formmethod="get" formnovalidate {
                    "Check the knowledge base for answers first"
                }
            }
        }
    }
}

fn details_field(label: &str, hint: &str, v: &FormView) -> Markup {
    let err = v.errors.get("details");
    html! {
        div class={ "field" @if err.is_some() { " invalid" } } {
            label for="f-details" { (label) " " span class="optional" { "(optional)" } }
            span class="hint" id="f-details-hint" { (hint) }
            textarea id="f-details" name="details" maxlength="20000" aria-invalid=[err.map(|_| "true")]
                aria-describedby=(if err.is_some() { "f-details-error f-details-hint" } else { "f-details-hint" }) { (v.values.get("details")) }
            @if let Some(e) = err { div class="field-error" id="f-details-error" role="alert" { "Details " (e) } }
        }
    }
}

fn priority_field(v: &FormView) -> Markup {
    let chosen = if v.values.get("priority").is_empty() { "normal" } else { v.values.get("priority") };
    let err = v.errors.get("priority");
    html! {
        fieldset class={ "field choices" @if err.is_some() { " invalid" } } aria-describedby="f-priority-hint" {
            legend { "How urgent is it?" }
            span class="hint" id="f-priority-hint" { "Most requests are normal. Choose urgent only when work is stopped." }
            @for p in Priority::ALL {
                @let id = format!("f-priority-{}", p.as_str());
                div class="check" {
                    input type="radio" id=(id) name="priority" value=(p.as_str()) checked[p.as_str() == chosen];
                    label for=(id) { (p.label()) }
                }
            }
            @if let Some(e) = err { div class="field-error" role="alert" { "Priority " (e) } }
        }
    }
}

/// "Request on behalf of" and "Also create an incident": only rendered
/// for callers holding `itsm:fulfill` (the API refuses everyone else).
fn agent_fields(v: &FormView) -> Markup {
    let err = v.errors.get("requester");
    html! {
        fieldset class="agent-only" {
            legend { "For agents" }
            div class={ "field" @if err.is_some() { " invalid" } } {
                label for="f-requester" { "Request on behalf of " span class="optional" { "(optional)" } }
                span class="hint" id="f-requester-hint" { "The e-mail address of the person this is for. Leave empty if it is for you." }
                input id="f-requester" type="email" name="requester" value=(v.values.get("requester")) maxlength="254" autocomplete="off"
                    aria-invalid=[err.map(|_| "true")] aria-describedby=(if err.is_some() { "f-requester-error f-requester-hint" } else { "f-requester-hint" });
                @if let Some(e) = err { div class="field-error" id="f-requester-error" role="alert" { "Requester " (e) } }
            }
            div class="check" {
                input type="checkbox" id="f-incident" name="also_create_incident" value="true" checked[v.values.has("also_create_incident")];
                label for="f-incident" { "Also create an incident (for urgent issues)" }
            }
        }
    }
}

fn file_field(v: &FormView) -> Markup {
    let err = v.errors.get("file");
    html! {
        div class={ "field" @if err.is_some() { " invalid" } } {
            label for="f-file" { "Attach a file " span class="optional" { "(optional)" } }
            span class="hint" id="f-file-hint" { "A screenshot or document helps. At most 25 MB." }
            input id="f-file" type="file" name="file" aria-invalid=[err.map(|_| "true")]
                aria-describedby=(if err.is_some() { "f-file-error f-file-hint" } else { "f-file-hint" });
            @if let Some(e) = err { div class="field-error" id="f-file-error" role="alert" { "File " (e) } }
        }
    }
}

fn top_message(v: &FormView) -> Markup {
    html! {
        @if let Some(m) = &v.message { (notice("error", m)) }
        @else if !v.errors.is_empty() { (notice("error", "Please correct the fields marked below.")) }
        @if !v.errors.is_empty() && v.values.has("had_file") {
            (notice("info", "For your safety the browser does not keep a chosen file: please choose it again."))
        }
    }
}

async fn render_item(st: &AppState, c: &PageCaller, item: &CatalogItem, v: FormView) -> Response {
    let chrome = Chrome::for_ctx(st, &c.ctx).await;
    let agent = c.ctx.allows("itsm:fulfill");
    let body = html! {
        p { a href="/portal" { "← Back to the catalog" } }
        div class="row item-head" {
            span class="item-icon large" { (icon(&item.icon)) }
            h1 { (item.name) }
        }
        @if !item.description.is_empty() { p class="lead" { (item.description) } }
        @if let Some(h) = item.fulfillment_target_hours { p { "Usually done within " strong { (friendly_hours(h)) } "." } }
        @if item.requires_approval {
            (notice("info", "This request needs approval: it goes to an approver first, and work starts once it is approved."))
        }
        (top_message(&v))
        form class="stack request-form" method="post" action={ "/portal/catalog/" (item.id) } enctype="multipart/form-data" novalidate {
            (title_field("Summary", "A few words that describe your request.", &v, false))
            (item_fields(&item.fields, &v.values, &v.errors, ""))
            (details_field("Anything else we should know?", "Extra details that help us do it right.", &v))
            @if agent { (agent_fields(&v)) }
            (file_field(&v))
            div class="row" {
                button class="btn" type="submit" { "Submit request" }
                a href="/portal" { "Cancel" }
            }
        }
    };
    (v.status, page(&chrome, &item.name, Tab::Catalog, body)).into_response()
}

async fn render_generic(st: &AppState, c: &PageCaller, v: FormView) -> Response {
    let chrome = Chrome::for_ctx(st, &c.ctx).await;
    let agent = c.ctx.allows("itsm:fulfill");
    let body = html! {
        p { a href="/portal" { "← Back to the catalog" } }
        h1 { "Submit a request" }
        p class="lead" { "Tell us what you need or what is not working. You can follow your request in My Requests." }
        (top_message(&v))
        form class="stack request-form" method="post" action="/portal/request/new" enctype="multipart/form-data" novalidate {
            (title_field("Summary", "For example \"Cannot print from my laptop\".", &v, true))
            (details_field("Details", "What happened, what you expected, and anything you already tried.", &v))
            (priority_field(&v))
            @if agent { (agent_fields(&v)) }
            (file_field(&v))
            div class="row" {
                button class="btn" type="submit" { "Submit request" }
                a href="/portal" { "Cancel" }
            }
        }
    };
    (v.status, page(&chrome, "Submit a request", Tab::Requests, body)).into_response()
}

/// `GET /portal/catalog/{item_id}`.
pub async fn item_form(State(st): State<AppState>, c: PageCaller, Path(item_id): Path<String>) -> Response {
    let item = match c.ctx.can::<caps::ItsmWrite>() {
        Ok(_) => match c.ctx.can::<caps::ItsmRead>() {
            Ok(by) => st.app.get_catalog_item(by, &item_id).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let item = match item {
        Ok(i) if i.published => i,
        Ok(_) => return super::request_parts::not_found(),
        Err(e) => return deny(&c, e),
    };
    let values = FormData(vec![("title".into(), item.name.clone())]);
    render_item(&st, &c, &item, FormView::fresh(values)).await
}

/// `GET /portal/request/new?title=&details=`.
pub async fn generic_form(
    State(st): State<AppState>,
    c: PageCaller,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if let Err(e) = c.ctx.can::<caps::ItsmWrite>() {
        return deny(&c, e);
    }
    let mut values = Vec::new();
    for k in ["title", "details"] {
        if let Some(v) = q.get(k) {
            let max = if k == "title" { 200 } else { 20_000 };
            values.push((k.to_owned(), v.chars().take(max).collect()));
        }
    }
    render_generic(&st, &c, FormView::fresh(FormData(values))).await
}

/// The request input from a posted form (the generated fields only for
/// an item).
fn request_input(f: &FormData, item: Option<&CatalogItem>, agent: bool) -> NewRequestInput {
    NewRequestInput {
        title: f.get("title").to_owned(),
        details: f.opt("details"),
        requester: if agent { f.opt("requester") } else { None },
        catalog_item_id: item.map(|i| i.id.to_string()),
        fields: item.map(|i| field_values(&i.fields, f)),
        priority: f.opt("priority"),
        also_create_incident: (agent && f.has("also_create_incident")).then_some(true),
    }
}

/// File the request, then attach the file; the next page to show, or the
/// form again with what went wrong.
async fn file_request(
    st: &AppState,
    c: &PageCaller,
    posted: Posted,
    item: Option<&CatalogItem>,
) -> Result<Response, FormView> {
    let mut values = posted.form;
    if posted.file.is_some() || posted.file_error.is_some() {
        values.0.push(("had_file".into(), "1".into()));
    }
    if let Some((status, msg)) = posted.file_error {
        return Err(FormView { status, values, errors: Errors::from([("file".to_owned(), msg)]), message: None });
    }
    let by = match c.ctx.can::<caps::ItsmWrite>() {
        Ok(by) => by,
        Err(e) => return Ok(deny(c, e)),
    };
    let input = request_input(&values, item, by.allows("itsm:fulfill"));
    match st.app.create_request(by, input).await {
        Ok(d) => {
            let id = d.request.id.to_string();
            let mut done = "filed";
            if let Some(file) = posted.file
                && st.app.add_attachment(by, &id, &file.filename, file.data).await.is_err()
            {
                done = "filed_without_file";
            }
            Ok(super::forms::see_other(&format!("/portal/requests/{id}?done={done}")))
        }
        Err(AppError::Validation(v)) => {
            let mut errors = v.fields;
            let message = errors
                .remove("catalog_item_id")
                .map(|_| "This item can no longer be requested. Go back to the catalog and choose another.".to_owned());
            if let Some(e) = errors.remove("fields") {
                errors.insert("title".into(), e);
            }
            Err(FormView { status: StatusCode::UNPROCESSABLE_ENTITY, values, errors, message })
        }
        Err(AppError::Forbidden { message, .. }) => {
            Err(FormView { status: StatusCode::FORBIDDEN, values, errors: Errors::new(), message: Some(message) })
        }
        Err(e) => Ok(deny(c, e)),
    }
}

/// `POST /portal/catalog/{item_id}`.
pub async fn item_submit(
    State(st): State<AppState>,
    c: PageCaller,
    Path(item_id): Path<String>,
    req: Request,
) -> Response {
    let item = match (c.ctx.can::<caps::ItsmWrite>(), c.ctx.can::<caps::ItsmRead>()) {
        (Ok(_), Ok(by)) => st.app.get_catalog_item(by, &item_id).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let item = match item {
        Ok(i) => i,
        Err(e) => return deny(&c, e),
    };
    let posted = match read_posted(&st, req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match file_request(&st, &c, posted, Some(&item)).await {
        Ok(r) => r,
        Err(v) => render_item(&st, &c, &item, v).await,
    }
}

/// `POST /portal/request/new`.
pub async fn generic_submit(State(st): State<AppState>, c: PageCaller, req: Request) -> Response {
    if let Err(e) = c.ctx.can::<caps::ItsmWrite>() {
        return deny(&c, e);
    }
    let posted = match read_posted(&st, req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match file_request(&st, &c, posted, None).await {
        Ok(r) => r,
        Err(v) => render_generic(&st, &c, v).await,
    }
}
