//! The status page (`/api/status`, `/api/itsm/status/*`), announcements
//! (`/api/itsm/announcements*`, `/api/announcements/*`) and portal
//! settings (`/api/settings/portal*`, `/api/portal`).

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody, Json, Query};
use crate::extract::Caller;
use axum::Extension;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tier0_app::Tenant;
use tier0_app::auth::users::Page;
use tier0_app::portal::announcements::AnnouncementInput;
use tier0_app::portal::settings::{PortalInfo, PortalSettingsInput, PortalSettingsOut};
use tier0_app::portal::status::{
    ListQuery, MaintenanceInput, NoteInput, NoteQuery, ServiceInput, ServicePatch, StatusOverview,
};
use tier0_domain::portal::{Announcement, MaintenanceWindow, StatusNote, StatusService};

fn created<T: serde::Serialize>(v: T) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}

// ---- Reading the status page ----------------------------------------------

#[utoipa::path(get, path = "/api/status", tag = "status", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = StatusOverview), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "The Status section is hidden")))]
pub async fn status_overview(State(st): State<AppState>, c: Caller) -> ApiResult<Json<StatusOverview>> {
    Ok(Json(st.app.status_overview(c.ctx.can()?).await?))
}

// ---- Services ------------------------------------------------------------

#[utoipa::path(get, path = "/api/itsm/status/services", tag = "status", params(ListQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<StatusService>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_services(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<StatusService>>> {
    Ok(Json(st.app.list_status_services(c.ctx.can()?, q).await?))
}

#[utoipa::path(post, path = "/api/itsm/status/services", tag = "status", request_body = ServiceInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = StatusService), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`service_exists` or `limit_reached`"), (status = 422, body = ErrorBody)))]
pub async fn create_service(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<ServiceInput>,
) -> ApiResult<Response> {
    Ok(created(st.app.create_status_service(c.ctx.can()?, input).await?))
}

#[utoipa::path(get, path = "/api/itsm/status/services/{id}", tag = "status", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = StatusService), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_service(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<StatusService>> {
    Ok(Json(st.app.get_status_service(c.ctx.can()?, &id).await?))
}

