//! Managing users: list, read, activate/deactivate, change role.

use crate::error::{AppError, AppResult};
use crate::{App, Can, Ctx, caps};
use serde::{Deserialize, Serialize};
use tier0_domain::{Cursor, Limit, Name, RoleId, User, UserId};
use tier0_store::tokens::TokenKind;
use tier0_store::users::UserFilter;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct UserListQuery {
    /// Substring of e-mail or name.
    pub q: Option<String>,
    pub active: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct UserPatch {
    #[serde(default)]
    pub active: Option<bool>,
    /// Role name or id (needs `rbac:manage`).
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl App {
    /// `GET /api/users`.
    pub async fn list_users(&self, by: Can<'_, caps::UsersRead>, q: UserListQuery) -> AppResult<Page<User>> {
        let limit = Limit::parse(q.limit)?;
        let after = match q.cursor.as_deref() {
            Some(c) => Some(Cursor::decode(c, 1)?.0.remove(0)),
            None => None,
        };
        let text = q.q.filter(|s| !s.trim().is_empty()).map(|s| s.chars().take(200).collect::<String>());
        let mut r = self.db(by.ctx).read().await?;
        let mut items = r.list_users(&UserFilter { q: text, active: q.active, after, limit: limit.probe() }).await?;
        let next = if items.len() as i64 > i64::from(limit.get()) {
            items.truncate(limit.get() as usize);
            items.last().map(|u| Cursor(vec![u.id.to_string()]).encode())
        } else {
            None
        };
        Ok(Page { items, next_cursor: next })
    }

    /// `GET /api/users/{id}`: with `users:read`, or one's own record.
    /// Anyone else gets 404.
    pub async fn get_user(&self, ctx: &Ctx, id: &str) -> AppResult<User> {
        let p = ctx.principal().ok_or(AppError::Unauthenticated)?;
        let own = ctx.is_signed_in() && p.user.id.as_str() == id;
        let reader = ctx.is_signed_in() && p.permissions.allows("users:read");
        if !(own || reader) {
            return Err(AppError::NotFound);
        }
        self.db(ctx).read().await?.get_user(&UserId::new(id)).await?.ok_or(AppError::NotFound)
    }

    /// `PATCH /api/users/{id}`. Deactivation revokes every session and
    /// reset link at once; the last active administrator can be neither
    /// deactivated nor demoted; nobody manages a user who holds permissions
    /// they lack themselves. Each kind of change is audited on its own.
    pub async fn patch_user(&self, by: Can<'_, caps::UsersWrite>, id: &str, patch: UserPatch) -> AppResult<User> {
        let ctx = by.ctx;
        let name = match patch.name.as_deref() {
            Some(n) => Some(Name::parse("name", n)?),
            None => None,
        };
        let db = self.db(ctx);
        let mut tx = db.write().await?;
        let uid = UserId::new(id);
        let user = tx.get_user(&uid).await?.ok_or(AppError::NotFound)?;
        let current_role = tx.get_role(&user.role_id).await?.ok_or_else(|| AppError::internal("user without role"))?;
        if !by.principal.permissions.covers(&current_role.permissions) {
            return Err(AppError::forbidden("you cannot change a user who holds permissions you do not hold"));
        }
        let now = self.now();

        let new_role = match patch.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(key) => {
                if !by.allows("rbac:manage") {
                    return Err(AppError::forbidden("changing a role needs the rbac:manage permission"));
                }
                let role = match tx.get_role_by_name(key).await? {
                    Some(r) => Some(r),
                    None => tx.get_role(&RoleId::new(key)).await?,
                }
                .ok_or_else(|| AppError::field("role", "is not a role of this organisation"))?;
                if !by.principal.permissions.covers(&role.permissions) {
                    return Err(AppError::forbidden("you cannot grant a role with permissions you do not hold"));
                }
                Some(role).filter(|r| r.id != user.role_id)
            }
            None => None,
        };
        let deactivating = patch.active == Some(false) && user.active;
        let demoting = new_role.as_ref().is_some_and(|r| !r.is_admin());
        if (deactivating || demoting)
            && current_role.is_admin()
            && user.active
            && tx.lock_active_admins(None).await? <= 1
        {
            return Err(AppError::conflict(
                "last_admin",
                "this is the last active administrator; make someone else an administrator first",
            ));
        }
        let target = Some(("user", uid.as_str()));
        if let Some(role) = &new_role {
            tx.set_user_role(&uid, &role.id, now).await?;
            let details = serde_json::json!({"email": user.email, "from": current_role.name, "to": role.name});
            self.audit(&mut tx, ctx, "user.role_changed", target, details).await?;
        }
        if let Some(active) = patch.active
            && active != user.active
        {
            tx.set_user_active(&uid, active, now).await?;
            if !active {
                tx.revoke_user_sessions(&uid, None, now).await?;
                tx.expire_user_tokens(TokenKind::Reset, &uid, now).await?;
            }
            let action = if active { "user.activated" } else { "user.deactivated" };
            self.audit(&mut tx, ctx, action, target, serde_json::json!({"email": user.email})).await?;
        }
        if let Some(name) = name.filter(|n| n.as_str() != user.name) {
            tx.update_user_profile(&uid, Some(name.as_str()), None, None, now).await?;
            let details = serde_json::json!({"email": user.email, "from": user.name, "to": name.as_str()});
            self.audit(&mut tx, ctx, "user.updated", target, details).await?;
        }
        let out = tx.get_user(&uid).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        Ok(out)
    }
}
