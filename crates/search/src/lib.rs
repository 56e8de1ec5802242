//! The knowledge-base search index: in-process (one per node), rebuilt from
//! the database at start and refreshed from its change feed ([`feed`]).
//! Queries are built programmatically from analysed words ([`analyze`]),
//! never parsed, so any text a user types is just data. Ranking is BM25
//! with titles weighted above bodies, English stemming, typo tolerance that
//! never lets a typo neighbour outrank an exact hit, and per-tenant
//! [`synonyms`]. Visibility (tenant, publication state) is a filter inside
//! every query.

pub mod analyze;
pub mod feed;
mod index;
pub mod snippet;
pub mod synonyms;

pub use index::{
    Audience, DocKind, Hit, IndexDoc, IndexOptions, MAX_LIMIT, SNIPPET_CHARS, SearchError, SearchIndex, SearchRequest,
    SearchResult, SearchResults, StoredDoc, Visibility,
};
pub use synonyms::Synonyms;
