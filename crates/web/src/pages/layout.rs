//! The page shell: header (brand, "Submit a request", agent shortcuts,
//! user menu), portal tabs, main region and footer. All page chrome is
//! decided in [`Chrome::for_ctx`] so every page shows the same thing.

use crate::AppState;
use maud::{DOCTYPE, Markup, html};
use tier0_app::Ctx;

/// The portal tabs (SPEC §8) and the other areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Catalog,
    Requests,
    Knowledge,
    Status,
    Approvals,
    Profile,
    Itsm,
    Settings,
    None,
}

/// What the shell shows for this caller.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub portal_name: String,
    pub user_name: Option<String>,
    pub signed_in: bool,
    pub agent: bool,
    pub settings: bool,
    pub approvals: bool,
    pub unread: i64,
}

impl Chrome {
    pub async fn for_ctx(_st: &AppState, ctx: &Ctx) -> Chrome {
        let p = ctx.principal();
        let allows = |perm: &str| p.is_some_and(|p| p.permissions.allows(perm));
        Chrome {
            portal_name: format!("{} support", ctx.tenant().name),
            user_name: p.filter(|_| ctx.is_signed_in()).map(|p| p.user.name.clone()),
            signed_in: ctx.is_signed_in(),
            agent: allows("itsm:fulfill"),
            settings: ["users:read", "users:write", "rbac:manage", "settings:manage", "audit:read", "catalog:manage"]
                .iter()
                .any(|x| allows(x)),
            approvals: ctx.is_signed_in(),
            unread: 0,
        }
    }
}

/// A full page in the shell.
pub fn page(chrome: &Chrome, title: &str, tab: Tab, body: Markup) -> Markup {
    let tab_link = |t: Tab, href: &str, label: &str| {
        html! { a href=(href) aria-current=[(tab == t).then_some("page")] { (label) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (chrome.portal_name) }
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                header class="site-header" {
                    div class="bar" {
                        a class="brand" href="/portal" { span class="mark" aria-hidden="true" { "T0" } (chrome.portal_name) }
                        nav class="header-actions" aria-label="Shortcuts" {
                            @if chrome.signed_in {
                                a class="btn" href="/portal/request/new" { "Submit a request" }
                                @if chrome.agent {
                                    a class="btn secondary" href="/itsm/incidents/new" { "Report an incident" }
                                    a class="btn secondary" href="/itsm" { "ITSM Dashboard" }
                                }
                                a href="/portal/notifications" class="btn secondary" {
                                    "Notifications"
                                    @if chrome.unread > 0 { " " span class="badge" { (chrome.unread) span class="visually-hidden" { " unread" } } }
                                }
                                details class="user-menu" {
                                    summary { (chrome.user_name.as_deref().unwrap_or("Account")) }
                                    div class="menu" {
                                        a href="/portal/profile" { "Profile" }
                                        @if chrome.settings { a href="/settings" { "Settings" } }
                                        form method="post" action="/logout" { button type="submit" { "Sign out" } }
                                    }
                                }
                            } @else {
                                a class="btn" href="/login" { "Sign in" }
                            }
                        }
                    }
                    @if matches!(tab, Tab::Catalog | Tab::Requests | Tab::Knowledge | Tab::Status | Tab::Approvals | Tab::Profile) {
                        nav class="tabs" aria-label="Portal" {
                            (tab_link(Tab::Catalog, "/portal", "Service Catalog"))
                            (tab_link(Tab::Requests, "/portal/requests", "My Requests"))
                            (tab_link(Tab::Knowledge, "/portal/knowledge", "Knowledge Base"))
                            (tab_link(Tab::Status, "/portal/status", "Status"))
                            @if chrome.approvals { (tab_link(Tab::Approvals, "/portal/approvals", "Approvals")) }
                            @if chrome.signed_in { (tab_link(Tab::Profile, "/portal/profile", "Profile")) }
                        }
                    }
                }
                main id="main" tabindex="-1" { (body) }
                footer class="site-footer" { "Powered by Tier0" }
            }
        }
    }
}

/// A minimal page without the portal chrome (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                (body)
            }
        }
    }
}
