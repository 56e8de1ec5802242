//! The portal around the other features: the status page, announcements
//! and the per-tenant portal settings (branding, section toggles).
//!
//! Settings and current announcements are read on every page (and the
//! section toggles on every request), and the status page is read far more
//! than written, so all three are cached per tenant for a few seconds and
//! dropped from the cache whenever they change here; other nodes see a
//! change within [`SNAPSHOT_TTL`].

pub mod announcements;
pub mod settings;
pub mod status;

use crate::error::AppResult;
use crate::local_cache::PerTenant;
use crate::{App, Ctx, Tenant};
use std::sync::Arc;
use std::time::Duration;
use tier0_domain::portal::Announcement;
use tier0_domain::{PortalSettings, RecordId, SectionSet, TenantId};

/// How long a tenant's settings and announcements are served from memory.
pub const SNAPSHOT_TTL: Duration = Duration::from_secs(5);

/// Announcements considered for the banner (newest first).
const MAX_CURRENT_ANNOUNCEMENTS: i64 = 50;

/// What every page of a tenant needs: its settings and the announcements
/// that are current or upcoming.
#[derive(Debug, Clone, Default)]
pub struct PortalSnapshot {
    pub settings: PortalSettings,
    pub announcements: Vec<Announcement>,
}

#[derive(Default)]
pub(crate) struct PortalCache {
    map: PerTenant<PortalSnapshot>,
    /// The status page's rows (see [`status::StatusRows`]).
    pub(crate) status: PerTenant<status::StatusRows>,
}

/// Which of the announcements asked about (first) a user dismissed
/// (second); cached per user, see [`crate::local_cache`].
pub(crate) type Dismissed = (Arc<Vec<RecordId>>, Arc<Vec<RecordId>>);

/// The portal as one caller sees it (for the page shell).
#[derive(Debug, Clone)]
pub struct PortalView {
    /// The portal's name: the configured one or "<Organisation> support".
    pub name: String,
    pub description: Option<String>,
    pub settings: PortalSettings,
    /// Active announcements the caller has not dismissed.
    pub announcements: Vec<Announcement>,
}

impl App {
    /// The tenant's settings and current announcements (cached briefly).
    pub async fn portal_snapshot(&self, tenant: &Tenant) -> AppResult<Arc<PortalSnapshot>> {
        if let Some(snap) = self.0.portal.map.get(&tenant.id) {
            return Ok(snap);
        }
        let generation = self.0.portal.map.generation();
        let mut r = self.db_for(tenant).read().await?;
        let settings = r.portal_settings().await?;
        let announcements = r.list_unexpired_announcements(self.now(), MAX_CURRENT_ANNOUNCEMENTS).await?;
        drop(r);
        let snap = Arc::new(PortalSnapshot { settings, announcements });
        self.0.portal.map.put(&tenant.id, snap.clone(), generation);
        Ok(snap)
    }

    /// Ends a change to what the portal shows: the audit entry, the commit,
    /// and a fresh cache so every page shows the change at once.
    pub(crate) async fn commit_portal_change(
        &self,
        mut tx: tier0_store::TenantWrite,
        ctx: &Ctx,
        action: &str,
        target: (&str, &str),
        details: serde_json::Value,
    ) -> AppResult<()> {
        self.audit(&mut tx, ctx, action, Some(target), details).await?;
        tx.commit().await?;
        self.invalidate_portal(&ctx.tenant().id);
        Ok(())
    }

    /// Forget the cached snapshot and status rows after a change.
    pub(crate) fn invalidate_portal(&self, tenant: &TenantId) {
        self.0.portal.map.invalidate(tenant);
        self.0.portal.status.invalidate(tenant);
    }

    /// The sections hidden from everyone in this tenant. A database
    /// failure hides nothing (permissions still apply) and is logged.
    pub async fn hidden_sections(&self, tenant: &Tenant) -> SectionSet {
        match self.portal_snapshot(tenant).await {
            Ok(s) => s.settings.hidden,
            Err(e) => {
                tracing::warn!(error = %e, "portal settings unavailable; showing every section");
                SectionSet::empty()
            }
        }
    }

    /// The portal name shown in the header and titles.
    pub fn portal_name(tenant: &Tenant, settings: &PortalSettings) -> String {
        settings.name.clone().unwrap_or_else(|| format!("{} support", tenant.name))
    }

    /// What the page shell shows this caller: name, branding, and the
    /// active announcements they have not dismissed (readers only).
    pub async fn portal_view(&self, ctx: &Ctx) -> AppResult<PortalView> {
        let snap = self.portal_snapshot(ctx.tenant()).await?;
        let now = self.now();
        let mut announcements: Vec<Announcement> = if ctx.allows("itsm:read") {
            snap.announcements.iter().filter(|a| a.is_active(now)).cloned().collect()
        } else {
            Vec::new()
        };
        if let (Ok(me), false) = (ctx.signed_in(), announcements.is_empty()) {
            let ids: Vec<_> = announcements.iter().map(|a| a.id.clone()).collect();
            let key = (ctx.tenant().id.clone(), me.user_id().clone());
            let gone = match self.0.dismissed.get(&key).filter(|(asked, _)| **asked == ids) {
                Some((_, gone)) => gone,
                None => {
                    let generation = self.0.dismissed.generation();
                    let gone = Arc::new(self.db(ctx).read().await?.dismissed_announcements(me.user_id(), &ids).await?);
                    self.0.dismissed.put(key, (Arc::new(ids), gone.clone()), generation);
                    gone
                }
            };
            announcements.retain(|a| !gone.contains(&a.id));
        }
        Ok(PortalView {
            name: Self::portal_name(ctx.tenant(), &snap.settings),
            description: snap.settings.description.clone(),
            settings: snap.settings.clone(),
            announcements,
        })
    }
}
