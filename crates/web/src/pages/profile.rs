//! Profile (`/portal/profile`): name and username, notification
//! preferences, password, two-step verification (QR code, manual secret,
//! confirmation, recovery codes shown once) and the list of the user's
//! signed-in devices. Every change is a form posted to a sub-path that
//! redirects back with a short confirmation, or re-renders with errors.

use super::{
    Chrome, FieldOpts, PageCaller, Tab, done_message, error_page, field, form_error, login_redirect, notice, page,
};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::clear_session_cookie;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{PreEscaped, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use tier0_app::auth::profile::{PasswordChange, PasswordConfirm, ProfilePatch, TotpCode, TotpSetupOut};
use tier0_app::{AppError, SignedIn};
use tier0_domain::NotificationPrefs;

type Errors = BTreeMap<String, String>;

const HOME: &str = "/portal/profile";

/// Confirmations after a redirect, by code (never text from the URL).
const DONE: &[(&str, &str)] = &[
    ("details", "Your details were saved."),
    ("notifications", "Your notification preferences were saved."),
    ("password", "Your password was changed. Your other devices were signed out."),
    ("totp_off", "Two-step verification is off."),
    ("session", "That device was signed out."),
];

#[derive(Debug, Default, Deserialize)]
pub struct ProfileQuery {
    #[serde(default)]
    pub done: Option<String>,
}

/// What a re-render shows besides the stored profile.
#[derive(Default)]
struct View {
    done: Option<&'static str>,
    error: Option<String>,
    errors: Errors,
    name: Option<String>,
    username: Option<String>,
}

fn me<'a>(c: &'a PageCaller) -> Result<SignedIn<'a>, Response> {
    c.ctx.signed_in().map_err(|_| login_redirect(HOME))
}

fn back(done: &str) -> Response {
    Redirect::to(&format!("{HOME}?done={done}")).into_response()
}

