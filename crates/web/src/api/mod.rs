//! The JSON API. Every endpoint is registered here through `routes!`, which
//! also adds it to the OpenAPI document served at `/api/openapi.json`.

pub mod approvals;
pub mod auth;
pub mod catalog;
pub mod kb;
pub mod portal;
pub mod rbac;
pub mod requests;
pub mod system;
pub mod users;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tier0 API", description = "Tier0 IT service desk: self-service portal, requests, knowledge and identity."),
    components(schemas(ErrorBody)),
    tags(
        (name = "system", description = "Health and metadata"),
        (name = "auth", description = "Sign-in, invites, password reset"),
        (name = "me", description = "The signed-in user's own account"),
        (name = "users", description = "Users and access"),
        (name = "rbac", description = "Roles, permissions and the audit log"),
        (name = "status", description = "The status page: services, maintenance windows and public updates"),
        (name = "announcements", description = "Announcement banners and their per-user dismissal"),
        (name = "portal", description = "Portal settings: name, branding and section toggles"),
        (name = "catalog", description = "Service catalog: categories, items and their forms"),
        (name = "requests", description = "Service requests: filing, the queue, comments, transitions, attachments"),
        (name = "approvals", description = "Approval workflows and approvers' decisions"),
        (name = "incidents", description = "Incidents"),
        (name = "notifications", description = "The signed-in user's in-app notifications"),
        (name = "knowledge", description = "Knowledge base, known errors and knowledge search"),
    )
)]
struct ApiDoc;

/// Every API route with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::openapi))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::invite))
        .routes(routes!(auth::list_invites))
        .routes(routes!(auth::revoke_invite))
        .routes(routes!(auth::signup_exchange))
        .routes(routes!(auth::forgot_password))
        .routes(routes!(auth::reset_password))
        .routes(routes!(auth::me, auth::patch_me))
        .routes(routes!(auth::change_password))
        .routes(routes!(auth::my_sessions))
        .routes(routes!(auth::revoke_my_session))
        .routes(routes!(auth::totp_setup))
        .routes(routes!(auth::totp_enable))
        .routes(routes!(auth::totp_disable))
        .routes(routes!(users::list_users))
        .routes(routes!(users::get_user, users::patch_user))
        .routes(routes!(rbac::list_roles, rbac::create_role))
        .routes(routes!(rbac::delete_role))
        .routes(routes!(rbac::get_role_permissions, rbac::put_role_permissions))
        .routes(routes!(rbac::can_i))
        .routes(routes!(rbac::audit))
        // Portal: status page, announcements, settings.
        .routes(routes!(portal::status_overview))
        .routes(routes!(portal::list_services, portal::create_service))
        .routes(routes!(portal::get_service, portal::patch_service, portal::delete_service))
        .routes(routes!(portal::list_maintenance, portal::create_maintenance))
        .routes(routes!(portal::get_maintenance, portal::put_maintenance, portal::delete_maintenance))
        .routes(routes!(portal::list_notes, portal::create_note))
        .routes(routes!(portal::get_note, portal::put_note, portal::delete_note))
        .routes(routes!(portal::list_announcements, portal::create_announcement))
        .routes(routes!(portal::get_announcement, portal::put_announcement, portal::delete_announcement))
        .routes(routes!(portal::active_announcements))
        .routes(routes!(portal::dismiss_announcement))
        .routes(routes!(portal::portal_info))
        .routes(routes!(portal::get_settings, portal::put_settings))
        .routes(routes!(portal::upload_logo, portal::delete_logo))
        // Service catalog, requests, approvals, incidents, notifications (SPEC §5).
        .routes(routes!(catalog::list_catalog, catalog::create_catalog_item))
        .routes(routes!(catalog::list_categories, catalog::create_category))
        .routes(routes!(catalog::get_category, catalog::patch_category, catalog::delete_category))
        .routes(routes!(catalog::get_catalog_item, catalog::patch_catalog_item, catalog::delete_catalog_item))
        .routes(routes!(catalog::list_workflows, catalog::create_workflow))
        .routes(routes!(catalog::get_workflow, catalog::patch_workflow))
        .routes(routes!(requests::create_request, requests::list_requests))
        .routes(routes!(requests::queue_summary))
        .routes(routes!(requests::list_agents))
        .routes(routes!(requests::get_request, requests::patch_request))
        .routes(routes!(requests::transition_request))
        .routes(routes!(requests::list_comments, requests::add_comment))
        .routes(routes!(requests::add_watcher))
        .routes(routes!(requests::remove_watcher))
        .routes(routes!(requests::download_attachment))
        .routes(routes!(approvals::list_approvals))
        .routes(routes!(approvals::decide_approval))
        .routes(routes!(approvals::list_incidents, approvals::create_incident))
        .routes(routes!(approvals::get_incident))
        .routes(routes!(approvals::list_notifications))
        .routes(routes!(approvals::mark_notification_read))
        .routes(routes!(approvals::mark_all_notifications_read))
        // Uploads stream up to `WebConfig::max_upload_bytes` (checked in the
        // handler), so the global JSON body limit is lifted on this route only.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(requests::upload_attachment))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .routes(routes!(kb::list_articles, kb::create_article))
        .routes(routes!(kb::get_article, kb::update_article))
        .routes(routes!(kb::article_versions))
        .routes(routes!(kb::article_feedback))
        .routes(routes!(kb::preview))
        .routes(routes!(kb::list_known_errors, kb::create_known_error))
        .routes(routes!(kb::get_known_error, kb::update_known_error))
        .routes(routes!(kb::known_error_versions))
        .routes(routes!(kb::get_synonyms, kb::put_synonyms))
        .routes(routes!(kb::search))
        .routes(routes!(kb::suggest))
        .routes(routes!(kb::zero_results))
}

