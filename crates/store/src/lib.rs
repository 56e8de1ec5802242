//! Persistence for Tier0 on SQLite or PostgreSQL through one code path.
//!
//! Code outside this crate cannot write SQL: it opens a [`Store`], asks it
//! for a [`TenantHandle`] (the only way to reach tenant-owned rows), and
//! calls typed methods on a [`TenantRead`] or [`TenantWrite`], each of which
//! binds the handle's tenant id into every statement. The few operations
//! that span tenants (resolving a host, listing tenants, the mail worker)
//! live in [`global`] and say so in their names.

mod db;
mod dialect;
mod error;
mod group;
mod migrate;
mod scoped;
mod url;

pub mod approvals;
pub mod audit;
pub mod backup;
pub mod catalog;
pub mod counters;
pub mod global;
pub mod incidents;
pub mod kb;
pub mod notifications;
pub mod outbox;
pub mod portal;
pub mod requests;
pub mod roles;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use db::{Db, DbOptions, PoolStats, write_generation};
pub use error::{StoreError, StoreResult};
pub use migrate::latest_version;
pub use scoped::{TenantHandle, TenantRead, TenantWrite};
pub use url::{Backend, DatabaseUrl, redact};

use tier0_domain::TenantId;

/// The database, migrated and ready.
#[derive(Clone)]
pub struct Store {
    db: Db,
    /// The group committer (see [`Store::grouped_write`]).
    group: group::GroupCommit,
}

impl Store {
    /// Connect and apply pending migrations. A failed migration stops here
    /// with a message naming it.
    pub async fn open(url: &DatabaseUrl, opts: &DbOptions) -> StoreResult<Self> {
        let db = Db::connect(url, opts).await?;
        Self::from_db(db).await
    }

    /// Migrate an already connected database.
    pub async fn from_db(db: Db) -> StoreResult<Self> {
        migrate::run(&db).await?;
        let group = group::GroupCommit::start(db.clone());
        Ok(Self { db, group })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// The handle through which all of one tenant's rows are reached.
    pub fn tenant(&self, id: &TenantId) -> TenantHandle {
        TenantHandle::new(self.db.clone(), id.clone())
    }
}
