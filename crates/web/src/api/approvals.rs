//! `/api/itsm/approvals*`, `/api/itsm/incidents*` and `/api/notifications*`.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody, Json, Query};
use crate::extract::Caller;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tier0_app::auth::users::Page;
use tier0_app::itsm::approvals::{ApprovalQuery, DecisionInput, DecisionOut};
use tier0_app::itsm::incidents::{IncidentInput, IncidentQuery};
use tier0_app::itsm::notify::{MarkedRead, NotificationPage, NotificationQuery};
use tier0_domain::itsm::records::{ApprovalTask, Incident};

#[utoipa::path(get, path = "/api/itsm/approvals", tag = "approvals", params(ApprovalQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<ApprovalTask>, description = "Decisions asked of the caller, newest first"),
              (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_approvals(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<ApprovalQuery>,
) -> ApiResult<Json<Page<ApprovalTask>>> {
    Ok(Json(st.app.list_approval_tasks(c.ctx.signed_in()?, q).await?))
}

#[utoipa::path(post, path = "/api/itsm/approvals/{id}", tag = "approvals", params(("id" = String, Path, description = "A decision id from the list (or the request's approval id)")),
    request_body = DecisionInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = DecisionOut), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "Not a decision asked of the caller"),
              (status = 409, body = ErrorBody, description = "`already_decided`"), (status = 422, body = ErrorBody)))]
pub async fn decide_approval(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(input): Json<DecisionInput>,
) -> ApiResult<Json<DecisionOut>> {
    Ok(Json(st.app.decide_approval(c.ctx.signed_in()?, &id, input).await?))
}

#[utoipa::path(get, path = "/api/itsm/incidents", tag = "incidents", params(IncidentQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<Incident>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn list_incidents(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<IncidentQuery>,
) -> ApiResult<Json<Page<Incident>>> {
    Ok(Json(st.app.list_incidents(c.ctx.can()?, q).await?))
}

#[utoipa::path(post, path = "/api/itsm/incidents", tag = "incidents", request_body = IncidentInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Incident), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create_incident(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<IncidentInput>,
) -> ApiResult<Response> {
    let out = st.app.create_incident(c.ctx.can()?, input).await?;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

#[utoipa::path(get, path = "/api/itsm/incidents/{id}", tag = "incidents", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Incident), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_incident(State(st): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<Incident>> {
    Ok(Json(st.app.get_incident(c.ctx.can()?, &id).await?))
}

#[utoipa::path(get, path = "/api/notifications", tag = "notifications", params(NotificationQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = NotificationPage, description = "Newest first, with the unread count"),
              (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_notifications(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<NotificationQuery>,
) -> ApiResult<Json<NotificationPage>> {
    Ok(Json(st.app.list_notifications(c.ctx.signed_in()?, q).await?))
}

#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "notifications", params(("id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = MarkedRead), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mark_notification_read(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MarkedRead>> {
    Ok(Json(st.app.mark_notification_read(c.ctx.signed_in()?, &id).await?))
}

#[utoipa::path(post, path = "/api/notifications/read-all", tag = "notifications", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = MarkedRead), (status = 401, body = ErrorBody)))]
pub async fn mark_all_notifications_read(State(st): State<AppState>, c: Caller) -> ApiResult<Json<MarkedRead>> {
    Ok(Json(st.app.mark_all_notifications_read(c.ctx.signed_in()?).await?))
}
