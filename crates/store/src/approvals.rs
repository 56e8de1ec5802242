//! Approvals of requests: one approval per request (a snapshot of its
//! workflow's stages) and one decision row per approver of each started
//! stage.

use crate::db::Row;
use crate::error::{StoreError, StoreResult};
use crate::requests::{priority_from, status_from, user_ref};
use crate::scoped::{TenantRead, TenantWrite};
use tier0_domain::itsm::records::{ApprovalSubject, ApprovalTask, Decision, StoredStage, request_number};
use tier0_domain::itsm::{ApprovalState, DecisionState};
use tier0_domain::{RecordId, RequestId, Timestamp, UserId, WorkflowId};

/// A request's approval as stored.
#[derive(Debug, Clone)]
pub struct ApprovalRow {
    pub id: RecordId,
    pub request_id: RequestId,
    pub workflow_id: Option<WorkflowId>,
    pub workflow_name: String,
    pub stages: Vec<StoredStage>,
    pub current_stage: i64,
    pub state: ApprovalState,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

/// One decision row.
#[derive(Debug, Clone)]
pub struct DecisionRow {
    pub id: RecordId,
    pub approval_id: RecordId,
    pub request_id: RequestId,
    pub stage: i64,
    pub approver_id: UserId,
    pub state: DecisionState,
}

const APPROVAL_COLS: &str = "SELECT id, request_id, workflow_id, workflow_name, stages, current_stage, state, created_at, decided_at FROM approvals ";
const DECISION_COLS: &str = "SELECT id, approval_id, request_id, stage, approver_id, state FROM approval_decisions ";

fn approval_from(r: &Row) -> StoreResult<ApprovalRow> {
    let state: String = r.get("state")?;
    Ok(ApprovalRow {
        id: RecordId::new(r.get::<String>("id")?),
        request_id: RequestId::new(r.get::<String>("request_id")?),
        workflow_id: r.get::<Option<String>>("workflow_id")?.map(WorkflowId::new),
        workflow_name: r.get("workflow_name")?,
        stages: serde_json::from_str(&r.get::<String>("stages")?)
            .map_err(|e| StoreError::Corrupt(format!("approval stages: {e}")))?,
        current_stage: r.get("current_stage")?,
        state: ApprovalState::from_str_opt(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("approval state {state}")))?,
        created_at: r.ts("created_at")?,
        decided_at: r.opt_ts("decided_at")?,
    })
}

fn decision_state(r: &Row) -> StoreResult<DecisionState> {
    let s: String = r.get("state")?;
    DecisionState::from_str_opt(&s).ok_or_else(|| StoreError::Corrupt(format!("decision state {s}")))
}

fn decision_from(r: &Row) -> StoreResult<DecisionRow> {
    Ok(DecisionRow {
        id: RecordId::new(r.get::<String>("id")?),
        approval_id: RecordId::new(r.get::<String>("approval_id")?),
        request_id: RequestId::new(r.get::<String>("request_id")?),
        stage: r.get("stage")?,
        approver_id: UserId::new(r.get::<String>("approver_id")?),
        state: decision_state(r)?,
    })
}

/// Which of the caller's decisions to list.
#[derive(Debug, Clone, Copy)]
pub enum TaskState {
    One(DecisionState),
    /// Approved or rejected.
    Decided,
    All,
}

impl TenantRead {
    /// What the page header shows `user` (holding `role`), in one round
    /// trip: their unread notifications, and whether they take part in
    /// approvals (named in a workflow stage, in person or by role, or asked
    /// for a decision before).
    pub async fn page_badges(&mut self, user: &UserId, role: &tier0_domain::RoleId) -> StoreResult<(i64, bool)> {
        // Stages are JSON arrays of ids; ids are ULIDs, so they hold no LIKE
        // wildcards.
        let q = self
            .q("SELECT \
                  (SELECT COUNT(*) FROM notifications n WHERE n.tenant_id = $1 AND n.user_id = $2 AND n.read_at IS NULL) AS unread, \
                  (SELECT COUNT(*) FROM (\
                    SELECT d.id FROM approval_decisions d WHERE d.tenant_id = $1 AND d.approver_id = $2 \
                    UNION ALL \
                    SELECT w.id FROM approval_workflows w WHERE w.tenant_id = $1 AND (w.stages LIKE $3 OR w.stages LIKE $4) \
                    LIMIT 1) t) AS approver")
            .bind(user)
            .bind(format!("%\"{}\"%", user.as_str()))
            .bind(format!("%\"{}\"%", role.as_str()));
        let row = self.ex.fetch_one(q).await?;
        Ok((row.get::<i64>("unread")?, row.get::<i64>("approver")? > 0))
    }

