//! The SPEC §3 error body, produced in exactly one place, and extractors
//! whose rejections use it too (malformed JSON → 400, wrong content type →
//! 415, too large → 413, invalid fields → 422).

use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use tier0_app::AppError;

/// `{"error": {"code", "message", "fields"?}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case, for programs.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Per-field messages (validation errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

/// An API error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub fields: Option<BTreeMap<String, String>>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_owned(), message: message.into(), fields: None, retry_after: None }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Nothing here.")
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        use StatusCode as S;
        match e {
            AppError::BadRequest { code, message } => Self::new(S::BAD_REQUEST, code, message),
            AppError::Unauthenticated => Self::new(S::UNAUTHORIZED, "unauthorized", "Sign in to continue."),
            AppError::Unauthorized { code, message } => Self::new(S::UNAUTHORIZED, code, message),
            AppError::Forbidden { code, message } => Self::new(S::FORBIDDEN, code, message),
            AppError::NotFound => Self::not_found(),
            AppError::UnknownTenant => {
                Self::new(S::NOT_FOUND, "unknown_tenant", "No organisation is served at this address.")
            }
            AppError::Conflict { code, message } => Self::new(S::CONFLICT, code, message),
            AppError::TooLarge { message } => Self::new(S::PAYLOAD_TOO_LARGE, "payload_too_large", message),
            AppError::Validation(v) => Self {
                status: S::UNPROCESSABLE_ENTITY,
                code: "validation_failed".into(),
                message: "Some fields are not valid.".into(),
                fields: Some(v.fields),
                retry_after: None,
            },
            AppError::Throttled { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(
                    S::TOO_MANY_REQUESTS,
                    "too_many_requests",
                    "Too many attempts; wait a moment and try again.",
                )
            },
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                Self::new(S::INTERNAL_SERVER_ERROR, "internal", "Something went wrong on our side; it has been logged.")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code, message: self.message, fields: self.fields } };
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// JSON body extractor with SPEC §3 rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send JSON with Content-Type: application/json.",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(bytes_rejection)?;
        // Malformed JSON is 400 whatever its shape would have been.
        if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "The request body is not valid JSON.",
            ));
        }
        // Every request body of the API is a JSON object. serde would also
        // read a struct from an array of its fields in order (`[null, null]`),
        // which no client means and the OpenAPI document does not allow.
        // At the top this gets its own message; deeper, `strict_json` says
        // which field.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "validation_failed".into(),
                message: "Some fields are not valid.".into(),
                fields: Some(BTreeMap::from([("body".to_owned(), "must be a JSON object".to_owned())])),
                retry_after: None,
            });
        }
        // Nested structs refuse arrays too (see `strict_json`).
        match crate::strict_json::from_slice::<T>(&bytes) {
            Ok(v) => Ok(Json(v)),
            Err(crate::strict_json::ReadError::Data(text)) => {
                let (field, why) = describe_data_error(&text);
                Err(ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "validation_failed".into(),
                    message: "Some fields are not valid.".into(),
                    fields: Some(BTreeMap::from([(field, why)])),
                    retry_after: None,
                })
            }
            Err(_) => {
                Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", "The request body is not valid JSON."))
            }
        }
    }
}

/// `application/json` or `application/<anything>+json`, as axum's own
/// extractor accepts.
fn is_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(v) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", sub)) => sub == "json" || sub.ends_with("+json"),
        _ => false,
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn bytes_rejection(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large.")
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "The request body could not be read.")
    }
}

/// Turn serde's "path: message at line x column y" into (field, message).
fn describe_data_error(text: &str) -> (String, String) {
    let msg = text.strip_prefix("Failed to deserialize the JSON body into the target type: ").unwrap_or(text);
    let msg = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("body");
        return (name.to_owned(), "is required".into());
    }
    match msg.split_once(": ") {
        Some((path, why)) if !path.contains(' ') && !path.starts_with(['[', '.']) => (path.to_owned(), why.to_owned()),
        Some((_, why)) if !why.is_empty() => ("body".into(), why.to_owned()),
        _ => ("body".into(), msg.to_owned()),
    }
}

/// Query-string extractor whose rejection is a 422 naming the problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                let why = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text).to_owned();
                let (field, why) = match why.split_once(": ") {
                    Some((f, w)) if !f.contains(' ') => (f.to_owned(), w.to_owned()),
                    _ => ("query".to_owned(), why),
                };
                Err(ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "validation_failed".into(),
                    message: "Some query parameters are not valid.".into(),
                    fields: Some(BTreeMap::from([(field, why)])),
                    retry_after: None,
                })
            }
            Err(_) => Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "The query string could not be read.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_errors_name_fields() {
        assert_eq!(
            describe_data_error(
                "Failed to deserialize the JSON body into the target type: missing field `email` at line 1 column 2"
            ),
            ("email".into(), "is required".into())
        );
        let (f, _) = describe_data_error(
            "Failed to deserialize the JSON body into the target type: active: invalid type: string \"x\", expected a boolean at line 1 column 14",
        );
        assert_eq!(f, "active");
    }
}
