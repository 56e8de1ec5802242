//! Health, readiness, metrics and the OpenAPI document.

use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Process up.
pub async fn healthz() -> Response {
    (StatusCode::OK, axum::Json(serde_json::json!({"status": "ok"}))).into_response()
}

/// Database reachable.
pub async fn readyz(State(st): State<AppState>) -> Response {
    match tokio::time::timeout(std::time::Duration::from_secs(3), st.app.ping_database()).await {
        Ok(Ok(())) => {
            (StatusCode::OK, axum::Json(serde_json::json!({"status": "ready", "database": "ok"}))).into_response()
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable", "database": "unreachable"})),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "unavailable", "database": "timeout"})),
        )
            .into_response(),
    }
}

/// Prometheus text format.
pub async fn metrics(State(st): State<AppState>) -> Response {
    let body = st.metrics.render(st.app.pool_stats());
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    res
}

/// This document. It is an `/api` route like the others, so it is in the
/// document too (and, like them, needs a known tenant host).
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document of the whole API", content_type = "application/json")))]
pub async fn openapi(State(st): State<AppState>) -> Response {
    let mut res = st.openapi.as_str().to_owned().into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}
