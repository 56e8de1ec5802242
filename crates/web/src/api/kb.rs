//! `/api/itsm/kb/*` (articles, known errors, feedback, synonyms, preview)
//! and `/api/itsm/kedb/*` (search, type-ahead, zero-result queries).

use crate::AppState;
use crate::error::{ApiResult, ErrorBody, Json, Query};
use crate::extract::Caller;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tier0_app::auth::users::Page;
use tier0_app::kb::articles::{ArticleInput, ArticleListQuery, ArticlePatch, PreviewInput, PreviewOut, RevisionList};
use tier0_app::kb::feedback::{FeedbackInput, FeedbackOut};
use tier0_app::kb::known_errors::{KnownErrorInput, KnownErrorListQuery, KnownErrorPatch};
use tier0_app::kb::search::{
    SearchInput, SearchOut, SearchSource, SuggestOut, SuggestQuery, SynonymsInput, SynonymsOut, ZeroResultsOut,
    ZeroResultsQuery,
};
use tier0_domain::kb::{Article, KnownError};

/// `?from_search=`: the search a result was opened from.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct FromSearch {
    /// The `search_id` of the results page the record was opened from.
    pub from_search: Option<String>,
}

#[utoipa::path(get, path = "/api/itsm/kb/articles", tag = "knowledge", params(ArticleListQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<Article>, description = "Readers get published articles only"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_articles(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<ArticleListQuery>,
) -> ApiResult<Json<Page<Article>>> {
    Ok(Json(st.app.list_articles(&c.ctx, q).await?))
}

#[utoipa::path(post, path = "/api/itsm/kb/articles", tag = "knowledge", request_body = ArticleInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Article), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "Needs kb:write (kb:publish to create it published)"),
              (status = 422, body = ErrorBody)))]
pub async fn create_article(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<ArticleInput>,
) -> ApiResult<Response> {
    let a = st.app.create_article(c.ctx.can()?, input).await?;
    Ok((StatusCode::CREATED, axum::Json(a)).into_response())
}

#[utoipa::path(get, path = "/api/itsm/kb/articles/{id}", tag = "knowledge", params(("id" = String, Path), FromSearch),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Article), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "Signed in, but the role lacks the permission (roles are editable)"),
              (status = 404, body = ErrorBody, description = "Absent, or not published and the caller is not an author")))]
pub async fn get_article(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Query(q): Query<FromSearch>,
) -> ApiResult<Json<Article>> {
    Ok(Json(st.app.get_article(&c.ctx, &id, q.from_search.as_deref()).await?))
}

#[utoipa::path(patch, path = "/api/itsm/kb/articles/{id}", tag = "knowledge", params(("id" = String, Path)),
    request_body = ArticlePatch, security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Article), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "Needs kb:write; status changes and edits of published articles need kb:publish"),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`edit_conflict`"),
              (status = 422, body = ErrorBody)))]
pub async fn update_article(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(p): Json<ArticlePatch>,
) -> ApiResult<Json<Article>> {
    Ok(Json(st.app.update_article(c.ctx.can()?, &id, p).await?))
}

#[utoipa::path(get, path = "/api/itsm/kb/articles/{id}/versions", tag = "knowledge", params(("id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = RevisionList, description = "Newest first"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn article_versions(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RevisionList>> {
    Ok(Json(st.app.article_versions(c.ctx.can()?, &id).await?))
}

#[utoipa::path(post, path = "/api/itsm/kb/articles/{id}/feedback", tag = "knowledge", params(("id" = String, Path)),
    request_body = FeedbackInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = FeedbackOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn article_feedback(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(f): Json<FeedbackInput>,
) -> ApiResult<Json<FeedbackOut>> {
    Ok(Json(st.app.article_feedback(c.ctx.can()?, &id, f).await?))
}

#[utoipa::path(post, path = "/api/itsm/kb/preview", tag = "knowledge", request_body = PreviewInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = PreviewOut, description = "Sanitised HTML"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<PreviewInput>,
) -> ApiResult<Json<PreviewOut>> {
    Ok(Json(st.app.preview_markdown(c.ctx.can()?, &input)?))
}

