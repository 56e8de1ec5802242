//! Catalog administration (`catalog:manage`): categories (add, edit,
//! reorder, delete) and items (`/itsm/catalog`: publish, unpublish,
//! delete), and the item editor (`/itsm/catalog/new`,
//! `/itsm/catalog/{id}/edit`) with its form builder and a preview of the
//! request form it generates.
//!
//! The builder works without JavaScript: the whole editor is one form;
//! "Add question", "Move up", "Move down" and "Remove" post it and get it
//! back changed (nothing is stored), "Save item" stores it. Each builder
//! button posts to the editor's address with a fragment, so the browser
//! lands back at the question that changed.

use super::forms::{FormData, checkbox_group, see_other, select_field};
use super::layout::{Chrome, Tab, page_at};
use super::request_parts::{
    Errors, ICONS, deny, friendly_hours, icon, item_fields, label_text, not_found, pager, url_with,
};
use super::{FieldOpts, PageCaller, done_message, field, notice};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;
use tier0_app::itsm::catalog::{CatalogItemInput, CatalogItemPatch, CatalogQuery, CategoryInput, CategoryPatch};
use tier0_app::itsm::workflows::WorkflowQuery;
use tier0_app::{AppError, Can, caps};
use tier0_domain::itsm::form::MAX_FIELDS;
use tier0_domain::itsm::records::{CatalogItem, Category, Workflow};
use tier0_domain::itsm::{FieldType, FormField, FormFieldInput};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/itsm/catalog", get(overview))
        .route("/itsm/catalog/categories", post(category_create))
        .route("/itsm/catalog/categories/{id}", get(category_edit).post(category_update))
        .route("/itsm/catalog/categories/{id}/move", post(category_move))
        .route("/itsm/catalog/categories/{id}/delete", post(category_delete))
        .route("/itsm/catalog/new", get(item_new).post(item_new_post))
        .route("/itsm/catalog/{id}/edit", get(item_edit).post(item_edit_post))
        .route("/itsm/catalog/{id}/publish", post(item_publish))
        .route("/itsm/catalog/{id}/delete", post(item_delete))
}

const HOME: &str = "/itsm/catalog";

const DONE: &[(&str, &str)] = &[
    ("category_added", "The category was added."),
    ("category_saved", "The category was saved."),
    ("category_moved", "The category was moved."),
    ("category_deleted", "The category was deleted; its items are now uncategorised."),
    ("published", "The item is published: people can see and request it."),
    ("unpublished", "The item is hidden from the catalog."),
    ("deleted", "The item was removed from the catalog. Requests already filed for it are kept."),
    ("created", "The item was created."),
    ("saved", "The item was saved."),
];

fn manage<'a>(c: &'a PageCaller) -> Result<Can<'a, caps::CatalogManage>, Response> {
    c.ctx.can::<caps::CatalogManage>().map_err(|e| deny(c, e))
}

async fn shell(st: &AppState, c: &PageCaller, title: &str, current: &str, body: Markup) -> Markup {
    let chrome = Chrome::for_ctx(st, &c.ctx).await;
    page_at(&chrome, title, Tab::Itsm, current, body)
}

async fn workflows(st: &AppState, by: Can<'_, caps::CatalogManage>) -> Result<Vec<Workflow>, AppError> {
    Ok(st.app.list_workflows(by, WorkflowQuery { limit: Some(200), cursor: None }).await?.items)
}

// ---- Overview: categories and items ------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct OverviewParams {
    #[serde(default)]
    pub done: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Default)]
struct OverviewView {
    status: Option<StatusCode>,
    done: Option<String>,
    error: Option<String>,
    errors: Errors,
    values: FormData,
    cursor: Option<String>,
}

