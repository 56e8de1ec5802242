//! Settings → Users & access (`/settings/users`): search and page through
//! users, invite someone with a role the inviter may grant (the link is
//! shown when it is not e-mailed), see and withdraw pending invitations,
//! activate or deactivate accounts and change roles.

use super::settings::{back_to, error_notice, not_found, require, settings_page, with_done};
use super::{FieldOpts, PageCaller, field, login_redirect, notice};
use crate::AppState;
use crate::error::ApiError;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use tier0_app::auth::accounts::{InviteInput, InviteListQuery, InviteOut};
use tier0_app::auth::users::{UserListQuery, UserPatch};
use tier0_app::{AppError, caps};
use tier0_domain::BuiltinRole;

const HOME: &str = "/settings/users";
const PAGE_SIZE: i64 = 25;

const DONE: &[(&str, &str)] = &[
    ("activated", "The account was activated; they can sign in again."),
    ("deactivated", "The account was deactivated and signed out everywhere."),
    ("role", "The role was changed. It applies from their next click."),
    ("withdrawn", "The invitation was withdrawn; its link no longer works."),
];

#[derive(Debug, Default, Clone, Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    pub q: Option<String>,
    /// `true`, `false` or empty (everyone).
    #[serde(default)]
    pub active: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub done: Option<String>,
}

impl UsersQuery {
    fn from_path(path: &str) -> Self {
        let mut out = Self::default();
        let query = path.split_once('?').map_or("", |(_, q)| q);
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "q" => out.q = Some(v.into_owned()),
                "active" => out.active = Some(v.into_owned()),
                "cursor" => out.cursor = Some(v.into_owned()),
                _ => {}
            }
        }
        out
    }

    fn active(&self) -> Option<bool> {
        match self.active.as_deref() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        }
    }

    /// This list's URL with another cursor (or none).
    fn url(&self, cursor: Option<&str>) -> String {
        let mut qs = url::form_urlencoded::Serializer::new(String::new());
        if let Some(q) = self.q.as_deref().filter(|q| !q.is_empty()) {
            qs.append_pair("q", q);
        }
        if let Some(a) = self.active() {
            qs.append_pair("active", if a { "true" } else { "false" });
        }
        if let Some(c) = cursor {
            qs.append_pair("cursor", c);
        }
        let s = qs.finish();
        if s.is_empty() { HOME.to_owned() } else { format!("{HOME}?{s}") }
    }
}

/// What a render shows besides the lists.
#[derive(Default)]
struct View {
    message: Option<Markup>,
    invite_errors: BTreeMap<String, String>,
    invite_email: String,
    invite_role: String,
    invited: Option<(String, InviteOut)>,
}

