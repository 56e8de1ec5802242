//! Incidents: a list (including those raised from requests), one
//! incident, and "Report an incident".

use super::{decode_cursor, paginate};
use crate::auth::users::Page;
use crate::error::{AppError, AppResult};
use crate::{App, Can, caps};
use serde::Deserialize;
use tier0_domain::itsm::records::{Incident, parse_number};
use tier0_domain::itsm::request::MAX_DETAILS_CHARS;
use tier0_domain::itsm::{IncidentStatus, Priority, RequestTitle};
use tier0_domain::{IncidentId, Limit, PlainText, ValidationError};
use tier0_store::incidents::{IncidentFilter, NewIncident};

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct IncidentQuery {
    /// new, in_progress, resolved or closed.
    pub status: Option<String>,
    /// Only incidents raised from a request.
    pub from_requests: Option<bool>,
    /// `INC-3`, or words of the title.
    pub q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// `POST /api/itsm/incidents`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct IncidentInput {
    /// 1–200 characters.
    #[serde(default)]
    #[schema(min_length = 1)]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// low, normal (default), high or urgent.
    #[serde(default)]
    pub priority: Option<String>,
    /// A request this incident is raised from.
    #[serde(default)]
    pub source_request_id: Option<String>,
}

impl App {
    /// `GET /api/itsm/incidents`, newest first.
    pub async fn list_incidents(
        &self,
        by: Can<'_, caps::IncidentsRead>,
        q: IncidentQuery,
    ) -> AppResult<Page<Incident>> {
        let limit = Limit::parse(q.limit)?;
        let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(IncidentStatus::parse("status", s)?),
            None => None,
        };
        let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let number = text.and_then(|t| parse_number("INC", t));
        let filter = IncidentFilter {
            status,
            from_requests: q.from_requests.unwrap_or(false),
            number,
            title: if number.is_some() { None } else { text.map(|t| t.chars().take(200).collect()) },
            before: decode_cursor(q.cursor.as_deref(), 1)?.map(|mut v| v.remove(0)),
            limit: limit.probe(),
        };
        let items = self.db(by.ctx).read().await?.list_incidents(&filter).await?;
        Ok(paginate(items, limit, |i| vec![i.id.to_string()]))
    }

    /// `GET /api/itsm/incidents/{id}`.
    pub async fn get_incident(&self, by: Can<'_, caps::IncidentsRead>, id: &str) -> AppResult<Incident> {
        self.db(by.ctx).read().await?.get_incident(&IncidentId::new(id)).await?.ok_or(AppError::NotFound)
    }

    /// `POST /api/itsm/incidents`. A `source_request_id` must be a request
    /// the caller can see; it is linked both ways when the request has no
    /// incident yet.
    pub async fn create_incident(
        &self,
        by: Can<'_, caps::IncidentsWrite>,
        input: IncidentInput,
    ) -> AppResult<Incident> {
        let mut err = ValidationError::new();
        let title = err.collect(RequestTitle::parse("title", &input.title));
        let description =
            err.collect(PlainText::optional("description", input.description.as_deref(), MAX_DETAILS_CHARS));
        let priority = err.collect(Priority::parse_opt("priority", input.priority.as_deref()));
        let mut tx = self.db(by.ctx).write().await?;
        let source = match input.source_request_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(rid) => match self.visible_request(&mut tx, by.principal, rid).await {
                Ok((r, _)) => Some(r),
                Err(AppError::NotFound) => {
                    err.add("source_request_id", "is not a request you can see");
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        err.into_result()?;
        let now = self.now();
        let id: IncidentId = self.new_id();
        let number = tx.next_number("INC").await?;
        tx.insert_incident(NewIncident {
            id: &id,
            number,
            title: title.as_ref().map(|t| t.as_str()).unwrap_or_default(),
            description: description.flatten().as_deref().unwrap_or_default(),
            priority: priority.unwrap_or_default(),
            source_request_id: source.as_ref().map(|r| &r.id),
            reported_by: by.user_id(),
            now,
        })
        .await?;
        if let Some(r) = &source
            && r.incident_id.is_none()
        {
            tx.set_request_incident(&r.id, &id, now).await?;
            let label = tier0_domain::itsm::records::incident_number(number);
            self.record_event(&mut tx, &r.id, "incident", None, Some(&label), Some(by.user_id()), None).await?;
        }
        let out = tx.get_incident(&id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        Ok(out)
    }
}
