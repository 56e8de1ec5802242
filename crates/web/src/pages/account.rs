//! Getting into an account without being signed in: sign-up from an
//! invite, "forgot password" and the reset page. Each form posts back to
//! its own path and shows field errors next to the fields.

use super::layout::bare;
use super::{FieldOpts, PageCaller, field, form_error, notice};
use crate::AppState;
use crate::extract::session_cookie;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use tier0_app::auth::SessionOut;
use tier0_app::auth::accounts::{ForgotInput, InvitePreview, ResetInput, ResetPreview, SignupInput};
use tier0_app::{AppError, Ctx};
use tier0_domain::Email;

type Errors = BTreeMap<String, String>;

const PASSWORD_HINT: &str = "At least 8 characters. A phrase of a few unrelated words is strong and easy to remember.";

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    pub token: String,
}

/// A centred card without the portal chrome.
fn card(title: &str, body: Markup) -> Markup {
    bare(
        title,
        html! {
            main id="main" class="narrow" {
                div class="auth-card" { (body) }
            }
        },
    )
}

/// Set the session cookie and go to the user's landing page.
pub(crate) fn start_session(st: &AppState, out: &SessionOut, to: &str) -> Response {
    let max_age = (out.expires_at.millis() - st.app.now().millis()) / 1000;
    let mut res = Redirect::to(to).into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie(&out.token, max_age.max(0), st.web.https));
    res
}

fn bad_link(ctx: &Ctx, what: &str) -> Response {
    let body = html! {
        h1 { "This link cannot be used" }
        p { "The " (what) " link is invalid, has expired or was already used." }
        @if what == "password reset" {
            p { a href="/forgot-password" { "Ask for a new reset link" } }
        } @else {
            p { "Ask an administrator of " (ctx.tenant().name) " to send you a new invitation." }
        }
        p { a href="/login" { "Go to sign-in" } }
    };
    (StatusCode::BAD_REQUEST, card("Link not valid", body)).into_response()
}

// ---------------------------------------------------------------- sign-up

#[derive(Debug, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub password: String,
}

fn signup_page(ctx: &Ctx, p: &InvitePreview, f: &SignupForm, message: Option<Markup>, errors: &Errors) -> Markup {
    let org = &ctx.tenant().name;
    card(
        "Create your account",
        html! {
            h1 { "Join " (org) " support" }
            p {
                "You were invited as " strong { (p.role) } "."
                @if let Some(e) = &p.email { " Your account will use " strong { (e) } "." }
                " The invitation expires " (p.expires_at.display_short()) "."
            }
            @if let Some(m) = message { (m) }
            form method="post" action="/signup" novalidate {
                input type="hidden" name="token" value=(f.token);
                @if p.email.is_none() {
                    (field("E-mail address", "email", "email", &f.email, errors.get("email"), FieldOpts::required().autocomplete("email").max(254).autofocus()))
                }
                (field("Your name", "name", "text", &f.name, errors.get("name"), FieldOpts::required().autocomplete("name").max(100)))
                (field("Choose a password", "password", "password", "", errors.get("password"), FieldOpts::required().autocomplete("new-password").max(128).hint(PASSWORD_HINT)))
                button class="btn" type="submit" { "Create account" }
            }
            p class="meta" { "Already have an account? " a href="/login" { "Sign in" } }
        },
    )
}

pub async fn signup_form(State(st): State<AppState>, c: PageCaller, Query(q): Query<TokenQuery>) -> Response {
    match st.app.preview_invite(&c.ctx, &q.token).await {
        Ok(p) => {
            let f = SignupForm { token: q.token, ..SignupForm::default() };
            signup_page(&c.ctx, &p, &f, None, &Errors::new()).into_response()
        }
        Err(_) => bad_link(&c.ctx, "invitation"),
    }
}

pub async fn signup_submit(State(st): State<AppState>, c: PageCaller, Form(f): Form<SignupForm>) -> Response {
    let Ok(preview) = st.app.preview_invite(&c.ctx, &f.token).await else { return bad_link(&c.ctx, "invitation") };
    let mut errors = Errors::new();
    if f.name.trim().is_empty() {
        errors.insert("name".into(), "is required".into());
    }
    if f.password.is_empty() {
        errors.insert("password".into(), "is required".into());
    }
    if !errors.is_empty() {
        let m = notice("error", "Please correct the fields marked below.");
        return (StatusCode::UNPROCESSABLE_ENTITY, signup_page(&c.ctx, &preview, &f, Some(m), &errors)).into_response();
    }
    let input = SignupInput {
        token: f.token.clone(),
        password: f.password.clone(),
        name: Some(f.name.clone()),
        email: preview.email.is_none().then(|| f.email.clone()),
    };
    match st.app.signup_exchange(&c.ctx, input).await {
        Ok(out) => start_session(&st, &out, "/"),
        Err(AppError::BadRequest { code: "invalid_token", .. }) => bad_link(&c.ctx, "invitation"),
        Err(e) => {
            let (status, msg, errors) = form_error(e);
            (status, signup_page(&c.ctx, &preview, &f, Some(notice("error", &msg)), &errors)).into_response()
        }
    }
}

