//! Settings (`/settings`): the index of the areas the caller may use, the
//! shared settings navigation, the audit log and outgoing mail. Users and
//! roles have their own modules. A page the caller may not use answers 404
//! (anonymous visitors are sent to sign in first).

use super::{Chrome, PageCaller, Tab, error_page, login_redirect, notice, page_at};
use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use tier0_app::auth::roles::{AUDIT_ACTIONS, AuditQuery};
use tier0_app::{AppError, Can, Capability, Ctx, caps};
use tier0_domain::Limit;

/// One settings area: shown to callers holding any of `any_of`. Other
/// areas add a line here.
pub struct Area {
    pub path: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub any_of: &'static [&'static str],
}

pub const AREAS: &[Area] = &[
    Area {
        path: "/settings/users",
        title: "Users & access",
        description: "Invite people, see who has an account, activate or deactivate accounts and change roles.",
        any_of: &["users:read", "users:write"],
    },
    Area {
        path: "/settings/roles",
        title: "Roles & permissions",
        description: "What each role may do, custom roles, and a “Can I?” check.",
        any_of: &["rbac:manage"],
    },
    Area {
        path: "/settings/audit",
        title: "Audit log",
        description: "Who did what, when and from where: sign-ins, invitations, role and permission changes.",
        any_of: &["audit:read"],
    },
    Area {
        path: "/settings/portal",
        title: "Portal & branding",
        description: "Portal name, logo, colour and description, the announcement, and which sections people see.",
        any_of: &["settings:manage"],
    },
    Area {
        path: "/settings/mail",
        title: "Outgoing mail",
        description: "Whether invitations, reset links and notifications were delivered, and why not.",
        any_of: &["settings:manage"],
    },
];

/// The areas `ctx` may use (signed-in users only).
pub fn areas(ctx: &Ctx) -> Vec<&'static Area> {
    if !ctx.is_signed_in() {
        return Vec::new();
    }
    AREAS.iter().filter(|a| a.any_of.iter().any(|p| ctx.allows(p))).collect()
}

pub fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "Page not found", "The page you asked for does not exist.")
}

/// The capability a settings page needs, or its answer without it: sign-in
/// for anonymous visitors (and the read-only guest), 404 for the rest.
pub fn require<'a, C: Capability>(c: &'a PageCaller, back: &str) -> Result<Can<'a, C>, Response> {
    if !c.ctx.is_signed_in() {
        return Err(login_redirect(back));
    }
    c.ctx.can::<C>().map_err(|_| not_found())
}

/// A settings page in the shell.
pub async fn settings_page(st: &AppState, ctx: &Ctx, current: &str, title: &str, body: Markup) -> Markup {
    let chrome = Chrome::for_ctx(st, ctx).await;
    page_at(&chrome, title, Tab::Settings, current, body)
}

/// An app error as a notice (and status) on a settings page.
pub fn error_notice(e: AppError) -> (StatusCode, Markup) {
    let (status, message, _) = super::form_error(e);
    (status, notice("error", &message))
}

/// `path` with `done=<code>` set (other parameters kept).
pub fn with_done(path: &str, code: &str) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut parts: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("done=")).collect();
    let done = format!("done={code}");
    parts.push(&done);
    format!("{base}?{}", parts.join("&"))
}

/// A same-site return path under `prefix`, or `prefix` itself.
pub fn back_to(back: Option<&str>, prefix: &str) -> String {
    let b = super::safe_next(back);
    if b == prefix || b.starts_with(&format!("{prefix}?")) { b } else { prefix.to_owned() }
}

pub async fn index(State(st): State<AppState>, c: PageCaller) -> Response {
    if !c.ctx.is_signed_in() {
        return login_redirect(&c.path);
    }
    let list = areas(&c.ctx);
    if list.is_empty() {
        return not_found();
    }
    let body = html! {
        h1 { "Settings" }
        div class="grid" {
            @for a in &list {
                a class="card area" href=(a.path) {
                    h2 { (a.title) }
                    p class="meta" { (a.description) }
                }
            }
        }
    };
    settings_page(&st, &c.ctx, "/settings", "Settings", body).await.into_response()
}

// -------------------------------------------------------------- audit log

#[derive(Debug, Default, Deserialize)]
pub struct AuditPageQuery {
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
}

fn action_label(action: &str) -> Option<&'static str> {
    AUDIT_ACTIONS.iter().find(|(a, _)| *a == action).map(|(_, l)| *l)
}

