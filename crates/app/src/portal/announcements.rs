//! Announcements: a banner on every portal page while active, managed
//! with `status:manage` and dismissible by each user for themselves.

use super::status::{ListQuery, parse_cursor_id};
use crate::auth::users::Page;
use crate::error::{AppError, AppResult};
use crate::{App, Can, SignedIn, caps};
use serde::Deserialize;
use tier0_domain::portal::{Announcement, parse_form_datetime, parse_link};
use tier0_domain::{Cursor, Limit, PlainText, RecordId, Severity, Timestamp, ValidationError};
use tier0_store::portal::AnnouncementFields;

/// An announcement to create, or the full replacement on update.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AnnouncementInput {
    /// 1–500 characters of plain text.
    #[schema(min_length = 1)]
    pub body: String,
    /// `https://…` or a path on this site (`/…`).
    #[serde(default)]
    pub link: Option<String>,
    /// Default `info`.
    #[serde(default)]
    #[schema(value_type = Option<Severity>)]
    pub severity: Option<String>,
    /// RFC 3339 (or `YYYY-MM-DDTHH:MM`, UTC); default now.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub active_from: Option<String>,
    /// Open-ended when absent; after `active_from`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub active_until: Option<String>,
}

/// Validated announcement values.
pub(crate) struct AnnouncementValues {
    pub body: String,
    pub link: Option<String>,
    pub severity: Severity,
    pub active_from: Timestamp,
    pub active_until: Option<Timestamp>,
}

impl AnnouncementValues {
    pub(crate) fn fields(&self) -> AnnouncementFields<'_> {
        AnnouncementFields {
            body: &self.body,
            link: self.link.as_deref(),
            severity: self.severity,
            active_from: self.active_from,
            active_until: self.active_until,
        }
    }
}

fn optional_time(field: &str, s: Option<&str>) -> Result<Option<Timestamp>, ValidationError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_form_datetime(s)
            .map(Some)
            .ok_or_else(|| ValidationError::field(field, "must be a date and time like 2026-03-01T09:30")),
    }
}

/// Validate an announcement; `now` is the default start.
pub(crate) fn validate_announcement(
    input: &AnnouncementInput,
    now: Timestamp,
) -> Result<AnnouncementValues, ValidationError> {
    let mut errs = ValidationError::new();
    let body = errs.collect(PlainText::parse("body", &input.body, 1, 500));
    let link = match input.link.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(None),
        Some(l) => errs.collect(parse_link("link", l)).map(Some),
    };
    let severity = match input.severity.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(Severity::Info),
        Some(s) => errs.collect(Severity::parse("severity", s)),
    };
    let from = errs.collect(optional_time("active_from", input.active_from.as_deref()));
    let until = errs.collect(optional_time("active_until", input.active_until.as_deref()));
    let from = from.map(|f| f.unwrap_or(now));
    if let (Some(f), Some(Some(u))) = (from, until)
        && u <= f
    {
        errs.add("active_until", "must be after the start");
    }
    errs.clone().into_result()?;
    match (body, link, severity, from, until) {
        (Some(body), Some(link), Some(severity), Some(active_from), Some(active_until)) => {
            Ok(AnnouncementValues { body: body.0, link, severity, active_from, active_until })
        }
        _ => Err(errs),
    }
}

impl App {
    /// `GET /api/itsm/announcements`: all of them, newest first.
    pub async fn list_announcements(
        &self,
        by: Can<'_, caps::StatusManage>,
        q: ListQuery,
    ) -> AppResult<Page<Announcement>> {
        let limit = Limit::parse(q.limit)?;
        let before = parse_cursor_id(q.cursor.as_deref())?;
        let mut items = self.db(by.ctx).read().await?.list_announcements(before.as_deref(), limit.probe()).await?;
        let next = if items.len() as i64 > i64::from(limit.get()) {
            items.truncate(limit.get() as usize);
            items.last().map(|a| Cursor(vec![a.id.to_string()]).encode())
        } else {
            None
        };
        Ok(Page { items, next_cursor: next })
    }

