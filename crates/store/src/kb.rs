//! Knowledge base and KEDB persistence: articles, known errors, version
//! history, the change feed that keeps search indexes fresh, synonyms, and
//! the reader signals (searches, clicks, feedback, deflections, views).

use crate::Store;
use crate::db::{Q, Row};
use crate::error::StoreResult;
use crate::scoped::{TenantRead, TenantWrite};
use crate::users::like_pattern;
use tier0_domain::{RecordId, TenantId, Timestamp, UserId};

/// An article as stored.
#[derive(Debug, Clone)]
pub struct ArticleRow {
    pub id: RecordId,
    pub number: i64,
    pub title: String,
    pub body_markdown: String,
    pub category: String,
    pub tags: Vec<String>,
    pub status: String,
    pub owner_id: UserId,
    pub owner_name: String,
    pub review_by: Option<Timestamp>,
    pub views: i64,
    pub helpful_yes: i64,
    pub helpful_no: i64,
    pub deflections: i64,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub published_at: Option<Timestamp>,
}

/// A known error as stored.
#[derive(Debug, Clone)]
pub struct KnownErrorRow {
    pub id: RecordId,
    pub number: i64,
    pub title: String,
    pub symptoms: String,
    pub workaround: String,
    pub root_cause: Option<String>,
    pub problem_id: Option<String>,
    pub public: bool,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The editable fields of an article (insert and update write them all).
#[derive(Debug, Clone)]
pub struct ArticleFields<'a> {
    pub title: &'a str,
    pub body_markdown: &'a str,
    pub category: &'a str,
    pub tags: &'a [String],
    pub status: &'a str,
    pub owner_id: &'a UserId,
    pub review_by: Option<Timestamp>,
    pub published_at: Option<Timestamp>,
}

/// The editable fields of a known error.
#[derive(Debug, Clone)]
pub struct KnownErrorFields<'a> {
    pub title: &'a str,
    pub symptoms: &'a str,
    pub workaround: &'a str,
    pub root_cause: Option<&'a str>,
    pub problem_id: Option<&'a str>,
    pub public: bool,
}

/// Article list filters.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    pub owner: Option<UserId>,
    /// Review date before this and not archived.
    pub stale_at: Option<Timestamp>,
    /// Substring of the title, case-insensitive.
    pub q: Option<String>,
    /// Keyset: ids below this (newest first).
    pub before: Option<String>,
    pub limit: i64,
}

/// Known-error list filters.
#[derive(Debug, Clone, Default)]
pub struct KnownErrorFilter {
    pub public_only: bool,
    pub q: Option<String>,
    pub before: Option<String>,
    pub limit: i64,
}

/// One version of a record.
#[derive(Debug, Clone)]
pub struct RevisionRow {
    pub version: i64,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub actor_label: String,
    pub changes: Vec<String>,
    pub snapshot: serde_json::Value,
}

pub struct NewRevision<'a> {
    pub doc_kind: &'a str,
    pub doc_id: &'a RecordId,
    pub version: i64,
    pub actor_id: Option<&'a UserId>,
    pub actor_label: &'a str,
    pub at: Timestamp,
    pub changes: &'a [String],
    pub snapshot: &'a serde_json::Value,
}

/// A logged search.
#[derive(Debug, Clone)]
pub struct SearchLog {
    pub id: RecordId,
    pub at: Timestamp,
    pub user_id: Option<UserId>,
    pub query: String,
    pub query_norm: String,
    pub results: i64,
    pub kind: Option<String>,
    pub category: Option<String>,
    pub source: &'static str,
}

/// A question nobody found an answer to.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ZeroResultQuery {
    pub query: String,
    pub count: i64,
    pub last_at: Timestamp,
}

/// Search activity over a period.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct SearchSummary {
    pub searches: i64,
    pub zero_result: i64,
    pub clicks: i64,
    pub deflections: i64,
}

pub struct NewDeflection<'a> {
    pub id: &'a RecordId,
    pub article_id: &'a RecordId,
    pub user_id: Option<&'a UserId>,
    pub search_id: Option<&'a str>,
    pub query: Option<&'a str>,
    pub source: &'a str,
    pub at: Timestamp,
}

