//! Server-rendered pages (maud: compile-time checked, escaped by default).
//! Every action is a real `<form>`; JavaScript only enhances. Each area
//! registers its pages in [`routes`].

pub mod account;
pub mod auth;
pub mod forms;
pub mod itsm_catalog;
pub mod itsm_incidents;
pub mod itsm_kb;
pub mod itsm_queue;
pub mod itsm_workflows;
pub mod knowledge;
pub mod layout;
pub mod portal_approvals;
pub mod portal_catalog;
pub mod portal_settings;
pub mod profile;
pub mod request_pages;
pub mod request_parts;
pub mod settings;
pub mod settings_roles;
pub mod settings_users;
pub mod status;

use crate::AppState;
use crate::extract::Caller;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use tier0_app::{Ctx, SignedIn};

pub use layout::{Chrome, Tab, page, page_at};

/// Every page route.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/assets/app.css", get(stylesheet))
        .route("/", get(auth::home))
        .route("/login", get(auth::login_form).post(auth::login_submit))
        .route("/login/verify", axum::routing::post(auth::login_verify))
        .route("/logout", axum::routing::post(auth::logout))
        .merge(status::routes())
        .merge(portal_settings::routes())
        .merge(identity_routes())
        .merge(service_desk_routes())
        .merge(knowledge_routes())
}

/// The knowledge base: portal tab, article pages, deflection step and
/// authoring in the agent workspace (SPEC §6).
fn knowledge_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/assets/deflect.js", get(deflect_js))
        .route("/assets/kb-editor.js", get(kb_editor_js))
        .route("/portal/knowledge", get(knowledge::home))
        .route("/portal/knowledge/{id}", get(knowledge::article))
        .route("/portal/knowledge/{id}/feedback", axum::routing::post(knowledge::feedback))
        .route("/portal/request/check", get(knowledge::request_check))
        .route("/portal/request/check/solved", axum::routing::post(knowledge::request_solved))
        .route("/itsm/kb", get(itsm_kb::list))
        .route("/itsm/kb/new", get(itsm_kb::new_form).post(itsm_kb::create))
        .route("/itsm/kb/known-errors", get(itsm_kb::known_errors))
        .route("/itsm/kb/known-errors/new", get(itsm_kb::ke_new_form).post(itsm_kb::ke_create))
        .route("/itsm/kb/known-errors/{id}", get(itsm_kb::ke_edit_form).post(itsm_kb::ke_update))
        .route("/itsm/kb/synonyms", get(itsm_kb::synonyms).post(itsm_kb::save_synonyms))
        .route("/itsm/kb/{id}", get(itsm_kb::edit_form).post(itsm_kb::update))
        .route("/itsm/kb/{id}/status", axum::routing::post(itsm_kb::set_status))
        .route("/itsm/kb/{id}/history", get(itsm_kb::history))
}