async fn render(st: &AppState, c: &PageCaller, me: SignedIn<'_>, status: StatusCode, v: View) -> Response {
    let chrome = Chrome::for_ctx(st, &c.ctx).await;
    let sessions = match st.app.my_sessions(me).await {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let u = &me.principal.user;
    let p = &u.notification_prefs;
    let name = v.name.as_deref().unwrap_or(&u.name);
    let username = v.username.as_deref().or(u.username.as_deref()).unwrap_or("");
    let check = |id: &str, label: &str, on: bool| {
        html! {
            label class="check" for=(format!("f-{id}")) {
                input type="checkbox" id=(format!("f-{id}")) name=(id) value="on" checked[on];
                span { (label) }
            }
        }
    };
    let body = html! {
        h1 { "Your profile" }
        @if let Some(d) = v.done { (notice("ok", d)) }
        @if let Some(e) = &v.error { (notice("error", e)) }
        div class="cols align-start" {
            div class="stack" {
                section class="card" aria-labelledby="h-details" {
                    h2 id="h-details" { "Your details" }
                    form method="post" action="/portal/profile" novalidate {
                        (field("Name", "name", "text", name, v.errors.get("name"), FieldOpts::required().autocomplete("name").max(100)))
                        (field("Username", "username", "text", username, v.errors.get("username"),
                            FieldOpts::default().autocomplete("nickname").max(32).hint("3–32 lowercase letters, digits, dots, dashes or underscores.")))
                        button class="btn" type="submit" { "Save details" }
                    }
                }
                section class="card" aria-labelledby="h-notify" {
                    h2 id="h-notify" { "Notifications" }
                    form method="post" action="/portal/profile/notifications" {
                        fieldset {
                            legend { "E-mail me when" }
                            (check("email_status_changes", "the status of one of my requests changes", p.email_status_changes))
                            (check("email_comments", "someone replies on one of my requests", p.email_comments))
                            (check("email_approvals", "an approval is asked of me or decided on my request", p.email_approvals))
                        }
                        p class="hint" { "You always see notifications in the portal." }
                        button class="btn" type="submit" { "Save preferences" }
                    }
                }
                section class="card" aria-labelledby="h-password" {
                    h2 id="h-password" { "Password" }
                    form method="post" action="/portal/profile/password" novalidate {
                        (field("Current password", "current_password", "password", "", v.errors.get("current_password"), FieldOpts::required().autocomplete("current-password").max(128)))
                        (field("New password", "new_password", "password", "", v.errors.get("new_password"),
                            FieldOpts::required().autocomplete("new-password").max(128).hint("At least 8 characters. Changing it signs out your other devices.")))
                        button class="btn" type="submit" { "Change password" }
                    }
                }
            }
            div class="stack" {
                section class="card" aria-labelledby="h-account" {
                    h2 id="h-account" { "Account" }
                    dl class="facts" {
                        dt { "E-mail" } dd { (u.email) }
                        dt { "Role" } dd { (u.role) }
                        dt { "Member since" } dd { (u.created_at.date_string()) }
                    }
                }
                section class="card" aria-labelledby="h-2fa" {
                    h2 id="h-2fa" { "Two-step verification" }
                    @if u.totp_enabled {
                        p { span class="pill ok" { "On" } " Signing in asks for a code from your authenticator app." }
                        form method="post" action="/portal/profile/totp/disable" novalidate {
                            (field("Password", "password", "password", "", v.errors.get("password"), FieldOpts::required().autocomplete("current-password").max(128).hint("Confirm with your password to turn it off.")))
                            button class="btn danger" type="submit" { "Turn off two-step verification" }
                        }
                    } @else {
                        p { span class="pill" { "Off" } " Protect your account with a code from an authenticator app (such as Google Authenticator, Microsoft Authenticator or 1Password) in addition to your password." }
                        form method="post" action="/portal/profile/totp/setup" {
                            button class="btn" type="submit" { "Set up two-step verification" }
                        }
                    }
                }
                section class="card" aria-labelledby="h-sessions" {
                    h2 id="h-sessions" { "Where you're signed in" }
                    ul class="sessions" {
                        @for s in &sessions {
                            li {
                                div {
                                    strong { (s.user_agent.as_deref().map(short_agent).unwrap_or("Unknown device")) }
                                    @if &s.id == me.session { " " span class="pill info" { "This device" } }
                                }
                                div class="meta" {
                                    "Signed in " (s.created_at.display_short())
                                    " · last active " (s.last_seen_at.display_short())
                                    @if let Some(ip) = &s.ip { " · from " (ip) }
                                }
                                form method="post" action=(format!("/portal/profile/sessions/{}/revoke", s.id)) {
                                    button class="btn secondary small" type="submit" {
                                        "Sign out" span class="visually-hidden" { " this device, signed in " (s.created_at.display_short()) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    (status, page(&chrome, "Profile", Tab::Profile, body)).into_response()
}

/// "Firefox on Linux" from a user-agent string, or the string cut short.
fn short_agent(ua: &str) -> &str {
    const KNOWN: &[(&str, &str)] = &[
        ("Edg/", "Microsoft Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ];
    KNOWN.iter().find(|(k, _)| ua.contains(k)).map(|(_, v)| *v).unwrap_or_else(|| {
        let end = ua.char_indices().nth(60).map_or(ua.len(), |(i, _)| i);
        &ua[..end]
    })
}

pub async fn show(State(st): State<AppState>, c: PageCaller, Query(q): Query<ProfileQuery>) -> Response {
    let me = match me(&c) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let done = done_message(DONE, q.done.as_deref());
    render(&st, &c, me, StatusCode::OK, View { done, ..View::default() }).await
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailsForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub username: String,
}

pub async fn save_details(State(st): State<AppState>, c: PageCaller, Form(f): Form<DetailsForm>) -> Response {
    let me = match me(&c) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let patch =
        ProfilePatch { name: Some(f.name.clone()), username: Some(f.username.clone()), notification_prefs: None };
    match st.app.update_profile(me, patch).await {
        Ok(_) => back("details"),
        Err(e) => {
            let (status, msg, mut errors) = form_error(e);
            if status == StatusCode::CONFLICT {
                errors.insert("username".into(), "is taken; choose another".into());
            }
            let v =
                View { error: Some(msg), errors, name: Some(f.name), username: Some(f.username), ..View::default() };
            render(&st, &c, me, status, v).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PrefsForm {
    #[serde(default)]
    pub email_status_changes: Option<String>,
    #[serde(default)]
    pub email_comments: Option<String>,
    #[serde(default)]
    pub email_approvals: Option<String>,
}

pub async fn save_notifications(State(st): State<AppState>, c: PageCaller, Form(f): Form<PrefsForm>) -> Response {
    let me = match me(&c) {
        Ok(m) => m,
        Err(r) => return r,
    };
    // An unticked checkbox is simply absent from the form.
    let prefs = NotificationPrefs {
        email_status_changes: f.email_status_changes.is_some(),
        email_comments: f.email_comments.is_some(),
        email_approvals: f.email_approvals.is_some(),
    };
    let patch = ProfilePatch { notification_prefs: Some(prefs), ..ProfilePatch::default() };
    match st.app.update_profile(me, patch).await {
        Ok(_) => back("notifications"),
        Err(e) => {
            let (status, msg, errors) = form_error(e);
            render(&st, &c, me, status, View { error: Some(msg), errors, ..View::default() }).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
}

pub async fn change_password(State(st): State<AppState>, c: PageCaller, Form(f): Form<PasswordForm>) -> Response {
    let me = match me(&c) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let input = PasswordChange { current_password: f.current_password, new_password: f.new_password };
    match st.app.change_password(me, input).await {
        Ok(()) => back("password"),
        Err(e) => {
            let (status, msg, errors) = form_error(e);
            render(&st, &c, me, status, View { error: Some(msg), errors, ..View::default() }).await
        }
    }
}

/// The QR code of an `otpauth://` URI as inline SVG (no script, no style
/// attribute, so the CSP allows it), labelled for assistive technology.
fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    let start = svg.find("<svg")?;
    Some(svg[start..].replacen(
        "<svg ",
        "<svg role=\"img\" aria-label=\"QR code to add this account to your authenticator app\" ",
        1,
    ))
}

/// Groups of four for reading the secret aloud or typing it.
fn spaced(secret: &str) -> String {
    secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

async fn setup_view(
    st: &AppState,
    c: &PageCaller,
    s: &TotpSetupOut,
    status: StatusCode,
    error: Option<&String>,
) -> Response {
    let chrome = Chrome::for_ctx(st, &c.ctx).await;
    let body = html! {
        h1 { "Set up two-step verification" }
        div class="card stack setup-2fa" {
            ol class="steps" {
                li {
                    p { "Open your authenticator app and scan this QR code." }
                    @if let Some(svg) = qr_svg(&s.otpauth_uri) { div class="qr" { (PreEscaped(svg)) } }
                }
                li {
                    p { "Can't scan it? Add the account by hand with this key (time-based, 6 digits):" }
                    p { code class="secret" { (spaced(&s.secret)) } }
                }
                li {
                    p { "Enter the 6-digit code the app now shows, to confirm it works." }
                    form method="post" action="/portal/profile/totp/enable" novalidate {
                        (field("Code", "code", "text", "", error,
                            FieldOpts { inputmode: Some("numeric"), ..FieldOpts::required().autocomplete("one-time-code").max(10).autofocus() }))
                        button class="btn" type="submit" { "Turn on two-step verification" }
                    }
                }
            }
            p { a href=(HOME) { "Cancel" } }
        }
    };
    (status, page(&chrome, "Two-step verification", Tab::Profile, body)).into_response()
}

pub async fn totp_setup(State(st): State<AppState>, c: PageCaller) -> Response {
    let me = match me(&c) {
        Ok(m) => m,
        Err(r) => return r,
    };
    match st.app.totp_setup(me).await {
        Ok(s) => setup_view(&st, &c, &s, StatusCode::OK, None).await,
        Err(AppError::Conflict { .. }) => Redirect::to(HOME).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
}

pub async fn totp_enable(State(st): State<AppState>, c: PageCaller, Form(f): Form<CodeForm>) -> Response {
    let me = match me(&c) {
        Ok(m) => m,
        Err(r) => return r,
    };
    match st.app.totp_enable(me, TotpCode { code: f.code }).await {
        Ok(codes) => {
            let chrome = Chrome::for_ctx(&st, &c.ctx).await;
            let body = html! {
                h1 { "Two-step verification is on" }
                div class="card stack" {
                    (notice("ok", "From now on, signing in asks for a code from your authenticator app."))
                    h2 { "Save your recovery codes" }
                    p { "If you lose your phone, each of these codes signs you in once instead of an app code. "
                        strong { "They are shown only now:" } " print them or keep them in a password manager." }
                    ul class="codes" aria-label="Recovery codes" {
                        @for code in &codes.recovery_codes { li { code { (code) } } }
                    }
                    p { a class="btn" href=(HOME) { "I have saved my recovery codes" } }
                }
            };
            page(&chrome, "Recovery codes", Tab::Profile, body).into_response()
        }
        Err(AppError::Validation(v)) => match st.app.totp_pending(me).await {
            Ok(Some(s)) => {
                let msg = v.fields.get("code").cloned();
                setup_view(&st, &c, &s, StatusCode::UNPROCESSABLE_ENTITY, msg.as_ref()).await
            }
            _ => Redirect::to(HOME).into_response(),
        },
        Err(AppError::Conflict { .. }) => Redirect::to(HOME).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordOnly {
    #[serde(default)]
    pub password: String,
}

pub async fn totp_disable(State(st): State<AppState>, c: PageCaller, Form(f): Form<PasswordOnly>) -> Response {
    let me = match me(&c) {
        Ok(m) => m,
        Err(r) => return r,
    };
    match st.app.totp_disable(me, PasswordConfirm { password: f.password }).await {
        Ok(()) => back("totp_off"),
        Err(e) => {
            let (status, msg, errors) = form_error(e);
            render(&st, &c, me, status, View { error: Some(msg), errors, ..View::default() }).await
        }
    }
}

pub async fn revoke_session(State(st): State<AppState>, c: PageCaller, Path(id): Path<String>) -> Response {
    let me = match me(&c) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let current = me.session.as_str() == id;
    match st.app.revoke_my_session(me, &id).await {
        Ok(()) if current => {
            let mut res = Redirect::to("/login").into_response();
            res.headers_mut().insert(header::SET_COOKIE, clear_session_cookie(st.web.https));
            res
        }
        Ok(()) => back("session"),
        Err(AppError::NotFound) => {
            error_page(StatusCode::NOT_FOUND, "Page not found", "That device is not signed in any more.")
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_is_inline_svg_without_scripts_or_styles() {
        let svg = qr_svg("otpauth://totp/Acme%20support:a%40b.co?secret=JBSWY3DPEHPK3PXP&issuer=Acme").unwrap();
        assert!(svg.starts_with("<svg role=\"img\""));
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<script") && !svg.contains("style="));
    }

    #[test]
    fn agents_and_secrets_read_well() {
        assert_eq!(short_agent("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"), "Firefox");
        assert_eq!(short_agent("x".repeat(100).as_str()).len(), 60);
        assert_eq!(spaced("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
