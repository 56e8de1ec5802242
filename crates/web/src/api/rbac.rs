//! `/api/roles`, `/api/rbac/*` and `/api/audit`.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody, Json, Query};
use crate::extract::Caller;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tier0_app::auth::roles::{AuditQuery, CanI, NewRoleInput, RolePermissions};
use tier0_app::auth::users::Page;
use tier0_domain::{AuditEntry, Role};

#[utoipa::path(get, path = "/api/roles", tag = "rbac", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<Role>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_roles(State(st): State<AppState>, c: Caller) -> ApiResult<Json<Vec<Role>>> {
    Ok(Json(st.app.list_roles(c.ctx.can()?).await?))
}

#[utoipa::path(post, path = "/api/roles", tag = "rbac", request_body = NewRoleInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Role), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`role_exists`"), (status = 422, body = ErrorBody)))]
pub async fn create_role(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<NewRoleInput>,
) -> ApiResult<Response> {
    let role = st.app.create_role(c.ctx.can()?, input).await?;
    Ok((StatusCode::CREATED, axum::Json(role)).into_response())
}

#[utoipa::path(delete, path = "/api/roles/{id}", tag = "rbac", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Custom role deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`role_builtin`, or `role_in_use` (held by users, or live catalog items are restricted to it)")))]
pub async fn delete_role(State(st): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    st.app.delete_role(c.ctx.can()?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RoleQuery {
    pub role_id: String,
}

#[utoipa::path(get, path = "/api/rbac/role-permissions", tag = "rbac", params(RoleQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = RolePermissions), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_role_permissions(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<RoleQuery>,
) -> ApiResult<Json<RolePermissions>> {
    Ok(Json(st.app.role_permissions(c.ctx.can()?, &q.role_id).await?))
}

#[utoipa::path(put, path = "/api/rbac/role-permissions", tag = "rbac", request_body = RolePermissions, security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = RolePermissions), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`role_immutable`"), (status = 422, body = ErrorBody)))]
pub async fn put_role_permissions(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<RolePermissions>,
) -> ApiResult<Json<RolePermissions>> {
    Ok(Json(st.app.set_role_permissions(c.ctx.can()?, input).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CanIQuery {
    /// A permission, e.g. `itsm:fulfill`.
    #[param(min_length = 1, max_length = 64)]
    pub permission: String,
}

#[utoipa::path(get, path = "/api/rbac/can-i", tag = "rbac", params(CanIQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CanI), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn can_i(State(st): State<AppState>, c: Caller, Query(q): Query<CanIQuery>) -> ApiResult<Json<CanI>> {
    Ok(Json(st.app.can_i(&c.ctx, &q.permission)?))
}

#[utoipa::path(get, path = "/api/audit", tag = "rbac", params(AuditQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<AuditEntry>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    Ok(Json(st.app.audit_log(c.ctx.can()?, q).await?))
}