/// What the search index needs of a record.
#[derive(Debug, Clone)]
pub struct IndexRow {
    pub tenant_id: TenantId,
    /// `article` | `known_error`.
    pub kind: &'static str,
    pub id: RecordId,
    pub number: i64,
    pub title: String,
    /// Article: the markdown body. Known error: symptoms and workaround.
    pub body_markdown: String,
    pub category: String,
    pub tags: Vec<String>,
    /// Article status, or `public` / `internal` for known errors.
    pub state: String,
    pub updated_at: Timestamp,
}

/// One change-feed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbChange {
    pub seq: i64,
    pub tenant_id: TenantId,
    pub kind: String,
    pub id: String,
}

macro_rules! article_select {
    () => {
        "SELECT a.id, a.number, a.title, a.body_markdown, a.category, a.tags, a.status, a.owner_id, u.name AS owner_name, \
         a.review_by, a.views, a.helpful_yes, a.helpful_no, a.version, a.created_at, a.updated_at, a.published_at, \
         (SELECT COUNT(*) FROM kb_deflections d WHERE d.tenant_id = a.tenant_id AND d.article_id = a.id) AS deflections \
         FROM kb_articles a JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.owner_id "
    };
}

macro_rules! ke_select {
    () => {
        "SELECT id, number, title, symptoms, workaround, root_cause, problem_id, public, version, created_at, updated_at \
         FROM kb_known_errors "
    };
}