// -------------------------------------------------------- forgot password

#[derive(Debug, Default, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    pub email: String,
}

fn forgot_page(ctx: &Ctx, email: &str, message: Option<Markup>, errors: &Errors) -> Markup {
    card(
        "Forgot your password?",
        html! {
            h1 { "Reset your password" }
            p { "Enter the e-mail address of your " (ctx.tenant().name) " support account. We will send you a link to choose a new password." }
            @if let Some(m) = message { (m) }
            form method="post" action="/forgot-password" novalidate {
                (field("E-mail address", "email", "email", email, errors.get("email"), FieldOpts::required().autocomplete("username").max(254).autofocus()))
                button class="btn" type="submit" { "Send reset link" }
            }
            p { a href="/login" { "Back to sign-in" } }
        },
    )
}

pub async fn forgot_form(c: PageCaller) -> Response {
    forgot_page(&c.ctx, "", None, &Errors::new()).into_response()
}

pub async fn forgot_submit(State(st): State<AppState>, c: PageCaller, Form(f): Form<ForgotForm>) -> Response {
    // Only the address's shape is checked here; whether an account exists
    // is never revealed.
    if let Err(e) = Email::parse("email", &f.email) {
        let m = notice("error", "Please correct the field marked below.");
        return (StatusCode::UNPROCESSABLE_ENTITY, forgot_page(&c.ctx, &f.email, Some(m), &e.fields)).into_response();
    }
    match st.app.forgot_password(&c.ctx, ForgotInput { email: f.email.clone() }).await {
        Ok(()) => {
            let body = html! {
                h1 { "Check your e-mail" }
                p role="status" {
                    "If " strong { (f.email.trim()) } " belongs to an account here, a link to choose a new password is on its way. "
                    "It works once, for 30 minutes."
                }
                p { "Nothing arrived after a few minutes? Check your spam folder, or contact your service desk." }
                p { a href="/login" { "Back to sign-in" } }
            };
            (StatusCode::ACCEPTED, card("Check your e-mail", body)).into_response()
        }
        Err(e) => {
            let (status, msg, errors) = form_error(e);
            (status, forgot_page(&c.ctx, &f.email, Some(notice("error", &msg)), &errors)).into_response()
        }
    }
}

// --------------------------------------------------------- reset password

#[derive(Debug, Default, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub totp_code: String,
}

fn reset_page(p: &ResetPreview, token: &str, message: Option<Markup>, errors: &Errors) -> Markup {
    card(
        "Choose a new password",
        html! {
            h1 { "Choose a new password" }
            p { "For " strong { (p.email) } ". Saving it signs you out everywhere else." }
            @if let Some(m) = message { (m) }
            form method="post" action="/reset-password" novalidate {
                input type="hidden" name="token" value=(token);
                (field("New password", "password", "password", "", errors.get("password"), FieldOpts::required().autocomplete("new-password").max(128).hint(PASSWORD_HINT).autofocus()))
                @if p.totp_required {
                    (field("Authenticator code", "totp_code", "text", "", errors.get("totp_code"),
                        FieldOpts { inputmode: Some("numeric"), ..FieldOpts::required().autocomplete("one-time-code").max(20).hint("The 6-digit code from your authenticator app, or a recovery code.") }))
                }
                button class="btn" type="submit" { "Save new password" }
            }
        },
    )
}

pub async fn reset_form(State(st): State<AppState>, c: PageCaller, Query(q): Query<TokenQuery>) -> Response {
    match st.app.preview_reset(&c.ctx, &q.token).await {
        Ok(p) => reset_page(&p, &q.token, None, &Errors::new()).into_response(),
        Err(_) => bad_link(&c.ctx, "password reset"),
    }
}

pub async fn reset_submit(State(st): State<AppState>, c: PageCaller, Form(f): Form<ResetForm>) -> Response {
    let Ok(preview) = st.app.preview_reset(&c.ctx, &f.token).await else { return bad_link(&c.ctx, "password reset") };
    let input = ResetInput {
        token: f.token.clone(),
        password: f.password.clone(),
        totp_code: Some(f.totp_code.clone()).filter(|c| !c.trim().is_empty()),
    };
    match st.app.reset_password(&c.ctx, input).await {
        Ok(out) => start_session(&st, &out, "/"),
        Err(AppError::BadRequest { code: "invalid_token", .. }) => bad_link(&c.ctx, "password reset"),
        Err(AppError::Unauthorized { code, message }) if matches!(code, "totp_required" | "invalid_totp") => {
            let errors = Errors::from([(
                "totp_code".to_owned(),
                if code == "totp_required" { "is required".to_owned() } else { "is not valid".to_owned() },
            )]);
            let m = notice("error", &message);
            (StatusCode::UNAUTHORIZED, reset_page(&preview, &f.token, Some(m), &errors)).into_response()
        }
        Err(e) => {
            let (status, msg, errors) = form_error(e);
            (status, reset_page(&preview, &f.token, Some(notice("error", &msg)), &errors)).into_response()
        }
    }
}
