//! Permissions (flat `resource:action` strings, `*` for everything), the
//! four built-in roles and the navigation each role lands on (SPEC §2).

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// Every permission the product knows, with its meaning (SPEC §2).
pub const KNOWN_PERMISSIONS: &[(&str, &str)] = &[
    ("itsm:read", "See own requests, the catalog and published knowledge"),
    ("itsm:write", "Create, comment on and transition own requests"),
    ("itsm:fulfill", "Work all requests: internal notes, assignment, on-behalf filing, incidents from requests"),
    ("incidents:read", "See incidents"),
    ("incidents:write", "Create and update incidents"),
    ("changes:read", "See changes"),
    ("changes:write", "Create and update changes"),
    ("changes:approve", "Approve changes"),
    ("problems:read", "See problems and known errors"),
    ("problems:write", "Create and update problems and known errors"),
    ("kb:write", "Author knowledge articles and known errors"),
    ("kb:publish", "Publish knowledge articles and known errors"),
    ("catalog:manage", "Manage catalog categories, items, forms and approval workflows"),
    ("status:manage", "Manage the status page, maintenance windows and announcements"),
    ("analytics:read", "See portal and desk analytics"),
    ("users:read", "List users"),
    ("users:write", "Invite, activate, deactivate and edit users"),
    ("rbac:manage", "Change roles and role permissions, SSO and SCIM settings"),
    ("settings:manage", "Portal settings, branding and section toggles"),
    ("audit:read", "Read the audit log"),
];

/// One permission: `*` or a known `resource:action`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "itsm:fulfill")]
pub struct Permission(String);

impl Permission {
    pub const ALL: &'static str = "*";

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        if s == Self::ALL || KNOWN_PERMISSIONS.iter().any(|(p, _)| *p == s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValidationError::field("permissions", format!("unknown permission {s:?}")))
        }
    }

    /// A permission from this crate's constants, known valid.
    pub fn known(s: &'static str) -> Self {
        debug_assert!(s == Self::ALL || KNOWN_PERMISSIONS.iter().any(|(p, _)| *p == s));
        Self(s.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Permission {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Permission::parse(&s).map_err(|e| e.fields.into_values().next().unwrap_or_default())
    }
}

impl From<Permission> for String {
    fn from(p: Permission) -> String {
        p.0
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The permissions held by a role (and so by its members).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionSet(BTreeSet<Permission>);

impl PermissionSet {
    /// A set; one that includes `*` is just `{*}`.
    pub fn new(perms: impl IntoIterator<Item = Permission>) -> Self {
        Self(perms.into_iter().collect()).normalized()
    }

    fn normalized(self) -> Self {
        if self.is_all() { Self([Permission(Permission::ALL.to_owned())].into_iter().collect()) } else { self }
    }

    /// Parse a list, reporting the first unknown entry on `permissions`.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, ValidationError> {
        if items.len() > 100 {
            return Err(ValidationError::field("permissions", "too many entries"));
        }
        items
            .iter()
            .map(|s| Permission::parse(s.as_ref()))
            .collect::<Result<BTreeSet<_>, _>>()
            .map(|s| Self(s).normalized())
    }

    /// Storage form: space-separated.
    pub fn to_storage(&self) -> String {
        self.0.iter().map(Permission::as_str).collect::<Vec<_>>().join(" ")
    }

    /// Read back the storage form; unknown entries (from a newer version)
    /// are dropped rather than trusted.
    pub fn from_storage(s: &str) -> Self {
        Self(s.split_whitespace().filter_map(|p| Permission::parse(p).ok()).collect()).normalized()
    }

    pub fn is_all(&self) -> bool {
        self.0.iter().any(|p| p.0 == Permission::ALL)
    }

    /// Whether the set grants `perm` (directly or through `*`).
    pub fn allows(&self, perm: &str) -> bool {
        self.is_all() || self.0.iter().any(|p| p.0 == perm)
    }

    /// Whether every permission of `other` is granted by `self`.
    pub fn covers(&self, other: &PermissionSet) -> bool {
        if self.is_all() {
            return true;
        }
        !other.is_all() && other.0.iter().all(|p| self.allows(p.as_str()))
    }

    /// The effective list: `*` expands to every known permission.
    pub fn effective(&self) -> Vec<String> {
        if self.is_all() {
            let mut v = vec![Permission::ALL.to_owned()];
            v.extend(KNOWN_PERMISSIONS.iter().map(|(p, _)| (*p).to_owned()));
            v
        } else {
            self.0.iter().map(|p| p.0.clone()).collect()
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Permission> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The roles every tenant has from creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltinRole {
    Requester,
    Fulfiller,
    Operator,
    Admin,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 4] = [Self::Requester, Self::Fulfiller, Self::Operator, Self::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Self::Requester => "requester",
            Self::Fulfiller => "fulfiller",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == s)
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Requester => "Every employee: catalog, own requests, knowledge base",
            Self::Fulfiller => "Service desk agent: works the request queue",
            Self::Operator => "Senior agent: publishing, status page, analytics, change approval",
            Self::Admin => "Full access, including users, roles and settings",
        }
    }

    pub fn default_permissions(self) -> PermissionSet {
        let p: &[&'static str] = match self {
            Self::Requester => &["itsm:read", "itsm:write"],
            Self::Fulfiller => &[
                "itsm:read",
                "itsm:write",
                "itsm:fulfill",
                "incidents:read",
                "incidents:write",
                "changes:read",
                "changes:write",
                "problems:read",
                "kb:write",
            ],
            Self::Operator => &[
                "itsm:read",
                "itsm:write",
                "itsm:fulfill",
                "incidents:read",
                "incidents:write",
                "changes:read",
                "changes:write",
                "problems:read",
                "kb:write",
                "problems:write",
                "kb:publish",
                "status:manage",
                "analytics:read",
                "users:read",
                "changes:approve",
            ],
            Self::Admin => &["*"],
        };
        PermissionSet::new(p.iter().map(|s| Permission::known(s)))
    }
}

/// One navigation entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NavItem {
    pub label: &'static str,
    pub path: &'static str,
}

/// Where a user lands and what the navigation offers, derived from
/// permissions so that custom roles get sensible navigation too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NavConfig {
    pub landing: &'static str,
    pub items: Vec<NavItem>,
}

