//! The service catalog, requests, approvals, incidents and notifications
//! (SPEC §5) as use cases. Pages and the JSON API call the same methods.
//!
//! Who may do what is decided here, once:
//!
//! - Reading the catalog and one's own requests needs `itsm:read`
//!   ([`caps::ItsmRead`]); filing, commenting on and transitioning them
//!   needs `itsm:write` ([`caps::ItsmWrite`]).
//! - A request is visible to agents (`itsm:fulfill`), to its requester and
//!   to its watchers; to anyone else it does not exist (404).
//! - Internal notes are only ever read by agents: every path that shows
//!   comments or sends notifications goes through [`RequestAccess`].
//! - Changing the catalog and approval workflows needs `catalog:manage`;
//!   incidents need `incidents:read` / `incidents:write`; an approval
//!   decision can only be taken by the approver it was asked of.
//!
//! Methods for pages and the API, by area:
//!
//! - catalog ([`catalog`]): [`App::list_catalog`], [`App::get_catalog_item`],
//!   [`App::create_catalog_item`], [`App::patch_catalog_item`],
//!   [`App::delete_catalog_item`], [`App::list_categories`],
//!   [`App::create_category`], [`App::patch_category`], [`App::delete_category`];
//! - requests ([`requests`]): [`App::create_request`], [`App::list_requests`],
//!   [`App::get_request`], [`App::patch_request`], [`App::transition_request`],
//!   [`App::queue_summary`], [`App::assignable_agents`], [`App::add_watcher`],
//!   [`App::remove_watcher`];
//! - comments and attachments ([`comments`], [`attachments`]):
//!   [`App::list_comments`], [`App::add_comment`], [`App::add_attachment`],
//!   [`App::get_attachment`];
//! - approvals ([`approvals`], [`workflows`]): [`App::list_approval_tasks`],
//!   [`App::decide_approval`], [`App::create_workflow`], [`App::list_workflows`],
//!   [`App::get_workflow`], [`App::patch_workflow`];
//! - incidents ([`incidents`]): [`App::list_incidents`], [`App::get_incident`],
//!   [`App::create_incident`];
//! - notifications ([`notify`]): [`App::list_notifications`],
//!   [`App::mark_notification_read`], [`App::mark_all_notifications_read`].
//!
//! [`caps::ItsmRead`]: crate::caps::ItsmRead
//! [`caps::ItsmWrite`]: crate::caps::ItsmWrite

pub mod approvals;
pub mod attachments;
pub mod catalog;
pub mod catalog_view;
pub mod comments;
pub mod incidents;
pub mod notify;
pub mod requests;
pub mod workflows;

use crate::auth::users::Page;
use crate::error::AppResult;
use serde::{Deserialize, Deserializer};
use tier0_domain::itsm::records::ServiceRequest;
use tier0_domain::itsm::{Party, RequestStatus};
use tier0_domain::{Cursor, Limit, Principal, Timestamp};

/// Links to pages, used in notifications and e-mails. The page engineer's
/// routes serve these paths.
pub mod links {
    /// A requester's view of a request.
    pub fn portal_request(id: &str) -> String {
        format!("/portal/requests/{id}")
    }
    /// An agent's view of a request.
    pub fn itsm_request(id: &str) -> String {
        format!("/itsm/requests/{id}")
    }
    /// The approver's list.
    pub const PORTAL_APPROVALS: &str = "/portal/approvals";
}

/// How the caller relates to one request they may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestAccess {
    /// Holds `itsm:fulfill`: sees everything, internal notes included.
    pub agent: bool,
    /// Is the request's requester.
    pub requester: bool,
    /// Watches the request.
    pub watcher: bool,
}

impl RequestAccess {
    /// The parties the caller acts as in the state machine.
    pub fn parties(&self) -> Vec<Party> {
        let mut p = Vec::new();
        if self.agent {
            p.push(Party::Fulfiller);
        }
        if self.requester {
            p.push(Party::Requester);
        }
        p
    }

    /// Whether internal notes may be shown.
    pub fn sees_internal(&self) -> bool {
        self.agent
    }

    /// The statuses the caller may move `r` to now.
    pub fn allowed_transitions(&self, r: &ServiceRequest, now: Timestamp) -> Vec<RequestStatus> {
        r.lifecycle().allowed(&self.parties(), now)
    }
}

/// Decide the caller's access to a request; `None` means it does not
/// exist for them (404).
pub(crate) fn access(p: &Principal, r: &ServiceRequest, watcher: bool) -> Option<RequestAccess> {
    let a =
        RequestAccess { agent: p.permissions.allows("itsm:fulfill"), requester: r.requester_id == p.user.id, watcher };
    (a.agent || a.requester || a.watcher).then_some(a)
}

/// Decode a keyset cursor of `parts` parts.
pub(crate) fn decode_cursor(c: Option<&str>, parts: usize) -> AppResult<Option<Vec<String>>> {
    match c.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Ok(Some(Cursor::decode(c, parts)?.0)),
        None => Ok(None),
    }
}

/// Cut a probe-sized list (limit + 1) to a page and its next cursor.
pub(crate) fn paginate<T>(mut items: Vec<T>, limit: Limit, key: impl Fn(&T) -> Vec<String>) -> Page<T> {
    let next = if items.len() > limit.get() as usize {
        items.truncate(limit.get() as usize);
        items.last().map(|x| Cursor(key(x)).encode())
    } else {
        None
    };
    Page { items, next_cursor: next }
}

/// Mark overdue requests (active and past due) at `now`.
pub(crate) fn mark_overdue(r: &mut ServiceRequest, now: Timestamp) {
    r.overdue = r.status.is_active() && r.due_at.is_some_and(|d| d < now);
}

/// For PATCH bodies: distinguishes an absent field (`None`) from an
/// explicit `null` (`Some(None)`).
pub(crate) fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A short excerpt of text for notifications.
pub(crate) fn excerpt(s: &str, max: usize) -> String {
    let t = s.trim();
    if t.chars().count() <= max {
        t.to_owned()
    } else {
        let mut out: String = t.chars().take(max).collect();
        out.push('…');
        out
    }
}
