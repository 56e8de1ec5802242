//! `/settings/portal` (`settings:manage`): name, description, colour,
//! announcement, section toggles and the logo; plus the per-tenant
//! branding files (`/branding/theme.css`, `/branding/logo`).

use super::forms::{FormData, field_errors, multipart_file, refusal, see_other};
use super::layout::{Chrome, Tab, page_at};
use super::{FieldOpts, PageCaller, field, notice};
use crate::AppState;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use tier0_app::portal::settings::{MAX_LOGO_BYTES, PortalSettingsInput, PortalSettingsOut};
use tier0_app::{AppError, Tenant, caps};
use tier0_domain::Section;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/portal", get(settings_page).post(settings_save))
        .route("/settings/portal/logo", post(logo_upload))
        .route("/settings/portal/logo/delete", post(logo_remove))
        .route("/branding/theme.css", get(theme_css))
        .route("/branding/logo", get(logo))
}

const PATH: &str = "/settings/portal";

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: Option<String>,
}

fn done_message(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "saved" => "The portal settings were saved.",
        "logo" => "The logo was uploaded.",
        "logo_removed" => "The logo was removed.",
        _ => return None,
    })
}

/// The form's values: from the saved settings, or as submitted.
fn settings_form(s: &PortalSettingsOut) -> FormData {
    let mut v = vec![
        ("name".to_owned(), s.name.clone().unwrap_or_default()),
        ("description".to_owned(), s.description.clone().unwrap_or_default()),
        ("primary_colour".to_owned(), s.primary_colour.clone().unwrap_or_default()),
        ("announcement".to_owned(), s.announcement.clone().unwrap_or_default()),
    ];
    v.extend(
        Section::ALL
            .into_iter()
            .filter(|x| !s.hidden_sections.contains(x))
            .map(|x| ("show".to_owned(), x.as_str().to_owned())),
    );
    FormData(v)
}

fn body(
    default_name: &str,
    s: &PortalSettingsOut,
    f: &FormData,
    errors: &BTreeMap<String, String>,
    logo_error: Option<&String>,
    done: Option<&str>,
) -> Markup {
    let shown = f.all("show");
    html! {
        h1 { "Portal settings" }
        p class="lead" { "How the self-service portal looks and what it offers. Changes show for everyone within a few seconds." }
        @if let Some(m) = done_message(done) { (notice("ok", m)) }
        @if !errors.is_empty() || logo_error.is_some() { (notice("error", "Please correct the fields marked below.")) }
        form class="stack" method="post" action=(PATH) novalidate {
            fieldset {
                legend { "Name and description" }
                (field("Portal name", "name", "text", f.get("name"), errors.get("name"),
                    FieldOpts::default().max(60).hint(&format!("Shown in the header and page titles. Leave empty for \"{default_name}\"."))))
                (field("Short description", "description", "textarea", f.get("description"), errors.get("description"),
                    FieldOpts::default().max(300).hint("Shown at the top of the service catalog, for example \"Ask for equipment, access and help here.\"")))
            }
            fieldset {
                legend { "Colour" }
                (field("Primary colour", "primary_colour", "text", f.get("primary_colour"), errors.get("primary_colour"),
                    FieldOpts::default().max(7).autocomplete("off").hint("A colour like #2446c7, used for buttons, links and the active tab. Leave empty for the default. Text on it is made black or white automatically, and links are darkened if needed, so everything stays readable.")))
            }
            fieldset {
                legend { "Announcement" }
                (field("Announcement text", "announcement", "textarea", f.get("announcement"), errors.get("announcement"),
                    FieldOpts::default().max(500).hint("Shown as a banner at the top of every portal page until you clear it. For more options (a link, an end time) use the status page in the agent workspace.")))
            }
            fieldset aria-describedby="sections-hint" {
                legend { "Sections" }
                span class="hint" id="sections-hint" { "Untick a section to hide it from everyone, whatever their role: its tab disappears and its pages answer \"not found\"." }
                @for sec in Section::ALL {
                    @let id = format!("f-show-{}", sec.as_str());
                    div class="check" {
                        input type="checkbox" id=(id) name="show" value=(sec.as_str()) checked[shown.iter().any(|x| x == sec.as_str())];
                        label for=(id) { (sec.label()) }
                    }
                }
                @if let Some(e) = errors.get("hidden_sections") { div class="field-error" role="alert" { "Sections: " (e) } }
            }
            div class="row" { button class="btn" type="submit" { "Save settings" } }
        }
        section class="manage-section" aria-labelledby="logo-h" {
            h2 id="logo-h" { "Logo" }
            @if let Some(url) = &s.logo_url {
                p class="logo-preview" { img src=(url) alt="The current logo" height="48"; }
            } @else {
                p class="meta" { "No logo yet: the portal shows its initials instead." }
            }
            form class="stack" method="post" action="/settings/portal/logo" enctype="multipart/form-data" {
                div class={ "field" @if logo_error.is_some() { " invalid" } } {
                    label for="f-logo" { "Logo image" }
                    span class="hint" id="f-logo-hint" { "PNG, JPEG or WebP, at most " (MAX_LOGO_BYTES / 1024) " KB. Shown 32 pixels high beside the portal name. SVG files are not accepted." }
                    input id="f-logo" type="file" name="logo" accept="image/png,image/jpeg,image/webp" required
                        aria-invalid=[logo_error.map(|_| "true")]
                        aria-describedby=(if logo_error.is_some() { "f-logo-error f-logo-hint" } else { "f-logo-hint" });
                    @if let Some(e) = logo_error { div class="field-error" id="f-logo-error" role="alert" { "Logo image " (e) } }
                }
                div class="row" { button class="btn" type="submit" { "Upload logo" } }
            }
            @if s.logo_url.is_some() {
                form method="post" action="/settings/portal/logo/delete" {
                    button class="btn secondary" type="submit" { "Remove logo" }
                }
            }
        }
    }
}

