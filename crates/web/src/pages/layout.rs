//! The page shell: header (brand, "Submit a request", agent shortcuts,
//! notifications, user menu), portal tabs or the area navigation,
//! announcement banners, main region and footer. Everything the shell
//! shows is decided in [`Chrome::for_ctx`], so every page shows the same
//! thing and each new piece (branding, hidden sections, announcements,
//! the unread count) is plugged in there once.

use crate::AppState;
use maud::{DOCTYPE, Markup, html};
use tier0_app::Ctx;
use tier0_app::portal::settings::logo_url;
use tier0_domain::portal::Announcement;
use tier0_domain::{Section, SectionSet};

/// The portal tabs (SPEC §8) and the other areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Catalog,
    Requests,
    Knowledge,
    Status,
    Approvals,
    Profile,
    /// The notifications list: a portal page without a tab of its own.
    Notifications,
    Itsm,
    Settings,
    None,
}

impl Tab {
    fn section(self) -> Option<Section> {
        match self {
            Tab::Catalog => Some(Section::Catalog),
            Tab::Requests => Some(Section::Requests),
            Tab::Knowledge => Some(Section::Knowledge),
            Tab::Status => Some(Section::Status),
            Tab::Approvals => Some(Section::Approvals),
            _ => None,
        }
    }

    fn is_portal(self) -> bool {
        self.section().is_some() || matches!(self, Tab::Profile | Tab::Notifications)
    }
}

/// What the shell shows for this caller.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub portal_name: String,
    /// Shown at the top of the service catalog.
    pub description: Option<String>,
    /// The uploaded logo, when there is one.
    pub logo_url: Option<String>,
    /// The tenant's colour stylesheet, when a colour is set.
    pub theme_url: Option<String>,
    pub user_name: Option<String>,
    pub signed_in: bool,
    pub agent: bool,
    pub settings: bool,
    pub approvals: bool,
    /// Unread in-app notifications.
    pub unread: i64,
    /// Sections hidden by the portal settings (gone from the tabs; their
    /// pages answer 404).
    pub hidden: SectionSet,
    /// Active announcements this caller has not dismissed.
    pub announcements: Vec<Announcement>,
    /// Whether the caller can dismiss them (signed-in users, not guests).
    pub can_dismiss: bool,
    /// Entries of the ITSM and Settings area navigation the caller may use.
    pub area_links: Vec<AreaLink>,
}

/// One entry of the ITSM / Settings area navigation.
#[derive(Debug, Clone)]
pub struct AreaLink {
    pub tab: Tab,
    pub label: &'static str,
    pub path: &'static str,
}

/// The area navigation: (area, label, path, permission needed).
/// The agent workspace's areas (Settings areas come from
/// [`super::settings::AREAS`], which also feeds the /settings index).
const ITSM_LINKS: &[(&str, &str, &str)] = &[
    ("Dashboard", "/itsm", "itsm:fulfill"),
    ("Queue", "/itsm/requests", "itsm:fulfill"),
    ("Incidents", "/itsm/incidents", "incidents:read"),
    ("Catalog", "/itsm/catalog", "catalog:manage"),
    ("Workflows", "/itsm/workflows", "catalog:manage"),
    ("Status page", "/itsm/status", "status:manage"),
];

impl Chrome {
    pub async fn for_ctx(st: &AppState, ctx: &Ctx) -> Chrome {
        let p = ctx.principal();
        let allows = |perm: &str| p.is_some_and(|p| p.permissions.allows(perm));
        let view = match st.app.portal_view(ctx).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "portal settings unavailable; showing defaults");
                tier0_app::portal::PortalView {
                    name: format!("{} support", ctx.tenant().name),
                    description: None,
                    settings: Default::default(),
                    announcements: Vec::new(),
                }
            }
        };
        let s = &view.settings;
        // One cheap indexed query per page, for signed-in users only.
        let (unread, approver) = match ctx.signed_in() {
            Ok(me) => match st.app.page_badges(me).await {
                Ok(b) => (b.unread, b.approver),
                Err(e) => {
                    tracing::warn!(error = %e, "page badges unavailable");
                    (0, true)
                }
            },
            Err(_) => (0, false),
        };
        Chrome {
            portal_name: view.name.clone(),
            description: view.description.clone(),
            logo_url: logo_url(s),
            theme_url: s.primary_colour.map(|_| format!("/branding/theme.css?v={}", s.version)),
            user_name: p.filter(|_| ctx.is_signed_in()).map(|p| p.user.name.clone()),
            signed_in: ctx.is_signed_in(),
            agent: allows("itsm:fulfill"),
            settings: ["users:read", "users:write", "rbac:manage", "settings:manage", "audit:read", "catalog:manage"]
                .iter()
                .any(|x| allows(x)),
            approvals: approver,
            unread,
            hidden: s.hidden,
            announcements: view.announcements,
            can_dismiss: ctx.is_signed_in(),
            area_links: ITSM_LINKS
                .iter()
                .filter(|(_, _, perm)| allows(perm))
                .map(|(label, path, _)| AreaLink { tab: Tab::Itsm, label, path })
                .chain(
                    std::iter::once(AreaLink { tab: Tab::Settings, label: "Overview", path: "/settings" })
                        .filter(|_| ctx.is_signed_in())
                        .chain(super::settings::areas(ctx).into_iter().map(|a| AreaLink {
                            tab: Tab::Settings,
                            label: a.title,
                            path: a.path,
                        })),
                )
                .collect(),
        }
    }

    /// Whether a section's tab is shown.
    pub fn shows(&self, s: Section) -> bool {
        !self.hidden.contains(s)
    }
}

