//! Tenant-scoped access. A [`TenantRead`] or [`TenantWrite`] carries its
//! tenant id; every repository method is defined on them and binds that id,
//! so a query without `tenant_id` cannot be written outside this crate.

use crate::db::{Db, Exec, Q};
use crate::error::StoreResult;
use crate::url::Backend;
use std::ops::{Deref, DerefMut};
use tier0_domain::TenantId;

/// Opens reads and writes for one tenant.
#[derive(Clone)]
pub struct TenantHandle {
    db: Db,
    tenant: TenantId,
}

impl TenantHandle {
    pub(crate) fn new(db: Db, tenant: TenantId) -> Self {
        Self { db, tenant }
    }

    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant
    }

    /// A connection for reads.
    pub async fn read(&self) -> StoreResult<TenantRead> {
        Ok(TenantRead { tenant: self.tenant.clone(), ex: self.db.reader().await? })
    }

    /// A write transaction; nothing is visible to others (nor acknowledged
    /// to the client) until [`TenantWrite::commit`] returns.
    pub async fn write(&self) -> StoreResult<TenantWrite> {
        Ok(TenantWrite { inner: TenantRead { tenant: self.tenant.clone(), ex: self.db.writer().await? } })
    }
}

/// Read access to one tenant's rows.
pub struct TenantRead {
    pub(crate) tenant: TenantId,
    pub(crate) ex: Exec,
}

impl TenantRead {
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant
    }

    pub fn backend(&self) -> Backend {
        self.ex.backend()
    }

    /// The tenant id as the first argument of a statement (`$1`).
    pub(crate) fn q(&self, sql: &'static str) -> Q {
        Q::new(sql).bind(&self.tenant)
    }
}

/// A write transaction on one tenant's rows. Reads are available through
/// `Deref`. Dropping it without committing rolls back.
pub struct TenantWrite {
    inner: TenantRead,
}

impl TenantWrite {
    pub(crate) fn wrap(inner: TenantRead) -> Self {
        Self { inner }
    }

    /// The transaction back, without committing (group commit).
    pub(crate) fn into_exec(self) -> Exec {
        self.inner.ex
    }

    pub async fn commit(self) -> StoreResult<()> {
        self.inner.ex.commit().await
    }
}

impl Deref for TenantWrite {
    type Target = TenantRead;
    fn deref(&self) -> &TenantRead {
        &self.inner
    }
}

impl DerefMut for TenantWrite {
    fn deref_mut(&mut self) -> &mut TenantRead {
        &mut self.inner
    }
}
