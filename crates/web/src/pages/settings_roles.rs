//! Settings → Roles & permissions (`/settings/roles`): every role with its
//! permissions as one checkbox matrix (a column per role, each column its
//! own form through the `form` attribute, the admin column read-only),
//! custom roles (create, delete) and a "Can I?" check for the signed-in
//! user.

use super::settings::{error_notice, require, settings_page, with_done};
use super::{FieldOpts, PageCaller, field, notice};
use crate::AppState;
use crate::error::ApiError;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use tier0_app::auth::roles::{NewRoleInput, RolePermissions};
use tier0_app::{AppError, Can, caps};
use tier0_domain::Permission;
use tier0_domain::perm::KNOWN_PERMISSIONS;

const HOME: &str = "/settings/roles";

const DONE: &[(&str, &str)] = &[
    ("saved", "The role's permissions were saved. They apply from each member's next click."),
    ("created", "The role was created. Assign it in Users & access."),
    ("deleted", "The role was deleted."),
];

#[derive(Debug, Default, Deserialize)]
pub struct RolesQuery {
    /// The "Can I?" question.
    #[serde(default)]
    pub permission: Option<String>,
    #[serde(default)]
    pub done: Option<String>,
}

#[derive(Default)]
struct View {
    message: Option<Markup>,
    new_errors: BTreeMap<String, String>,
    new_name: String,
    new_description: String,
    new_perms: Vec<String>,
}

/// Every permission row of the matrix: `*` first, then the known ones.
fn rows() -> impl Iterator<Item = (&'static str, &'static str)> {
    std::iter::once((Permission::ALL, "Everything, including permissions added later"))
        .chain(KNOWN_PERMISSIONS.iter().copied())
}