async fn render(
    st: &AppState,
    c: &PageCaller,
    status: StatusCode,
    s: &PortalSettingsOut,
    f: &FormData,
    errors: &BTreeMap<String, String>,
    logo_error: Option<&String>,
    done: Option<&str>,
) -> Response {
    let chrome = Chrome::for_ctx(st, &c.ctx).await;
    (
        status,
        page_at(
            &chrome,
            "Portal settings",
            Tab::Settings,
            PATH,
            body(&format!("{} support", c.ctx.tenant().name), s, f, errors, logo_error, done),
        ),
    )
        .into_response()
}

/// `GET /settings/portal`.
pub async fn settings_page(State(st): State<AppState>, c: PageCaller, Query(q): Query<DoneQuery>) -> Response {
    let s = match c.ctx.can::<caps::SettingsManage>() {
        Ok(by) => st.app.portal_settings(by).await,
        Err(e) => Err(e),
    };
    match s {
        Ok(s) => {
            render(&st, &c, StatusCode::OK, &s, &settings_form(&s), &BTreeMap::new(), None, q.done.as_deref()).await
        }
        Err(e) => refusal(&c, e),
    }
}

/// `POST /settings/portal`.
pub async fn settings_save(State(st): State<AppState>, c: PageCaller, f: FormData) -> Response {
    let by = match c.ctx.can::<caps::SettingsManage>() {
        Ok(by) => by,
        Err(e) => return refusal(&c, e),
    };
    let shown = f.all("show");
    let input = PortalSettingsInput {
        name: f.opt("name"),
        description: f.opt("description"),
        primary_colour: f.opt("primary_colour"),
        announcement: f.opt("announcement"),
        hidden_sections: Section::ALL
            .into_iter()
            .filter(|s| !shown.iter().any(|x| x == s.as_str()))
            .map(|s| s.as_str().to_owned())
            .collect(),
    };
    match st.app.save_portal_settings(by, input).await {
        Ok(_) => see_other("/settings/portal?done=saved"),
        Err(e) => match field_errors(e) {
            Err(e) => refusal(&c, e),
            Ok(errors) => match st.app.portal_settings(by).await {
                Ok(saved) => render(&st, &c, StatusCode::UNPROCESSABLE_ENTITY, &saved, &f, &errors, None, None).await,
                Err(e) => refusal(&c, e),
            },
        },
    }
}

