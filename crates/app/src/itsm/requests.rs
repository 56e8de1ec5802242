//! Service requests: filing (with form validation, approval start and the
//! optional incident), the queue, one request with its timeline, agent
//! updates (assignment, priority), transitions and watchers.

use super::notify::{EmailPref, Note};
use super::{RequestAccess, access, decode_cursor, double_option, excerpt, links, mark_overdue, paginate};
use crate::auth::users::Page;
use crate::error::{AppError, AppResult};
use crate::tenants::Tenant;
use crate::{App, Can, caps};
use serde::{Deserialize, Serialize};
use tier0_domain::itsm::form::validate_values;
use tier0_domain::itsm::records::{
    Approval, Attachment, CatalogItem, QueueSummary, RequestEvent, ServiceRequest, UserRef, parse_number,
    request_number,
};
use tier0_domain::itsm::request::{MAX_COMMENT_CHARS, MAX_DETAILS_CHARS};
use tier0_domain::itsm::{Lifecycle, Party, Priority, RequestStatus, RequestTitle, TransitionError};
use tier0_domain::{
    Email, IncidentId, Limit, PlainText, Principal, RecordId, RequestId, Timestamp, User, UserId, ValidationError,
};
use tier0_store::catalog::WorkflowRow;
use tier0_store::requests::{
    AssigneeFilter, NewEvent, NewRequest, RequestFilter, RequestOrder, Scope, StatusFilter, TextFilter,
};
use tier0_store::{TenantRead, TenantWrite};

/// `POST /api/itsm/requests`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewRequestInput {
    /// 1–200 characters after trimming.
    #[serde(default)]
    #[schema(min_length = 1)]
    pub title: String,
    #[serde(default)]
    pub details: Option<String>,
    /// Who the request is for: an e-mail address or user id. Someone other
    /// than the caller needs `itsm:fulfill`.
    #[serde(default)]
    pub requester: Option<String>,
    #[serde(default)]
    pub catalog_item_id: Option<String>,
    /// Values of the item's form fields, by key.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub fields: Option<serde_json::Value>,
    /// low, normal (default), high or urgent.
    #[serde(default)]
    pub priority: Option<String>,
    /// Also raise a linked incident (needs `itsm:fulfill`).
    #[serde(default)]
    pub also_create_incident: Option<bool>,
}

