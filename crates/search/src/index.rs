//! The index itself: one in-memory tantivy index per process holding every
//! tenant's articles and known errors.
//!
//! Every word is indexed as a *partitioned term*: `<tenant>:<visibility>:
//! <stem>`. A query for a requester asks only for terms of the partition
//! `<tenant>:public:`, so visibility and tenancy are part of the terms
//! themselves: a document the caller may not see cannot even be scored,
//! and collection statistics (how rare a word is) are per tenant instead of
//! leaking across tenants. It also keeps each query a plain union of term
//! queries, which lets tantivy skip most documents (block-max WAND) and
//! answer in well under a millisecond on a hundred thousand articles.
//!
//! Typo tolerance expands a word that is rare or absent in what the caller
//! can see into its neighbours within 1 edit (4–7 letters) or 2 (8 and
//! more), found in the term dictionary with a Levenshtein automaton pinned
//! to the caller's partition. Neighbours count far less than the word
//! itself, and a word many documents contain is taken as typed, so a typo
//! neighbour never outranks an exact hit.

use crate::analyze::{self, bounded_distance, fuzzy_distance, query_words, stems};
use crate::snippet::{Highlighter, snippet};
use crate::synonyms::Synonyms;
use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    Bm25StatisticsProvider, BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, Occur, Query, TermQuery,
};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TERMINATED, TantivyDocument, Term,
};

/// Relative weight of a match in each field: a word in the title (or a
/// tag) says more about what an article is for than the same word in its
/// body; two query words next to each other in a document say more than
/// the same words far apart.
const W_TITLE: f32 = 3.0;
const W_BODY: f32 = 1.0;
const W_PAIR: f32 = 1.0;
/// Multi-word synonyms ("remote access") match as adjacent pairs.
const W_SYNONYM_PAIR: f32 = 2.0;
/// Synonyms count a little less than the words the user typed.
const W_SYNONYM: f32 = 0.7;
/// Typo neighbours of a word nobody's document contains: all we have.
const W_FUZZY_UNKNOWN: f32 = 0.8;
/// Typo neighbours of a word only one or two documents contain: a hint.
const W_FUZZY_RARE: f32 = 0.1;
/// A word in fewer documents than this gets typo neighbours too.
const RARE_BELOW: u64 = 3;
/// Neighbours considered per word.
const MAX_EXPANSIONS: usize = 12;
/// Completions of an unfinished word (type-ahead).
const MAX_COMPLETIONS: usize = 16;
const W_COMPLETION: f32 = 0.8;
/// A word in more than 1/COMMON_SHARE of the bodies of a knowledge base of
/// at least COMMON_MIN_DOCS documents is matched in titles only.
const COMMON_SHARE: u64 = 2;
const COMMON_MIN_DOCS: u64 = 1_000;
/// The same for synonyms, which are a weaker signal: 1/COMMON_SYNONYM_SHARE.
const COMMON_SYNONYM_SHARE: u64 = 10;
/// A query that is exactly a record number ("KB-12").
const W_NUMBER: f32 = 50.0;

/// Largest result page.
pub const MAX_LIMIT: usize = 50;
/// Characters of a snippet.
pub const SNIPPET_CHARS: usize = 180;
/// Matches are counted up to this many; beyond it `total` says "at least".
pub const TOTAL_CAP: usize = 1_000;
/// Body text kept for snippets.
const STORED_BODY_CHARS: usize = 20_000;

/// The tokenizer of the partitioned fields: the analysis already happened.
const WS: &str = "t0_ws";

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index lock poisoned")]
    Poisoned,
}

pub type SearchResult<T> = Result<T, SearchError>;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Article,
    KnownError,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Article => "article",
            DocKind::KnownError => "known_error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "article" => Some(DocKind::Article),
            "known_error" => Some(DocKind::KnownError),
            _ => None,
        }
    }
}

/// Who may see a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// A published article or a public known error: everyone.
    Public,
    /// An unpublished article: authors.
    Draft,
    /// A known error not marked public: staff.
    Internal,
    /// An archived article: nobody searches it.
    Archived,
}

impl Visibility {
    const ALL: [Visibility; 4] = [Visibility::Public, Visibility::Draft, Visibility::Internal, Visibility::Archived];

    fn code(self) -> char {
        match self {
            Visibility::Public => 'p',
            Visibility::Draft => 'd',
            Visibility::Internal => 'i',
            Visibility::Archived => 'a',
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Draft => "draft",
            Visibility::Internal => "internal",
            Visibility::Archived => "archived",
        }
    }
}

/// Which non-public documents the caller may find.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Audience {
    pub drafts: bool,
    pub internal: bool,
}

impl Audience {
    fn visibilities(self) -> Vec<Visibility> {
        let mut v = vec![Visibility::Public];
        if self.drafts {
            v.push(Visibility::Draft);
        }
        if self.internal {
            v.push(Visibility::Internal);
        }
        v
    }
}

/// A document to index.
#[derive(Debug, Clone)]
pub struct IndexDoc {
    pub tenant: String,
    pub kind: DocKind,
    pub id: String,
    /// Human number, e.g. `KB-12`.
    pub number: String,
    pub title: String,
    /// Plain text (markdown already rendered to text).
    pub body: String,
    pub category: String,
    pub tags: Vec<String>,
    pub visibility: Visibility,
    pub updated_at_ms: i64,
}

