//! Relevance: realistic questions against a realistic knowledge base. Each
//! query names the article a person asking it needs; it must be among the
//! first three results. The suite fails below 90 % (it is a quality bar,
//! not a per-query assertion, so one odd phrasing does not block a change
//! that helps the rest; the report lists every miss).

use pulldown_cmark::{Event, Parser};
use serde::Deserialize;
use tier0_search::{Audience, DocKind, IndexDoc, IndexOptions, SearchIndex, SearchRequest, Visibility};

#[derive(Deserialize)]
struct Articles {
    article: Vec<Article>,
}

#[derive(Deserialize)]
struct Article {
    slug: String,
    title: String,
    category: String,
    tags: Vec<String>,
    body: String,
}

#[derive(Deserialize)]
struct Queries {
    query: Vec<Query>,
}

#[derive(Deserialize)]
struct Query {
    q: String,
    expect: String,
    kind: String,
}

fn plain(md: &str) -> String {
    let mut out = String::new();
    for e in Parser::new(md) {
        match e {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => out.push('\n'),
            _ => {}
        }
    }
    out
}

fn load() -> (SearchIndex, Vec<Query>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/relevance");
    let a: Articles = toml::from_str(&std::fs::read_to_string(format!("{dir}/articles.toml")).unwrap()).unwrap();
    let q: Queries = toml::from_str(&std::fs::read_to_string(format!("{dir}/queries.toml")).unwrap()).unwrap();
    assert!(a.article.len() >= 40, "at least 40 articles");
    assert!(q.query.len() >= 40, "at least 40 queries");
    let ix = SearchIndex::new(IndexOptions::default()).unwrap();
    for (i, art) in a.article.iter().enumerate() {
        ix.upsert(&IndexDoc {
            tenant: "t".into(),
            kind: DocKind::Article,
            id: art.slug.clone(),
            number: format!("KB-{}", i + 1),
            title: art.title.clone(),
            body: plain(&art.body),
            category: art.category.clone(),
            tags: art.tags.clone(),
            visibility: Visibility::Public,
            updated_at_ms: 0,
        })
        .unwrap();
    }
    ix.commit().unwrap();
    for query in &q.query {
        assert!(a.article.iter().any(|x| x.slug == query.expect), "unknown slug {}", query.expect);
    }
    (ix, q.query)
}

#[test]
fn expected_article_in_top_three() {
    let (ix, queries) = load();
    let mut misses = Vec::new();
    let mut by_kind: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for q in &queries {
        let mut req = SearchRequest::new("t", &q.q, Audience::default());
        req.limit = 3;
        let r = ix.search(&req).unwrap();
        let got: Vec<&str> = r.hits.iter().map(|h| h.id.as_str()).collect();
        let e = by_kind.entry(q.kind.as_str()).or_default();
        e.1 += 1;
        if got.contains(&q.expect.as_str()) {
            e.0 += 1;
        } else {
            misses.push(format!("  {:?} ({}) expected {} got {:?}", q.q, q.kind, q.expect, got));
        }
    }
    let ok = queries.len() - misses.len();
    let rate = ok as f64 / queries.len() as f64;
    println!("relevance: {ok}/{} = {:.1} % in the top three", queries.len(), rate * 100.0);
    for (k, (hit, n)) in &by_kind {
        println!("  {k:<9} {hit}/{n}");
    }
    if !misses.is_empty() {
        println!("misses:\n{}", misses.join("\n"));
    }
    assert!(rate >= 0.90, "relevance fell below 90 %: {:.1} %\n{}", rate * 100.0, misses.join("\n"));
}
