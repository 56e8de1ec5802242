//! `/api/itsm/requests*` (SPEC §5): filing, the queue, one request,
//! comments, transitions, assignment, watchers and attachments.

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody, Json, Query};
use crate::extract::Caller;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tier0_app::auth::users::Page;
use tier0_app::caps;
use tier0_app::itsm::comments::{CommentInput, CommentQuery};
use tier0_app::itsm::requests::{
    NewRequestInput, RequestDetail, RequestListQuery, RequestPatch, TransitionInput, WatcherInput,
};
use tier0_domain::itsm::records::{Attachment, Comment, QueueSummary, ServiceRequest, UserRef};
use tier0_domain::itsm::served_content_type;

#[utoipa::path(post, path = "/api/itsm/requests", tag = "requests", request_body = NewRequestInput, security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = RequestDetail, description = "Filed; `approval` is set when the item has a workflow, `incident_id` when one was created"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "On-behalf filing or `also_create_incident` without itsm:fulfill"),
              (status = 422, body = ErrorBody, description = "Title, priority, requester, item or form values (`fields.<key>`)")))]
pub async fn create_request(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<NewRequestInput>,
) -> ApiResult<Response> {
    let out = st.app.create_request(c.ctx.can()?, input).await?;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

#[utoipa::path(get, path = "/api/itsm/requests", tag = "requests", params(RequestListQuery), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<ServiceRequest>, description = "Own requests for requesters; the whole queue for agents"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_requests(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<RequestListQuery>,
) -> ApiResult<Json<Page<ServiceRequest>>> {
    Ok(Json(st.app.list_requests(c.ctx.can()?, q).await?))
}

#[utoipa::path(get, path = "/api/itsm/requests/summary", tag = "requests", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = QueueSummary, description = "Active requests by status, overdue and unassigned (agents)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn queue_summary(State(st): State<AppState>, c: Caller) -> ApiResult<Json<QueueSummary>> {
    Ok(Json(st.app.queue_summary(c.ctx.can()?).await?))
}

#[utoipa::path(get, path = "/api/itsm/agents", tag = "requests", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<UserRef>, description = "Active users who can be assigned requests"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_agents(State(st): State<AppState>, c: Caller) -> ApiResult<Json<Vec<UserRef>>> {
    Ok(Json(st.app.assignable_agents(c.ctx.can()?).await?))
}

#[utoipa::path(get, path = "/api/itsm/requests/{id}", tag = "requests", params(("id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = RequestDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "Signed in, but the role lacks the permission (roles are editable)"), (status = 404, body = ErrorBody)))]
pub async fn get_request(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestDetail>> {
    Ok(Json(st.app.get_request(c.ctx.can()?, &id).await?))
}

#[utoipa::path(patch, path = "/api/itsm/requests/{id}", tag = "requests", params(("id" = String, Path)), request_body = RequestPatch,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = RequestDetail), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "Needs itsm:fulfill"), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`illegal_transition`"),
              (status = 422, body = ErrorBody, description = "Unknown, foreign or non-agent `assignee`; bad `priority`")))]
pub async fn patch_request(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(p): Json<RequestPatch>,
) -> ApiResult<Json<RequestDetail>> {
    Ok(Json(st.app.patch_request(c.ctx.can()?, &id, p).await?))
}

#[utoipa::path(post, path = "/api/itsm/requests/{id}/transition", tag = "requests", params(("id" = String, Path)), request_body = TransitionInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = RequestDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`illegal_transition`"),
              (status = 422, body = ErrorBody)))]
pub async fn transition_request(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(input): Json<TransitionInput>,
) -> ApiResult<Json<RequestDetail>> {
    Ok(Json(st.app.transition_request(c.ctx.can()?, &id, input).await?))
}

#[utoipa::path(get, path = "/api/itsm/requests/{id}/comments", tag = "requests", params(("id" = String, Path), CommentQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<Comment>, description = "Oldest first; internal notes only for agents"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "Signed in, but the role lacks the permission (roles are editable)"), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn list_comments(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Query(q): Query<CommentQuery>,
) -> ApiResult<Json<Page<Comment>>> {
    Ok(Json(st.app.list_comments(c.ctx.can()?, &id, q).await?))
}

