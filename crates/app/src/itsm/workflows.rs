//! Approval workflow definitions (`catalog:manage`): named, ordered stages
//! of approvers (users and roles) with a rule, linked from catalog items.

use super::{decode_cursor, paginate};
use crate::auth::users::Page;
use crate::error::{AppError, AppResult};
use crate::{App, Can, caps};
use serde::Deserialize;
use std::collections::HashMap;
use tier0_domain::itsm::records::{Approvers, StoredStage, UserRef, Workflow, WorkflowStage};
use tier0_domain::itsm::workflow::{ApproversInput, StageInput, StageShape, parse_workflow};
use tier0_domain::{Email, Limit, RoleId, UserId, ValidationError, WorkflowId};
use tier0_store::TenantRead;
use tier0_store::catalog::WorkflowRow;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct WorkflowInput {
    #[schema(min_length = 1)]
    pub name: String,
    pub stages: Vec<StageInput>,
}

/// Changes to a workflow. Requests already waiting for approval keep the
/// stages they started with.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct WorkflowPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub stages: Option<Vec<StageInput>>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct WorkflowQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl App {
    /// Resolve each stage's user (id or e-mail) and role (name or id)
    /// references in this tenant. Unknown or foreign ones are a 422 on
    /// `stages[i].approvers`; users must be active.
    async fn resolve_stages(&self, r: &mut TenantRead, shapes: Vec<StageShape>) -> AppResult<Vec<StoredStage>> {
        let mut err = ValidationError::new();
        let mut out = Vec::with_capacity(shapes.len());
        for (i, s) in shapes.into_iter().enumerate() {
            let field = format!("stages[{i}].approvers");
            let mut users = Vec::new();
            for key in &s.users {
                let user = if key.contains('@') {
                    match Email::parse(&field, key) {
                        Ok(e) => r.get_user_by_email(&e).await?,
                        Err(_) => None,
                    }
                } else {
                    r.get_user(&UserId::new(key.as_str())).await?
                };
                match user {
                    Some(u) if u.active => {
                        if !users.contains(&u.id.to_string()) {
                            users.push(u.id.to_string());
                        }
                    }
                    _ => {
                        let shown: String = key.chars().take(60).collect();
                        err.add(&field, format!("{shown:?} is not an active user of this organisation"));
                    }
                }
            }
            let mut roles = Vec::new();
            for key in &s.roles {
                let role = match r.get_role_by_name(key).await? {
                    Some(role) => Some(role),
                    None => r.get_role(&RoleId::new(key.as_str())).await?,
                };
                match role {
                    Some(role) => {
                        if !roles.contains(&role.id.to_string()) {
                            roles.push(role.id.to_string());
                        }
                    }
                    None => {
                        let shown: String = key.chars().take(60).collect();
                        err.add(&field, format!("{shown:?} is not a role of this organisation"));
                    }
                }
            }
            out.push(StoredStage { users, roles, rule: s.rule });
        }
        err.into_result()?;
        Ok(out)
    }

    async fn workflow_view(&self, r: &mut TenantRead, rows: Vec<WorkflowRow>) -> AppResult<Vec<Workflow>> {
        let names: HashMap<String, String> =
            r.list_roles().await?.into_iter().map(|role| (role.id.into_string(), role.name)).collect();
        Ok(rows
            .into_iter()
            .map(|w| Workflow {
                id: w.id,
                name: w.name,
                stages: w
                    .stages
                    .into_iter()
                    .map(|s| WorkflowStage {
                        approvers: Approvers {
                            users: s.users,
                            roles: s
                                .roles
                                .iter()
                                .map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone()))
                                .collect(),
                        },
                        rule: s.rule,
                    })
                    .collect(),
                created_at: w.created_at,
                updated_at: w.updated_at,
            })
            .collect())
    }

    /// `POST /api/itsm/workflows`.
    pub async fn create_workflow(&self, by: Can<'_, caps::CatalogManage>, input: WorkflowInput) -> AppResult<Workflow> {
        let (name, shapes) = parse_workflow(&input.name, &input.stages)?;
        let id: WorkflowId = self.new_id();
        let mut tx = self.db(by.ctx).write().await?;
        let stages = self.resolve_stages(&mut tx, shapes).await?;
        tx.insert_workflow(&id, &name, &stages, self.now()).await?;
        self.audit(
            &mut tx,
            by.ctx,
            "workflow.created",
            Some(("workflow", id.as_str())),
            serde_json::json!({"name": name, "stages": stages.len()}),
        )
        .await?;
        let row = tx.get_workflow_row(&id).await?.ok_or(AppError::NotFound)?;
        let out = self.workflow_view(&mut tx, vec![row]).await?.pop().ok_or(AppError::NotFound)?;
        tx.commit().await?;
        Ok(out)
    }

    /// `GET /api/itsm/workflows`, oldest first.
    pub async fn list_workflows(
        &self,
        by: Can<'_, caps::CatalogManage>,
        q: WorkflowQuery,
    ) -> AppResult<Page<Workflow>> {
        let limit = Limit::parse(q.limit)?;
        let after = decode_cursor(q.cursor.as_deref(), 1)?.map(|mut v| v.remove(0));
        let mut r = self.db(by.ctx).read().await?;
        let rows = r.list_workflow_rows(after.as_deref(), limit.probe()).await?;
        let items = self.workflow_view(&mut r, rows).await?;
        Ok(paginate(items, limit, |w| vec![w.id.to_string()]))
    }

    /// `GET /api/itsm/workflows/{id}`.
    pub async fn get_workflow(&self, by: Can<'_, caps::CatalogManage>, id: &str) -> AppResult<Workflow> {
        let mut r = self.db(by.ctx).read().await?;
        let row = r.get_workflow_row(&WorkflowId::new(id)).await?.ok_or(AppError::NotFound)?;
        self.workflow_view(&mut r, vec![row]).await?.pop().ok_or(AppError::NotFound)
    }

    /// `PATCH /api/itsm/workflows/{id}`.
    pub async fn patch_workflow(
        &self,
        by: Can<'_, caps::CatalogManage>,
        id: &str,
        patch: WorkflowPatch,
    ) -> AppResult<Workflow> {
        let id = WorkflowId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        let cur = tx.get_workflow_row(&id).await?.ok_or(AppError::NotFound)?;
        let stages_in: Vec<StageInput> = match patch.stages {
            Some(s) => s,
            None => cur
                .stages
                .iter()
                .map(|st| StageInput {
                    approvers: ApproversInput { users: st.users.clone(), roles: st.roles.clone() },
                    rule: Some(st.rule.as_str().to_owned()),
                })
                .collect(),
        };
        let (name, shapes) = parse_workflow(patch.name.as_deref().unwrap_or(&cur.name), &stages_in)?;
        let stages = self.resolve_stages(&mut tx, shapes).await?;
        tx.update_workflow(&id, &name, &stages, self.now()).await?;
        self.audit(
            &mut tx,
            by.ctx,
            "workflow.updated",
            Some(("workflow", id.as_str())),
            serde_json::json!({"name": name, "stages": stages.len()}),
        )
        .await?;
        let row = tx.get_workflow_row(&id).await?.ok_or(AppError::NotFound)?;
        let out = self.workflow_view(&mut tx, vec![row]).await?.pop().ok_or(AppError::NotFound)?;
        tx.commit().await?;
        Ok(out)
    }

    /// Role names, built-in roles first: the choices of an item's
    /// visibility and of a stage's approving roles in the editors.
    pub async fn catalog_role_names(&self, by: Can<'_, caps::CatalogManage>) -> AppResult<Vec<String>> {
        let roles = self.db(by.ctx).read().await?.list_roles().await?;
        Ok(crate::auth::roles::in_display_order(roles).into_iter().map(|r| r.name).collect())
    }

    /// The people a workflow names (by id), for showing and editing its
    /// stages by e-mail address. Unknown ids are left out.
    pub async fn workflow_people(&self, by: Can<'_, caps::CatalogManage>, ids: &[String]) -> AppResult<Vec<UserRef>> {
        let mut r = self.db(by.ctx).read().await?;
        let mut out: Vec<UserRef> = Vec::new();
        for id in ids.iter().take(MAX_PEOPLE_LOOKUP) {
            if out.iter().any(|u| u.id.as_str() == id) {
                continue;
            }
            if let Some(u) = r.get_user(&UserId::new(id.as_str())).await? {
                out.push(UserRef { id: u.id, name: u.name, email: u.email });
            }
        }
        Ok(out)
    }
}

/// At most this many people are looked up at once (10 stages × 50).
const MAX_PEOPLE_LOOKUP: usize = 500;
