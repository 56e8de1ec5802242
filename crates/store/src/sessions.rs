//! Server-side sessions. Only a hash of the token is stored.

use crate::error::StoreResult;
use crate::scoped::{TenantRead, TenantWrite};
use crate::users::user_from;
use tier0_domain::{PermissionSet, SessionId, SessionInfo, Timestamp, User, UserId};

/// A live session joined with its user and role.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub user: User,
    pub permissions: PermissionSet,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

impl TenantRead {
    /// The unrevoked session with this token hash in this tenant. Expiry is
    /// judged by the caller (it owns the clock and the policy).
    pub async fn session_by_token_hash(&mut self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let q = self
            .q(concat!(
                "SELECT s.id AS session_id, s.created_at AS s_created, s.last_seen_at, s.expires_at, r.permissions AS role_permissions, ",
                "u.id, u.email, u.name, u.username, u.role_id, r.name AS role_name, u.active, u.totp_enabled, \
                 u.notification_prefs, u.created_at, u.updated_at \
                 FROM sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id \
                 JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role_id \
                 WHERE s.tenant_id = $1 AND s.token_hash = $2 AND s.revoked_at IS NULL"
            ))
            .bind(token_hash);
        let Some(r) = self.ex.fetch_optional(q).await? else { return Ok(None) };
        Ok(Some(SessionRecord {
            id: SessionId::new(r.get::<String>("session_id")?),
            user: user_from(&r)?,
            permissions: PermissionSet::from_storage(&r.get::<String>("role_permissions")?),
            created_at: r.ts("s_created")?,
            last_seen_at: r.ts("last_seen_at")?,
            expires_at: r.ts("expires_at")?,
        }))
    }

    pub async fn list_user_sessions(&mut self, user: &UserId, now: Timestamp) -> StoreResult<Vec<SessionInfo>> {
        let q = self
            .q("SELECT id, created_at, last_seen_at, ip, user_agent FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3 ORDER BY id DESC LIMIT 100")
            .bind(user)
            .bind(now);
        self.ex
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| {
                Ok(SessionInfo {
                    id: SessionId::new(r.get::<String>("id")?),
                    created_at: r.ts("created_at")?,
                    last_seen_at: r.ts("last_seen_at")?,
                    ip: r.get("ip")?,
                    user_agent: r.get("user_agent")?,
                })
            })
            .collect()
    }
}

/// A new session row.
pub struct NewSession<'a> {
    pub id: &'a SessionId,
    pub token_hash: &'a str,
    pub user: &'a UserId,
    pub now: Timestamp,
    pub expires_at: Timestamp,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

impl TenantWrite {
    pub async fn insert_session(&mut self, s: NewSession<'_>) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO sessions (tenant_id, id, token_hash, user_id, created_at, last_seen_at, expires_at, revoked_at, ip, user_agent) \
                VALUES ($1, $2, $3, $4, $5, $5, $6, NULL, $7, $8)")
            .bind(s.id)
            .bind(s.token_hash)
            .bind(s.user)
            .bind(s.now)
            .bind(s.expires_at)
            .bind(s.ip)
            .bind(s.user_agent);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn touch_session(&mut self, id: &SessionId, now: Timestamp) -> StoreResult<()> {
        let q = self.q("UPDATE sessions SET last_seen_at = $3 WHERE tenant_id = $1 AND id = $2").bind(id).bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn revoke_session(&mut self, id: &SessionId, now: Timestamp) -> StoreResult<()> {
        let q = self
            .q("UPDATE sessions SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL")
            .bind(id)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Revoke one live session of `user`; false when it is not theirs, or
    /// already revoked.
    pub async fn revoke_own_session(&mut self, user: &UserId, id: &SessionId, now: Timestamp) -> StoreResult<bool> {
        let q = self
            .q("UPDATE sessions SET revoked_at = $4 WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND revoked_at IS NULL")
            .bind(user)
            .bind(id)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    /// Revoke every session of a user except `keep` (if given).
    pub async fn revoke_user_sessions(
        &mut self,
        user: &UserId,
        keep: Option<&SessionId>,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let q = self
            .q("UPDATE sessions SET revoked_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND id <> $4")
            .bind(user)
            .bind(now)
            .bind(keep.map_or("", |k| k.as_str()));
        self.ex.execute(q).await
    }
}
