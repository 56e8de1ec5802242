//! "Was this helpful?" and "This solved my problem" (a deflection: a
//! request that did not need to be filed).

use crate::error::{AppError, AppResult};
use crate::{App, Can, caps};
use serde::{Deserialize, Serialize};
use tier0_domain::{PlainText, RecordId};
use tier0_store::kb::NewDeflection;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct FeedbackInput {
    pub helpful: bool,
    /// What was missing (optional, up to 2000 characters).
    #[serde(default)]
    pub comment: Option<String>,
    /// "This solved my problem": also records a deflection (needs
    /// `helpful: true`).
    #[serde(default)]
    pub solved: Option<bool>,
    /// The search the reader came from, if any.
    #[serde(default)]
    pub search_id: Option<String>,
    /// What the reader was about to file a request about (the request form
    /// check step), kept with the deflection.
    #[serde(default)]
    pub query: Option<String>,
    /// Where the answer was given: `article` (default), `request_check`.
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedbackOut {
    pub helpful_yes: i64,
    pub helpful_no: i64,
    /// A deflection was recorded.
    pub deflection: bool,
}

impl App {
    /// `POST /api/itsm/kb/articles/{id}/feedback`. One answer per reader
    /// and article (answering again replaces it); every "solved" is a
    /// deflection.
    pub async fn article_feedback(
        &self,
        by: Can<'_, caps::ItsmRead>,
        id: &str,
        f: FeedbackInput,
    ) -> AppResult<FeedbackOut> {
        let ctx = by.ctx;
        if !by.is_user() {
            return Err(AppError::Unauthenticated);
        }
        let reader = self.kb_reader(ctx)?;
        let row = self.visible_article(ctx, reader, id).await?;
        let comment = PlainText::optional("comment", f.comment.as_deref(), 2_000)?;
        let solved = f.solved.unwrap_or(false);
        if solved && !f.helpful {
            return Err(AppError::field("solved", "needs helpful to be true"));
        }
        let source = match f.source.as_deref().unwrap_or("article") {
            s @ ("article" | "request_check" | "api") => s,
            _ => return Err(AppError::field("source", "must be article, request_check or api")),
        };
        let search_id = super::search_ref(f.search_id.as_deref());
        let query = PlainText::optional("query", f.query.as_deref(), 200).unwrap_or(None);
        let now = self.now();
        let mut tx = self.db(ctx).write().await?;
        tx.upsert_kb_feedback(&row.id, by.user_id(), f.helpful, comment.as_deref(), search_id, now).await?;
        if solved {
            let did: RecordId = self.new_id();
            tx.insert_kb_deflection(NewDeflection {
                id: &did,
                article_id: &row.id,
                user_id: Some(by.user_id()),
                search_id,
                query: query.as_deref(),
                source,
                at: now,
            })
            .await?;
        }
        let after = tx.get_kb_article(&row.id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        Ok(FeedbackOut { helpful_yes: after.helpful_yes, helpful_no: after.helpful_no, deflection: solved })
    }

    /// The caller's earlier answer for an article, if any.
    pub async fn my_article_feedback(&self, ctx: &crate::Ctx, id: &RecordId) -> AppResult<Option<bool>> {
        match ctx.signed_in() {
            Ok(s) => Ok(self.db(ctx).read().await?.kb_feedback_of(id, s.user_id()).await?),
            Err(_) => Ok(None),
        }
    }
}