    pub async fn get_approval_for_request(&mut self, request: &RequestId) -> StoreResult<Option<ApprovalRow>> {
        let mut q = crate::db::Q::new(APPROVAL_COLS).bind(&self.tenant).bind(request);
        q.push_sql("WHERE tenant_id = $1 AND request_id = $2");
        self.ex.fetch_optional(q).await?.as_ref().map(approval_from).transpose()
    }

    pub async fn get_approval_row(&mut self, id: &RecordId) -> StoreResult<Option<ApprovalRow>> {
        let mut q = crate::db::Q::new(APPROVAL_COLS).bind(&self.tenant).bind(id);
        q.push_sql("WHERE tenant_id = $1 AND id = $2");
        self.ex.fetch_optional(q).await?.as_ref().map(approval_from).transpose()
    }

    /// Every decision of an approval with its stage, in stage then id order.
    pub async fn list_decisions(&mut self, approval: &RecordId) -> StoreResult<Vec<(i64, Decision)>> {
        let q = self
            .q("SELECT d.id, d.stage, d.state, d.comment, d.decided_at, d.approver_id, u.name AS approver_name, u.email AS approver_email \
                FROM approval_decisions d JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.approver_id \
                WHERE d.tenant_id = $1 AND d.approval_id = $2 ORDER BY d.stage, d.id")
            .bind(approval);
        self.ex
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.get::<i64>("stage")?,
                    Decision {
                        id: RecordId::new(r.get::<String>("id")?),
                        approver: user_ref(r, "approver_id", "approver_name", "approver_email")?,
                        state: decision_state(r)?,
                        comment: r.get("comment")?,
                        decided_at: r.opt_ts("decided_at")?,
                    },
                ))
            })
            .collect()
    }

    /// The states of one stage's decisions.
    pub async fn stage_decision_states(&mut self, approval: &RecordId, stage: i64) -> StoreResult<Vec<DecisionState>> {
        let q = self
            .q("SELECT state FROM approval_decisions WHERE tenant_id = $1 AND approval_id = $2 AND stage = $3")
            .bind(approval)
            .bind(stage);
        self.ex.fetch_all(q).await?.iter().map(decision_state).collect()
    }

    /// A decision by id, only if it is `approver`'s.
    pub async fn decision_of(&mut self, id: &RecordId, approver: &UserId) -> StoreResult<Option<DecisionRow>> {
        let mut q = crate::db::Q::new(DECISION_COLS).bind(&self.tenant).bind(id).bind(approver);
        q.push_sql("WHERE tenant_id = $1 AND id = $2 AND approver_id = $3");
        self.ex.fetch_optional(q).await?.as_ref().map(decision_from).transpose()
    }

    /// `approver`'s newest decision on an approval (by the approval's id).
    pub async fn decision_in_approval(
        &mut self,
        approval: &RecordId,
        approver: &UserId,
    ) -> StoreResult<Option<DecisionRow>> {
        let mut q = crate::db::Q::new(DECISION_COLS).bind(&self.tenant).bind(approval).bind(approver);
        q.push_sql(
            "WHERE tenant_id = $1 AND approval_id = $2 AND approver_id = $3 ORDER BY stage DESC, id DESC LIMIT 1",
        );
        self.ex.fetch_optional(q).await?.as_ref().map(decision_from).transpose()
    }

    /// Decisions asked of `approver`, newest first, with what they are about.
    pub async fn list_approval_tasks(
        &mut self,
        approver: &UserId,
        state: TaskState,
        before: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<ApprovalTask>> {
        let mut q = self
            .q("SELECT d.id, d.approval_id, d.stage, d.state, d.comment, d.created_at, d.decided_at, \
                r.id AS request_id, r.number, r.title, r.details, r.status, r.priority, r.field_values, r.created_at AS request_created_at, \
                r.requester_id, u.name AS requester_name, u.email AS requester_email, ci.name AS catalog_item_name \
                FROM approval_decisions d \
                JOIN requests r ON r.tenant_id = d.tenant_id AND r.id = d.request_id \
                JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.requester_id \
                LEFT JOIN catalog_items ci ON ci.tenant_id = r.tenant_id AND ci.id = r.catalog_item_id \
                WHERE d.tenant_id = $1 AND d.approver_id = $2")
            .bind(approver);
        match state {
            TaskState::One(s) => {
                let n = q.push_bind(s.as_str());
                q.push_sql(&format!(" AND d.state = ${n}"));
            }
            TaskState::Decided => q.push_sql(" AND d.state IN ('approved', 'rejected')"),
            TaskState::All => {}
        }
        if let Some(b) = before {
            let n = q.push_bind(b);
            q.push_sql(&format!(" AND d.id < ${n}"));
        }
        let n = q.push_bind(limit);
        q.push_sql(&format!(" ORDER BY d.id DESC LIMIT ${n}"));
        self.ex
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| {
                Ok(ApprovalTask {
                    id: RecordId::new(r.get::<String>("id")?),
                    approval_id: RecordId::new(r.get::<String>("approval_id")?),
                    state: decision_state(r)?,
                    stage: r.get("stage")?,
                    comment: r.get("comment")?,
                    created_at: r.ts("created_at")?,
                    decided_at: r.opt_ts("decided_at")?,
                    request: ApprovalSubject {
                        id: RequestId::new(r.get::<String>("request_id")?),
                        number: request_number(r.get("number")?),
                        title: r.get("title")?,
                        details: r.get("details")?,
                        status: status_from(&r.get::<String>("status")?)?,
                        priority: priority_from(&r.get::<String>("priority")?)?,
                        requester: user_ref(r, "requester_id", "requester_name", "requester_email")?,
                        catalog_item_name: r.get("catalog_item_name")?,
                        fields: serde_json::from_str(&r.get::<String>("field_values")?)
                            .unwrap_or_else(|_| serde_json::json!({})),
                        created_at: r.ts("request_created_at")?,
                    },
                })
            })
            .collect()
    }
}

