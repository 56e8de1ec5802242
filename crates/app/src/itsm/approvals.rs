//! Approvals of requests. A request for an item linked to a workflow
//! starts in `pending_approval` with an approval that snapshots the
//! workflow's stages. Each stage, when it starts, asks its approvers (the
//! listed users plus the active members of the listed roles, never the
//! requester themselves; when that leaves nobody, the organisation's
//! administrators) and notifies them. Any rejection rejects the request;
//! when the last stage is approved the request opens. Only the approver a
//! decision was asked of can take it: for anyone else it does not exist.

use super::notify::{EmailPref, Note};
use super::{decode_cursor, excerpt, links, paginate};
use crate::auth::users::Page;
use crate::error::{AppError, AppResult};
use crate::tenants::Tenant;
use crate::{App, SignedIn};
use serde::{Deserialize, Serialize};
use tier0_domain::itsm::records::{
    Approval, ApprovalStage, ApprovalTask, Decision, ServiceRequest, StoredStage, UserRef,
};
use tier0_domain::itsm::workflow::{StageOutcome, stage_outcome};
use tier0_domain::itsm::{ApprovalState, DecisionState, Party, RequestStatus};
use tier0_domain::{Limit, PlainText, RecordId, RequestId, RoleId, User, UserId};
use tier0_store::approvals::{ApprovalRow, TaskState};
use tier0_store::catalog::WorkflowRow;
use tier0_store::{TenantRead, TenantWrite};

pub const MAX_DECISION_COMMENT_CHARS: usize = 2_000;
/// Most approvers asked on one stage (a role with more members is cut).
pub const MAX_STAGE_APPROVERS: usize = 200;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ApprovalQuery {
    /// `pending` (default), `approved`, `rejected`, `decided` or `all`.
    pub state: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// `POST /api/itsm/approvals/{id}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DecisionInput {
    /// `approve` or `reject`.
    #[serde(default)]
    #[schema(min_length = 1)]
    pub decision: String,
    /// Shown to the requester (a rejection's reason).
    #[serde(default)]
    pub comment: Option<String>,
}

/// The outcome of a decision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionOut {
    /// The decision's id.
    pub id: RecordId,
    pub decision: DecisionState,
    pub approval: Approval,
    pub request_id: RequestId,
    /// The request's status after the decision.
    pub request_status: RequestStatus,
}

fn user_ref(u: &User) -> UserRef {
    UserRef { id: u.id.clone(), name: u.name.clone(), email: u.email.clone() }
}

impl App {
    /// Who decides `stage` of a request filed by `requester`.
    pub(crate) async fn stage_approvers(
        &self,
        r: &mut TenantRead,
        stage: &StoredStage,
        requester: &UserId,
    ) -> AppResult<Vec<User>> {
        let mut out: Vec<User> = Vec::new();
        let add = |u: User, out: &mut Vec<User>| {
            if u.active && &u.id != requester && !out.iter().any(|x| x.id == u.id) && out.len() < MAX_STAGE_APPROVERS {
                out.push(u);
            }
        };
        for id in &stage.users {
            if let Some(u) = r.get_user(&UserId::new(id.as_str())).await? {
                add(u, &mut out);
            }
        }
        for role in &stage.roles {
            for u in r.active_users_with_role(&RoleId::new(role.as_str())).await? {
                add(u, &mut out);
            }
        }
        if out.is_empty() {
            // Nobody left to ask (people left, roles emptied): the
            // administrators decide rather than nobody.
            for role in r.list_roles().await?.into_iter().filter(|r| r.is_admin()) {
                for u in r.active_users_with_role(&role.id).await? {
                    add(u, &mut out);
                }
            }
        }
        Ok(out)
    }

