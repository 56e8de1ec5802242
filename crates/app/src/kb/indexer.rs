//! Keeping this node's search index in step with the database.
//!
//! At start the index is built from every article and known error. After
//! that a worker polls the change feed (`kb_changes`, written in the same
//! transaction as each edit) every `poll_interval_ms`, or at once when this
//! node made a change, re-reads each changed record and re-indexes it. The
//! [`FeedCursor`] tracks sequence numbers that are skipped because their
//! transaction has not committed yet, so a change committed out of order is
//! still picked up. The same worker writes the batched page views and
//! search log, and forgets feed rows older than a day.

use super::markdown;
use crate::App;
use crate::error::{AppError, AppResult};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use tier0_domain::{RecordId, TenantId};
use tier0_search::feed::FeedCursor;
use tier0_search::{DocKind, IndexDoc, SearchIndex, Synonyms, Visibility};
use tier0_store::kb::{IndexRow, KbChange};

/// Feed numbers below the head looked at when starting.
const START_WINDOW: i64 = 1_000;
/// Rows read per poll.
const POLL_BATCH: i64 = 500;
/// Rows per page when building.
const BUILD_PAGE: i64 = 1_000;
/// How long feed rows are kept.
const FEED_RETENTION_SECS: i64 = 24 * 3600;

/// Views and searches of one tenant to write.
type TenantBatch = (Vec<(String, i64)>, Vec<tier0_store::kb::SearchLog>);

/// What a build did.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildStats {
    pub articles: u64,
    pub known_errors: u64,
    pub load: Duration,
    pub index: Duration,
    pub commit: Duration,
}

/// What a verification found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Records checked.
    pub checked: u64,
    /// Records searched for by their number through the query path.
    pub searched: u64,
    /// Problems, one line each (`KB-12 in tenant …: missing`).
    pub problems: Vec<String>,
}

/// A database row as an index document.
pub fn index_doc(row: IndexRow) -> IndexDoc {
    let (kind, prefix) = if row.kind == "article" { (DocKind::Article, "KB") } else { (DocKind::KnownError, "KE") };
    let visibility = match row.state.as_str() {
        "published" | "public" => Visibility::Public,
        "draft" => Visibility::Draft,
        "internal" => Visibility::Internal,
        _ => Visibility::Archived,
    };
    IndexDoc {
        tenant: row.tenant_id.to_string(),
        kind,
        number: super::number(prefix, row.number),
        id: row.id.into_string(),
        title: row.title,
        body: markdown::plain_text(&row.body_markdown),
        category: row.category,
        tags: row.tags,
        visibility,
        updated_at_ms: row.updated_at.millis(),
    }
}

fn monotonic_ms(origin: Instant) -> i64 {
    origin.elapsed().as_millis() as i64
}

impl App {
    /// Build `into` from every article and known error in the database,
    /// reporting `(done, total)` as it goes. Commits and merges at the end.
    pub async fn kb_build_index(&self, into: &SearchIndex, progress: &dyn Fn(u64, u64)) -> AppResult<BuildStats> {
        let store = &self.0.store;
        let total = store.global_kb_count().await?.max(0) as u64;
        let mut stats = BuildStats::default();
        let mut done = 0u64;
        progress(0, total);
        for kind in ["article", "known_error"] {
            let mut after: Option<(TenantId, String)> = None;
            loop {
                let t = Instant::now();
                let cursor = after.as_ref().map(|(t, id)| (t, id.as_str()));
                let page = if kind == "article" {
                    store.global_kb_article_page(cursor, BUILD_PAGE).await?
                } else {
                    store.global_kb_known_error_page(cursor, BUILD_PAGE).await?
                };
                stats.load += t.elapsed();
                let Some(last) = page.last() else { break };
                after = Some((last.tenant_id.clone(), last.id.to_string()));
                let n = page.len() as u64;
                let t = Instant::now();
                for row in page {
                    into.upsert(&index_doc(row)).map_err(AppError::internal)?;
                }
                stats.index += t.elapsed();
                if kind == "article" {
                    stats.articles += n;
                } else {
                    stats.known_errors += n;
                }
                done += n;
                progress(done, total.max(done));
                if (n as i64) < BUILD_PAGE {
                    break;
                }
            }
        }
        let t = Instant::now();
        into.commit().map_err(AppError::internal)?;
        into.optimize().map_err(AppError::internal)?;
        stats.commit = t.elapsed();
        for (tenant, groups) in store.global_kb_synonyms().await? {
            into.set_synonyms(tenant.as_str(), Synonyms::parse(&groups).ok());
        }
        Ok(stats)
    }

