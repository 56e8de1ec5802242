//! Roles and permissions: built-in and custom roles, the role-permission
//! editor, "can I?", and the audit log.

use super::users::Page;
use crate::error::{AppError, AppResult};
use crate::{App, Can, Ctx, caps};
use serde::{Deserialize, Serialize};
use tier0_domain::{AuditEntry, BuiltinRole, Cursor, Limit, Permission, PermissionSet, PlainText, Role, RoleId};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewRoleInput {
    /// 2–40 lowercase letters, digits, spaces, `-` or `_`.
    #[schema(min_length = 2, max_length = 40)]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RolePermissions {
    pub role_id: String,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CanI {
    pub permission: String,
    pub allowed: bool,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Only entries with this action (e.g. `auth.login_failed`).
    pub action: Option<String>,
}

/// Audit actions recorded by identity and access, with a label for
/// people (the audit page's filter). Other areas append their own.
pub const AUDIT_ACTIONS: &[(&str, &str)] = &[
    ("auth.login", "Signed in"),
    ("auth.login_failed", "Sign-in failed"),
    ("auth.logout", "Signed out"),
    ("auth.session_revoked", "Signed a device out"),
    ("auth.register_first_admin", "Registered as first administrator"),
    ("auth.signup", "Accepted an invitation"),
    ("auth.reset_requested", "Asked for a password reset"),
    ("auth.password_reset", "Reset their password"),
    ("auth.reset_failed", "Password reset failed"),
    ("auth.password_check_failed", "Wrong password when confirming a change"),
    ("user.invited", "Invited someone"),
    ("user.invite_revoked", "Withdrew an invitation"),
    ("user.activated", "Activated a user"),
    ("user.deactivated", "Deactivated a user"),
    ("user.role_changed", "Changed a user's role"),
    ("user.updated", "Edited a user"),
    ("user.password_changed", "Changed their password"),
    ("user.totp_enabled", "Turned on two-step verification"),
    ("user.totp_disabled", "Turned off two-step verification"),
    ("role.created", "Created a role"),
    ("role.permissions_changed", "Changed a role's permissions"),
    ("role.deleted", "Deleted a role"),
];

/// Role names: 2–40 of lowercase letters, digits, space, `-`, `_`.
fn parse_role_name(s: &str) -> Result<String, tier0_domain::ValidationError> {
    let s = s.trim().to_lowercase();
    let ok = (2..=40).contains(&s.chars().count())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, ' ' | '-' | '_'));
    if ok {
        Ok(s)
    } else {
        Err(tier0_domain::ValidationError::field(
            "name",
            "must be 2–40 lowercase letters, digits, spaces, dashes or underscores",
        ))
    }
}

/// Built-in roles from least to most privileged, then custom roles oldest
/// first.
pub(crate) fn in_display_order(mut roles: Vec<Role>) -> Vec<Role> {
    let rank = |r: &Role| {
        BuiltinRole::ALL.iter().position(|b| r.builtin && b.name() == r.name).unwrap_or(BuiltinRole::ALL.len())
    };
    roles.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.created_at.cmp(&b.created_at)).then(a.name.cmp(&b.name)));
    roles
}

impl App {
    /// `GET /api/roles`: built-in roles from least to most privileged,
    /// then custom roles oldest first.
    pub async fn list_roles(&self, by: Can<'_, caps::RbacManage>) -> AppResult<Vec<Role>> {
        Ok(in_display_order(self.db(by.ctx).read().await?.list_roles().await?))
    }

    /// Roles a `users:write` holder may assign when inviting (those within
    /// their own permissions); for the invite form.
    pub async fn assignable_roles(&self, by: Can<'_, caps::UsersWrite>) -> AppResult<Vec<Role>> {
        let all = in_display_order(self.db(by.ctx).read().await?.list_roles().await?);
        Ok(all.into_iter().filter(|r| by.principal.permissions.covers(&r.permissions)).collect())
    }

