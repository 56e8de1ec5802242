//! Outgoing e-mail: messages as plain-text + HTML pairs, queued in the
//! durable outbox inside the caller's transaction, and a worker that
//! delivers them over SMTP with exponential back-off.

use crate::error::AppResult;
use crate::{App, Can, caps};
use std::time::Duration;
use tier0_domain::{Limit, RecordId, Timestamp};
use tier0_store::TenantWrite;
use tier0_store::outbox::{NewEmail, OutboxEmail, OutboxStatus};

/// Attempts before a message is given up (and kept, marked failed).
pub const MAX_ATTEMPTS: i64 = 8;

/// A message ready to queue.
#[derive(Debug, Clone)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Escape text for HTML bodies.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

impl Message {
    /// A message with a greeting, paragraphs, an optional call-to-action
    /// link and a footer; every piece of text is escaped in the HTML part.
    pub fn compose(to: &str, subject: &str, paragraphs: &[String], action: Option<(&str, &str)>, footer: &str) -> Self {
        let mut text = String::new();
        let mut html = String::from(
            "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a2e\">",
        );
        for p in paragraphs {
            text.push_str(p);
            text.push_str("\n\n");
            html.push_str(&format!("<p>{}</p>", esc(p).replace('\n', "<br>")));
        }
        if let Some((label, url)) = action {
            text.push_str(&format!("{label}: {url}\n\n"));
            html.push_str(&format!(
                "<p><a href=\"{}\" style=\"background:#2446c7;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none\">{}</a></p>\
                 <p style=\"font-size:13px;color:#555\">Or paste this link into your browser: {}</p>",
                esc(url),
                esc(label),
                esc(url)
            ));
        }
        text.push_str(&format!("--\n{footer}\n"));
        html.push_str(&format!("<hr><p style=\"font-size:12px;color:#666\">{}</p></body></html>", esc(footer)));
        Self { to: to.to_owned(), subject: subject.to_owned(), text, html }
    }
}

impl App {
    /// Whether an SMTP server is configured (else links are shown instead).
    pub fn mail_enabled(&self) -> bool {
        self.0.config.smtp_url.is_some()
    }

    /// Queue a message in the same transaction as what caused it. Nothing
    /// is queued when SMTP is not configured (the caller shows the link).
    pub async fn enqueue_mail(&self, tx: &mut TenantWrite, m: &Message) -> AppResult<bool> {
        if !self.mail_enabled() {
            return Ok(false);
        }
        let id: RecordId = self.new_id();
        tx.enqueue_email(NewEmail {
            id: &id,
            to: &m.to,
            subject: &m.subject,
            text: &m.text,
            html: &m.html,
            now: self.now(),
        })
        .await?;
        Ok(true)
    }

    /// The newest outgoing messages of the caller's tenant with their
    /// delivery state (Settings → Outgoing mail): whether invites and
    /// reset links went out, and why not.
    pub async fn mail_outbox(&self, by: Can<'_, caps::SettingsManage>, limit: Limit) -> AppResult<Vec<OutboxStatus>> {
        Ok(self.db(by.ctx).read().await?.list_outbox(i64::from(limit.get())).await?)
    }

    /// Nudge the mail worker after a commit that queued mail.
    pub fn wake_mailer(&self) {
        self.0.mail_wake.notify_one();
    }

    /// Deliver queued mail until `shutdown` resolves. Runs on every node;
    /// claims keep two nodes from sending one message twice.
    pub async fn run_mail_worker(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let Some(url) = self.0.config.smtp_url.clone() else { return };
        let transport = match lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&url) {
            Ok(b) => b.timeout(Some(Duration::from_secs(20))).build(),
            Err(e) => {
                tracing::error!(error = %e, "invalid SMTP URL; mail will not be delivered");
                return;
            }
        };
        loop {
            match self.deliver_due(&transport).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "mail worker pass failed"),
            }
            tokio::select! {
                _ = self.0.mail_wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    async fn deliver_due(&self, transport: &lettre::AsyncSmtpTransport<lettre::Tokio1Executor>) -> AppResult<usize> {
        let now = self.now();
        let batch = self.0.store.global_claim_emails(now, 120_000, 20).await?;
        let n = batch.len();
        for m in batch {
            match send(transport, &self.0.config.mail_from, &m).await {
                Ok(()) => self.0.store.global_email_sent(&m.tenant_id, &m.id, self.now()).await?,
                Err(e) => {
                    let retry = (m.attempts < MAX_ATTEMPTS).then(|| backoff(self.now(), m.attempts));
                    tracing::warn!(to = %m.to, attempts = m.attempts, error = %e, "mail delivery failed");
                    let msg: String = e.chars().take(500).collect();
                    self.0.store.global_email_failed(&m.tenant_id, &m.id, &msg, retry, self.now()).await?;
                }
            }
        }
        Ok(n)
    }
}

/// Next attempt: 5 s, 10 s, 20 s, … capped at one hour.
pub fn backoff(now: Timestamp, attempts: i64) -> Timestamp {
    let secs = 5i64.saturating_mul(1i64 << attempts.clamp(0, 20)).min(3600);
    now.plus_secs(secs)
}

async fn send(
    transport: &lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: &str,
    m: &OutboxEmail,
) -> Result<(), String> {
    use lettre::AsyncTransport;
    use lettre::message::{Mailbox, MultiPart};
    let from: Mailbox = from.parse().map_err(|e| format!("bad from address: {e}"))?;
    let to: Mailbox = m.to.parse().map_err(|e| format!("bad recipient: {e}"))?;
    let email = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(&m.subject)
        .multipart(MultiPart::alternative_plain_html(m.text.clone(), m.html.clone()))
        .map_err(|e| e.to_string())?;
    transport.send(email).await.map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_escapes_html() {
        let m =
            Message::compose("a@b.co", "Hi", &["<script>x</script>".into()], Some(("Go", "http://x/?a=1&b=2")), "f");
        assert!(m.html.contains("&lt;script&gt;"));
        assert!(!m.html.contains("<script>"));
        assert!(m.html.contains("a=1&amp;b=2"));
        assert!(m.text.contains("http://x/?a=1&b=2"));
    }

    #[test]
    fn backoff_grows_and_caps() {
        let t = Timestamp::from_millis(0);
        assert_eq!(backoff(t, 0).secs(), 5);
        assert_eq!(backoff(t, 1).secs(), 10);
        assert_eq!(backoff(t, 30).secs(), 3600);
    }
}
