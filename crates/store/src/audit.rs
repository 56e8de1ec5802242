//! The audit trail: append-only, newest first.

use crate::error::StoreResult;
use crate::scoped::{TenantRead, TenantWrite};
use tier0_domain::{AuditEntry, RecordId, Timestamp, UserId};

pub struct NewAudit<'a> {
    pub id: &'a RecordId,
    pub at: Timestamp,
    pub actor_id: Option<&'a UserId>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub details: &'a serde_json::Value,
}

impl TenantWrite {
    pub async fn insert_audit(&mut self, a: NewAudit<'_>) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO audit_log (tenant_id, id, at, actor_id, actor_label, action, target_type, target_id, ip, details) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(a.id)
            .bind(a.at)
            .bind(a.actor_id)
            .bind(a.actor_label)
            .bind(a.action)
            .bind(a.target_type)
            .bind(a.target_id)
            .bind(a.ip)
            .bind(a.details.to_string());
        self.ex.execute(q).await?;
        Ok(())
    }
}

impl TenantRead {
    /// Newest first; `before` is a keyset cursor (an entry id).
    pub async fn list_audit(
        &mut self,
        before: Option<&str>,
        action: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        let mut q = self.q("SELECT id, at, actor_id, actor_label, action, target_type, target_id, ip, details FROM audit_log WHERE tenant_id = $1");
        if let Some(b) = before {
            let n = q.push_bind(b);
            q.push_sql(&format!(" AND id < ${n}"));
        }
        if let Some(a) = action {
            let n = q.push_bind(a);
            q.push_sql(&format!(" AND action = ${n}"));
        }
        let n = q.push_bind(limit);
        q.push_sql(&format!(" ORDER BY id DESC LIMIT ${n}"));
        self.ex
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.get("id")?,
                    at: r.ts("at")?,
                    actor_id: r.get::<Option<String>>("actor_id")?.map(UserId::new),
                    actor: r.get("actor_label")?,
                    action: r.get("action")?,
                    target_type: r.get("target_type")?,
                    target_id: r.get("target_id")?,
                    ip: r.get("ip")?,
                    details: serde_json::from_str(&r.get::<String>("details")?).unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }
}