#[utoipa::path(post, path = "/api/itsm/requests/{id}/comments", tag = "requests", params(("id" = String, Path)), request_body = CommentInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Comment), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "`internal` without itsm:fulfill"), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn add_comment(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(input): Json<CommentInput>,
) -> ApiResult<Response> {
    let out = st.app.add_comment(c.ctx.can()?, &id, input).await?;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

#[utoipa::path(post, path = "/api/itsm/requests/{id}/watchers", tag = "requests", params(("id" = String, Path)), request_body = WatcherInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<UserRef>, description = "The watchers now"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_watcher(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(input): Json<WatcherInput>,
) -> ApiResult<Json<Vec<UserRef>>> {
    Ok(Json(st.app.add_watcher(c.ctx.can()?, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/itsm/requests/{id}/watchers/{user_id}", tag = "requests",
    params(("id" = String, Path), ("user_id" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<UserRef>, description = "The watchers now"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_watcher(
    State(st): State<AppState>,
    c: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<UserRef>>> {
    Ok(Json(st.app.remove_watcher(c.ctx.can()?, &id, &user_id).await?))
}

/// The multipart body of an upload.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file (at most 25 MiB by default).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Slack for multipart boundaries and part headers around the file.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("Attachments may be at most {} MiB.", limit / (1024 * 1024)),
    )
}

fn multipart_error(e: axum::extract::multipart::MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(limit)
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "The multipart body could not be read.")
    }
}

#[utoipa::path(post, path = "/api/itsm/requests/{id}/attachments", tag = "requests", params(("id" = String, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data", description = "One file in the part named `file`"),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Attachment), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_attachment(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    // Who may upload is settled before a byte of the body is read.
    let by = c.ctx.can::<caps::ItsmWrite>()?;
    st.app.ensure_request_visible(c.ctx.can()?, &id).await?;
    let limit = st.web.max_upload_bytes;
    let (parts, body) = req.into_parts();
    let limited = Request::from_parts(parts, Body::new(http_body_util::Limited::new(body, limit + MULTIPART_OVERHEAD)));
    let mut mp = Multipart::from_request(limited, &()).await.map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the file as multipart/form-data in a part named `file`.",
        )
    })?;
    while let Some(mut field) = mp.next_field().await.map_err(|e| multipart_error(e, limit))? {
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or("attachment").to_owned();
        let mut data: Vec<u8> = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, limit))? {
            if data.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            data.extend_from_slice(&chunk);
        }
        let out = st.app.add_attachment(by, &id, &filename, data).await?;
        return Ok((StatusCode::CREATED, axum::Json(out)).into_response());
    }
    Err(tier0_app::AppError::field("file", "is required").into())
}

/// `filename="…"` needs ASCII without quotes; `filename*` carries the
/// real name (RFC 6266 / 5987).
fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string();
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[utoipa::path(get, path = "/api/itsm/requests/{id}/attachments/{aid}", tag = "requests",
    params(("id" = String, Path), ("aid" = String, Path)), security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The file, as a download (`Content-Disposition: attachment`, `nosniff`). \
               Served as its detected type when that is a common document, image, archive or media type, \
               else as `application/octet-stream`",
               content_type = "*/*"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "Signed in, but the role lacks the permission (roles are editable)"), (status = 404, body = ErrorBody)))]
pub async fn download_attachment(
    State(st): State<AppState>,
    c: Caller,
    Path((id, aid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let blob = st.app.get_attachment(c.ctx.can()?, &id, &aid).await?;
    let mut res = Body::from(blob.data).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(served_content_type(&blob.meta.content_type)));
    h.insert(header::CONTENT_DISPOSITION, content_disposition(&blob.meta.filename));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dispositions() {
        let v = super::content_disposition("rapport é \"x\".pdf");
        let s = v.to_str().unwrap();
        assert!(s.starts_with("attachment; filename=\"rapport _ _x_.pdf\"; filename*=UTF-8''rapport%20%C3%A9"), "{s}");
    }
}