/// A search.
#[derive(Debug, Clone)]
pub struct SearchRequest<'a> {
    pub tenant: &'a str,
    pub text: &'a str,
    pub limit: usize,
    pub kind: Option<DocKind>,
    pub category: Option<&'a str>,
    pub audience: Audience,
    /// Leave this document out (related articles).
    pub exclude_id: Option<&'a str>,
    /// Build snippets (type-ahead does not need them).
    pub snippets: bool,
    /// Treat the last word as unfinished (type-ahead).
    pub prefix_last: bool,
}

impl<'a> SearchRequest<'a> {
    pub fn new(tenant: &'a str, text: &'a str, audience: Audience) -> Self {
        Self {
            tenant,
            text,
            limit: 10,
            kind: None,
            category: None,
            audience,
            exclude_id: None,
            snippets: true,
            prefix_last: false,
        }
    }
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub kind: DocKind,
    pub id: String,
    pub number: String,
    pub title: String,
    pub category: String,
    /// HTML: escaped text with matches in `<mark>`.
    pub snippet: String,
    pub score: f32,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    /// Matching documents the caller may see, counted up to [`TOTAL_CAP`].
    pub total: usize,
    /// There are more than `total` matches.
    pub total_capped: bool,
}

/// A stored document, as the index has it (for verification).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDoc {
    pub kind: DocKind,
    pub id: String,
    pub number: String,
    pub title: String,
    pub visibility: String,
}

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    part: Field,
    kind: Field,
    category_key: Field,
    id: Field,
    number: Field,
    title: Field,
    body: Field,
    pairs: Field,
    title_text: Field,
    body_text: Field,
    number_text: Field,
    category: Field,
    vis: Field,
    updated: Field,
}

/// Sizing of the index writer.
#[derive(Debug, Clone, Copy)]
pub struct IndexOptions {
    /// Memory the writer buffers before writing a segment.
    pub writer_memory_bytes: usize,
    /// Results of this many distinct searches are kept until the index
    /// changes (0: no cache).
    pub cache_entries: usize,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self { writer_memory_bytes: 30_000_000, cache_entries: 4_096 }
    }
}

/// The knowledge index of this process.
pub struct SearchIndex {
    f: Fields,
    index: Index,
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    synonyms: RwLock<HashMap<String, Arc<Synonyms>>>,
    defaults: Arc<Synonyms>,
    cache: ResultCache,
}

/// Results of recent searches, valid until the index or the synonyms
/// change (the generation moves on). Popular questions ("outlook is down")
/// are asked by many people at once.
struct ResultCache {
    capacity: usize,
    generation: AtomicU64,
    map: Mutex<HashMap<String, (u64, SearchResults)>>,
}

impl ResultCache {
    fn key(req: &SearchRequest<'_>) -> String {
        format!(
            "{}\u{1}{}{}{}{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}",
            req.tenant,
            u8::from(req.audience.drafts),
            u8::from(req.audience.internal),
            u8::from(req.snippets),
            u8::from(req.prefix_last),
            req.limit,
            req.kind.map_or("", DocKind::as_str),
            req.category.unwrap_or(""),
            req.exclude_id.unwrap_or(""),
            analyze::clip(req.text, analyze::MAX_QUERY_CHARS)
        )
    }

    fn get(&self, key: &str) -> Option<SearchResults> {
        if self.capacity == 0 {
            return None;
        }
        let generation = self.generation.load(Ordering::Acquire);
        let map = self.map.lock().ok()?;
        map.get(key).filter(|(g, _)| *g == generation).map(|(_, r)| r.clone())
    }

    fn put(&self, key: String, generation: u64, r: &SearchResults) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= self.capacity {
                let current = self.generation.load(Ordering::Acquire);
                map.retain(|_, (g, _)| *g == current);
                if map.len() >= self.capacity {
                    map.clear();
                }
            }
            map.insert(key, (generation, r.clone()));
        }
    }

    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

fn partitioned() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(WS).set_index_option(IndexRecordOption::WithFreqs),
    )
}

fn doc_key(tenant: &str, kind: DocKind, id: &str) -> String {
    format!("{tenant}/{}/{id}", kind.as_str())
}

/// `<tenant>:<v>` — the partition of a tenant's documents of one visibility.
fn part(tenant: &str, v: Visibility) -> String {
    format!("{tenant}:{}", v.code())
}

/// Prefix every term of the partition starts with.
fn part_prefix(tenant: &str, v: Visibility) -> String {
    format!("{tenant}:{}:", v.code())
}

/// The smallest byte string above every string starting with `p`.
fn prefix_end(p: &str) -> Vec<u8> {
    let mut b = p.as_bytes().to_vec();
    while let Some(last) = b.pop() {
        if last < u8::MAX {
            b.push(last + 1);
            return b;
        }
    }
    vec![u8::MAX]
}

fn push_terms(out: &mut String, prefix: &str, words: impl IntoIterator<Item = impl AsRef<str>>) {
    for w in words {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(prefix);
        out.push_str(w.as_ref());
    }
}

fn pairs_of(stems: &[String]) -> impl Iterator<Item = String> + '_ {
    stems.windows(2).map(|w| format!("{}_{}", w[0], w[1]))
}

