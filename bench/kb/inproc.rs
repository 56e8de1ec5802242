//! In-process knowledge search benchmark: generate N articles, build the
//! index the way a server does at start, then measure search latency.
//!
//! cargo run --release -p tier0-search --example kb_inproc -- [ARTICLES] [SEARCHES]

#[path = "kbgen.rs"]
mod kbgen;

use pulldown_cmark::{Event, Parser};
use std::time::Instant;
use tier0_search::{Audience, DocKind, IndexDoc, IndexOptions, SearchIndex, SearchRequest, Visibility};

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

fn rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time of this thread in nanoseconds: unaffected by other processes
/// competing for the CPU.
fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1).min(sorted.len() - 1)]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let searches: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let seed = 42;

    let t = Instant::now();
    let docs: Vec<IndexDoc> = (0..n)
        .map(|i| {
            let a = kbgen::article(seed, i);
            IndexDoc {
                tenant: "bench".into(),
                kind: DocKind::Article,
                id: format!("A{i:08}"),
                number: format!("KB-{}", i + 1),
                title: a.title,
                body: plain(&a.body),
                category: a.category,
                tags: a.tags,
                visibility: if i % 10 == 9 { Visibility::Draft } else { Visibility::Public },
                updated_at_ms: 0,
            }
        })
        .collect();
    let bytes: usize = docs.iter().map(|d| d.title.len() + d.body.len()).sum();
    println!(
        "generated {n} articles ({:.1} MiB of text) in {:.2} s",
        bytes as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );

    let rss0 = rss_mib();
    let t = Instant::now();
    let ix = SearchIndex::new(IndexOptions { writer_memory_bytes: 100_000_000, cache_entries: 0 }).expect("index");
    for d in &docs {
        ix.upsert(d).expect("upsert");
    }
    ix.commit().expect("commit");
    let built = t.elapsed().as_secs_f64();
    ix.optimize().expect("merge");
    let build = t.elapsed().as_secs_f64();
    println!("index built in {built:.2} s, merged into one segment after {build:.2} s");
    drop(docs);
    let rss1 = rss_mib();
    println!("index build: {build:.2} s ({:.0} docs/s); index docs {}", n as f64 / build, ix.num_docs());
    println!(
        "RSS: before build {rss0:.0} MiB (generated docs in memory), after build and dropping the docs {rss1:.0} MiB"
    );

    // Warm up, then measure each search separately.
    let audience = Audience::default();
    for q in kbgen::QUERIES {
        ix.search(&SearchRequest::new("bench", q, audience)).expect("search");
    }
    let mut lat = Vec::with_capacity(searches);
    let mut hits = 0usize;
    let t = Instant::now();
    for i in 0..searches {
        let q = kbgen::QUERIES[i % kbgen::QUERIES.len()];
        let s = Instant::now();
        let r = ix.search(&SearchRequest::new("bench", q, audience)).expect("search");
        lat.push(s.elapsed().as_secs_f64() * 1000.0);
        hits += r.hits.len();
    }
    let wall = t.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    // The result cache is off: every search below does the full work.
    println!(
        "search (limit 10, snippets, no result cache, one thread): {searches} searches, p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms, {:.0} searches/s, {:.1} hits/search",
        pct(&lat, 0.50),
        pct(&lat, 0.90),
        pct(&lat, 0.99),
        lat[lat.len() - 1],
        searches as f64 / wall,
        hits as f64 / searches as f64
    );
    // CPU time per search (excludes time the thread waited for a CPU:
    // on a shared machine wall-clock percentiles include other people's
    // work).
    let mut cpu = Vec::with_capacity(searches);
    for i in 0..searches {
        let q = kbgen::QUERIES[i % kbgen::QUERIES.len()];
        let s = thread_cpu_ns();
        ix.search(&SearchRequest::new("bench", q, audience)).expect("search");
        cpu.push((thread_cpu_ns() - s) as f64 / 1e6);
    }
    cpu.sort_by(|a, b| a.total_cmp(b));
    println!(
        "search CPU time per search: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        pct(&cpu, 0.50),
        pct(&cpu, 0.90),
        pct(&cpu, 0.99),
        cpu[cpu.len() - 1]
    );
    // Per query, to see which shapes cost most.
    if std::env::var("KB_BENCH_DETAIL").is_ok() {
        for q in kbgen::QUERIES {
            for snippets in [true, false] {
                let mut l: Vec<f64> = (0..200)
                    .map(|_| {
                        let mut req = SearchRequest::new("bench", q, audience);
                        req.snippets = snippets;
                        let s = thread_cpu_ns();
                        ix.search(&req).expect("search");
                        (thread_cpu_ns() - s) as f64 / 1e6
                    })
                    .collect();
                l.sort_by(|a, b| a.total_cmp(b));
                let r = ix.search(&SearchRequest::new("bench", q, audience)).expect("search");
                println!(
                    "  {q:<42} snippets {snippets:<5} cpu p50 {:.3} p99 {:.3} total {}",
                    pct(&l, 0.5),
                    pct(&l, 0.99),
                    r.total
                );
            }
        }
    }
}
