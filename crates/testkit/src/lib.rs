//! Test kit: start the real server on port 0 against a temporary SQLite
//! file or a fresh PostgreSQL schema, and talk to it as a client would.
//!
//! `TIER0_TEST_POSTGRES_URL` enables the PostgreSQL runs; without it they
//! print `SKIPPED: …`, and with `TIER0_TEST_REQUIRE_ALL=1` every skip fails.

pub mod client;
pub mod fixtures;
pub mod isolation;
pub mod smtp;

pub use client::{Client, Resp};
pub use fixtures::TestUser;

use std::sync::Arc;
use tier0::config::ServeSettings;
use tier0::{Running, StartOptions};
use tier0_app::system::{OffsetClock, SystemRandom};
use tier0_app::{App, AppConfig, HashCost};
use tier0_store::{DatabaseUrl, Db, DbOptions};

/// Which database a test app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether missing services must fail instead of skip (CI).
pub fn require_all() -> bool {
    std::env::var("TIER0_TEST_REQUIRE_ALL").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Report a skipped test; panics instead when skips are forbidden.
pub fn skip(why: &str) {
    if require_all() {
        panic!("SKIPPED is not allowed (TIER0_TEST_REQUIRE_ALL=1): {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// Options for [`spawn_app_with`].
pub struct Spawn {
    pub backend: Backend,
    pub smtp_url: Option<String>,
    pub anonymous_read: bool,
    pub tweak: Option<tier0::ConfigTweak>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Start as `tier0 serve --demo`.
    pub demo: bool,
}

impl Spawn {
    pub fn new(backend: Backend) -> Self {
        Self { backend, smtp_url: None, anonymous_read: false, tweak: None, trusted_proxies: Vec::new(), demo: false }
    }

    /// Start with the demo data (`tier0 serve --demo`).
    pub fn demo(mut self) -> Self {
        self.demo = true;
        self
    }

    pub fn smtp(mut self, url: String) -> Self {
        self.smtp_url = Some(url);
        self
    }

    pub fn anonymous_read(mut self) -> Self {
        self.anonymous_read = true;
        self
    }

    pub fn tweak(mut self, f: impl FnOnce(&mut AppConfig) + Send + 'static) -> Self {
        self.tweak = Some(Box::new(f));
        self
    }
}

/// A running test server.
pub struct TestApp {
    pub backend: Backend,
    pub addr: std::net::SocketAddr,
    pub app: App,
    /// Move time forward to test expiry.
    pub clock: Arc<OffsetClock>,
    /// The first-admin link printed at this start, if any.
    pub first_invite: Option<String>,
    /// What `--demo` did at this start (`None` without it).
    pub demo: Option<tier0_app::demo::DemoOutcome>,
    serve: ServeSettings,
    running: Option<Running>,
    _dir: tempfile::TempDir,
    pg_schema: Option<(String, String)>,
}

/// Start on SQLite or PostgreSQL. For PostgreSQL returns `None` (after
/// printing `SKIPPED`) when `TIER0_TEST_POSTGRES_URL` is not set.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(Spawn::new(backend)).await
}

pub async fn spawn_app_with(opts: Spawn) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let (database, db, pg_schema) = match opts.backend {
        Backend::Sqlite => (DatabaseUrl::sqlite_in(dir.path()), None, None),
        Backend::Postgres => {
            let Ok(url) = std::env::var("TIER0_TEST_POSTGRES_URL") else {
                skip("TIER0_TEST_POSTGRES_URL not set");
                return None;
            };
            let schema = fresh_pg_schema(&url).await;
            let db = Db::connect_pg_schema(&url, &schema, &DbOptions { max_connections: 5, ..DbOptions::default() })
                .await
                .expect("connect to the test schema");
            (DatabaseUrl::parse(&url).expect("postgres url"), Some(db), Some((url, schema)))
        }
    };
    let mut serve = test_serve_settings(opts.smtp_url, opts.trusted_proxies, opts.anonymous_read);
    serve.demo = opts.demo;
    let clock = Arc::new(OffsetClock::default());
    let mut start = StartOptions::new(serve.clone(), database);
    start.db = db;
    start.hash_cost = HashCost::test();
    start.clock = clock.clone();
    start.rng = Arc::new(SystemRandom);
    start.tweak = opts.tweak;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let running = tier0::start(start, listener).await.expect("server starts");
    Some(TestApp {
        backend: opts.backend,
        addr: running.addr,
        app: running.app.clone(),
        clock,
        first_invite: running.first_invite.clone(),
        demo: running.demo.clone(),
        serve,
        running: Some(running),
        _dir: dir,
        pg_schema,
    })
}

fn test_serve_settings(
    smtp_url: Option<String>,
    trusted_proxies: Vec<std::net::IpAddr>,
    anonymous_read: bool,
) -> ServeSettings {
    ServeSettings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        base_domain: "localhost".into(),
        public_url: None,
        smtp_url,
        mail_from: "Tier0 Test <tier0@example.com>".into(),
        trusted_proxies,
        anonymous_read,
        max_connections: 5,
        header_timeout: std::time::Duration::from_secs(10),
        demo: false,
    }
}

/// A new, empty schema in the test database (old leftovers are dropped).
async fn fresh_pg_schema(url: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect to TIER0_TEST_POSTGRES_URL");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    // Schemas of crashed runs more than two hours old.
    let stale: Vec<(String,)> =
        sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't0test\\_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
    for (name,) in stale {
        let ts: u64 = name.split('_').nth(1).and_then(|t| t.parse().ok()).unwrap_or(0);
        if ts + 7200 < now {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")))
                .execute(&mut conn)
                .await;
        }
    }
    let rand: u64 = {
        let mut b = [0u8; 8];
        tier0_domain::Random::fill(&SystemRandom, &mut b);
        u64::from_le_bytes(b)
    };
    let schema = format!("t0test_{now}_{rand:x}");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut conn)
        .await
        .expect("create schema");
    schema
}