#[utoipa::path(patch, path = "/api/itsm/status/services/{id}", tag = "status", params(("id" = String, Path)), request_body = ServicePatch,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = StatusService), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`service_exists`"), (status = 422, body = ErrorBody)))]
pub async fn patch_service(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(input): Json<ServicePatch>,
) -> ApiResult<Json<StatusService>> {
    Ok(Json(st.app.update_status_service(c.ctx.can()?, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/itsm/status/services/{id}", tag = "status", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Deleted with its updates"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_service(State(st): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    st.app.delete_status_service(c.ctx.can()?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Maintenance -----------------------------------------------------------

#[utoipa::path(get, path = "/api/itsm/status/maintenance", tag = "status", params(ListQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<MaintenanceWindow>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_maintenance(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<MaintenanceWindow>>> {
    Ok(Json(st.app.list_maintenance(c.ctx.can()?, q).await?))
}

#[utoipa::path(post, path = "/api/itsm/status/maintenance", tag = "status", request_body = MaintenanceInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = MaintenanceWindow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_maintenance(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<MaintenanceInput>,
) -> ApiResult<Response> {
    Ok(created(st.app.create_maintenance(c.ctx.can()?, input).await?))
}

#[utoipa::path(get, path = "/api/itsm/status/maintenance/{id}", tag = "status", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = MaintenanceWindow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_maintenance(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MaintenanceWindow>> {
    Ok(Json(st.app.get_maintenance(c.ctx.can()?, &id).await?))
}

#[utoipa::path(put, path = "/api/itsm/status/maintenance/{id}", tag = "status", params(("id" = String, Path)), request_body = MaintenanceInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = MaintenanceWindow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_maintenance(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(input): Json<MaintenanceInput>,
) -> ApiResult<Json<MaintenanceWindow>> {
    Ok(Json(st.app.update_maintenance(c.ctx.can()?, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/itsm/status/maintenance/{id}", tag = "status", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_maintenance(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    st.app.delete_maintenance(c.ctx.can()?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Incident notes --------------------------------------------------------

#[utoipa::path(get, path = "/api/itsm/status/notes", tag = "status", params(NoteQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<StatusNote>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_notes(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<NoteQuery>,
) -> ApiResult<Json<Page<StatusNote>>> {
    Ok(Json(st.app.list_status_notes(c.ctx.can()?, q).await?))
}

#[utoipa::path(post, path = "/api/itsm/status/notes", tag = "status", request_body = NoteInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = StatusNote), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_note(State(st): State<AppState>, c: Caller, Json(input): Json<NoteInput>) -> ApiResult<Response> {
    Ok(created(st.app.create_status_note(c.ctx.can()?, input).await?))
}

#[utoipa::path(get, path = "/api/itsm/status/notes/{id}", tag = "status", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = StatusNote), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_note(State(st): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<StatusNote>> {
    Ok(Json(st.app.get_status_note(c.ctx.can()?, &id).await?))
}

#[utoipa::path(put, path = "/api/itsm/status/notes/{id}", tag = "status", params(("id" = String, Path)), request_body = NoteInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = StatusNote), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_note(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(input): Json<NoteInput>,
) -> ApiResult<Json<StatusNote>> {
    Ok(Json(st.app.update_status_note(c.ctx.can()?, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/itsm/status/notes/{id}", tag = "status", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_note(State(st): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    st.app.delete_status_note(c.ctx.can()?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Announcements ---------------------------------------------------------

#[utoipa::path(get, path = "/api/itsm/announcements", tag = "announcements", params(ListQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<Announcement>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_announcements(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<Announcement>>> {
    Ok(Json(st.app.list_announcements(c.ctx.can()?, q).await?))
}

#[utoipa::path(post, path = "/api/itsm/announcements", tag = "announcements", request_body = AnnouncementInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Announcement), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_announcement(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<AnnouncementInput>,
) -> ApiResult<Response> {
    Ok(created(st.app.create_announcement(c.ctx.can()?, input).await?))
}

#[utoipa::path(get, path = "/api/itsm/announcements/{id}", tag = "announcements", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Announcement), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_announcement(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Announcement>> {
    Ok(Json(st.app.get_announcement(c.ctx.can()?, &id).await?))
}

#[utoipa::path(put, path = "/api/itsm/announcements/{id}", tag = "announcements", params(("id" = String, Path)), request_body = AnnouncementInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Announcement), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_announcement(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(input): Json<AnnouncementInput>,
) -> ApiResult<Json<Announcement>> {
    Ok(Json(st.app.update_announcement(c.ctx.can()?, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/itsm/announcements/{id}", tag = "announcements", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_announcement(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    st.app.delete_announcement(c.ctx.can()?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/announcements/active", tag = "announcements", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<Announcement>, description = "Active announcements the caller has not dismissed"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn active_announcements(State(st): State<AppState>, c: Caller) -> ApiResult<Json<Vec<Announcement>>> {
    Ok(Json(st.app.active_announcements(c.ctx.can()?).await?))
}

#[utoipa::path(post, path = "/api/announcements/{id}/dismiss", tag = "announcements", params(("id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Hidden for the caller from now on"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn dismiss_announcement(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    st.app.dismiss_announcement(c.ctx.signed_in()?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Portal settings -------------------------------------------------------

#[utoipa::path(get, path = "/api/portal", tag = "portal",
    responses((status = 200, body = PortalInfo, description = "Name, branding and the sections people can use")))]
pub async fn portal_info(
    State(st): State<AppState>,
    Extension(tenant): Extension<Tenant>,
) -> ApiResult<Json<PortalInfo>> {
    Ok(Json(st.app.portal_info(&tenant).await?))
}

#[utoipa::path(get, path = "/api/settings/portal", tag = "portal", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = PortalSettingsOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_settings(State(st): State<AppState>, c: Caller) -> ApiResult<Json<PortalSettingsOut>> {
    Ok(Json(st.app.portal_settings(c.ctx.can()?).await?))
}

#[utoipa::path(put, path = "/api/settings/portal", tag = "portal", request_body = PortalSettingsInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = PortalSettingsOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<PortalSettingsInput>,
) -> ApiResult<Json<PortalSettingsOut>> {
    Ok(Json(st.app.save_portal_settings(c.ctx.can()?, input).await?))
}

/// A logo upload: one file field named `logo`.
#[derive(utoipa::ToSchema)]
pub struct LogoUpload {
    /// PNG, JPEG or WebP, at most 512 KB (SVG is refused).
    #[schema(value_type = String, format = Binary)]
    pub logo: Vec<u8>,
}

#[utoipa::path(post, path = "/api/settings/portal/logo", tag = "portal", request_body(content = LogoUpload, content_type = "multipart/form-data"),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = PortalSettingsOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody, description = "Not a multipart form"),
              (status = 422, body = ErrorBody, description = "No file, or not a PNG, JPEG or WebP image")))]
pub async fn upload_logo(
    State(st): State<AppState>,
    c: Caller,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<PortalSettingsOut>> {
    let by = c.ctx.can()?;
    let mut mp = mp.map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the logo as multipart/form-data with a file field named logo.",
        )
    })?;
    let bytes = match crate::pages::forms::multipart_file(&mut mp, "logo").await {
        Ok(Some(b)) => b,
        Ok(None) => return Err(tier0_app::AppError::field("logo", "is required").into()),
        Err((status, msg)) if status == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ApiError::new(status, "payload_too_large", msg));
        }
        Err((status, msg)) => return Err(ApiError::new(status, "bad_request", msg)),
    };
    Ok(Json(st.app.set_portal_logo(by, &bytes).await?))
}

#[utoipa::path(delete, path = "/api/settings/portal/logo", tag = "portal", security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn delete_logo(State(st): State<AppState>, c: Caller) -> ApiResult<StatusCode> {
    st.app.remove_portal_logo(c.ctx.can()?).await?;
    Ok(StatusCode::NO_CONTENT)
}
