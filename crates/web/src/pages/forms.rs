//! Helpers for form pages: a URL-encoded form body that keeps repeated
//! fields (checkbox groups), multipart file fields, and turning use-case
//! refusals into pages.

use super::{PageCaller, error_page};
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::BTreeMap;
use tier0_app::AppError;

/// A submitted `application/x-www-form-urlencoded` form, field order and
/// repeats kept.
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// The first value, `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        let v = self.get(name).trim();
        (!v.is_empty()).then(|| v.to_owned())
    }

    /// Every value of `name` (checkbox groups).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let urlencoded = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !urlencoded {
            return Err(error_page(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Form not understood",
                "Send this form from its page.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            error_page(status, "Form not accepted", "The form could not be read; it may be too large.")
        })?;
        Ok(Self(url::form_urlencoded::parse(&bytes).into_owned().collect()))
    }
}

/// Read one file field of a multipart form; `Ok(None)` when the form has
/// no such field or it is empty. Errors are (status, message).
pub async fn multipart_file(mp: &mut Multipart, name: &str) -> Result<Option<Vec<u8>>, (StatusCode, String)> {
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(None),
            Err(e) => return Err((e.status(), "the upload could not be read".into())),
        };
        if field.name() == Some(name) {
            let bytes = field.bytes().await.map_err(|e| {
                let status = e.status();
                let msg = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "the file is too large".to_owned()
                } else {
                    "the upload could not be read".to_owned()
                };
                (status, msg)
            })?;
            return Ok((!bytes.is_empty()).then(|| bytes.to_vec()));
        }
    }
}

/// What a page shows for a refused or failed use case: sign-in for
/// anonymous callers, an error page otherwise (404 for anything the
/// caller may not see, as the API does).
pub fn refusal(c: &PageCaller, e: AppError) -> Response {
    match e {
        AppError::Unauthenticated => super::login_redirect(&c.path),
        AppError::Forbidden { .. } => error_page(
            StatusCode::FORBIDDEN,
            "You don't have access to this page",
            "Your account is not allowed to use this page. Ask an administrator if you need it.",
        ),
        AppError::NotFound => {
            error_page(StatusCode::NOT_FOUND, "Page not found", "The page you asked for does not exist.")
        }
        other => {
            let api = crate::error::ApiError::from(other);
            error_page(api.status, "Something went wrong", &api.message)
        }
    }
}

/// The per-field messages of a validation error (others pass through).
pub fn field_errors(e: AppError) -> Result<BTreeMap<String, String>, AppError> {
    match e {
        AppError::Validation(v) => Ok(v.fields),
        other => Err(other),
    }
}

/// After a successful form: back to `to` (303, so a reload does not
/// resubmit).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A labelled `<select>` with its error shown next to it (and announced).
pub fn select_field(
    label: &str,
    name: &str,
    options: &[(&str, &str)],
    selected: &str,
    error: Option<&String>,
    hint: Option<&str>,
) -> maud::Markup {
    let id = format!("f-{name}");
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let describedby: Vec<&str> =
        [error.map(|_| err_id.as_str()), hint.map(|_| hint_id.as_str())].into_iter().flatten().collect();
    let describedby = (!describedby.is_empty()).then(|| describedby.join(" "));
    maud::html! {
        div class={ "field" @if error.is_some() { " invalid" } } {
            label for=(id) { (label) }
            @if let Some(h) = hint { span class="hint" id=(hint_id) { (h) } }
            select id=(id) name=(name) aria-invalid=[error.map(|_| "true")] aria-describedby=[describedby.as_deref()] {
                @for (value, text) in options {
                    option value=(value) selected[*value == selected] { (text) }
                }
            }
            @if let Some(e) = error { div class="field-error" id=(err_id) role="alert" { (label) " " (e) } }
        }
    }
}

/// A group of checkboxes in a fieldset with a legend.
pub fn checkbox_group(
    legend: &str,
    name: &str,
    options: &[(String, String)],
    checked: &[String],
    error: Option<&String>,
    hint: Option<&str>,
) -> maud::Markup {
    let err_id = format!("f-{name}-error");
    maud::html! {
        fieldset class={ "field" @if error.is_some() { " invalid" } } aria-describedby=[error.map(|_| err_id.as_str())] {
            legend { (legend) }
            @if let Some(h) = hint { span class="hint" { (h) } }
            @if options.is_empty() { p class="meta" { "Nothing to choose from yet." } }
            @for (i, (value, text)) in options.iter().enumerate() {
                @let id = format!("f-{name}-{i}");
                div class="check" {
                    input type="checkbox" id=(id) name=(name) value=(value) checked[checked.contains(value)];
                    label for=(id) { (text) }
                }
            }
            @if let Some(e) = error { div class="field-error" id=(err_id) role="alert" { (legend) ": " (e) } }
        }
    }
}

/// `<time>` for a timestamp, shown as `YYYY-MM-DD HH:MM UTC`.
pub fn time_el(t: tier0_domain::Timestamp) -> maud::Markup {
    maud::html! { time datetime=(t.to_rfc3339()) { (t.display_short()) } }
}
