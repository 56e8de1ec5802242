//! The status page: services with their state, scheduled maintenance and
//! public incident notes. Everyone with `itsm:read` reads the overview;
//! `status:manage` changes it.

use crate::auth::users::Page;
use crate::error::{AppError, AppResult};
use crate::{App, Can, caps};
use serde::{Deserialize, Serialize};
use tier0_domain::portal::{MaintenanceWindow, StatusNote, StatusService, parse_form_datetime};
use tier0_domain::{Cursor, Limit, PlainText, RecordId, ServiceState, Timestamp, ValidationError};
use tier0_store::portal::{MaintenanceFields, ServiceFields};

/// At most this many services per tenant.
pub const MAX_SERVICES: i64 = 100;
/// At most this many services per maintenance window.
pub const MAX_AFFECTED: usize = 50;
/// Notes on the public page: this recent, at most this many.
pub const RECENT_NOTE_DAYS: i64 = 14;
pub const RECENT_NOTES: i64 = 20;
/// Maintenance windows on the public page.
pub const UPCOMING_MAINTENANCE: i64 = 20;

/// `POST /api/itsm/status/services`, and the full form for updates.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ServiceInput {
    /// 1–80 characters, unique in the organisation.
    #[schema(min_length = 1)]
    pub name: String,
    /// Up to 500 characters of plain text.
    #[serde(default)]
    pub description: Option<String>,
    /// Default `operational`.
    #[serde(default)]
    #[schema(value_type = Option<ServiceState>)]
    pub state: Option<String>,
    /// Display order, 0–1000000 (default: after the last service).
    #[serde(default)]
    pub position: Option<i64>,
}

/// `PATCH /api/itsm/status/services/{id}`: absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ServicePatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<ServiceState>)]
    pub state: Option<String>,
    #[serde(default)]
    pub position: Option<i64>,
}

/// A maintenance window to create, or the full replacement on update.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MaintenanceInput {
    /// 1–120 characters.
    #[schema(min_length = 1)]
    pub title: String,
    /// Up to 2000 characters of plain text.
    #[serde(default)]
    pub note: Option<String>,
    /// RFC 3339 (or `YYYY-MM-DDTHH:MM`, read as UTC).
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: String,
    /// After `starts_at`.
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: String,
    /// Ids of the affected services (at most 50).
    #[serde(default)]
    pub service_ids: Vec<String>,
}

/// A public note on a service, to create or to replace.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NoteInput {
    #[schema(min_length = 1)]
    pub service_id: String,
    /// 1–2000 characters of plain text.
    #[schema(min_length = 1)]
    pub body: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct NoteQuery {
    /// Only notes on this service.
    pub service_id: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// `GET /api/status`: what the portal's Status tab shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusOverview {
    /// The worst state of any service (`operational` when there are none).
    pub overall: ServiceState,
    /// In display order.
    pub services: Vec<StatusService>,
    /// Ongoing and upcoming windows, soonest first.
    pub maintenance: Vec<MaintenanceWindow>,
    /// Recent notes (last 14 days), newest first.
    pub notes: Vec<StatusNote>,
}

/// What the public status page is built from, as loaded at `loaded_at`:
/// services, windows not over by then, notes of the recent days. Cached
/// per tenant like the portal snapshot and filtered by the current time
/// on every read.
#[derive(Debug, Clone)]
pub struct StatusRows {
    pub services: Vec<StatusService>,
    pub maintenance: Vec<MaintenanceWindow>,
    pub notes: Vec<StatusNote>,
}

fn parse_position(v: Option<i64>) -> Result<Option<i64>, ValidationError> {
    match v {
        Some(p) if !(0..=1_000_000).contains(&p) => {
            Err(ValidationError::field("position", "must be between 0 and 1000000"))
        }
        other => Ok(other),
    }
}

struct ServiceValues {
    name: String,
    description: String,
    state: ServiceState,
    position: Option<i64>,
}

