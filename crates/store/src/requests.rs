//! Service requests with their timeline, comments, watchers and
//! attachments.
//!
//! The queue list is keyset-paginated and every filter is served by an
//! index of migration 0002 (see its comments); the page is selected first
//! in a subquery and only its rows are joined to users and items, so a
//! page reads about `limit` rows whatever the table's size.

use crate::db::{Q, Row};
use crate::error::{StoreError, StoreResult};
use crate::scoped::{TenantRead, TenantWrite};
use crate::users::like_pattern;
use tier0_domain::itsm::records::{
    Attachment, Comment, QueueSummary, RequestEvent, ServiceRequest, UserRef, request_number,
};
use tier0_domain::itsm::{Lifecycle, Priority, RequestStatus};
use tier0_domain::{AttachmentId, CatalogItemId, Email, IncidentId, RecordId, RequestId, Timestamp, UserId};

/// The literal list of active statuses: it must match the predicate of the
/// partial indexes `requests_active` and `requests_active_due` word for
/// word, so it is SQL text, never a bound argument.
pub(crate) const ACTIVE_SQL: &str = "('new', 'pending_approval', 'open', 'in_progress', 'waiting_on_customer')";

/// Columns read by [`request_from`], selected from the page subquery `r`.
const REQUEST_COLS: &str = "SELECT r.id, r.number, r.title, r.details, r.status, r.priority, \
    r.requester_id, rq.name AS requester_name, rq.email AS requester_email, \
    r.created_by, cb.name AS created_by_name, cb.email AS created_by_email, \
    r.assignee_id, asg.name AS assignee_name, asg.email AS assignee_email, \
    r.catalog_item_id, ci.name AS catalog_item_name, r.field_values, r.due_at, r.resolved_at, r.closed_at, \
    r.incident_id, r.created_at, r.updated_at FROM ";

/// The joins name the tenant as `$1` rather than `r.tenant_id`, so that
/// PostgreSQL probes each table's (tenant_id, id) key per page row even
/// with stale statistics.
const REQUEST_JOINS: &str = " JOIN users rq ON rq.tenant_id = $1 AND rq.id = r.requester_id \
    JOIN users cb ON cb.tenant_id = $1 AND cb.id = r.created_by \
    LEFT JOIN users asg ON asg.tenant_id = $1 AND asg.id = r.assignee_id \
    LEFT JOIN catalog_items ci ON ci.tenant_id = $1 AND ci.id = r.catalog_item_id";

pub(crate) fn user_ref(r: &Row, id: &str, name: &str, email: &str) -> StoreResult<UserRef> {
    Ok(UserRef {
        id: UserId::new(r.get::<String>(id)?),
        name: r.get(name)?,
        email: Email::from_trusted(r.get::<String>(email)?),
    })
}

fn opt_user_ref(r: &Row, id: &str, name: &str, email: &str) -> StoreResult<Option<UserRef>> {
    match r.get::<Option<String>>(id)? {
        Some(uid) => Ok(Some(UserRef {
            id: UserId::new(uid),
            name: r.get::<Option<String>>(name)?.unwrap_or_default(),
            email: Email::from_trusted(r.get::<Option<String>>(email)?.unwrap_or_default()),
        })),
        None => Ok(None),
    }
}

pub(crate) fn status_from(s: &str) -> StoreResult<RequestStatus> {
    RequestStatus::from_str_opt(s).ok_or_else(|| StoreError::Corrupt(format!("request status {s:?}")))
}

pub(crate) fn priority_from(s: &str) -> StoreResult<Priority> {
    Priority::from_str_opt(s).ok_or_else(|| StoreError::Corrupt(format!("priority {s:?}")))
}