async fn render(
    st: &AppState,
    c: &PageCaller,
    by: Can<'_, caps::RbacManage>,
    q: &RolesQuery,
    status: StatusCode,
    v: View,
) -> Response {
    let roles = match st.app.list_roles(by).await {
        Ok(r) => r,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let done = super::done_message(DONE, q.done.as_deref());
    let asked = q.permission.as_deref().filter(|p| !p.is_empty());
    let answer = asked.map(|p| st.app.can_i(&c.ctx, p));
    let body = html! {
        h1 { "Roles & permissions" }
        @if let Some(d) = done { (notice("ok", d)) }
        @if let Some(m) = &v.message { (m) }
        p class="lead" {
            "Tick what each role may do and save its column. The admin role always has every permission. "
            "You can only grant permissions you hold yourself."
        }
        div class="table-wrap matrix" {
            table {
                caption class="visually-hidden" { "Permissions of each role" }
                thead {
                    tr {
                        th scope="col" { "Permission" }
                        @for r in &roles {
                            th scope="col" id=(format!("role-{}", r.id)) {
                                (r.name)
                                @if r.builtin { br; span class="pill" { "built-in" } }
                            }
                        }
                    }
                }
                tbody {
                    @for (perm, meaning) in rows() {
                        tr {
                            th scope="row" { code { (perm) } br; span class="meta" { (meaning) } }
                            @for r in &roles {
                                @let id = format!("p-{}-{}", r.id, perm.replace([':', '*'], "_"));
                                td {
                                    label class="visually-hidden" for=(id) { (perm) " for " (r.name) }
                                    input type="checkbox" id=(id) name="permissions" value=(perm)
                                        form=(format!("perms-{}", r.id))
                                        checked[r.permissions.allows(perm)]
                                        disabled[r.is_immutable()];
                                }
                            }
                        }
                    }
                }
                tfoot {
                    tr {
                        th scope="row" { "Save" }
                        @for r in &roles {
                            td {
                                @if r.is_immutable() {
                                    span class="meta" { "Fixed" }
                                } @else {
                                    form id=(format!("perms-{}", r.id)) method="post" action=(format!("/settings/roles/{}/permissions", r.id)) {
                                        button class="btn small" type="submit" { "Save" span class="visually-hidden" { " " (r.name) } }
                                    }
                                    @if !r.builtin {
                                        form method="post" action=(format!("/settings/roles/{}/delete", r.id)) {
                                            button class="btn danger small" type="submit" { "Delete" span class="visually-hidden" { " role " (r.name) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        div class="cols align-start" {
            section class="card" aria-labelledby="h-new-role" {
                h2 id="h-new-role" { "New custom role" }
                form method="post" action="/settings/roles" novalidate {
                    (field("Name", "name", "text", &v.new_name, v.new_errors.get("name"),
                        FieldOpts::required().max(40).hint("2–40 lowercase letters, digits, spaces, dashes or underscores, e.g. “hr agent”.")))
                    (field("Description", "description", "text", &v.new_description, v.new_errors.get("description"), FieldOpts::default().max(200)))
                    fieldset class={ @if v.new_errors.contains_key("permissions") { "invalid" } } {
                        legend { "Permissions" }
                        @if let Some(e) = v.new_errors.get("permissions") { div class="field-error" role="alert" { "Permissions " (e) } }
                        @for (perm, meaning) in KNOWN_PERMISSIONS {
                            label class="check" for=(format!("new-{}", perm.replace(':', "_"))) {
                                input type="checkbox" id=(format!("new-{}", perm.replace(':', "_"))) name="permissions" value=(perm)
                                    checked[v.new_perms.iter().any(|p| p == perm)];
                                span { code { (perm) } " — " (meaning) }
                            }
                        }
                    }
                    button class="btn" type="submit" { "Create role" }
                }
            }
            section class="card" aria-labelledby="h-can-i" {
                h2 id="h-can-i" { "Can I?" }
                p { "Check whether your own account holds a permission." }
                form method="get" action=(HOME) {
                    div class="field" {
                        label for="f-permission" { "Permission" }
                        select id="f-permission" name="permission" {
                            @for (perm, meaning) in KNOWN_PERMISSIONS {
                                option value=(perm) selected[asked == Some(*perm)] { (perm) " — " (meaning) }
                            }
                        }
                    }
                    button class="btn secondary" type="submit" { "Check" }
                }
                @match answer {
                    Some(Ok(a)) if a.allowed => { p class="notice ok" role="status" { "Yes: you hold " code { (a.permission) } "." } }
                    Some(Ok(a)) => { p class="notice warn" role="status" { "No: you do not hold " code { (a.permission) } "." } }
                    Some(Err(_)) => { p class="notice error" role="status" { "That is not a known permission." } }
                    None => {}
                }
            }
        }
    };
    (status, settings_page(st, &c.ctx, HOME, "Roles & permissions", body).await).into_response()
}

pub async fn show(State(st): State<AppState>, c: PageCaller, Query(q): Query<RolesQuery>) -> Response {
    let by = match require::<caps::RbacManage>(&c, &c.path) {
        Ok(b) => b,
        Err(r) => return r,
    };
    render(&st, &c, by, &q, StatusCode::OK, View::default()).await
}

/// The permissions ticked in a form (repeated `permissions` keys).
fn ticked(pairs: &[(String, String)]) -> Vec<String> {
    pairs.iter().filter(|(k, _)| k == "permissions").map(|(_, v)| v.clone()).collect()
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

pub async fn create(State(st): State<AppState>, c: PageCaller, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    let by = match require::<caps::RbacManage>(&c, HOME) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let input = NewRoleInput {
        name: value(&pairs, "name").to_owned(),
        description: Some(value(&pairs, "description").to_owned()),
        permissions: ticked(&pairs),
    };
    match st.app.create_role(by, input.clone()).await {
        Ok(_) => Redirect::to(&with_done(HOME, "created")).into_response(),
        Err(e) => {
            let mut errors = match &e {
                AppError::Validation(v) => v.fields.clone(),
                _ => BTreeMap::new(),
            };
            if matches!(e, AppError::Conflict { .. }) {
                errors.insert("name".into(), "is taken by another role".into());
            }
            let (status, message) = error_notice(e);
            let v = View {
                message: Some(message),
                new_errors: errors,
                new_name: input.name,
                new_description: input.description.unwrap_or_default(),
                new_perms: input.permissions,
            };
            render(&st, &c, by, &RolesQuery::default(), status, v).await
        }
    }
}

pub async fn save_permissions(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let by = match require::<caps::RbacManage>(&c, HOME) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let input = RolePermissions { role_id: id, permissions: ticked(&pairs) };
    match st.app.set_role_permissions(by, input).await {
        Ok(_) => Redirect::to(&with_done(HOME, "saved")).into_response(),
        Err(e) => {
            let (status, message) = error_notice(e);
            render(&st, &c, by, &RolesQuery::default(), status, View { message: Some(message), ..View::default() })
                .await
        }
    }
}

pub async fn delete(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    let by = match require::<caps::RbacManage>(&c, HOME) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match st.app.delete_role(by, &id).await {
        Ok(()) => Redirect::to(&with_done(HOME, "deleted")).into_response(),
        Err(e) => {
            let (status, message) = error_notice(e);
            render(&st, &c, by, &RolesQuery::default(), status, View { message: Some(message), ..View::default() })
                .await
        }
    }
}
