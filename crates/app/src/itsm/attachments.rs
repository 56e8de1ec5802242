//! Files attached to requests: stored in the database (every node serves
//! them), typed by sniffing their content, named safely, and readable by
//! exactly those who can see the request.

use crate::error::{AppError, AppResult};
use crate::{App, Can, caps};
use sha2::{Digest, Sha256};
use tier0_domain::itsm::records::{Attachment, UserRef};
use tier0_domain::itsm::sanitize_filename;
use tier0_domain::{AttachmentId, RequestId};
use tier0_store::requests::AttachmentBlob;

/// What an attachment's bytes look like: the sniffed type, `text/plain`
/// for UTF-8 text without NULs, else `application/octet-stream`.
pub fn sniff(data: &[u8]) -> String {
    if let Some(t) = infer::get(data) {
        return t.mime_type().to_owned();
    }
    let head = &data[..data.len().min(8192)];
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        // A multi-byte character cut at the end of the sample is fine.
        Err(e) => e.error_len().is_none(),
    };
    if text && !head.contains(&0) { "text/plain".into() } else { "application/octet-stream".into() }
}

impl App {
    /// `POST /api/itsm/requests/{id}/attachments`. The size limit is the
    /// web layer's (`WebConfig::max_upload_bytes`, 25 MiB by default).
    pub async fn add_attachment(
        &self,
        by: Can<'_, caps::ItsmWrite>,
        id: &str,
        filename: &str,
        data: Vec<u8>,
    ) -> AppResult<Attachment> {
        if data.is_empty() {
            return Err(AppError::field("file", "is empty"));
        }
        let p = by.principal;
        let filename = sanitize_filename(filename);
        let content_type = sniff(&data);
        let sha = hex::encode(Sha256::digest(&data));
        let size = data.len() as i64;
        let now = self.now();
        let aid: AttachmentId = self.new_id();
        let mut tx = self.db(by.ctx).write().await?;
        let (req, _) = self.visible_request(&mut tx, p, id).await?;
        tx.insert_attachment(&aid, &req.id, &filename, &content_type, &sha, &p.user.id, data, now).await?;
        tx.commit().await?;
        Ok(Attachment {
            id: aid,
            request_id: req.id,
            filename,
            content_type,
            size,
            sha256: sha,
            uploaded_by: UserRef { id: p.user.id.clone(), name: p.user.name.clone(), email: p.user.email.clone() },
            created_at: now,
        })
    }

    /// `GET /api/itsm/requests/{id}/attachments/{aid}`: the file, when the
    /// caller can see the request (else 404).
    pub async fn get_attachment(&self, by: Can<'_, caps::ItsmRead>, id: &str, aid: &str) -> AppResult<AttachmentBlob> {
        let mut r = self.db(by.ctx).read().await?;
        let (req, _) = self.visible_request(&mut r, by.principal, id).await?;
        r.get_attachment(&req.id, &AttachmentId::new(aid)).await?.ok_or(AppError::NotFound)
    }

    /// 404 unless the caller can see the request (checked before an
    /// upload's body is read).
    pub async fn ensure_request_visible(&self, by: Can<'_, caps::ItsmRead>, id: &str) -> AppResult<()> {
        let mut r = self.db(by.ctx).read().await?;
        self.visible_request(&mut r, by.principal, id).await.map(|_| ())
    }

    /// The attachments of a request the caller can see (metadata only).
    pub async fn list_attachments(&self, by: Can<'_, caps::ItsmRead>, id: &str) -> AppResult<Vec<Attachment>> {
        let mut r = self.db(by.ctx).read().await?;
        let (req, _) = self.visible_request(&mut r, by.principal, id).await?;
        let rid: RequestId = req.id;
        Ok(r.list_attachments(&rid).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(sniff("plain text, é".as_bytes()), "text/plain");
        assert_eq!(sniff(b"\0\x01\x02binary"), "application/octet-stream");
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
    }
}
