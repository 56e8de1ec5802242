//! Tier0's HTTP layer (axum): the JSON API under `/api`, server-rendered
//! pages, and the system endpoints. Handlers are thin: they extract the
//! caller ([`extract::Caller`]) and input, call one use case of
//! `tier0_app`, and map its result. Errors become the SPEC §3 JSON body in
//! [`error::ApiError`] and nowhere else.

pub mod api;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod pages;
pub mod sections;
pub mod serve;
mod strict_json;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::net::IpAddr;
use std::sync::Arc;
use tier0_app::App;

/// Limits and deployment facts the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Served over https (Secure cookies, HSTS).
    pub https: bool,
    /// Maximum JSON/form body.
    pub max_body_bytes: usize,
    /// Maximum attachment upload.
    pub max_upload_bytes: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            https: false,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 25 * 1024 * 1024,
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub web: Arc<WebConfig>,
    pub metrics: Arc<metrics::Metrics>,
    pub openapi: Arc<String>,
}

/// The complete router: API, pages, system endpoints and middleware.
pub fn router(app: App, web: WebConfig) -> Router {
    let (api_router, openapi) = api::routes().split_for_parts();
    let openapi_json = api::finish_openapi(openapi);
    let state = AppState {
        app,
        web: Arc::new(web.clone()),
        metrics: Arc::new(metrics::Metrics::default()),
        openapi: Arc::new(openapi_json),
    };
    Router::new()
        .merge(api_router)
        .merge(pages::routes())
        .merge(api::system_routes())
        .fallback(api::fallback)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn(middleware::label_route))
        .layer(DefaultBodyLimit::max(web.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), sections::gate))
        .layer(axum::middleware::from_fn_with_state(state.clone(), extract::resolve_tenant))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe))
        .with_state(state)
}