/// Up to two initials of the portal name, for the mark beside it.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .collect::<String>()
        .to_uppercase()
}

fn head(title: &str, suffix: Option<&str>, theme: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) @if let Some(s) = suffix { " · " (s) } }
            link rel="stylesheet" href="/assets/app.css";
            @if let Some(t) = theme { link rel="stylesheet" href=(t); }
        }
    }
}

fn announcement_banner(chrome: &Chrome) -> Markup {
    html! {
        @if !chrome.announcements.is_empty() {
            section class="announcements" aria-label="Site announcements" {
                @for a in &chrome.announcements {
                    div class={ "announcement " (a.severity.as_str()) } {
                        div class="inner" {
                            p {
                                strong class="sev" { (a.severity.label()) ": " }
                                (a.body)
                                @if let Some(link) = &a.link {
                                    " " a href=(link) { "More information" span class="visually-hidden" { " about this announcement" } }
                                }
                            }
                            @if chrome.can_dismiss {
                                form method="post" action={ "/portal/announcements/" (a.id) "/dismiss" } {
                                    button type="submit" class="dismiss" { "Dismiss" span class="visually-hidden" { " this announcement" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A full page in the shell.
pub fn page(chrome: &Chrome, title: &str, tab: Tab, body: Markup) -> Markup {
    page_at(chrome, title, tab, "", body)
}

/// A full page in the shell; `current` is the page's path, marked in the
/// ITSM / Settings area navigation.
pub fn page_at(chrome: &Chrome, title: &str, tab: Tab, current: &str, body: Markup) -> Markup {
    let tab_link = |t: Tab, href: &str, label: &str| {
        html! { li { a href=(href) aria-current=[(tab == t).then_some("page")] { (label) } } }
    };
    let area: Vec<&AreaLink> = chrome.area_links.iter().filter(|l| l.tab == tab).collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, Some(&chrome.portal_name), chrome.theme_url.as_deref()))
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                header class="site-header" {
                    div class="bar" {
                        a class="brand" href="/portal" {
                            @if let Some(logo) = &chrome.logo_url {
                                img src=(logo) alt="" width="32" height="32";
                            } @else {
                                span class="mark" aria-hidden="true" { (initials(&chrome.portal_name)) }
                            }
                            span class="brand-name" { (chrome.portal_name) }
                        }
                        @if chrome.signed_in {
                            nav class="header-actions" aria-label="Shortcuts" {
                                @if chrome.shows(Section::Requests) {
                                    a class="btn" href="/portal/request/new" { "Submit a request" }
                                }
                                @if chrome.agent {
                                    a class="btn secondary" href="/itsm/incidents/new" { "Report an incident" }
                                    a class="btn secondary" href="/itsm" { "ITSM Dashboard" }
                                }
                            }
                            div class="account" {
                                a class="notifications" href="/portal/notifications" {
                                    "Notifications"
                                    @if chrome.unread > 0 { " " span class="badge" { (chrome.unread) span class="visually-hidden" { " unread" } } }
                                }
                                details class="user-menu" {
                                    summary { span class="visually-hidden" { "Account menu for " } (chrome.user_name.as_deref().unwrap_or("Account")) }
                                    div class="menu" {
                                        a href="/portal/profile" { "Profile" }
                                        @if chrome.settings { a href="/settings" { "Settings" } }
                                        form method="post" action="/logout" { button type="submit" { "Sign out" } }
                                    }
                                }
                            }
                        } @else {
                            div class="account" { a class="btn" href="/login" { "Sign in" } }
                        }
                    }
                    @if tab.is_portal() {
                        nav class="tabs" aria-label="Portal sections" {
                            ul {
                                @if chrome.shows(Section::Catalog) { (tab_link(Tab::Catalog, "/portal", "Service Catalog")) }
                                @if chrome.shows(Section::Requests) { (tab_link(Tab::Requests, "/portal/requests", "My Requests")) }
                                @if chrome.shows(Section::Knowledge) { (tab_link(Tab::Knowledge, "/portal/knowledge", "Knowledge Base")) }
                                @if chrome.shows(Section::Status) { (tab_link(Tab::Status, "/portal/status", "Status")) }
                                @if chrome.approvals && chrome.shows(Section::Approvals) { (tab_link(Tab::Approvals, "/portal/approvals", "Approvals")) }
                                @if chrome.signed_in { (tab_link(Tab::Profile, "/portal/profile", "Profile")) }
                            }
                        }
                    } @else if !area.is_empty() {
                        nav class="tabs area" aria-label=(if tab == Tab::Itsm { "Agent workspace" } else { "Settings" }) {
                            ul {
                                @for l in &area {
                                    li { a href=(l.path) aria-current=[(l.path == current).then_some("page")] { (l.label) } }
                                }
                            }
                        }
                    }
                }
                (announcement_banner(chrome))
                main id="main" tabindex="-1" { (body) }
                footer class="site-footer" { p { (chrome.portal_name) " · Powered by Tier0" } }
            }
        }
    }
}

/// A minimal page without the portal chrome (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, None, None))
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                (body)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_of_names() {
        assert_eq!(initials("Acme support"), "AS");
        assert_eq!(initials("IT"), "I");
        assert_eq!(initials("  (Beta) desk "), "BD");
        assert_eq!(initials(""), "");
    }
}