/// Query of `GET /api/itsm/requests`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct RequestListQuery {
    /// A status, several separated by commas, or `active` (every status
    /// where work is outstanding).
    pub status: Option<String>,
    /// A priority, or several separated by commas.
    pub priority: Option<String>,
    /// A user id, `me`, or `none` (unassigned).
    pub assignee: Option<String>,
    /// Only requests the caller filed or watches.
    pub mine: Option<bool>,
    /// `REQ-12`, or words of the title.
    pub q: Option<String>,
    /// Only active requests past their due time, most overdue first.
    pub overdue: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Agent changes to a request (`PATCH /api/itsm/requests/{id}`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RequestPatch {
    /// A user id, an e-mail address or `me`; `null` unassigns. Must be an
    /// active agent (`itsm:fulfill`) of this organisation.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
    #[serde(default)]
    pub priority: Option<String>,
    /// A transition, as `POST …/transition`.
    #[serde(default)]
    pub status: Option<String>,
    /// A public comment to go with the status change.
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /api/itsm/requests/{id}/transition`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TransitionInput {
    #[serde(default)]
    #[schema(min_length = 1)]
    pub to: String,
    /// A public comment recorded with the change.
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /api/itsm/requests/{id}/watchers`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct WatcherInput {
    /// A user id or e-mail address.
    #[serde(default)]
    pub user: String,
}

/// A request with everything shown on its page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestDetail {
    #[serde(flatten)]
    pub request: ServiceRequest,
    /// The approval, when the item has a workflow.
    pub approval: Option<Approval>,
    /// Status history and other changes, oldest first.
    pub events: Vec<RequestEvent>,
    pub attachments: Vec<Attachment>,
    pub watchers: Vec<UserRef>,
    /// Statuses the caller may move it to now.
    pub allowed_transitions: Vec<RequestStatus>,
    /// Whether the caller may add internal notes, assign and re-prioritise.
    pub can_work: bool,
}

/// Ids for timeline entries that sort after `last` even within one
/// millisecond (ids are time-ordered only to the millisecond).
pub(crate) struct EventSeq {
    last: Option<String>,
}

const B32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn ulid_increment(s: &str) -> String {
    let mut b: Vec<u8> = s.bytes().collect();
    for i in (0..b.len()).rev() {
        match B32.iter().position(|c| *c == b[i]) {
            Some(31) => b[i] = B32[0],
            Some(p) => {
                b[i] = B32[p + 1];
                break;
            }
            None => break,
        }
    }
    String::from_utf8(b).unwrap_or_else(|_| s.to_owned())
}

impl EventSeq {
    pub(crate) fn after(last: Option<String>) -> Self {
        Self { last }
    }

    pub(crate) fn next(&mut self, app: &App) -> RecordId {
        let fresh: String = app.new_id();
        let id = match &self.last {
            Some(l) if fresh.as_str() <= l.as_str() => ulid_increment(l),
            _ => fresh,
        };
        self.last = Some(id.clone());
        RecordId::new(id)
    }
}

/// Everything checked before the write transaction of a new request.
struct Prepared {
    id: RequestId,
    title: String,
    details: String,
    requester: User,
    creator: Principal,
    priority: Priority,
    item: Option<CatalogItem>,
    fields: serde_json::Value,
    due_at: Option<Timestamp>,
    workflow: Option<WorkflowRow>,
    approvers: Vec<User>,
    incident: bool,
    tenant: Tenant,
    now: Timestamp,
}

fn user_ref(u: &User) -> UserRef {
    UserRef { id: u.id.clone(), name: u.name.clone(), email: u.email.clone() }
}

fn transition_error(e: TransitionError, allowed: &[RequestStatus]) -> AppError {
    let list = if allowed.is_empty() {
        "none".to_owned()
    } else {
        allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    };
    AppError::conflict("illegal_transition", format!("{e}. Allowed now: {list}."))
}

impl App {
    /// `POST /api/itsm/requests`: validate, then write the request, its
    /// first timeline entry, its approval (the item's workflow) and the
    /// optional incident in one transaction, through the group committer.
    pub async fn create_request(
        &self,
        by: Can<'_, caps::ItsmWrite>,
        input: NewRequestInput,
    ) -> AppResult<RequestDetail> {
        let p = by.principal;
        let agent = by.allows("itsm:fulfill");
        let incident = input.also_create_incident.unwrap_or(false);
        if incident && !agent {
            return Err(AppError::forbidden("creating an incident from a request needs the itsm:fulfill permission"));
        }
        let requester_key = input.requester.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if let Some(key) = requester_key
            && !agent
            && !(key == p.user.id.as_str() || key.eq_ignore_ascii_case(p.user.email.as_str()))
        {
            return Err(AppError::forbidden("filing a request for someone else needs the itsm:fulfill permission"));
        }
        let mut err = ValidationError::new();
        let title = err.collect(RequestTitle::parse("title", &input.title));
        let details = err.collect(PlainText::optional("details", input.details.as_deref(), MAX_DETAILS_CHARS));
        let priority = err.collect(Priority::parse_opt("priority", input.priority.as_deref()));
        let mut r = self.db(by.ctx).read().await?;
        let requester = match requester_key {
            Some(key) if agent => match self.find_user(&mut r, key).await? {
                Some(u) if u.active => Some(u),
                _ => {
                    err.add("requester", "is not an active user of this organisation");
                    None
                }
            },
            _ => Some(p.user.clone()),
        };
        let item = match input.catalog_item_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) => err.collect(self.requestable_item(&mut r, p, id).await.map_err(|e| match e {
                AppError::Validation(v) => v,
                other => ValidationError::field("catalog_item_id", other.to_string()),
            })),
            None => None,
        };
        let form = item.as_ref().map(|i| i.fields.as_slice()).unwrap_or(&[]);
        let fields = err.collect(validate_values(form, input.fields.as_ref()));
        err.into_result()?;
        let (Some(title), Some(requester), Some(fields)) = (title, requester, fields) else {
            return Err(AppError::internal("validated request is incomplete"));
        };
        let now = self.now();
        let workflow = match item.as_ref().and_then(|i| i.workflow_definition_id.as_ref()) {
            Some(w) => r.get_workflow_row(w).await?,
            None => None,
        };
        let approvers = match workflow.as_ref().and_then(|w| w.stages.first()) {
            Some(stage) => self.stage_approvers(&mut r, stage, &requester.id).await?,
            None => Vec::new(),
        };
        drop(r);
        let prep = Prepared {
            id: self.new_id(),
            title: title.into_string(),
            details: details.flatten().unwrap_or_default(),
            requester,
            creator: p.clone(),
            priority: priority.unwrap_or_default(),
            due_at: item.as_ref().and_then(|i| i.fulfillment_target_hours).map(|h| now.plus_hours(h)),
            item,
            fields: serde_json::Value::Object(fields),
            workflow,
            approvers,
            incident,
            tenant: by.ctx.tenant().clone(),
            now,
        };
        let app = self.clone();
        let (detail, mailed) = self
            .store()
            .grouped_write(&by.ctx.tenant().id, move |w| Box::pin(async move { app.write_new_request(w, prep).await }))
            .await?;
        if mailed {
            self.wake_mailer();
        }
        Ok(detail)
    }

    /// The writes of a new request; runs inside a (grouped) transaction.
    async fn write_new_request(&self, w: &mut TenantWrite, p: Prepared) -> AppResult<(RequestDetail, bool)> {
        let now = p.now;
        let number = w.next_number("REQ").await?;
        w.insert_request(NewRequest {
            id: &p.id,
            number,
            title: &p.title,
            details: &p.details,
            requester_id: &p.requester.id,
            created_by: &p.creator.user.id,
            status: RequestStatus::New,
            priority: p.priority,
            catalog_item_id: p.item.as_ref().map(|i| &i.id),
            field_values: &p.fields,
            due_at: p.due_at,
            now,
        })
        .await?;
        let creator = user_ref(&p.creator.user);
        let mut seq = EventSeq::after(None);
        let mut events = Vec::new();
        let mut event =
            |seq: &mut EventSeq, kind: &str, from: Option<&str>, to: Option<&str>, actor: Option<UserRef>| {
                let e = RequestEvent {
                    id: seq.next(self),
                    at: now,
                    kind: kind.to_owned(),
                    from: from.map(str::to_owned),
                    to: to.map(str::to_owned),
                    actor,
                    note: None,
                };
                events.push(e.clone());
                e
            };
        let created = event(&mut seq, "created", None, Some("new"), Some(creator.clone()));
        self.insert_event(w, &p.id, &created).await?;
        let mut life = Lifecycle::new(now);
        let mut mailed = false;
        let mut request = ServiceRequest {
            id: p.id.clone(),
            number: request_number(number),
            title: p.title.clone(),
            details: p.details.clone(),
            status: RequestStatus::New,
            priority: p.priority,
            requester_id: p.requester.id.clone(),
            requester: user_ref(&p.requester),
            created_by: creator.clone(),
            assignee_id: None,
            assignee: None,
            catalog_item_id: p.item.as_ref().map(|i| i.id.clone()),
            catalog_item_name: p.item.as_ref().map(|i| i.name.clone()),
            fields: p.fields.clone(),
            due_at: p.due_at,
            overdue: false,
            resolved_at: None,
            closed_at: None,
            incident_id: None,
            created_at: now,
            updated_at: now,
        };
        let mut approval = None;
        if let Some(wf) = &p.workflow {
            life = life
                .transition(RequestStatus::PendingApproval, &[Party::System], now)
                .map_err(|e| AppError::internal(e.to_string()))?;
            w.set_request_lifecycle(&p.id, &life).await?;
            let e = event(&mut seq, "status", Some("new"), Some("pending_approval"), None);
            self.insert_event(w, &p.id, &e).await?;
            request.status = life.status;
            let (a, m) = self.start_approval(w, &p.tenant, &request, wf, &p.approvers).await?;
            mailed |= m;
            approval = Some(a);
        }
        if p.incident {
            let inc_id: IncidentId = self.new_id();
            let inc_number = w.next_number("INC").await?;
            w.insert_incident(tier0_store::incidents::NewIncident {
                id: &inc_id,
                number: inc_number,
                title: &p.title,
                description: &p.details,
                priority: p.priority,
                source_request_id: Some(&p.id),
                reported_by: &p.creator.user.id,
                now,
            })
            .await?;
            w.set_request_incident(&p.id, &inc_id, now).await?;
            let e = event(
                &mut seq,
                "incident",
                None,
                Some(&tier0_domain::itsm::records::incident_number(inc_number)),
                Some(creator.clone()),
            );
            self.insert_event(w, &p.id, &e).await?;
            request.incident_id = Some(inc_id);
        }
        if p.requester.id != p.creator.user.id {
            let note = Note {
                kind: "created_for_you",
                title: format!("[{}] {} filed a request for you", request.number, p.creator.user.name),
                lines: vec![
                    format!("{} filed {} on your behalf: {}", p.creator.user.name, request.number, request.title),
                    "You can follow it and reply in the portal.".into(),
                ],
                link: links::portal_request(p.id.as_str()),
                request_id: Some(p.id.clone()),
                email: EmailPref::StatusChanges,
                action: "View the request",
            };
            mailed |= self.notify(w, &p.tenant, std::slice::from_ref(&p.requester), None, &note).await?;
        }
        request.updated_at = life.updated_at;
        mark_overdue(&mut request, now);
        let acc = access(&p.creator, &request, false).unwrap_or(RequestAccess {
            agent: false,
            requester: true,
            watcher: false,
        });
        let detail = RequestDetail {
            allowed_transitions: acc.allowed_transitions(&request, now),
            can_work: acc.agent,
            request,
            approval,
            events,
            attachments: Vec::new(),
            watchers: Vec::new(),
        };
        Ok((detail, mailed))
    }

    pub(crate) async fn insert_event(
        &self,
        w: &mut TenantWrite,
        request: &RequestId,
        e: &RequestEvent,
    ) -> AppResult<()> {
        w.insert_request_event(NewEvent {
            id: &e.id,
            request_id: request,
            at: e.at,
            actor_id: e.actor.as_ref().map(|a| &a.id),
            kind: &e.kind,
            from: e.from.as_deref(),
            to: e.to.as_deref(),
            note: e.note.as_deref(),
        })
        .await?;
        Ok(())
    }

    /// Append one timeline entry after the request's existing ones.
    pub(crate) async fn record_event(
        &self,
        w: &mut TenantWrite,
        request: &RequestId,
        kind: &str,
        from: Option<&str>,
        to: Option<&str>,
        actor: Option<&UserId>,
        note: Option<&str>,
    ) -> AppResult<()> {
        let last = w.last_request_event_id(request).await?;
        let id = EventSeq::after(last).next(self);
        w.insert_request_event(NewEvent {
            id: &id,
            request_id: request,
            at: self.now(),
            actor_id: actor,
            kind,
            from,
            to,
            note,
        })
        .await?;
        Ok(())
    }

    /// A user by id or e-mail address.
    pub(crate) async fn find_user(&self, r: &mut TenantRead, key: &str) -> AppResult<Option<User>> {
        let key = key.trim();
        if key.contains('@') {
            match Email::parse("user", key) {
                Ok(e) => Ok(r.get_user_by_email(&e).await?),
                Err(_) => Ok(None),
            }
        } else {
            Ok(r.get_user(&UserId::new(key)).await?)
        }
    }

    /// Load a request the principal may see, with their access; anything
    /// else is 404.
    pub(crate) async fn visible_request(
        &self,
        r: &mut TenantRead,
        p: &Principal,
        id: &str,
    ) -> AppResult<(ServiceRequest, RequestAccess)> {
        let id = RequestId::new(id);
        let mut req = r.get_request(&id).await?.ok_or(AppError::NotFound)?;
        let agent = p.permissions.allows("itsm:fulfill");
        let watcher = !agent && req.requester_id != p.user.id && r.is_watcher(&id, &p.user.id).await?;
        let acc = access(p, &req, watcher).ok_or(AppError::NotFound)?;
        mark_overdue(&mut req, self.now());
        Ok((req, acc))
    }

    async fn detail(&self, r: &mut TenantRead, req: ServiceRequest, acc: RequestAccess) -> AppResult<RequestDetail> {
        let now = self.now();
        Ok(RequestDetail {
            approval: self.load_approval(r, &req.id).await?,
            events: r.list_request_events(&req.id).await?,
            attachments: r.list_attachments(&req.id).await?,
            watchers: r.list_watchers(&req.id).await?,
            allowed_transitions: acc.allowed_transitions(&req, now),
            can_work: acc.agent,
            request: req,
        })
    }

    /// `GET /api/itsm/requests/{id}`: the request with its timeline,
    /// approval, attachments and watchers. Invisible ones are 404.
    pub async fn get_request(&self, by: Can<'_, caps::ItsmRead>, id: &str) -> AppResult<RequestDetail> {
        let mut r = self.db(by.ctx).read().await?;
        let (req, acc) = self.visible_request(&mut r, by.principal, id).await?;
        self.detail(&mut r, req, acc).await
    }

    /// `GET /api/itsm/requests`: agents see the whole queue, everyone else
    /// the requests they filed or watch. Newest first (overdue: most
    /// overdue first), keyset-paginated.
    pub async fn list_requests(
        &self,
        by: Can<'_, caps::ItsmRead>,
        q: RequestListQuery,
    ) -> AppResult<Page<ServiceRequest>> {
        let limit = Limit::parse(q.limit)?;
        let me = &by.principal.user.id;
        let agent = by.allows("itsm:fulfill");
        let mut err = ValidationError::new();
        let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some("active") => Some(StatusFilter::Active),
            Some(list) => {
                let parsed: Vec<RequestStatus> = list
                    .split(',')
                    .filter_map(|s| err.collect(RequestStatus::parse("status", s)))
                    .take(RequestStatus::ALL.len())
                    .collect();
                match parsed.as_slice() {
                    [one] => Some(StatusFilter::One(*one)),
                    _ => Some(StatusFilter::Any(parsed)),
                }
            }
        };
        let priority = q.priority.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|list| {
            list.split(',')
                .filter_map(|s| match Priority::from_str_opt(s.trim()) {
                    Some(p) => Some(p),
                    None => {
                        err.add("priority", "must be low, normal, high or urgent (comma-separated)");
                        None
                    }
                })
                .take(4)
                .collect::<Vec<_>>()
        });
        let assignee = match q.assignee.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some("me") => Some(AssigneeFilter::User(me.clone())),
            Some("none") => Some(AssigneeFilter::Unassigned),
            Some(id) => Some(AssigneeFilter::User(UserId::new(id))),
        };
        let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|t| match parse_number("REQ", t) {
            Some(n) => TextFilter::Number(n),
            None => TextFilter::Title(t.chars().take(200).collect()),
        });
        let overdue = q.overdue.unwrap_or(false);
        let order = if overdue {
            let after = match decode_cursor(q.cursor.as_deref(), 2)? {
                Some(v) => match v[0].parse::<i64>() {
                    Ok(due) => Some((due, v[1].clone())),
                    Err(_) => return Err(AppError::field("cursor", "is not a valid cursor")),
                },
                None => None,
            };
            RequestOrder::Overdue { now: self.now(), after }
        } else {
            RequestOrder::Newest { before: decode_cursor(q.cursor.as_deref(), 1)?.map(|mut v| v.remove(0)) }
        };
        err.into_result()?;
        let filter = RequestFilter {
            scope: if agent { Scope::All } else { Scope::Own(me.clone()) },
            status,
            priority,
            assignee,
            mine: (agent && q.mine.unwrap_or(false)).then(|| me.clone()),
            text,
            order,
            limit: limit.probe(),
        };
        let mut items = self.db(by.ctx).read().await?.list_requests(&filter).await?;
        let now = self.now();
        for r in &mut items {
            mark_overdue(r, now);
        }
        Ok(paginate(items, limit, |r| {
            if overdue {
                vec![r.due_at.map(|d| d.millis()).unwrap_or_default().to_string(), r.id.to_string()]
            } else {
                vec![r.id.to_string()]
            }
        }))
    }

    /// Counts of active requests for the agent dashboard.
    pub async fn queue_summary(&self, by: Can<'_, caps::Fulfill>) -> AppResult<QueueSummary> {
        Ok(self.db(by.ctx).read().await?.queue_summary(self.now()).await?)
    }

    /// Active users who may be assigned requests (hold `itsm:fulfill`), for
    /// the assignment control.
    pub async fn assignable_agents(&self, by: Can<'_, caps::Fulfill>) -> AppResult<Vec<UserRef>> {
        let mut r = self.db(by.ctx).read().await?;
        let mut users: Vec<UserRef> =
            self.users_with_permission(&mut r, "itsm:fulfill", 1000).await?.iter().map(user_ref).collect();
        users.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
        Ok(users)
    }

    /// An assignee for a request: an active user of this tenant holding
    /// `itsm:fulfill`. Anything else (unknown, foreign, inactive, not an
    /// agent) is a 422 on `assignee`.
    async fn resolve_assignee(&self, r: &mut TenantRead, me: &Principal, key: &str) -> AppResult<User> {
        let bad = || AppError::field("assignee", "is not an active agent of this organisation");
        let user = if key.trim() == "me" { Some(me.user.clone()) } else { self.find_user(r, key).await? };
        let user = user.filter(|u| u.active).ok_or_else(bad)?;
        let role = r.get_role(&user.role_id).await?.ok_or_else(bad)?;
        if !role.permissions.allows("itsm:fulfill") {
            return Err(bad());
        }
        Ok(user)
    }

    /// `PATCH /api/itsm/requests/{id}` (agents): assignee, priority and
    /// optionally a status change. Everything is checked before anything
    /// is written; a refused change writes nothing.
    pub async fn patch_request(
        &self,
        by: Can<'_, caps::Fulfill>,
        id: &str,
        patch: RequestPatch,
    ) -> AppResult<RequestDetail> {
        let p = by.principal;
        let mut tx = self.db(by.ctx).write().await?;
        let (req, acc) = self.visible_request(&mut tx, p, id).await?;
        let mut err = ValidationError::new();
        let priority = match patch.priority.as_deref() {
            Some(s) => err.collect(
                Priority::from_str_opt(s.trim())
                    .ok_or_else(|| ValidationError::field("priority", "must be one of low, normal, high, urgent")),
            ),
            None => None,
        };
        let assignee: Option<Option<User>> = match &patch.assignee {
            None => None,
            Some(None) => Some(None),
            Some(Some(key)) if key.trim().is_empty() => Some(None),
            Some(Some(key)) => match self.resolve_assignee(&mut tx, p, key).await {
                Ok(u) => Some(Some(u)),
                Err(AppError::Validation(v)) => {
                    err.collect::<()>(Err(v));
                    None
                }
                Err(e) => return Err(e),
            },
        };
        let comment =
            err.collect(PlainText::optional("comment", patch.comment.as_deref(), MAX_COMMENT_CHARS)).flatten();
        let to = match patch.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => err.collect(RequestStatus::parse("status", s)),
            None => None,
        };
        err.into_result()?;
        let now = self.now();
        let mut mailed = false;
        if let Some(pr) = priority
            && pr != req.priority
        {
            tx.set_request_priority(&req.id, pr, now).await?;
            self.record_event(
                &mut tx,
                &req.id,
                "priority",
                Some(req.priority.as_str()),
                Some(pr.as_str()),
                Some(&p.user.id),
                None,
            )
            .await?;
        }
        if let Some(new) = assignee {
            let new_id = new.as_ref().map(|u| u.id.clone());
            if new_id != req.assignee_id {
                tx.set_request_assignee(&req.id, new_id.as_ref(), now).await?;
                self.record_event(
                    &mut tx,
                    &req.id,
                    "assigned",
                    req.assignee_id.as_ref().map(|u| u.as_str()),
                    new_id.as_ref().map(|u| u.as_str()),
                    Some(&p.user.id),
                    None,
                )
                .await?;
                if let Some(u) = &new {
                    let note = Note {
                        kind: "assigned",
                        title: format!("[{}] Assigned to you: {}", req.number, excerpt(&req.title, 80)),
                        lines: vec![format!("{} assigned {} to you.", p.user.name, req.number)],
                        link: links::itsm_request(req.id.as_str()),
                        request_id: Some(req.id.clone()),
                        email: EmailPref::StatusChanges,
                        action: "Open the request",
                    };
                    mailed |=
                        self.notify(&mut tx, by.ctx.tenant(), std::slice::from_ref(u), Some(&p.user.id), &note).await?;
                }
            }
        }
        if let Some(to) = to {
            let fresh = tx.get_request(&req.id).await?.ok_or(AppError::NotFound)?;
            mailed |= self.apply_transition(&mut tx, by.ctx.tenant(), p, &fresh, &acc, to, comment.as_deref()).await?;
        }
        let (req, acc) = self.visible_request(&mut tx, p, id).await?;
        let out = self.detail(&mut tx, req, acc).await?;
        tx.commit().await?;
        if mailed {
            self.wake_mailer();
        }
        Ok(out)
    }

    /// `POST /api/itsm/requests/{id}/transition`. Illegal moves are 409
    /// `illegal_transition`; the comment, if any, is public.
    pub async fn transition_request(
        &self,
        by: Can<'_, caps::ItsmWrite>,
        id: &str,
        input: TransitionInput,
    ) -> AppResult<RequestDetail> {
        let p = by.principal;
        let to = RequestStatus::parse("to", &input.to)?;
        let comment = PlainText::optional("comment", input.comment.as_deref(), MAX_COMMENT_CHARS)?;
        let mut tx = self.db(by.ctx).write().await?;
        let (req, acc) = self.visible_request(&mut tx, p, id).await?;
        let mailed = self.apply_transition(&mut tx, by.ctx.tenant(), p, &req, &acc, to, comment.as_deref()).await?;
        let (req, acc) = self.visible_request(&mut tx, p, id).await?;
        let out = self.detail(&mut tx, req, acc).await?;
        tx.commit().await?;
        if mailed {
            self.wake_mailer();
        }
        Ok(out)
    }

    /// Move `req` to `to` as the caller, with its side effects: the
    /// timeline, an optional public comment, a pending approval cancelled,
    /// and notifications. Returns whether mail was queued.
    async fn apply_transition(
        &self,
        tx: &mut TenantWrite,
        tenant: &Tenant,
        p: &Principal,
        req: &ServiceRequest,
        acc: &RequestAccess,
        to: RequestStatus,
        comment: Option<&str>,
    ) -> AppResult<bool> {
        let now = self.now();
        let life = req.lifecycle();
        let parties = acc.parties();
        let next = life.transition(to, &parties, now).map_err(|e| transition_error(e, &life.allowed(&parties, now)))?;
        tx.set_request_lifecycle(&req.id, &next).await?;
        self.record_event(
            tx,
            &req.id,
            "status",
            Some(req.status.as_str()),
            Some(to.as_str()),
            Some(&p.user.id),
            comment,
        )
        .await?;
        if let Some(c) = comment {
            let cid: RecordId = self.new_id();
            tx.insert_comment(&cid, &req.id, &p.user.id, c, false, now).await?;
        }
        if req.status == RequestStatus::PendingApproval
            && let Some(a) = tx.get_approval_for_request(&req.id).await?
        {
            tx.skip_pending_decisions(&a.id, now).await?;
            tx.set_approval_progress(&a.id, a.current_stage, tier0_domain::itsm::ApprovalState::Cancelled, Some(now))
                .await?;
        }
        self.notify_status(tx, tenant, req, to, Some(p), comment).await
    }

    /// Tell the requester and watchers (and, when a requester acted, the
    /// assignee) that `req` moved to `to`.
    pub(crate) async fn notify_status(
        &self,
        tx: &mut TenantWrite,
        tenant: &Tenant,
        req: &ServiceRequest,
        to: RequestStatus,
        actor: Option<&Principal>,
        note: Option<&str>,
    ) -> AppResult<bool> {
        let mut lines = vec![format!("{} \"{}\" is now {}.", req.number, req.title, to.label().to_lowercase())];
        if let (Some(n), Some(a)) = (note, actor) {
            lines.push(format!("{} wrote: {}", a.user.name, excerpt(n, 2000)));
        }
        let customer = Note {
            kind: "status",
            title: format!("[{}] {}: {}", req.number, to.label(), excerpt(&req.title, 80)),
            lines: lines.clone(),
            link: links::portal_request(req.id.as_str()),
            request_id: Some(req.id.clone()),
            email: EmailPref::StatusChanges,
            action: "View the request",
        };
        let except = actor.map(|a| &a.user.id);
        let mut ids = vec![req.requester_id.clone()];
        ids.extend(tx.list_watchers(&req.id).await?.into_iter().map(|u| u.id));
        let people = self.users_by_ids(tx, &ids).await?;
        let mut mailed = self.notify(tx, tenant, &people, except, &customer).await?;
        let by_customer = actor.is_some_and(|a| !a.permissions.allows("itsm:fulfill"));
        if by_customer && let Some(assignee) = &req.assignee_id {
            let agents = self.users_by_ids(tx, std::slice::from_ref(assignee)).await?;
            let note = Note {
                kind: "reply",
                link: links::itsm_request(req.id.as_str()),
                action: "Open the request",
                ..customer
            };
            mailed |= self.notify(tx, tenant, &agents, except, &note).await?;
        }
        Ok(mailed)
    }

    /// `POST /api/itsm/requests/{id}/watchers`: agents and the requester
    /// may add a watcher (an active user of this organisation).
    pub async fn add_watcher(
        &self,
        by: Can<'_, caps::ItsmWrite>,
        id: &str,
        input: WatcherInput,
    ) -> AppResult<Vec<UserRef>> {
        let mut tx = self.db(by.ctx).write().await?;
        let (req, acc) = self.visible_request(&mut tx, by.principal, id).await?;
        if !(acc.agent || acc.requester) {
            return Err(AppError::forbidden("only the requester and agents can add watchers"));
        }
        let user = match self.find_user(&mut tx, &input.user).await? {
            Some(u) if u.active => u,
            _ => return Err(AppError::field("user", "is not an active user of this organisation")),
        };
        if user.id != req.requester_id {
            tx.add_watcher(&req.id, &user.id, self.now()).await?;
        }
        let out = tx.list_watchers(&req.id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// `DELETE /api/itsm/requests/{id}/watchers/{user_id}`: agents, the
    /// requester, or the watcher themselves.
    pub async fn remove_watcher(
        &self,
        by: Can<'_, caps::ItsmWrite>,
        id: &str,
        user_id: &str,
    ) -> AppResult<Vec<UserRef>> {
        let mut tx = self.db(by.ctx).write().await?;
        let (req, acc) = self.visible_request(&mut tx, by.principal, id).await?;
        let target = UserId::new(user_id);
        if !(acc.agent || acc.requester || target == by.principal.user.id) {
            return Err(AppError::forbidden("only the requester, agents or the watcher can remove a watcher"));
        }
        if !tx.remove_watcher(&req.id, &target).await? {
            return Err(AppError::NotFound);
        }
        let out = tx.list_watchers(&req.id).await?;
        tx.commit().await?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increments_sort_after() {
        let a = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
        let b = ulid_increment(a);
        assert!(b.as_str() > a, "{b}");
        assert_eq!(ulid_increment("0000000000000000000000000Z"), "00000000000000000000000010");
    }
}
