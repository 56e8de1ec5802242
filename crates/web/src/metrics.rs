//! Prometheus metrics: requests by route and status, a latency histogram
//! by route, and database pool gauges (read at scrape time).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Hist {
    counts: Vec<u64>,
    sum: f64,
    total: u64,
}

/// Request counters and latency histograms.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<HashMap<(String, String, u16), u64>>,
    latency: Mutex<HashMap<(String, String), Hist>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_owned(), route.to_owned(), status)).or_default() += 1;
        }
        let secs = elapsed.as_secs_f64();
        if let Ok(mut m) = self.latency.lock() {
            let h = m
                .entry((method.to_owned(), route.to_owned()))
                .or_insert_with(|| Hist { counts: vec![0; BUCKETS.len()], ..Default::default() });
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.total += 1;
        }
    }

    /// The text exposition format.
    pub fn render(&self, pool: tier0_app::PoolStats) -> String {
        let mut out = String::new();
        out.push_str("# HELP tier0_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE tier0_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            let mut rows: Vec<_> = m.iter().collect();
            rows.sort();
            for ((method, route, status), n) in rows {
                let _ = writeln!(
                    out,
                    "tier0_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                    esc(method),
                    esc(route)
                );
            }
        }
        out.push_str("# HELP tier0_http_request_duration_seconds Request latency by method and route.\n");
        out.push_str("# TYPE tier0_http_request_duration_seconds histogram\n");
        if let Ok(m) = self.latency.lock() {
            let mut rows: Vec<_> = m.iter().collect();
            rows.sort_by(|a, b| a.0.cmp(b.0));
            for ((method, route), h) in rows {
                let labels = format!("method=\"{}\",route=\"{}\"", esc(method), esc(route));
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "tier0_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(out, "tier0_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.total);
                let _ = writeln!(out, "tier0_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
                let _ = writeln!(out, "tier0_http_request_duration_seconds_count{{{labels}}} {}", h.total);
            }
        }
        out.push_str(
            "# HELP tier0_db_pool_connections Database pool connections.\n# TYPE tier0_db_pool_connections gauge\n",
        );
        let _ = writeln!(out, "tier0_db_pool_connections{{state=\"open\"}} {}", pool.size);
        let _ = writeln!(out, "tier0_db_pool_connections{{state=\"idle\"}} {}", pool.idle);
        let _ = writeln!(out, "tier0_db_pool_connections{{state=\"max\"}} {}", pool.max);
        out
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