impl TestApp {
    /// `http://127.0.0.1:<port>` (the default tenant).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// A client of the default tenant.
    pub fn client(&self) -> Client {
        Client::new(self.addr, None)
    }

    /// A client of tenant `slug` (Host `<slug>.localhost`).
    pub fn client_for(&self, slug: &str) -> Client {
        Client::new(self.addr, Some(format!("{slug}.localhost:{}", self.addr.port())))
    }

    /// A second server on the same PostgreSQL schema, as another node of a
    /// scale-out deployment would be (`None` on SQLite, which is
    /// single-node). Shut it down before this app.
    pub async fn spawn_peer(&self) -> Option<TestApp> {
        let (url, schema) = self.pg_schema.clone()?;
        let db = Db::connect_pg_schema(&url, &schema, &DbOptions { max_connections: 5, ..DbOptions::default() })
            .await
            .expect("connect the peer to the test schema");
        let clock = Arc::new(OffsetClock::default());
        let mut start = StartOptions::new(
            test_serve_settings(None, Vec::new(), false),
            DatabaseUrl::parse(&url).expect("postgres url"),
        );
        start.db = Some(db);
        start.hash_cost = HashCost::test();
        start.clock = clock.clone();
        start.rng = Arc::new(SystemRandom);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let running = tier0::start(start, listener).await.expect("peer starts");
        Some(TestApp {
            backend: Backend::Postgres,
            addr: running.addr,
            app: running.app.clone(),
            clock,
            first_invite: running.first_invite.clone(),
            demo: running.demo.clone(),
            serve: test_serve_settings(None, Vec::new(), false),
            running: Some(running),
            _dir: tempfile::tempdir().expect("temp dir"),
            pg_schema: None,
        })
    }

    /// Stop the server and start it again on the same database with the
    /// same settings (not the config tweak), as an operator restarting
    /// `tier0 serve` would. The new server listens on a new port.
    pub async fn restart(self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    /// [`TestApp::restart`] with changed settings (e.g. `s.demo = true`).
    pub async fn restart_with(mut self, change: impl FnOnce(&mut ServeSettings)) -> TestApp {
        change(&mut self.serve);
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        let (database, db) = match &self.pg_schema {
            None => (DatabaseUrl::sqlite_in(self._dir.path()), None),
            Some((url, schema)) => {
                let db = Db::connect_pg_schema(url, schema, &DbOptions { max_connections: 5, ..DbOptions::default() })
                    .await
                    .expect("reconnect to the test schema");
                (DatabaseUrl::parse(url).expect("postgres url"), Some(db))
            }
        };
        let clock = Arc::new(OffsetClock::default());
        let mut start = StartOptions::new(self.serve.clone(), database);
        start.db = db;
        start.hash_cost = HashCost::test();
        start.clock = clock.clone();
        start.rng = Arc::new(SystemRandom);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let running = tier0::start(start, listener).await.expect("server restarts");
        self.addr = running.addr;
        self.app = running.app.clone();
        self.clock = clock;
        self.first_invite = running.first_invite.clone();
        self.demo = running.demo.clone();
        self.running = Some(running);
        self
    }

    /// Stop the server (draining) and drop a PostgreSQL test schema.
    pub async fn shutdown(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        if let Some((url, schema)) = self.pg_schema.take() {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

/// Define a test that runs once on SQLite and once on PostgreSQL:
/// `dual_test!(my_test);` for `async fn my_test(app: &TestApp)`.
/// An optional second argument builds the [`Spawn`] options from the backend.
/// With a third argument `owned`, the test takes the app by value and
/// hands it back (`async fn my_test(app: TestApp) -> TestApp`), so it can
/// [`TestApp::restart`] it.
#[macro_export]
macro_rules! dual_test {
    ($name:ident, $spawn:expr, owned) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::spawn_app_with(($spawn)($crate::Backend::Sqlite)).await.expect("sqlite app");
                super::$name(app).await.shutdown().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::spawn_app_with(($spawn)($crate::Backend::Postgres)).await else { return };
                super::$name(app).await.shutdown().await;
            }
        }
    };
    ($name:ident) => {
        $crate::dual_test!($name, $crate::Spawn::new);
    };
    ($name:ident, $spawn:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::spawn_app_with(($spawn)($crate::Backend::Sqlite)).await.expect("sqlite app");
                super::$name(&app).await;
                app.shutdown().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::spawn_app_with(($spawn)($crate::Backend::Postgres)).await else { return };
                super::$name(&app).await;
                app.shutdown().await;
            }
        }
    };
}
