//! Comments on requests: public replies and agents' internal notes.
//! Internal notes are written only by agents and read only by agents; they
//! never trigger a notification or an e-mail.

use super::notify::{EmailPref, Note};
use super::{decode_cursor, excerpt, links, paginate};
use crate::auth::users::Page;
use crate::error::{AppError, AppResult};
use crate::{App, Can, caps};
use serde::Deserialize;
use tier0_domain::itsm::records::Comment;
use tier0_domain::itsm::request::MAX_COMMENT_CHARS;
use tier0_domain::itsm::{Party, RequestStatus};
use tier0_domain::{Limit, PlainText, RecordId};

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct CommentQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// `POST /api/itsm/requests/{id}/comments`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CommentInput {
    #[serde(default)]
    #[schema(min_length = 1)]
    pub body: String,
    /// An internal note, visible to agents only (needs `itsm:fulfill`).
    #[serde(default)]
    pub internal: Option<bool>,
}

/// At most this many agents are told of a reply on an unassigned request.
const UNASSIGNED_REPLY_FANOUT: usize = 20;

impl App {
    /// `GET /api/itsm/requests/{id}/comments`, oldest first. Internal notes
    /// only for agents.
    pub async fn list_comments(
        &self,
        by: Can<'_, caps::ItsmRead>,
        id: &str,
        q: CommentQuery,
    ) -> AppResult<Page<Comment>> {
        let limit = Limit::parse(q.limit)?;
        let after = decode_cursor(q.cursor.as_deref(), 1)?.map(|mut v| v.remove(0));
        let mut r = self.db(by.ctx).read().await?;
        let (req, acc) = self.visible_request(&mut r, by.principal, id).await?;
        let items = r.list_comments(&req.id, acc.sees_internal(), after.as_deref(), limit.probe()).await?;
        Ok(paginate(items, limit, |c| vec![c.id.to_string()]))
    }

    /// `POST /api/itsm/requests/{id}/comments`. A requester's reply on a
    /// request waiting on them moves it back to `in_progress`. Public
    /// comments notify the requester and watchers; a reply from the
    /// customer side notifies the assignee (or, while unassigned, a few
    /// agents in-app).
    pub async fn add_comment(&self, by: Can<'_, caps::ItsmWrite>, id: &str, input: CommentInput) -> AppResult<Comment> {
        let p = by.principal;
        let internal = input.internal.unwrap_or(false);
        if internal && !by.allows("itsm:fulfill") {
            return Err(AppError::forbidden("internal notes need the itsm:fulfill permission"));
        }
        let body = PlainText::parse("body", &input.body, 1, MAX_COMMENT_CHARS)?.0;
        let now = self.now();
        let tenant = by.ctx.tenant();
        let mut tx = self.db(by.ctx).write().await?;
        let (req, acc) = self.visible_request(&mut tx, p, id).await?;
        let cid: RecordId = self.new_id();
        tx.insert_comment(&cid, &req.id, &p.user.id, &body, internal, now).await?;
        let mut mailed = false;
        if !internal {
            if acc.requester && req.status == RequestStatus::WaitingOnCustomer {
                let life = req
                    .lifecycle()
                    .transition(RequestStatus::InProgress, &[Party::System], now)
                    .map_err(|e| AppError::internal(e.to_string()))?;
                tx.set_request_lifecycle(&req.id, &life).await?;
                self.record_event(
                    &mut tx,
                    &req.id,
                    "status",
                    Some(req.status.as_str()),
                    Some(RequestStatus::InProgress.as_str()),
                    Some(&p.user.id),
                    None,
                )
                .await?;
            }
            let lines =
                vec![format!("{} replied on {} \"{}\":", p.user.name, req.number, req.title), excerpt(&body, 4000)];
            let customer = Note {
                kind: "comment",
                title: format!("[{}] New reply: {}", req.number, excerpt(&req.title, 80)),
                lines,
                link: links::portal_request(req.id.as_str()),
                request_id: Some(req.id.clone()),
                email: EmailPref::Comments,
                action: "Reply",
            };
            let mut ids = vec![req.requester_id.clone()];
            ids.extend(tx.list_watchers(&req.id).await?.into_iter().map(|u| u.id));
            let people = self.users_by_ids(&mut tx, &ids).await?;
            mailed |= self.notify(&mut tx, tenant, &people, Some(&p.user.id), &customer).await?;
            if !acc.agent {
                let (agents, email) = match &req.assignee_id {
                    Some(a) => (self.users_by_ids(&mut tx, std::slice::from_ref(a)).await?, EmailPref::Comments),
                    None => (
                        self.users_with_permission(&mut tx, "itsm:fulfill", UNASSIGNED_REPLY_FANOUT).await?,
                        EmailPref::Never,
                    ),
                };
                let note = Note {
                    kind: "reply",
                    link: links::itsm_request(req.id.as_str()),
                    action: "Open the request",
                    email,
                    ..customer
                };
                mailed |= self.notify(&mut tx, tenant, &agents, Some(&p.user.id), &note).await?;
            }
        }
        let comment = Comment {
            id: cid,
            request_id: req.id.clone(),
            body,
            internal,
            author: tier0_domain::itsm::records::UserRef {
                id: p.user.id.clone(),
                name: p.user.name.clone(),
                email: p.user.email.clone(),
            },
            created_at: now,
        };
        tx.commit().await?;
        if mailed {
            self.wake_mailer();
        }
        Ok(comment)
    }
}
