//! Knowledge search over HTTP: load N generated articles into a fresh
//! SQLite database, start the real server on it (which builds its index at
//! start, as in production), create a requester, and serve until stopped,
//! so `wrk` can measure throughput and latency.
//!
//! cargo run --release -p tier0 --example kb_bench -- ARTICLES LISTEN READY_FILE [nocache]
//!
//! When ready it writes `URL TOKEN` to READY_FILE (the token is a
//! requester's bearer token) and prints timings and memory.

#[allow(dead_code)]
#[path = "kbgen.rs"]
mod kbgen;

use std::sync::Arc;
use std::time::Instant;
use tier0::config::ServeSettings;
use tier0::{StartOptions, open_store, start};
use tier0_app::auth::accounts::RegisterInput;
use tier0_app::{App, AppConfig};
use tier0_domain::{RecordId, UserId};
use tier0_store::DatabaseUrl;
use tier0_store::kb::ArticleFields;

fn rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let listen: std::net::SocketAddr =
        args.next().and_then(|s| s.parse().ok()).unwrap_or(([127, 0, 0, 1], 8099).into());
    let ready = args.next().unwrap_or_else(|| "kb_bench.ready".into());
    // `nocache`: every search does the full work (no result cache).
    let cache = args.next().as_deref() != Some("nocache");
    let dir = tempfile::tempdir()?;
    let database = DatabaseUrl::sqlite_in(dir.path());

    // Load the articles straight into the database (as an import would).
    let t = Instant::now();
    let store = open_store(&database, 4).await?;
    let public = url::Url::parse(&format!("http://{listen}"))?;
    let app = App::new(
        store,
        AppConfig::new(public, "localhost"),
        Arc::new(tier0_app::system::SystemClock),
        Arc::new(tier0_app::system::SystemRandom),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    app.ensure_default_tenant().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let tenant = app.tenant_by_slug("default").await.map_err(|e| anyhow::anyhow!("{e}"))?.expect("default tenant");
    let ctx = app.context(tenant.clone(), None, false, None, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let admin = app
        .register_first_admin(
            &ctx,
            RegisterInput {
                email: "bench@example.com".into(),
                password: "correct horse battery staple 42".into(),
                name: "Bench Admin".into(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let owner: UserId = admin.user.id.clone();
    let handle = app.store().tenant(&tenant.id);
    let now = app.now();
    let mut i = 0u64;
    while i < n {
        let mut tx = handle.write().await?;
        for _ in 0..1_000.min(n - i) {
            let a = kbgen::article(42, i);
            let id: RecordId = app.new_id();
            let number = tx.next_number("KB").await?;
            let status = if i % 10 == 9 { "draft" } else { "published" };
            let fields = ArticleFields {
                title: &a.title,
                body_markdown: &a.body,
                category: &a.category,
                tags: &a.tags,
                status,
                owner_id: &owner,
                review_by: None,
                published_at: (status == "published").then_some(now),
            };
            tx.insert_kb_article(&id, number, &fields, Some(&owner), now).await?;
            i += 1;
        }
        tx.commit().await?;
    }
    app.store().db().close().await;
    drop(app);
    println!("loaded {n} articles into SQLite in {:.1} s", t.elapsed().as_secs_f64());

    // Start the server: it builds the index from the database before serving.
    let rss0 = rss_mib();
    let settings = ServeSettings {
        listen,
        base_domain: "localhost".into(),
        public_url: None,
        smtp_url: None,
        mail_from: "Tier0 <tier0@localhost>".into(),
        trusted_proxies: Vec::new(),
        anonymous_read: false,
        max_connections: 16,
        header_timeout: std::time::Duration::from_secs(10),
        demo: false,
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let t = Instant::now();
    let mut opts = StartOptions::new(settings, database);
    if !cache {
        opts.tweak = Some(Box::new(|c: &mut AppConfig| c.kb.search_cache_entries = 0));
    }
    let running = start(opts, listener).await?;
    println!(
        "server started in {:.1} s (index built from the database); RSS {:.0} MiB (was {:.0} MiB before start)",
        t.elapsed().as_secs_f64(),
        rss_mib(),
        rss0
    );

    // A requester to search as.
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let inv: serde_json::Value = http
        .post(format!("{base}/api/auth/invite"))
        .bearer_auth(&admin.token)
        .json(&serde_json::json!({"email": "reader@example.com", "role": "requester"}))
        .send()
        .await?
        .json()
        .await?;
    let token = inv["invite_url"].as_str().and_then(|u| u.split("token=").nth(1)).expect("invite token").to_owned();
    let s: serde_json::Value = http
        .post(format!("{base}/api/auth/signup-exchange"))
        .json(&serde_json::json!({"token": token, "password": "correct horse battery staple 42", "name": "Reader"}))
        .send()
        .await?
        .json()
        .await?;
    let reader = s["token"].as_str().expect("session").to_owned();
    let check: serde_json::Value = http
        .post(format!("{base}/api/itsm/kedb/search"))
        .bearer_auth(&reader)
        .json(&serde_json::json!({"query": "outlook"}))
        .send()
        .await?
        .json()
        .await?;
    println!("sanity search: {} results, took {} ms", check["total"], check["took_ms"]);
    std::fs::write(&ready, format!("{base} {reader}\n"))?;
    println!("ready: {base}");

    let stop = running.shutdown_signal();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(true);
    });
    #[cfg(unix)]
    {
        let stop = running.shutdown_signal();
        tokio::spawn(async move {
            if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                term.recv().await;
                let _ = stop.send(true);
            }
        });
    }
    println!("RSS while serving: {:.0} MiB", rss_mib());
    running.wait().await;
    println!("RSS at exit: {:.0} MiB", rss_mib());
    Ok(())
}