/// `{"role": "x", "from": …}` as "role: x · from: …".
fn details_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join(" · "),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub async fn audit(State(st): State<AppState>, c: PageCaller, Query(q): Query<AuditPageQuery>) -> Response {
    let by = match require::<caps::AuditRead>(&c, &c.path) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let action = q.action.clone().filter(|a| !a.trim().is_empty());
    let query = |cursor: Option<String>| AuditQuery { limit: Some(50), cursor, action: action.clone() };
    let mut problem = None;
    let result = match st.app.audit_log(by, query(q.cursor.clone())).await {
        Err(AppError::Validation(_)) => {
            problem = Some(notice("error", "That page of the log does not exist; showing the newest entries."));
            st.app.audit_log(by, query(None)).await
        }
        other => other,
    };
    let page_res = match result {
        Ok(p) => p,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let action_q = action.as_deref().unwrap_or("");
    let next = page_res.next_cursor.as_ref().map(|cur| {
        let mut qs = url::form_urlencoded::Serializer::new(String::new());
        if !action_q.is_empty() {
            qs.append_pair("action", action_q);
        }
        qs.append_pair("cursor", cur);
        format!("/settings/audit?{}", qs.finish())
    });
    let body = html! {
        h1 { "Audit log" }
        p class="lead" { "Newest first. Entries are kept for good; nobody can edit them." }
        @if let Some(p) = problem { (p) }
        form class="row filters" method="get" action="/settings/audit" {
            label for="f-action" { "Show" }
            select id="f-action" name="action" {
                option value="" selected[action_q.is_empty()] { "All actions" }
                @for (a, label) in AUDIT_ACTIONS {
                    option value=(a) selected[*a == action_q] { (label) }
                }
                @if !action_q.is_empty() && action_label(action_q).is_none() {
                    option value=(action_q) selected { (action_q) }
                }
            }
            button class="btn secondary" type="submit" { "Filter" }
        }
        @if page_res.items.is_empty() {
            p { "No entries." }
        } @else {
            div class="table-wrap" {
                table {
                    caption class="visually-hidden" { "Audit log entries, newest first" }
                    thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Details" } th scope="col" { "From" } } }
                    tbody {
                        @for e in &page_res.items {
                            tr {
                                td { time datetime=(e.at.to_rfc3339()) { (e.at.display_short()) } }
                                td { (e.actor) }
                                td {
                                    (action_label(&e.action).unwrap_or(&e.action))
                                    br; code class="meta" { (e.action) }
                                }
                                td class="details" { (details_text(&e.details)) }
                                td { (e.ip.as_deref().unwrap_or("—")) }
                            }
                        }
                    }
                }
            }
        }
        nav class="pager" aria-label="Audit log pages" {
            @if q.cursor.is_some() {
                a href=(if action_q.is_empty() { "/settings/audit".to_owned() } else { format!("/settings/audit?action={}", url::form_urlencoded::byte_serialize(action_q.as_bytes()).collect::<String>()) }) { "Newest entries" }
            }
            @if let Some(n) = next { a href=(n) rel="next" { "Older entries" } }
        }
    };
    settings_page(&st, &c.ctx, "/settings/audit", "Audit log", body).await.into_response()
}

// ---------------------------------------------------------- outgoing mail

pub async fn mail(State(st): State<AppState>, c: PageCaller) -> Response {
    let by = match require::<caps::SettingsManage>(&c, &c.path) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let items = match st.app.mail_outbox(by, Limit::new_clamped(100)).await {
        Ok(i) => i,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let body = html! {
        h1 { "Outgoing mail" }
        @if !st.app.mail_enabled() {
            (notice("info", "Mail is off: no SMTP server is configured (tier0 serve --smtp-url smtp://host:port). Invitation links are shown on screen instead, and password reset links cannot be sent."))
        }
        p class="lead" { "The 100 newest messages. Failed deliveries are retried with growing pauses, up to 8 attempts." }
        @if items.is_empty() {
            p { "Nothing has been sent yet." }
        } @else {
            div class="table-wrap" {
                table {
                    caption class="visually-hidden" { "Outgoing messages, newest first" }
                    thead { tr { th scope="col" { "Queued" } th scope="col" { "To" } th scope="col" { "Subject" } th scope="col" { "Status" } th scope="col" { "Last error" } } }
                    tbody {
                        @for m in &items {
                            tr {
                                td { (m.created_at.display_short()) }
                                td { (m.to) }
                                td { (m.subject) }
                                td {
                                    @if m.sent { span class="pill ok" { "Sent" } }
                                    @else if m.failed { span class="pill bad" { "Failed" } " after " (m.attempts) " attempts" }
                                    @else {
                                        span class="pill warn" { "Pending" }
                                        @if m.attempts > 0 { " " (m.attempts) " attempt" @if m.attempts != 1 { "s" } "; next " (m.next_attempt_at.display_short()) }
                                    }
                                }
                                td class="details" { (m.last_error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    };
    settings_page(&st, &c.ctx, "/settings/mail", "Outgoing mail", body).await.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_and_back() {
        assert_eq!(with_done("/settings/users", "x"), "/settings/users?done=x");
        assert_eq!(with_done("/settings/users?q=a&done=y", "x"), "/settings/users?q=a&done=x");
        assert_eq!(back_to(Some("/settings/users?q=a"), "/settings/users"), "/settings/users?q=a");
        assert_eq!(back_to(Some("/settings/usersX"), "/settings/users"), "/settings/users");
        assert_eq!(back_to(Some("//evil.com/settings/users"), "/settings/users"), "/settings/users");
        assert_eq!(back_to(None, "/settings/users"), "/settings/users");
    }

    #[test]
    fn details_read_as_text() {
        let v = serde_json::json!({"role": "fulfiller", "x": null});
        assert_eq!(details_text(&v), "role: fulfiller");
        let t = details_text(&serde_json::json!({"role": "fulfiller", "emailed": false}));
        assert!(t.contains("emailed: false") && t.contains("role: fulfiller") && t.contains(" · "), "{t}");
    }
}