impl SearchIndex {
    pub fn new(opts: IndexOptions) -> SearchResult<Self> {
        let mut sb = Schema::builder();
        let f = Fields {
            key: sb.add_text_field("key", STRING),
            part: sb.add_text_field("part", STRING),
            kind: sb.add_text_field("kind", STRING | STORED),
            category_key: sb.add_text_field("category_key", STRING),
            id: sb.add_text_field("id", STRING | STORED),
            number: sb.add_text_field("number", STRING),
            title: sb.add_text_field("title", partitioned()),
            body: sb.add_text_field("body", partitioned()),
            pairs: sb.add_text_field("pairs", partitioned()),
            title_text: sb.add_text_field("title_text", STORED),
            body_text: sb.add_text_field("body_text", STORED),
            number_text: sb.add_text_field("number_text", STORED),
            category: sb.add_text_field("category", STORED),
            vis: sb.add_text_field("vis", STORED),
            updated: sb.add_i64_field("updated", INDEXED | STORED),
        };
        // Small doc-store blocks: reading a hit's stored text decompresses
        // one block, and results are read a few at a time.
        let settings = tantivy::IndexSettings { docstore_blocksize: 4_096, ..tantivy::IndexSettings::default() };
        let index = tantivy::IndexBuilder::new().schema(sb.build()).settings(settings).create_in_ram()?;
        index.tokenizers().register(WS, TextAnalyzer::builder(WhitespaceTokenizer::default()).build());
        let writer = index.writer_with_options(
            tantivy::indexer::IndexWriterOptions::builder()
                .num_worker_threads(1)
                .num_merge_threads(1)
                .memory_budget_per_thread(opts.writer_memory_bytes.max(15_000_000))
                .build(),
        )?;
        let reader =
            index.reader_builder().reload_policy(ReloadPolicy::Manual).doc_store_cache_num_blocks(2_000).try_into()?;
        Ok(Self {
            f,
            index,
            writer: Mutex::new(writer),
            reader,
            synonyms: RwLock::new(HashMap::new()),
            defaults: Arc::new(Synonyms::defaults()),
            cache: ResultCache {
                capacity: opts.cache_entries,
                generation: AtomicU64::new(0),
                map: Mutex::new(HashMap::new()),
            },
        })
    }

    /// Queue a document (replacing any earlier version); visible after
    /// [`SearchIndex::commit`].
    pub fn upsert(&self, d: &IndexDoc) -> SearchResult<()> {
        let f = self.f;
        let key = doc_key(&d.tenant, d.kind, &d.id);
        let prefix = part_prefix(&d.tenant, d.visibility);
        let title_stems = stems(&d.title);
        let tag_stems: Vec<String> = d.tags.iter().flat_map(|t| stems(t)).collect();
        let body_stems = stems(analyze::clip(&d.body, 200_000));
        let mut title = String::new();
        push_terms(&mut title, &prefix, title_stems.iter().chain(&tag_stems));
        let mut body = String::new();
        push_terms(&mut body, &prefix, &body_stems);
        let mut pairs = String::new();
        push_terms(&mut pairs, &prefix, pairs_of(&title_stems).chain(pairs_of(&body_stems)));

        let mut doc = TantivyDocument::new();
        doc.add_text(f.key, &key);
        doc.add_text(f.part, part(&d.tenant, d.visibility));
        doc.add_text(f.kind, d.kind.as_str());
        doc.add_text(f.category_key, d.category.trim().to_lowercase());
        doc.add_text(f.id, &d.id);
        doc.add_text(f.number, format!("{prefix}{}", d.number.to_lowercase()));
        doc.add_text(f.title, title);
        doc.add_text(f.body, body);
        doc.add_text(f.pairs, pairs);
        doc.add_text(f.title_text, &d.title);
        doc.add_text(f.body_text, analyze::clip(&d.body, STORED_BODY_CHARS));
        doc.add_text(f.number_text, &d.number);
        doc.add_text(f.category, &d.category);
        doc.add_text(f.vis, d.visibility.as_str());
        doc.add_i64(f.updated, d.updated_at_ms);
        let w = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        w.delete_term(Term::from_field_text(f.key, &key));
        w.add_document(doc)?;
        Ok(())
    }

    /// Queue the removal of a document.
    pub fn remove(&self, tenant: &str, kind: DocKind, id: &str) -> SearchResult<()> {
        let w = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        w.delete_term(Term::from_field_text(self.f.key, &doc_key(tenant, kind, id)));
        Ok(())
    }

    /// Make queued changes searchable.
    pub fn commit(&self) -> SearchResult<()> {
        let mut w = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        w.commit()?;
        drop(w);
        self.reader.reload()?;
        self.cache.invalidate();
        Ok(())
    }

    /// Merge every segment into one (after a bulk build: fewer segments,
    /// faster queries).
    pub fn optimize(&self) -> SearchResult<()> {
        let ids = self.index.searchable_segment_ids()?;
        if ids.len() > 1 {
            let mut w = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
            let merge = w.merge(&ids);
            drop(w);
            merge.wait()?;
            self.reader.reload()?;
            self.cache.invalidate();
        }
        Ok(())
    }

    /// Use `groups` for `tenant` (`None`: the defaults).
    pub fn set_synonyms(&self, tenant: &str, groups: Option<Synonyms>) {
        if let Ok(mut m) = self.synonyms.write() {
            match groups {
                Some(s) => m.insert(tenant.to_owned(), Arc::new(s)),
                None => m.remove(tenant),
            };
        }
        self.cache.invalidate();
    }

    pub fn synonyms(&self, tenant: &str) -> Arc<Synonyms> {
        self.synonyms.read().ok().and_then(|m| m.get(tenant).cloned()).unwrap_or_else(|| self.defaults.clone())
    }

