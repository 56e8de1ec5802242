//! Online backup and restore of the embedded database. PostgreSQL has its
//! own tools (`pg_dump` / `pg_restore`); the CLI delegates to them.

use crate::db::{Db, DbOptions, Q};
use crate::error::{StoreError, StoreResult};
use crate::url::{Backend, DatabaseUrl};
use std::path::Path;

/// Write a consistent copy of a live SQLite database to `dest` with
/// `VACUUM INTO` (a read transaction: writers keep going meanwhile).
pub async fn sqlite_backup(db: &Db, dest: &Path) -> StoreResult<()> {
    if db.backend() != Backend::Sqlite {
        return Err(StoreError::Setup("sqlite_backup needs an SQLite database".into()));
    }
    if dest.exists() {
        return Err(StoreError::Setup(format!("{} already exists; refusing to overwrite it", dest.display())));
    }
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Setup(format!("cannot create {}: {e}", dir.display())))?;
    }
    let target = dest.to_str().ok_or_else(|| StoreError::Setup("backup path is not valid UTF-8".into()))?;
    let mut c = db.reader().await?;
    c.execute(Q::new("VACUUM INTO $1").bind(target)).await?;
    Ok(())
}

/// Check that `file` is an intact Tier0 SQLite database and copy it to
/// `dest`, which must not exist yet (restore goes into an empty data dir).
pub async fn sqlite_restore(file: &Path, dest: &Path) -> StoreResult<()> {
    if dest.exists() {
        return Err(StoreError::Setup(format!(
            "{} already exists; restore only into an empty data directory",
            dest.display()
        )));
    }
    if !file.is_file() {
        return Err(StoreError::Setup(format!("{} is not a file", file.display())));
    }
    // Verify on a scratch copy so the source is never modified.
    let dir = dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| StoreError::Setup(format!("cannot create {}: {e}", dir.display())))?;
    let staging = dir.join(".tier0-restore.db");
    let _ = std::fs::remove_file(&staging);
    std::fs::copy(file, &staging).map_err(|e| StoreError::Setup(format!("cannot read {}: {e}", file.display())))?;
    let check = async {
        let db = Db::connect(&DatabaseUrl::Sqlite(staging.clone()), &DbOptions::default()).await?;
        let mut c = db.reader().await?;
        let ok = c.fetch_one(Q::new("PRAGMA integrity_check")).await?.get::<String>("integrity_check")?;
        if ok != "ok" {
            return Err(StoreError::Setup(format!("{} fails the integrity check: {ok}", file.display())));
        }
        let has = c
            .fetch_optional(Q::new(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            ))
            .await?;
        if has.is_none() {
            return Err(StoreError::Setup(format!("{} is not a Tier0 database", file.display())));
        }
        drop(c);
        db.close().await;
        Ok(())
    };
    let result = check.await;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", staging.display()));
    }
    if let Err(e) = result {
        let _ = std::fs::remove_file(&staging);
        return Err(match e {
            StoreError::Db(_) => StoreError::Setup(format!("{} is not a readable SQLite database", file.display())),
            other => other,
        });
    }
    std::fs::rename(&staging, dest)
        .map_err(|e| StoreError::Setup(format!("cannot move restored file into place: {e}")))?;
    Ok(())
}