fn request_from(r: &Row) -> StoreResult<ServiceRequest> {
    let requester = user_ref(r, "requester_id", "requester_name", "requester_email")?;
    let assignee = opt_user_ref(r, "assignee_id", "assignee_name", "assignee_email")?;
    Ok(ServiceRequest {
        id: RequestId::new(r.get::<String>("id")?),
        number: request_number(r.get("number")?),
        title: r.get("title")?,
        details: r.get("details")?,
        status: status_from(&r.get::<String>("status")?)?,
        priority: priority_from(&r.get::<String>("priority")?)?,
        requester_id: requester.id.clone(),
        requester,
        created_by: user_ref(r, "created_by", "created_by_name", "created_by_email")?,
        assignee_id: assignee.as_ref().map(|a| a.id.clone()),
        assignee,
        catalog_item_id: r.get::<Option<String>>("catalog_item_id")?.map(CatalogItemId::new),
        catalog_item_name: r.get("catalog_item_name")?,
        fields: serde_json::from_str(&r.get::<String>("field_values")?).unwrap_or_else(|_| serde_json::json!({})),
        due_at: r.opt_ts("due_at")?,
        overdue: false,
        resolved_at: r.opt_ts("resolved_at")?,
        closed_at: r.opt_ts("closed_at")?,
        incident_id: r.get::<Option<String>>("incident_id")?.map(IncidentId::new),
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

/// Which requests the caller may see at all.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every request of the tenant (agents).
    All,
    /// Requests this user is the requester or a watcher of.
    Own(UserId),
}

/// The status filter.
#[derive(Debug, Clone)]
pub enum StatusFilter {
    One(RequestStatus),
    /// Any of the active statuses (served by a partial index).
    Active,
    Any(Vec<RequestStatus>),
}

/// The assignee filter.
#[derive(Debug, Clone)]
pub enum AssigneeFilter {
    User(UserId),
    Unassigned,
}

/// The text filter.
#[derive(Debug, Clone)]
pub enum TextFilter {
    /// `REQ-12`: the request with that number.
    Number(i64),
    /// A case-insensitive substring of the title.
    Title(String),
}

/// How to page.
#[derive(Debug, Clone)]
pub enum RequestOrder {
    /// Newest first; cursor = the last id.
    Newest { before: Option<String> },
    /// Active and past due, most overdue first; cursor = (due_at, id).
    Overdue { now: Timestamp, after: Option<(i64, String)> },
}

#[derive(Debug, Clone)]
pub struct RequestFilter {
    pub scope: Scope,
    pub status: Option<StatusFilter>,
    pub priority: Option<Vec<Priority>>,
    pub assignee: Option<AssigneeFilter>,
    /// Narrow to requests this user is the requester (or a watcher) of.
    pub mine: Option<UserId>,
    pub text: Option<TextFilter>,
    pub order: RequestOrder,
    pub limit: i64,
}

/// A new request row.
pub struct NewRequest<'a> {
    pub id: &'a RequestId,
    pub number: i64,
    pub title: &'a str,
    pub details: &'a str,
    pub requester_id: &'a UserId,
    pub created_by: &'a UserId,
    pub status: RequestStatus,
    pub priority: Priority,
    pub catalog_item_id: Option<&'a CatalogItemId>,
    pub field_values: &'a serde_json::Value,
    pub due_at: Option<Timestamp>,
    pub now: Timestamp,
}

/// A timeline entry to append.
pub struct NewEvent<'a> {
    pub id: &'a RecordId,
    pub request_id: &'a RequestId,
    pub at: Timestamp,
    pub actor_id: Option<&'a UserId>,
    pub kind: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// An attachment's metadata, for the download.
#[derive(Debug, Clone)]
pub struct AttachmentBlob {
    pub meta: Attachment,
    pub data: Vec<u8>,
}

fn push_own(q: &mut Q, user: &UserId) {
    let n = q.push_bind(user);
    q.push_sql(&format!(
        " AND id IN (SELECT id FROM requests WHERE tenant_id = $1 AND requester_id = ${n} \
           UNION SELECT request_id FROM request_watchers WHERE tenant_id = $1 AND user_id = ${n})"
    ));
}

impl TenantRead {
    /// Every request of the tenant, in any state.
    pub async fn count_requests(&mut self) -> StoreResult<i64> {
        let q = self.q("SELECT COUNT(*) AS n FROM requests WHERE tenant_id = $1");
        self.ex.fetch_one(q).await?.get("n")
    }

    pub async fn get_request(&mut self, id: &RequestId) -> StoreResult<Option<ServiceRequest>> {
        let mut q = self.q(REQUEST_COLS).bind(id);
        q.push_sql("requests r");
        q.push_sql(REQUEST_JOINS);
        q.push_sql(" WHERE r.tenant_id = $1 AND r.id = $2");
        self.ex.fetch_optional(q).await?.as_ref().map(request_from).transpose()
    }

    /// One page of requests in the filter's order (`limit` rows at most).
    pub async fn list_requests(&mut self, f: &RequestFilter) -> StoreResult<Vec<ServiceRequest>> {
        // The page, from requests alone, so that its indexes decide the plan.
        let mut q = self.q(REQUEST_COLS);
        q.push_sql("(SELECT * FROM requests WHERE tenant_id = $1");
        if let Scope::Own(user) = &f.scope {
            push_own(&mut q, user);
        }
        if let Some(user) = &f.mine {
            push_own(&mut q, user);
        }
        match &f.status {
            None => {}
            Some(StatusFilter::One(s)) => {
                let n = q.push_bind(s.as_str());
                q.push_sql(&format!(" AND status = ${n}"));
            }
            Some(StatusFilter::Active) => q.push_sql(&format!(" AND status IN {ACTIVE_SQL}")),
            Some(StatusFilter::Any(list)) => {
                let mut parts = Vec::new();
                for s in list {
                    parts.push(format!("${}", q.push_bind(s.as_str())));
                }
                q.push_sql(&format!(" AND status IN ({})", parts.join(", ")));
            }
        }
        if let Some(list) = &f.priority {
            let mut parts = Vec::new();
            for p in list {
                parts.push(format!("${}", q.push_bind(p.as_str())));
            }
            if parts.len() == 1 {
                q.push_sql(&format!(" AND priority = {}", parts[0]));
            } else {
                q.push_sql(&format!(" AND priority IN ({})", parts.join(", ")));
            }
        }
        match &f.assignee {
            None => {}
            Some(AssigneeFilter::User(u)) => {
                let n = q.push_bind(u);
                q.push_sql(&format!(" AND assignee_id = ${n}"));
            }
            Some(AssigneeFilter::Unassigned) => q.push_sql(" AND assignee_id IS NULL"),
        }
        match &f.text {
            None => {}
            Some(TextFilter::Number(num)) => {
                let n = q.push_bind(*num);
                q.push_sql(&format!(" AND number = ${n}"));
            }
            Some(TextFilter::Title(t)) => {
                let n = q.push_bind(like_pattern(t));
                q.push_sql(&format!(" AND lower(title) LIKE ${n} ESCAPE '\\'"));
            }
        }
        let (inner, outer) = match &f.order {
            RequestOrder::Newest { before } => {
                if let Some(b) = before {
                    let n = q.push_bind(b.as_str());
                    q.push_sql(&format!(" AND id < ${n}"));
                }
                ("id DESC", "r.id DESC")
            }
            RequestOrder::Overdue { now, after } => {
                let n = q.push_bind(*now);
                q.push_sql(&format!(" AND status IN {ACTIVE_SQL} AND due_at IS NOT NULL AND due_at < ${n}"));
                if let Some((due, id)) = after {
                    let a = q.push_bind(*due);
                    let b = q.push_bind(id.as_str());
                    q.push_sql(&format!(" AND (due_at, id) > (${a}, ${b})"));
                }
                ("due_at, id", "r.due_at, r.id")
            }
        };
        let n = q.push_bind(f.limit);
        q.push_sql(&format!(" ORDER BY {inner} LIMIT ${n}) r"));
        q.push_sql(REQUEST_JOINS);
        q.push_sql(&format!(" ORDER BY {outer}"));
        self.ex.fetch_all(q).await?.iter().map(request_from).collect()
    }

    /// Counts of active requests for the agent dashboard (partial indexes
    /// keep this proportional to the active work, not the history).
    pub async fn queue_summary(&mut self, now: Timestamp) -> StoreResult<QueueSummary> {
        let mut s = QueueSummary::default();
        for st in RequestStatus::ACTIVE {
            s.by_status.insert(st.as_str().to_owned(), 0);
        }
        let q = Q::new(format!(
            "SELECT status, COUNT(*) AS n FROM requests WHERE tenant_id = $1 AND status IN {ACTIVE_SQL} GROUP BY status"
        ))
        .bind(&self.tenant);
        for r in self.ex.fetch_all(q).await? {
            s.by_status.insert(r.get("status")?, r.get("n")?);
        }
        let q = Q::new(format!(
            "SELECT COUNT(*) AS n FROM requests WHERE tenant_id = $1 AND status IN {ACTIVE_SQL} AND due_at IS NOT NULL AND due_at < $2"
        ))
        .bind(&self.tenant)
        .bind(now);
        s.overdue = self.ex.fetch_one(q).await?.get("n")?;
        let q = Q::new(format!(
            "SELECT COUNT(*) AS n FROM requests WHERE tenant_id = $1 AND status IN {ACTIVE_SQL} AND assignee_id IS NULL"
        ))
        .bind(&self.tenant);
        s.unassigned = self.ex.fetch_one(q).await?.get("n")?;
        Ok(s)
    }

    /// Whether `user` watches the request.
    pub async fn is_watcher(&mut self, request: &RequestId, user: &UserId) -> StoreResult<bool> {
        let q = self
            .q("SELECT user_id FROM request_watchers WHERE tenant_id = $1 AND request_id = $2 AND user_id = $3")
            .bind(request)
            .bind(user);
        Ok(self.ex.fetch_optional(q).await?.is_some())
    }

    pub async fn list_watchers(&mut self, request: &RequestId) -> StoreResult<Vec<UserRef>> {
        let q = self
            .q("SELECT u.id, u.name, u.email FROM request_watchers w JOIN users u ON u.tenant_id = w.tenant_id AND u.id = w.user_id \
                WHERE w.tenant_id = $1 AND w.request_id = $2 ORDER BY w.created_at, u.id")
            .bind(request);
        self.ex.fetch_all(q).await?.iter().map(|r| user_ref(r, "id", "name", "email")).collect()
    }

    /// The newest timeline entry's id (new entries must sort after it).
    pub async fn last_request_event_id(&mut self, request: &RequestId) -> StoreResult<Option<String>> {
        let q = self
            .q("SELECT id FROM request_events WHERE tenant_id = $1 AND request_id = $2 ORDER BY id DESC LIMIT 1")
            .bind(request);
        match self.ex.fetch_optional(q).await? {
            Some(r) => Ok(Some(r.get("id")?)),
            None => Ok(None),
        }
    }

    /// The timeline, oldest first.
    pub async fn list_request_events(&mut self, request: &RequestId) -> StoreResult<Vec<RequestEvent>> {
        let q = self
            .q("SELECT e.id, e.at, e.kind, e.from_value, e.to_value, e.note, e.actor_id, u.name AS actor_name, u.email AS actor_email \
                FROM request_events e LEFT JOIN users u ON u.tenant_id = e.tenant_id AND u.id = e.actor_id \
                WHERE e.tenant_id = $1 AND e.request_id = $2 ORDER BY e.id")
            .bind(request);
        self.ex
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| {
                Ok(RequestEvent {
                    id: RecordId::new(r.get::<String>("id")?),
                    at: r.ts("at")?,
                    kind: r.get("kind")?,
                    from: r.get("from_value")?,
                    to: r.get("to_value")?,
                    actor: opt_user_ref(r, "actor_id", "actor_name", "actor_email")?,
                    note: r.get("note")?,
                })
            })
            .collect()
    }

    /// Comments oldest first; internal notes only when `include_internal`.
    pub async fn list_comments(
        &mut self,
        request: &RequestId,
        include_internal: bool,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<Comment>> {
        let mut q = self
            .q("SELECT c.id, c.request_id, c.body, c.internal, c.created_at, c.author_id, u.name AS author_name, u.email AS author_email \
                FROM request_comments c JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.author_id \
                WHERE c.tenant_id = $1 AND c.request_id = $2")
            .bind(request);
        if !include_internal {
            q.push_sql(" AND c.internal = FALSE");
        }
        if let Some(a) = after {
            let n = q.push_bind(a);
            q.push_sql(&format!(" AND c.id > ${n}"));
        }
        let n = q.push_bind(limit);
        q.push_sql(&format!(" ORDER BY c.id LIMIT ${n}"));
        self.ex.fetch_all(q).await?.iter().map(comment_from).collect()
    }

    pub async fn list_attachments(&mut self, request: &RequestId) -> StoreResult<Vec<Attachment>> {
        let q = self
            .q("SELECT a.id, a.request_id, a.filename, a.content_type, a.size_bytes, a.sha256, a.created_at, a.uploaded_by, \
                u.name AS uploader_name, u.email AS uploader_email \
                FROM request_attachments a JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.uploaded_by \
                WHERE a.tenant_id = $1 AND a.request_id = $2 ORDER BY a.id")
            .bind(request);
        self.ex.fetch_all(q).await?.iter().map(attachment_from).collect()
    }

    /// One attachment of one request, with its bytes.
    pub async fn get_attachment(
        &mut self,
        request: &RequestId,
        id: &AttachmentId,
    ) -> StoreResult<Option<AttachmentBlob>> {
        let q = self
            .q("SELECT a.id, a.request_id, a.filename, a.content_type, a.size_bytes, a.sha256, a.created_at, a.uploaded_by, \
                u.name AS uploader_name, u.email AS uploader_email, d.data \
                FROM request_attachments a JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.uploaded_by \
                JOIN request_attachment_data d ON d.tenant_id = a.tenant_id AND d.attachment_id = a.id \
                WHERE a.tenant_id = $1 AND a.request_id = $2 AND a.id = $3")
            .bind(request)
            .bind(id);
        match self.ex.fetch_optional(q).await? {
            Some(r) => Ok(Some(AttachmentBlob { meta: attachment_from(&r)?, data: r.get("data")? })),
            None => Ok(None),
        }
    }
}

fn comment_from(r: &Row) -> StoreResult<Comment> {
    Ok(Comment {
        id: RecordId::new(r.get::<String>("id")?),
        request_id: RequestId::new(r.get::<String>("request_id")?),
        body: r.get("body")?,
        internal: r.get("internal")?,
        author: user_ref(r, "author_id", "author_name", "author_email")?,
        created_at: r.ts("created_at")?,
    })
}

fn attachment_from(r: &Row) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: AttachmentId::new(r.get::<String>("id")?),
        request_id: RequestId::new(r.get::<String>("request_id")?),
        filename: r.get("filename")?,
        content_type: r.get("content_type")?,
        size: r.get("size_bytes")?,
        sha256: r.get("sha256")?,
        uploaded_by: user_ref(r, "uploaded_by", "uploader_name", "uploader_email")?,
        created_at: r.ts("created_at")?,
    })
}