    /// Documents in the index (all tenants).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Documents of one tenant.
    pub fn count_tenant(&self, tenant: &str) -> SearchResult<usize> {
        let q = BooleanQuery::new(
            Visibility::ALL
                .iter()
                .map(|v| -> (Occur, Box<dyn Query>) {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(
                            Term::from_field_text(self.f.part, &part(tenant, *v)),
                            IndexRecordOption::Basic,
                        )),
                    )
                })
                .collect(),
        );
        Ok(self.reader.searcher().search(&q, &Count)?)
    }

    /// A document as stored, by key.
    pub fn get(&self, tenant: &str, kind: DocKind, id: &str) -> SearchResult<Option<StoredDoc>> {
        let searcher = self.reader.searcher();
        let q = TermQuery::new(Term::from_field_text(self.f.key, &doc_key(tenant, kind, id)), IndexRecordOption::Basic);
        let top = searcher.search(&q, &TopDocs::with_limit(1))?;
        let Some((_, addr)) = top.first() else { return Ok(None) };
        let doc: TantivyDocument = searcher.doc(*addr)?;
        let s = |f: Field| doc.get_first(f).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        Ok(Some(StoredDoc {
            kind: DocKind::parse(&s(self.f.kind)).unwrap_or(kind),
            id: s(self.f.id),
            number: s(self.f.number_text),
            title: s(self.f.title_text),
            visibility: s(self.f.vis),
        }))
    }

    /// Ranked search. Any text is acceptable: it is split into words here
    /// and the query is built from them, never parsed as a query language.
    pub fn search(&self, req: &SearchRequest<'_>) -> SearchResult<SearchResults> {
        let key = ResultCache::key(req);
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit);
        }
        // The generation is read before searching: if the index changes
        // meanwhile, the entry is already stale and never served.
        let generation = self.cache.generation.load(Ordering::Acquire);
        let r = self.search_uncached(req)?;
        self.cache.put(key, generation, &r);
        Ok(r)
    }

    fn search_uncached(&self, req: &SearchRequest<'_>) -> SearchResult<SearchResults> {
        let f = self.f;
        let text = analyze::clip(req.text, analyze::MAX_QUERY_CHARS);
        let words = query_words(text);
        let partial = if req.prefix_last && text.chars().last().is_some_and(char::is_alphanumeric) {
            words.last().map(|w| w.raw.clone())
        } else {
            None
        };
        let searcher = self.reader.searcher();
        let prefixes: Vec<String> =
            req.audience.visibilities().into_iter().map(|v| part_prefix(req.tenant, v)).collect();
        let stats = TenantStats::new(&searcher, f, req.tenant, &req.audience.visibilities(), &prefixes)?;
        let mut b = Builder { searcher: &searcher, prefixes: &prefixes, clauses: Vec::new(), hl: Highlighter::new() };

        if let Some(n) = record_number(text) {
            b.terms(f.number, &n, W_NUMBER)?;
        }
        // The largest document frequency of a query word: the union of
        // should-clauses has at least that many matches.
        let mut at_least = 0u64;
        let mut seen = HashSet::new();
        for w in &words {
            if !seen.insert(w.stem.as_str()) {
                continue;
            }
            let df_title = stats.df_word(f.title, &w.stem)?;
            let df_body = stats.df_word(f.body, &w.stem)?;
            let df = df_title + df_body;
            at_least = at_least.max(df_title).max(df_body);
            if stats.docs >= COMMON_MIN_DOCS && df_body * COMMON_SHARE > stats.docs {
                // In a large knowledge base, a word in a good share of all
                // bodies says little about relevance (its IDF is low) but
                // would cost a walk over much of the index: match it in
                // titles only. Small knowledge bases keep full recall.
                b.terms(f.title, &w.stem, W_TITLE)?;
                b.hl.exact(&w.stem);
            } else {
                b.word(f, &w.stem, 1.0)?;
            }
            let len = w.raw.chars().count();
            let mut d = fuzzy_distance(len);
            if d == 0 && len == 3 && df == 0 {
                // A three-letter word nothing contains ("wfi") is almost
                // certainly a typo; one edit is the only way to help.
                d = 1;
            }
            if d > 0 && df < RARE_BELOW {
                let weight = if df == 0 { W_FUZZY_UNKNOWN } else { W_FUZZY_RARE };
                for (n, dist, _) in self.neighbours(&searcher, &prefixes, &w.stem, d, false, MAX_EXPANSIONS)? {
                    if n != w.stem {
                        b.word(f, &n, weight / f32::from(dist.max(1)))?;
                    }
                }
            }
        }
        for pair in words.windows(2) {
            if pair[0].stem != pair[1].stem {
                b.terms(f.pairs, &format!("{}_{}", pair[0].stem, pair[1].stem), W_PAIR)?;
            }
        }
        if let Some(p) = partial.as_deref().filter(|p| p.chars().count() >= 2) {
            let d = if p.chars().count() >= 5 { 1 } else { 0 };
            for (n, _, _) in self.neighbours(&searcher, &prefixes, p, d, true, MAX_COMPLETIONS)? {
                b.terms(f.title, &n, W_TITLE * W_COMPLETION)?;
                b.terms(f.body, &n, W_BODY * W_COMPLETION)?;
                b.hl.exact(&n);
            }
            b.hl.prefix(p);
        }
        for e in self.synonyms(req.tenant).expand(&words) {
            for alt in e.alternatives {
                if alt.len() == 1 {
                    // A synonym is a secondary signal: when it is common in a
                    // large knowledge base, its title matches are enough.
                    let common = stats.docs >= COMMON_MIN_DOCS
                        && stats.df_word(f.body, &alt[0])? * COMMON_SYNONYM_SHARE > stats.docs;
                    if common {
                        b.terms(f.title, &alt[0], W_TITLE * W_SYNONYM)?;
                        b.hl.exact(&alt[0]);
                    } else {
                        b.word(f, &alt[0], W_SYNONYM)?;
                    }
                } else {
                    let n = (alt.len() - 1) as f32;
                    for pair in alt.windows(2) {
                        b.terms(f.pairs, &format!("{}_{}", pair[0], pair[1]), W_SYNONYM_PAIR * W_SYNONYM / n)?;
                    }
                    for s in &alt {
                        b.hl.exact(s);
                    }
                }
            }
        }
        let Builder { clauses, hl, .. } = b;
        if clauses.is_empty() {
            return Ok(SearchResults::default());
        }
        let mut query: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
        // Rare filters: they make the query an intersection (slower), so
        // they are only added when asked for.
        let mut filters: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let filter_term = |field: Field, v: &str| -> Box<dyn Query> {
            Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic)),
                0.0,
            ))
        };
        if let Some(k) = req.kind {
            filters.push((Occur::Must, filter_term(f.kind, k.as_str())));
        }
        if let Some(c) = req.category.map(|c| c.trim().to_lowercase()).filter(|c| !c.is_empty()) {
            filters.push((Occur::Must, filter_term(f.category_key, &c)));
        }
        if let Some(id) = req.exclude_id {
            filters.push((Occur::MustNot, filter_term(f.id, id)));
        }
        let filtered = !filters.is_empty();
        if filtered {
            filters.push((Occur::Must, query));
            query = Box::new(BooleanQuery::new(filters));
        }
        let limit = req.limit.clamp(1, MAX_LIMIT);
        let top = searcher.search_with_statistics_provider(query.as_ref(), &TopDocs::with_limit(limit), &stats)?;
        // Counting the matches of a common word would cost more than the
        // search; when one word alone is in more documents than the cap,
        // the answer is "more than the cap" without counting. (Document
        // frequencies include replaced versions not yet merged away, so
        // the shortcut needs a margin.)
        let (total, total_capped) = if !filtered && at_least > (TOTAL_CAP as u64) * 2 {
            (TOTAL_CAP, true)
        } else {
            bounded_count(&searcher, query.as_ref(), TOTAL_CAP)?
        };
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            hits.push(self.hit(&searcher, addr, score, req.snippets.then_some(&hl))?);
        }
        Ok(SearchResults { total: total.max(hits.len()), total_capped, hits })
    }

    /// Index words of the caller's partitions within `d` edits of `word`
    /// (or starting within `d` edits of it, for `prefix`), with their
    /// distance and document frequency; closest and most common first.
    fn neighbours(
        &self,
        searcher: &Searcher,
        prefixes: &[String],
        word: &str,
        d: u8,
        prefix: bool,
        max: usize,
    ) -> SearchResult<Vec<(String, u8, u64)>> {
        let builder = lev_builder(d);
        let dfa = if prefix { builder.build_prefix_dfa(word) } else { builder.build_dfa(word) };
        let mut found: HashMap<String, u64> = HashMap::new();
        let fields: &[Field] = if prefix { &[self.f.title] } else { &[self.f.title, self.f.body] };
        for seg in searcher.segment_readers() {
            for field in fields {
                let inv = seg.inverted_index(*field)?;
                for p in prefixes {
                    let aut = PinnedDfa { prefix: p.as_bytes(), dfa: &dfa };
                    let mut st = inv.terms().search(aut).ge(p.as_bytes()).lt(prefix_end(p)).into_stream()?;
                    while st.advance() {
                        let Ok(term) = std::str::from_utf8(&st.key()[p.len()..]) else { continue };
                        *found.entry(term.to_owned()).or_default() += u64::from(st.value().doc_freq);
                    }
                }
            }
        }
        let mut out: Vec<(String, u8, u64)> = found
            .into_iter()
            .map(|(t, df)| {
                let dist = if prefix { 0 } else { bounded_distance(word, &t, d).unwrap_or(d) };
                (t, dist, df)
            })
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        out.truncate(max);
        Ok(out)
    }

    fn hit(&self, searcher: &Searcher, addr: DocAddress, score: f32, hl: Option<&Highlighter>) -> SearchResult<Hit> {
        let f = self.f;
        let doc: TantivyDocument = searcher.doc(addr)?;
        let s = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default();
        Ok(Hit {
            kind: DocKind::parse(s(f.kind)).unwrap_or(DocKind::Article),
            id: s(f.id).to_owned(),
            number: s(f.number_text).to_owned(),
            title: s(f.title_text).to_owned(),
            category: s(f.category).to_owned(),
            snippet: hl.map(|h| snippet(s(f.body_text), h, SNIPPET_CHARS)).unwrap_or_default(),
            score,
            updated_at_ms: doc.get_first(f.updated).and_then(|v| v.as_i64()).unwrap_or(0),
        })
    }
}

