//! The portal's rows: status-page services, maintenance windows and
//! incident notes, announcements and their per-user dismissals, and the
//! per-tenant portal settings with the logo.

use crate::db::Row;
use crate::error::StoreResult;
use crate::scoped::{TenantRead, TenantWrite};
use tier0_domain::portal::{Announcement, MaintenanceWindow, StatusNote, StatusService};
use tier0_domain::{BrandColour, PortalSettings, RecordId, SectionSet, ServiceState, Severity, Timestamp, UserId};

fn service_from(r: &Row) -> StoreResult<StatusService> {
    Ok(StatusService {
        id: RecordId::new(r.get::<String>("id")?),
        name: r.get("name")?,
        description: r.get("description")?,
        state: ServiceState::from_storage(&r.get::<String>("state")?),
        position: r.get("position")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn maintenance_from(r: &Row) -> StoreResult<MaintenanceWindow> {
    Ok(MaintenanceWindow {
        id: RecordId::new(r.get::<String>("id")?),
        title: r.get("title")?,
        note: r.get("note")?,
        starts_at: r.ts("starts_at")?,
        ends_at: r.ts("ends_at")?,
        service_ids: Vec::new(),
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn note_from(r: &Row) -> StoreResult<StatusNote> {
    Ok(StatusNote {
        id: RecordId::new(r.get::<String>("id")?),
        service_id: RecordId::new(r.get::<String>("service_id")?),
        body: r.get("body")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn announcement_from(r: &Row) -> StoreResult<Announcement> {
    Ok(Announcement {
        id: RecordId::new(r.get::<String>("id")?),
        body: r.get("body")?,
        link: r.get("link")?,
        severity: Severity::from_storage(&r.get::<String>("severity")?),
        active_from: r.ts("active_from")?,
        active_until: r.opt_ts("active_until")?,
        from_settings: r.get("from_settings")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

/// A service's editable fields.
pub struct ServiceFields<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub state: ServiceState,
    pub position: i64,
}

/// A maintenance window's editable fields.
pub struct MaintenanceFields<'a> {
    pub title: &'a str,
    pub note: &'a str,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub service_ids: &'a [RecordId],
}

/// An announcement's editable fields.
pub struct AnnouncementFields<'a> {
    pub body: &'a str,
    pub link: Option<&'a str>,
    pub severity: Severity,
    pub active_from: Timestamp,
    pub active_until: Option<Timestamp>,
}

/// The uploaded logo.
#[derive(Debug, Clone)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub version: i64,
}

impl TenantRead {
    /// Services in display order, after the keyset `(position, id)`.
    pub async fn list_status_services(
        &mut self,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<StatusService>> {
        let mut q = self.q("SELECT id, name, description, state, position, created_at, updated_at FROM status_services WHERE tenant_id = $1");
        if let Some((pos, id)) = after {
            let p = q.push_bind(pos);
            let i = q.push_bind(id);
            q.push_sql(&format!(" AND (position > ${p} OR (position = ${p} AND id > ${i}))"));
        }
        let n = q.push_bind(limit);
        q.push_sql(&format!(" ORDER BY position, id LIMIT ${n}"));
        self.ex.fetch_all(q).await?.iter().map(service_from).collect()
    }

    pub async fn count_status_services(&mut self) -> StoreResult<i64> {
        let q = self.q("SELECT COUNT(*) AS n FROM status_services WHERE tenant_id = $1");
        self.ex.fetch_one(q).await?.get("n")
    }

    /// The next free display position (after the last service).
    pub async fn next_status_position(&mut self) -> StoreResult<i64> {
        let q = self.q("SELECT MAX(position) AS m FROM status_services WHERE tenant_id = $1");
        Ok(self.ex.fetch_one(q).await?.get::<Option<i64>>("m")?.map_or(0, |m| m.saturating_add(1)))
    }

    pub async fn get_status_service(&mut self, id: &RecordId) -> StoreResult<Option<StatusService>> {
        let q = self
            .q("SELECT id, name, description, state, position, created_at, updated_at FROM status_services WHERE tenant_id = $1 AND id = $2")
            .bind(id);
        self.ex.fetch_optional(q).await?.as_ref().map(service_from).transpose()
    }

    /// Which of `ids` are services of this tenant.
    pub async fn existing_status_services(&mut self, ids: &[RecordId]) -> StoreResult<Vec<RecordId>> {
        let mut found = Vec::new();
        for id in ids {
            if self.get_status_service(id).await?.is_some() {
                found.push(id.clone());
            }
        }
        Ok(found)
    }

    /// Fill in each window's affected services (one query for all).
    async fn attach_services(&mut self, mut items: Vec<MaintenanceWindow>) -> StoreResult<Vec<MaintenanceWindow>> {
        if items.is_empty() {
            return Ok(items);
        }
        let mut q = self
            .q("SELECT l.maintenance_id, l.service_id FROM status_maintenance_services l JOIN status_services s \
             ON s.tenant_id = l.tenant_id AND s.id = l.service_id WHERE l.tenant_id = $1");
        let mut placeholders = Vec::with_capacity(items.len());
        for m in &items {
            placeholders.push(format!("${}", q.push_bind(&m.id)));
        }
        q.push_sql(&format!(" AND l.maintenance_id IN ({}) ORDER BY s.position, s.id", placeholders.join(", ")));
        for r in self.ex.fetch_all(q).await? {
            let mid: String = r.get("maintenance_id")?;
            let sid: String = r.get("service_id")?;
            if let Some(m) = items.iter_mut().find(|m| m.id.as_str() == mid) {
                m.service_ids.push(RecordId::new(sid));
            }
        }
        Ok(items)
    }

    /// Windows ending at or after `ends_after` (all when `None`), soonest
    /// start first, after the keyset `(starts_at, id)`.
    pub async fn list_maintenance(
        &mut self,
        ends_after: Option<Timestamp>,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<MaintenanceWindow>> {
        let mut q = self.q("SELECT id, title, note, starts_at, ends_at, created_at, updated_at FROM status_maintenance WHERE tenant_id = $1");
        if let Some(t) = ends_after {
            let n = q.push_bind(t);
            q.push_sql(&format!(" AND ends_at > ${n}"));
        }
        if let Some((start, id)) = after {
            let s = q.push_bind(start);
            let i = q.push_bind(id);
            q.push_sql(&format!(" AND (starts_at > ${s} OR (starts_at = ${s} AND id > ${i}))"));
        }
        let n = q.push_bind(limit);
        q.push_sql(&format!(" ORDER BY starts_at, id LIMIT ${n}"));
        let items = self.ex.fetch_all(q).await?.iter().map(maintenance_from).collect::<StoreResult<Vec<_>>>()?;
        self.attach_services(items).await
    }

    pub async fn get_maintenance(&mut self, id: &RecordId) -> StoreResult<Option<MaintenanceWindow>> {
        let q = self
            .q("SELECT id, title, note, starts_at, ends_at, created_at, updated_at FROM status_maintenance WHERE tenant_id = $1 AND id = $2")
            .bind(id);
        let Some(m) = self.ex.fetch_optional(q).await?.as_ref().map(maintenance_from).transpose()? else {
            return Ok(None);
        };
        Ok(self.attach_services(vec![m]).await?.pop())
    }

    /// Notes newest first, optionally of one service and/or not older than
    /// `since`, before the keyset id.
    pub async fn list_status_notes(
        &mut self,
        service: Option<&RecordId>,
        since: Option<Timestamp>,
        before: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<StatusNote>> {
        let mut q =
            self.q("SELECT id, service_id, body, created_at, updated_at FROM status_notes WHERE tenant_id = $1");
        if let Some(s) = service {
            let n = q.push_bind(s);
            q.push_sql(&format!(" AND service_id = ${n}"));
        }
        if let Some(t) = since {
            let n = q.push_bind(t);
            q.push_sql(&format!(" AND created_at >= ${n}"));
        }
        if let Some(b) = before {
            let n = q.push_bind(b);
            q.push_sql(&format!(" AND id < ${n}"));
        }
        let n = q.push_bind(limit);
        q.push_sql(&format!(" ORDER BY id DESC LIMIT ${n}"));
        self.ex.fetch_all(q).await?.iter().map(note_from).collect()
    }

    pub async fn get_status_note(&mut self, id: &RecordId) -> StoreResult<Option<StatusNote>> {
        let q = self
            .q("SELECT id, service_id, body, created_at, updated_at FROM status_notes WHERE tenant_id = $1 AND id = $2")
            .bind(id);
        self.ex.fetch_optional(q).await?.as_ref().map(note_from).transpose()
    }

    /// All announcements, newest first, before the keyset id.
    pub async fn list_announcements(&mut self, before: Option<&str>, limit: i64) -> StoreResult<Vec<Announcement>> {
        let mut q = self.q("SELECT id, body, link, severity, active_from, active_until, from_settings, created_at, updated_at FROM announcements WHERE tenant_id = $1");
        if let Some(b) = before {
            let n = q.push_bind(b);
            q.push_sql(&format!(" AND id < ${n}"));
        }
        let n = q.push_bind(limit);
        q.push_sql(&format!(" ORDER BY id DESC LIMIT ${n}"));
        self.ex.fetch_all(q).await?.iter().map(announcement_from).collect()
    }

    /// Announcements not yet over at `now` (current or upcoming), newest
    /// first; at most `limit`.
    pub async fn list_unexpired_announcements(&mut self, now: Timestamp, limit: i64) -> StoreResult<Vec<Announcement>> {
        let q = self
            .q("SELECT id, body, link, severity, active_from, active_until, from_settings, created_at, updated_at FROM announcements \
                WHERE tenant_id = $1 AND (active_until IS NULL OR active_until > $2) ORDER BY id DESC LIMIT $3")
            .bind(now)
            .bind(limit);
        self.ex.fetch_all(q).await?.iter().map(announcement_from).collect()
    }

    pub async fn get_announcement(&mut self, id: &RecordId) -> StoreResult<Option<Announcement>> {
        let q = self
            .q("SELECT id, body, link, severity, active_from, active_until, from_settings, created_at, updated_at FROM announcements WHERE tenant_id = $1 AND id = $2")
            .bind(id);
        self.ex.fetch_optional(q).await?.as_ref().map(announcement_from).transpose()
    }

    /// The announcement managed through the portal settings, if any.
    pub async fn settings_announcement(&mut self) -> StoreResult<Option<Announcement>> {
        let q = self.q("SELECT id, body, link, severity, active_from, active_until, from_settings, created_at, updated_at FROM announcements \
             WHERE tenant_id = $1 AND from_settings = TRUE ORDER BY id DESC LIMIT 1");
        self.ex.fetch_optional(q).await?.as_ref().map(announcement_from).transpose()
    }

    /// Which of `ids` the user has dismissed.
    pub async fn dismissed_announcements(&mut self, user: &UserId, ids: &[RecordId]) -> StoreResult<Vec<RecordId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = self
            .q("SELECT announcement_id FROM announcement_dismissals WHERE tenant_id = $1 AND user_id = $2")
            .bind(user);
        let mut placeholders = Vec::with_capacity(ids.len());
        for id in ids {
            placeholders.push(format!("${}", q.push_bind(id)));
        }
        q.push_sql(&format!(" AND announcement_id IN ({})", placeholders.join(", ")));
        self.ex.fetch_all(q).await?.iter().map(|r| r.get::<String>("announcement_id").map(RecordId::new)).collect()
    }

    /// The tenant's portal settings (defaults when never saved).
    pub async fn portal_settings(&mut self) -> StoreResult<PortalSettings> {
        let q = self.q(
            "SELECT name, description, primary_colour, hidden_sections, logo_type, version FROM portal_settings WHERE tenant_id = $1",
        );
        let Some(r) = self.ex.fetch_optional(q).await? else { return Ok(PortalSettings::default()) };
        Ok(PortalSettings {
            name: r.get("name")?,
            description: r.get("description")?,
            primary_colour: r
                .get::<Option<String>>("primary_colour")?
                .and_then(|c| BrandColour::parse("primary_colour", &c).ok()),
            hidden: SectionSet::from_storage(&r.get::<String>("hidden_sections")?),
            logo_type: r.get("logo_type")?,
            version: r.get("version")?,
        })
    }

    pub async fn portal_logo(&mut self) -> StoreResult<Option<Logo>> {
        let q =
            self.q("SELECT logo, logo_type, version FROM portal_settings WHERE tenant_id = $1 AND logo IS NOT NULL");
        let Some(r) = self.ex.fetch_optional(q).await? else { return Ok(None) };
        Ok(Some(Logo {
            bytes: r.get("logo")?,
            content_type: r.get::<Option<String>>("logo_type")?.unwrap_or_else(|| "application/octet-stream".into()),
            version: r.get("version")?,
        }))
    }
}

impl TenantWrite {
    /// A taken name is `StoreError::Conflict`.
    pub async fn insert_status_service(
        &mut self,
        id: &RecordId,
        f: &ServiceFields<'_>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO status_services (tenant_id, id, name, description, state, position, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $7)")
            .bind(id)
            .bind(f.name)
            .bind(f.description)
            .bind(f.state.as_str())
            .bind(f.position)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn update_status_service(
        &mut self,
        id: &RecordId,
        f: &ServiceFields<'_>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let q = self
            .q("UPDATE status_services SET name = $3, description = $4, state = $5, position = $6, updated_at = $7 \
                WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(f.name)
            .bind(f.description)
            .bind(f.state.as_str())
            .bind(f.position)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    /// Deletes the service with its notes and maintenance links.
    pub async fn delete_status_service(&mut self, id: &RecordId) -> StoreResult<bool> {
        let q = self.q("DELETE FROM status_services WHERE tenant_id = $1 AND id = $2").bind(id);
        Ok(self.ex.execute(q).await? == 1)
    }

    async fn set_maintenance_services(&mut self, id: &RecordId, services: &[RecordId]) -> StoreResult<()> {
        let q = self.q("DELETE FROM status_maintenance_services WHERE tenant_id = $1 AND maintenance_id = $2").bind(id);
        self.ex.execute(q).await?;
        for s in services {
            let q = self
                .q("INSERT INTO status_maintenance_services (tenant_id, maintenance_id, service_id) VALUES ($1, $2, $3) \
                    ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(s);
            self.ex.execute(q).await?;
        }
        Ok(())
    }

    /// An unknown service is `StoreError::MissingReference`.
    pub async fn insert_maintenance(
        &mut self,
        id: &RecordId,
        f: &MaintenanceFields<'_>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO status_maintenance (tenant_id, id, title, note, starts_at, ends_at, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $7)")
            .bind(id)
            .bind(f.title)
            .bind(f.note)
            .bind(f.starts_at)
            .bind(f.ends_at)
            .bind(now);
        self.ex.execute(q).await?;
        self.set_maintenance_services(id, f.service_ids).await
    }

    pub async fn update_maintenance(
        &mut self,
        id: &RecordId,
        f: &MaintenanceFields<'_>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let q = self
            .q("UPDATE status_maintenance SET title = $3, note = $4, starts_at = $5, ends_at = $6, updated_at = $7 \
                WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(f.title)
            .bind(f.note)
            .bind(f.starts_at)
            .bind(f.ends_at)
            .bind(now);
        if self.ex.execute(q).await? != 1 {
            return Ok(false);
        }
        self.set_maintenance_services(id, f.service_ids).await?;
        Ok(true)
    }

    pub async fn delete_maintenance(&mut self, id: &RecordId) -> StoreResult<bool> {
        let q = self.q("DELETE FROM status_maintenance WHERE tenant_id = $1 AND id = $2").bind(id);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn insert_status_note(
        &mut self,
        id: &RecordId,
        service: &RecordId,
        body: &str,
        by: Option<&UserId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO status_notes (tenant_id, id, service_id, body, created_by, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $6)")
            .bind(id)
            .bind(service)
            .bind(body)
            .bind(by)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn update_status_note(
        &mut self,
        id: &RecordId,
        service: &RecordId,
        body: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let q = self
            .q("UPDATE status_notes SET service_id = $3, body = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(service)
            .bind(body)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn delete_status_note(&mut self, id: &RecordId) -> StoreResult<bool> {
        let q = self.q("DELETE FROM status_notes WHERE tenant_id = $1 AND id = $2").bind(id);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn insert_announcement(
        &mut self,
        id: &RecordId,
        f: &AnnouncementFields<'_>,
        from_settings: bool,
        by: Option<&UserId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO announcements (tenant_id, id, body, link, severity, active_from, active_until, from_settings, created_by, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)")
            .bind(id)
            .bind(f.body)
            .bind(f.link)
            .bind(f.severity.as_str())
            .bind(f.active_from)
            .bind(f.active_until)
            .bind(from_settings)
            .bind(by)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn update_announcement(
        &mut self,
        id: &RecordId,
        f: &AnnouncementFields<'_>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let q = self
            .q("UPDATE announcements SET body = $3, link = $4, severity = $5, active_from = $6, active_until = $7, updated_at = $8 \
                WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(f.body)
            .bind(f.link)
            .bind(f.severity.as_str())
            .bind(f.active_from)
            .bind(f.active_until)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    /// Deletes the announcement and its dismissals.
    pub async fn delete_announcement(&mut self, id: &RecordId) -> StoreResult<bool> {
        let q = self.q("DELETE FROM announcements WHERE tenant_id = $1 AND id = $2").bind(id);
        Ok(self.ex.execute(q).await? == 1)
    }

    /// Idempotent.
    pub async fn dismiss_announcement(&mut self, id: &RecordId, user: &UserId, now: Timestamp) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO announcement_dismissals (tenant_id, announcement_id, user_id, dismissed_at) VALUES ($1, $2, $3, $4) \
                ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(user)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Create or replace the settings (not the logo). `version` must be
    /// new whenever the colour changed.
    pub async fn save_portal_settings(&mut self, s: &PortalSettings, now: Timestamp) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO portal_settings (tenant_id, name, description, primary_colour, hidden_sections, logo, logo_type, version, updated_at) \
                VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7) \
                ON CONFLICT (tenant_id) DO UPDATE SET name = $2, description = $3, primary_colour = $4, hidden_sections = $5, \
                version = $6, updated_at = $7")
            .bind(s.name.as_deref())
            .bind(s.description.as_deref())
            .bind(s.primary_colour.map(|c| c.to_hex()))
            .bind(s.hidden.to_storage())
            .bind(s.version)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Store (or, with `None`, remove) the logo.
    pub async fn set_portal_logo(
        &mut self,
        logo: Option<(&[u8], &str)>,
        version: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let (bytes, kind) = match logo {
            Some((b, k)) => (Some(b.to_vec()), Some(k)),
            None => (None, None),
        };
        let q = self
            .q("INSERT INTO portal_settings (tenant_id, name, description, primary_colour, hidden_sections, logo, logo_type, version, updated_at) \
                VALUES ($1, NULL, NULL, NULL, '', $2, $3, $4, $5) \
                ON CONFLICT (tenant_id) DO UPDATE SET logo = $2, logo_type = $3, version = $4, updated_at = $5")
            .bind(crate::db::Arg::Bytes(bytes))
            .bind(kind)
            .bind(version)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }
}
