//! Articles: create, edit, publish, archive, read, list, history.

use super::{Reader, actor, markdown, number};
use crate::auth::users::Page;
use crate::error::{AppError, AppResult};
use crate::{App, Can, Ctx, caps};
use serde::{Deserialize, Deserializer, Serialize};
use tier0_domain::kb::{self as dk, Article, ArticleStatus, Revision};
use tier0_domain::{Cursor, Limit, RecordId, UserId, ValidationError};
use tier0_store::kb::{ArticleFields, ArticleFilter, ArticleRow, NewRevision};

/// `null` → `Some(None)`, absent → `None`.
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

/// A new article.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ArticleInput {
    #[schema(min_length = 1)]
    pub title: String,
    #[serde(default)]
    pub body_markdown: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// `YYYY-MM-DD` or RFC 3339.
    #[serde(default)]
    pub review_by: Option<String>,
    /// Defaults to the author.
    #[serde(default)]
    pub owner_id: Option<String>,
    /// `draft` (default) or, with `kb:publish`, `published`.
    #[serde(default)]
    pub status: Option<String>,
}

/// Changes to an article; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ArticlePatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body_markdown: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// `null` or `""` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub review_by: Option<Option<String>>,
    #[serde(default)]
    pub owner_id: Option<String>,
    /// `draft`, `published` or `archived` (changing it needs `kb:publish`).
    #[serde(default)]
    pub status: Option<String>,
    /// The `version` the edit was based on: 409 `edit_conflict` if the
    /// article changed since.
    #[serde(default)]
    pub if_version: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ArticleListQuery {
    /// `draft`, `published` or `archived` (authors only; readers always
    /// get published articles).
    pub status: Option<String>,
    pub category: Option<String>,
    /// Past their review date (authors only).
    pub stale: Option<bool>,
    /// Owned by the caller (authors only).
    pub mine: Option<bool>,
    /// Substring of the title.
    pub q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Preview of Markdown as readers will see it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PreviewInput {
    pub body_markdown: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PreviewOut {
    pub html: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RevisionList {
    pub items: Vec<Revision>,
}

impl App {
    pub(crate) fn article_out(&self, r: ArticleRow) -> Article {
        let status = ArticleStatus::parse("status", &r.status).unwrap_or(ArticleStatus::Draft);
        Article {
            number: number("KB", r.number),
            body_html: markdown::render(&r.body_markdown),
            stale: dk::is_stale(status, r.review_by, self.now()),
            id: r.id,
            title: r.title,
            body_markdown: r.body_markdown,
            category: r.category,
            tags: r.tags,
            status,
            owner_id: r.owner_id,
            owner_name: r.owner_name,
            review_by: r.review_by,
            views: r.views,
            helpful_yes: r.helpful_yes,
            helpful_no: r.helpful_no,
            deflections: r.deflections,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            published_at: r.published_at,
        }
    }

    /// A list row without the rendered body (lists do not show it).
    fn article_summary(&self, mut r: ArticleRow) -> Article {
        let body = std::mem::take(&mut r.body_markdown);
        let mut a = self.article_out(r);
        a.body_markdown = body;
        a
    }

    /// `POST /api/itsm/kb/articles`.
    pub async fn create_article(&self, by: Can<'_, caps::KbWrite>, input: ArticleInput) -> AppResult<Article> {
        let ctx = by.ctx;
        let mut v = ValidationError::new();
        let title = v.collect(dk::parse_title("title", &input.title));
        let body = v.collect(dk::parse_body("body_markdown", input.body_markdown.as_deref().unwrap_or("")));
        let category = v.collect(dk::parse_category("category", input.category.as_deref()));
        let tags = v.collect(dk::parse_tags("tags", input.tags.as_deref().unwrap_or(&[])));
        let review_by = v.collect(dk::parse_review_by("review_by", input.review_by.as_deref().unwrap_or("")));
        let status = match input.status.as_deref() {
            None | Some("") => Some(ArticleStatus::Draft),
            Some(s) => v.collect(ArticleStatus::parse("status", s)),
        };
        if status == Some(ArticleStatus::Published) && body.as_deref().is_some_and(|b| b.trim().is_empty()) {
            v.add("body_markdown", "is required to publish");
        }
        v.into_result()?;
        let (Some(title), Some(body), Some(category), Some(tags), Some(review_by), Some(status)) =
            (title, body, category, tags, review_by, status)
        else {
            return Err(AppError::internal("validated values missing"));
        };
        if ArticleStatus::change_needs_publish(ArticleStatus::Draft, status) && !by.allows("kb:publish") {
            return Err(AppError::forbidden("publishing an article needs the kb:publish permission"));
        }
        let now = self.now();
        let mut tx = self.db(ctx).write().await?;
        let owner = match input.owner_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => by.user_id().clone(),
            Some(o) if !tier0_domain::ids::looks_like_id(o) => {
                return Err(AppError::field("owner_id", "is not an active user of this organisation"));
            }
            Some(o) => tx
                .get_user(&UserId::new(o))
                .await?
                .filter(|u| u.active)
                .map(|u| u.id)
                .ok_or_else(|| AppError::field("owner_id", "is not an active user of this organisation"))?,
        };
        let id: RecordId = self.new_id();
        let n = tx.next_number("KB").await?;
        let fields = ArticleFields {
            title: &title,
            body_markdown: &body,
            category: &category,
            tags: &tags,
            status: status.as_str(),
            owner_id: &owner,
            review_by,
            published_at: (status == ArticleStatus::Published).then_some(now),
        };
        tx.insert_kb_article(&id, n, &fields, Some(by.user_id()), now).await?;
        let row = tx.get_kb_article(&id).await?.ok_or_else(|| AppError::internal("article vanished"))?;
        self.article_revision(&mut tx, ctx, &row, &["created".to_owned()]).await?;
        tx.kb_change("article", id.as_str(), now).await?;
        self.audit(
            &mut tx,
            ctx,
            "kb.article.created",
            Some(("kb_article", id.as_str())),
            serde_json::json!({"number": number("KB", n), "status": status.as_str()}),
        )
        .await?;
        tx.commit().await?;
        self.kb_wake();
        Ok(self.article_out(row))
    }

    async fn article_revision(
        &self,
        tx: &mut tier0_store::TenantWrite,
        ctx: &Ctx,
        row: &ArticleRow,
        changes: &[String],
    ) -> AppResult<()> {
        let (actor_id, label) = actor(ctx);
        let snapshot = serde_json::json!({
            "title": row.title,
            "body_markdown": row.body_markdown,
            "category": row.category,
            "tags": row.tags,
            "status": row.status,
            "owner_id": row.owner_id,
            "review_by": row.review_by,
        });
        tx.insert_kb_revision(NewRevision {
            doc_kind: "article",
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

    /// `PATCH /api/itsm/kb/articles/{id}`: edit, publish, unpublish,
    /// archive or restore. Changing the status, or editing a published
    /// article, needs `kb:publish`.
    pub async fn update_article(&self, by: Can<'_, caps::KbWrite>, id: &str, p: ArticlePatch) -> AppResult<Article> {
        let ctx = by.ctx;
        let id = super::record_id(id)?;
        let mut tx = self.db(ctx).write().await?;
        let cur = tx.get_kb_article(&id).await?.ok_or(AppError::NotFound)?;
        if let Some(v) = p.if_version
            && v != cur.version
        {
            return Err(AppError::conflict(
                "edit_conflict",
                format!("the article changed since you opened it (now version {}); reload and edit again", cur.version),
            ));
        }
        let cur_status = ArticleStatus::parse("status", &cur.status).unwrap_or(ArticleStatus::Draft);
        let mut v = ValidationError::new();
        let title = match &p.title {
            Some(t) => v.collect(dk::parse_title("title", t)),
            None => Some(cur.title.clone()),
        };
        let body = match &p.body_markdown {
            Some(b) => v.collect(dk::parse_body("body_markdown", b)),
            None => Some(cur.body_markdown.clone()),
        };
        let category = match &p.category {
            Some(c) => v.collect(dk::parse_category("category", Some(c))),
            None => Some(cur.category.clone()),
        };
        let tags = match &p.tags {
            Some(t) => v.collect(dk::parse_tags("tags", t)),
            None => Some(cur.tags.clone()),
        };
        let review_by = match &p.review_by {
            Some(r) => v.collect(dk::parse_review_by("review_by", r.as_deref().unwrap_or(""))),
            None => Some(cur.review_by),
        };
        let status = match p.status.as_deref() {
            Some(s) => v.collect(ArticleStatus::parse("status", s)),
            None => Some(cur_status),
        };
        if status == Some(ArticleStatus::Published) && body.as_deref().is_some_and(|b| b.trim().is_empty()) {
            v.add("body_markdown", "is required to publish");
        }
        v.into_result()?;
        let (Some(title), Some(body), Some(category), Some(tags), Some(review_by), Some(status)) =
            (title, body, category, tags, review_by, status)
        else {
            return Err(AppError::internal("validated values missing"));
        };
        let owner = match p.owner_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => cur.owner_id.clone(),
            Some(o) if o == cur.owner_id.as_str() => cur.owner_id.clone(),
            Some(o) if !tier0_domain::ids::looks_like_id(o) => {
                return Err(AppError::field("owner_id", "is not an active user of this organisation"));
            }
            Some(o) => tx
                .get_user(&UserId::new(o))
                .await?
                .filter(|u| u.active)
                .map(|u| u.id)
                .ok_or_else(|| AppError::field("owner_id", "is not an active user of this organisation"))?,
        };
        let mut changes: Vec<String> = [
            (title != cur.title, "title"),
            (body != cur.body_markdown, "body_markdown"),
            (category != cur.category, "category"),
            (tags != cur.tags, "tags"),
            (review_by != cur.review_by, "review_by"),
            (owner != cur.owner_id, "owner_id"),
        ]
        .into_iter()
        .filter(|(changed, _)| *changed)
        .map(|(_, name)| name.to_owned())
        .collect();
        let content_changed = !changes.is_empty();
        if status != cur_status {
            changes.push("status".into());
        }
        if changes.is_empty() {
            drop(tx);
            return Ok(self.article_out(cur));
        }
        let publisher = by.allows("kb:publish");
        if ArticleStatus::change_needs_publish(cur_status, status) && !publisher {
            return Err(AppError::forbidden("publishing, unpublishing and archiving need the kb:publish permission"));
        }
        if content_changed && cur_status.edit_needs_publish() && !publisher {
            return Err(AppError::forbidden(
                "this article is published: editing it needs the kb:publish permission (ask a publisher, or have it unpublished first)",
            ));
        }
        let now = self.now();
        let published_at = if status == ArticleStatus::Published && cur_status != ArticleStatus::Published {
            Some(now)
        } else {
            cur.published_at
        };
        let fields = ArticleFields {
            title: &title,
            body_markdown: &body,
            category: &category,
            tags: &tags,
            status: status.as_str(),
            owner_id: &owner,
            review_by,
            published_at,
        };
        tx.update_kb_article(&id, &fields, now).await?;
        let row = tx.get_kb_article(&id).await?.ok_or(AppError::NotFound)?;
        self.article_revision(&mut tx, ctx, &row, &changes).await?;
        tx.kb_change("article", id.as_str(), now).await?;
        let action = match (cur_status, status) {
            (a, b) if a == b => "kb.article.updated",
            (_, ArticleStatus::Published) => "kb.article.published",
            (_, ArticleStatus::Archived) => "kb.article.archived",
            (ArticleStatus::Published, ArticleStatus::Draft) => "kb.article.unpublished",
            _ => "kb.article.restored",
        };
        self.audit(
            &mut tx,
            ctx,
            action,
            Some(("kb_article", id.as_str())),
            serde_json::json!({"changes": changes, "version": row.version}),
        )
        .await?;
        tx.commit().await?;
        self.kb_wake();
        Ok(self.article_out(row))
    }

    /// `GET /api/itsm/kb/articles/{id}`: readers see published articles
    /// only (anything else is 404). `from_search` records the click.
    pub async fn get_article(&self, ctx: &Ctx, id: &str, from_search: Option<&str>) -> AppResult<Article> {
        let reader = self.kb_reader(ctx)?;
        let row = self.visible_article(ctx, reader, id).await?;
        if let Some(s) = super::search_ref(from_search) {
            self.kb_record_click(ctx, s, "article", id).await?;
        }
        Ok(self.article_out(row))
    }

    pub(crate) async fn visible_article(&self, ctx: &Ctx, reader: Reader, id: &str) -> AppResult<ArticleRow> {
        if !tier0_domain::ids::looks_like_id(id) {
            return Err(AppError::NotFound);
        }
        let row = self.db(ctx).read().await?.get_kb_article(&RecordId::new(id)).await?.ok_or(AppError::NotFound)?;
        if !reader.authors && row.status != "published" {
            return Err(AppError::NotFound);
        }
        Ok(row)
    }

    /// `GET /api/itsm/kb/articles`.
    pub async fn list_articles(&self, ctx: &Ctx, q: ArticleListQuery) -> AppResult<Page<Article>> {
        let reader = self.kb_reader(ctx)?;
        let limit = Limit::parse(q.limit)?;
        let before = match q.cursor.as_deref() {
            Some(c) => Some(Cursor::decode(c, 1)?.0.remove(0)),
            None => None,
        };
        let mut f = ArticleFilter {
            category: super::filter_text(q.category.as_deref(), 60),
            q: super::filter_text(q.q.as_deref(), 200),
            before,
            limit: limit.probe(),
            ..ArticleFilter::default()
        };
        if reader.authors {
            f.status = match q.status.as_deref().filter(|s| !s.is_empty()) {
                Some(s) => Some(ArticleStatus::parse("status", s)?.as_str().to_owned()),
                None => None,
            };
            if q.stale == Some(true) {
                f.stale_at = Some(self.now());
            }
            if q.mine == Some(true) {
                f.owner = ctx.principal().map(|p| p.user.id.clone());
            }
        } else {
            f.status = Some("published".into());
        }
        let mut rows = self.db(ctx).read().await?.list_kb_articles(&f).await?;
        let next = if rows.len() as i64 > i64::from(limit.get()) {
            rows.truncate(limit.get() as usize);
            rows.last().map(|a| Cursor(vec![a.id.to_string()]).encode())
        } else {
            None
        };
        Ok(Page { items: rows.into_iter().map(|r| self.article_summary(r)).collect(), next_cursor: next })
    }

    /// Most-read published articles (portal home).
    pub async fn popular_articles(&self, ctx: &Ctx, limit: i64) -> AppResult<Vec<Article>> {
        self.kb_reader(ctx)?;
        let rows = self.db(ctx).read().await?.popular_kb_articles(limit.clamp(1, 20)).await?;
        Ok(rows.into_iter().map(|r| self.article_summary(r)).collect())
    }

    /// Categories of the articles the caller can read, with counts.
    pub async fn kb_categories(&self, ctx: &Ctx) -> AppResult<Vec<(String, i64)>> {
        let reader = self.kb_reader(ctx)?;
        Ok(self.db(ctx).read().await?.kb_categories(!reader.authors).await?)
    }

    /// How many of the caller's own articles are past their review date.
    pub async fn my_stale_articles(&self, by: Can<'_, caps::KbWrite>) -> AppResult<i64> {
        Ok(self.db(by.ctx).read().await?.count_stale_kb_articles(by.user_id(), self.now()).await?)
    }

    /// `GET /api/itsm/kb/articles/{id}/versions`.
    pub async fn article_versions(&self, by: Can<'_, caps::KbWrite>, id: &str) -> AppResult<RevisionList> {
        let id = super::record_id(id)?;
        let mut r = self.db(by.ctx).read().await?;
        r.get_kb_article(&id).await?.ok_or(AppError::NotFound)?;
        let items = r.kb_revisions("article", &id).await?.into_iter().map(revision_out).collect();
        Ok(RevisionList { items })
    }

    /// `POST /api/itsm/kb/preview`.
    pub fn preview_markdown(&self, _by: Can<'_, caps::KbWrite>, input: &PreviewInput) -> AppResult<PreviewOut> {
        let body = dk::parse_body("body_markdown", &input.body_markdown)?;
        Ok(PreviewOut { html: markdown::render(&body) })
    }

    /// Count a page view (batched: written by the worker every second).
    pub fn count_article_view(&self, ctx: &Ctx, id: &RecordId) {
        if let Ok(mut p) = self.0.kb.pending.lock() {
            if p.views.len() >= super::MAX_PENDING {
                return;
            }
            *p.views.entry((ctx.tenant().id.clone(), id.to_string())).or_default() += 1;
        }
    }
}

pub(crate) fn revision_out(r: tier0_store::kb::RevisionRow) -> Revision {
    Revision {
        version: r.version,
        at: r.at,
        actor_id: r.actor_id,
        actor: r.actor_label,
        changes: r.changes,
        snapshot: r.snapshot,
    }
}
