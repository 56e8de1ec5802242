//! The JSON API. Every endpoint is registered here through `routes!`, which
//! also adds it to the OpenAPI document served at `/api/openapi.json`.

pub mod approvals;
pub mod auth;
pub mod catalog;
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
        (name = "catalog", description = "Service catalog: categories, items and their forms"),
        (name = "requests", description = "Service requests: filing, the queue, comments, transitions, attachments"),
        (name = "approvals", description = "Approval workflows and approvers' decisions"),
        (name = "incidents", description = "Incidents"),
        (name = "notifications", description = "The signed-in user's in-app notifications"),
    )
)]
struct ApiDoc;

/// Every API route with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::invite))
        .routes(routes!(auth::signup_exchange))
        .routes(routes!(auth::forgot_password))
        .routes(routes!(auth::reset_password))
        .routes(routes!(auth::me, auth::patch_me))
        .routes(routes!(auth::change_password))
        .routes(routes!(auth::my_sessions))
        .routes(routes!(auth::totp_setup))
        .routes(routes!(auth::totp_enable))
        .routes(routes!(auth::totp_disable))
        .routes(routes!(users::list_users))
        .routes(routes!(users::get_user, users::patch_user))
        .routes(routes!(rbac::list_roles, rbac::create_role))
        .routes(routes!(rbac::get_role_permissions, rbac::put_role_permissions))
        .routes(routes!(rbac::can_i))
        .routes(routes!(rbac::audit))
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
}

/// Routes outside the tenant and the OpenAPI document.
pub fn system_routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
        .route("/api/openapi.json", get(system::openapi))
}

/// Add the security schemes and render the document once at start.
pub fn finish_openapi(mut doc: utoipa::openapi::OpenApi) -> String {
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

pub async fn method_not_allowed() -> Response {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "This endpoint does not support that method.")
        .into_response()
}

/// Shared OpenAPI response descriptions.
pub mod doc {
    pub const UNAUTHORIZED: &str = "Not signed in";
    pub const FORBIDDEN: &str = "Signed in but not allowed";
    pub const NOT_FOUND: &str = "Absent or not visible";
    pub const INVALID: &str = "Validation failed (per-field messages)";
}
