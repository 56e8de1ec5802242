//! `/api/itsm/catalog*` and `/api/itsm/workflows*` (SPEC §5).

use crate::AppState;
use crate::error::{ApiResult, ErrorBody, Json, Query};
use crate::extract::Caller;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tier0_app::auth::users::Page;
use tier0_app::itsm::catalog::{CatalogItemInput, CatalogItemPatch, CatalogQuery, CategoryInput, CategoryPatch};
use tier0_app::itsm::workflows::{WorkflowInput, WorkflowPatch, WorkflowQuery};
use tier0_domain::itsm::records::{CatalogItem, Category, Workflow};

fn created<T: serde::Serialize>(v: T) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}

#[utoipa::path(get, path = "/api/itsm/catalog", tag = "catalog", params(CatalogQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<CatalogItem>, description = "Published items the caller may see, by name"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_catalog(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<CatalogQuery>,
) -> ApiResult<Json<Page<CatalogItem>>> {
    Ok(Json(st.app.list_catalog(c.ctx.can()?, q).await?))
}

#[utoipa::path(post, path = "/api/itsm/catalog", tag = "catalog", request_body = CatalogItemInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = CatalogItem), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`too_many_items`: the catalog holds 5,000 live items"),
              (status = 422, body = ErrorBody, description = super::doc::INVALID)))]
pub async fn create_catalog_item(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<CatalogItemInput>,
) -> ApiResult<Response> {
    Ok(created(st.app.create_catalog_item(c.ctx.can()?, input).await?))
}

#[utoipa::path(get, path = "/api/itsm/catalog/{id}", tag = "catalog", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CatalogItem), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "Signed in, but the role lacks the permission (roles are editable)"), (status = 404, body = ErrorBody)))]
pub async fn get_catalog_item(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CatalogItem>> {
    Ok(Json(st.app.get_catalog_item(c.ctx.can()?, &id).await?))
}

#[utoipa::path(patch, path = "/api/itsm/catalog/{id}", tag = "catalog", params(("id" = String, Path)), request_body = CatalogItemPatch,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CatalogItem), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_catalog_item(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(p): Json<CatalogItemPatch>,
) -> ApiResult<Json<CatalogItem>> {
    Ok(Json(st.app.patch_catalog_item(c.ctx.can()?, &id, p).await?))
}

#[utoipa::path(delete, path = "/api/itsm/catalog/{id}", tag = "catalog", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Removed from the catalog; existing requests keep their link"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_catalog_item(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    st.app.delete_catalog_item(c.ctx.can()?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/itsm/catalog/categories", tag = "catalog", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<Category>, description = "Every category, by position"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn list_categories(State(st): State<AppState>, c: Caller) -> ApiResult<Json<Page<Category>>> {
    Ok(Json(st.app.list_categories(c.ctx.can()?).await?))
}

#[utoipa::path(post, path = "/api/itsm/catalog/categories", tag = "catalog", request_body = CategoryInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Category), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_category(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<CategoryInput>,
) -> ApiResult<Response> {
    Ok(created(st.app.create_category(c.ctx.can()?, input).await?))
}

#[utoipa::path(get, path = "/api/itsm/catalog/categories/{id}", tag = "catalog", params(("id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Category), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "Signed in, but the role lacks the permission (roles are editable)"), (status = 404, body = ErrorBody)))]
pub async fn get_category(State(st): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<Category>> {
    Ok(Json(st.app.get_category(c.ctx.can()?, &id).await?))
}

#[utoipa::path(patch, path = "/api/itsm/catalog/categories/{id}", tag = "catalog", params(("id" = String, Path)), request_body = CategoryPatch,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Category), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_category(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(p): Json<CategoryPatch>,
) -> ApiResult<Json<Category>> {
    Ok(Json(st.app.patch_category(c.ctx.can()?, &id, p).await?))
}

#[utoipa::path(delete, path = "/api/itsm/catalog/categories/{id}", tag = "catalog", params(("id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Deleted; its items become uncategorised"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_category(State(st): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    st.app.delete_category(c.ctx.can()?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/itsm/workflows", tag = "approvals", params(WorkflowQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<Workflow>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn list_workflows(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<WorkflowQuery>,
) -> ApiResult<Json<Page<Workflow>>> {
    Ok(Json(st.app.list_workflows(c.ctx.can()?, q).await?))
}

#[utoipa::path(post, path = "/api/itsm/workflows", tag = "approvals", request_body = WorkflowInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Workflow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "Unknown users or roles name `stages[i].approvers`")))]
pub async fn create_workflow(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<WorkflowInput>,
) -> ApiResult<Response> {
    Ok(created(st.app.create_workflow(c.ctx.can()?, input).await?))
}

#[utoipa::path(get, path = "/api/itsm/workflows/{id}", tag = "approvals", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Workflow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_workflow(State(st): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<Workflow>> {
    Ok(Json(st.app.get_workflow(c.ctx.can()?, &id).await?))
}

#[utoipa::path(patch, path = "/api/itsm/workflows/{id}", tag = "approvals", params(("id" = String, Path)), request_body = WorkflowPatch,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Workflow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_workflow(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(p): Json<WorkflowPatch>,
) -> ApiResult<Json<Workflow>> {
    Ok(Json(st.app.patch_workflow(c.ctx.can()?, &id, p).await?))
}
