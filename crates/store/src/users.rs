//! Users of a tenant.

use crate::db::{Q, Row};
use crate::error::StoreResult;
use crate::scoped::{TenantRead, TenantWrite};
use tier0_domain::{Email, NotificationPrefs, RoleId, Timestamp, User, UserId};

/// Columns of `users u JOIN roles r` that [`user_from`] reads.
macro_rules! user_select {
    () => {
        "SELECT u.id, u.email, u.name, u.username, u.role_id, r.name AS role_name, u.active, u.totp_enabled, \
         u.notification_prefs, u.created_at, u.updated_at \
         FROM users u JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role_id "
    };
}

pub(crate) fn user_from(r: &Row) -> StoreResult<User> {
    Ok(User {
        id: UserId::new(r.get::<String>("id")?),
        email: Email::from_trusted(r.get::<String>("email")?),
        name: r.get("name")?,
        username: r.get("username")?,
        role_id: RoleId::new(r.get::<String>("role_id")?),
        role: r.get("role_name")?,
        active: r.get("active")?,
        totp_enabled: r.get("totp_enabled")?,
        notification_prefs: serde_json::from_str(&r.get::<String>("notification_prefs")?).unwrap_or_default(),
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

/// Secrets of a user needed to authenticate them; never serialised.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: Option<String>,
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
}

/// Filters for the user list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Substring of e-mail or name, case-insensitive.
    pub q: Option<String>,
    pub active: Option<bool>,
    /// Keyset: ids greater than this.
    pub after: Option<String>,
    /// Rows to fetch.
    pub limit: i64,
}

/// A new user row.
pub struct NewUser<'a> {
    pub id: &'a UserId,
    pub email: &'a Email,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
    pub role_id: &'a RoleId,
    pub now: Timestamp,
}

/// Escape `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl TenantRead {
    pub async fn count_users(&mut self) -> StoreResult<i64> {
        let q = self.q("SELECT COUNT(*) AS n FROM users WHERE tenant_id = $1");
        self.ex.fetch_one(q).await?.get("n")
    }

    pub async fn get_user(&mut self, id: &UserId) -> StoreResult<Option<User>> {
        let q = self.q(concat!(user_select!(), "WHERE u.tenant_id = $1 AND u.id = $2")).bind(id);
        self.ex.fetch_optional(q).await?.as_ref().map(user_from).transpose()
    }

    pub async fn get_user_by_email(&mut self, email: &Email) -> StoreResult<Option<User>> {
        let q = self.q(concat!(user_select!(), "WHERE u.tenant_id = $1 AND u.email = $2")).bind(email);
        self.ex.fetch_optional(q).await?.as_ref().map(user_from).transpose()
    }

    /// A user with secrets, by e-mail (sign-in).
    pub async fn credentials_by_email(&mut self, email: &Email) -> StoreResult<Option<Credentials>> {
        let q = self
            .q(concat!(
                "SELECT u.id, u.email, u.name, u.username, u.role_id, r.name AS role_name, u.active, u.totp_enabled, \
                 u.notification_prefs, u.created_at, u.updated_at, u.password_hash, u.totp_secret, u.totp_last_step \
                 FROM users u JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role_id ",
                "WHERE u.tenant_id = $1 AND u.email = $2"
            ))
            .bind(email);
        self.ex.fetch_optional(q).await?.as_ref().map(creds_from).transpose()
    }

    pub async fn credentials(&mut self, id: &UserId) -> StoreResult<Option<Credentials>> {
        let q = self
            .q(concat!(
                "SELECT u.id, u.email, u.name, u.username, u.role_id, r.name AS role_name, u.active, u.totp_enabled, \
                 u.notification_prefs, u.created_at, u.updated_at, u.password_hash, u.totp_secret, u.totp_last_step \
                 FROM users u JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role_id ",
                "WHERE u.tenant_id = $1 AND u.id = $2"
            ))
            .bind(id);
        self.ex.fetch_optional(q).await?.as_ref().map(creds_from).transpose()
    }

    pub async fn list_users(&mut self, f: &UserFilter) -> StoreResult<Vec<User>> {
        let mut q: Q = self.q(concat!(user_select!(), "WHERE u.tenant_id = $1"));
        if let Some(text) = f.q.as_deref().filter(|s| !s.trim().is_empty()) {
            let n = q.push_bind(like_pattern(text.trim()));
            q.push_sql(&format!(" AND (lower(u.email) LIKE ${n} ESCAPE '\\' OR lower(u.name) LIKE ${n} ESCAPE '\\')"));
        }
        if let Some(active) = f.active {
            let n = q.push_bind(active);
            q.push_sql(&format!(" AND u.active = ${n}"));
        }
        if let Some(after) = &f.after {
            let n = q.push_bind(after.as_str());
            q.push_sql(&format!(" AND u.id > ${n}"));
        }
        let n = q.push_bind(f.limit);
        q.push_sql(&format!(" ORDER BY u.id LIMIT ${n}"));
        self.ex.fetch_all(q).await?.iter().map(user_from).collect()
    }

    /// Active users whose role grants everything (for the last-admin rule).
    pub async fn count_active_admins(&mut self) -> StoreResult<i64> {
        let q = self
            .q("SELECT COUNT(*) AS n FROM users u JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role_id \
             WHERE u.tenant_id = $1 AND u.active = TRUE AND r.permissions = '*'");
        self.ex.fetch_one(q).await?.get("n")
    }

    /// Users holding a role (for approval routing and notifications).
    pub async fn active_users_with_role(&mut self, role: &RoleId) -> StoreResult<Vec<User>> {
        let q = self
            .q(concat!(user_select!(), "WHERE u.tenant_id = $1 AND u.role_id = $2 AND u.active = TRUE ORDER BY u.id"))
            .bind(role);
        self.ex.fetch_all(q).await?.iter().map(user_from).collect()
    }
}

