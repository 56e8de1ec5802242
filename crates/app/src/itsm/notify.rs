//! Notifications: in-app entries (always) and e-mail through the durable
//! outbox (per the recipient's [`NotificationPrefs`]), written inside the
//! transaction of what caused them. Callers build a [`Note`] from public
//! data only — an internal note never becomes a notification.

use super::{decode_cursor, paginate};
use crate::auth::users::Page;
use crate::error::{AppError, AppResult};
use crate::mail::Message;
use crate::tenants::Tenant;
use crate::{App, SignedIn};
use serde::{Deserialize, Serialize};
use tier0_domain::itsm::records::Notification;
use tier0_domain::{Limit, NotificationPrefs, RecordId, RequestId, User, UserId};
use tier0_store::notifications::NewNotification;
use tier0_store::{TenantRead, TenantWrite};

/// What the page header shows a signed-in caller.
#[derive(Debug, Clone, Copy)]
pub struct PageBadges {
    pub unread: i64,
    pub approver: bool,
}

/// Which preference decides whether a note is also e-mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailPref {
    StatusChanges,
    Comments,
    Approvals,
    /// In-app only.
    Never,
}

impl EmailPref {
    fn wants(self, p: &NotificationPrefs) -> bool {
        match self {
            Self::StatusChanges => p.email_status_changes,
            Self::Comments => p.email_comments,
            Self::Approvals => p.email_approvals,
            Self::Never => false,
        }
    }
}

/// One notification to send to several people.
#[derive(Debug, Clone)]
pub struct Note {
    /// `status`, `comment`, `reply`, `assigned`, `approval_needed`,
    /// `approval_decided`, `created_for_you`.
    pub kind: &'static str,
    /// One line, also the e-mail subject.
    pub title: String,
    /// The in-app text and the e-mail's paragraphs.
    pub lines: Vec<String>,
    /// Page path to open, e.g. `/portal/requests/{id}`.
    pub link: String,
    pub request_id: Option<RequestId>,
    pub email: EmailPref,
    /// Label of the e-mail's button.
    pub action: &'static str,
}

impl App {
    /// Notify `to` (deduplicated; inactive users and `except` skipped).
    /// Returns whether mail was queued (wake the mailer after commit).
    pub(crate) async fn notify(
        &self,
        tx: &mut TenantWrite,
        tenant: &Tenant,
        to: &[User],
        except: Option<&UserId>,
        note: &Note,
    ) -> AppResult<bool> {
        let mut done: Vec<&UserId> = Vec::new();
        let mut mailed = false;
        let body = note.lines.join("\n");
        let now = self.now();
        for u in to {
            if !u.active || Some(&u.id) == except || done.contains(&&u.id) {
                continue;
            }
            done.push(&u.id);
            let id: RecordId = self.new_id();
            tx.insert_notification(NewNotification {
                id: &id,
                user_id: &u.id,
                kind: note.kind,
                title: &note.title,
                body: &body,
                link: &note.link,
                request_id: note.request_id.as_ref(),
                now,
            })
            .await?;
            if note.email.wants(&u.notification_prefs) {
                let url = self.tenant_link(tenant, &note.link);
                let mut paragraphs = vec![format!("Hello {},", u.name)];
                paragraphs.extend(note.lines.iter().cloned());
                let msg = Message::compose(
                    u.email.as_str(),
                    &note.title,
                    &paragraphs,
                    Some((note.action, &url)),
                    &format!(
                        "You receive this because of your requests at the {} service desk. \
                         Choose which e-mails you get under Profile > Notifications.",
                        tenant.name
                    ),
                );
                mailed |= self.enqueue_mail(tx, &msg).await?;
            }
        }
        Ok(mailed)
    }

    /// Users by id (missing ones skipped), for notification recipients.
    pub(crate) async fn users_by_ids(&self, r: &mut TenantRead, ids: &[UserId]) -> AppResult<Vec<User>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if out.iter().any(|u: &User| &u.id == id) {
                continue;
            }
            if let Some(u) = r.get_user(id).await? {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// Active users who hold `perm` through their role, at most `cap`.
    pub(crate) async fn users_with_permission(
        &self,
        r: &mut TenantRead,
        perm: &str,
        cap: usize,
    ) -> AppResult<Vec<User>> {
        let mut out = Vec::new();
        for role in r.list_roles().await? {
            if !role.permissions.allows(perm) {
                continue;
            }
            for u in r.active_users_with_role(&role.id).await? {
                if out.len() >= cap {
                    return Ok(out);
                }
                out.push(u);
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct NotificationQuery {
    /// Only unread ones.
    #[serde(default)]
    pub unread: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A page of notifications with the caller's unread count.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub next_cursor: Option<String>,
    pub unread_count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarkedRead {
    /// How many notifications changed from unread to read.
    pub updated: u64,
    pub unread_count: i64,
}

impl App {
    /// `GET /api/notifications`: the caller's notifications, newest first.
    pub async fn list_notifications(&self, me: SignedIn<'_>, q: NotificationQuery) -> AppResult<NotificationPage> {
        let limit = Limit::parse(q.limit)?;
        let before = decode_cursor(q.cursor.as_deref(), 1)?.map(|mut v| v.remove(0));
        let mut r = self.db(me.ctx).read().await?;
        let items =
            r.list_notifications(me.user_id(), q.unread.unwrap_or(false), before.as_deref(), limit.probe()).await?;
        let Page { items, next_cursor } = paginate(items, limit, |n| vec![n.id.to_string()]);
        let unread_count = r.count_unread_notifications(me.user_id()).await?;
        Ok(NotificationPage { items, next_cursor, unread_count })
    }

    /// The page header's badges for the caller: unread notifications, and
    /// whether they have approvals to look at (the portal shows the
    /// Approvals tab only to them). One query.
    pub async fn page_badges(&self, me: SignedIn<'_>) -> AppResult<PageBadges> {
        let user = &me.principal.user;
        let key = (me.ctx.tenant().id.clone(), user.id.clone());
        if let Some(b) = self.0.badges.get(&key) {
            return Ok(b);
        }
        let generation = self.0.badges.generation();
        let (unread, approver) = self.db(me.ctx).read().await?.page_badges(&user.id, &user.role_id).await?;
        let b = PageBadges { unread, approver };
        self.0.badges.put(key, b, generation);
        Ok(b)
    }

    /// `POST /api/notifications/{id}/read`. Someone else's is 404.
    pub async fn mark_notification_read(&self, me: SignedIn<'_>, id: &str) -> AppResult<MarkedRead> {
        let mut tx = self.db(me.ctx).write().await?;
        if !tx.mark_notification_read(me.user_id(), &RecordId::new(id), self.now()).await? {
            return Err(AppError::NotFound);
        }
        let unread_count = tx.count_unread_notifications(me.user_id()).await?;
        tx.commit().await?;
        Ok(MarkedRead { updated: 1, unread_count })
    }

    /// `POST /api/notifications/read-all`.
    pub async fn mark_all_notifications_read(&self, me: SignedIn<'_>) -> AppResult<MarkedRead> {
        let mut tx = self.db(me.ctx).write().await?;
        let updated = tx.mark_all_notifications_read(me.user_id(), self.now()).await?;
        tx.commit().await?;
        Ok(MarkedRead { updated, unread_count: 0 })
    }
}
