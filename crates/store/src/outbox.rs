//! The e-mail outbox. Rows are written in the same transaction as the
//! event that causes them; a worker on any node claims due rows (PostgreSQL
//! nodes skip rows another node holds), sends them and records the outcome.

use crate::db::Q;
use crate::dialect;
use crate::error::StoreResult;
use crate::scoped::TenantWrite;
use crate::{Store, TenantRead};
use tier0_domain::{RecordId, TenantId, Timestamp};

/// A message to send.
pub struct NewEmail<'a> {
    pub id: &'a RecordId,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub now: Timestamp,
}

/// A claimed message.
#[derive(Debug, Clone)]
pub struct OutboxEmail {
    pub tenant_id: TenantId,
    pub id: RecordId,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attempts: i64,
}

/// A message as shown to tests and operators.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxStatus {
    pub id: RecordId,
    pub to: String,
    pub subject: String,
    pub attempts: i64,
    pub sent: bool,
    pub failed: bool,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    /// When the next delivery attempt is due (while neither sent nor failed).
    pub next_attempt_at: Timestamp,
}

impl TenantWrite {
    pub async fn enqueue_email(&mut self, e: NewEmail<'_>) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO email_outbox (tenant_id, id, to_addr, subject, body_text, body_html, created_at, attempts, next_attempt_at, sent_at, failed_at, last_error) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $7, NULL, NULL, NULL)")
            .bind(e.id)
            .bind(e.to)
            .bind(e.subject)
            .bind(e.text)
            .bind(e.html)
            .bind(e.now);
        self.ex.execute(q).await?;
        Ok(())
    }
}

impl TenantRead {
    /// The newest outbox rows (operators' view and tests).
    pub async fn list_outbox(&mut self, limit: i64) -> StoreResult<Vec<OutboxStatus>> {
        let q = self
            .q("SELECT id, to_addr, subject, attempts, sent_at, failed_at, last_error, created_at, next_attempt_at FROM email_outbox WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(limit);
        self.ex
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| {
                Ok(OutboxStatus {
                    id: RecordId::new(r.get::<String>("id")?),
                    to: r.get("to_addr")?,
                    subject: r.get("subject")?,
                    attempts: r.get("attempts")?,
                    sent: r.get::<Option<i64>>("sent_at")?.is_some(),
                    failed: r.get::<Option<i64>>("failed_at")?.is_some(),
                    last_error: r.get("last_error")?,
                    created_at: r.ts("created_at")?,
                    next_attempt_at: r.ts("next_attempt_at")?,
                })
            })
            .collect()
    }
}

impl Store {
    /// Claim up to `limit` due messages across tenants for `lease_ms`; a
    /// claimed row is invisible to other workers until the lease ends.
    pub async fn global_claim_emails(
        &self,
        now: Timestamp,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxEmail>> {
        let mut tx = self.db().writer().await?;
        let sql = format!(
            "SELECT tenant_id, id, to_addr, subject, body_text, body_html, attempts FROM email_outbox \
             WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2{}",
            dialect::skip_locked(self.backend())
        );
        let rows = tx.fetch_all(Q::new(sql).bind(now).bind(limit)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let e = OutboxEmail {
                tenant_id: TenantId::new(r.get::<String>("tenant_id")?),
                id: RecordId::new(r.get::<String>("id")?),
                to: r.get("to_addr")?,
                subject: r.get("subject")?,
                text: r.get("body_text")?,
                html: r.get("body_html")?,
                attempts: r.get::<i64>("attempts")? + 1,
            };
            tx.execute(
                Q::new("UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = $3 WHERE tenant_id = $1 AND id = $2")
                    .bind(&e.tenant_id)
                    .bind(&e.id)
                    .bind(now.millis() + lease_ms),
            )
            .await?;
            out.push(e);
        }
        tx.commit().await?;
        Ok(out)
    }

    pub async fn global_email_sent(&self, tenant: &TenantId, id: &RecordId, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.db().writer().await?;
        tx.execute(
            Q::new("UPDATE email_outbox SET sent_at = $3, last_error = NULL WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .bind(now),
        )
        .await?;
        tx.commit().await
    }

    /// Record a failed attempt: retry at `retry_at`, or give up when `None`.
    pub async fn global_email_failed(
        &self,
        tenant: &TenantId,
        id: &RecordId,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.db().writer().await?;
        let q = match retry_at {
            Some(at) => {
                Q::new("UPDATE email_outbox SET last_error = $3, next_attempt_at = $4 WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id)
                    .bind(error)
                    .bind(at)
            }
            None => Q::new("UPDATE email_outbox SET last_error = $3, failed_at = $4 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .bind(error)
                .bind(now),
        };
        tx.execute(q).await?;
        tx.commit().await
    }
}