/// Routes outside the tenant and the OpenAPI document (`/healthz`,
/// `/readyz`, `/metrics`).
pub fn system_routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
}

/// Responses any operation can give because of what every request passes
/// through (tenant resolution, body parsing, CSRF), added where a handler
/// did not describe them itself.
fn add_common_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |desc: &str| -> RefOr<utoipa::openapi::Response> {
        RefOr::T(
            ResponseBuilder::new()
                .description(desc)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [
            (&mut item.get, false),
            (&mut item.delete, true),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.patch, true),
        ];
        for (op, unsafe_method) in ops {
            let Some(op) = op.as_mut() else { continue };
            let has_body = op.request_body.is_some();
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let mut add = |code: &str, desc: &str| {
                op.responses.responses.entry(code.to_owned()).or_insert_with(|| error(desc));
            };
            add("400", "Malformed request");
            add("404", "Unknown tenant, or absent or not visible");
            add("422", "Validation failed (per-field messages)");
            if secured {
                add("401", "Not signed in");
            }
            if unsafe_method {
                add("403", "`csrf_rejected`: a cookie-authenticated request from another site, or not allowed");
            }
            if has_body {
                add("413", "Request body too large");
                add("415", "Send JSON with Content-Type: application/json");
            }
        }
    }
}

/// Add the security schemes and render the document once at start.
pub fn finish_openapi(mut doc: utoipa::openapi::OpenApi) -> String {
    add_common_responses(&mut doc);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("Session token from sign-in")).build(),
        ),
    );
    components.add_security_scheme("cookie", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("tier0_session"))));
    doc.to_json().unwrap_or_else(|_| "{}".into())
}

/// Unknown routes: JSON 404 under `/api`, an HTML page elsewhere.
pub async fn fallback(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") || uri.path() == "/api" {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "There is no such API endpoint.").into_response()
    } else {
        crate::pages::error_page(StatusCode::NOT_FOUND, "Page not found", "The page you asked for does not exist.")
    }
}

/// A known path with the wrong method: the SPEC error for the API, a page
/// for people (a form's address opened directly, say).
pub async fn method_not_allowed(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") || uri.path() == "/api" {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This endpoint does not support that method.",
        )
        .into_response()
    } else {
        crate::pages::error_page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Nothing to show here",
            "This address only takes a form being sent; it has no page of its own.",
        )
    }
}

/// Shared OpenAPI response descriptions.
pub mod doc {
    pub const UNAUTHORIZED: &str = "Not signed in";
    pub const FORBIDDEN: &str = "Signed in but not allowed";
    pub const NOT_FOUND: &str = "Absent or not visible";
    pub const INVALID: &str = "Validation failed (per-field messages)";
}
