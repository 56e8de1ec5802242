//! Approval workflows (`catalog:manage`): the list (`/itsm/workflows`)
//! and the editor (`/itsm/workflows/new`, `/itsm/workflows/{id}`) of a
//! workflow's stages: approvers by person (e-mail addresses) and by role,
//! and whether anyone or everyone of them must approve. Like the form
//! builder, adding, moving and removing stages posts the whole editor and
//! shows it again; "Save workflow" stores it.

use super::forms::{FormData, see_other};
use super::layout::{Chrome, Tab, page_at};
use super::request_parts::{Errors, deny, pager, url_with};
use super::{FieldOpts, PageCaller, done_message, field, notice};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;
use tier0_app::itsm::workflows::{WorkflowInput, WorkflowPatch, WorkflowQuery};
use tier0_app::{AppError, Can, caps};
use tier0_domain::itsm::records::{Workflow, WorkflowStage};
use tier0_domain::itsm::workflow::{ApproversInput, MAX_STAGES, StageInput};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/itsm/workflows", get(list))
        .route("/itsm/workflows/new", get(new_form).post(new_post))
        .route("/itsm/workflows/{id}", get(edit_form).post(edit_post))
}

const HOME: &str = "/itsm/workflows";

const DONE: &[(&str, &str)] = &[
    ("created", "The workflow was created. Choose it under \"Approval\" on a catalog item to use it."),
    ("saved", "The workflow was saved. Requests already waiting keep the steps they started with."),
];

fn manage<'a>(c: &'a PageCaller) -> Result<Can<'a, caps::CatalogManage>, Response> {
    c.ctx.can::<caps::CatalogManage>().map_err(|e| deny(c, e))
}

async fn shell(st: &AppState, c: &PageCaller, title: &str, body: Markup) -> Markup {
    let chrome = Chrome::for_ctx(st, &c.ctx).await;
    page_at(&chrome, title, Tab::Itsm, HOME, body)
}

/// E-mail addresses of the people named on `flows`, by user id.
async fn people(
    st: &AppState,
    by: Can<'_, caps::CatalogManage>,
    flows: &[&Workflow],
) -> Result<HashMap<String, String>, AppError> {
    let ids: Vec<String> = flows.iter().flat_map(|w| w.stages.iter().flat_map(|s| s.approvers.users.clone())).collect();
    Ok(st.app.workflow_people(by, &ids).await?.into_iter().map(|u| (u.id.to_string(), u.email.to_string())).collect())
}

/// "ann@example.com, role operator".
fn stage_who(s: &WorkflowStage, emails: &HashMap<String, String>) -> String {
    let mut who: Vec<String> =
        s.approvers.users.iter().map(|u| emails.get(u).cloned().unwrap_or_else(|| "a former user".into())).collect();
    who.extend(s.approvers.roles.iter().map(|r| format!("role {r}")));
    who.join(", ")
}

fn rule_text(all: bool) -> &'static str {
    if all { "everyone must approve" } else { "one approval is enough" }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub done: Option<String>,
}