/// `POST /settings/portal/logo` (multipart, field `logo`).
pub async fn logo_upload(
    State(st): State<AppState>,
    c: PageCaller,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let by = match c.ctx.can::<caps::SettingsManage>() {
        Ok(by) => by,
        Err(e) => return refusal(&c, e),
    };
    let result: Result<(), (StatusCode, String)> = match mp {
        Err(_) => Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, "could not be read; choose a file and try again".into())),
        Ok(mut mp) => match multipart_file(&mut mp, "logo").await {
            Err(e) => Err(e),
            Ok(None) => Err((StatusCode::UNPROCESSABLE_ENTITY, "is required; choose an image file".into())),
            Ok(Some(bytes)) => match st.app.set_portal_logo(by, &bytes).await {
                Ok(_) => Ok(()),
                Err(AppError::Validation(v)) => {
                    Err((StatusCode::UNPROCESSABLE_ENTITY, v.fields.into_values().next().unwrap_or_default()))
                }
                Err(AppError::TooLarge { message }) => Err((StatusCode::PAYLOAD_TOO_LARGE, message)),
                Err(e) => return refusal(&c, e),
            },
        },
    };
    match result {
        Ok(()) => see_other("/settings/portal?done=logo"),
        Err((status, msg)) => match st.app.portal_settings(by).await {
            Ok(s) => render(&st, &c, status, &s, &settings_form(&s), &BTreeMap::new(), Some(&msg), None).await,
            Err(e) => refusal(&c, e),
        },
    }
}

/// `POST /settings/portal/logo/delete`.
pub async fn logo_remove(State(st): State<AppState>, c: PageCaller) -> Response {
    let r = match c.ctx.can::<caps::SettingsManage>() {
        Ok(by) => st.app.remove_portal_logo(by).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => see_other("/settings/portal?done=logo_removed"),
        Err(e) => refusal(&c, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct VersionQuery {
    #[serde(default)]
    pub v: Option<i64>,
}

/// A versioned URL (`?v=` matching the current version) never changes,
/// so it can be cached for a year; anything else briefly.
fn cache_for(requested: Option<i64>, current: i64) -> HeaderValue {
    if requested == Some(current) {
        HeaderValue::from_static("public, max-age=31536000, immutable")
    } else {
        HeaderValue::from_static("public, max-age=60")
    }
}

/// `GET /branding/theme.css`: the tenant's colour as CSS variables (the
/// CSP forbids inline styles, so the colour comes as a stylesheet).
pub async fn theme_css(
    State(st): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let snap = match st.app.portal_snapshot(&tenant).await {
        Ok(s) => s,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let css = match snap.settings.primary_colour {
        Some(c) => format!(
            "/* Portal colour */\n:root {{ --brand: {}; --brand-ink: {}; --brand-text: {}; }}\n",
            c.to_hex(),
            c.ink().to_hex(),
            c.as_text_on_light().to_hex()
        ),
        None => "/* Default portal colour */\n".to_owned(),
    };
    let mut res = css.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, cache_for(q.v, snap.settings.version));
    res
}

/// `GET /branding/logo`: the uploaded logo (sniffed PNG, JPEG or WebP),
/// never sniffed again by the browser.
pub async fn logo(
    State(st): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let logo = match st.app.portal_logo(&tenant).await {
        Ok(Some(l)) => l,
        Ok(None) => {
            return super::error_page(
                StatusCode::NOT_FOUND,
                "Page not found",
                "The page you asked for does not exist.",
            );
        }
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let content_type = HeaderValue::from_str(&logo.content_type).unwrap_or(HeaderValue::from_static("image/png"));
    let mut res = logo.bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CACHE_CONTROL, cache_for(q.v, logo.version));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline; filename=\"logo\""));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}
