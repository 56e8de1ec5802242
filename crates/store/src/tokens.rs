//! Single-use tokens (invites and password resets). The secret is stored
//! hashed; consumption is one conditional UPDATE, so two racing uses cannot
//! both succeed.

use crate::db::Row;
use crate::error::StoreResult;
use crate::scoped::{TenantRead, TenantWrite};
use tier0_domain::{Email, RecordId, RoleId, Timestamp, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Invite,
    Reset,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Reset => "reset",
        }
    }
}

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: RecordId,
    pub secret_hash: String,
    pub email: Option<Email>,
    pub user_id: Option<UserId>,
    pub role_id: Option<RoleId>,
    pub created_by: Option<UserId>,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

fn token_from(r: &Row) -> StoreResult<TokenRecord> {
    Ok(TokenRecord {
        id: RecordId::new(r.get::<String>("id")?),
        secret_hash: r.get("secret_hash")?,
        email: r.get::<Option<String>>("email")?.map(Email::from_trusted),
        user_id: r.get::<Option<String>>("user_id")?.map(UserId::new),
        role_id: r.get::<Option<String>>("role_id")?.map(RoleId::new),
        created_by: r.get::<Option<String>>("created_by")?.map(UserId::new),
        expires_at: r.ts("expires_at")?,
        used_at: r.opt_ts("used_at")?,
    })
}

pub struct NewToken<'a> {
    pub id: &'a RecordId,
    pub kind: TokenKind,
    pub secret_hash: &'a str,
    pub email: Option<&'a Email>,
    pub user_id: Option<&'a UserId>,
    pub role_id: Option<&'a RoleId>,
    pub created_by: Option<&'a UserId>,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

/// An invite that has not been used, revoked or expired.
#[derive(Debug, Clone)]
pub struct PendingInvite {
    pub id: RecordId,
    /// `None` for an invite any address may use (a new tenant's first admin).
    pub email: Option<Email>,
    pub role: String,
    /// E-mail of whoever sent it (`None` when the system did).
    pub invited_by: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl TenantRead {
    /// Pending invites, newest first; `before` is a keyset cursor (an id).
    pub async fn list_pending_invites(
        &mut self,
        now: Timestamp,
        before: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<PendingInvite>> {
        let mut q = self
            .q("SELECT t.id, t.email, r.name AS role_name, u.email AS by_email, t.created_at, t.expires_at FROM tokens t \
                LEFT JOIN roles r ON r.tenant_id = t.tenant_id AND r.id = t.role_id \
                LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.created_by \
                WHERE t.tenant_id = $1 AND t.kind = 'invite' AND t.used_at IS NULL AND t.expires_at > $2")
            .bind(now);
        if let Some(b) = before {
            let n = q.push_bind(b);
            q.push_sql(&format!(" AND t.id < ${n}"));
        }
        let n = q.push_bind(limit);
        q.push_sql(&format!(" ORDER BY t.id DESC LIMIT ${n}"));
        self.ex
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| {
                Ok(PendingInvite {
                    id: RecordId::new(r.get::<String>("id")?),
                    email: r.get::<Option<String>>("email")?.map(Email::from_trusted),
                    role: r.get::<Option<String>>("role_name")?.unwrap_or_else(|| "requester".into()),
                    invited_by: r.get("by_email")?,
                    created_at: r.ts("created_at")?,
                    expires_at: r.ts("expires_at")?,
                })
            })
            .collect()
    }

    pub async fn get_token(&mut self, kind: TokenKind, id: &RecordId) -> StoreResult<Option<TokenRecord>> {
        let q = self
            .q("SELECT id, secret_hash, email, user_id, role_id, created_by, expires_at, used_at FROM tokens WHERE tenant_id = $1 AND kind = $2 AND id = $3")
            .bind(kind.as_str())
            .bind(id);
        self.ex.fetch_optional(q).await?.as_ref().map(token_from).transpose()
    }
}

impl TenantWrite {
    pub async fn insert_token(&mut self, t: NewToken<'_>) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO tokens (tenant_id, id, kind, secret_hash, email, user_id, role_id, created_by, created_at, expires_at, used_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)")
            .bind(t.id)
            .bind(t.kind.as_str())
            .bind(t.secret_hash)
            .bind(t.email)
            .bind(t.user_id)
            .bind(t.role_id)
            .bind(t.created_by)
            .bind(t.now)
            .bind(t.expires_at);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Mark a token used if it is unused and unexpired. Returns whether this
    /// call consumed it.
    pub async fn consume_token(&mut self, kind: TokenKind, id: &RecordId, now: Timestamp) -> StoreResult<bool> {
        let q = self
            .q("UPDATE tokens SET used_at = $4 WHERE tenant_id = $1 AND kind = $2 AND id = $3 AND used_at IS NULL AND expires_at > $4")
            .bind(kind.as_str())
            .bind(id)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    /// Invalidate every unused token of a kind for a user (e.g. older reset
    /// links once the password changed).
    pub async fn expire_user_tokens(&mut self, kind: TokenKind, user: &UserId, now: Timestamp) -> StoreResult<()> {
        let q = self
            .q("UPDATE tokens SET used_at = $4 WHERE tenant_id = $1 AND kind = $2 AND user_id = $3 AND used_at IS NULL")
            .bind(kind.as_str())
            .bind(user)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Withdraw one unused token. Returns whether it was still pending.
    pub async fn revoke_token(&mut self, kind: TokenKind, id: &RecordId, now: Timestamp) -> StoreResult<bool> {
        self.consume_token(kind, id, now).await
    }

    /// Withdraw every unused invite for an address (a new invite replaces
    /// older ones).
    pub async fn expire_invites_for_email(&mut self, email: &Email, now: Timestamp) -> StoreResult<u64> {
        let q = self
            .q("UPDATE tokens SET used_at = $3 WHERE tenant_id = $1 AND kind = 'invite' AND email = $2 AND used_at IS NULL")
            .bind(email)
            .bind(now);
        self.ex.execute(q).await
    }

    /// Withdraw every unused invite into a role (the role is going away).
    pub async fn expire_invites_for_role(&mut self, role: &RoleId, now: Timestamp) -> StoreResult<u64> {
        let q = self
            .q("UPDATE tokens SET used_at = $3 WHERE tenant_id = $1 AND kind = 'invite' AND role_id = $2 AND used_at IS NULL")
            .bind(role)
            .bind(now);
        self.ex.execute(q).await
    }
}
