//! Section toggles, enforced in one place: every request whose path
//! belongs to a portal section (its pages and its API) is answered 404 —
//! exactly like a path that does not exist — while the tenant's portal
//! settings hide that section. Permissions do not matter: a hidden section
//! is hidden from everyone. Admin pages (`/settings`, `/itsm`) are never
//! part of a section, so they stay reachable.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tier0_app::Tenant;
use tier0_app::portal::settings::first_visible;
use tier0_domain::Section;

/// Path prefixes of each section (a prefix matches itself and anything
/// below it, `prefix/…`).
const PREFIXES: &[(&str, Section)] = &[
    ("/portal/catalog", Section::Catalog),
    ("/api/itsm/catalog", Section::Catalog),
    ("/portal/requests", Section::Requests),
    ("/portal/request", Section::Requests),
    ("/api/itsm/requests", Section::Requests),
    ("/portal/knowledge", Section::Knowledge),
    ("/api/itsm/kedb", Section::Knowledge),
    ("/api/itsm/kb", Section::Knowledge),
    ("/portal/status", Section::Status),
    ("/api/status", Section::Status),
    ("/portal/approvals", Section::Approvals),
    ("/api/itsm/approvals", Section::Approvals),
];

/// Where a hidden-everything portal still lands.
pub const PROFILE_PATH: &str = "/portal/profile";

/// The section a request path belongs to, if any. `/portal` itself is the
/// catalog (the default tab).
pub fn section_of(path: &str) -> Option<Section> {
    if path == "/portal" || path == "/portal/" {
        return Some(Section::Catalog);
    }
    PREFIXES.iter().find_map(|(prefix, s)| {
        let below = path.strip_prefix(prefix)?;
        (below.is_empty() || below.starts_with('/')).then_some(*s)
    })
}

/// Where `/portal` sends people when the catalog is hidden.
pub fn portal_landing(hidden: tier0_domain::SectionSet) -> &'static str {
    first_visible(hidden).map_or(PROFILE_PATH, Section::path)
}

/// Middleware (inside tenant resolution): refuse hidden sections.
pub async fn gate(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !(path.starts_with("/portal") || path.starts_with("/api/")) {
        return next.run(req).await;
    }
    let Some(section) = section_of(path) else { return next.run(req).await };
    let Some(tenant) = req.extensions().get::<Tenant>() else { return next.run(req).await };
    let hidden = st.app.hidden_sections(tenant).await;
    if !hidden.contains(section) {
        return next.run(req).await;
    }
    let root = path == "/portal" || path == "/portal/";
    if root && matches!(*req.method(), Method::GET | Method::HEAD) {
        return Redirect::to(portal_landing(hidden)).into_response();
    }
    crate::api::fallback(req.uri().clone()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tier0_domain::SectionSet;

    #[test]
    fn paths_map_to_sections() {
        let cases = [
            ("/portal", Some(Section::Catalog)),
            ("/portal/catalog/01ABC", Some(Section::Catalog)),
            ("/api/itsm/catalog", Some(Section::Catalog)),
            ("/api/itsm/catalog/categories", Some(Section::Catalog)),
            ("/portal/requests", Some(Section::Requests)),
            ("/portal/requests/01ABC", Some(Section::Requests)),
            ("/portal/request/new", Some(Section::Requests)),
            ("/api/itsm/requests/01ABC/comments", Some(Section::Requests)),
            ("/portal/knowledge", Some(Section::Knowledge)),
            ("/api/itsm/kedb/search", Some(Section::Knowledge)),
            ("/api/itsm/kb/articles/1/feedback", Some(Section::Knowledge)),
            ("/portal/status", Some(Section::Status)),
            ("/api/status", Some(Section::Status)),
            ("/portal/approvals", Some(Section::Approvals)),
            ("/api/itsm/approvals/01ABC", Some(Section::Approvals)),
            // Not sections: the shell, admin and management areas.
            ("/portal/profile", None),
            ("/portal/notifications", None),
            ("/portal/announcements/01ABC/dismiss", None),
            ("/portal/statuses", None),
            ("/api/itsm/status/services", None),
            ("/api/itsm/kbx", None),
            ("/settings/portal", None),
            ("/itsm/status", None),
            ("/api/settings/portal", None),
            ("/", None),
        ];
        for (path, want) in cases {
            assert_eq!(section_of(path), want, "{path}");
        }
    }

    #[test]
    fn landing_skips_hidden_sections() {
        assert_eq!(portal_landing(SectionSet::of([Section::Catalog])), "/portal/requests");
        assert_eq!(portal_landing(SectionSet::of([Section::Catalog, Section::Requests])), "/portal/knowledge");
        assert_eq!(portal_landing(SectionSet::of(Section::ALL)), PROFILE_PATH);
    }
}