fn tags_from(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

fn tags_to(t: &[String]) -> String {
    serde_json::to_string(t).unwrap_or_else(|_| "[]".into())
}

fn article_from(r: &Row) -> StoreResult<ArticleRow> {
    Ok(ArticleRow {
        id: RecordId::new(r.get::<String>("id")?),
        number: r.get("number")?,
        title: r.get("title")?,
        body_markdown: r.get("body_markdown")?,
        category: r.get("category")?,
        tags: tags_from(&r.get::<String>("tags")?),
        status: r.get("status")?,
        owner_id: UserId::new(r.get::<String>("owner_id")?),
        owner_name: r.get("owner_name")?,
        review_by: r.opt_ts("review_by")?,
        views: r.get("views")?,
        helpful_yes: r.get("helpful_yes")?,
        helpful_no: r.get("helpful_no")?,
        deflections: r.get("deflections")?,
        version: r.get("version")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
        published_at: r.opt_ts("published_at")?,
    })
}

fn ke_from(r: &Row) -> StoreResult<KnownErrorRow> {
    Ok(KnownErrorRow {
        id: RecordId::new(r.get::<String>("id")?),
        number: r.get("number")?,
        title: r.get("title")?,
        symptoms: r.get("symptoms")?,
        workaround: r.get("workaround")?,
        root_cause: r.get("root_cause")?,
        problem_id: r.get("problem_id")?,
        public: r.get("public")?,
        version: r.get("version")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn article_index_row(tenant: TenantId, r: &Row) -> StoreResult<IndexRow> {
    Ok(IndexRow {
        tenant_id: tenant,
        kind: "article",
        id: RecordId::new(r.get::<String>("id")?),
        number: r.get("number")?,
        title: r.get("title")?,
        body_markdown: r.get("body_markdown")?,
        category: r.get("category")?,
        tags: tags_from(&r.get::<String>("tags")?),
        state: r.get("status")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn ke_index_row(tenant: TenantId, r: &Row) -> StoreResult<IndexRow> {
    let symptoms: String = r.get("symptoms")?;
    let workaround: String = r.get("workaround")?;
    Ok(IndexRow {
        tenant_id: tenant,
        kind: "known_error",
        id: RecordId::new(r.get::<String>("id")?),
        number: r.get("number")?,
        title: r.get("title")?,
        // Root causes are for staff and stay out of the index, so a
        // snippet can never show one to a requester.
        body_markdown: format!("{symptoms}\n\n{workaround}"),
        category: "Known errors".to_owned(),
        tags: Vec::new(),
        state: if r.get::<bool>("public")? { "public".into() } else { "internal".into() },
        updated_at: r.ts("updated_at")?,
    })
}

impl TenantRead {
    pub async fn get_kb_article(&mut self, id: &RecordId) -> StoreResult<Option<ArticleRow>> {
        let q = self.q(concat!(article_select!(), "WHERE a.tenant_id = $1 AND a.id = $2")).bind(id);
        self.ex.fetch_optional(q).await?.as_ref().map(article_from).transpose()
    }

    pub async fn list_kb_articles(&mut self, f: &ArticleFilter) -> StoreResult<Vec<ArticleRow>> {
        let mut q: Q = self.q(concat!(article_select!(), "WHERE a.tenant_id = $1"));
        if let Some(s) = &f.status {
            let n = q.push_bind(s.as_str());
            q.push_sql(&format!(" AND a.status = ${n}"));
        }
        if let Some(c) = &f.category {
            let n = q.push_bind(c.as_str());
            q.push_sql(&format!(" AND a.category = ${n}"));
        }
        if let Some(o) = &f.owner {
            let n = q.push_bind(o);
            q.push_sql(&format!(" AND a.owner_id = ${n}"));
        }
        if let Some(at) = f.stale_at {
            let n = q.push_bind(at);
            q.push_sql(&format!(" AND a.review_by < ${n} AND a.status <> 'archived'"));
        }
        if let Some(text) = f.q.as_deref().filter(|s| !s.trim().is_empty()) {
            let n = q.push_bind(like_pattern(text.trim()));
            q.push_sql(&format!(" AND lower(a.title) LIKE ${n} ESCAPE '\\'"));
        }
        if let Some(b) = &f.before {
            let n = q.push_bind(b.as_str());
            q.push_sql(&format!(" AND a.id < ${n}"));
        }
        let n = q.push_bind(f.limit);
        q.push_sql(&format!(" ORDER BY a.id DESC LIMIT ${n}"));
        self.ex.fetch_all(q).await?.iter().map(article_from).collect()
    }

    /// Published articles, most viewed first.
    pub async fn popular_kb_articles(&mut self, limit: i64) -> StoreResult<Vec<ArticleRow>> {
        let q = self
            .q(concat!(
                article_select!(),
                "WHERE a.tenant_id = $1 AND a.status = 'published' ORDER BY a.views DESC, a.id DESC LIMIT $2"
            ))
            .bind(limit);
        self.ex.fetch_all(q).await?.iter().map(article_from).collect()
    }

    /// Categories with their number of articles (published only, or all
    /// but archived).
    pub async fn kb_categories(&mut self, published_only: bool) -> StoreResult<Vec<(String, i64)>> {
        let q = if published_only {
            self.q("SELECT category, COUNT(*) AS n FROM kb_articles WHERE tenant_id = $1 AND status = 'published' GROUP BY category ORDER BY category")
        } else {
            self.q("SELECT category, COUNT(*) AS n FROM kb_articles WHERE tenant_id = $1 AND status <> 'archived' GROUP BY category ORDER BY category")
        };
        self.ex.fetch_all(q).await?.iter().map(|r| Ok((r.get("category")?, r.get("n")?))).collect()
    }

    /// Articles of `owner` past their review date.
    pub async fn count_stale_kb_articles(&mut self, owner: &UserId, now: Timestamp) -> StoreResult<i64> {
        let q = self
            .q("SELECT COUNT(*) AS n FROM kb_articles WHERE tenant_id = $1 AND owner_id = $2 AND review_by < $3 AND status <> 'archived'")
            .bind(owner)
            .bind(now);
        self.ex.fetch_one(q).await?.get("n")
    }

    pub async fn get_known_error(&mut self, id: &RecordId) -> StoreResult<Option<KnownErrorRow>> {
        let q = self.q(concat!(ke_select!(), "WHERE tenant_id = $1 AND id = $2")).bind(id);
        self.ex.fetch_optional(q).await?.as_ref().map(ke_from).transpose()
    }

    pub async fn list_known_errors(&mut self, f: &KnownErrorFilter) -> StoreResult<Vec<KnownErrorRow>> {
        let mut q: Q = self.q(concat!(ke_select!(), "WHERE tenant_id = $1"));
        if f.public_only {
            q.push_sql(" AND public = TRUE");
        }
        if let Some(text) = f.q.as_deref().filter(|s| !s.trim().is_empty()) {
            let n = q.push_bind(like_pattern(text.trim()));
            q.push_sql(&format!(" AND lower(title) LIKE ${n} ESCAPE '\\'"));
        }
        if let Some(b) = &f.before {
            let n = q.push_bind(b.as_str());
            q.push_sql(&format!(" AND id < ${n}"));
        }
        let n = q.push_bind(f.limit);
        q.push_sql(&format!(" ORDER BY id DESC LIMIT ${n}"));
        self.ex.fetch_all(q).await?.iter().map(ke_from).collect()
    }

    /// Versions of a record, newest first.
    pub async fn kb_revisions(&mut self, kind: &str, id: &RecordId) -> StoreResult<Vec<RevisionRow>> {
        let q = self
            .q("SELECT version, at, actor_id, actor_label, changes, snapshot FROM kb_revisions \
                WHERE tenant_id = $1 AND doc_kind = $2 AND doc_id = $3 ORDER BY version DESC")
            .bind(kind)
            .bind(id);
        self.ex
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| {
                Ok(RevisionRow {
                    version: r.get("version")?,
                    at: r.ts("at")?,
                    actor_id: r.get::<Option<String>>("actor_id")?.map(UserId::new),
                    actor_label: r.get("actor_label")?,
                    changes: serde_json::from_str(&r.get::<String>("changes")?).unwrap_or_default(),
                    snapshot: serde_json::from_str(&r.get::<String>("snapshot")?).unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }

    /// The tenant's own synonym groups, if it has any.
    pub async fn kb_synonyms(&mut self) -> StoreResult<Option<Vec<Vec<String>>>> {
        let q = self.q("SELECT groups_json FROM kb_synonyms WHERE tenant_id = $1");
        Ok(self
            .ex
            .fetch_optional(q)
            .await?
            .map(|r| r.get::<String>("groups_json"))
            .transpose()?
            .map(|s| serde_json::from_str(&s).unwrap_or_default()))
    }

    /// Searches that found nothing since `since`, most frequent first.
    pub async fn kb_zero_result_queries(&mut self, since: Timestamp, limit: i64) -> StoreResult<Vec<ZeroResultQuery>> {
        let q = self
            .q("SELECT query_norm, COUNT(*) AS n, MAX(at) AS last_at FROM kb_searches \
                WHERE tenant_id = $1 AND results = 0 AND at >= $2 \
                GROUP BY query_norm ORDER BY n DESC, last_at DESC, query_norm LIMIT $3")
            .bind(since)
            .bind(limit);
        self.ex
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| Ok(ZeroResultQuery { query: r.get("query_norm")?, count: r.get("n")?, last_at: r.ts("last_at")? }))
            .collect()
    }

    pub async fn kb_search_summary(&mut self, since: Timestamp) -> StoreResult<SearchSummary> {
        let one = |sql: &'static str| self.q(sql).bind(since);
        let searches = one("SELECT COUNT(*) AS n FROM kb_searches WHERE tenant_id = $1 AND at >= $2");
        let zero = one("SELECT COUNT(*) AS n FROM kb_searches WHERE tenant_id = $1 AND at >= $2 AND results = 0");
        let clicks = one("SELECT COUNT(*) AS n FROM kb_search_clicks WHERE tenant_id = $1 AND at >= $2");
        let deflections = one("SELECT COUNT(*) AS n FROM kb_deflections WHERE tenant_id = $1 AND at >= $2");
        Ok(SearchSummary {
            searches: self.ex.fetch_one(searches).await?.get("n")?,
            zero_result: self.ex.fetch_one(zero).await?.get("n")?,
            clicks: self.ex.fetch_one(clicks).await?.get("n")?,
            deflections: self.ex.fetch_one(deflections).await?.get("n")?,
        })
    }

    /// Deflections recorded for a search (tests and analytics).
    pub async fn kb_deflections_for_search(&mut self, search_id: &str) -> StoreResult<i64> {
        let q =
            self.q("SELECT COUNT(*) AS n FROM kb_deflections WHERE tenant_id = $1 AND search_id = $2").bind(search_id);
        self.ex.fetch_one(q).await?.get("n")
    }

    /// Logged searches, newest first (tests and analytics).
    pub async fn kb_recent_searches(&mut self, limit: i64) -> StoreResult<Vec<SearchLog>> {
        let q = self
            .q("SELECT id, at, user_id, query, query_norm, results, kind, category, source FROM kb_searches \
                WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2")
            .bind(limit);
        self.ex
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| {
                let source: String = r.get("source")?;
                Ok(SearchLog {
                    id: RecordId::new(r.get::<String>("id")?),
                    at: r.ts("at")?,
                    user_id: r.get::<Option<String>>("user_id")?.map(UserId::new),
                    query: r.get("query")?,
                    query_norm: r.get("query_norm")?,
                    results: r.get("results")?,
                    kind: r.get("kind")?,
                    category: r.get("category")?,
                    source: match source.as_str() {
                        "portal" => "portal",
                        "request_check" => "request_check",
                        _ => "api",
                    },
                })
            })
            .collect()
    }

    /// Clicks recorded for a search.
    pub async fn kb_clicks_for_search(&mut self, search_id: &str) -> StoreResult<Vec<String>> {
        let q = self
            .q("SELECT doc_id FROM kb_search_clicks WHERE tenant_id = $1 AND search_id = $2 ORDER BY at")
            .bind(search_id);
        self.ex.fetch_all(q).await?.iter().map(|r| r.get("doc_id")).collect()
    }

    /// The caller's earlier answer to "was this helpful?".
    pub async fn kb_feedback_of(&mut self, article: &RecordId, user: &UserId) -> StoreResult<Option<bool>> {
        let q = self
            .q("SELECT helpful FROM kb_feedback WHERE tenant_id = $1 AND article_id = $2 AND user_id = $3")
            .bind(article)
            .bind(user);
        self.ex.fetch_optional(q).await?.map(|r| r.get::<bool>("helpful")).transpose()
    }

    /// A record as the index needs it.
    pub async fn kb_index_row(&mut self, kind: &str, id: &RecordId) -> StoreResult<Option<IndexRow>> {
        let tenant = self.tenant.clone();
        match kind {
            "article" => {
                let q = self
                    .q("SELECT id, number, title, body_markdown, category, tags, status, updated_at FROM kb_articles WHERE tenant_id = $1 AND id = $2")
                    .bind(id);
                self.ex.fetch_optional(q).await?.as_ref().map(|r| article_index_row(tenant, r)).transpose()
            }
            "known_error" => {
                let q = self
                    .q("SELECT id, number, title, symptoms, workaround, public, updated_at FROM kb_known_errors WHERE tenant_id = $1 AND id = $2")
                    .bind(id);
                self.ex.fetch_optional(q).await?.as_ref().map(|r| ke_index_row(tenant, r)).transpose()
            }
            _ => Ok(None),
        }
    }
}

impl TenantWrite {
    pub async fn insert_kb_article(
        &mut self,
        id: &RecordId,
        number: i64,
        a: &ArticleFields<'_>,
        created_by: Option<&UserId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO kb_articles (tenant_id, id, number, title, body_markdown, category, tags, status, owner_id, review_by, \
                views, helpful_yes, helpful_no, version, created_by, created_at, updated_at, published_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, 0, 1, $11, $12, $12, $13)")
            .bind(id)
            .bind(number)
            .bind(a.title)
            .bind(a.body_markdown)
            .bind(a.category)
            .bind(tags_to(a.tags))
            .bind(a.status)
            .bind(a.owner_id)
            .bind(a.review_by)
            .bind(created_by)
            .bind(now)
            .bind(a.published_at);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Write every editable field and bump the version; returns the new
    /// version.
    pub async fn update_kb_article(
        &mut self,
        id: &RecordId,
        a: &ArticleFields<'_>,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let q = self
            .q("UPDATE kb_articles SET title = $3, body_markdown = $4, category = $5, tags = $6, status = $7, owner_id = $8, \
                review_by = $9, published_at = $10, updated_at = $11, version = version + 1 \
                WHERE tenant_id = $1 AND id = $2 RETURNING version")
            .bind(id)
            .bind(a.title)
            .bind(a.body_markdown)
            .bind(a.category)
            .bind(tags_to(a.tags))
            .bind(a.status)
            .bind(a.owner_id)
            .bind(a.review_by)
            .bind(a.published_at)
            .bind(now);
        self.ex.fetch_one(q).await?.get("version")
    }

    pub async fn insert_known_error(
        &mut self,
        id: &RecordId,
        number: i64,
        k: &KnownErrorFields<'_>,
        created_by: Option<&UserId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO kb_known_errors (tenant_id, id, number, title, symptoms, workaround, root_cause, problem_id, public, \
                version, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11, $11)")
            .bind(id)
            .bind(number)
            .bind(k.title)
            .bind(k.symptoms)
            .bind(k.workaround)
            .bind(k.root_cause)
            .bind(k.problem_id)
            .bind(k.public)
            .bind(created_by)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn update_known_error(
        &mut self,
        id: &RecordId,
        k: &KnownErrorFields<'_>,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let q = self
            .q("UPDATE kb_known_errors SET title = $3, symptoms = $4, workaround = $5, root_cause = $6, problem_id = $7, \
                public = $8, updated_at = $9, version = version + 1 WHERE tenant_id = $1 AND id = $2 RETURNING version")
            .bind(id)
            .bind(k.title)
            .bind(k.symptoms)
            .bind(k.workaround)
            .bind(k.root_cause)
            .bind(k.problem_id)
            .bind(k.public)
            .bind(now);
        self.ex.fetch_one(q).await?.get("version")
    }

    pub async fn insert_kb_revision(&mut self, r: NewRevision<'_>) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO kb_revisions (tenant_id, doc_kind, doc_id, version, actor_id, actor_label, at, changes, snapshot) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(r.doc_kind)
            .bind(r.doc_id)
            .bind(r.version)
            .bind(r.actor_id)
            .bind(r.actor_label)
            .bind(r.at)
            .bind(serde_json::to_string(r.changes).unwrap_or_else(|_| "[]".into()))
            .bind(r.snapshot.to_string());
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Append to the change feed (in the same transaction as the change).
    pub async fn kb_change(&mut self, kind: &str, id: &str, now: Timestamp) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO kb_changes (tenant_id, doc_kind, doc_id, at) VALUES ($1, $2, $3, $4)")
            .bind(kind)
            .bind(id)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Store the tenant's synonym groups (`None`: back to the defaults).
    pub async fn set_kb_synonyms(
        &mut self,
        groups: Option<&[Vec<String>]>,
        by: Option<&UserId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        match groups {
            None => {
                let q = self.q("DELETE FROM kb_synonyms WHERE tenant_id = $1");
                self.ex.execute(q).await?;
            }
            Some(g) => {
                let q = self
                    .q("INSERT INTO kb_synonyms (tenant_id, groups_json, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
                        ON CONFLICT (tenant_id) DO UPDATE SET groups_json = excluded.groups_json, \
                        updated_by = excluded.updated_by, updated_at = excluded.updated_at")
                    .bind(serde_json::to_string(g).unwrap_or_else(|_| "[]".into()))
                    .bind(by)
                    .bind(now);
                self.ex.execute(q).await?;
            }
        }
        Ok(())
    }

    /// Record (or replace) a reader's answer and recount the article's
    /// helpful / not helpful totals.
    pub async fn upsert_kb_feedback(
        &mut self,
        article: &RecordId,
        user: &UserId,
        helpful: bool,
        comment: Option<&str>,
        search_id: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO kb_feedback (tenant_id, article_id, user_id, helpful, comment, search_id, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                ON CONFLICT (tenant_id, article_id, user_id) DO UPDATE SET helpful = excluded.helpful, \
                comment = excluded.comment, search_id = excluded.search_id, updated_at = excluded.updated_at")
            .bind(article)
            .bind(user)
            .bind(helpful)
            .bind(comment)
            .bind(search_id)
            .bind(now);
        self.ex.execute(q).await?;
        let q = self
            .q("UPDATE kb_articles SET \
                helpful_yes = (SELECT COUNT(*) FROM kb_feedback f WHERE f.tenant_id = $1 AND f.article_id = $2 AND f.helpful = TRUE), \
                helpful_no = (SELECT COUNT(*) FROM kb_feedback f WHERE f.tenant_id = $1 AND f.article_id = $2 AND f.helpful = FALSE) \
                WHERE tenant_id = $1 AND id = $2")
            .bind(article);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn insert_kb_deflection(&mut self, d: NewDeflection<'_>) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO kb_deflections (tenant_id, id, article_id, user_id, search_id, query, source, at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(d.id)
            .bind(d.article_id)
            .bind(d.user_id)
            .bind(d.search_id)
            .bind(d.query)
            .bind(d.source)
            .bind(d.at);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Add counted page views (batched by the caller).
    pub async fn add_kb_views(&mut self, article: &str, n: i64) -> StoreResult<()> {
        let q =
            self.q("UPDATE kb_articles SET views = views + $3 WHERE tenant_id = $1 AND id = $2").bind(article).bind(n);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn insert_kb_search(&mut self, s: &SearchLog) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO kb_searches (tenant_id, id, at, user_id, query, query_norm, results, kind, category, source) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant_id, id) DO NOTHING")
            .bind(&s.id)
            .bind(s.at)
            .bind(s.user_id.as_ref())
            .bind(s.query.as_str())
            .bind(s.query_norm.as_str())
            .bind(s.results)
            .bind(s.kind.as_deref())
            .bind(s.category.as_deref())
            .bind(s.source);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Record that a search result was opened (once per search and result).
    pub async fn insert_kb_click(
        &mut self,
        search_id: &str,
        kind: &str,
        doc_id: &str,
        user: Option<&UserId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO kb_search_clicks (tenant_id, search_id, doc_kind, doc_id, user_id, at) VALUES ($1, $2, $3, $4, $5, $6) \
                ON CONFLICT (tenant_id, search_id, doc_id) DO NOTHING")
            .bind(search_id)
            .bind(kind)
            .bind(doc_id)
            .bind(user)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }
}

impl Store {
    /// Change-feed rows above `after`, oldest first.
    pub async fn global_kb_changes_after(&self, after: i64, limit: i64) -> StoreResult<Vec<KbChange>> {
        let mut c = self.db().reader().await?;
        let rows = c
            .fetch_all(
                Q::new("SELECT seq, tenant_id, doc_kind, doc_id FROM kb_changes WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(after)
                    .bind(limit),
            )
            .await?;
        rows.iter().map(change_from).collect()
    }

    /// Change-feed rows with these sequence numbers (awaited gaps).
    pub async fn global_kb_changes_in(&self, seqs: &[i64]) -> StoreResult<Vec<KbChange>> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Q::new("SELECT seq, tenant_id, doc_kind, doc_id FROM kb_changes WHERE seq IN (");
        for (i, s) in seqs.iter().enumerate() {
            let n = q.push_bind(*s);
            q.push_sql(&format!("{}${n}", if i == 0 { "" } else { ", " }));
        }
        q.push_sql(") ORDER BY seq");
        let mut c = self.db().reader().await?;
        c.fetch_all(q).await?.iter().map(change_from).collect()
    }

    /// The newest sequence number, and which of the `window` numbers below
    /// it exist (the missing ones may belong to uncommitted transactions).
    pub async fn global_kb_feed_head(&self, window: i64) -> StoreResult<(i64, Vec<i64>)> {
        let mut c = self.db().reader().await?;
        let max: Option<i64> = c.fetch_one(Q::new("SELECT MAX(seq) AS m FROM kb_changes")).await?.get("m")?;
        let max = max.unwrap_or(0);
        let rows =
            c.fetch_all(Q::new("SELECT seq FROM kb_changes WHERE seq > $1 ORDER BY seq").bind(max - window)).await?;
        let seen = rows.iter().map(|r| r.get::<i64>("seq")).collect::<StoreResult<Vec<_>>>()?;
        Ok((max, seen))
    }

    /// Forget feed rows older than `before` (every node has long read them).
    pub async fn global_kb_purge_changes(&self, before: Timestamp) -> StoreResult<u64> {
        let mut tx = self.db().writer().await?;
        let n = tx.execute(Q::new("DELETE FROM kb_changes WHERE at < $1").bind(before)).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Articles and known errors across tenants, for an index build.
    pub async fn global_kb_count(&self) -> StoreResult<i64> {
        let mut c = self.db().reader().await?;
        let a: i64 = c.fetch_one(Q::new("SELECT COUNT(*) AS n FROM kb_articles")).await?.get("n")?;
        let k: i64 = c.fetch_one(Q::new("SELECT COUNT(*) AS n FROM kb_known_errors")).await?.get("n")?;
        Ok(a + k)
    }

    /// One page of every tenant's articles in (tenant, id) order.
    pub async fn global_kb_article_page(
        &self,
        after: Option<(&TenantId, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<IndexRow>> {
        let cols =
            "SELECT tenant_id, id, number, title, body_markdown, category, tags, status, updated_at FROM kb_articles";
        let q = match after {
            None => Q::new(format!("{cols} ORDER BY tenant_id, id LIMIT $1")).bind(limit),
            Some((t, id)) => Q::new(format!(
                "{cols} WHERE tenant_id > $1 OR (tenant_id = $1 AND id > $2) ORDER BY tenant_id, id LIMIT $3"
            ))
            .bind(t)
            .bind(id)
            .bind(limit),
        };
        let mut c = self.db().reader().await?;
        c.fetch_all(q)
            .await?
            .iter()
            .map(|r| article_index_row(TenantId::new(r.get::<String>("tenant_id")?), r))
            .collect()
    }

    /// One page of every tenant's known errors in (tenant, id) order.
    pub async fn global_kb_known_error_page(
        &self,
        after: Option<(&TenantId, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<IndexRow>> {
        let cols = "SELECT tenant_id, id, number, title, symptoms, workaround, public, updated_at FROM kb_known_errors";
        let q = match after {
            None => Q::new(format!("{cols} ORDER BY tenant_id, id LIMIT $1")).bind(limit),
            Some((t, id)) => Q::new(format!(
                "{cols} WHERE tenant_id > $1 OR (tenant_id = $1 AND id > $2) ORDER BY tenant_id, id LIMIT $3"
            ))
            .bind(t)
            .bind(id)
            .bind(limit),
        };
        let mut c = self.db().reader().await?;
        c.fetch_all(q).await?.iter().map(|r| ke_index_row(TenantId::new(r.get::<String>("tenant_id")?), r)).collect()
    }

    /// Every tenant's own synonym groups.
    pub async fn global_kb_synonyms(&self) -> StoreResult<Vec<(TenantId, Vec<Vec<String>>)>> {
        let mut c = self.db().reader().await?;
        c.fetch_all(Q::new("SELECT tenant_id, groups_json FROM kb_synonyms"))
            .await?
            .iter()
            .map(|r| {
                Ok((
                    TenantId::new(r.get::<String>("tenant_id")?),
                    serde_json::from_str(&r.get::<String>("groups_json")?).unwrap_or_default(),
                ))
            })
            .collect()
    }
}

fn change_from(r: &Row) -> StoreResult<KbChange> {
    Ok(KbChange {
        seq: r.get("seq")?,
        tenant_id: TenantId::new(r.get::<String>("tenant_id")?),
        kind: r.get("doc_kind")?,
        id: r.get("doc_id")?,
    })
}