impl TenantWrite {
    pub async fn insert_approval(&mut self, a: &ApprovalRow) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO approvals (tenant_id, id, request_id, workflow_id, workflow_name, stages, current_stage, state, created_at, decided_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(&a.id)
            .bind(&a.request_id)
            .bind(a.workflow_id.as_ref())
            .bind(a.workflow_name.as_str())
            .bind(serde_json::to_string(&a.stages).unwrap_or_else(|_| "[]".into()))
            .bind(a.current_stage)
            .bind(a.state.as_str())
            .bind(a.created_at)
            .bind(a.decided_at);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn set_approval_progress(
        &mut self,
        id: &RecordId,
        current_stage: i64,
        state: ApprovalState,
        decided_at: Option<Timestamp>,
    ) -> StoreResult<()> {
        let q = self
            .q("UPDATE approvals SET current_stage = $3, state = $4, decided_at = $5 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(current_stage)
            .bind(state.as_str())
            .bind(decided_at);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn insert_decision(
        &mut self,
        id: &RecordId,
        approval: &RecordId,
        request: &RequestId,
        stage: i64,
        approver: &UserId,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO approval_decisions (tenant_id, id, approval_id, request_id, stage, approver_id, state, comment, created_at, decided_at) \
                VALUES ($1, $2, $3, $4, $5, $6, 'pending', NULL, $7, NULL)")
            .bind(id)
            .bind(approval)
            .bind(request)
            .bind(stage)
            .bind(approver)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Record a decision; false when it was no longer pending (decided
    /// concurrently), so nothing changes twice.
    pub async fn set_decision(
        &mut self,
        id: &RecordId,
        state: DecisionState,
        comment: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let q = self
            .q("UPDATE approval_decisions SET state = $3, comment = $4, decided_at = $5 \
                WHERE tenant_id = $1 AND id = $2 AND state = 'pending'")
            .bind(id)
            .bind(state.as_str())
            .bind(comment)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    /// Mark every still-pending decision of an approval as skipped.
    pub async fn skip_pending_decisions(&mut self, approval: &RecordId, now: Timestamp) -> StoreResult<u64> {
        let q = self
            .q("UPDATE approval_decisions SET state = 'skipped', decided_at = $3 \
                WHERE tenant_id = $1 AND approval_id = $2 AND state = 'pending'")
            .bind(approval)
            .bind(now);
        self.ex.execute(q).await
    }
}