/// The service catalog, requests, approvals, notifications and the agent
/// workspace's request side (SPEC §5, §7, §8).
fn service_desk_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .merge(portal_catalog::routes())
        .merge(request_pages::routes())
        .merge(portal_approvals::routes())
        .merge(itsm_queue::routes())
        .merge(itsm_incidents::routes())
        .merge(itsm_catalog::routes())
        .merge(itsm_workflows::routes())
        // Forms that may carry a file read up to the upload limit (checked
        // while reading), so the global form limit is lifted on them only.
        .merge(
            axum::Router::new()
                .merge(portal_catalog::upload_routes())
                .merge(request_pages::upload_routes())
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// Sign-up, password reset, profile and Settings → users, roles, audit, mail.
fn identity_routes() -> axum::Router<AppState> {
    use axum::routing::post;
    axum::Router::new()
        .route("/signup", get(account::signup_form).post(account::signup_submit))
        .route("/forgot-password", get(account::forgot_form).post(account::forgot_submit))
        .route("/reset-password", get(account::reset_form).post(account::reset_submit))
        .route("/portal/profile", get(profile::show).post(profile::save_details))
        .route("/portal/profile/notifications", post(profile::save_notifications))
        .route("/portal/profile/password", post(profile::change_password))
        .route("/portal/profile/totp/setup", post(profile::totp_setup))
        .route("/portal/profile/totp/enable", post(profile::totp_enable))
        .route("/portal/profile/totp/disable", post(profile::totp_disable))
        .route("/portal/profile/sessions/{id}/revoke", post(profile::revoke_session))
        .route("/settings", get(settings::index))
        .route("/settings/users", get(settings_users::show))
        .route("/settings/users/invite", post(settings_users::invite))
        .route("/settings/users/{id}/active", post(settings_users::set_active))
        .route("/settings/users/{id}/role", post(settings_users::set_role))
        .route("/settings/users/invites/{id}/revoke", post(settings_users::revoke_invite))
        .route("/settings/roles", get(settings_roles::show).post(settings_roles::create))
        .route("/settings/roles/{id}/permissions", post(settings_roles::save_permissions))
        .route("/settings/roles/{id}/delete", post(settings_roles::delete))
        .route("/settings/audit", get(settings::audit))
        .route("/settings/mail", get(settings::mail))
}

const CSS: &str = include_str!("../../assets/app.css");

async fn stylesheet() -> Response {
    let mut res = CSS.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    res
}

const DEFLECT_JS: &str = include_str!("../../assets/deflect.js");
const KB_EDITOR_JS: &str = include_str!("../../assets/kb-editor.js");

fn javascript(body: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    res
}

async fn deflect_js() -> Response {
    javascript(DEFLECT_JS)
}

async fn kb_editor_js() -> Response {
    javascript(KB_EDITOR_JS)
}

/// The caller of a page request. Like [`Caller`], but refusals render as
/// HTML and the current path is kept for `next=` redirects.
pub struct PageCaller {
    pub ctx: Ctx,
    pub path: String,
}

impl FromRequestParts<AppState> for PageCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map(|u| u.0.clone())
            .unwrap_or_else(|| parts.uri.clone())
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        match Caller::from_request_parts(parts, st).await {
            Ok(c) => Ok(PageCaller { ctx: c.ctx, path }),
            Err(e) => Err(error_page(e.status, "Request refused", &e.message)),
        }
    }
}

impl PageCaller {
    /// A signed-in user, or a redirect to the sign-in page that returns
    /// here afterwards.
    pub fn signed_in(&self) -> Result<SignedIn<'_>, Response> {
        self.ctx.signed_in().map_err(|_| login_redirect(&self.path))
    }

    /// Signed in (or the read-only guest) for reading pages.
    pub fn reader(&self) -> Result<(), Response> {
        if self.ctx.principal().is_some() { Ok(()) } else { Err(login_redirect(&self.path)) }
    }
}

pub fn login_redirect(next: &str) -> Response {
    let target =
        format!("/login?next={}", percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC));
    Redirect::to(&target).into_response()
}

/// A same-site path to continue to, or `/`: only absolute paths, never
/// `//host`, `/\host`, schemes or control characters.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(n) = next.map(str::trim) else { return "/".into() };
    let ok = n.starts_with('/')
        && !n.starts_with("//")
        && !n.starts_with("/\\")
        && !n.contains("://")
        && n.len() <= 1000
        && !n.chars().any(|c| c.is_control() || c == '\\');
    if ok { n.to_owned() } else { "/".into() }
}

/// A complete, self-contained error page.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = html! {
        main id="main" class="narrow" {
            div class="auth-card" {
                h1 { (title) }
                p { (message) }
                p { a href="/" { "Go to the start page" } }
            }
        }
    };
    (status, layout::bare(title, body)).into_response()
}