/// Collects the should-clauses of a query, one term query per partition.
/// Terms the index does not have are left out: besides being useless, an
/// absent term would stop tantivy from using block-max WAND for the whole
/// query (its empty posting list reads no frequencies).
struct Builder<'a> {
    searcher: &'a Searcher,
    prefixes: &'a [String],
    clauses: Vec<(Occur, Box<dyn Query>)>,
    hl: Highlighter,
}

impl Builder<'_> {
    fn terms(&mut self, field: Field, word: &str, weight: f32) -> SearchResult<()> {
        for p in self.prefixes {
            let t = Term::from_field_text(field, &format!("{p}{word}"));
            if self.searcher.doc_freq(&t)? == 0 {
                continue;
            }
            let q = TermQuery::new(t, IndexRecordOption::WithFreqs);
            self.clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), weight))));
        }
        Ok(())
    }

    /// A word in titles and bodies, highlighted in snippets.
    fn word(&mut self, f: Fields, stem: &str, weight: f32) -> SearchResult<()> {
        self.terms(f.title, stem, W_TITLE * weight)?;
        self.terms(f.body, stem, W_BODY * weight)?;
        self.hl.exact(stem);
        Ok(())
    }
}

/// BM25 statistics of what the caller can see: document frequencies summed
/// over the caller's partitions of one tenant, so ranking does not depend
/// on other tenants' documents.
struct TenantStats<'s> {
    searcher: &'s Searcher,
    prefixes: &'s [String],
    docs: u64,
    tokens_per_doc: HashMap<Field, f64>,
    cache: RefCell<HashMap<(Field, String), u64>>,
}

