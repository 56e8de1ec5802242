//! In-app notifications, per user.

use crate::db::Row;
use crate::error::StoreResult;
use crate::scoped::{TenantRead, TenantWrite};
use tier0_domain::itsm::records::Notification;
use tier0_domain::{RecordId, RequestId, Timestamp, UserId};

/// A notification to store.
pub struct NewNotification<'a> {
    pub id: &'a RecordId,
    pub user_id: &'a UserId,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub link: &'a str,
    pub request_id: Option<&'a RequestId>,
    pub now: Timestamp,
}

fn notification_from(r: &Row) -> StoreResult<Notification> {
    let read_at = r.opt_ts("read_at")?;
    Ok(Notification {
        id: RecordId::new(r.get::<String>("id")?),
        kind: r.get("kind")?,
        title: r.get("title")?,
        body: r.get("body")?,
        link: r.get("link")?,
        request_id: r.get::<Option<String>>("request_id")?.map(RequestId::new),
        created_at: r.ts("created_at")?,
        read: read_at.is_some(),
        read_at,
    })
}

impl TenantRead {
    /// A user's notifications, newest first.
    pub async fn list_notifications(
        &mut self,
        user: &UserId,
        unread_only: bool,
        before: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<Notification>> {
        let mut q = self
            .q("SELECT id, kind, title, body, link, request_id, created_at, read_at FROM notifications \
                WHERE tenant_id = $1 AND user_id = $2")
            .bind(user);
        if unread_only {
            q.push_sql(" AND read_at IS NULL");
        }
        if let Some(b) = before {
            let n = q.push_bind(b);
            q.push_sql(&format!(" AND id < ${n}"));
        }
        let n = q.push_bind(limit);
        q.push_sql(&format!(" ORDER BY id DESC LIMIT ${n}"));
        self.ex.fetch_all(q).await?.iter().map(notification_from).collect()
    }

    pub async fn count_unread_notifications(&mut self, user: &UserId) -> StoreResult<i64> {
        let q = self
            .q("SELECT COUNT(*) AS n FROM notifications WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL")
            .bind(user);
        self.ex.fetch_one(q).await?.get("n")
    }
}

impl TenantWrite {
    pub async fn insert_notification(&mut self, n: NewNotification<'_>) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO notifications (tenant_id, id, user_id, kind, title, body, link, request_id, created_at, read_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)")
            .bind(n.id)
            .bind(n.user_id)
            .bind(n.kind)
            .bind(n.title)
            .bind(n.body)
            .bind(n.link)
            .bind(n.request_id)
            .bind(n.now);
        self.ex.execute(q).await?;
        Ok(())
    }

    /// Mark one of `user`'s notifications read; false when it is not theirs.
    pub async fn mark_notification_read(&mut self, user: &UserId, id: &RecordId, now: Timestamp) -> StoreResult<bool> {
        let q = self
            .q("UPDATE notifications SET read_at = COALESCE(read_at, $4) WHERE tenant_id = $1 AND user_id = $2 AND id = $3")
            .bind(user)
            .bind(id)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn mark_all_notifications_read(&mut self, user: &UserId, now: Timestamp) -> StoreResult<u64> {
        let q = self
            .q("UPDATE notifications SET read_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL")
            .bind(user)
            .bind(now);
        self.ex.execute(q).await
    }
}