    /// Check `index` against the database: every article and known error
    /// is there with the right title and visibility, and (unless archived)
    /// a search for its number finds it first.
    pub async fn kb_verify_index(&self, index: &SearchIndex, progress: &dyn Fn(u64, u64)) -> AppResult<VerifyReport> {
        let store = &self.0.store;
        let total = store.global_kb_count().await?.max(0) as u64;
        let mut report = VerifyReport::default();
        let authors = tier0_search::Audience { drafts: true, internal: true };
        progress(0, total);
        for kind in ["article", "known_error"] {
            let mut after: Option<(TenantId, String)> = None;
            loop {
                let cursor = after.as_ref().map(|(t, id)| (t, id.as_str()));
                let page = if kind == "article" {
                    store.global_kb_article_page(cursor, BUILD_PAGE).await?
                } else {
                    store.global_kb_known_error_page(cursor, BUILD_PAGE).await?
                };
                let Some(last) = page.last() else { break };
                after = Some((last.tenant_id.clone(), last.id.to_string()));
                let n = page.len() as i64;
                for row in page {
                    let doc = index_doc(row);
                    report.checked += 1;
                    let label = format!("{} in tenant {}", doc.number, doc.tenant);
                    match index.get(&doc.tenant, doc.kind, &doc.id).map_err(AppError::internal)? {
                        None => report.problems.push(format!("{label}: missing from the index")),
                        Some(stored) => {
                            if stored.title != doc.title {
                                report.problems.push(format!("{label}: indexed title differs"));
                            }
                            if stored.visibility != doc.visibility.as_str() {
                                report.problems.push(format!(
                                    "{label}: indexed as {} instead of {}",
                                    stored.visibility,
                                    doc.visibility.as_str()
                                ));
                            }
                        }
                    }
                    if doc.visibility != Visibility::Archived {
                        report.searched += 1;
                        let mut req = tier0_search::SearchRequest::new(&doc.tenant, &doc.number, authors);
                        req.limit = 1;
                        req.snippets = false;
                        let hits = index.search(&req).map_err(AppError::internal)?.hits;
                        if hits.first().map(|h| h.id.as_str()) != Some(doc.id.as_str()) {
                            report.problems.push(format!("{label}: a search for its number does not find it"));
                        }
                    }
                    progress(report.checked, total.max(report.checked));
                }
                if n < BUILD_PAGE {
                    break;
                }
            }
        }
        Ok(report)
    }

    /// Build this node's index and return the feed position to continue
    /// from. Called once at start, before serving.
    pub async fn kb_start(&self) -> AppResult<(FeedCursor, BuildStats)> {
        let origin = Instant::now();
        // Read the feed head before the records: anything committed after
        // this point is in the feed above the head or in a gap below it.
        let (head, seen) = self.0.store.global_kb_feed_head(START_WINDOW).await?;
        let missing: Vec<i64> =
            ((head - START_WINDOW).max(0) + 1..=head).filter(|s| seen.binary_search(s).is_err()).collect();
        let cursor = FeedCursor::new(head, missing, monotonic_ms(origin), self.0.config.kb.feed_grace_ms);
        let stats = self.kb_build_index(&self.0.kb.index, &|_, _| {}).await?;
        tracing::info!(
            articles = stats.articles,
            known_errors = stats.known_errors,
            ms = (stats.load + stats.index + stats.commit).as_millis() as u64,
            "knowledge index built"
        );
        Ok((cursor, stats))
    }