impl<'s> TenantStats<'s> {
    fn new(
        searcher: &'s Searcher,
        f: Fields,
        tenant: &str,
        vis: &[Visibility],
        prefixes: &'s [String],
    ) -> SearchResult<Self> {
        let mut docs = 0;
        for v in vis {
            docs += searcher.doc_freq(&Term::from_field_text(f.part, &part(tenant, *v)))?;
        }
        let all = searcher.num_docs().max(1) as f64;
        let mut tokens_per_doc = HashMap::new();
        for field in [f.title, f.body, f.pairs, f.number] {
            tokens_per_doc.insert(field, searcher.total_num_tokens(field)? as f64 / all);
        }
        Ok(Self { searcher, prefixes, docs: docs.max(1), tokens_per_doc, cache: RefCell::new(HashMap::new()) })
    }

    /// Documents (of the caller's partitions) with `word` in `field`.
    fn df_word(&self, field: Field, word: &str) -> SearchResult<u64> {
        if let Some(n) = self.cache.borrow().get(&(field, word.to_owned())) {
            return Ok(*n);
        }
        let mut n = 0;
        for p in self.prefixes {
            n += self.searcher.doc_freq(&Term::from_field_text(field, &format!("{p}{word}")))?;
        }
        let n = n.min(self.docs);
        self.cache.borrow_mut().insert((field, word.to_owned()), n);
        Ok(n)
    }
}

impl Bm25StatisticsProvider for TenantStats<'_> {
    /// The index-wide average field length times this audience's document
    /// count (so the average length BM25 derives stays the real one).
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        Ok((self.tokens_per_doc.get(&field).copied().unwrap_or(1.0) * self.docs as f64).ceil() as u64)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let value = term.value();
        let text = value.as_str().unwrap_or_default();
        match self.prefixes.iter().find(|p| text.starts_with(&p[..])) {
            Some(p) => self.df_word(term.field(), &text[p.len()..]).map_err(|e| match e {
                SearchError::Index(e) => e,
                other => tantivy::TantivyError::InternalError(other.to_string()),
            }),
            // Filter terms (kind, category) are not partitioned; they score
            // nothing, but BM25 still wants a frequency no larger than the
            // document count.
            None => Ok(self.searcher.doc_freq(term)?.min(self.docs)),
        }
    }
}

/// Count matches (respecting deletions) up to `cap`.
fn bounded_count(searcher: &Searcher, query: &dyn Query, cap: usize) -> SearchResult<(usize, bool)> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut n = 0;
    for seg in searcher.segment_readers() {
        let mut scorer = weight.scorer(seg, 1.0)?;
        let alive = seg.alive_bitset();
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                n += 1;
                if n > cap {
                    return Ok((cap, true));
                }
            }
            doc = scorer.advance();
        }
    }
    Ok((n, false))
}

fn lev_builder(d: u8) -> &'static LevenshteinAutomatonBuilder {
    static B: [OnceLock<LevenshteinAutomatonBuilder>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let d = d.min(2);
    B[usize::from(d)].get_or_init(|| LevenshteinAutomatonBuilder::new(d, true))
}

/// A Levenshtein automaton that only runs after an exact partition prefix,
/// so an edit can never move a word into another tenant's partition.
struct PinnedDfa<'a> {
    prefix: &'a [u8],
    dfa: &'a DFA,
}

#[derive(Clone, Copy)]
enum PinState {
    Prefix(usize),
    Word(u32),
    Dead,
}