async fn render(st: &AppState, c: &PageCaller, q: &UsersQuery, status: StatusCode, v: View) -> Response {
    let ctx = &c.ctx;
    let reader = ctx.can::<caps::UsersRead>().ok();
    let writer = ctx.can::<caps::UsersWrite>().ok();
    let rbac = ctx.allows("rbac:manage");
    let me = ctx.principal().map(|p| p.user.id.clone());

    let mut problem = None;
    let users = match reader {
        Some(by) => {
            let query = |cursor: Option<String>| UserListQuery {
                q: q.q.clone(),
                active: q.active(),
                limit: Some(PAGE_SIZE),
                cursor,
            };
            let r = match st.app.list_users(by, query(q.cursor.clone())).await {
                Err(AppError::Validation(_)) => {
                    problem = Some(notice("error", "That page of the list does not exist; showing the first page."));
                    st.app.list_users(by, query(None)).await
                }
                other => other,
            };
            match r {
                Ok(p) => Some(p),
                Err(e) => return ApiError::from(e).into_response(),
            }
        }
        None => None,
    };
    let invites = match reader {
        Some(by) => match st.app.list_invites(by, InviteListQuery { limit: Some(100), cursor: None }).await {
            Ok(p) => p.items,
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => Vec::new(),
    };
    let roles = match writer {
        Some(by) => match st.app.assignable_roles(by).await {
            Ok(r) => r,
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => Vec::new(),
    };
    let back = q.url(q.cursor.as_deref());
    let done = super::done_message(DONE, q.done.as_deref());
    let default_role =
        if v.invite_role.is_empty() { BuiltinRole::Requester.name().to_owned() } else { v.invite_role.clone() };

    let body = html! {
        h1 { "Users & access" }
        @if let Some(d) = done { (notice("ok", d)) }
        @if let Some(m) = &v.message { (m) }
        @if let Some(p) = problem { (p) }
        @if let Some((email, out)) = &v.invited {
            @if out.emailed {
                (notice("ok", &format!("Invitation e-mailed to {email}. The link works once and expires {}.", out.expires_at.display_short())))
            } @else {
                div class="notice ok" role="status" {
                    p { "Invitation created for " strong { (email) } ". Mail is not set up, so send them this link yourself. It works once and expires " (out.expires_at.display_short()) "." }
                    label for="invite-url" { "Invitation link" }
                    input id="invite-url" type="text" readonly value=(out.invite_url);
                }
            }
        }
        @if writer.is_some() {
            section class="card" aria-labelledby="h-invite" {
                h2 id="h-invite" { "Invite someone" }
                form class="invite-form" method="post" action="/settings/users/invite" novalidate {
                    (field("E-mail address", "email", "email", &v.invite_email, v.invite_errors.get("email"), FieldOpts::required().autocomplete("off").max(254)))
                    div class={ "field" @if v.invite_errors.contains_key("role") { " invalid" } } {
                        label for="f-role" { "Role" }
                        select id="f-role" name="role" aria-describedby="f-role-hint" {
                            @for r in &roles {
                                option value=(r.name) selected[r.name == default_role] { (r.name) }
                            }
                        }
                        @if let Some(e) = v.invite_errors.get("role") { div class="field-error" role="alert" { "Role " (e) } }
                    }
                    button class="btn" type="submit" { @if st.app.mail_enabled() { "Send invitation" } @else { "Create invitation link" } }
                }
                p class="hint" id="f-role-hint" {
                    "Only roles within your own permissions are offered; new people usually start as requester. "
                    "The link works once and expires after 72 hours."
                }
            }
        }
        @if let Some(users) = &users {
            section aria-labelledby="h-users" {
                h2 id="h-users" { "People" }
                form class="row filters" method="get" action=(HOME) role="search" {
                    label class="visually-hidden" for="f-q" { "Search by name or e-mail" }
                    input id="f-q" type="search" name="q" value=(q.q.as_deref().unwrap_or("")) placeholder="Name or e-mail" maxlength="200";
                    label class="visually-hidden" for="f-active" { "Status" }
                    select id="f-active" name="active" {
                        option value="" selected[q.active().is_none()] { "Everyone" }
                        option value="true" selected[q.active() == Some(true)] { "Active" }
                        option value="false" selected[q.active() == Some(false)] { "Deactivated" }
                    }
                    button class="btn secondary" type="submit" { "Search" }
                }
                @if users.items.is_empty() {
                    p { "Nobody matches." }
                } @else {
                    div class="table-wrap" {
                        table {
                            caption class="visually-hidden" { "Users" }
                            thead { tr {
                                th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Role" }
                                th scope="col" { "Status" } th scope="col" { "2-step" }
                                @if writer.is_some() { th scope="col" { "Actions" } }
                            } }
                            tbody {
                                @for u in &users.items {
                                    @let manageable = writer.is_some() && roles.iter().any(|r| r.id == u.role_id) && Some(&u.id) != me.as_ref();
                                    tr {
                                        th scope="row" {
                                            (u.name)
                                            @if Some(&u.id) == me.as_ref() { " " span class="meta" { "(you)" } }
                                            @if let Some(un) = &u.username { br; span class="meta" { "@" (un) } }
                                        }
                                        td { (u.email) }
                                        td {
                                            @if manageable && rbac {
                                                form class="row inline" method="post" action=(format!("/settings/users/{}/role", u.id)) {
                                                    input type="hidden" name="back" value=(back);
                                                    label class="visually-hidden" for=(format!("role-{}", u.id)) { "Role of " (u.name) }
                                                    select id=(format!("role-{}", u.id)) name="role" {
                                                        @for r in &roles { option value=(r.name) selected[r.id == u.role_id] { (r.name) } }
                                                    }
                                                    button class="btn secondary small" type="submit" { "Change" span class="visually-hidden" { " role of " (u.name) } }
                                                }
                                            } @else { (u.role) }
                                        }
                                        td { @if u.active { span class="pill ok" { "Active" } } @else { span class="pill bad" { "Deactivated" } } }
                                        td { @if u.totp_enabled { "On" } @else { "Off" } }
                                        @if writer.is_some() {
                                            td {
                                                @if manageable {
                                                    form method="post" action=(format!("/settings/users/{}/active", u.id)) {
                                                        input type="hidden" name="back" value=(back);
                                                        input type="hidden" name="active" value=(if u.active { "false" } else { "true" });
                                                        @if u.active {
                                                            button class="btn danger small" type="submit" { "Deactivate" span class="visually-hidden" { " " (u.name) } }
                                                        } @else {
                                                            button class="btn secondary small" type="submit" { "Activate" span class="visually-hidden" { " " (u.name) } }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                nav class="pager" aria-label="User list pages" {
                    @if q.cursor.is_some() { a href=(q.url(None)) { "First page" } }
                    @if let Some(n) = &users.next_cursor { a href=(q.url(Some(n))) rel="next" { "Next page" } }
                }
            }
            section aria-labelledby="h-invites" {
                h2 id="h-invites" { "Pending invitations" }
                @if invites.is_empty() {
                    p { "None." }
                } @else {
                    div class="table-wrap" {
                        table {
                            caption class="visually-hidden" { "Pending invitations" }
                            thead { tr {
                                th scope="col" { "E-mail" } th scope="col" { "Role" } th scope="col" { "Invited by" } th scope="col" { "Expires" }
                                @if writer.is_some() { th scope="col" { "Actions" } }
                            } }
                            tbody {
                                @for i in &invites {
                                    @let who = i.email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_else(|| "Anyone with the link".to_owned());
                                    tr {
                                        th scope="row" { (who) }
                                        td { (i.role) }
                                        td { (i.invited_by.as_deref().unwrap_or("system")) }
                                        td { (i.expires_at.display_short()) }
                                        @if writer.is_some() {
                                            td class="row" {
                                                @if let Some(e) = &i.email {
                                                    @if roles.iter().any(|r| r.name == i.role) {
                                                        form method="post" action="/settings/users/invite" {
                                                            input type="hidden" name="email" value=(e);
                                                            input type="hidden" name="role" value=(i.role);
                                                            button class="btn secondary small" type="submit" { "Send again" span class="visually-hidden" { " to " (e) } }
                                                        }
                                                    }
                                                }
                                                form method="post" action=(format!("/settings/users/invites/{}/revoke", i.id)) {
                                                    button class="btn danger small" type="submit" { "Withdraw" span class="visually-hidden" { " invitation for " (who) } }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    (status, settings_page(st, ctx, HOME, "Users & access", body).await).into_response()
}

pub async fn show(State(st): State<AppState>, c: PageCaller, Query(q): Query<UsersQuery>) -> Response {
    if !c.ctx.is_signed_in() {
        return login_redirect(&c.path);
    }
    if !(c.ctx.allows("users:read") || c.ctx.allows("users:write")) {
        return not_found();
    }
    render(&st, &c, &q, StatusCode::OK, View::default()).await
}

#[derive(Debug, Default, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
}

pub async fn invite(State(st): State<AppState>, c: PageCaller, Form(f): Form<InviteForm>) -> Response {
    let by = match require::<caps::UsersWrite>(&c, HOME) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let input = InviteInput { email: f.email.clone(), role: Some(f.role.clone()).filter(|r| !r.is_empty()) };
    let q = UsersQuery::default();
    match st.app.invite(by, input).await {
        Ok(out) => {
            let email = f.email.trim().to_ascii_lowercase();
            render(&st, &c, &q, StatusCode::CREATED, View { invited: Some((email, out)), ..View::default() }).await
        }
        Err(e) => {
            let mut errors = match &e {
                AppError::Validation(v) => v.fields.clone(),
                _ => BTreeMap::new(),
            };
            if matches!(e, AppError::Conflict { .. }) {
                errors.insert("email".into(), "already belongs to an account".into());
            }
            let (status, message) = error_notice(e);
            let v = View {
                message: Some(message),
                invite_errors: errors,
                invite_email: f.email,
                invite_role: f.role,
                ..View::default()
            };
            render(&st, &c, &q, status, v).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    pub active: String,
    #[serde(default)]
    pub back: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub back: Option<String>,
}

async fn apply(st: &AppState, c: &PageCaller, id: &str, patch: UserPatch, back: Option<&str>, done: &str) -> Response {
    let by = match require::<caps::UsersWrite>(c, HOME) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let back = back_to(back, HOME);
    match st.app.patch_user(by, id, patch).await {
        Ok(_) => Redirect::to(&with_done(&back, done)).into_response(),
        Err(AppError::NotFound) => not_found(),
        Err(e) => {
            let (status, message) = error_notice(e);
            render(st, c, &UsersQuery::from_path(&back), status, View { message: Some(message), ..View::default() })
                .await
        }
    }
}

pub async fn set_active(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Form(f): Form<ActiveForm>,
) -> Response {
    let active = f.active == "true";
    let patch = UserPatch { active: Some(active), ..UserPatch::default() };
    apply(&st, &c, &id, patch, f.back.as_deref(), if active { "activated" } else { "deactivated" }).await
}

pub async fn set_role(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> Response {
    let patch = UserPatch { role: Some(f.role), ..UserPatch::default() };
    apply(&st, &c, &id, patch, f.back.as_deref(), "role").await
}

pub async fn revoke_invite(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    let by = match require::<caps::UsersWrite>(&c, HOME) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match st.app.revoke_invite(by, &id).await {
        Ok(()) => Redirect::to(&with_done(HOME, "withdrawn")).into_response(),
        Err(AppError::NotFound) => not_found(),
        Err(e) => {
            let (status, message) = error_notice(e);
            render(&st, &c, &UsersQuery::default(), status, View { message: Some(message), ..View::default() }).await
        }
    }
}