    /// The knowledge worker: index refresh, batched writes, feed cleanup.
    /// Returns after `shutdown` turns true, having written what was pending.
    pub async fn run_kb_worker(self, mut cursor: FeedCursor, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let cfg = self.0.config.kb;
        let origin = Instant::now();
        let poll = Duration::from_millis(cfg.poll_interval_ms.max(10));
        let flush = Duration::from_millis(cfg.flush_interval_ms.max(10));
        let mut last_flush = Instant::now();
        let mut last_purge: Option<Instant> = None;
        loop {
            loop {
                match self.kb_poll(&mut cursor, origin).await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "knowledge index refresh failed; retrying");
                        break;
                    }
                }
            }
            if last_flush.elapsed() >= flush {
                self.kb_flush().await;
                last_flush = Instant::now();
            }
            if last_purge.is_none_or(|t| t.elapsed() >= Duration::from_secs(600)) {
                let before = self.now().minus_secs(FEED_RETENTION_SECS);
                if let Err(e) = self.0.store.global_kb_purge_changes(before).await {
                    tracing::warn!(error = %e, "purging the knowledge change feed failed");
                }
                last_purge = Some(Instant::now());
            }
            let stop = tokio::select! {
                _ = self.0.kb.wake.notified() => false,
                _ = tokio::time::sleep(poll) => false,
                changed = shutdown.changed() => changed.is_err() || *shutdown.borrow(),
            };
            if stop {
                self.kb_flush().await;
                return;
            }
        }
    }

    /// One poll of the change feed. Returns whether a full batch was read
    /// (poll again at once).
    async fn kb_poll(&self, cursor: &mut FeedCursor, origin: Instant) -> AppResult<bool> {
        let store = &self.0.store;
        let mut rows = store.global_kb_changes_after(cursor.high(), POLL_BATCH).await?;
        let full = rows.len() as i64 == POLL_BATCH;
        let gaps = cursor.gaps(200);
        if !gaps.is_empty() {
            rows.extend(store.global_kb_changes_in(&gaps).await?);
        }
        let now = monotonic_ms(origin);
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        let fresh = cursor.observe(&seqs, now);
        if fresh.is_empty() {
            return Ok(full);
        }
        let mut todo: BTreeMap<(String, String, String), ()> = BTreeMap::new();
        for r in rows.into_iter().filter(|r| fresh.contains(&r.seq)) {
            let KbChange { tenant_id, kind, id, .. } = r;
            todo.insert((tenant_id.to_string(), kind, id), ());
        }
        let index = &self.0.kb.index;
        for (tenant, kind, id) in todo.into_keys() {
            let handle = store.tenant(&TenantId::new(tenant.as_str()));
            if kind == "synonyms" {
                let groups = handle.read().await?.kb_synonyms().await?;
                index.set_synonyms(&tenant, groups.and_then(|g| Synonyms::parse(&g).ok()));
                continue;
            }
            let Some(doc_kind) = DocKind::parse(&kind) else { continue };
            match handle.read().await?.kb_index_row(&kind, &RecordId::new(id.as_str())).await? {
                Some(row) => index.upsert(&index_doc(row)).map_err(AppError::internal)?,
                None => index.remove(&tenant, doc_kind, &id).map_err(AppError::internal)?,
            }
        }
        index.commit().map_err(AppError::internal)?;
        Ok(full)
    }

    /// Write counted views and logged searches.
    pub async fn kb_flush(&self) {
        let pending = match self.0.kb.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return,
        };
        let mut by_tenant: HashMap<TenantId, TenantBatch> = HashMap::new();
        for ((t, id), n) in pending.views {
            by_tenant.entry(t).or_default().0.push((id, n));
        }
        for (t, s) in pending.searches {
            by_tenant.entry(t).or_default().1.push(s);
        }
        for (tenant, (views, searches)) in by_tenant {
            let r: AppResult<()> = async {
                let mut tx = self.0.store.tenant(&tenant).write().await?;
                for (id, n) in &views {
                    tx.add_kb_views(id, *n).await?;
                }
                for s in &searches {
                    tx.insert_kb_search(s).await?;
                }
                tx.commit().await?;
                Ok(())
            }
            .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, tenant = %tenant, views = views.len(), searches = searches.len(), "writing knowledge views and searches failed; they are dropped");
            }
        }
    }
}