impl TenantWrite {
    pub async fn insert_request(&mut self, r: NewRequest<'_>) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO requests (tenant_id, id, number, title, details, requester_id, created_by, assignee_id, status, priority, \
                catalog_item_id, field_values, due_at, resolved_at, closed_at, incident_id, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $10, $11, $12, NULL, NULL, NULL, $13, $13)")
            .bind(r.id)
            .bind(r.number)
            .bind(r.title)
            .bind(r.details)
            .bind(r.requester_id)
            .bind(r.created_by)
            .bind(r.status.as_str())
            .bind(r.priority.as_str())
            .bind(r.catalog_item_id)
            .bind(r.field_values.to_string())
            .bind(r.due_at)
            .bind(r.now);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Write a status change decided by the state machine.
    pub async fn set_request_lifecycle(&mut self, id: &RequestId, l: &Lifecycle) -> StoreResult<bool> {
        let q = self
            .q("UPDATE requests SET status = $3, resolved_at = $4, closed_at = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(l.status.as_str())
            .bind(l.resolved_at)
            .bind(l.closed_at)
            .bind(l.updated_at);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn set_request_assignee(
        &mut self,
        id: &RequestId,
        assignee: Option<&UserId>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let q = self
            .q("UPDATE requests SET assignee_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(assignee)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn set_request_priority(&mut self, id: &RequestId, p: Priority, now: Timestamp) -> StoreResult<bool> {
        let q = self
            .q("UPDATE requests SET priority = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(p.as_str())
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn set_request_incident(
        &mut self,
        id: &RequestId,
        incident: &IncidentId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let q = self
            .q("UPDATE requests SET incident_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(incident)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn insert_request_event(&mut self, e: NewEvent<'_>) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO request_events (tenant_id, id, request_id, at, actor_id, kind, from_value, to_value, note) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(e.id)
            .bind(e.request_id)
            .bind(e.at)
            .bind(e.actor_id)
            .bind(e.kind)
            .bind(e.from)
            .bind(e.to)
            .bind(e.note);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn insert_comment(
        &mut self,
        id: &RecordId,
        request: &RequestId,
        author: &UserId,
        body: &str,
        internal: bool,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO request_comments (tenant_id, id, request_id, author_id, body, internal, created_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id)
            .bind(request)
            .bind(author)
            .bind(body)
            .bind(internal)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Add a watcher; false when already watching.
    pub async fn add_watcher(&mut self, request: &RequestId, user: &UserId, now: Timestamp) -> StoreResult<bool> {
        let q = self
            .q("INSERT INTO request_watchers (tenant_id, request_id, user_id, created_at) VALUES ($1, $2, $3, $4) \
                ON CONFLICT (tenant_id, request_id, user_id) DO NOTHING")
            .bind(request)
            .bind(user)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn remove_watcher(&mut self, request: &RequestId, user: &UserId) -> StoreResult<bool> {
        let q = self
            .q("DELETE FROM request_watchers WHERE tenant_id = $1 AND request_id = $2 AND user_id = $3")
            .bind(request)
            .bind(user);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn insert_attachment(
        &mut self,
        id: &AttachmentId,
        request: &RequestId,
        filename: &str,
        content_type: &str,
        sha256: &str,
        uploaded_by: &UserId,
        data: Vec<u8>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO request_attachments (tenant_id, id, request_id, filename, content_type, size_bytes, sha256, uploaded_by, created_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(id)
            .bind(request)
            .bind(filename)
            .bind(content_type)
            .bind(data.len() as i64)
            .bind(sha256)
            .bind(uploaded_by)
            .bind(now);
        self.ex.execute(q).await?;
        let q = self
            .q("INSERT INTO request_attachment_data (tenant_id, attachment_id, data) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(data);
        self.ex.execute(q).await?;
        Ok(())
    }
}
