//! Group commit: many small write transactions acknowledged by one fsync.
//!
//! SQLite runs `synchronous=FULL` with a single writer connection, so every
//! commit waits for an fsync of the WAL (about 4 ms on the reference VM):
//! one commit per request caps durable writes at a few hundred per second.
//! [`Store::grouped_write`] queues the work instead; one task takes
//! everything queued, runs each piece inside its own SAVEPOINT of a single
//! transaction, commits once, and only then answers each caller. So:
//!
//! - a caller is acknowledged only after the transaction holding its writes
//!   committed (durability is unchanged: nothing is reported before fsync);
//! - a piece that fails is rolled back to its savepoint alone and reports
//!   its own error; the others still commit;
//! - if the commit itself fails, every caller of that batch gets an error.
//!
//! Work runs while the batch holds the writer, so it must be quick: reads
//! and writes on the given transaction, no network calls.
//!
//! PostgreSQL has concurrent writers, but work that allocates a human
//! number (`next_number`) holds that counter's row lock until its commit
//! has been flushed, so filing requests would still run one fsync at a
//! time; batching lets one lock and one flush serve the whole batch there
//! too (per node).

use crate::Store;
use crate::db::{Db, Exec, Q};
use crate::error::{StoreError, StoreResult};
use crate::scoped::TenantWrite;
use futures::FutureExt;
use futures::future::BoxFuture;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tier0_domain::TenantId;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Most pieces of work committed together.
const MAX_BATCH: usize = 256;

/// What a piece of work leaves behind: whether to keep its writes, and how
/// to tell its caller the outcome of the commit.
struct Settle {
    keep: bool,
    report: Box<dyn FnOnce(Result<(), String>) + Send>,
}

type Job = Box<dyn for<'a> FnOnce(&'a mut TenantWrite) -> BoxFuture<'a, Settle> + Send>;

struct Queued {
    tenant: TenantId,
    job: Job,
}

/// The queue of the committing task.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    tx: mpsc::Sender<Queued>,
}

impl GroupCommit {
    pub(crate) fn start(db: Db) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, rx));
        Self { tx }
    }
}

fn group_err(msg: impl Into<String>) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(msg.into()))
}

fn job<F>(f: F) -> Job
where
    F: for<'a> FnOnce(&'a mut TenantWrite) -> BoxFuture<'a, Settle> + Send + 'static,
{
    Box::new(f)
}

impl Store {
    /// Run `work` in a write transaction of `tenant` and return its result
    /// once that transaction has committed (see the module docs). An `Err`
    /// from `work` rolls back its writes only.
    pub async fn grouped_write<T, E, F>(&self, tenant: &TenantId, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'a> FnOnce(&'a mut TenantWrite) -> BoxFuture<'a, Result<T, E>> + Send + 'static,
    {
        let group = &self.group;
        let (otx, orx) = oneshot::channel::<Result<T, E>>();
        let job = job(move |w| {
            Box::pin(async move {
                let r = work(w).await;
                let keep = r.is_ok();
                let report = Box::new(move |commit: Result<(), String>| {
                    let _ = otx.send(match commit {
                        Ok(()) => r,
                        Err(msg) => Err(E::from(group_err(msg))),
                    });
                });
                Settle { keep, report }
            })
        });
        group
            .tx
            .send(Queued { tenant: tenant.clone(), job })
            .await
            .map_err(|_| E::from(group_err("the group committer has stopped")))?;
        orx.await.map_err(|_| E::from(group_err("the grouped write was abandoned")))?
    }
}

/// Under load, how long a batch waits for as much work as the previous
/// batch held. Callers answered by one commit come back with their next
/// piece of work within about a millisecond; without this pause, batches
/// alternate between one piece and everyone else.
const GATHER: Duration = Duration::from_millis(2);

async fn run(db: Db, mut rx: mpsc::Receiver<Queued>) {
    let mut last = 1;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        if last > 1 {
            let deadline = Instant::now() + GATHER;
            while batch.len() < last {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(q)) => batch.push(q),
                    _ => break,
                }
            }
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(q) => batch.push(q),
                Err(_) => break,
            }
        }
        last = batch.len();
        if let Err(e) = run_batch(&db, batch).await {
            // Dropping the batch's reports tells every caller it failed.
            tracing::error!(error = %e, "group commit failed");
        }
    }
}

async fn run_batch(db: &Db, batch: Vec<Queued>) -> StoreResult<()> {
    let mut ex: Exec = db.writer().await?;
    let mut reports = Vec::with_capacity(batch.len());
    for q in batch {
        ex.execute(Q::new("SAVEPOINT grouped")).await?;
        let mut w = TenantWrite::from_exec(q.tenant, ex);
        let outcome = AssertUnwindSafe((q.job)(&mut w)).catch_unwind().await;
        ex = w.into_exec();
        match outcome {
            Ok(s) if s.keep => {
                ex.execute(Q::new("RELEASE grouped")).await?;
                reports.push((true, s.report));
            }
            other => {
                ex.execute(Q::new("ROLLBACK TO grouped")).await?;
                ex.execute(Q::new("RELEASE grouped")).await?;
                match other {
                    Ok(s) => reports.push((false, s.report)),
                    Err(_) => tracing::error!("a grouped write panicked; its writes were rolled back"),
                }
            }
        }
    }
    let commit = ex.commit().await.map_err(|e| e.to_string());
    if let Err(e) = &commit {
        tracing::error!(error = %e, "group commit failed");
    }
    for (keep, report) in reports {
        report(if keep { commit.clone() } else { Ok(()) });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::global::NewTenant;
    use crate::{DatabaseUrl, DbOptions, Store, StoreError};
    use tier0_domain::{BuiltinRole, RoleId, Slug, TenantId, Timestamp};

    /// Concurrent grouped writes: each is acknowledged once committed, a
    /// failing one is rolled back alone (its counter increment vanishes),
    /// and the survivors' numbers are unique and gap-free.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failed_work_rolls_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&DatabaseUrl::sqlite_in(dir.path()), &DbOptions::default()).await.unwrap();
        let tenant = TenantId::new("T0000000000000000000000000");
        let role_ids = BuiltinRole::ALL.iter().enumerate().map(|(i, r)| (*r, RoleId::new(format!("R{i}")))).collect();
        let tx = store
            .global_create_tenant(NewTenant {
                id: tenant.clone(),
                slug: Slug::parse("grouped").unwrap(),
                name: "Grouped".into(),
                now: Timestamp::from_millis(0),
                role_ids,
            })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..60 {
            let store = store.clone();
            let tenant = tenant.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .grouped_write(&tenant, move |w| {
                        Box::pin(async move {
                            let n = w.next_number("TEST").await?;
                            if i % 5 == 0 { Err(StoreError::Conflict("refused".into())) } else { Ok(n) }
                        })
                    })
                    .await
            }));
        }
        let mut ok = Vec::new();
        let mut refused = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(n) => ok.push(n),
                Err(StoreError::Conflict(_)) => refused += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        ok.sort();
        assert_eq!(refused, 12);
        assert_eq!(ok, (1..=48).collect::<Vec<i64>>());
        let mut tx = store.tenant(&tenant).write().await.unwrap();
        assert_eq!(tx.next_number("TEST").await.unwrap(), 49, "refused work left no trace");
    }
}