impl tantivy_fst::Automaton for PinnedDfa<'_> {
    type State = PinState;

    fn start(&self) -> PinState {
        if self.prefix.is_empty() { PinState::Word(self.dfa.initial_state()) } else { PinState::Prefix(0) }
    }

    fn is_match(&self, s: &PinState) -> bool {
        matches!(s, PinState::Word(d) if matches!(self.dfa.distance(*d), Distance::Exact(_)))
    }

    fn can_match(&self, s: &PinState) -> bool {
        match s {
            PinState::Prefix(_) => true,
            PinState::Word(d) => *d != SINK_STATE,
            PinState::Dead => false,
        }
    }

    fn accept(&self, s: &PinState, byte: u8) -> PinState {
        match *s {
            PinState::Prefix(i) if self.prefix.get(i) == Some(&byte) => {
                if i + 1 == self.prefix.len() {
                    PinState::Word(self.dfa.initial_state())
                } else {
                    PinState::Prefix(i + 1)
                }
            }
            PinState::Word(d) => PinState::Word(self.dfa.transition(d, byte)),
            _ => PinState::Dead,
        }
    }
}

/// `KB-12`, `kb 12`, `KE12` → `kb-12` / `ke-12`.
fn record_number(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_lowercase();
    let (prefix, rest) = if let Some(r) = t.strip_prefix("kb") {
        ("kb", r)
    } else if let Some(r) = t.strip_prefix("ke") {
        ("ke", r)
    } else {
        return None;
    };
    let digits = rest.trim_start_matches(['-', ' ']);
    (!digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{prefix}-{}", digits.trim_start_matches('0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(tenant: &str, id: &str, title: &str, body: &str, vis: Visibility) -> IndexDoc {
        IndexDoc {
            tenant: tenant.into(),
            kind: DocKind::Article,
            id: id.into(),
            number: format!("KB-{}", id.trim_start_matches('a')),
            title: title.into(),
            body: body.into(),
            category: "Accounts".into(),
            tags: vec![],
            visibility: vis,
            updated_at_ms: 0,
        }
    }

    fn ids(r: &SearchResults) -> Vec<&str> {
        r.hits.iter().map(|h| h.id.as_str()).collect()
    }

    pub(super) fn index() -> SearchIndex {
        let ix = SearchIndex::new(IndexOptions::default()).unwrap();
        for d in [
            doc(
                "t1",
                "a1",
                "Reset your password",
                "Use the self-service page to reset a forgotten password.",
                Visibility::Public,
            ),
            doc(
                "t1",
                "a2",
                "Connect to Wi-Fi in the office",
                "Choose the Corp network and sign in.",
                Visibility::Public,
            ),
            doc("t1", "a3", "Printer jams", "Open tray two and remove the paper from the printers.", Visibility::Draft),
            doc("t2", "a4", "Reset your password (other tenant)", "password password vpn", Visibility::Public),
            doc("t1", "a5", "Passwords for shared mailboxes", "A passport is not a password.", Visibility::Archived),
        ] {
            ix.upsert(&d).unwrap();
        }
        ix.commit().unwrap();
        ix
    }

    fn q<'a>(t: &'a str, aud: Audience) -> SearchRequest<'a> {
        SearchRequest::new("t1", t, aud)
    }

    #[test]
    fn typo_stem_synonym_and_visibility() {
        let ix = index();
        let public = Audience::default();
        assert_eq!(ids(&ix.search(&q("pasword", public)).unwrap()), ["a1"]);
        assert_eq!(ids(&ix.search(&q("wifi", public)).unwrap()), ["a2"]);
        assert_eq!(ids(&ix.search(&q("wfi", public)).unwrap()), ["a2"]);
        assert_eq!(ids(&ix.search(&q("wireless", public)).unwrap()), ["a2"]);
        // Drafts only for authors; archived for nobody; other tenants never.
        assert!(ix.search(&q("printer", public)).unwrap().hits.is_empty());
        let authors = Audience { drafts: true, internal: true };
        assert_eq!(ids(&ix.search(&q("printing", authors)).unwrap()), ["a3"]);
        assert_eq!(ids(&ix.search(&q("password", authors)).unwrap()), ["a1"]);
        assert!(ix.search(&q("vpn", authors)).unwrap().hits.is_empty());
        // A typo is not corrected into another tenant's vocabulary.
        assert!(ix.search(&q("vpm", authors)).unwrap().hits.is_empty());
        // Record numbers.
        assert_eq!(ids(&ix.search(&q("kb-1", public)).unwrap()), ["a1"]);
        assert!(ix.search(&q("kb-4", public)).unwrap().hits.is_empty());
    }

    #[test]
    fn snippet_marks_matches() {
        let ix = index();
        let r = ix.search(&q("forgotten passwords", Audience::default())).unwrap();
        assert!(r.hits[0].snippet.contains("<mark>forgotten</mark> <mark>password</mark>"), "{}", r.hits[0].snippet);
        let r = ix.search(&q("pasword", Audience::default())).unwrap();
        assert!(r.hits[0].snippet.contains("<mark>password</mark>"), "{}", r.hits[0].snippet);
    }

    #[test]
    fn exact_beats_typo_neighbour() {
        let ix = SearchIndex::new(IndexOptions::default()).unwrap();
        ix.upsert(&doc("t", "a1", "Starter forms", "Fill in the form.", Visibility::Public)).unwrap();
        ix.upsert(&doc("t", "a2", "Farm visit", "Go to the farm.", Visibility::Public)).unwrap();
        ix.upsert(&doc("t", "a3", "Fork a repository", "fork fork fork fork.", Visibility::Public)).unwrap();
        ix.commit().unwrap();
        // "form" is rare here (one document), so neighbours are searched
        // too, but far below the exact word.
        let r = ix.search(&SearchRequest::new("t", "form", Audience::default())).unwrap();
        assert_eq!(ids(&r)[0], "a1", "{:?}", ids(&r));
        assert!(r.hits.len() == 3 && r.hits[0].score > 3.0 * r.hits[1].score, "{:?}", r.hits);
    }

    #[test]
    fn totals_and_filters() {
        let ix = SearchIndex::new(IndexOptions::default()).unwrap();
        for i in 0..1_100 {
            let mut d = doc("t", &format!("a{i}"), "Printer help", "printer", Visibility::Public);
            d.category = if i % 2 == 0 { "Printing".into() } else { "Other".into() };
            d.kind = if i % 10 == 0 { DocKind::KnownError } else { DocKind::Article };
            ix.upsert(&d).unwrap();
        }
        ix.commit().unwrap();
        let r = ix.search(&SearchRequest::new("t", "printer", Audience::default())).unwrap();
        assert_eq!((r.total, r.total_capped, r.hits.len()), (TOTAL_CAP, true, 10));
        let mut req = SearchRequest::new("t", "printer", Audience::default());
        req.kind = Some(DocKind::KnownError);
        let r = ix.search(&req).unwrap();
        assert_eq!((r.total, r.total_capped), (110, false));
        assert!(r.hits.iter().all(|h| h.kind == DocKind::KnownError));
        req.category = Some("printing");
        assert_eq!(ix.search(&req).unwrap().total, 110);
        req.kind = None;
        req.category = Some("Other");
        req.exclude_id = Some("a1");
        assert_eq!(ix.search(&req).unwrap().total, 549);
    }

    #[test]
    fn filters_with_other_tenants_documents() {
        let ix = SearchIndex::new(IndexOptions::default()).unwrap();
        let mut d = doc("t", "a1", "Printer error", "printer", Visibility::Public);
        d.kind = DocKind::KnownError;
        ix.upsert(&d).unwrap();
        for i in 0..5 {
            let mut d = doc("other", &format!("b{i}"), "Printer error", "printer", Visibility::Public);
            d.kind = DocKind::KnownError;
            d.category = "Accounts".into();
            ix.upsert(&d).unwrap();
        }
        ix.commit().unwrap();
        let mut req = SearchRequest::new("t", "printer", Audience::default());
        req.kind = Some(DocKind::KnownError);
        req.category = Some("accounts");
        assert_eq!(ids(&ix.search(&req).unwrap()), ["a1"]);
    }

    #[test]
    fn any_text_is_safe() {
        let ix = index();
        for t in [
            "",
            "\"",
            "((a",
            "title:x AND -y",
            "\0",
            "🙂",
            "*?~^\\",
            &"x".repeat(10_000),
            "kb-",
            "kb-00000000000000000000",
            "t1:p:password",
            ":",
        ] {
            let mut r = q(t, Audience::default());
            ix.search(&r).unwrap();
            r.prefix_last = true;
            ix.search(&r).unwrap();
        }
    }

    #[test]
    fn prefix_for_type_ahead() {
        let ix = index();
        let mut r = q("conn", Audience::default());
        r.prefix_last = true;
        assert_eq!(ids(&ix.search(&r).unwrap()), ["a2"]);
        let mut r = q("reset passw", Audience::default());
        r.prefix_last = true;
        assert_eq!(ids(&ix.search(&r).unwrap()), ["a1"]);
    }

    #[test]
    fn cached_results_follow_changes() {
        let ix = index();
        let q1 = q("password", Audience::default());
        let first = ix.search(&q1).unwrap();
        assert_eq!(ids(&ix.search(&q1).unwrap()), ids(&first));
        // Another audience is another entry.
        let authors = Audience { drafts: true, internal: true };
        assert_eq!(ids(&ix.search(&q("printer", authors)).unwrap()), ["a3"]);
        assert!(ix.search(&q("printer", Audience::default())).unwrap().hits.is_empty());
        ix.upsert(&doc("t1", "a9", "Password manager", "", Visibility::Public)).unwrap();
        ix.commit().unwrap();
        assert_eq!(ix.search(&q1).unwrap().hits.len(), 2);
        ix.set_synonyms("t1", Some(Synonyms::parse(&[vec!["password".into(), "network".into()]]).unwrap()));
        assert_eq!(ix.search(&q1).unwrap().hits.len(), 3);
    }

    #[test]
    fn record_numbers() {
        assert_eq!(record_number(" KB-012 ").as_deref(), Some("kb-12"));
        assert_eq!(record_number("ke 7").as_deref(), Some("ke-7"));
        assert_eq!(record_number("kb-x"), None);
        assert_eq!(record_number("kbd"), None);
    }

    #[test]
    fn replace_and_remove() {
        let ix = index();
        ix.upsert(&doc("t1", "a1", "Unlock your account", "", Visibility::Public)).unwrap();
        ix.commit().unwrap();
        assert!(ix.search(&q("password", Audience::default())).unwrap().hits.is_empty());
        assert_eq!(ix.get("t1", DocKind::Article, "a1").unwrap().unwrap().title, "Unlock your account");
        ix.remove("t1", DocKind::Article, "a1").unwrap();
        ix.commit().unwrap();
        assert!(ix.get("t1", DocKind::Article, "a1").unwrap().is_none());
        assert_eq!(ix.count_tenant("t2").unwrap(), 1);
        assert_eq!(ix.count_tenant("t1").unwrap(), 3);
        ix.optimize().unwrap();
        assert_eq!(ix.count_tenant("t1").unwrap(), 3);
    }
}