fn validate_service(
    name: &str,
    description: Option<&str>,
    state: Option<&str>,
    position: Option<i64>,
) -> Result<ServiceValues, ValidationError> {
    let mut errs = ValidationError::new();
    let name = errs.collect(PlainText::parse("name", name, 1, 80).and_then(|n| {
        if n.0.contains('\n') { Err(ValidationError::field("name", "must be one line")) } else { Ok(n.0) }
    }));
    let description = errs.collect(PlainText::optional("description", description, 500));
    let state = match state.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(ServiceState::Operational),
        Some(s) => errs.collect(ServiceState::parse("state", s)),
    };
    let position = errs.collect(parse_position(position));
    errs.clone().into_result()?;
    match (name, description, state, position) {
        (Some(name), Some(description), Some(state), Some(position)) => {
            Ok(ServiceValues { name, description: description.unwrap_or_default(), state, position })
        }
        _ => Err(errs),
    }
}

fn name_taken(e: tier0_store::StoreError) -> AppError {
    match e {
        tier0_store::StoreError::Conflict(_) => {
            AppError::conflict("service_exists", "a service with this name already exists")
        }
        other => other.into(),
    }
}

fn parse_time(field: &str, s: &str) -> Result<Timestamp, ValidationError> {
    if s.trim().is_empty() {
        return Err(ValidationError::field(field, "is required"));
    }
    parse_form_datetime(s).ok_or_else(|| ValidationError::field(field, "must be a date and time like 2026-03-01T09:30"))
}

fn page_of<T>(mut items: Vec<T>, limit: Limit, key: impl Fn(&T) -> Cursor) -> Page<T> {
    let next = if items.len() as i64 > i64::from(limit.get()) {
        items.truncate(limit.get() as usize);
        items.last().map(|x| key(x).encode())
    } else {
        None
    };
    Page { items, next_cursor: next }
}

pub(crate) fn parse_cursor_pair(c: Option<&str>) -> AppResult<Option<(i64, String)>> {
    let Some(c) = c else { return Ok(None) };
    let mut parts = Cursor::decode(c, 2)?.0;
    let id = parts.pop().unwrap_or_default();
    let first = parts
        .pop()
        .and_then(|p| p.parse::<i64>().ok())
        .ok_or_else(|| AppError::field("cursor", "is not a valid cursor"))?;
    Ok(Some((first, id)))
}

pub(crate) fn parse_cursor_id(c: Option<&str>) -> AppResult<Option<String>> {
    match c {
        Some(c) => Ok(Some(Cursor::decode(c, 1)?.0.remove(0))),
        None => Ok(None),
    }
}

impl App {
    /// The status page's rows for a tenant, cached for
    /// [`super::SNAPSHOT_TTL`] and dropped on every status change.
    async fn status_rows(&self, tenant: &crate::Tenant) -> AppResult<std::sync::Arc<StatusRows>> {
        if let Some(rows) = self.0.portal.status.get(&tenant.id) {
            return Ok(rows);
        }
        let generation = self.0.portal.status.generation();
        let now = self.now();
        let mut r = self.db_for(tenant).read().await?;
        let services = r.list_status_services(None, MAX_SERVICES).await?;
        let maintenance = r.list_maintenance(Some(now), None, UPCOMING_MAINTENANCE).await?;
        let notes =
            r.list_status_notes(None, Some(now.minus_secs(RECENT_NOTE_DAYS * 86_400)), None, RECENT_NOTES).await?;
        drop(r);
        let rows = std::sync::Arc::new(StatusRows { services, maintenance, notes });
        self.0.portal.status.put(&tenant.id, rows.clone(), generation);
        Ok(rows)
    }

    /// `GET /api/status`.
    pub async fn status_overview(&self, by: Can<'_, caps::ItsmRead>) -> AppResult<StatusOverview> {
        let now = self.now();
        let rows = self.status_rows(by.ctx.tenant()).await?;
        let since = now.minus_secs(RECENT_NOTE_DAYS * 86_400);
        let services = rows.services.clone();
        let maintenance = rows.maintenance.iter().filter(|m| m.ends_at > now).cloned().collect();
        let notes = rows.notes.iter().filter(|n| n.created_at >= since).cloned().collect();
        let overall =
            services.iter().map(|s| s.state).max_by_key(|s| s.severity()).unwrap_or(ServiceState::Operational);
        Ok(StatusOverview { overall, services, maintenance, notes })
    }

