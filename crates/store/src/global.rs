//! Operations that are not scoped to one tenant: resolving and listing
//! tenants, creating one, and instance-wide settings. Everything here is
//! deliberately named so that a reader sees it crosses tenants.

use crate::db::Q;
use crate::error::StoreResult;
use crate::scoped::{TenantRead, TenantWrite};
use crate::{Store, StoreError};
use tier0_domain::{BuiltinRole, RoleId, Slug, TenantId, Timestamp};

/// A tenant (organisation).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub created_at: Timestamp,
}

/// What creating a tenant needs; ids come from the caller's injected
/// randomness.
pub struct NewTenant {
    pub id: TenantId,
    pub slug: Slug,
    pub name: String,
    pub now: Timestamp,
    /// One id per built-in role.
    pub role_ids: Vec<(BuiltinRole, RoleId)>,
}

fn tenant_from(r: &crate::db::Row) -> StoreResult<Tenant> {
    Ok(Tenant {
        id: TenantId::new(r.get::<String>("id")?),
        slug: r.get("slug")?,
        name: r.get("name")?,
        created_at: r.ts("created_at")?,
    })
}

impl Store {
    /// Look a tenant up by slug (host resolution).
    pub async fn global_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
        let mut c = self.db().reader().await?;
        c.fetch_optional(Q::new("SELECT id, slug, name, created_at FROM tenants WHERE slug = $1").bind(slug))
            .await?
            .as_ref()
            .map(tenant_from)
            .transpose()
    }

    pub async fn global_list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let mut c = self.db().reader().await?;
        c.fetch_all(Q::new("SELECT id, slug, name, created_at FROM tenants ORDER BY slug"))
            .await?
            .iter()
            .map(tenant_from)
            .collect()
    }

    /// Create a tenant with its built-in roles, returning the open
    /// transaction so the caller can add what must be created with it (the
    /// first admin invite) before committing. A taken slug is
    /// `StoreError::Conflict`.
    pub async fn global_create_tenant(&self, t: NewTenant) -> StoreResult<TenantWrite> {
        let mut tx = TenantWrite::from_exec(t.id.clone(), self.db().writer().await?);
        tx.ex
            .execute(
                Q::new("INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(&t.id)
                    .bind(t.slug.as_str())
                    .bind(t.name.as_str())
                    .bind(t.now),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => StoreError::Conflict("tenants.slug".into()),
                other => other,
            })?;
        for (role, id) in &t.role_ids {
            tx.insert_role(id, role.name(), role.description(), true, &role.default_permissions(), t.now).await?;
        }
        Ok(tx)
    }

    /// An instance-wide secret (token signing key), created on first use
    /// and shared by every node through the database.
    pub async fn global_instance_secret(&self, key: &str, generate: impl FnOnce() -> String) -> StoreResult<String> {
        let mut tx = self.db().writer().await?;
        let existing =
            tx.fetch_optional(Q::new("SELECT value FROM instance_settings WHERE key = $1").bind(key)).await?;
        let value = match existing {
            Some(r) => r.get::<String>("value")?,
            None => {
                let v = generate();
                tx.execute(
                    Q::new("INSERT INTO instance_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                        .bind(key)
                        .bind(v.as_str()),
                )
                .await?;
                let r = tx.fetch_one(Q::new("SELECT value FROM instance_settings WHERE key = $1").bind(key)).await?;
                r.get::<String>("value")?
            }
        };
        tx.commit().await?;
        Ok(value)
    }

    /// Check the whole database: the engine's own integrity check (SQLite
    /// `PRAGMA integrity_check` and `foreign_key_check`; PostgreSQL checks
    /// constraints on every write, so a catalogue round trip), then Tier0's
    /// own invariant that human numbers are gap-free for committed records:
    /// per tenant and kind, the count of rows, their highest number and the
    /// counter agree. Returns the problems found (empty: all is well).
    pub async fn global_integrity_check(&self) -> StoreResult<Vec<String>> {
        let mut problems = Vec::new();
        let mut c = self.db().reader().await?;
        match self.backend() {
            crate::Backend::Sqlite => {
                for r in c.fetch_all(Q::new("PRAGMA integrity_check")).await? {
                    let line = r.get::<String>("integrity_check")?;
                    if line != "ok" {
                        problems.push(format!("integrity_check: {line}"));
                    }
                }
                for r in c.fetch_all(Q::new("SELECT \"table\" AS t, parent AS p FROM pragma_foreign_key_check")).await?
                {
                    problems.push(format!(
                        "foreign key: a row of {} points at a missing {} row",
                        r.get::<String>("t")?,
                        r.get::<String>("p")?
                    ));
                }
            }
            crate::Backend::Postgres => {
                c.fetch_one(Q::new("SELECT COUNT(*) AS n FROM tenants")).await?;
            }
        }
        // Table names are constants of this crate, never input.
        for (kind, table) in
            [("REQ", "requests"), ("INC", "incidents"), ("KB", "kb_articles"), ("KE", "kb_known_errors")]
        {
            let sql = format!(
                "SELECT t.id AS tenant, \
                        (SELECT COUNT(*) FROM {table} x WHERE x.tenant_id = t.id) AS n, \
                        (SELECT COALESCE(MAX(x.number), 0) FROM {table} x WHERE x.tenant_id = t.id) AS top, \
                        COALESCE((SELECT k.value FROM counters k WHERE k.tenant_id = t.id AND k.kind = $1), 0) AS counter \
                 FROM tenants t ORDER BY t.id"
            );
            for r in c.fetch_all(Q::new(sql).bind(kind)).await? {
                let (n, top, counter) = (r.get::<i64>("n")?, r.get::<i64>("top")?, r.get::<i64>("counter")?);
                if n != top || top != counter {
                    problems.push(format!(
                        "tenant {}: {n} {table} rows, highest {kind} number {top}, counter {counter} (they must agree)",
                        r.get::<String>("tenant")?
                    ));
                }
            }
        }
        Ok(problems)
    }
}

impl TenantWrite {
    pub(crate) fn from_exec(tenant: TenantId, ex: crate::db::Exec) -> Self {
        TenantWrite::wrap(TenantRead { tenant, ex })
    }
}
