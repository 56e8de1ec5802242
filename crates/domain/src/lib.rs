//! Pure domain types for Tier0: identifiers, validated values, tenants,
//! roles and permissions, and the rules that govern them.
//!
//! Nothing in this crate performs IO, touches a database, speaks HTTP or
//! needs an async runtime. Values are parsed once at the edge and trusted
//! everywhere inside ("parse, don't validate").

pub mod clock;
pub mod error;
pub mod identity;
pub mod ids;
pub mod itsm;
pub mod kb;
pub mod page;
pub mod perm;
pub mod portal;
pub mod tenant;
pub mod text;
pub mod time;

pub use clock::{Clock, Random};
pub use error::{FieldErrors, ValidationError};
pub use identity::{AuditEntry, NotificationPrefs, Principal, Role, SessionInfo, User};
pub use ids::*;
pub use page::{Cursor, Limit};
pub use perm::{BuiltinRole, NavConfig, NavItem, Permission, PermissionSet};
pub use portal::{BrandColour, PortalSettings, Section, SectionSet, ServiceState, Severity};
pub use tenant::{HostTarget, Slug, parse_host};
pub use text::{Email, Name, PlainText};
pub use time::Timestamp;