    /// Start the approval of a new request (inside its transaction).
    pub(crate) async fn start_approval(
        &self,
        w: &mut TenantWrite,
        tenant: &Tenant,
        req: &ServiceRequest,
        wf: &WorkflowRow,
        approvers: &[User],
    ) -> AppResult<(Approval, bool)> {
        let now = self.now();
        let row = ApprovalRow {
            id: self.new_id(),
            request_id: req.id.clone(),
            workflow_id: Some(wf.id.clone()),
            workflow_name: wf.name.clone(),
            stages: wf.stages.clone(),
            current_stage: 0,
            state: ApprovalState::Pending,
            created_at: now,
            decided_at: None,
        };
        w.insert_approval(&row).await?;
        let (decisions, mailed) = self.open_stage(w, tenant, &row.id, req, 0, approvers).await?;
        let stages = row
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| ApprovalStage {
                rule: s.rule,
                decisions: if i == 0 { decisions.clone() } else { Vec::new() },
            })
            .collect();
        let approval = Approval {
            id: row.id,
            request_id: row.request_id,
            workflow_id: row.workflow_id,
            workflow_name: row.workflow_name,
            state: row.state,
            current_stage: 0,
            stages,
            created_at: now,
            decided_at: None,
        };
        Ok((approval, mailed))
    }

    /// Ask `approvers` for stage `stage` and notify them.
    async fn open_stage(
        &self,
        w: &mut TenantWrite,
        tenant: &Tenant,
        approval: &RecordId,
        req: &ServiceRequest,
        stage: i64,
        approvers: &[User],
    ) -> AppResult<(Vec<Decision>, bool)> {
        let now = self.now();
        let mut decisions = Vec::with_capacity(approvers.len());
        for u in approvers {
            let id: RecordId = self.new_id();
            w.insert_decision(&id, approval, &req.id, stage, &u.id, now).await?;
            decisions.push(Decision {
                id,
                approver: user_ref(u),
                state: DecisionState::Pending,
                comment: None,
                decided_at: None,
            });
        }
        let note = Note {
            kind: "approval_needed",
            title: format!("[{}] Approval needed: {}", req.number, excerpt(&req.title, 80)),
            lines: vec![
                format!("{} asks for \"{}\" ({}).", req.requester.name, req.title, req.number),
                "Please approve or reject it.".into(),
            ],
            link: links::PORTAL_APPROVALS.to_owned(),
            request_id: Some(req.id.clone()),
            email: EmailPref::Approvals,
            action: "Review the approval",
        };
        let mailed = self.notify(w, tenant, approvers, None, &note).await?;
        Ok((decisions, mailed))
    }

    /// A request's approval with every decision, if it has one.
    pub(crate) async fn load_approval(&self, r: &mut TenantRead, request: &RequestId) -> AppResult<Option<Approval>> {
        let Some(a) = r.get_approval_for_request(request).await? else { return Ok(None) };
        let decisions = r.list_decisions(&a.id).await?;
        let stages = a
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| ApprovalStage {
                rule: s.rule,
                decisions: decisions.iter().filter(|(st, _)| *st == i as i64).map(|(_, d)| d.clone()).collect(),
            })
            .collect();
        Ok(Some(Approval {
            id: a.id,
            request_id: a.request_id,
            workflow_id: a.workflow_id,
            workflow_name: a.workflow_name,
            state: a.state,
            current_stage: a.current_stage,
            stages,
            created_at: a.created_at,
            decided_at: a.decided_at,
        }))
    }

    /// `GET /api/itsm/approvals?state=`: decisions asked of the caller,
    /// newest first, with what each is about.
    pub async fn list_approval_tasks(&self, me: SignedIn<'_>, q: ApprovalQuery) -> AppResult<Page<ApprovalTask>> {
        let limit = Limit::parse(q.limit)?;
        let state = match q.state.as_deref().map(str::trim).unwrap_or("pending") {
            "" | "pending" => TaskState::One(DecisionState::Pending),
            "approved" => TaskState::One(DecisionState::Approved),
            "rejected" => TaskState::One(DecisionState::Rejected),
            "skipped" => TaskState::One(DecisionState::Skipped),
            "decided" => TaskState::Decided,
            "all" => TaskState::All,
            _ => return Err(AppError::field("state", "must be pending, approved, rejected, skipped, decided or all")),
        };
        let before = decode_cursor(q.cursor.as_deref(), 1)?.map(|mut v| v.remove(0));
        let items = self
            .db(me.ctx)
            .read()
            .await?
            .list_approval_tasks(me.user_id(), state, before.as_deref(), limit.probe())
            .await?;
        Ok(paginate(items, limit, |t| vec![t.id.to_string()]))
    }

    /// `POST /api/itsm/approvals/{id}` with a decision id (or the request's
    /// approval id). 404 unless the decision was asked of the caller; 409
    /// `already_decided` once it is no longer pending.
    pub async fn decide_approval(&self, me: SignedIn<'_>, id: &str, input: DecisionInput) -> AppResult<DecisionOut> {
        let decision = match input.decision.trim() {
            "approve" | "approved" => DecisionState::Approved,
            "reject" | "rejected" => DecisionState::Rejected,
            _ => return Err(AppError::field("decision", "must be approve or reject")),
        };
        let comment = PlainText::optional("comment", input.comment.as_deref(), MAX_DECISION_COMMENT_CHARS)?;
        let tenant = me.ctx.tenant();
        let now = self.now();
        let mut tx = self.db(me.ctx).write().await?;
        let rid = RecordId::new(id);
        let d = match tx.decision_of(&rid, me.user_id()).await? {
            Some(d) => d,
            None => tx.decision_in_approval(&rid, me.user_id()).await?.ok_or(AppError::NotFound)?,
        };
        let a = tx.get_approval_row(&d.approval_id).await?.ok_or(AppError::NotFound)?;
        let already = || AppError::conflict("already_decided", "this approval is no longer waiting for your decision");
        if d.state != DecisionState::Pending || a.state != ApprovalState::Pending || d.stage != a.current_stage {
            return Err(already());
        }
        if !tx.set_decision(&d.id, decision, comment.as_deref(), now).await? {
            return Err(already());
        }
        let req = tx.get_request(&a.request_id).await?.ok_or(AppError::NotFound)?;
        let stage = a.stages.get(d.stage as usize).ok_or_else(|| AppError::internal("decision of a missing stage"))?;
        let outcome = stage_outcome(stage.rule, &tx.stage_decision_states(&a.id, d.stage).await?);
        let mut mailed = false;
        let finished = match outcome {
            StageOutcome::Pending => None,
            StageOutcome::Rejected => {
                tx.skip_pending_decisions(&a.id, now).await?;
                tx.set_approval_progress(&a.id, d.stage, ApprovalState::Rejected, Some(now)).await?;
                Some(RequestStatus::Rejected)
            }
            StageOutcome::Approved => {
                tx.skip_pending_decisions(&a.id, now).await?;
                let next = d.stage + 1;
                match a.stages.get(next as usize) {
                    Some(next_stage) => {
                        let approvers = self.stage_approvers(&mut tx, next_stage, &req.requester_id).await?;
                        mailed |= self.open_stage(&mut tx, tenant, &a.id, &req, next, &approvers).await?.1;
                        tx.set_approval_progress(&a.id, next, ApprovalState::Pending, None).await?;
                        None
                    }
                    None => {
                        tx.set_approval_progress(&a.id, d.stage, ApprovalState::Approved, Some(now)).await?;
                        Some(RequestStatus::Open)
                    }
                }
            }
        };
        let mut status = req.status;
        if let Some(to) = finished
            && req.status == RequestStatus::PendingApproval
        {
            let life = req
                .lifecycle()
                .transition(to, &[Party::System], now)
                .map_err(|e| AppError::internal(format!("approval outcome refused: {e}")))?;
            tx.set_request_lifecycle(&req.id, &life).await?;
            self.record_event(
                &mut tx,
                &req.id,
                "status",
                Some(req.status.as_str()),
                Some(to.as_str()),
                Some(me.user_id()),
                comment.as_deref(),
            )
            .await?;
            status = to;
            mailed |= self.notify_decision(&mut tx, tenant, &req, to, me, comment.as_deref()).await?;
        }
        let approval = self.load_approval(&mut tx, &req.id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        if mailed {
            self.wake_mailer();
        }
        Ok(DecisionOut { id: d.id, decision, approval, request_id: req.id, request_status: status })
    }

    /// Tell the requester (and watchers) the approval's outcome, with the
    /// approver's comment.
    async fn notify_decision(
        &self,
        tx: &mut TenantWrite,
        tenant: &Tenant,
        req: &ServiceRequest,
        to: RequestStatus,
        me: SignedIn<'_>,
        comment: Option<&str>,
    ) -> AppResult<bool> {
        let approved = to == RequestStatus::Open;
        let mut lines = vec![if approved {
            format!("{} \"{}\" was approved and is now open.", req.number, req.title)
        } else {
            format!("{} \"{}\" was rejected by {}.", req.number, req.title, me.principal.user.name)
        }];
        if let Some(c) = comment {
            lines.push(format!("{} wrote: {}", me.principal.user.name, excerpt(c, 2000)));
        }
        let note = Note {
            kind: "approval_decided",
            title: format!(
                "[{}] {}: {}",
                req.number,
                if approved { "Approved" } else { "Rejected" },
                excerpt(&req.title, 80)
            ),
            lines,
            link: links::portal_request(req.id.as_str()),
            request_id: Some(req.id.clone()),
            email: EmailPref::Approvals,
            action: "View the request",
        };
        let mut ids = vec![req.requester_id.clone()];
        ids.extend(tx.list_watchers(&req.id).await?.into_iter().map(|u| u.id));
        let people = self.users_by_ids(tx, &ids).await?;
        self.notify(tx, tenant, &people, Some(me.user_id()), &note).await
    }
}
