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

    /// Integrity check of the whole database (SQLite `PRAGMA
    /// integrity_check`; PostgreSQL: a catalogue round trip).
    pub async fn global_integrity_check(&self) -> StoreResult<String> {
        let mut c = self.db().reader().await?;
        match self.backend() {
            crate::Backend::Sqlite => {
                let r = c.fetch_one(Q::new("PRAGMA integrity_check")).await?;
                r.get::<String>("integrity_check")
            }
            crate::Backend::Postgres => {
                c.fetch_one(Q::new("SELECT COUNT(*) AS n FROM tenants")).await?;
                Ok("ok".into())
            }
        }
    }
}

impl TenantWrite {
    pub(crate) fn from_exec(tenant: TenantId, ex: crate::db::Exec) -> Self {
        TenantWrite::wrap(TenantRead { tenant, ex })
    }
}
