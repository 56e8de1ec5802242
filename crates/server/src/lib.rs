//! Wiring of the `tier0` binary: open the store, build the app and the
//! router, serve, and shut down gracefully. The CLI (`main.rs`) and the
//! test kit both start servers through [`start`], so tests run the same
//! wiring as production.

pub mod cli;
pub mod config;

use anyhow::Context;
use config::ServeSettings;
use std::net::SocketAddr;
use std::sync::Arc;
use tier0_app::{App, AppConfig, HashCost};
use tier0_domain::{Clock, Random};
use tier0_store::{DatabaseUrl, Db, DbOptions, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A last adjustment of the app configuration (tests shorten limits).
pub type ConfigTweak = Box<dyn FnOnce(&mut AppConfig) + Send>;

/// Everything needed to start a server.
pub struct StartOptions {
    pub serve: ServeSettings,
    pub database: DatabaseUrl,
    /// An already connected database (tests use a fresh PostgreSQL schema).
    pub db: Option<Db>,
    pub hash_cost: HashCost,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Random>,
    /// Tune the app configuration before start (tests shorten limits).
    pub tweak: Option<ConfigTweak>,
}

impl StartOptions {
    pub fn new(serve: ServeSettings, database: DatabaseUrl) -> Self {
        Self {
            serve,
            database,
            db: None,
            hash_cost: HashCost::default(),
            clock: Arc::new(tier0_app::system::SystemClock),
            rng: Arc::new(tier0_app::system::SystemRandom),
            tweak: None,
        }
    }
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub app: App,
    /// The admin invite of a default tenant created by this start (never
    /// with `--demo`: the demo admin takes its place).
    pub first_invite: Option<String>,
    /// What `--demo` did (`None` without it).
    pub demo: Option<tier0_app::demo::DemoOutcome>,
    shutdown: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stop accepting, let in-flight requests finish, stop workers.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.handle.await;
        self.app.store().db().close().await;
    }

    /// Wait until the server stops (after [`Running::shutdown_signal`]).
    pub fn shutdown_signal(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }

    pub async fn wait(self) {
        let _ = self.handle.await;
        self.app.store().db().close().await;
    }
}

/// Open the store (running migrations).
pub async fn open_store(database: &DatabaseUrl, max_connections: u32) -> anyhow::Result<Store> {
    let opts = DbOptions { max_connections, ..DbOptions::default() };
    Store::open(database, &opts).await.map_err(|e| anyhow::anyhow!("{e}"))
}

/// The public URL when none is configured: `http://localhost:<port>`.
pub fn default_public_url(listen: SocketAddr, base_domain: &str) -> url::Url {
    let host = if listen.ip().is_loopback() || listen.ip().is_unspecified() {
        base_domain.to_owned()
    } else {
        listen.ip().to_string()
    };
    url::Url::parse(&format!("http://{host}:{}", listen.port()))
        .unwrap_or_else(|_| url::Url::parse("http://localhost").expect("static URL"))
}

/// Start serving on `listener`.
pub async fn start(opts: StartOptions, listener: TcpListener) -> anyhow::Result<Running> {
    let addr = listener.local_addr().context("listener has no address")?;
    let store = match opts.db {
        Some(db) => Store::from_db(db).await.map_err(|e| anyhow::anyhow!("{e}"))?,
        None => open_store(&opts.database, opts.serve.max_connections).await?,
    };
    let s = &opts.serve;
    let public_url = s.public_url.clone().unwrap_or_else(|| default_public_url(addr, &s.base_domain));
    let mut cfg = AppConfig::new(public_url.clone(), s.base_domain.clone());
    cfg.hash_cost = opts.hash_cost;
    cfg.smtp_url = s.smtp_url.clone();
    cfg.mail_from = s.mail_from.clone();
    cfg.anonymous_read = s.anonymous_read;
    if let Some(t) = opts.tweak {
        t(&mut cfg);
    }
    let https = cfg.public_url.scheme() == "https";
    let app = App::new(store, cfg, opts.clock, opts.rng).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut first_invite = app.ensure_default_tenant().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    // Demo data goes in before the knowledge index is built, so it is
    // searchable from the first request.
    let demo = if s.demo {
        let outcome = app.seed_demo().await.map_err(|e| anyhow::anyhow!("adding the demo data: {e}"))?;
        if matches!(outcome, tier0_app::demo::DemoOutcome::Seeded { .. }) {
            // Seeding withdrew it: the demo admin is the first admin.
            first_invite = None;
        }
        Some(outcome)
    } else {
        None
    };

    let web =
        tier0_web::WebConfig { trusted_proxies: s.trusted_proxies.clone(), https, ..tier0_web::WebConfig::default() };
    // The knowledge index is built before serving, so search answers from
    // the first request; the worker then keeps it fresh.
    let (kb_cursor, _) = app.kb_start().await.map_err(|e| anyhow::anyhow!("building the knowledge index: {e}"))?;
    let router = tier0_web::router(app.clone(), web);
    let (tx, rx) = watch::channel(false);
    let mail = tokio::spawn(app.clone().run_mail_worker(rx.clone()));
    let kb = tokio::spawn(app.clone().run_kb_worker(kb_cursor, rx.clone()));
    let mut rx_serve = rx.clone();
    let serve_opts = tier0_web::serve::ServeOptions { header_read_timeout: s.header_timeout, ..Default::default() };
    let app_after = app.clone();
    let handle = tokio::spawn(async move {
        let stop = async move {
            let _ = rx_serve.wait_for(|v| *v).await;
        };
        tier0_web::serve::serve(listener, router, serve_opts, stop).await;
        let _ = mail.await;
        let _ = kb.await;
        // Views and searches of requests that finished while draining.
        app_after.kb_flush().await;
    });
    Ok(Running { addr, app, first_invite, demo, shutdown: tx, handle })
}