    pub async fn get_announcement(&self, by: Can<'_, caps::StatusManage>, id: &str) -> AppResult<Announcement> {
        self.db(by.ctx).read().await?.get_announcement(&RecordId::new(id)).await?.ok_or(AppError::NotFound)
    }

    /// `POST /api/itsm/announcements`.
    pub async fn create_announcement(
        &self,
        by: Can<'_, caps::StatusManage>,
        input: AnnouncementInput,
    ) -> AppResult<Announcement> {
        let v = validate_announcement(&input, self.now())?;
        let id: RecordId = self.new_id();
        let mut tx = self.db(by.ctx).write().await?;
        let author = Some(by.user_id()).filter(|_| by.is_user());
        tx.insert_announcement(&id, &v.fields(), false, author, self.now()).await?;
        let a = tx.get_announcement(&id).await?.ok_or(AppError::NotFound)?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "announcement.created",
            ("announcement", id.as_str()),
            serde_json::json!({"severity": v.severity, "active_from": v.active_from, "active_until": v.active_until}),
        )
        .await?;
        Ok(a)
    }

    /// `PUT /api/itsm/announcements/{id}`: replaces every field.
    pub async fn update_announcement(
        &self,
        by: Can<'_, caps::StatusManage>,
        id: &str,
        input: AnnouncementInput,
    ) -> AppResult<Announcement> {
        let id = RecordId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        let old = tx.get_announcement(&id).await?.ok_or(AppError::NotFound)?;
        let v = validate_announcement(&input, old.active_from)?;
        tx.update_announcement(&id, &v.fields(), self.now()).await?;
        let a = tx.get_announcement(&id).await?.ok_or(AppError::NotFound)?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "announcement.updated",
            ("announcement", id.as_str()),
            serde_json::json!({"severity": v.severity, "active_from": v.active_from, "active_until": v.active_until}),
        )
        .await?;
        Ok(a)
    }

    pub async fn delete_announcement(&self, by: Can<'_, caps::StatusManage>, id: &str) -> AppResult<()> {
        let id = RecordId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        tx.get_announcement(&id).await?.ok_or(AppError::NotFound)?;
        tx.delete_announcement(&id).await?;
        self.commit_portal_change(
            tx,
            by.ctx,
            "announcement.deleted",
            ("announcement", id.as_str()),
            serde_json::json!({}),
        )
        .await?;
        Ok(())
    }

    /// `GET /api/announcements/active`: what the banner shows the caller.
    pub async fn active_announcements(&self, by: Can<'_, caps::ItsmRead>) -> AppResult<Vec<Announcement>> {
        Ok(self.portal_view(by.ctx).await?.announcements)
    }

    /// `POST /api/announcements/{id}/dismiss`: hide it for this user only.
    /// Unknown ids are 404; dismissing twice is fine.
    pub async fn dismiss_announcement(&self, me: SignedIn<'_>, id: &str) -> AppResult<()> {
        if !me.allows("itsm:read") {
            return Err(AppError::NotFound);
        }
        let id = RecordId::new(id);
        let mut tx = self.db(me.ctx).write().await?;
        tx.get_announcement(&id).await?.ok_or(AppError::NotFound)?;
        tx.dismiss_announcement(&id, me.user_id(), self.now()).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(body: &str) -> AnnouncementInput {
        AnnouncementInput { body: body.into(), ..Default::default() }
    }

    #[test]
    fn defaults_and_errors() {
        let now = Timestamp::from_millis(1_000_000);
        let v = validate_announcement(&input("Printers are back"), now).unwrap();
        assert_eq!((v.severity, v.active_from, v.active_until, v.link), (Severity::Info, now, None, None));
        let bad = AnnouncementInput {
            body: String::new(),
            link: Some("javascript:alert(1)".into()),
            severity: Some("loud".into()),
            active_from: Some("2026-01-02T10:00".into()),
            active_until: Some("2026-01-01T10:00".into()),
        };
        let e = validate_announcement(&bad, now).err().unwrap();
        for f in ["body", "link", "severity", "active_until"] {
            assert!(e.fields.contains_key(f), "{f}: {e:?}");
        }
    }
}
