//! Catalog, request, approval, incident and notification records as the
//! rest of the system (and the API) sees them. The store builds them; the
//! app decides who may see which.

use super::{ApprovalRule, ApprovalState, DecisionState, FormField, IncidentStatus, Priority, RequestStatus};
use crate::{
    AttachmentId, CatalogItemId, CategoryId, Email, IncidentId, RecordId, RequestId, Timestamp, UserId, WorkflowId,
};
use serde::Serialize;

/// Human number of a request: `REQ-12`.
pub fn request_number(n: i64) -> String {
    format!("REQ-{n}")
}

/// Human number of an incident: `INC-3`.
pub fn incident_number(n: i64) -> String {
    format!("INC-{n}")
}

/// Parse `REQ-12` / `req-12` / `12` into 12 (search by number).
pub fn parse_number(prefix: &str, s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = match s.get(..prefix.len() + 1) {
        Some(p) if p.eq_ignore_ascii_case(&format!("{prefix}-")) => &s[prefix.len() + 1..],
        _ => s,
    };
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A person as shown next to a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UserRef {
    pub id: UserId,
    pub name: String,
    pub email: Email,
}

/// A catalog category.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub description: String,
    /// Sort key (ascending), then name.
    pub position: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A catalog item: something people can request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CatalogItem {
    pub id: CatalogItemId,
    pub name: String,
    /// Plain-language description.
    pub description: String,
    pub category_id: Option<CategoryId>,
    /// An icon name or a short symbol.
    pub icon: String,
    pub fields: Vec<FormField>,
    /// "Usually done within" this many hours; sets a request's `due_at`.
    pub fulfillment_target_hours: Option<i64>,
    pub workflow_definition_id: Option<WorkflowId>,
    /// Whether requests for it start in `pending_approval`.
    pub requires_approval: bool,
    /// Role names that see the item; empty means everyone.
    pub visible_to_roles: Vec<String>,
    pub published: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A service request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceRequest {
    pub id: RequestId,
    /// `REQ-n`, per tenant.
    pub number: String,
    pub title: String,
    pub details: String,
    pub status: RequestStatus,
    pub priority: Priority,
    pub requester_id: UserId,
    pub requester: UserRef,
    /// Who filed it (an agent filing on someone's behalf, or the requester).
    pub created_by: UserRef,
    pub assignee_id: Option<UserId>,
    pub assignee: Option<UserRef>,
    pub catalog_item_id: Option<CatalogItemId>,
    pub catalog_item_name: Option<String>,
    /// Submitted form values, validated against the item's fields.
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// When fulfilment is due (from the item's fulfilment target).
    pub due_at: Option<Timestamp>,
    /// Active and past `due_at` (computed when read).
    pub overdue: bool,
    pub resolved_at: Option<Timestamp>,
    /// When it reached closed, rejected or cancelled.
    pub closed_at: Option<Timestamp>,
    /// The incident raised from this request, if any.
    pub incident_id: Option<IncidentId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ServiceRequest {
    /// The status and timestamps as the state machine sees them.
    pub fn lifecycle(&self) -> super::Lifecycle {
        super::Lifecycle {
            status: self.status,
            created_at: self.created_at,
            updated_at: self.updated_at,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
        }
    }
}

/// Counts for the agent dashboard.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct QueueSummary {
    /// Active requests by status.
    pub by_status: std::collections::BTreeMap<String, i64>,
    /// Active and past due.
    pub overdue: i64,
    /// Active and nobody assigned.
    pub unassigned: i64,
}

/// One entry of a request's timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestEvent {
    pub id: RecordId,
    pub at: Timestamp,
    /// `created`, `status`, `assigned`, `priority` or `incident`.
    pub kind: String,
    /// Previous value (a status for `status` events, a user id for `assigned`).
    pub from: Option<String>,
    /// New value.
    pub to: Option<String>,
    /// Who did it; absent for the system.
    pub actor: Option<UserRef>,
    /// A public note (a transition comment, an approver's reason).
    pub note: Option<String>,
}

/// A comment on a request. Internal notes are only ever shown to agents.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Comment {
    pub id: RecordId,
    pub request_id: RequestId,
    pub body: String,
    pub internal: bool,
    pub author: UserRef,
    pub created_at: Timestamp,
}

/// A file attached to a request (metadata; the bytes are downloaded
/// separately).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: AttachmentId,
    pub request_id: RequestId,
    pub filename: String,
    /// Sniffed from the content, not taken from the client.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: UserRef,
    pub created_at: Timestamp,
}

/// An approval workflow stage as stored: approvers by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StoredStage {
    pub users: Vec<String>,
    pub roles: Vec<String>,
    pub rule: ApprovalRule,
}

/// An approval workflow definition.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Workflow {
    pub id: WorkflowId,
    pub name: String,
    pub stages: Vec<WorkflowStage>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkflowStage {
    pub approvers: Approvers,
    pub rule: ApprovalRule,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Approvers {
    /// User ids.
    pub users: Vec<String>,
    /// Role names.
    pub roles: Vec<String>,
}

/// The approval of one request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Approval {
    pub id: RecordId,
    pub request_id: RequestId,
    pub workflow_id: Option<WorkflowId>,
    pub workflow_name: String,
    pub state: ApprovalState,
    /// Index of the stage being decided (0-based).
    pub current_stage: i64,
    pub stages: Vec<ApprovalStage>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApprovalStage {
    pub rule: ApprovalRule,
    /// Decisions asked for this stage (empty until the stage starts).
    pub decisions: Vec<Decision>,
}

/// One approver's decision on one stage.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Decision {
    pub id: RecordId,
    pub approver: UserRef,
    pub state: DecisionState,
    pub comment: Option<String>,
    pub decided_at: Option<Timestamp>,
}

/// A decision asked of the caller, with what is being approved.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApprovalTask {
    /// The decision id (`POST /api/itsm/approvals/{id}`).
    pub id: RecordId,
    pub approval_id: RecordId,
    pub state: DecisionState,
    pub stage: i64,
    pub comment: Option<String>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub request: ApprovalSubject,
}

/// What an approver sees of the request they decide on.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApprovalSubject {
    pub id: RequestId,
    pub number: String,
    pub title: String,
    pub details: String,
    pub status: RequestStatus,
    pub priority: Priority,
    pub requester: UserRef,
    pub catalog_item_name: Option<String>,
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    pub created_at: Timestamp,
}

/// An incident.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Incident {
    pub id: IncidentId,
    /// `INC-n`, per tenant.
    pub number: String,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub status: IncidentStatus,
    /// The request it was raised from, if any.
    pub source_request_id: Option<RequestId>,
    pub source_request_number: Option<String>,
    pub reported_by: UserRef,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An in-app notification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: RecordId,
    /// `status`, `comment`, `approval_needed`, `approval_decided`,
    /// `reply`, `created_for_you`.
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Path of the page to open, e.g. `/portal/requests/{id}`.
    pub link: String,
    pub request_id: Option<RequestId>,
    pub created_at: Timestamp,
    pub read: bool,
    pub read_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("REQ", "REQ-12"), Some(12));
        assert_eq!(parse_number("REQ", "req-7"), Some(7));
        assert_eq!(parse_number("REQ", " 42 "), Some(42));
        assert_eq!(parse_number("REQ", "REQ-"), None);
        assert_eq!(parse_number("REQ", "printer"), None);
        assert_eq!(parse_number("REQ", "INC-4"), None);
        assert_eq!(parse_number("REQ", "é"), None);
        assert_eq!(request_number(3), "REQ-3");
    }
}