    /// `POST /api/roles`: a custom role, within the creator's permissions.
    pub async fn create_role(&self, by: Can<'_, caps::RbacManage>, input: NewRoleInput) -> AppResult<Role> {
        let mut errs = tier0_domain::ValidationError::new();
        let name = errs.collect(parse_role_name(&input.name));
        let description = errs.collect(PlainText::optional("description", input.description.as_deref(), 200));
        let perms = errs.collect(PermissionSet::parse(&input.permissions));
        errs.clone().into_result()?;
        let (Some(name), Some(description), Some(perms)) = (name, description, perms) else { return Err(errs.into()) };
        if !by.principal.permissions.covers(&perms) {
            return Err(AppError::forbidden("a new role cannot hold permissions you do not hold"));
        }
        let id: RoleId = self.new_id();
        let mut tx = self.db(by.ctx).write().await?;
        tx.insert_role(&id, &name, description.as_deref().unwrap_or(""), false, &perms, self.now()).await.map_err(
            |e| match e {
                tier0_store::StoreError::Conflict(_) => {
                    AppError::conflict("role_exists", "a role with this name already exists")
                }
                other => other.into(),
            },
        )?;
        self.audit(
            &mut tx,
            by.ctx,
            "role.created",
            Some(("role", id.as_str())),
            serde_json::json!({"name": name, "permissions": perms.to_storage()}),
        )
        .await?;
        let role = tx.get_role(&id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        Ok(role)
    }

    /// `DELETE /api/roles/{id}`: a custom role nobody holds. Built-in roles
    /// cannot be deleted (409 `role_builtin`); a role still held by users is
    /// 409 `role_in_use`, and so is one that live catalog items are
    /// restricted to. Pending invites into the role are withdrawn.
    pub async fn delete_role(&self, by: Can<'_, caps::RbacManage>, id: &str) -> AppResult<()> {
        let mut tx = self.db(by.ctx).write().await?;
        let role = tx.get_role(&RoleId::new(id)).await?.ok_or(AppError::NotFound)?;
        if role.builtin {
            return Err(AppError::conflict("role_builtin", "built-in roles cannot be deleted"));
        }
        let members = tx.count_role_members(&role.id).await?;
        if members > 0 {
            return Err(AppError::conflict(
                "role_in_use",
                format!("{members} user(s) hold this role; give them another role first"),
            ));
        }
        let items = tx.count_items_restricted_to_role(&role.id).await?;
        if items > 0 {
            return Err(AppError::conflict(
                "role_in_use",
                format!("{items} catalog item(s) are shown only to this role (among others); change them first"),
            ));
        }
        let withdrawn = tx.expire_invites_for_role(&role.id, self.now()).await?;
        if !tx.delete_custom_role(&role.id).await? {
            return Err(AppError::NotFound);
        }
        self.audit(
            &mut tx,
            by.ctx,
            "role.deleted",
            Some(("role", role.id.as_str())),
            serde_json::json!({"name": role.name, "permissions": role.permissions.to_storage(), "invites_withdrawn": withdrawn}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `GET /api/rbac/role-permissions?role_id=`.
    pub async fn role_permissions(&self, by: Can<'_, caps::RbacManage>, role_id: &str) -> AppResult<RolePermissions> {
        let role = self.db(by.ctx).read().await?.get_role(&RoleId::new(role_id)).await?.ok_or(AppError::NotFound)?;
        Ok(RolePermissions {
            role_id: role.id.to_string(),
            permissions: role.permissions.iter().map(|p| p.to_string()).collect(),
        })
    }

    /// `PUT /api/rbac/role-permissions`: the admin role is immutable (409).
    pub async fn set_role_permissions(
        &self,
        by: Can<'_, caps::RbacManage>,
        input: RolePermissions,
    ) -> AppResult<RolePermissions> {
        let perms = PermissionSet::parse(&input.permissions)?;
        let mut tx = self.db(by.ctx).write().await?;
        let role = tx.get_role(&RoleId::new(&input.role_id)).await?.ok_or(AppError::NotFound)?;
        if role.is_immutable() {
            return Err(AppError::conflict("role_immutable", "the admin role's permissions cannot be changed"));
        }
        if !by.principal.permissions.covers(&perms) {
            return Err(AppError::forbidden("you cannot grant permissions you do not hold"));
        }
        // Taking `*` away from a custom all-powerful role must leave some
        // active administrator outside it.
        if role.is_admin() && !perms.is_all() && tx.lock_active_admins(Some(&role.id)).await? == 0 {
            return Err(AppError::conflict("last_admin", "this change would leave no active administrator"));
        }
        tx.set_role_permissions(&role.id, &perms, self.now()).await?;
        self.audit(
            &mut tx,
            by.ctx,
            "role.permissions_changed",
            Some(("role", role.id.as_str())),
            serde_json::json!({"role": role.name, "from": role.permissions.to_storage(), "to": perms.to_storage()}),
        )
        .await?;
        tx.commit().await?;
        Ok(RolePermissions { role_id: role.id.to_string(), permissions: perms.iter().map(|p| p.to_string()).collect() })
    }

    /// `GET /api/rbac/can-i?permission=`.
    pub fn can_i(&self, ctx: &Ctx, permission: &str) -> AppResult<CanI> {
        let p = ctx.principal().ok_or(AppError::Unauthenticated)?;
        let perm =
            Permission::parse(permission).map_err(|_| AppError::field("permission", "is not a known permission"))?;
        Ok(CanI { permission: perm.to_string(), allowed: p.permissions.allows(perm.as_str()) })
    }

    /// `GET /api/audit`: newest first.
    pub async fn audit_log(&self, by: Can<'_, caps::AuditRead>, q: AuditQuery) -> AppResult<Page<AuditEntry>> {
        let limit = Limit::parse(q.limit)?;
        let before = match q.cursor.as_deref() {
            Some(c) => Some(Cursor::decode(c, 1)?.0.remove(0)),
            None => None,
        };
        let action = q.action.as_deref().map(str::trim).filter(|a| !a.is_empty() && a.len() <= 64);
        let mut items = self.db(by.ctx).read().await?.list_audit(before.as_deref(), action, limit.probe()).await?;
        let next = if items.len() as i64 > i64::from(limit.get()) {
            items.truncate(limit.get() as usize);
            items.last().map(|e| Cursor(vec![e.id.clone()]).encode())
        } else {
            None
        };
        Ok(Page { items, next_cursor: next })
    }
}