fn creds_from(r: &Row) -> StoreResult<Credentials> {
    Ok(Credentials {
        user: user_from(r)?,
        password_hash: r.get("password_hash")?,
        totp_secret: r.get("totp_secret")?,
        totp_last_step: r.get("totp_last_step")?,
    })
}

impl TenantWrite {
    /// Active users whose role grants everything, optionally ignoring the
    /// members of one role, with their rows locked until the transaction
    /// ends (so two concurrent demotions cannot both see "another admin is
    /// left").
    pub async fn lock_active_admins(&mut self, excluding_role: Option<&RoleId>) -> StoreResult<i64> {
        let mut q = self.q("SELECT u.id FROM users u JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role_id \
             WHERE u.tenant_id = $1 AND u.active = TRUE AND r.permissions = '*'");
        if let Some(role) = excluding_role {
            let n = q.push_bind(role);
            q.push_sql(&format!(" AND u.role_id <> ${n}"));
        }
        q.push_sql(crate::dialect::for_update(self.backend()));
        Ok(self.ex.fetch_all(q).await?.len() as i64)
    }

    /// Insert a user; a taken e-mail is `StoreError::Conflict`.
    pub async fn insert_user(&mut self, u: NewUser<'_>) -> StoreResult<()> {
        let prefs = serde_json::to_string(&NotificationPrefs::default()).unwrap_or_else(|_| "{}".into());
        let q = self
            .q("INSERT INTO users (tenant_id, id, email, name, username, password_hash, role_id, active, totp_secret, totp_enabled, totp_last_step, notification_prefs, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, NULL, $5, $6, TRUE, NULL, FALSE, NULL, $7, $8, $8)")
            .bind(u.id)
            .bind(u.email)
            .bind(u.name)
            .bind(u.password_hash)
            .bind(u.role_id)
            .bind(prefs)
            .bind(u.now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn set_user_password(&mut self, id: &UserId, hash: &str, now: Timestamp) -> StoreResult<()> {
        let q = self
            .q("UPDATE users SET password_hash = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(hash)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn set_user_active(&mut self, id: &UserId, active: bool, now: Timestamp) -> StoreResult<()> {
        let q = self
            .q("UPDATE users SET active = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(active)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn set_user_role(&mut self, id: &UserId, role: &RoleId, now: Timestamp) -> StoreResult<()> {
        let q = self
            .q("UPDATE users SET role_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(role)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Update profile fields; `None` leaves a field as it is. A taken
    /// username is `StoreError::Conflict`.
    pub async fn update_user_profile(
        &mut self,
        id: &UserId,
        name: Option<&str>,
        username: Option<Option<&str>>,
        prefs: Option<&NotificationPrefs>,
        now: Timestamp,
    ) -> StoreResult<()> {
        if let Some(name) = name {
            let q = self
                .q("UPDATE users SET name = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                .bind(id)
                .bind(name)
                .bind(now);
            self.ex.execute(q).await?;
        }
        if let Some(username) = username {
            let q = self
                .q("UPDATE users SET username = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                .bind(id)
                .bind(username)
                .bind(now);
            self.ex.execute(q).await?;
        }
        if let Some(prefs) = prefs {
            let json = serde_json::to_string(prefs).unwrap_or_else(|_| "{}".into());
            let q = self
                .q("UPDATE users SET notification_prefs = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                .bind(id)
                .bind(json)
                .bind(now);
            self.ex.execute(q).await?;
        }
        Ok(())
    }

    /// Store a pending TOTP secret (not yet enabled).
    pub async fn set_totp_secret(
        &mut self,
        id: &UserId,
        secret: Option<&str>,
        enabled: bool,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("UPDATE users SET totp_secret = $3, totp_enabled = $4, totp_last_step = NULL, updated_at = $5 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(secret)
            .bind(enabled)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Record the last accepted TOTP time step, only if it is newer than the
    /// stored one. Returns false for a replayed (or older) step.
    pub async fn advance_totp_step(&mut self, id: &UserId, step: i64) -> StoreResult<bool> {
        let q = self
            .q("UPDATE users SET totp_last_step = $3 WHERE tenant_id = $1 AND id = $2 AND (totp_last_step IS NULL OR totp_last_step < $3)")
            .bind(id)
            .bind(step);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn replace_recovery_codes(&mut self, id: &UserId, hashes: &[String]) -> StoreResult<()> {
        let q = self.q("DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2").bind(id);
        self.ex.execute(q).await?;
        for h in hashes {
            let q = self
                .q("INSERT INTO recovery_codes (tenant_id, user_id, code_hash, used_at) VALUES ($1, $2, $3, NULL)")
                .bind(id)
                .bind(h.as_str());
            self.ex.execute(q).await?;
        }
        Ok(())
    }

    /// Consume a recovery code; false when unknown or already used.
    pub async fn use_recovery_code(&mut self, id: &UserId, hash: &str, now: Timestamp) -> StoreResult<bool> {
        let q = self
            .q("UPDATE recovery_codes SET used_at = $4 WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(id)
            .bind(hash)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_escapes() {
        assert_eq!(super::like_pattern("50%_a\\B"), "%50\\%\\_a\\\\b%");
    }
}
