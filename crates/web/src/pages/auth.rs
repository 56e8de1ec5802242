//! Sign-in, the 2FA step and sign-out pages; `/` routes each user to
//! their landing path.

use super::layout::bare;
use super::{FieldOpts, PageCaller, field, notice, safe_next};
use crate::AppState;
use crate::extract::{clear_session_cookie, session_cookie};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use tier0_app::auth::{LoginInput, LoginStep, SessionOut};
use tier0_app::{AppError, Ctx};

/// `/`: the signed-in user's landing path, else the sign-in page.
pub async fn home(c: PageCaller) -> Response {
    match c.ctx.principal() {
        Some(p) => Redirect::to(p.nav().landing).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    pub challenge: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub next: Option<String>,
}

fn login_page(
    ctx: &Ctx,
    email: &str,
    next: &str,
    message: Option<Markup>,
    errors: &BTreeMap<String, String>,
) -> Markup {
    bare(
        "Sign in",
        html! {
            main id="main" class="narrow" {
                div class="auth-card" {
                    h1 { "Sign in to " (ctx.tenant().name) " support" }
                    @if let Some(m) = message { (m) }
                    form method="post" action="/login" novalidate {
                        input type="hidden" name="next" value=(next);
                        (field("E-mail address", "email", "email", email, errors.get("email"), FieldOpts::required().autocomplete("username").autofocus()))
                        (field("Password", "password", "password", "", errors.get("password"), FieldOpts::required().autocomplete("current-password")))
                        button class="btn" type="submit" { "Sign in" }
                    }
                    p { a href="/forgot-password" { "Forgot your password?" } }
                }
            }
        },
    )
}

fn verify_page(challenge: &str, next: &str, error: Option<&String>) -> Markup {
    bare(
        "Two-step verification",
        html! {
            main id="main" class="narrow" {
                div class="auth-card" {
                    h1 { "Enter your sign-in code" }
                    p { "Open your authenticator app and enter the 6-digit code for this account. Lost your device? Enter one of your recovery codes instead." }
                    form method="post" action="/login/verify" novalidate {
                        input type="hidden" name="challenge" value=(challenge);
                        input type="hidden" name="next" value=(next);
                        (field("Code", "code", "text", "", error, FieldOpts { inputmode: Some("numeric"), ..FieldOpts::required().autocomplete("one-time-code").autofocus().max(20) }))
                        button class="btn" type="submit" { "Verify" }
                    }
                    p { a href="/login" { "Start over" } }
                }
            }
        },
    )
}

pub async fn login_form(c: PageCaller, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    if c.ctx.is_signed_in() {
        return Redirect::to(&next).into_response();
    }
    login_page(&c.ctx, "", &next, None, &BTreeMap::new()).into_response()
}

/// Sign the browser in: set the cookie and continue to `next` (or the
/// user's landing page).
fn signed_in_response(st: &AppState, out: &SessionOut, next: &str, ctx: &Ctx) -> Response {
    // "/" redirects on to the landing path of the now signed-in user.
    let _ = ctx;
    let target = next.to_owned();
    let max_age = (out.expires_at.millis() - st.app.now().millis()) / 1000;
    let mut res = Redirect::to(&target).into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie(&out.token, max_age.max(0), st.web.https));
    res
}

fn login_error(ctx: &Ctx, email: &str, next: &str, e: AppError) -> Response {
    let msg = match &e {
        AppError::Unauthorized { message, .. } => message.clone(),
        AppError::Throttled { retry_after_secs } => {
            format!("Too many failed attempts. Try again in {} minutes.", retry_after_secs.div_ceil(60))
        }
        AppError::Validation(_) => "Enter your e-mail address and password.".into(),
        _ => "Sign-in is not available right now; please try again.".into(),
    };
    let status = crate::error::ApiError::from(e).status;
    (status, login_page(ctx, email, next, Some(notice("error", &msg)), &BTreeMap::new())).into_response()
}

pub async fn login_submit(State(st): State<AppState>, c: PageCaller, Form(f): Form<LoginForm>) -> Response {
    let next = safe_next(f.next.as_deref());
    let mut errors = BTreeMap::new();
    if f.email.trim().is_empty() {
        errors.insert("email".to_owned(), "is required".to_owned());
    }
    if f.password.is_empty() {
        errors.insert("password".to_owned(), "is required".to_owned());
    }
    if !errors.is_empty() {
        let m = notice("error", "Please fill in both fields.");
        return (axum::http::StatusCode::UNPROCESSABLE_ENTITY, login_page(&c.ctx, &f.email, &next, Some(m), &errors))
            .into_response();
    }
    let input = LoginInput { email: f.email.clone(), password: f.password, totp_code: None };
    match st.app.login_step(&c.ctx, input).await {
        Ok(LoginStep::Done(out)) => signed_in_response(&st, &out, &next, &c.ctx),
        Ok(LoginStep::NeedTotp { challenge }) => verify_page(&challenge, &next, None).into_response(),
        Err(e) => login_error(&c.ctx, &f.email, &next, e),
    }
}

pub async fn login_verify(State(st): State<AppState>, c: PageCaller, Form(f): Form<VerifyForm>) -> Response {
    let next = safe_next(f.next.as_deref());
    match st.app.login_totp(&c.ctx, &f.challenge, &f.code).await {
        Ok(out) => signed_in_response(&st, &out, &next, &c.ctx),
        Err(AppError::Unauthorized { code: "invalid_totp" | "totp_required", .. }) => {
            let msg = "is not valid; try the current code or a recovery code".to_owned();
            (axum::http::StatusCode::UNAUTHORIZED, verify_page(&f.challenge, &next, Some(&msg))).into_response()
        }
        Err(e) => login_error(&c.ctx, "", &next, e),
    }
}

pub async fn logout(State(st): State<AppState>, c: PageCaller) -> Response {
    let _ = st.app.logout(&c.ctx).await;
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().insert(header::SET_COOKIE, clear_session_cookie(st.web.https));
    res
}
