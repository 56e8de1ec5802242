//! Users, roles, sessions and the audit trail as the rest of the system sees
//! them.

use crate::{Email, NavConfig, PermissionSet, RoleId, SessionId, TenantId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// Password length bounds (NIST 800-63B: no composition rules).
pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 128;

/// A role of one tenant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub description: String,
    pub builtin: bool,
    #[schema(value_type = Vec<String>)]
    #[serde(serialize_with = "ser_perms")]
    pub permissions: PermissionSet,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn ser_perms<S: serde::Serializer>(p: &PermissionSet, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(p.iter().map(|x| x.as_str()))
}

impl Role {
    /// The built-in admin role's permissions are fixed.
    pub fn is_immutable(&self) -> bool {
        self.builtin && self.name == crate::BuiltinRole::Admin.name()
    }

    /// Whether members count as administrators (for the last-admin rule).
    pub fn is_admin(&self) -> bool {
        self.permissions.is_all()
    }
}

/// Which notifications a user wants by e-mail (in-app ones always appear).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NotificationPrefs {
    /// Status changes of my requests.
    pub email_status_changes: bool,
    /// Public replies on my requests.
    pub email_comments: bool,
    /// Approval decisions asked of me, and on my requests.
    pub email_approvals: bool,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        Self { email_status_changes: true, email_comments: true, email_approvals: true }
    }
}

/// A user of one tenant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub username: Option<String>,
    pub role_id: RoleId,
    pub role: String,
    pub active: bool,
    pub totp_enabled: bool,
    pub notification_prefs: NotificationPrefs,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A signed-in user with the permissions of their role, as resolved from a
/// live session.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub user: User,
    pub permissions: PermissionSet,
    pub role_is_admin: bool,
}

impl Principal {
    pub fn nav(&self) -> NavConfig {
        NavConfig::for_permissions(&self.permissions)
    }
}

/// One entry of the audit trail.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    /// E-mail of the actor, or a description such as "system" or the
    /// address someone tried to sign in with.
    pub actor: String,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// A session as listed to its owner.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub id: SessionId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