impl NavConfig {
    pub fn for_permissions(perms: &PermissionSet) -> Self {
        let mut items = vec![NavItem { label: "Portal", path: "/portal" }];
        let agent = perms.allows("itsm:fulfill");
        if agent {
            items.push(NavItem { label: "ITSM Dashboard", path: "/itsm" });
        }
        if ["users:read", "users:write", "rbac:manage", "settings:manage", "audit:read", "catalog:manage"]
            .iter()
            .any(|p| perms.allows(p))
        {
            items.push(NavItem { label: "Settings", path: "/settings" });
        }
        Self { landing: if agent { "/itsm" } else { "/portal" }, items }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_roles_nest() {
        let r = BuiltinRole::Requester.default_permissions();
        let f = BuiltinRole::Fulfiller.default_permissions();
        let o = BuiltinRole::Operator.default_permissions();
        let a = BuiltinRole::Admin.default_permissions();
        assert!(f.covers(&r) && o.covers(&f) && a.covers(&o));
        assert!(!r.covers(&f) && !f.covers(&o) && !o.covers(&a));
        assert!(a.allows("anything:goes"));
    }

    #[test]
    fn landing() {
        assert_eq!(NavConfig::for_permissions(&BuiltinRole::Requester.default_permissions()).landing, "/portal");
        assert_eq!(NavConfig::for_permissions(&BuiltinRole::Fulfiller.default_permissions()).landing, "/itsm");
        assert_eq!(NavConfig::for_permissions(&BuiltinRole::Admin.default_permissions()).landing, "/itsm");
    }

    #[test]
    fn permission_parsing() {
        assert!(Permission::parse("itsm:read").is_ok());
        assert!(Permission::parse("*").is_ok());
        assert!(Permission::parse("itsm:*").is_err());
        assert!(Permission::parse("bogus:perm").is_err());
        let s = PermissionSet::parse(&["itsm:read", "kb:write"]).unwrap();
        assert_eq!(PermissionSet::from_storage(&s.to_storage()), s);
    }
}
