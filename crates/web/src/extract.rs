//! Request context: the tenant (from the Host header, resolved by
//! [`resolve_tenant`]), the caller (from a bearer token or the session
//! cookie, with CSRF checks for cookie-authenticated writes) and the client
//! address.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use tier0_app::{AppError, Ctx, Tenant};

pub const SESSION_COOKIE: &str = "tier0_session";

/// Resolve the tenant for every request except the tenant-less system
/// endpoints, and store it in the request extensions.
pub async fn resolve_tenant(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/assets/") {
        return next.run(req).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    match st.app.resolve_host(&host).await {
        Ok(t) => {
            req.extensions_mut().insert(t);
            next.run(req).await
        }
        Err(e) => {
            if path.starts_with("/api/") || path == "/api" {
                ApiError::from(e).into_response()
            } else {
                let unknown = matches!(e, AppError::UnknownTenant);
                crate::pages::error_page(
                    if unknown { StatusCode::NOT_FOUND } else { StatusCode::INTERNAL_SERVER_ERROR },
                    if unknown { "No organisation here" } else { "Something went wrong" },
                    if unknown {
                        "There is no service desk at this address. Check the link you followed."
                    } else {
                        "Please try again in a moment."
                    },
                )
            }
        }
    }
}

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    None,
    Bearer,
    Cookie,
}

/// The request's [`Ctx`]. Rejects cross-site unsafe requests that are not
/// bearer-authenticated (CSRF) with 403 `csrf_rejected`.
pub struct Caller {
    pub ctx: Ctx,
    pub via: Via,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let tenant = parts.extensions.get::<Tenant>().cloned().ok_or(AppError::UnknownTenant)?;
        let (token, via) = session_token(&parts.headers);
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe && via != Via::Bearer && is_cross_site(&parts.headers) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_rejected",
                "This request came from another site and was refused.",
            ));
        }
        let ip = client_ip(parts, st).map(|ip| ip.to_string());
        let ua = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let ctx = st.app.context(tenant, token.as_deref(), safe, ip, ua).await?;
        let via = if ctx.is_signed_in() { via } else { Via::None };
        Ok(Caller { ctx, via })
    }
}

/// Bearer token first, then the session cookie.
pub fn session_token(h: &HeaderMap) -> (Option<String>, Via) {
    if let Some(v) = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let mut it = v.splitn(2, ' ');
        if let (Some(scheme), Some(tok)) = (it.next(), it.next())
            && scheme.eq_ignore_ascii_case("bearer")
        {
            return (Some(tok.trim().to_owned()), Via::Bearer);
        }
    }
    for v in h.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()) {
        for part in v.split(';') {
            if let Some((k, val)) = part.trim().split_once('=')
                && k == SESSION_COOKIE
                && !val.is_empty()
            {
                return (Some(val.to_owned()), Via::Cookie);
            }
        }
    }
    (None, Via::None)
}

/// Whether a browser marked the request as coming from another site:
/// `Sec-Fetch-Site` other than same-origin/none, or an `Origin` whose host
/// differs from `Host`. Requests without either header (non-browser
/// clients) pass.
pub fn is_cross_site(h: &HeaderMap) -> bool {
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    if let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("null");
        return !origin_host.eq_ignore_ascii_case(host);
    }
    false
}

/// The client address: the socket peer, unless the peer is a trusted proxy,
/// in which case the right-most untrusted `X-Forwarded-For` entry.
pub fn client_ip(parts: &Parts, st: &AppState) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let peer = peer?;
    if !st.web.trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let chain: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    chain.into_iter().rev().find(|ip| !st.web.trusted_proxies.contains(ip)).or(Some(peer))
}

/// `Set-Cookie` for a new session (HttpOnly, SameSite=Lax, Secure behind
/// https, no Domain so it never crosses tenants).
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let v = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("tier0_session=; Path=/"))
}

pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    let v =
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", if secure { "; Secure" } else { "" });
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("tier0_session=; Path=/; Max-Age=0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn cross_site_detection() {
        assert!(!is_cross_site(&h(&[])));
        assert!(!is_cross_site(&h(&[("host", "acme.localhost:8080"), ("origin", "http://acme.localhost:8080")])));
        assert!(is_cross_site(&h(&[("host", "acme.localhost:8080"), ("origin", "http://evil.com")])));
        assert!(is_cross_site(&h(&[("host", "acme.localhost:8080"), ("origin", "http://other.localhost:8080")])));
        assert!(is_cross_site(&h(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&h(&[("sec-fetch-site", "same-site")])));
        assert!(!is_cross_site(&h(&[("sec-fetch-site", "same-origin")])));
        assert!(is_cross_site(&h(&[("host", "a.localhost"), ("origin", "null")])));
    }

    #[test]
    fn tokens() {
        assert_eq!(session_token(&h(&[("authorization", "Bearer abc")])), (Some("abc".into()), Via::Bearer));
        assert_eq!(session_token(&h(&[("cookie", "x=1; tier0_session=tok; y=2")])), (Some("tok".into()), Via::Cookie));
        assert_eq!(session_token(&h(&[("cookie", "x=1")])), (None, Via::None));
    }
}
