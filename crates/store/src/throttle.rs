//! Fixed-window rate limits stored in the database, so that every node on
//! one database enforces the same budget.

use crate::error::StoreResult;
use crate::scoped::{TenantRead, TenantWrite};
use tier0_domain::Timestamp;

/// The state of one limiter key.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Timestamp,
    pub hits: i64,
}

impl TenantRead {
    pub async fn rate_window(&mut self, bucket: &str, key: &str) -> StoreResult<Option<Window>> {
        let q = self
            .q("SELECT window_start, hits FROM rate_limits WHERE tenant_id = $1 AND bucket = $2 AND key = $3")
            .bind(bucket)
            .bind(key);
        let Some(r) = self.ex.fetch_optional(q).await? else { return Ok(None) };
        Ok(Some(Window { start: r.ts("window_start")?, hits: r.get("hits")? }))
    }
}

impl TenantWrite {
    /// Count one hit. A window older than `window_ms` restarts at `now`.
    /// Returns the window after the hit.
    pub async fn rate_hit(&mut self, bucket: &str, key: &str, now: Timestamp, window_ms: i64) -> StoreResult<Window> {
        let q = self
            .q("INSERT INTO rate_limits (tenant_id, bucket, key, window_start, hits) VALUES ($1, $2, $3, $4, 1) \
                ON CONFLICT (tenant_id, bucket, key) DO UPDATE SET \
                  hits = CASE WHEN rate_limits.window_start <= $5 THEN 1 ELSE rate_limits.hits + 1 END, \
                  window_start = CASE WHEN rate_limits.window_start <= $5 THEN $4 ELSE rate_limits.window_start END \
                RETURNING window_start, hits")
            .bind(bucket)
            .bind(key)
            .bind(now)
            .bind(now.millis() - window_ms);
        let r = self.ex.fetch_one(q).await?;
        Ok(Window { start: r.ts("window_start")?, hits: r.get("hits")? })
    }

    /// Forget a key (a successful sign-in clears the account's failures).
    pub async fn rate_clear(&mut self, bucket: &str, key: &str) -> StoreResult<()> {
        let q =
            self.q("DELETE FROM rate_limits WHERE tenant_id = $1 AND bucket = $2 AND key = $3").bind(bucket).bind(key);
        self.ex.execute(q).await?;
        Ok(())
    }
}
