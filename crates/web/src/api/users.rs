//! `/api/users*`.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody, Json, Query};
use crate::extract::Caller;
use axum::extract::{Path, State};
use tier0_app::auth::users::{Page, UserListQuery, UserPatch};
use tier0_domain::User;

#[utoipa::path(get, path = "/api/users", tag = "users", params(UserListQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<User>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_users(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<UserListQuery>,
) -> ApiResult<Json<Page<User>>> {
    Ok(Json(st.app.list_users(c.ctx.can()?, q).await?))
}

#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_user(State(st): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<User>> {
    Ok(Json(st.app.get_user(&c.ctx, &id).await?))
}

#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserPatch,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`last_admin`"), (status = 422, body = ErrorBody)))]
pub async fn patch_user(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(p): Json<UserPatch>,
) -> ApiResult<Json<User>> {
    Ok(Json(st.app.patch_user(c.ctx.can()?, &id, p).await?))
}
