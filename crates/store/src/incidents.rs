//! Incidents (`INC-n`).

use crate::db::Row;
use crate::error::{StoreError, StoreResult};
use crate::requests::{priority_from, user_ref};
use crate::scoped::{TenantRead, TenantWrite};
use crate::users::like_pattern;
use tier0_domain::itsm::records::{Incident, incident_number, request_number};
use tier0_domain::itsm::{IncidentStatus, Priority};
use tier0_domain::{IncidentId, RequestId, Timestamp, UserId};

const INCIDENT_COLS: &str = "SELECT i.id, i.number, i.title, i.description, i.priority, i.status, i.source_request_id, \
    r.number AS source_number, i.created_at, i.updated_at, i.reported_by, u.name AS reporter_name, u.email AS reporter_email \
    FROM incidents i JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.reported_by \
    LEFT JOIN requests r ON r.tenant_id = i.tenant_id AND r.id = i.source_request_id ";

fn incident_from(r: &Row) -> StoreResult<Incident> {
    let status: String = r.get("status")?;
    Ok(Incident {
        id: IncidentId::new(r.get::<String>("id")?),
        number: incident_number(r.get("number")?),
        title: r.get("title")?,
        description: r.get("description")?,
        priority: priority_from(&r.get::<String>("priority")?)?,
        status: IncidentStatus::from_str_opt(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("incident status {status}")))?,
        source_request_id: r.get::<Option<String>>("source_request_id")?.map(RequestId::new),
        source_request_number: r.get::<Option<i64>>("source_number")?.map(request_number),
        reported_by: user_ref(r, "reported_by", "reporter_name", "reporter_email")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

/// Which incidents to list (newest first).
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<IncidentStatus>,
    /// Only those raised from a request.
    pub from_requests: bool,
    /// `INC-n` or a title substring.
    pub number: Option<i64>,
    pub title: Option<String>,
    pub before: Option<String>,
    pub limit: i64,
}

/// A new incident.
pub struct NewIncident<'a> {
    pub id: &'a IncidentId,
    pub number: i64,
    pub title: &'a str,
    pub description: &'a str,
    pub priority: Priority,
    pub source_request_id: Option<&'a RequestId>,
    pub reported_by: &'a UserId,
    pub now: Timestamp,
}

impl TenantRead {
    pub async fn get_incident(&mut self, id: &IncidentId) -> StoreResult<Option<Incident>> {
        let mut q = crate::db::Q::new(INCIDENT_COLS).bind(&self.tenant).bind(id);
        q.push_sql("WHERE i.tenant_id = $1 AND i.id = $2");
        self.ex.fetch_optional(q).await?.as_ref().map(incident_from).transpose()
    }

    pub async fn list_incidents(&mut self, f: &IncidentFilter) -> StoreResult<Vec<Incident>> {
        let mut q = crate::db::Q::new(INCIDENT_COLS).bind(&self.tenant);
        q.push_sql("WHERE i.tenant_id = $1");
        if let Some(s) = f.status {
            let n = q.push_bind(s.as_str());
            q.push_sql(&format!(" AND i.status = ${n}"));
        }
        if f.from_requests {
            q.push_sql(" AND i.source_request_id IS NOT NULL");
        }
        if let Some(num) = f.number {
            let n = q.push_bind(num);
            q.push_sql(&format!(" AND i.number = ${n}"));
        }
        if let Some(t) = f.title.as_deref() {
            let n = q.push_bind(like_pattern(t));
            q.push_sql(&format!(" AND lower(i.title) LIKE ${n} ESCAPE '\\'"));
        }
        if let Some(b) = &f.before {
            let n = q.push_bind(b.as_str());
            q.push_sql(&format!(" AND i.id < ${n}"));
        }
        let n = q.push_bind(f.limit);
        q.push_sql(&format!(" ORDER BY i.id DESC LIMIT ${n}"));
        self.ex.fetch_all(q).await?.iter().map(incident_from).collect()
    }
}

impl TenantWrite {
    pub async fn insert_incident(&mut self, i: NewIncident<'_>) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO incidents (tenant_id, id, number, title, description, priority, status, source_request_id, reported_by, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, $5, $6, 'new', $7, $8, $9, $9)")
            .bind(i.id)
            .bind(i.number)
            .bind(i.title)
            .bind(i.description)
            .bind(i.priority.as_str())
            .bind(i.source_request_id)
            .bind(i.reported_by)
            .bind(i.now);
        self.ex.execute(q).await?;
        Ok(())
    }
}