/// A labelled input with its error shown next to it (and announced).
pub fn field(label: &str, name: &str, kind: &str, value: &str, error: Option<&String>, extra: FieldOpts<'_>) -> Markup {
    let id = format!("f-{name}");
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let describedby = match (error.is_some(), extra.hint.is_some()) {
        (true, true) => Some(format!("{err_id} {hint_id}")),
        (true, false) => Some(err_id.clone()),
        (false, true) => Some(hint_id.clone()),
        (false, false) => None,
    };
    html! {
        div class={ "field" @if error.is_some() { " invalid" } } {
            label for=(id) { (label) @if !extra.required { " " span class="optional" { "(optional)" } } }
            @if let Some(h) = extra.hint { span class="hint" id=(hint_id) { (h) } }
            @if kind == "textarea" {
                textarea id=(id) name=(name) required[extra.required] aria-invalid=[error.map(|_| "true")] aria-describedby=[describedby.as_deref()] maxlength=[extra.maxlength] { (value) }
            } @else {
                input id=(id) type=(kind) name=(name) value=(value) required[extra.required]
                    autocomplete=[extra.autocomplete] aria-invalid=[error.map(|_| "true")] aria-describedby=[describedby.as_deref()]
                    maxlength=[extra.maxlength] autofocus[extra.autofocus] inputmode=[extra.inputmode];
            }
            @if let Some(e) = error { div class="field-error" id=(err_id) role="alert" { (label) " " (e) } }
        }
    }
}

/// Options of [`field`].
#[derive(Default, Clone, Copy)]
pub struct FieldOpts<'a> {
    pub required: bool,
    pub hint: Option<&'a str>,
    pub autocomplete: Option<&'a str>,
    pub maxlength: Option<usize>,
    pub autofocus: bool,
    pub inputmode: Option<&'a str>,
}

impl<'a> FieldOpts<'a> {
    pub fn required() -> Self {
        Self { required: true, ..Self::default() }
    }
    pub fn hint(mut self, h: &'a str) -> Self {
        self.hint = Some(h);
        self
    }
    pub fn autocomplete(mut self, a: &'a str) -> Self {
        self.autocomplete = Some(a);
        self
    }
    pub fn max(mut self, n: usize) -> Self {
        self.maxlength = Some(n);
        self
    }
    pub fn autofocus(mut self) -> Self {
        self.autofocus = true;
        self
    }
}

/// A summary of form errors at the top of a form (announced to screen
/// readers), or a general message.
pub fn notice(kind: &str, text: &str) -> Markup {
    html! { div class={ "notice " (kind) } role=(if kind == "error" { "alert" } else { "status" }) { (text) } }
}

/// An app error as a form shows it: the status, a summary sentence for
/// the top of the form, and the per-field messages to show next to fields.
pub fn form_error(e: tier0_app::AppError) -> (StatusCode, String, std::collections::BTreeMap<String, String>) {
    let api = crate::error::ApiError::from(e);
    let msg = match api.status {
        StatusCode::UNPROCESSABLE_ENTITY => "Please correct the fields marked below.".to_owned(),
        StatusCode::TOO_MANY_REQUESTS => {
            let mins = api.retry_after.unwrap_or(60).div_ceil(60);
            format!("Too many attempts. Try again in {mins} minute{}.", if mins == 1 { "" } else { "s" })
        }
        s if s.is_server_error() => "Something went wrong on our side; please try again.".to_owned(),
        _ => api.message,
    };
    (api.status, msg, api.fields.unwrap_or_default())
}

/// The confirmation for a `?done=<code>` after a redirect, looked up in a
/// page's table (text from the URL is never shown).
pub fn done_message(table: &[(&str, &'static str)], code: Option<&str>) -> Option<&'static str> {
    code.and_then(|c| table.iter().find(|(k, _)| *k == c)).map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_same_site_only() {
        assert_eq!(safe_next(Some("/portal/requests?x=1")), "/portal/requests?x=1");
        for bad in
            ["//evil.com", "/\\evil.com", "https://evil.com", "javascript:alert(1)", "evil.com", "/a\nb", "/x://y"]
        {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
