//! Per-tenant human numbers (`REQ-1`, `KB-1`, …), allocated inside the
//! creating transaction so numbers are gap-free for committed records.

use crate::error::StoreResult;
use crate::scoped::TenantWrite;

impl TenantWrite {
    /// The next number of `kind` in this tenant, starting at 1.
    pub async fn next_number(&mut self, kind: &str) -> StoreResult<i64> {
        let q = self
            .q("INSERT INTO counters (tenant_id, kind, value) VALUES ($1, $2, 1) \
                ON CONFLICT (tenant_id, kind) DO UPDATE SET value = counters.value + 1 RETURNING value")
            .bind(kind);
        self.ex.fetch_one(q).await?.get("value")
    }
}
