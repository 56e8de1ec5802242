//! Knowledge base and known-error database (SPEC §6): authoring and
//! publishing, search and type-ahead, feedback and deflection, and the
//! background worker that keeps this node's search index fresh.
//!
//! Who sees what is decided here once: requesters and guests read
//! published articles and public known errors; `kb:write` holders also see
//! drafts and internal known errors (as do `problems:read` holders for
//! known errors); anything else is 404.

pub mod articles;
pub mod feedback;
pub mod indexer;
pub mod known_errors;
pub mod markdown;
pub mod search;

use crate::error::{AppError, AppResult};
use crate::{App, Ctx};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tier0_domain::TenantId;
use tier0_search::{Audience, IndexOptions, SearchIndex};
use tier0_store::kb::SearchLog;

/// Timing of the knowledge worker.
#[derive(Debug, Clone, Copy)]
pub struct KbConfig {
    /// How often the change feed is polled (a local change wakes it early).
    pub poll_interval_ms: u64,
    /// How often counted views and logged searches are written.
    pub flush_interval_ms: u64,
    /// How long a skipped feed sequence number is waited for.
    pub feed_grace_ms: i64,
    /// Memory of the index writer.
    pub index_writer_bytes: usize,
    /// Distinct searches whose results are kept until the index changes
    /// (0: none).
    pub search_cache_entries: usize,
}

impl Default for KbConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 250,
            flush_interval_ms: 1_000,
            feed_grace_ms: 120_000,
            index_writer_bytes: 30_000_000,
            search_cache_entries: 4_096,
        }
    }
}

/// Buffered reader signals, written in batches by the worker.
#[derive(Default)]
pub(crate) struct Pending {
    pub(crate) views: HashMap<(TenantId, String), i64>,
    pub(crate) searches: Vec<(TenantId, SearchLog)>,
}

/// Upper bound of buffered entries (if the database is unreachable for a
/// long time, the oldest signals are dropped rather than memory).
pub(crate) const MAX_PENDING: usize = 100_000;

/// This node's knowledge state.
pub struct KbState {
    pub(crate) index: Arc<SearchIndex>,
    pub(crate) wake: tokio::sync::Notify,
    pub(crate) pending: Mutex<Pending>,
}

impl KbState {
    pub(crate) fn new(cfg: &KbConfig) -> AppResult<Self> {
        let index = SearchIndex::new(IndexOptions {
            writer_memory_bytes: cfg.index_writer_bytes,
            cache_entries: cfg.search_cache_entries,
        })
        .map_err(AppError::internal)?;
        Ok(Self { index: Arc::new(index), wake: tokio::sync::Notify::new(), pending: Mutex::new(Pending::default()) })
    }
}

/// What a reader of the knowledge base may see.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    /// Drafts and archived articles (authors).
    pub authors: bool,
    /// Internal known errors, root causes and problem references (staff).
    pub staff: bool,
}

impl Reader {
    pub fn audience(self) -> Audience {
        Audience { drafts: self.authors, internal: self.staff }
    }
}

impl App {
    /// The search index of this node.
    pub fn kb_index(&self) -> &Arc<SearchIndex> {
        &self.0.kb.index
    }

    /// Who may read the knowledge base and how much of it: `itsm:read`
    /// (requesters, the read-only guest) or `kb:write` (authors);
    /// anonymous callers get 401 and everyone else 403.
    pub fn kb_reader(&self, ctx: &Ctx) -> AppResult<Reader> {
        let Some(p) = ctx.principal() else { return Err(AppError::Unauthenticated) };
        let user = ctx.is_signed_in();
        let authors = user && p.permissions.allows("kb:write");
        let staff = authors || (user && p.permissions.allows("problems:read"));
        if authors || staff || p.permissions.allows("itsm:read") {
            Ok(Reader { authors, staff })
        } else if user {
            Err(AppError::forbidden("reading the knowledge base needs the itsm:read permission"))
        } else {
            Err(AppError::Unauthenticated)
        }
    }

    /// Wake this node's index worker (after a local change).
    pub(crate) fn kb_wake(&self) {
        self.0.kb.wake.notify_one();
    }
}

/// `KB-12` / `KE-3`.
pub fn number(prefix: &str, n: i64) -> String {
    format!("{prefix}-{n}")
}

/// The actor's id and label for history rows.
pub(crate) fn actor(ctx: &Ctx) -> (Option<tier0_domain::UserId>, String) {
    match ctx.actor() {
        crate::Actor::User { principal, .. } => (Some(principal.user.id.clone()), principal.user.name.clone()),
        crate::Actor::Guest(_) => (None, "guest".into()),
        crate::Actor::Anonymous => (None, "system".into()),
    }
}

/// A record id from a path: ids that cannot exist are 404 without a query
/// (and never reach the database, which may reject their bytes).
pub(crate) fn record_id(id: &str) -> AppResult<tier0_domain::RecordId> {
    if tier0_domain::ids::looks_like_id(id) { Ok(tier0_domain::RecordId::new(id)) } else { Err(AppError::NotFound) }
}

/// Free text for a filter: trimmed, control characters (NUL included,
/// which PostgreSQL text cannot hold) turned into spaces, at most `max`
/// characters; `None` when nothing is left.
pub fn filter_text(s: Option<&str>, max: usize) -> Option<String> {
    let t: String = s?.chars().map(|c| if c.is_control() { ' ' } else { c }).take(max).collect();
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// The id of a search from a link (`?from_search=`), if it looks like one.
pub fn search_ref(s: Option<&str>) -> Option<&str> {
    s.filter(|s| tier0_domain::ids::looks_like_id(s))
}