    /// `GET /api/itsm/status/services`.
    pub async fn list_status_services(
        &self,
        by: Can<'_, caps::StatusManage>,
        q: ListQuery,
    ) -> AppResult<Page<StatusService>> {
        let limit = Limit::parse(q.limit)?;
        let after = parse_cursor_pair(q.cursor.as_deref())?;
        let items = self
            .db(by.ctx)
            .read()
            .await?
            .list_status_services(after.as_ref().map(|(p, id)| (*p, id.as_str())), limit.probe())
            .await?;
        Ok(page_of(items, limit, |s| Cursor(vec![s.position.to_string(), s.id.to_string()])))
    }

    pub async fn get_status_service(&self, by: Can<'_, caps::StatusManage>, id: &str) -> AppResult<StatusService> {
        self.db(by.ctx).read().await?.get_status_service(&RecordId::new(id)).await?.ok_or(AppError::NotFound)
    }

    /// `POST /api/itsm/status/services`.
    pub async fn create_status_service(
        &self,
        by: Can<'_, caps::StatusManage>,
        input: ServiceInput,
    ) -> AppResult<StatusService> {
        let v = validate_service(&input.name, input.description.as_deref(), input.state.as_deref(), input.position)?;
        let id: RecordId = self.new_id();
        let now = self.now();
        let mut tx = self.db(by.ctx).write().await?;
        if tx.count_status_services().await? >= MAX_SERVICES {
            return Err(AppError::conflict("limit_reached", format!("at most {MAX_SERVICES} services can be listed")));
        }
        let position = match v.position {
            Some(p) => p,
            None => tx.next_status_position().await?,
        };
        let fields = ServiceFields { name: &v.name, description: &v.description, state: v.state, position };
        tx.insert_status_service(&id, &fields, now).await.map_err(name_taken)?;
        let s = tx.get_status_service(&id).await?.ok_or(AppError::NotFound)?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "status.service_created",
            ("status_service", id.as_str()),
            serde_json::json!({"name": v.name, "state": v.state}),
        )
        .await?;
        Ok(s)
    }

    /// `PATCH /api/itsm/status/services/{id}`.
    pub async fn update_status_service(
        &self,
        by: Can<'_, caps::StatusManage>,
        id: &str,
        patch: ServicePatch,
    ) -> AppResult<StatusService> {
        let id = RecordId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        let old = tx.get_status_service(&id).await?.ok_or(AppError::NotFound)?;
        let v = validate_service(
            patch.name.as_deref().unwrap_or(&old.name),
            Some(patch.description.as_deref().unwrap_or(&old.description)),
            Some(patch.state.as_deref().unwrap_or(old.state.as_str())),
            Some(patch.position.unwrap_or(old.position)),
        )?;
        let fields = ServiceFields {
            name: &v.name,
            description: &v.description,
            state: v.state,
            position: v.position.unwrap_or(old.position),
        };
        tx.update_status_service(&id, &fields, self.now()).await.map_err(name_taken)?;
        let s = tx.get_status_service(&id).await?.ok_or(AppError::NotFound)?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "status.service_updated",
            ("status_service", id.as_str()),
            serde_json::json!({"name": v.name, "from_state": old.state, "to_state": v.state}),
        )
        .await?;
        Ok(s)
    }

    /// `DELETE /api/itsm/status/services/{id}`: its notes go with it.
    pub async fn delete_status_service(&self, by: Can<'_, caps::StatusManage>, id: &str) -> AppResult<()> {
        let id = RecordId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        let old = tx.get_status_service(&id).await?.ok_or(AppError::NotFound)?;
        tx.delete_status_service(&id).await?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "status.service_deleted",
            ("status_service", id.as_str()),
            serde_json::json!({"name": old.name}),
        )
        .await?;
        Ok(())
    }

    async fn validate_maintenance(
        &self,
        tx: &mut tier0_store::TenantWrite,
        input: &MaintenanceInput,
    ) -> AppResult<(String, String, Timestamp, Timestamp, Vec<RecordId>)> {
        let mut errs = ValidationError::new();
        let title = errs.collect(PlainText::parse("title", &input.title, 1, 120));
        let note = errs.collect(PlainText::optional("note", input.note.as_deref(), 2000));
        let starts = errs.collect(parse_time("starts_at", &input.starts_at));
        let ends = errs.collect(parse_time("ends_at", &input.ends_at));
        if let (Some(s), Some(e)) = (starts, ends)
            && e <= s
        {
            errs.add("ends_at", "must be after the start");
        }
        let mut ids: Vec<RecordId> = Vec::new();
        if input.service_ids.len() > MAX_AFFECTED {
            errs.add("service_ids", format!("can name at most {MAX_AFFECTED} services"));
        } else {
            for s in &input.service_ids {
                let id = RecordId::new(s.trim());
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            if tx.existing_status_services(&ids).await?.len() != ids.len() {
                errs.add("service_ids", "refers to a service that does not exist");
            }
        }
        errs.clone().into_result()?;
        match (title, note, starts, ends) {
            (Some(t), Some(n), Some(s), Some(e)) => Ok((t.0, n.unwrap_or_default(), s, e, ids)),
            _ => Err(errs.into()),
        }
    }

    /// `GET /api/itsm/status/maintenance`: every window, soonest start first.
    pub async fn list_maintenance(
        &self,
        by: Can<'_, caps::StatusManage>,
        q: ListQuery,
    ) -> AppResult<Page<MaintenanceWindow>> {
        let limit = Limit::parse(q.limit)?;
        let after = parse_cursor_pair(q.cursor.as_deref())?;
        let items = self
            .db(by.ctx)
            .read()
            .await?
            .list_maintenance(None, after.as_ref().map(|(p, id)| (*p, id.as_str())), limit.probe())
            .await?;
        Ok(page_of(items, limit, |m| Cursor(vec![m.starts_at.millis().to_string(), m.id.to_string()])))
    }

    pub async fn get_maintenance(&self, by: Can<'_, caps::StatusManage>, id: &str) -> AppResult<MaintenanceWindow> {
        self.db(by.ctx).read().await?.get_maintenance(&RecordId::new(id)).await?.ok_or(AppError::NotFound)
    }

    /// `POST /api/itsm/status/maintenance`.
    pub async fn create_maintenance(
        &self,
        by: Can<'_, caps::StatusManage>,
        input: MaintenanceInput,
    ) -> AppResult<MaintenanceWindow> {
        let mut tx = self.db(by.ctx).write().await?;
        let (title, note, starts_at, ends_at, ids) = self.validate_maintenance(&mut tx, &input).await?;
        let id: RecordId = self.new_id();
        let f = MaintenanceFields { title: &title, note: &note, starts_at, ends_at, service_ids: &ids };
        tx.insert_maintenance(&id, &f, self.now()).await?;
        let m = tx.get_maintenance(&id).await?.ok_or(AppError::NotFound)?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "status.maintenance_created",
            ("status_maintenance", id.as_str()),
            serde_json::json!({"title": title, "starts_at": starts_at, "ends_at": ends_at}),
        )
        .await?;
        Ok(m)
    }

    /// `PUT /api/itsm/status/maintenance/{id}`: replaces every field.
    pub async fn update_maintenance(
        &self,
        by: Can<'_, caps::StatusManage>,
        id: &str,
        input: MaintenanceInput,
    ) -> AppResult<MaintenanceWindow> {
        let id = RecordId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        tx.get_maintenance(&id).await?.ok_or(AppError::NotFound)?;
        let (title, note, starts_at, ends_at, ids) = self.validate_maintenance(&mut tx, &input).await?;
        let f = MaintenanceFields { title: &title, note: &note, starts_at, ends_at, service_ids: &ids };
        tx.update_maintenance(&id, &f, self.now()).await?;
        let m = tx.get_maintenance(&id).await?.ok_or(AppError::NotFound)?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "status.maintenance_updated",
            ("status_maintenance", id.as_str()),
            serde_json::json!({"title": title, "starts_at": starts_at, "ends_at": ends_at}),
        )
        .await?;
        Ok(m)
    }

    pub async fn delete_maintenance(&self, by: Can<'_, caps::StatusManage>, id: &str) -> AppResult<()> {
        let id = RecordId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        let old = tx.get_maintenance(&id).await?.ok_or(AppError::NotFound)?;
        tx.delete_maintenance(&id).await?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "status.maintenance_deleted",
            ("status_maintenance", id.as_str()),
            serde_json::json!({"title": old.title}),
        )
        .await?;
        Ok(())
    }

    async fn validate_note(
        &self,
        tx: &mut tier0_store::TenantWrite,
        input: &NoteInput,
    ) -> AppResult<(RecordId, String)> {
        let mut errs = ValidationError::new();
        let body = errs.collect(PlainText::parse("body", &input.body, 1, 2000));
        let service = RecordId::new(input.service_id.trim());
        if input.service_id.trim().is_empty() {
            errs.add("service_id", "is required");
        } else if tx.get_status_service(&service).await?.is_none() {
            errs.add("service_id", "refers to a service that does not exist");
        }
        errs.clone().into_result()?;
        Ok((service, body.ok_or(errs)?.0))
    }

    /// `GET /api/itsm/status/notes`: newest first.
    pub async fn list_status_notes(
        &self,
        by: Can<'_, caps::StatusManage>,
        q: NoteQuery,
    ) -> AppResult<Page<StatusNote>> {
        let limit = Limit::parse(q.limit)?;
        let before = parse_cursor_id(q.cursor.as_deref())?;
        let service = q.service_id.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(RecordId::new);
        let items = self
            .db(by.ctx)
            .read()
            .await?
            .list_status_notes(service.as_ref(), None, before.as_deref(), limit.probe())
            .await?;
        Ok(page_of(items, limit, |n| Cursor(vec![n.id.to_string()])))
    }

    pub async fn get_status_note(&self, by: Can<'_, caps::StatusManage>, id: &str) -> AppResult<StatusNote> {
        self.db(by.ctx).read().await?.get_status_note(&RecordId::new(id)).await?.ok_or(AppError::NotFound)
    }

    /// `POST /api/itsm/status/notes`.
    pub async fn create_status_note(&self, by: Can<'_, caps::StatusManage>, input: NoteInput) -> AppResult<StatusNote> {
        let mut tx = self.db(by.ctx).write().await?;
        let (service, body) = self.validate_note(&mut tx, &input).await?;
        let id: RecordId = self.new_id();
        tx.insert_status_note(&id, &service, &body, Some(by.user_id()).filter(|_| by.is_user()), self.now()).await?;
        let n = tx.get_status_note(&id).await?.ok_or(AppError::NotFound)?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "status.note_created",
            ("status_note", id.as_str()),
            serde_json::json!({"service_id": service}),
        )
        .await?;
        Ok(n)
    }

    /// `PUT /api/itsm/status/notes/{id}`.
    pub async fn update_status_note(
        &self,
        by: Can<'_, caps::StatusManage>,
        id: &str,
        input: NoteInput,
    ) -> AppResult<StatusNote> {
        let id = RecordId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        tx.get_status_note(&id).await?.ok_or(AppError::NotFound)?;
        let (service, body) = self.validate_note(&mut tx, &input).await?;
        tx.update_status_note(&id, &service, &body, self.now()).await?;
        let n = tx.get_status_note(&id).await?.ok_or(AppError::NotFound)?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "status.note_updated",
            ("status_note", id.as_str()),
            serde_json::json!({"service_id": service}),
        )
        .await?;
        Ok(n)
    }

    pub async fn delete_status_note(&self, by: Can<'_, caps::StatusManage>, id: &str) -> AppResult<()> {
        let id = RecordId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        tx.get_status_note(&id).await?.ok_or(AppError::NotFound)?;
        tx.delete_status_note(&id).await?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "status.note_deleted",
            ("status_note", id.as_str()),
            serde_json::json!({}),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_validation() {
        assert!(validate_service("Email", None, None, None).is_ok());
        let e = validate_service(" ", Some(&"x".repeat(501)), Some("on_fire"), Some(-1)).err().unwrap();
        for f in ["name", "description", "state", "position"] {
            assert!(e.fields.contains_key(f), "{f}: {e:?}");
        }
        assert!(validate_service("two\nlines", None, None, None).is_err());
        assert_eq!(validate_service("VPN", None, Some("degraded"), None).unwrap().state, ServiceState::Degraded);
    }
}
