//! Who is asking, and proofs of what they may do.
//!
//! A [`Ctx`] is built by [`crate::App::context`] from the tenant and the
//! session token. Use cases demand capabilities in their signatures:
//! [`SignedIn`] (a real, signed-in user) or [`Can<C>`] (the caller's role
//! grants `C::PERMISSION`). Both can only be obtained through the checks in
//! this module.

use crate::error::{AppError, AppResult};
use crate::tenants::Tenant;
use std::marker::PhantomData;
use tier0_domain::{Principal, SessionId, UserId};

/// The caller.
#[derive(Debug, Clone)]
pub enum Actor {
    /// No valid session.
    Anonymous,
    /// `TIER0_SHARED_ANONYMOUS_ACCESS`: a synthetic read-only principal,
    /// only ever built for safe (GET/HEAD) requests.
    Guest(Principal),
    /// A signed-in user.
    User { principal: Principal, session: SessionId },
}

/// One request's context.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub(crate) tenant: Tenant,
    pub(crate) actor: Actor,
    pub(crate) ip: Option<String>,
    pub(crate) user_agent: Option<String>,
}

impl Ctx {
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn ip(&self) -> Option<&str> {
        self.ip.as_deref()
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// The principal, real or guest.
    pub fn principal(&self) -> Option<&Principal> {
        match &self.actor {
            Actor::Anonymous => None,
            Actor::Guest(p) | Actor::User { principal: p, .. } => Some(p),
        }
    }

    pub fn is_signed_in(&self) -> bool {
        matches!(self.actor, Actor::User { .. })
    }

    /// Whether the caller holds `perm` (for presentation decisions; use
    /// [`Ctx::can`] to authorize).
    pub fn allows(&self, perm: &str) -> bool {
        self.principal().is_some_and(|p| p.permissions.allows(perm))
    }

    /// Proof of a real signed-in user (guests and anonymous callers get 401).
    pub fn signed_in(&self) -> AppResult<SignedIn<'_>> {
        match &self.actor {
            Actor::User { principal, session } => Ok(SignedIn { ctx: self, principal, session }),
            _ => Err(AppError::Unauthenticated),
        }
    }

    /// Proof that the caller holds `C::PERMISSION`: 401 when not signed in
    /// (or a guest lacking it), 403 when signed in without it.
    pub fn can<C: Capability>(&self) -> AppResult<Can<'_, C>> {
        match &self.actor {
            Actor::Anonymous => Err(AppError::Unauthenticated),
            Actor::Guest(p) if !p.permissions.allows(C::PERMISSION) => Err(AppError::Unauthenticated),
            Actor::Guest(p) | Actor::User { principal: p, .. } => {
                if p.permissions.allows(C::PERMISSION) {
                    Ok(Can { ctx: self, principal: p, _c: PhantomData })
                } else {
                    Err(AppError::Forbidden {
                        code: "forbidden",
                        message: format!("this needs the {} permission", C::PERMISSION),
                    })
                }
            }
        }
    }
}

/// A signed-in user.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn<'a> {
    pub ctx: &'a Ctx,
    pub principal: &'a Principal,
    pub session: &'a SessionId,
}

impl SignedIn<'_> {
    pub fn user_id(&self) -> &UserId {
        &self.principal.user.id
    }

    pub fn allows(&self, perm: &str) -> bool {
        self.principal.permissions.allows(perm)
    }
}

/// A permission, named at the type level.
pub trait Capability {
    const PERMISSION: &'static str;
}

/// Proof that the caller holds `C`.
#[derive(Debug)]
pub struct Can<'a, C: Capability> {
    pub ctx: &'a Ctx,
    pub principal: &'a Principal,
    _c: PhantomData<C>,
}

impl<C: Capability> Clone for Can<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C: Capability> Copy for Can<'_, C> {}

impl<C: Capability> Can<'_, C> {
    pub fn user_id(&self) -> &UserId {
        &self.principal.user.id
    }

    /// Whether the same caller also holds another permission.
    pub fn allows(&self, perm: &str) -> bool {
        self.principal.permissions.allows(perm)
    }

    /// Whether this is a real signed-in user (not the read-only guest).
    pub fn is_user(&self) -> bool {
        self.ctx.is_signed_in()
    }
}

/// The capabilities, one per permission of SPEC §2.
pub mod caps {
    use super::Capability;

    macro_rules! caps {
        ($($(#[$m:meta])* $name:ident => $perm:literal),* $(,)?) => {$(
            $(#[$m])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Capability for $name {
                const PERMISSION: &'static str = $perm;
            }
        )*};
    }

    caps! {
        ItsmRead => "itsm:read",
        ItsmWrite => "itsm:write",
        Fulfill => "itsm:fulfill",
        IncidentsRead => "incidents:read",
        IncidentsWrite => "incidents:write",
        ProblemsRead => "problems:read",
        ProblemsWrite => "problems:write",
        KbWrite => "kb:write",
        KbPublish => "kb:publish",
        CatalogManage => "catalog:manage",
        StatusManage => "status:manage",
        AnalyticsRead => "analytics:read",
        UsersRead => "users:read",
        UsersWrite => "users:write",
        RbacManage => "rbac:manage",
        SettingsManage => "settings:manage",
        AuditRead => "audit:read",
    }
}
