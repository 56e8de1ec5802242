//! Embedded migrations: one SQL source per step for both databases (see
//! [`crate::dialect`] for the few placeholders), applied in order at start
//! inside a transaction each, recorded with a checksum so that an edited or
//! unknown migration stops the start with a clear message.

use crate::db::{Db, Q};
use crate::dialect;
use crate::error::{StoreError, StoreResult};
use sha2::{Digest, Sha256};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

macro_rules! migrations {
    ($(($v:expr, $name:literal)),* $(,)?) => {
        &[$(Migration { version: $v, name: $name, sql: include_str!(concat!("../migrations/", $name, ".sql")) }),*]
    };
}

const MIGRATIONS: &[Migration] =
    migrations![(1, "0001_foundation"), (2, "0002_requests"), (3, "0003_knowledge"), (4, "0004_portal"),];

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// The newest migration this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Apply every pending migration. Returns how many were applied.
pub async fn run(db: &Db) -> StoreResult<usize> {
    let mut tx = db.writer().await?;
    if let Some(lock) = dialect::migration_lock(db.backend()) {
        tx.execute(Q::new(lock)).await?;
    }
    tx.execute(Q::new(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    ))
    .await?;
    let rows = tx.fetch_all(Q::new("SELECT version, name, checksum FROM schema_migrations ORDER BY version")).await?;
    let mut applied = Vec::new();
    for r in rows {
        applied.push((r.get::<i64>("version")?, r.get::<String>("name")?, r.get::<String>("checksum")?));
    }
    for (v, name, sum) in &applied {
        match MIGRATIONS.iter().find(|m| m.version == *v) {
            None => {
                return Err(StoreError::Setup(format!(
                    "the database has migration {v} ({name}) which this tier0 binary does not know; \
                     it was written by a newer version — upgrade tier0 instead of downgrading"
                )));
            }
            Some(m) if checksum(m.sql) != *sum => {
                return Err(StoreError::Setup(format!(
                    "migration {v} ({name}) differs from the one applied to this database; refusing to start"
                )));
            }
            Some(_) => {}
        }
    }
    tx.commit().await?;

    let mut count = 0;
    for m in MIGRATIONS.iter().filter(|m| !applied.iter().any(|(v, _, _)| *v == m.version)) {
        let mut tx = db.writer().await?;
        if let Some(lock) = dialect::migration_lock(db.backend()) {
            tx.execute(Q::new(lock)).await?;
        }
        // Another node may have applied it while we waited for the lock.
        let done = tx
            .fetch_optional(Q::new("SELECT version FROM schema_migrations WHERE version = $1").bind(m.version))
            .await?;
        if done.is_some() {
            continue;
        }
        let sql = dialect::render_migration(m.sql, db.backend());
        tx.execute_script(sql)
            .await
            .map_err(|e| StoreError::Setup(format!("migration {} ({}) failed: {}", m.version, m.name, describe(&e))))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        tx.execute(
            Q::new("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
                .bind(m.version)
                .bind(m.name)
                .bind(checksum(m.sql))
                .bind(now),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        count += 1;
    }
    Ok(count)
}

fn describe(e: &StoreError) -> String {
    match e {
        StoreError::Db(sqlx::Error::Database(d)) => d.message().to_owned(),
        other => other.to_string(),
    }
}