async fn render_overview(st: &AppState, c: &PageCaller, v: OverviewView) -> Response {
    let by = match manage(c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let read = match c.ctx.can::<caps::ItsmRead>() {
        Ok(r) => r,
        Err(e) => return deny(c, e),
    };
    let q = |cursor| CatalogQuery { all: Some(true), limit: Some(100), cursor, ..CatalogQuery::default() };
    let loaded = async {
        let cats = st.app.list_categories(read).await?.items;
        let items = match st.app.list_catalog(read, q(v.cursor.clone())).await {
            Err(AppError::Validation(_)) => st.app.list_catalog(read, q(None)).await?,
            other => other?,
        };
        let flows = workflows(st, by).await?;
        Ok::<_, AppError>((cats, items, flows))
    }
    .await;
    let (cats, items, flows) = match loaded {
        Ok(x) => x,
        Err(e) => return deny(c, e),
    };
    let cat_names: HashMap<String, &str> = cats.iter().map(|k| (k.id.to_string(), k.name.as_str())).collect();
    let flow_names: HashMap<String, &str> = flows.iter().map(|w| (w.id.to_string(), w.name.as_str())).collect();
    let next = items.next_cursor.as_deref().map(|n| url_with(HOME, &[("cursor", n)]));
    let body = html! {
        h1 { "Service catalog" }
        p class="lead" { "What people can request in the portal, and the questions they answer." }
        @if let Some(m) = done_message(DONE, v.done.as_deref()) { (notice("ok", m)) }
        @if let Some(e) = &v.error { (notice("error", e)) }
        section class="manage-section" aria-labelledby="h-items" {
            div class="row" { h2 id="h-items" { "Items" } span class="spacer" {} a class="btn small" href="/itsm/catalog/new" { "New item" } }
            @if items.items.is_empty() {
                p class="meta" { "No items yet. Add the things people ask for most, such as a new laptop or access to an application." }
            } @else {
                div class="table-wrap" {
                    table {
                        caption class="visually-hidden" { "Catalog items" }
                        thead { tr {
                            th scope="col" { "Item" } th scope="col" { "Category" } th scope="col" { "Usually done within" }
                            th scope="col" { "Approval" } th scope="col" { "Visible to" } th scope="col" { "State" }
                            th scope="col" { span class="visually-hidden" { "Actions" } }
                        } }
                        tbody {
                            @for i in &items.items {
                                tr {
                                    th scope="row" { span class="item-icon small" { (icon(&i.icon)) } " " (i.name) br; span class="meta" { (i.fields.len()) " question" @if i.fields.len() != 1 { "s" } } }
                                    td { (i.category_id.as_ref().and_then(|k| cat_names.get(k.as_str()).copied()).unwrap_or("—")) }
                                    td { (i.fulfillment_target_hours.map(friendly_hours).unwrap_or_else(|| "—".into())) }
                                    td { (i.workflow_definition_id.as_ref().and_then(|w| flow_names.get(w.as_str()).copied()).unwrap_or("Not needed")) }
                                    td { @if i.visible_to_roles.is_empty() { "Everyone" } @else { (i.visible_to_roles.join(", ")) } }
                                    td { @if i.published { span class="pill published" { "Published" } } @else { span class="pill draft" { "Hidden" } } }
                                    td class="actions" {
                                        a href={ "/itsm/catalog/" (i.id) "/edit" } { "Edit" span class="visually-hidden" { " " (i.name) } }
                                        form method="post" action={ "/itsm/catalog/" (i.id) "/publish" } {
                                            input type="hidden" name="published" value=(if i.published { "false" } else { "true" });
                                            button class="link-button" type="submit" {
                                                @if i.published { "Unpublish" } @else { "Publish" }
                                                span class="visually-hidden" { " " (i.name) }
                                            }
                                        }
                                        form method="post" action={ "/itsm/catalog/" (i.id) "/delete" } {
                                            button class="link-button danger-link" type="submit" { "Delete" span class="visually-hidden" { " " (i.name) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (pager(HOME, next, v.cursor.is_some()))
        }
        section class="manage-section" aria-labelledby="h-categories" {
            h2 id="h-categories" { "Categories" }
            @if cats.is_empty() {
                p class="meta" { "No categories yet. Categories group items in the portal, for example \"Hardware\" or \"Access\"." }
            } @else {
                div class="table-wrap" {
                    table {
                        caption class="visually-hidden" { "Categories, in the order the portal shows them" }
                        thead { tr { th scope="col" { "Category" } th scope="col" { "Description" } th scope="col" { "Order" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                        tbody {
                            @for (n, k) in cats.iter().enumerate() {
                                tr {
                                    th scope="row" { (k.name) }
                                    td { (k.description) }
                                    td { (k.position) }
                                    td class="actions" {
                                        a href={ "/itsm/catalog/categories/" (k.id) } { "Edit" span class="visually-hidden" { " " (k.name) } }
                                        @if n > 0 {
                                            form method="post" action={ "/itsm/catalog/categories/" (k.id) "/move" } {
                                                input type="hidden" name="direction" value="up";
                                                button class="link-button" type="submit" { "Move up" span class="visually-hidden" { " " (k.name) } }
                                            }
                                        }
                                        @if n + 1 < cats.len() {
                                            form method="post" action={ "/itsm/catalog/categories/" (k.id) "/move" } {
                                                input type="hidden" name="direction" value="down";
                                                button class="link-button" type="submit" { "Move down" span class="visually-hidden" { " " (k.name) } }
                                            }
                                        }
                                        form method="post" action={ "/itsm/catalog/categories/" (k.id) "/delete" } {
                                            button class="link-button danger-link" type="submit" { "Delete" span class="visually-hidden" { " " (k.name) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form class="stack card add-category" method="post" action="/itsm/catalog/categories" novalidate {
                h3 { "Add a category" }
                (category_fields(&v.values, &v.errors))
                button class="btn secondary" type="submit" { "Add category" }
            }
        }
    };
    let status = v.status.unwrap_or(StatusCode::OK);
    (status, shell(st, c, "Service catalog", HOME, body).await).into_response()
}

fn category_fields(f: &FormData, errors: &Errors) -> Markup {
    html! {
        (field("Name", "name", "text", f.get("name"), errors.get("name"), FieldOpts::required().max(80)))
        (field("Description", "description", "textarea", f.get("description"), errors.get("description"), FieldOpts::default().max(2000)))
        (field("Order", "position", "number", f.get("position"), errors.get("position"),
            FieldOpts { inputmode: Some("numeric"), ..FieldOpts::default().hint("Lower numbers come first. Leave empty for 0.") }))
    }
}

/// A whole number typed in a form: `(value, unreadable)`. Text that is
/// not a number becomes a value the use case refuses, so that the other
/// fields are still checked in the same pass; [`number_message`] then
/// words the message for what was typed.
fn form_number(f: &FormData, name: &str) -> (Option<i64>, bool) {
    match f.opt(name) {
        None => (None, false),
        Some(t) => match t.parse::<i64>() {
            Ok(n) => (Some(n), false),
            Err(_) => (Some(i64::MAX), true),
        },
    }
}

fn number_message(errors: &mut Errors, name: &str, unreadable: bool, msg: &str) {
    if unreadable {
        errors.insert(name.to_owned(), msg.to_owned());
    }
}

/// `GET /itsm/catalog`.
pub async fn overview(State(st): State<AppState>, c: PageCaller, Query(p): Query<OverviewParams>) -> Response {
    render_overview(&st, &c, OverviewView { done: p.done, cursor: p.cursor, ..OverviewView::default() }).await
}

/// `POST /itsm/catalog/categories`.
pub async fn category_create(State(st): State<AppState>, c: PageCaller, f: FormData) -> Response {
    let by = match manage(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let (position, unreadable) = form_number(&f, "position");
    let result = st
        .app
        .create_category(by, CategoryInput { name: f.get("name").into(), description: f.opt("description"), position })
        .await
        .map(|_| ());
    match result {
        Ok(()) => see_other("/itsm/catalog?done=category_added"),
        Err(AppError::Validation(v)) => {
            let mut errors = v.fields;
            number_message(&mut errors, "position", unreadable, "must be a whole number");
            let view = OverviewView {
                status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                errors,
                values: f,
                error: Some("The category was not added: please correct the fields marked below.".into()),
                ..OverviewView::default()
            };
            render_overview(&st, &c, view).await
        }
        Err(AppError::Conflict { message, .. }) => {
            let view = OverviewView {
                status: Some(StatusCode::CONFLICT),
                error: Some(message),
                values: f,
                ..OverviewView::default()
            };
            render_overview(&st, &c, view).await
        }
        Err(e) => deny(&c, e),
    }
}

async fn category_page(st: &AppState, c: &PageCaller, k: &Category, f: &FormData, errors: &Errors) -> Markup {
    let action = format!("/itsm/catalog/categories/{}", k.id);
    let body = html! {
        p { a href=(HOME) { "← Back to the catalog" } }
        h1 { "Edit category " (k.name) }
        @if !errors.is_empty() { (notice("error", "Please correct the fields marked below.")) }
        form class="stack" method="post" action=(action) novalidate {
            (category_fields(f, errors))
            div class="row" { button class="btn" type="submit" { "Save category" } a href=(HOME) { "Cancel" } }
        }
    };
    shell(st, c, "Edit category", HOME, body).await
}

fn category_form(k: &Category) -> FormData {
    FormData(vec![
        ("name".into(), k.name.clone()),
        ("description".into(), k.description.clone()),
        ("position".into(), k.position.to_string()),
    ])
}

/// `GET /itsm/catalog/categories/{id}`.
pub async fn category_edit(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    if let Err(r) = manage(&c) {
        return r;
    }
    let k = match c.ctx.can::<caps::ItsmRead>() {
        Ok(by) => st.app.get_category(by, &id).await,
        Err(e) => Err(e),
    };
    match k {
        Ok(k) => category_page(&st, &c, &k, &category_form(&k), &Errors::new()).await.into_response(),
        Err(e) => deny(&c, e),
    }
}

/// `POST /itsm/catalog/categories/{id}`.
pub async fn category_update(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    f: FormData,
) -> Response {
    let by = match manage(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let (position, unreadable) = form_number(&f, "position");
    let patch = CategoryPatch {
        name: Some(f.get("name").into()),
        description: Some(f.get("description").into()),
        position: Some(position.unwrap_or(0)),
    };
    let result = st.app.patch_category(by, &id, patch).await.map(|_| ());
    match result {
        Ok(()) => see_other("/itsm/catalog?done=category_saved"),
        Err(AppError::Validation(v)) => {
            let k = match c.ctx.can::<caps::ItsmRead>() {
                Ok(r) => st.app.get_category(r, &id).await,
                Err(e) => Err(e),
            };
            let mut errors = v.fields;
            number_message(&mut errors, "position", unreadable, "must be a whole number");
            match k {
                Ok(k) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, category_page(&st, &c, &k, &f, &errors).await).into_response()
                }
                Err(e) => deny(&c, e),
            }
        }
        Err(e) => deny(&c, e),
    }
}

/// `POST /itsm/catalog/categories/{id}/move` (`direction` up or down):
/// swap with the neighbour and renumber the order in steps of 10.
pub async fn category_move(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>, f: FormData) -> Response {
    let by = match manage(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let read = match c.ctx.can::<caps::ItsmRead>() {
        Ok(r) => r,
        Err(e) => return deny(&c, e),
    };
    let mut cats = match st.app.list_categories(read).await {
        Ok(p) => p.items,
        Err(e) => return deny(&c, e),
    };
    let Some(at) = cats.iter().position(|k| k.id.as_str() == id) else { return not_found() };
    let to = match f.get("direction") {
        "up" if at > 0 => at - 1,
        "down" if at + 1 < cats.len() => at + 1,
        _ => return see_other(HOME),
    };
    cats.swap(at, to);
    for (n, k) in cats.iter().enumerate() {
        let position = (n as i64 + 1) * 10;
        if k.position != position {
            let patch = CategoryPatch { position: Some(position), ..CategoryPatch::default() };
            if let Err(e) = st.app.patch_category(by, k.id.as_str(), patch).await {
                return deny(&c, e);
            }
        }
    }
    see_other("/itsm/catalog?done=category_moved")
}

/// `POST /itsm/catalog/categories/{id}/delete`.
pub async fn category_delete(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    let r = match manage(&c) {
        Ok(by) => st.app.delete_category(by, &id).await,
        Err(r) => return r,
    };
    match r {
        Ok(()) => see_other("/itsm/catalog?done=category_deleted"),
        Err(e) => deny(&c, e),
    }
}

/// `POST /itsm/catalog/{id}/publish` (`published` true or false).
pub async fn item_publish(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>, f: FormData) -> Response {
    let by = match manage(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let published = f.get("published") == "true";
    match st
        .app
        .patch_catalog_item(by, &id, CatalogItemPatch { published: Some(published), ..Default::default() })
        .await
    {
        Ok(_) => see_other(if published { "/itsm/catalog?done=published" } else { "/itsm/catalog?done=unpublished" }),
        Err(AppError::Validation(_)) => {
            let view = OverviewView {
                status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                error: Some("The item could not be changed: open it and save it once to fix its settings.".into()),
                ..OverviewView::default()
            };
            render_overview(&st, &c, view).await
        }
        Err(e) => deny(&c, e),
    }
}

/// `POST /itsm/catalog/{id}/delete`.
pub async fn item_delete(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    let r = match manage(&c) {
        Ok(by) => st.app.delete_catalog_item(by, &id).await,
        Err(r) => return r,
    };
    match r {
        Ok(()) => see_other("/itsm/catalog?done=deleted"),
        Err(e) => deny(&c, e),
    }
}

// ---- The item editor and its form builder ----------------------------------

/// The editor's state: the item's settings, its questions and the "Add a
/// question" inputs, as posted (or loaded from the item).
#[derive(Debug, Clone, Default)]
struct Draft {
    name: String,
    description: String,
    category_id: String,
    icon: String,
    target: String,
    workflow: String,
    roles: Vec<String>,
    published: bool,
    fields: Vec<FormFieldInput>,
    new_field: FormFieldInput,
}

fn options_text(o: &[String]) -> String {
    o.join("\n")
}

fn options_of(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

impl Draft {
    fn from_item(i: &CatalogItem) -> Self {
        Self {
            name: i.name.clone(),
            description: i.description.clone(),
            category_id: i.category_id.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            icon: i.icon.clone(),
            target: i.fulfillment_target_hours.map(|h| h.to_string()).unwrap_or_default(),
            workflow: i.workflow_definition_id.as_ref().map(|w| w.to_string()).unwrap_or_default(),
            roles: i.visible_to_roles.clone(),
            published: i.published,
            fields: i.fields.iter().map(FormFieldInput::from).collect(),
            new_field: FormFieldInput { kind: "text".into(), ..FormFieldInput::default() },
        }
    }

    fn from_form(f: &FormData) -> Self {
        let count = f.get("field_count").parse::<usize>().unwrap_or(0).min(MAX_FIELDS + 1);
        let field_at = |p: &str| FormFieldInput {
            key: f.get(&format!("{p}key")).trim().to_owned(),
            label: f.get(&format!("{p}label")).to_owned(),
            kind: f.get(&format!("{p}type")).to_owned(),
            required: f.has(&format!("{p}required")),
            options: options_of(f.get(&format!("{p}options"))),
            help: Some(f.get(&format!("{p}help")).to_owned()),
        };
        Self {
            name: f.get("name").to_owned(),
            description: f.get("description").to_owned(),
            category_id: f.get("category_id").to_owned(),
            icon: f.get("icon").to_owned(),
            target: f.get("fulfillment_target_hours").to_owned(),
            workflow: f.get("workflow_definition_id").to_owned(),
            roles: f.all("visible_to_roles"),
            published: f.has("published"),
            fields: (0..count).map(|i| field_at(&format!("f{i}_"))).collect(),
            new_field: field_at("new_"),
        }
    }

    fn new_field_started(&self) -> bool {
        !self.new_field.label.trim().is_empty() || !self.new_field.key.trim().is_empty()
    }
}

/// A key from a label: "Cost centre" → `cost_centre`, unique in `taken`.
fn key_from_label(label: &str, taken: &[FormFieldInput]) -> String {
    let mut k = String::new();
    for ch in label.trim().chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            k.push(ch);
        } else if !k.ends_with('_') && !k.is_empty() {
            k.push('_');
        }
    }
    let mut k = k.trim_end_matches('_').to_owned();
    if !k.starts_with(|c: char| c.is_ascii_lowercase()) {
        k = format!("q_{k}").trim_end_matches('_').to_owned();
    }
    k.truncate(34);
    let k = k.trim_end_matches('_').to_owned();
    let mut candidate = k.clone();
    let mut n = 2;
    while taken.iter().any(|f| f.key.trim() == candidate) {
        candidate = format!("{k}_{n}");
        n += 1;
    }
    candidate
}

/// A builder action from the pressed button.
enum Op {
    Save,
    Add,
    Up(usize),
    Down(usize),
    Remove(usize),
}

fn op_of(f: &FormData) -> Op {
    let op = f.get("op");
    let index = |p: &str| op.strip_prefix(p).and_then(|n| n.parse::<usize>().ok());
    if op == "add" {
        Op::Add
    } else if let Some(i) = index("up:") {
        Op::Up(i)
    } else if let Some(i) = index("down:") {
        Op::Down(i)
    } else if let Some(i) = index("remove:") {
        Op::Remove(i)
    } else {
        Op::Save
    }
}

/// Check the "Add a question" inputs against the questions there are:
/// the new question, or its messages keyed `new_<part>`.
fn checked_new_field(d: &Draft) -> Result<FormFieldInput, Errors> {
    let mut new = d.new_field.clone();
    if new.key.trim().is_empty() && !new.label.trim().is_empty() {
        new.key = key_from_label(&new.label, &d.fields);
    }
    let mut errors = Errors::new();
    if let Err(v) = tier0_domain::itsm::form::parse_form(std::slice::from_ref(&new)) {
        for (k, msg) in v.fields {
            let part = k.rsplit('.').next().unwrap_or("label");
            errors.insert(format!("new_{part}"), msg);
        }
    }
    if d.fields.iter().any(|f| f.key.trim() == new.key.trim()) {
        errors.insert("new_key".into(), "is used by another question".into());
    }
    if d.fields.len() >= MAX_FIELDS {
        errors.insert("new_label".into(), format!("cannot be added: a form has at most {MAX_FIELDS} questions"));
    }
    if errors.is_empty() { Ok(new) } else { Err(errors) }
}

/// The questions as the preview shows them (whatever is not valid yet is
/// shown as best it can be).
fn preview_fields(d: &Draft) -> Vec<FormField> {
    d.fields
        .iter()
        .enumerate()
        .map(|(i, f)| FormField {
            key: format!("q{i}"),
            label: if f.label.trim().is_empty() { format!("Question {}", i + 1) } else { f.label.trim().to_owned() },
            kind: FieldType::from_str_opt(f.kind.trim()).unwrap_or(FieldType::Text),
            required: f.required,
            options: f.options.clone(),
            help: f.help.clone().unwrap_or_default(),
        })
        .collect()
}

/// Choices the editor offers.
struct Choices {
    categories: Vec<Category>,
    workflows: Vec<Workflow>,
    roles: Vec<String>,
}

async fn choices(st: &AppState, c: &PageCaller, by: Can<'_, caps::CatalogManage>) -> Result<Choices, AppError> {
    let read = c.ctx.can::<caps::ItsmRead>()?;
    Ok(Choices {
        categories: st.app.list_categories(read).await?.items,
        workflows: workflows(st, by).await?,
        roles: st.app.catalog_role_names(by).await?,
    })
}

fn type_label(t: FieldType) -> &'static str {
    match t {
        FieldType::Text => "Short text",
        FieldType::Textarea => "Long text",
        FieldType::Number => "Number",
        FieldType::Date => "Date",
        FieldType::Select => "Choice (one)",
        FieldType::Multiselect => "Choices (several)",
        FieldType::Checkbox => "Tick box",
        FieldType::Email => "E-mail address",
    }
}

/// The inputs of one question (existing: prefix `f{i}_`, errors
/// `fields[i].<part>`; new: prefix `new_`, errors `new_<part>`).
fn question_inputs(q: &FormFieldInput, prefix: &str, err: &dyn Fn(&str) -> Option<String>) -> Markup {
    let id = |part: &str| format!("b-{prefix}{part}");
    let one = |part: &str, label: &str, value: &str, hint: Option<&str>, max: usize, required: bool| {
        let e = err(part);
        let input_id = id(part);
        let eid = format!("{input_id}-error");
        let hid = format!("{input_id}-hint");
        let describedby = match (e.is_some(), hint.is_some()) {
            (true, true) => Some(format!("{eid} {hid}")),
            (true, false) => Some(eid.clone()),
            (false, true) => Some(hid.clone()),
            _ => None,
        };
        html! {
            div class={ "field" @if e.is_some() { " invalid" } } {
                label for=(input_id) { (label_text(label, required)) }
                @if let Some(h) = hint { span class="hint" id=(hid) { (h) } }
                input id=(input_id) type="text" name={ (prefix) (part) } value=(value) maxlength=(max)
                    aria-invalid=[e.as_ref().map(|_| "true")] aria-describedby=[describedby];
                @if let Some(e) = &e { div class="field-error" id=(eid) role="alert" { (label) " " (e) } }
            }
        }
    };
    let kind = FieldType::from_str_opt(q.kind.trim());
    let terr = err("type");
    let oerr = err("options");
    let oid = id("options");
    html! {
        div class="builder-grid" {
            (one("label", "Question", &q.label, None, 100, true))
            (one("key", "Key", &q.key, Some("A short name for reports: lowercase letters, digits and _. Leave empty to make one from the question."), 40, false))
            div class={ "field" @if terr.is_some() { " invalid" } } {
                label for=(id("type")) { "Answer type" }
                select id=(id("type")) name={ (prefix) "type" } aria-invalid=[terr.as_ref().map(|_| "true")] {
                    @for t in FieldType::ALL { option value=(t.as_str()) selected[kind == Some(t)] { (type_label(t)) } }
                }
                @if let Some(e) = &terr { div class="field-error" role="alert" { "Answer type " (e) } }
            }
            div class="field check" {
                input type="checkbox" id=(id("required")) name={ (prefix) "required" } value="on" checked[q.required];
                label for=(id("required")) { "An answer is required" }
            }
            div class={ "field wide" @if oerr.is_some() { " invalid" } } {
                label for=(oid) { "Choices " span class="optional" { "(for choice answers)" } }
                span class="hint" id={ (oid) "-hint" } { "One choice per line." }
                textarea id=(oid) name={ (prefix) "options" } rows="3" aria-invalid=[oerr.as_ref().map(|_| "true")]
                    aria-describedby={ (oid) "-hint" @if oerr.is_some() { " " (oid) "-error" } } { (options_text(&q.options)) }
                @if let Some(e) = &oerr { div class="field-error" id={ (oid) "-error" } role="alert" { "Choices " (e) } }
            }
            div class="wide" { (one("help", "Help text", q.help.as_deref().unwrap_or(""), Some("Shown under the question. Optional."), 500, false)) }
        }
    }
}

struct EditorView {
    status: StatusCode,
    done: Option<String>,
    message: Option<(&'static str, String)>,
    errors: Errors,
}

fn editor_body(action: &str, heading: &str, d: &Draft, ch: &Choices, v: &EditorView) -> Markup {
    let errors = &v.errors;
    let mut cat_opts: Vec<(&str, &str)> = vec![("", "No category")];
    cat_opts.extend(ch.categories.iter().map(|k| (k.id.as_str(), k.name.as_str())));
    let mut flow_opts: Vec<(&str, &str)> = vec![("", "No approval needed")];
    flow_opts.extend(ch.workflows.iter().map(|w| (w.id.as_str(), w.name.as_str())));
    let roles: Vec<(String, String)> = ch.roles.iter().map(|r| (r.clone(), r.clone())).collect();
    let f = FormData(vec![
        ("name".into(), d.name.clone()),
        ("description".into(), d.description.clone()),
        ("fulfillment_target_hours".into(), d.target.clone()),
    ]);
    let n = d.fields.len();
    let new_err = |part: &str| errors.get(&format!("new_{part}")).cloned();
    let preview = preview_fields(d);
    let target = d.target.trim().parse::<i64>().ok().filter(|h| *h > 0);
    let builder = |anchor: &str| format!("{action}#{anchor}");
    html! {
        p { a href=(HOME) { "← Back to the catalog" } }
        h1 { (heading) }
        @if let Some(m) = done_message(DONE, v.done.as_deref()) { (notice("ok", m)) }
        @if let Some((kind, m)) = &v.message { (notice(kind, m)) }
        @else if !errors.is_empty() { (notice("error", "Nothing was saved: please correct the fields marked below.")) }
        form id="item-form" class="item-editor" method="post" action=(action) novalidate {
            div class="row toolbar" {
                button class="btn" type="submit" name="op" value="save" { "Save item" }
                a href=(HOME) { "Cancel" }
            }
            fieldset {
                legend { "About the item" }
                (field("Name", "name", "text", f.get("name"), errors.get("name"), FieldOpts::required().max(100).hint("What people ask for, in their words: \"New laptop\", \"Access to the finance app\".")))
                (field("Description", "description", "textarea", f.get("description"), errors.get("description"), FieldOpts::default().max(2000).hint("Plain words: what people get, and when to choose this.")))
                (select_field("Category", "category_id", &cat_opts, &d.category_id, errors.get("category_id"), None))
                fieldset class={ "field icons" @if errors.contains_key("icon") { " invalid" } } {
                    legend { "Icon" }
                    ul class="plain icon-choices" {
                        @for (i, (name, label, _)) in ICONS.iter().enumerate() {
                            @let iid = format!("f-icon-{i}");
                            li class="check" {
                                input type="radio" id=(iid) name="icon" value=(name)
                                    checked[d.icon == *name || (i == 0 && !ICONS.iter().any(|(n, _, _)| *n == d.icon))];
                                label for=(iid) { span class="item-icon small" { (icon(name)) } " " (label) }
                            }
                        }
                    }
                    @if let Some(e) = errors.get("icon") { div class="field-error" role="alert" { "Icon " (e) } }
                }
                (field("Usually done within (hours)", "fulfillment_target_hours", "number", f.get("fulfillment_target_hours"), errors.get("fulfillment_target_hours"),
                    FieldOpts { inputmode: Some("numeric"), ..FieldOpts::default().hint("1 to 8760. People see it as \"Usually done within 2 days\", and it sets each request's due time.") }))
                (select_field("Approval", "workflow_definition_id", &flow_opts, &d.workflow, errors.get("workflow_definition_id"),
                    Some("With an approval workflow, requests wait for the approvers before work starts.")))
                (checkbox_group("Visible to", "visible_to_roles", &roles, &d.roles, errors.get("visible_to_roles"), Some("Leave all unticked to show the item to everyone.")))
                div class="check" {
                    input type="checkbox" id="f-published" name="published" value="true" checked[d.published];
                    label for="f-published" { "Published: people can see and request it" }
                }
            }
            section id="form-builder" class="builder" aria-labelledby="h-builder" {
                h2 id="h-builder" { "Request form" }
                p class="meta" { "The questions people answer when they request this item, besides a short summary. Adding, moving and removing questions is kept on this page: press Save item to store it." }
                @if let Some(e) = errors.get("fields") { div class="field-error" role="alert" { "Questions: " (e) } }
                input type="hidden" name="field_count" value=(n);
                @if d.fields.is_empty() {
                    p { "No questions yet." }
                } @else {
                    ol class="plain builder-list" {
                        @for (i, q) in d.fields.iter().enumerate() {
                            li id={ "field-" (i) } {
                                fieldset class="builder-field" {
                                    legend { "Question " (i + 1) @if !q.label.trim().is_empty() { ": " (q.label.trim()) } }
                                    (question_inputs(q, &format!("f{i}_"), &|part: &str| errors.get(&format!("fields[{i}].{part}")).cloned()))
                                    div class="row builder-actions" {
                                        @if i > 0 {
                                            button class="btn secondary small" type="submit" name="op" value={ "up:" (i) } formaction=(builder(&format!("field-{}", i - 1))) {
                                                "Move up" span class="visually-hidden" { " question " (i + 1) }
                                            }
                                        }
                                        @if i + 1 < n {
                                            button class="btn secondary small" type="submit" name="op" value={ "down:" (i) } formaction=(builder(&format!("field-{}", i + 1))) {
                                                "Move down" span class="visually-hidden" { " question " (i + 1) }
                                            }
                                        }
                                        button class="btn secondary small" type="submit" name="op" value={ "remove:" (i) } formaction=(builder("form-builder")) {
                                            "Remove" span class="visually-hidden" { " question " (i + 1) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                fieldset id="new-field" class="builder-field new" {
                    legend { "Add a question" }
                    (question_inputs(&d.new_field, "new_", &new_err))
                    button class="btn secondary" type="submit" name="op" value="add" formaction=(builder("new-field")) { "Add question" }
                }
            }
            div class="row toolbar" {
                button class="btn" type="submit" name="op" value="save" { "Save item" }
                a href=(HOME) { "Cancel" }
            }
        }
        section class="preview" aria-labelledby="h-preview" {
            h2 id="h-preview" { "Preview" }
            p class="meta" { "The request form as people will see it in the portal." }
            div class="card preview-card" {
                fieldset disabled {
                    legend { span class="item-icon small" { (icon(&d.icon)) } " " @if d.name.trim().is_empty() { "(no name yet)" } @else { (d.name.trim()) } }
                    @if !d.description.trim().is_empty() { p { (d.description.trim()) } }
                    @if let Some(h) = target { p class="meta" { "Usually done within " (friendly_hours(h)) } }
                    @if !d.workflow.is_empty() { p { span class="pill pending_approval" { "Needs approval" } } }
                    div class="field" {
                        label for="pv-title" { (label_text("Summary", true)) }
                        input id="pv-title" type="text" value=(d.name.trim());
                    }
                    (item_fields(&preview, &FormData::default(), &Errors::new(), "pv-"))
                    button class="btn" type="button" { "Submit request" }
                }
            }
        }
    }
}

/// The target hours of a draft: `(value, unreadable)` as [`form_number`].
fn target_of(d: &Draft) -> (Option<i64>, bool) {
    form_number(&FormData(vec![("t".into(), d.target.clone())]), "t")
}

/// Messages about the question being added (index `n`) go next to the
/// "Add a question" inputs.
fn place_errors(mut errors: Errors, n: usize) -> Errors {
    let prefix = format!("fields[{n}].");
    let moved: Vec<(String, String)> =
        errors.iter().filter_map(|(k, v)| k.strip_prefix(&prefix).map(|p| (format!("new_{p}"), v.clone()))).collect();
    errors.retain(|k, _| !k.starts_with(&prefix));
    errors.extend(moved);
    errors
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Store a draft: create (no `id`) or update. The saved item's id, or the
/// page again.
async fn save(
    st: &AppState,
    by: Can<'_, caps::CatalogManage>,
    id: Option<&str>,
    d: &Draft,
) -> Result<String, Result<Errors, AppError>> {
    let new = if d.new_field_started() {
        let mut q = d.new_field.clone();
        if q.key.trim().is_empty() {
            q.key = key_from_label(&q.label, &d.fields);
        }
        Some(q)
    } else {
        None
    };
    let n = d.fields.len();
    let (target, unreadable) = target_of(d);
    let mut fields = d.fields.clone();
    fields.extend(new);
    let result = match id {
        None => st
            .app
            .create_catalog_item(
                by,
                CatalogItemInput {
                    name: d.name.clone(),
                    description: non_empty(&d.description),
                    category_id: non_empty(&d.category_id),
                    icon: non_empty(&d.icon),
                    fields,
                    fulfillment_target_hours: target,
                    workflow_definition_id: non_empty(&d.workflow),
                    visible_to_roles: d.roles.clone(),
                    published: Some(d.published),
                },
            )
            .await
            .map(|i| i.id.to_string()),
        Some(id) => st
            .app
            .patch_catalog_item(
                by,
                id,
                CatalogItemPatch {
                    name: Some(d.name.clone()),
                    description: Some(d.description.clone()),
                    category_id: Some(non_empty(&d.category_id)),
                    icon: non_empty(&d.icon),
                    fields: Some(fields),
                    fulfillment_target_hours: Some(target),
                    workflow_definition_id: Some(non_empty(&d.workflow)),
                    visible_to_roles: Some(d.roles.clone()),
                    published: Some(d.published),
                },
            )
            .await
            .map(|i| i.id.to_string()),
    };
    result.map_err(|e| match e {
        AppError::Validation(v) => {
            let mut errors = place_errors(v.fields, n);
            number_message(&mut errors, "fulfillment_target_hours", unreadable, "must be a whole number of hours");
            Ok(errors)
        }
        other => Err(other),
    })
}

/// Handle a posted editor: a builder action (shown again, not stored) or
/// Save.
async fn post_editor(st: &AppState, c: &PageCaller, id: Option<&str>, f: FormData) -> Response {
    let by = match manage(c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    if let Some(id) = id {
        let exists = match c.ctx.can::<caps::ItsmRead>() {
            Ok(r) => st.app.get_catalog_item(r, id).await,
            Err(e) => Err(e),
        };
        if let Err(e) = exists {
            return deny(c, e);
        }
    }
    let mut d = Draft::from_form(&f);
    let unsaved = "Not saved yet: press Save item to store the request form.".to_owned();
    let mut v =
        EditorView { status: StatusCode::OK, done: None, message: Some(("info", unsaved)), errors: Errors::new() };
    match op_of(&f) {
        Op::Save => match save(st, by, id, &d).await {
            Ok(saved) => {
                let done = if id.is_some() { "saved" } else { "created" };
                return see_other(&format!("/itsm/catalog/{saved}/edit?done={done}"));
            }
            Err(Ok(errors)) => {
                v.status = StatusCode::UNPROCESSABLE_ENTITY;
                v.message = None;
                v.errors = errors;
            }
            Err(Err(e)) => return deny(c, e),
        },
        Op::Add => match checked_new_field(&d) {
            Ok(q) => {
                d.fields.push(q);
                d.new_field = FormFieldInput { kind: "text".into(), ..FormFieldInput::default() };
            }
            Err(errors) => {
                v.status = StatusCode::UNPROCESSABLE_ENTITY;
                v.message = Some(("error", "The question was not added: please correct it below.".into()));
                v.errors = errors;
            }
        },
        Op::Up(i) if i > 0 && i < d.fields.len() => d.fields.swap(i, i - 1),
        Op::Down(i) if i + 1 < d.fields.len() => d.fields.swap(i, i + 1),
        Op::Remove(i) if i < d.fields.len() => {
            d.fields.remove(i);
        }
        Op::Up(_) | Op::Down(_) | Op::Remove(_) => {}
    }
    render_editor(st, c, by, id, &d, v).await
}

async fn render_editor(
    st: &AppState,
    c: &PageCaller,
    by: Can<'_, caps::CatalogManage>,
    id: Option<&str>,
    d: &Draft,
    v: EditorView,
) -> Response {
    let ch = match choices(st, c, by).await {
        Ok(ch) => ch,
        Err(e) => return deny(c, e),
    };
    let (action, heading) = match id {
        Some(id) => (
            format!("/itsm/catalog/{id}/edit"),
            format!("Edit {}", if d.name.trim().is_empty() { "item" } else { d.name.trim() }),
        ),
        None => ("/itsm/catalog/new".to_owned(), "New catalog item".to_owned()),
    };
    let body = editor_body(&action, &heading, d, &ch, &v);
    let title = if id.is_some() { "Edit catalog item" } else { "New catalog item" };
    (v.status, shell(st, c, title, HOME, body).await).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: Option<String>,
}

/// `GET /itsm/catalog/new`.
pub async fn item_new(State(st): State<AppState>, c: PageCaller) -> Response {
    let by = match manage(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let d = Draft {
        icon: "package".into(),
        new_field: FormFieldInput { kind: "text".into(), ..Default::default() },
        ..Draft::default()
    };
    let v = EditorView { status: StatusCode::OK, done: None, message: None, errors: Errors::new() };
    render_editor(&st, &c, by, None, &d, v).await
}

/// `POST /itsm/catalog/new`.
pub async fn item_new_post(State(st): State<AppState>, c: PageCaller, f: FormData) -> Response {
    post_editor(&st, &c, None, f).await
}

/// `GET /itsm/catalog/{id}/edit`.
pub async fn item_edit(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let by = match manage(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let item = match c.ctx.can::<caps::ItsmRead>() {
        Ok(r) => st.app.get_catalog_item(r, &id).await,
        Err(e) => Err(e),
    };
    let item = match item {
        Ok(i) => i,
        Err(e) => return deny(&c, e),
    };
    let v = EditorView { status: StatusCode::OK, done: q.done, message: None, errors: Errors::new() };
    render_editor(&st, &c, by, Some(item.id.as_str()), &Draft::from_item(&item), v).await
}

/// `POST /itsm/catalog/{id}/edit`.
pub async fn item_edit_post(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    f: FormData,
) -> Response {
    post_editor(&st, &c, Some(&id), f).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_labels() {
        assert_eq!(key_from_label("Cost centre", &[]), "cost_centre");
        assert_eq!(key_from_label("  Laptop (model)!", &[]), "laptop_model");
        assert_eq!(key_from_label("2nd monitor", &[]), "q_2nd_monitor");
        assert_eq!(key_from_label("Prénom", &[]), "pr_nom");
        assert_eq!(key_from_label("???", &[]), "q");
        let taken = vec![FormFieldInput { key: "reason".into(), ..Default::default() }];
        assert_eq!(key_from_label("Reason", &taken), "reason_2");
        let long = "a".repeat(80);
        assert!(key_from_label(&long, &[]).len() <= 40);
    }

    #[test]
    fn new_question_errors_move_next_to_the_add_inputs() {
        let e = Errors::from([("fields[2].key".into(), "bad".into()), ("name".into(), "is required".into())]);
        let placed = place_errors(e, 2);
        assert_eq!(placed.get("new_key").map(String::as_str), Some("bad"));
        assert!(placed.contains_key("name") && !placed.contains_key("fields[2].key"));
    }
}
