//! Tier0's use cases. This is the only layer that combines the domain, the
//! store, search and mail, and the only place where authorization is
//! decided: every use case takes a capability ([`Can`], [`SignedIn`]) that
//! can only be obtained from a request context whose principal holds the
//! permission, so a handler cannot call a use case it is not entitled to.

pub mod auth;
pub mod ctx;
pub mod demo;
pub mod error;
pub mod itsm;
pub mod kb;
pub mod local_cache;
pub mod mail;
pub mod portal;
pub mod system;
pub mod tenants;

pub use auth::password::HashCost;
pub use ctx::{Actor, Can, Capability, Ctx, SignedIn, caps};
pub use error::{AppError, AppResult};
pub use tenants::Tenant;
pub use tier0_store::PoolStats;

use std::sync::Arc;
use tier0_domain::{Clock, Random, RecordId, TenantId, Timestamp, UserId};
use tier0_store::{Store, TenantWrite};

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Where users reach the default tenant, e.g. `http://localhost:8080`.
    /// Links in e-mails are built from it, never from a request's Host.
    pub public_url: url::Url,
    /// Tenants live at `<slug>.<base_domain>`.
    pub base_domain: String,
    /// A session unused for this long expires.
    pub session_idle_secs: i64,
    /// A session expires this long after sign-in whatever its use.
    pub session_absolute_secs: i64,
    pub hash_cost: HashCost,
    /// `smtp://host:port` (or `smtps://`); `None` = links are shown, not mailed.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// `TIER0_SHARED_ANONYMOUS_ACCESS`: anonymous GETs act as a read-only guest.
    pub anonymous_read: bool,
    pub throttle: ThrottlePolicy,
    /// Knowledge index refresh and batching.
    pub kb: kb::KbConfig,
}

/// Limits on failed sign-ins and reset mails (fixed windows).
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub window_secs: i64,
    pub account_failures: i64,
    pub address_failures: i64,
    pub resets_per_account: i64,
    pub resets_per_address: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window_secs: 15 * 60,
            account_failures: 5,
            address_failures: 30,
            resets_per_account: 3,
            resets_per_address: 20,
        }
    }
}

impl AppConfig {
    pub fn new(public_url: url::Url, base_domain: impl Into<String>) -> Self {
        Self {
            public_url,
            base_domain: base_domain.into(),
            session_idle_secs: 12 * 3600,
            session_absolute_secs: 7 * 24 * 3600,
            hash_cost: HashCost::default(),
            smtp_url: None,
            mail_from: "Tier0 <tier0@localhost>".into(),
            anonymous_read: false,
            throttle: ThrottlePolicy::default(),
            kb: kb::KbConfig::default(),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<dyn Random>,
    pub(crate) config: AppConfig,
    pub(crate) tenants: tenants::TenantCache,
    pub(crate) link_key: Vec<u8>,
    pub(crate) dummy_hash: String,
    pub(crate) mail_wake: tokio::sync::Notify,
    pub(crate) portal: portal::PortalCache,
    pub(crate) catalog: local_cache::PerTenant<itsm::catalog_view::CatalogSnapshot>,
    /// Sessions by (tenant, token hash); see [`local_cache`].
    pub(crate) sessions: local_cache::LocalCache<(TenantId, String), tier0_store::sessions::SessionRecord>,
    /// Page-header badges by (tenant, user).
    pub(crate) badges: local_cache::LocalCache<(TenantId, UserId), itsm::notify::PageBadges>,
    /// Which of the current announcements a user dismissed, by (tenant,
    /// user): (the announcements asked about, the dismissed ones).
    pub(crate) dismissed: local_cache::LocalCache<(TenantId, UserId), portal::Dismissed>,
    pub(crate) kb: kb::KbState,
}

/// The application: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct App(pub(crate) Arc<Inner>);

impl App {
    pub async fn new(store: Store, config: AppConfig, clock: Arc<dyn Clock>, rng: Arc<dyn Random>) -> AppResult<Self> {
        let key_rng = rng.clone();
        let link_key = store
            .global_instance_secret("link_signing_key", || {
                auth::token::b64(&tier0_domain::clock::random_bytes::<32>(key_rng.as_ref()))
            })
            .await?;
        let dummy_hash = auth::password::hash(
            "tier0 timing equaliser",
            tier0_domain::clock::random_bytes::<16>(rng.as_ref()),
            config.hash_cost,
        )
        .map_err(AppError::internal)?;
        let kb = kb::KbState::new(&config.kb)?;
        let single_writer = store.backend() == tier0_store::Backend::Sqlite;
        Ok(Self(Arc::new(Inner {
            store,
            clock,
            rng,
            config,
            tenants: tenants::TenantCache::default(),
            link_key: link_key.into_bytes(),
            dummy_hash,
            mail_wake: tokio::sync::Notify::new(),
            portal: portal::PortalCache::default(),
            catalog: Default::default(),
            sessions: local_cache::LocalCache::new(single_writer),
            badges: local_cache::LocalCache::new(single_writer),
            dismissed: local_cache::LocalCache::new(single_writer),
            kb,
        })))
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// Database round trip, for readiness.
    pub async fn ping_database(&self) -> AppResult<()> {
        Ok(self.0.store.db().ping().await?)
    }

    pub fn pool_stats(&self) -> PoolStats {
        self.0.store.db().pool_stats()
    }

    pub fn config(&self) -> &AppConfig {
        &self.0.config
    }

    pub fn now(&self) -> Timestamp {
        self.0.clock.now()
    }

    pub(crate) fn random_bytes<const N: usize>(&self) -> [u8; N] {
        tier0_domain::clock::random_bytes(self.0.rng.as_ref())
    }

    /// A fresh time-ordered id.
    pub fn new_id<T: From<String>>(&self) -> T {
        T::from(tier0_domain::ids::ulid_string(self.now().millis(), self.random_bytes::<10>()))
    }

    /// A random URL-safe secret of 32 bytes.
    pub(crate) fn new_secret(&self) -> String {
        auth::token::b64(&self.random_bytes::<32>())
    }

    /// Append to the audit trail inside `tx`.
    pub async fn audit(
        &self,
        tx: &mut TenantWrite,
        ctx: &Ctx,
        action: &str,
        target: Option<(&str, &str)>,
        details: serde_json::Value,
    ) -> AppResult<()> {
        let id: RecordId = self.new_id();
        let (actor_id, label) = match ctx.actor() {
            Actor::User { principal, .. } => (Some(&principal.user.id), principal.user.email.as_str().to_owned()),
            Actor::Guest(_) => (None, "guest".to_owned()),
            Actor::Anonymous => (None, "anonymous".to_owned()),
        };
        tx.insert_audit(tier0_store::audit::NewAudit {
            id: &id,
            at: self.now(),
            actor_id,
            actor_label: &label,
            action,
            target_type: target.map(|t| t.0),
            target_id: target.map(|t| t.1),
            ip: ctx.ip(),
            details: &details,
        })
        .await?;
        Ok(())
    }
}