/// `GET /itsm/workflows`.
pub async fn list(State(st): State<AppState>, c: PageCaller, Query(p): Query<ListParams>) -> Response {
    let by = match manage(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let q = |cursor| WorkflowQuery { limit: Some(50), cursor };
    let page = match st.app.list_workflows(by, q(p.cursor.clone())).await {
        Err(AppError::Validation(_)) => st.app.list_workflows(by, q(None)).await,
        other => other,
    };
    let page = match page {
        Ok(p) => p,
        Err(e) => return deny(&c, e),
    };
    let refs: Vec<&Workflow> = page.items.iter().collect();
    let emails = match people(&st, by, &refs).await {
        Ok(m) => m,
        Err(e) => return deny(&c, e),
    };
    let next = page.next_cursor.as_deref().map(|n| url_with(HOME, &[("cursor", n)]));
    let body = html! {
        div class="row" { h1 { "Approval workflows" } span class="spacer" {} a class="btn" href="/itsm/workflows/new" { "New workflow" } }
        p class="lead" { "Who approves requests for catalog items that need approval, step by step." }
        @if let Some(m) = done_message(DONE, p.done.as_deref()) { (notice("ok", m)) }
        @if page.items.is_empty() {
            p class="card empty" { "No workflows yet. A workflow could be \"Manager approval\" with one step, or a manager and then the finance team." }
        } @else {
            div class="table-wrap" {
                table {
                    caption class="visually-hidden" { "Approval workflows" }
                    thead { tr { th scope="col" { "Workflow" } th scope="col" { "Steps" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                    tbody {
                        @for w in &page.items {
                            tr {
                                th scope="row" { (w.name) }
                                td {
                                    ol class="stages" {
                                        @for s in &w.stages {
                                            li {
                                                (stage_who(s, &emails)) span class="meta" { " — " (rule_text(s.rule.as_str() == "all")) }
                                            }
                                        }
                                    }
                                }
                                td { a href={ "/itsm/workflows/" (w.id) } { "Edit" span class="visually-hidden" { " " (w.name) } } }
                            }
                        }
                    }
                }
            }
        }
        (pager(HOME, next, p.cursor.is_some()))
    };
    shell(&st, &c, "Approval workflows", body).await.into_response()
}

/// The editor's state.
#[derive(Debug, Clone, Default)]
struct Draft {
    name: String,
    /// (e-mail addresses one per line, role names, rule)
    stages: Vec<(String, Vec<String>, String)>,
}

impl Draft {
    fn from_form(f: &FormData) -> Self {
        let n = f.get("stage_count").parse::<usize>().unwrap_or(0).min(MAX_STAGES + 1);
        Self {
            name: f.get("name").to_owned(),
            stages: (0..n)
                .map(|i| {
                    (
                        f.get(&format!("s{i}_users")).to_owned(),
                        f.all(&format!("s{i}_roles")),
                        f.get(&format!("s{i}_rule")).to_owned(),
                    )
                })
                .collect(),
        }
    }

    fn from_workflow(w: &Workflow, emails: &HashMap<String, String>) -> Self {
        Self {
            name: w.name.clone(),
            stages: w
                .stages
                .iter()
                .map(|s| {
                    let users: Vec<String> =
                        s.approvers.users.iter().map(|u| emails.get(u).cloned().unwrap_or_else(|| u.clone())).collect();
                    (users.join("\n"), s.approvers.roles.clone(), s.rule.as_str().to_owned())
                })
                .collect(),
        }
    }

    fn stage_inputs(&self) -> Vec<StageInput> {
        self.stages
            .iter()
            .map(|(users, roles, rule)| StageInput {
                approvers: ApproversInput {
                    users: users
                        .split(['\n', ',', ';'])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    roles: roles.clone(),
                },
                rule: Some(if rule.is_empty() { "any".to_owned() } else { rule.clone() }),
            })
            .collect()
    }
}

fn editor(
    action: &str,
    heading: &str,
    d: &Draft,
    roles: &[String],
    errors: &Errors,
    message: Option<(&str, &str)>,
) -> Markup {
    let n = d.stages.len();
    let at = |anchor: String| format!("{action}#{anchor}");
    html! {
        p { a href=(HOME) { "← Back to workflows" } }
        h1 { (heading) }
        @if let Some((kind, m)) = message { (notice(kind, m)) }
        @else if !errors.is_empty() { (notice("error", "Nothing was saved: please correct the fields marked below.")) }
        form class="stack workflow-editor" method="post" action=(action) novalidate {
            div class="row toolbar" {
                button class="btn" type="submit" name="op" value="save" { "Save workflow" }
                a href=(HOME) { "Cancel" }
            }
            (field("Name", "name", "text", &d.name, errors.get("name"), FieldOpts::required().max(100).hint("For example \"Manager approval\".")))
            input type="hidden" name="stage_count" value=(n);
            @if let Some(e) = errors.get("stages") { div class="field-error" role="alert" { "Steps " (e) } }
            ol class="plain stages-editor" {
                @for (i, (users, chosen, rule)) in d.stages.iter().enumerate() {
                    @let aerr = errors.get(&format!("stages[{i}].approvers"));
                    @let rerr = errors.get(&format!("stages[{i}].rule"));
                    @let uid = format!("f-s{i}-users");
                    li id={ "stage-" (i) } {
                        fieldset class={ "builder-field" @if aerr.is_some() { " invalid" } } aria-describedby=[aerr.map(|_| format!("stage-{i}-error"))] {
                            legend { "Step " (i + 1) }
                            @if let Some(e) = aerr { div class="field-error" id={ "stage-" (i) "-error" } role="alert" { "Approvers: " (e) } }
                            div class="field" {
                                label for=(uid) { "People " span class="optional" { "(e-mail addresses, one per line)" } }
                                textarea id=(uid) name={ "s" (i) "_users" } rows="3" { (users) }
                            }
                            fieldset class="field choices" {
                                legend { "Roles " span class="optional" { "(everyone active in the role is asked)" } }
                                @for (k, r) in roles.iter().enumerate() {
                                    @let rid = format!("f-s{i}-role-{k}");
                                    div class="check" {
                                        input type="checkbox" id=(rid) name={ "s" (i) "_roles" } value=(r) checked[chosen.contains(r)];
                                        label for=(rid) { (r) }
                                    }
                                }
                            }
                            fieldset class={ "field choices" @if rerr.is_some() { " invalid" } } {
                                legend { "Who must approve" }
                                @for (value, text) in [("any", "Any one of them (the first approval is enough)"), ("all", "All of them")] {
                                    @let rid = format!("f-s{i}-rule-{value}");
                                    div class="check" {
                                        input type="radio" id=(rid) name={ "s" (i) "_rule" } value=(value)
                                            checked[rule == value || (value == "any" && rule != "all")];
                                        label for=(rid) { (text) }
                                    }
                                }
                                @if let Some(e) = rerr { div class="field-error" role="alert" { "Rule " (e) } }
                            }
                            div class="row builder-actions" {
                                @if i > 0 {
                                    button class="btn secondary small" type="submit" name="op" value={ "up:" (i) } formaction=(at(format!("stage-{}", i - 1))) {
                                        "Move up" span class="visually-hidden" { " step " (i + 1) }
                                    }
                                }
                                @if i + 1 < n {
                                    button class="btn secondary small" type="submit" name="op" value={ "down:" (i) } formaction=(at(format!("stage-{}", i + 1))) {
                                        "Move down" span class="visually-hidden" { " step " (i + 1) }
                                    }
                                }
                                button class="btn secondary small" type="submit" name="op" value={ "remove:" (i) } formaction=(at("stages".into())) {
                                    "Remove" span class="visually-hidden" { " step " (i + 1) }
                                }
                            }
                        }
                    }
                }
            }
            p id="stages" {
                @if n < MAX_STAGES {
                    button class="btn secondary" type="submit" name="op" value="add" formaction=(at(format!("stage-{n}"))) { "Add a step" }
                }
            }
            p class="meta" { "Steps run one after another; a request opens when the last step approves it. Any rejection rejects the request. Nobody approves their own request." }
            div class="row toolbar" {
                button class="btn" type="submit" name="op" value="save" { "Save workflow" }
                a href=(HOME) { "Cancel" }
            }
        }
    }
}

async fn render(
    st: &AppState,
    c: &PageCaller,
    by: Can<'_, caps::CatalogManage>,
    id: Option<&str>,
    d: &Draft,
    status: StatusCode,
    errors: &Errors,
    message: Option<(&str, &str)>,
) -> Response {
    let roles = match st.app.catalog_role_names(by).await {
        Ok(r) => r,
        Err(e) => return deny(c, e),
    };
    let (action, heading) = match id {
        Some(id) => (
            format!("/itsm/workflows/{id}"),
            format!("Edit {}", if d.name.trim().is_empty() { "workflow" } else { d.name.trim() }),
        ),
        None => ("/itsm/workflows/new".to_owned(), "New approval workflow".to_owned()),
    };
    let body = editor(&action, &heading, d, &roles, errors, message);
    (status, shell(st, c, &heading, body).await).into_response()
}

/// `GET /itsm/workflows/new`.
pub async fn new_form(State(st): State<AppState>, c: PageCaller) -> Response {
    let by = match manage(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let d = Draft { name: String::new(), stages: vec![(String::new(), Vec::new(), "any".into())] };
    render(&st, &c, by, None, &d, StatusCode::OK, &Errors::new(), None).await
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: Option<String>,
}

/// `GET /itsm/workflows/{id}`.
pub async fn edit_form(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let by = match manage(&c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    let w = match st.app.get_workflow(by, &id).await {
        Ok(w) => w,
        Err(e) => return deny(&c, e),
    };
    let emails = match people(&st, by, &[&w]).await {
        Ok(m) => m,
        Err(e) => return deny(&c, e),
    };
    let message = done_message(DONE, q.done.as_deref()).map(|m| ("ok", m));
    render(&st, &c, by, Some(&id), &Draft::from_workflow(&w, &emails), StatusCode::OK, &Errors::new(), message).await
}

async fn post(st: &AppState, c: &PageCaller, id: Option<&str>, f: FormData) -> Response {
    let by = match manage(c) {
        Ok(by) => by,
        Err(r) => return r,
    };
    if let Some(id) = id
        && let Err(e) = st.app.get_workflow(by, id).await
    {
        return deny(c, e);
    }
    let mut d = Draft::from_form(&f);
    let op = f.get("op");
    let index = |p: &str| op.strip_prefix(p).and_then(|n| n.parse::<usize>().ok());
    let unsaved = Some(("info", "Not saved yet: press Save workflow to store the steps."));
    if op == "add" {
        if d.stages.len() < MAX_STAGES {
            d.stages.push((String::new(), Vec::new(), "any".into()));
        }
    } else if let Some(i) = index("up:") {
        if i > 0 && i < d.stages.len() {
            d.stages.swap(i, i - 1);
        }
    } else if let Some(i) = index("down:") {
        if i + 1 < d.stages.len() {
            d.stages.swap(i, i + 1);
        }
    } else if let Some(i) = index("remove:") {
        if i < d.stages.len() {
            d.stages.remove(i);
        }
    } else {
        let result = match id {
            None => st.app.create_workflow(by, WorkflowInput { name: d.name.clone(), stages: d.stage_inputs() }).await,
            Some(id) => {
                st.app
                    .patch_workflow(
                        by,
                        id,
                        WorkflowPatch { name: Some(d.name.clone()), stages: Some(d.stage_inputs()) },
                    )
                    .await
            }
        };
        return match result {
            Ok(w) => {
                see_other(&format!("/itsm/workflows/{}?done={}", w.id, if id.is_some() { "saved" } else { "created" }))
            }
            Err(AppError::Validation(v)) => {
                render(st, c, by, id, &d, StatusCode::UNPROCESSABLE_ENTITY, &v.fields, None).await
            }
            Err(e) => deny(c, e),
        };
    }
    render(st, c, by, id, &d, StatusCode::OK, &Errors::new(), unsaved).await
}

/// `POST /itsm/workflows/new`.
pub async fn new_post(State(st): State<AppState>, c: PageCaller, f: FormData) -> Response {
    post(&st, &c, None, f).await
}

/// `POST /itsm/workflows/{id}`.
pub async fn edit_post(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>, f: FormData) -> Response {
    post(&st, &c, Some(&id), f).await
}
