//! Knowledge search, type-ahead, related articles, the search log and the
//! per-tenant synonyms.

use super::{MAX_PENDING, Reader};
use crate::error::{AppError, AppResult};
use crate::{App, Can, Ctx, caps};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tier0_domain::{RecordId, Timestamp, ValidationError};
pub use tier0_search::DocKind;
use tier0_search::{Hit, SearchRequest, Synonyms};
use tier0_store::kb::{SearchLog, SearchSummary, ZeroResultQuery};

/// `POST /api/itsm/kedb/search`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SearchInput {
    /// Any text: it is split into words, never parsed.
    pub query: String,
    /// 1–50, default 10.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub category: Option<String>,
    /// `article` or `known_error`.
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchItem {
    pub id: String,
    pub kind: DocKind,
    /// `KB-12` / `KE-3`.
    pub number: String,
    pub title: String,
    /// HTML: the escaped passage with matched words in `<mark>`.
    pub snippet: String,
    pub score: f32,
    /// The portal page.
    pub url: String,
    pub category: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchOut {
    pub items: Vec<SearchItem>,
    /// Matches the caller may see, counted up to 1000.
    pub total: u64,
    /// More than `total` matched.
    pub total_capped: bool,
    pub took_ms: f64,
    /// Identifies this search in the log; append `?from_search=<id>` to an
    /// item's `url` (or API `GET`) to record that it was opened.
    pub search_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct SuggestQuery {
    /// What the user has typed so far.
    #[serde(default)]
    pub q: Option<String>,
    /// 1–10, default 5.
    #[serde(default)]
    #[param(minimum = 1, maximum = 10)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub id: String,
    pub kind: DocKind,
    pub number: String,
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuggestOut {
    pub items: Vec<Suggestion>,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct ZeroResultsQuery {
    /// Look back this many days (1–365, default 30).
    #[serde(default)]
    #[param(minimum = 1, maximum = 365)]
    pub days: Option<i64>,
    /// 1–200 (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ZeroResultsOut {
    pub items: Vec<ZeroResultQuery>,
    pub since: Timestamp,
    pub summary: SearchSummary,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SynonymsOut {
    pub groups: Vec<Vec<String>>,
    /// The shipped defaults are in use.
    pub is_default: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SynonymsInput {
    /// Groups of words or phrases that mean the same; `null` restores the
    /// defaults.
    pub groups: Option<Vec<Vec<String>>>,
}

/// Where a search came from (for analytics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchSource {
    Api,
    Portal,
    RequestCheck,
}

impl SearchSource {
    fn as_str(self) -> &'static str {
        match self {
            SearchSource::Api => "api",
            SearchSource::Portal => "portal",
            SearchSource::RequestCheck => "request_check",
        }
    }
}

/// The portal page of a result.
pub fn portal_url(id: &str) -> String {
    format!("/portal/knowledge/{id}")
}

/// The query as stored in the log: control characters (NUL included, which
/// PostgreSQL text cannot hold) become spaces; at most 500 characters.
fn loggable(q: &str) -> String {
    q.chars().map(|c| if c.is_control() { ' ' } else { c }).take(500).collect::<String>().trim().to_owned()
}

fn normalise(q: &str) -> String {
    q.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl App {
    /// `POST /api/itsm/kedb/search` (and the portal's search pages).
    pub async fn kb_search(&self, ctx: &Ctx, input: SearchInput, source: SearchSource) -> AppResult<SearchOut> {
        let reader = self.kb_reader(ctx)?;
        let mut v = ValidationError::new();
        let limit = match input.limit {
            None => 10,
            Some(n) if (1..=tier0_search::MAX_LIMIT as i64).contains(&n) => n as usize,
            Some(_) => {
                v.add("limit", format!("must be between 1 and {}", tier0_search::MAX_LIMIT));
                10
            }
        };
        let kind = match input.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            None => None,
            Some(k) => match DocKind::parse(k) {
                Some(k) => Some(k),
                None => {
                    v.add("kind", "must be article or known_error");
                    None
                }
            },
        };
        let category = input.category.as_deref().map(str::trim).filter(|c| !c.is_empty());
        if category.is_some_and(|c| c.chars().count() > tier0_domain::kb::MAX_CATEGORY) {
            v.add("category", "is too long");
        }
        v.into_result()?;
        let started = Instant::now();
        let mut req = SearchRequest::new(ctx.tenant().id.as_str(), &input.query, reader.audience());
        req.limit = limit;
        req.kind = kind;
        req.category = category;
        let results = self.run_search(&req)?;
        let took_ms = (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
        let search_id = self.log_search(ctx, &input.query, results.total as i64, kind, category, source);
        Ok(SearchOut {
            items: results.hits.into_iter().map(item).collect(),
            total: results.total as u64,
            total_capped: results.total_capped,
            took_ms,
            search_id: search_id.map(|i| i.to_string()),
        })
    }

    /// Run a search. It is about a millisecond of CPU work, done inline:
    /// handing it to another thread would cost more than it saves.
    fn run_search(&self, req: &SearchRequest<'_>) -> AppResult<tier0_search::SearchResults> {
        self.0.kb.index.search(req).map_err(AppError::internal)
    }

    /// Queue a search for the log (written in batches); returns its id.
    fn log_search(
        &self,
        ctx: &Ctx,
        query: &str,
        results: i64,
        kind: Option<DocKind>,
        category: Option<&str>,
        source: SearchSource,
    ) -> Option<RecordId> {
        let query = loggable(query);
        if query.is_empty() {
            return None;
        }
        let id: RecordId = self.new_id();
        let entry = SearchLog {
            id: id.clone(),
            at: self.now(),
            user_id: ctx.signed_in().ok().map(|s| s.user_id().clone()),
            query_norm: normalise(&query),
            query,
            results,
            kind: kind.map(|k| k.as_str().to_owned()),
            category: super::filter_text(category, 60),
            source: source.as_str(),
        };
        if let Ok(mut p) = self.0.kb.pending.lock() {
            if p.searches.len() >= MAX_PENDING {
                p.searches.remove(0);
            }
            p.searches.push((ctx.tenant().id.clone(), entry));
        }
        Some(id)
    }

    /// `GET /api/itsm/kedb/suggest`: articles and known errors matching
    /// what has been typed so far (the last word may be unfinished).
    pub async fn kb_suggest(&self, ctx: &Ctx, q: &SuggestQuery) -> AppResult<SuggestOut> {
        let reader = self.kb_reader(ctx)?;
        let text = q.q.as_deref().unwrap_or("");
        let limit = match q.limit {
            None => 5,
            Some(n) if (1..=10).contains(&n) => n as usize,
            Some(_) => return Err(AppError::field("limit", "must be between 1 and 10")),
        };
        if text.trim().chars().count() < 3 {
            return Ok(SuggestOut { items: Vec::new() });
        }
        let mut req = SearchRequest::new(ctx.tenant().id.as_str(), text, reader.audience());
        req.limit = limit;
        req.snippets = false;
        req.prefix_last = true;
        let r = self.run_search(&req)?;
        Ok(SuggestOut {
            items: r
                .hits
                .into_iter()
                .map(|h| Suggestion {
                    url: portal_url(&h.id),
                    id: h.id,
                    kind: h.kind,
                    number: h.number,
                    title: h.title,
                })
                .collect(),
        })
    }

    /// Other published articles and public known errors about the same
    /// thing as `title` (article pages).
    pub async fn kb_related(
        &self,
        ctx: &Ctx,
        reader: Reader,
        id: &str,
        title: &str,
        limit: usize,
    ) -> AppResult<Vec<SearchItem>> {
        let mut req = SearchRequest::new(ctx.tenant().id.as_str(), title, reader.audience());
        req.limit = limit;
        req.exclude_id = Some(id);
        req.snippets = false;
        Ok(self.run_search(&req)?.hits.into_iter().map(item).collect())
    }

    /// Record that a result was opened from a results page.
    pub async fn kb_record_click(&self, ctx: &Ctx, search_id: &str, kind: &str, doc_id: &str) -> AppResult<()> {
        if !tier0_domain::ids::looks_like_id(search_id) {
            return Ok(());
        }
        let user = ctx.signed_in().ok().map(|s| s.user_id().clone());
        let mut tx = self.db(ctx).write().await?;
        tx.insert_kb_click(search_id, kind, doc_id, user.as_ref(), self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `GET /api/itsm/kedb/zero-results`: what people searched for and did
    /// not find, most frequent first (for KB owners).
    pub async fn kb_zero_results(&self, by: Can<'_, caps::KbWrite>, q: &ZeroResultsQuery) -> AppResult<ZeroResultsOut> {
        let days = match q.days {
            None => 30,
            Some(d) if (1..=365).contains(&d) => d,
            Some(_) => return Err(AppError::field("days", "must be between 1 and 365")),
        };
        let limit = tier0_domain::Limit::parse(q.limit)?;
        let since = self.now().minus_secs(days * 86_400);
        let mut r = self.db(by.ctx).read().await?;
        let items = r.kb_zero_result_queries(since, i64::from(limit.get())).await?;
        let summary = r.kb_search_summary(since).await?;
        Ok(ZeroResultsOut { items, since, summary })
    }

    /// `GET /api/itsm/kb/synonyms`.
    pub async fn kb_synonyms(&self, by: Can<'_, caps::KbWrite>) -> AppResult<SynonymsOut> {
        let own = self.db(by.ctx).read().await?.kb_synonyms().await?;
        Ok(match own {
            Some(groups) => SynonymsOut { groups, is_default: false },
            None => SynonymsOut { groups: Synonyms::defaults().groups(), is_default: true },
        })
    }

    /// `PUT /api/itsm/kb/synonyms` (`kb:publish`: it changes every search).
    pub async fn set_kb_synonyms(&self, by: Can<'_, caps::KbPublish>, input: SynonymsInput) -> AppResult<SynonymsOut> {
        let ctx = by.ctx;
        let groups = match &input.groups {
            Some(g) => {
                let parsed = Synonyms::parse(g)?;
                Some(parsed.groups())
            }
            None => None,
        };
        let now = self.now();
        let mut tx = self.db(ctx).write().await?;
        tx.set_kb_synonyms(groups.as_deref(), Some(by.user_id()), now).await?;
        tx.kb_change("synonyms", "", now).await?;
        self.audit(
            &mut tx,
            ctx,
            "kb.synonyms.updated",
            None,
            serde_json::json!({"groups": groups.as_ref().map(Vec::len)}),
        )
        .await?;
        tx.commit().await?;
        self.kb_wake();
        Ok(match groups {
            Some(groups) => SynonymsOut { groups, is_default: false },
            None => SynonymsOut { groups: Synonyms::defaults().groups(), is_default: true },
        })
    }
}

fn item(h: Hit) -> SearchItem {
    SearchItem {
        url: portal_url(&h.id),
        id: h.id,
        kind: h.kind,
        number: h.number,
        title: h.title,
        snippet: h.snippet,
        score: (h.score * 1000.0).round() / 1000.0,
        category: h.category,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_is_storable() {
        assert_eq!(loggable("  a\0b\nc  "), "a b c");
        assert_eq!(loggable(&"x".repeat(600)).len(), 500);
        assert_eq!(normalise("  Reset   PASSWORD "), "reset password");
    }
}
