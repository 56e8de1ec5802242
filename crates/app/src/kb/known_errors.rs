//! Known errors (KEDB): symptoms and workaround of a known problem, public
//! to requesters or internal to staff. Root causes and problem references
//! are shown to staff only.

use super::articles::{RevisionList, revision_out};
use super::{Reader, actor, markdown, number};
use crate::auth::users::Page;
use crate::error::{AppError, AppResult};
use crate::{App, Can, Ctx, caps};
use serde::Deserialize;
use tier0_domain::kb::{self as dk, KnownError};
use tier0_domain::{Cursor, Limit, RecordId, ValidationError};
use tier0_store::kb::{KnownErrorFields, KnownErrorFilter, KnownErrorRow, NewRevision};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct KnownErrorInput {
    #[schema(min_length = 1)]
    pub title: String,
    #[schema(min_length = 1)]
    pub symptoms: String,
    #[serde(default)]
    pub workaround: Option<String>,
    #[serde(default)]
    pub root_cause: Option<String>,
    /// A problem reference such as `PRB-12`.
    #[serde(default)]
    pub problem_id: Option<String>,
    /// Visible to requesters (needs `kb:publish`).
    #[serde(default)]
    pub public: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct KnownErrorPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub symptoms: Option<String>,
    #[serde(default)]
    pub workaround: Option<String>,
    /// `null` or `""` clears it.
    #[serde(default, deserialize_with = "super::articles::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub root_cause: Option<Option<String>>,
    /// `null` or `""` clears it.
    #[serde(default, deserialize_with = "super::articles::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub problem_id: Option<Option<String>>,
    /// Changing it needs `kb:publish`.
    #[serde(default)]
    pub public: Option<bool>,
    #[serde(default)]
    pub if_version: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct KnownErrorListQuery {
    /// Substring of the title.
    pub q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl App {
    fn known_error_out(&self, r: KnownErrorRow, reader: Reader) -> KnownError {
        let staff = reader.staff;
        KnownError {
            number: number("KE", r.number),
            symptoms_html: markdown::render(&r.symptoms),
            workaround_html: markdown::render(&r.workaround),
            root_cause_html: r.root_cause.as_deref().filter(|_| staff).map(markdown::render),
            root_cause: r.root_cause.filter(|_| staff),
            problem_id: r.problem_id.filter(|_| staff),
            id: r.id,
            title: r.title,
            symptoms: r.symptoms,
            workaround: r.workaround,
            public: r.public,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    async fn known_error_revision(
        &self,
        tx: &mut tier0_store::TenantWrite,
        ctx: &Ctx,
        row: &KnownErrorRow,
        changes: &[String],
    ) -> AppResult<()> {
        let (actor_id, label) = actor(ctx);
        let snapshot = serde_json::json!({
            "title": row.title,
            "symptoms": row.symptoms,
            "workaround": row.workaround,
            "root_cause": row.root_cause,
            "problem_id": row.problem_id,
            "public": row.public,
        });
        tx.insert_kb_revision(NewRevision {
            doc_kind: "known_error",
            doc_id: &row.id,
            version: row.version,
            actor_id: actor_id.as_ref(),
            actor_label: &label,
            at: self.now(),
            changes,
            snapshot: &snapshot,
        })
        .await?;
        Ok(())
    }

    /// `POST /api/itsm/kb/known-errors`.
    pub async fn create_known_error(
        &self,
        by: Can<'_, caps::KbWrite>,
        input: KnownErrorInput,
    ) -> AppResult<KnownError> {
        let ctx = by.ctx;
        let mut v = ValidationError::new();
        let title = v.collect(dk::parse_title("title", &input.title));
        let symptoms = v.collect(dk::parse_ke_text("symptoms", &input.symptoms, true));
        let workaround = v.collect(dk::parse_ke_text("workaround", input.workaround.as_deref().unwrap_or(""), false));
        let root_cause = v.collect(dk::parse_ke_text("root_cause", input.root_cause.as_deref().unwrap_or(""), false));
        let problem = v.collect(dk::parse_problem_ref("problem_id", input.problem_id.as_deref()));
        v.into_result()?;
        let (Some(title), Some(symptoms), Some(workaround), Some(root_cause), Some(problem)) =
            (title, symptoms, workaround, root_cause, problem)
        else {
            return Err(AppError::internal("validated values missing"));
        };
        let public = input.public.unwrap_or(false);
        if public && !by.allows("kb:publish") {
            return Err(AppError::forbidden("making a known error public needs the kb:publish permission"));
        }
        let now = self.now();
        let mut tx = self.db(ctx).write().await?;
        let id: RecordId = self.new_id();
        let n = tx.next_number("KE").await?;
        let fields = KnownErrorFields {
            title: &title,
            symptoms: &symptoms,
            workaround: &workaround,
            root_cause: Some(root_cause.as_str()).filter(|s| !s.is_empty()),
            problem_id: problem.as_deref(),
            public,
        };
        tx.insert_known_error(&id, n, &fields, Some(by.user_id()), now).await?;
        let row = tx.get_known_error(&id).await?.ok_or_else(|| AppError::internal("known error vanished"))?;
        self.known_error_revision(&mut tx, ctx, &row, &["created".to_owned()]).await?;
        tx.kb_change("known_error", id.as_str(), now).await?;
        self.audit(
            &mut tx,
            ctx,
            "kb.known_error.created",
            Some(("kb_known_error", id.as_str())),
            serde_json::json!({"number": number("KE", n), "public": public}),
        )
        .await?;
        tx.commit().await?;
        self.kb_wake();
        Ok(self.known_error_out(row, Reader { authors: true, staff: true }))
    }

    /// `PATCH /api/itsm/kb/known-errors/{id}`. Making one public or
    /// internal, or editing a public one, needs `kb:publish`.
    pub async fn update_known_error(
        &self,
        by: Can<'_, caps::KbWrite>,
        id: &str,
        p: KnownErrorPatch,
    ) -> AppResult<KnownError> {
        let ctx = by.ctx;
        let id = super::record_id(id)?;
        let mut tx = self.db(ctx).write().await?;
        let cur = tx.get_known_error(&id).await?.ok_or(AppError::NotFound)?;
        if let Some(v) = p.if_version
            && v != cur.version
        {
            return Err(AppError::conflict(
                "edit_conflict",
                format!(
                    "the known error changed since you opened it (now version {}); reload and edit again",
                    cur.version
                ),
            ));
        }
        let mut v = ValidationError::new();
        let title = match &p.title {
            Some(t) => v.collect(dk::parse_title("title", t)),
            None => Some(cur.title.clone()),
        };
        let symptoms = match &p.symptoms {
            Some(t) => v.collect(dk::parse_ke_text("symptoms", t, true)),
            None => Some(cur.symptoms.clone()),
        };
        let workaround = match &p.workaround {
            Some(t) => v.collect(dk::parse_ke_text("workaround", t, false)),
            None => Some(cur.workaround.clone()),
        };
        let root_cause = match &p.root_cause {
            Some(t) => v
                .collect(dk::parse_ke_text("root_cause", t.as_deref().unwrap_or(""), false))
                .map(|s| Some(s).filter(|s| !s.is_empty())),
            None => Some(cur.root_cause.clone()),
        };
        let problem = match &p.problem_id {
            Some(t) => v.collect(dk::parse_problem_ref("problem_id", t.as_deref())),
            None => Some(cur.problem_id.clone()),
        };
        v.into_result()?;
        let (Some(title), Some(symptoms), Some(workaround), Some(root_cause), Some(problem)) =
            (title, symptoms, workaround, root_cause, problem)
        else {
            return Err(AppError::internal("validated values missing"));
        };
        let public = p.public.unwrap_or(cur.public);
        let mut changes = Vec::new();
        for (changed, name) in [
            (title != cur.title, "title"),
            (symptoms != cur.symptoms, "symptoms"),
            (workaround != cur.workaround, "workaround"),
            (root_cause != cur.root_cause, "root_cause"),
            (problem != cur.problem_id, "problem_id"),
        ] {
            if changed {
                changes.push(name.to_owned());
            }
        }
        let content_changed = !changes.is_empty();
        if public != cur.public {
            changes.push("public".into());
        }
        if changes.is_empty() {
            drop(tx);
            return Ok(self.known_error_out(cur, Reader { authors: true, staff: true }));
        }
        let publisher = by.allows("kb:publish");
        if public != cur.public && !publisher {
            return Err(AppError::forbidden("making a known error public or internal needs the kb:publish permission"));
        }
        if content_changed && cur.public && !publisher {
            return Err(AppError::forbidden("this known error is public: editing it needs the kb:publish permission"));
        }
        let now = self.now();
        let fields = KnownErrorFields {
            title: &title,
            symptoms: &symptoms,
            workaround: &workaround,
            root_cause: root_cause.as_deref(),
            problem_id: problem.as_deref(),
            public,
        };
        tx.update_known_error(&id, &fields, now).await?;
        let row = tx.get_known_error(&id).await?.ok_or(AppError::NotFound)?;
        self.known_error_revision(&mut tx, ctx, &row, &changes).await?;
        tx.kb_change("known_error", id.as_str(), now).await?;
        self.audit(
            &mut tx,
            ctx,
            "kb.known_error.updated",
            Some(("kb_known_error", id.as_str())),
            serde_json::json!({"changes": changes, "version": row.version}),
        )
        .await?;
        tx.commit().await?;
        self.kb_wake();
        Ok(self.known_error_out(row, Reader { authors: true, staff: true }))
    }

    /// `GET /api/itsm/kb/known-errors/{id}`: requesters see public ones
    /// only; `from_search` records the click.
    pub async fn get_known_error(&self, ctx: &Ctx, id: &str, from_search: Option<&str>) -> AppResult<KnownError> {
        let reader = self.kb_reader(ctx)?;
        let row = self.visible_known_error(ctx, reader, id).await?;
        if let Some(s) = super::search_ref(from_search) {
            self.kb_record_click(ctx, s, "known_error", id).await?;
        }
        Ok(self.known_error_out(row, reader))
    }

    pub(crate) async fn visible_known_error(&self, ctx: &Ctx, reader: Reader, id: &str) -> AppResult<KnownErrorRow> {
        if !tier0_domain::ids::looks_like_id(id) {
            return Err(AppError::NotFound);
        }
        let row = self.db(ctx).read().await?.get_known_error(&RecordId::new(id)).await?.ok_or(AppError::NotFound)?;
        if !reader.staff && !row.public {
            return Err(AppError::NotFound);
        }
        Ok(row)
    }

    /// A known error as the caller may see it (for pages).
    pub async fn known_error_for(&self, ctx: &Ctx, id: &str) -> AppResult<KnownError> {
        let reader = self.kb_reader(ctx)?;
        let row = self.visible_known_error(ctx, reader, id).await?;
        Ok(self.known_error_out(row, reader))
    }

    /// `GET /api/itsm/kb/known-errors`.
    pub async fn list_known_errors(&self, ctx: &Ctx, q: KnownErrorListQuery) -> AppResult<Page<KnownError>> {
        let reader = self.kb_reader(ctx)?;
        let limit = Limit::parse(q.limit)?;
        let before = match q.cursor.as_deref() {
            Some(c) => Some(Cursor::decode(c, 1)?.0.remove(0)),
            None => None,
        };
        let f = KnownErrorFilter {
            public_only: !reader.staff,
            q: super::filter_text(q.q.as_deref(), 200),
            before,
            limit: limit.probe(),
        };
        let mut rows = self.db(ctx).read().await?.list_known_errors(&f).await?;
        let next = if rows.len() as i64 > i64::from(limit.get()) {
            rows.truncate(limit.get() as usize);
            rows.last().map(|a| Cursor(vec![a.id.to_string()]).encode())
        } else {
            None
        };
        Ok(Page { items: rows.into_iter().map(|r| self.known_error_out(r, reader)).collect(), next_cursor: next })
    }

    /// `GET /api/itsm/kb/known-errors/{id}/versions`.
    pub async fn known_error_versions(&self, by: Can<'_, caps::KbWrite>, id: &str) -> AppResult<RevisionList> {
        let id = super::record_id(id)?;
        let mut r = self.db(by.ctx).read().await?;
        r.get_known_error(&id).await?.ok_or(AppError::NotFound)?;
        let items = r.kb_revisions("known_error", &id).await?.into_iter().map(revision_out).collect();
        Ok(RevisionList { items })
    }
}