#[utoipa::path(get, path = "/api/itsm/kb/known-errors", tag = "knowledge", params(KnownErrorListQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<KnownError>, description = "Requesters get public known errors only"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_known_errors(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<KnownErrorListQuery>,
) -> ApiResult<Json<Page<KnownError>>> {
    Ok(Json(st.app.list_known_errors(&c.ctx, q).await?))
}

#[utoipa::path(post, path = "/api/itsm/kb/known-errors", tag = "knowledge", request_body = KnownErrorInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = KnownError), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "Needs kb:write (kb:publish to make it public)"),
              (status = 422, body = ErrorBody)))]
pub async fn create_known_error(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<KnownErrorInput>,
) -> ApiResult<Response> {
    let k = st.app.create_known_error(c.ctx.can()?, input).await?;
    Ok((StatusCode::CREATED, axum::Json(k)).into_response())
}

#[utoipa::path(get, path = "/api/itsm/kb/known-errors/{id}", tag = "knowledge", params(("id" = String, Path), FromSearch),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = KnownError), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "Signed in, but the role lacks the permission (roles are editable)"),
              (status = 404, body = ErrorBody, description = "Absent, or internal and the caller is not staff")))]
pub async fn get_known_error(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Query(q): Query<FromSearch>,
) -> ApiResult<Json<KnownError>> {
    Ok(Json(st.app.get_known_error(&c.ctx, &id, q.from_search.as_deref()).await?))
}

#[utoipa::path(patch, path = "/api/itsm/kb/known-errors/{id}", tag = "knowledge", params(("id" = String, Path)),
    request_body = KnownErrorPatch, security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = KnownError), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "Needs kb:write; publishing and editing public ones need kb:publish"),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_known_error(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(p): Json<KnownErrorPatch>,
) -> ApiResult<Json<KnownError>> {
    Ok(Json(st.app.update_known_error(c.ctx.can()?, &id, p).await?))
}

#[utoipa::path(get, path = "/api/itsm/kb/known-errors/{id}/versions", tag = "knowledge", params(("id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = RevisionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn known_error_versions(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RevisionList>> {
    Ok(Json(st.app.known_error_versions(c.ctx.can()?, &id).await?))
}

#[utoipa::path(get, path = "/api/itsm/kb/synonyms", tag = "knowledge", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = SynonymsOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_synonyms(State(st): State<AppState>, c: Caller) -> ApiResult<Json<SynonymsOut>> {
    Ok(Json(st.app.kb_synonyms(c.ctx.can()?).await?))
}

#[utoipa::path(put, path = "/api/itsm/kb/synonyms", tag = "knowledge", request_body = SynonymsInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = SynonymsOut), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "Needs kb:publish"), (status = 422, body = ErrorBody)))]
pub async fn put_synonyms(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<SynonymsInput>,
) -> ApiResult<Json<SynonymsOut>> {
    Ok(Json(st.app.set_kb_synonyms(c.ctx.can()?, input).await?))
}

#[utoipa::path(post, path = "/api/itsm/kedb/search", tag = "knowledge", request_body = SearchInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = SearchOut, description = "Ranked results the caller may see"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<SearchInput>,
) -> ApiResult<Json<SearchOut>> {
    Ok(Json(st.app.kb_search(&c.ctx, input, SearchSource::Api).await?))
}

#[utoipa::path(get, path = "/api/itsm/kedb/suggest", tag = "knowledge", params(SuggestQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = SuggestOut, description = "Type-ahead (empty below 3 characters)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn suggest(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<SuggestQuery>,
) -> ApiResult<Json<SuggestOut>> {
    Ok(Json(st.app.kb_suggest(&c.ctx, &q).await?))
}

#[utoipa::path(get, path = "/api/itsm/kedb/zero-results", tag = "knowledge", params(ZeroResultsQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = ZeroResultsOut, description = "Searches that found nothing, most frequent first"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn zero_results(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<ZeroResultsQuery>,
) -> ApiResult<Json<ZeroResultsOut>> {
    Ok(Json(st.app.kb_zero_results(c.ctx.can()?, &q).await?))
}
