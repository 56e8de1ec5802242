//! One data-access path over two databases.
//!
//! Queries are written once, in the SQL both SQLite and PostgreSQL accept
//! (`$1` placeholders, `RETURNING`, `ON CONFLICT`, BIGINT milliseconds for
//! time, TEXT ids). [`Q`] carries the SQL and its arguments; [`Exec`] runs it
//! on whichever backend the store was opened with; [`Row`] reads columns
//! with one typed getter. Statements that genuinely differ are named in
//! [`crate::dialect`].
//!
//! SQLite gets one writer connection (writes queue in-process instead of
//! failing with "database is locked") plus a pool of readers; every write
//! transaction starts with `BEGIN IMMEDIATE`.

use crate::error::{StoreError, StoreResult};
use crate::url::{Backend, DatabaseUrl};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Postgres, Sqlite, Transaction};
use std::borrow::Cow;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Maximum PostgreSQL connections (or SQLite readers) per process.
    pub max_connections: u32,
    /// How long a request may wait for a pooled connection.
    pub acquire_timeout: Duration,
    /// SQLite: how long to wait on another process's lock.
    pub busy_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(10), busy_timeout: Duration::from_secs(10) }
    }
}

#[derive(Clone)]
enum Pools {
    Sqlite { read: sqlx::SqlitePool, write: sqlx::SqlitePool },
    Postgres(sqlx::PgPool),
}

/// A handle on the database: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Db {
    pools: Pools,
    url: DatabaseUrl,
}

static WRITE_GENERATION: AtomicU64 = AtomicU64::new(0);

/// A number that changes after every write transaction this process
/// commits (every write goes through [`Db::writer`] and `Exec::commit`).
/// Something read while it had one value is unchanged by this process for
/// as long as it keeps that value; on SQLite, where this process is the
/// only writer, that makes read-through caches exact (see
/// `tier0_app::local_cache`).
pub fn write_generation() -> u64 {
    WRITE_GENERATION.load(Ordering::Acquire)
}

/// Pool occupancy, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl Db {
    /// Open (creating the SQLite file and its directory if needed).
    pub async fn connect(url: &DatabaseUrl, opts: &DbOptions) -> StoreResult<Self> {
        let pools = match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Setup(format!("cannot create data directory {}: {e}", dir.display()))
                    })?;
                }
                // synchronous=FULL: in WAL mode every commit is fsynced before
                // it is acknowledged, so an acknowledged write survives power
                // loss as well as a process crash.
                let base = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(opts.busy_timeout)
                    .foreign_keys(true)
                    .pragma("temp_store", "memory")
                    .pragma("cache_size", "-32000");
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .acquire_timeout(opts.acquire_timeout.max(Duration::from_secs(30)))
                    .connect_with(base.clone())
                    .await
                    .map_err(|e| setup_err(url, e))?;
                let read = SqlitePoolOptions::new()
                    .max_connections(opts.max_connections.clamp(1, 8))
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(base.read_only(false))
                    .await
                    .map_err(|e| setup_err(url, e))?;
                Pools::Sqlite { read, write }
            }
            DatabaseUrl::Postgres(s) => {
                let opts_pg = PgConnectOptions::from_str(s)
                    .map_err(|_| StoreError::Setup(format!("invalid PostgreSQL URL {url}")))?
                    .application_name("tier0");
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(opts_pg)
                    .await
                    .map_err(|e| setup_err(url, e))?;
                Pools::Postgres(pool)
            }
        };
        Ok(Self { pools, url: url.clone() })
    }

    /// Like [`Db::connect`] for PostgreSQL, with every connection's
    /// `search_path` set to `schema` (used by tests for isolation).
    pub async fn connect_pg_schema(url: &str, schema: &str, opts: &DbOptions) -> StoreResult<Self> {
        let parsed = DatabaseUrl::parse(url).map_err(StoreError::Setup)?;
        let opts_pg = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::Setup(format!("invalid PostgreSQL URL {parsed}")))?
            .options([("search_path", schema)]);
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(opts_pg)
            .await
            .map_err(|e| setup_err(&parsed, e))?;
        Ok(Self { pools: Pools::Postgres(pool), url: parsed })
    }

    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A pooled connection for reads (autocommit).
    pub(crate) async fn reader(&self) -> StoreResult<Exec> {
        Ok(match &self.pools {
            Pools::Sqlite { read, .. } => Exec::SqliteConn(read.acquire().await?),
            Pools::Postgres(p) => Exec::PgConn(p.acquire().await?),
        })
    }

    /// A write transaction. On SQLite it holds the single writer connection
    /// and starts with `BEGIN IMMEDIATE`, so it never fails half-way with
    /// "database is locked".
    pub(crate) async fn writer(&self) -> StoreResult<Exec> {
        Ok(match &self.pools {
            Pools::Sqlite { write, .. } => Exec::SqliteTx(write.begin_with("BEGIN IMMEDIATE").await?),
            Pools::Postgres(p) => Exec::PgTx(p.begin().await?),
        })
    }

    /// Round-trip to the database (for `/readyz`).
    pub async fn ping(&self) -> StoreResult<()> {
        let mut c = self.reader().await?;
        c.fetch_one(Q::new("SELECT 1 AS one")).await?;
        Ok(())
    }

    pub fn pool_stats(&self) -> PoolStats {
        let stat = |size: u32, idle: usize, max: u32| PoolStats { size, idle: idle as u32, max };
        match &self.pools {
            Pools::Sqlite { read, write } => stat(
                read.size() + write.size(),
                read.num_idle() + write.num_idle(),
                read.options().get_max_connections() + 1,
            ),
            Pools::Postgres(p) => stat(p.size(), p.num_idle(), p.options().get_max_connections()),
        }
    }

    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(p) => p.close().await,
        }
    }
}

fn setup_err(url: &DatabaseUrl, e: sqlx::Error) -> StoreError {
    // sqlx errors can echo connection parameters; keep only the kind.
    let why = match &e {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::PoolTimedOut => "timed out connecting".to_owned(),
        sqlx::Error::Tls(_) => "TLS error".to_owned(),
        sqlx::Error::Configuration(_) => "invalid configuration".to_owned(),
        _ => "connection failed".to_owned(),
    };
    StoreError::Setup(format!("cannot open database {url}: {why}"))
}

/// One bound argument.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(Option<i64>),
    F64(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! arg_from {
    ($t:ty, $v:ident, $e:expr) => {
        impl From<$t> for Arg {
            fn from($v: $t) -> Self {
                $e
            }
        }
    };
}
arg_from!(i64, v, Arg::I64(Some(v)));
arg_from!(Option<i64>, v, Arg::I64(v));
arg_from!(f64, v, Arg::F64(Some(v)));
arg_from!(bool, v, Arg::Bool(Some(v)));
arg_from!(Option<bool>, v, Arg::Bool(v));
arg_from!(String, v, Arg::Text(Some(v)));
arg_from!(&String, v, Arg::Text(Some(v.clone())));
arg_from!(&str, v, Arg::Text(Some(v.to_owned())));
arg_from!(Option<String>, v, Arg::Text(v));
arg_from!(Option<&str>, v, Arg::Text(v.map(str::to_owned)));
arg_from!(Vec<u8>, v, Arg::Bytes(Some(v)));
arg_from!(tier0_domain::Timestamp, v, Arg::I64(Some(v.millis())));
arg_from!(Option<tier0_domain::Timestamp>, v, Arg::I64(v.map(|t| t.millis())));

macro_rules! arg_from_id {
    ($($t:ty),*) => {$(
        arg_from!(&$t, v, Arg::Text(Some(v.as_str().to_owned())));
        arg_from!(Option<&$t>, v, Arg::Text(v.map(|x| x.as_str().to_owned())));
    )*};
}
arg_from_id!(
    tier0_domain::TenantId,
    tier0_domain::UserId,
    tier0_domain::RoleId,
    tier0_domain::SessionId,
    tier0_domain::RecordId,
    tier0_domain::Email,
    tier0_domain::CategoryId,
    tier0_domain::CatalogItemId,
    tier0_domain::RequestId,
    tier0_domain::WorkflowId,
    tier0_domain::IncidentId,
    tier0_domain::AttachmentId
);

/// A statement and its arguments. SQL is static text or assembled inside
/// this crate from static fragments; user input only ever travels as an
/// argument.
#[derive(Debug, Clone)]
pub(crate) struct Q {
    sql: Cow<'static, str>,
    args: Vec<Arg>,
}

impl Q {
    pub(crate) fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Self { sql: sql.into(), args: Vec::new() }
    }

    pub(crate) fn bind(mut self, a: impl Into<Arg>) -> Self {
        self.args.push(a.into());
        self
    }

    pub(crate) fn push_sql(&mut self, s: &str) {
        self.sql.to_mut().push_str(s);
    }

    pub(crate) fn push_bind(&mut self, a: impl Into<Arg>) -> usize {
        self.args.push(a.into());
        self.args.len()
    }

    fn sql_str(&self) -> sqlx::SqlStr {
        use sqlx::SqlSafeStr;
        match &self.sql {
            Cow::Borrowed(s) => s.into_sql_str(),
            Cow::Owned(s) => AssertSqlSafe(s.clone()).into_sql_str(),
        }
    }

    fn sqlite(&self) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments> {
        let mut q = sqlx::query::<Sqlite>(self.sql_str());
        for a in &self.args {
            q = match a.clone() {
                Arg::I64(v) => q.bind(v),
                Arg::F64(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }

    fn pg(&self) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
        let mut q = sqlx::query::<Postgres>(self.sql_str());
        for a in &self.args {
            q = match a.clone() {
                Arg::I64(v) => q.bind(v),
                Arg::F64(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Text(v) => q.bind(v.map(crate::dialect::pg_text)),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }
}

/// A result row from either backend.
pub(crate) enum Row {
    Sqlite(SqliteRow),
    Pg(PgRow),
}

/// A column type both backends can decode.
pub(crate) trait Col: Sized {
    fn from_sqlite(r: &SqliteRow, c: &str) -> Result<Self, sqlx::Error>;
    fn from_pg(r: &PgRow, c: &str) -> Result<Self, sqlx::Error>;
}

impl<T> Col for T
where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>,
{
    fn from_sqlite(r: &SqliteRow, c: &str) -> Result<Self, sqlx::Error> {
        sqlx::Row::try_get(r, c)
    }
    fn from_pg(r: &PgRow, c: &str) -> Result<Self, sqlx::Error> {
        sqlx::Row::try_get(r, c)
    }
}

impl Row {
    pub(crate) fn get<T: Col>(&self, c: &str) -> StoreResult<T> {
        let r = match self {
            Row::Sqlite(r) => T::from_sqlite(r, c),
            Row::Pg(r) => T::from_pg(r, c),
        };
        r.map_err(|e| StoreError::Corrupt(format!("column {c}: {e}")))
    }

    pub(crate) fn ts(&self, c: &str) -> StoreResult<tier0_domain::Timestamp> {
        self.get::<i64>(c).map(tier0_domain::Timestamp::from_millis)
    }

    pub(crate) fn opt_ts(&self, c: &str) -> StoreResult<Option<tier0_domain::Timestamp>> {
        Ok(self.get::<Option<i64>>(c)?.map(tier0_domain::Timestamp::from_millis))
    }
}

/// A connection or transaction on either backend.
pub(crate) enum Exec {
    SqliteConn(PoolConnection<Sqlite>),
    SqliteTx(Transaction<'static, Sqlite>),
    PgConn(PoolConnection<Postgres>),
    PgTx(Transaction<'static, Postgres>),
}

impl Exec {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Exec::SqliteConn(_) | Exec::SqliteTx(_) => Backend::Sqlite,
            Exec::PgConn(_) | Exec::PgTx(_) => Backend::Postgres,
        }
    }

    pub(crate) async fn fetch_all(&mut self, q: Q) -> StoreResult<Vec<Row>> {
        Ok(match self {
            Exec::SqliteConn(c) => q.sqlite().fetch_all(&mut **c).await?.into_iter().map(Row::Sqlite).collect(),
            Exec::SqliteTx(c) => q.sqlite().fetch_all(&mut **c).await?.into_iter().map(Row::Sqlite).collect(),
            Exec::PgConn(c) => q.pg().fetch_all(&mut **c).await?.into_iter().map(Row::Pg).collect(),
            Exec::PgTx(c) => q.pg().fetch_all(&mut **c).await?.into_iter().map(Row::Pg).collect(),
        })
    }

    pub(crate) async fn fetch_optional(&mut self, q: Q) -> StoreResult<Option<Row>> {
        Ok(match self {
            Exec::SqliteConn(c) => q.sqlite().fetch_optional(&mut **c).await?.map(Row::Sqlite),
            Exec::SqliteTx(c) => q.sqlite().fetch_optional(&mut **c).await?.map(Row::Sqlite),
            Exec::PgConn(c) => q.pg().fetch_optional(&mut **c).await?.map(Row::Pg),
            Exec::PgTx(c) => q.pg().fetch_optional(&mut **c).await?.map(Row::Pg),
        })
    }

    pub(crate) async fn fetch_one(&mut self, q: Q) -> StoreResult<Row> {
        self.fetch_optional(q).await?.ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    /// Run a statement; returns the number of affected rows.
    pub(crate) async fn execute(&mut self, q: Q) -> StoreResult<u64> {
        Ok(match self {
            Exec::SqliteConn(c) => q.sqlite().execute(&mut **c).await?.rows_affected(),
            Exec::SqliteTx(c) => q.sqlite().execute(&mut **c).await?.rows_affected(),
            Exec::PgConn(c) => q.pg().execute(&mut **c).await?.rows_affected(),
            Exec::PgTx(c) => q.pg().execute(&mut **c).await?.rows_affected(),
        })
    }

    /// Run several statements without arguments (migrations).
    pub(crate) async fn execute_script(&mut self, sql: String) -> StoreResult<()> {
        let raw = sqlx::raw_sql(AssertSqlSafe(sql));
        match self {
            Exec::SqliteConn(c) => {
                raw.execute(&mut **c).await?;
            }
            Exec::SqliteTx(c) => {
                raw.execute(&mut **c).await?;
            }
            Exec::PgConn(c) => {
                raw.execute(&mut **c).await?;
            }
            Exec::PgTx(c) => {
                raw.execute(&mut **c).await?;
            }
        }
        Ok(())
    }

    /// Commit a transaction (a no-op on a plain connection), then advance
    /// [`write_generation`] — also when the commit failed, as it may have
    /// landed all the same.
    pub(crate) async fn commit(self) -> StoreResult<()> {
        let result = match self {
            Exec::SqliteTx(t) => t.commit().await,
            Exec::PgTx(t) => t.commit().await,
            Exec::SqliteConn(_) | Exec::PgConn(_) => Ok(()),
        };
        WRITE_GENERATION.fetch_add(1, Ordering::AcqRel);
        Ok(result?)
    }
}
