//! The signed-in user's own account: profile, password, two-factor sign-in.

use super::sessions::normalize_recovery;
use super::{password, token, totp};
use crate::error::{AppError, AppResult};
use crate::{App, SignedIn};
use serde::{Deserialize, Serialize};
use tier0_domain::{Name, NotificationPrefs, User, ValidationError};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ProfilePatch {
    #[serde(default)]
    pub name: Option<String>,
    /// A new username; an empty string clears it.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub notification_prefs: Option<NotificationPrefs>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TotpSetupOut {
    /// Base32 secret for manual entry.
    pub secret: String,
    pub otpauth_uri: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TotpCode {
    /// The 6-digit code shown by the authenticator app.
    #[schema(min_length = 6, max_length = 10)]
    pub code: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    /// Shown once. Each works once in place of an authenticator code.
    pub recovery_codes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PasswordConfirm {
    pub password: String,
}

/// Usernames: 3–32 of lowercase letters, digits, `.`, `_`, `-`.
pub fn parse_username(s: &str) -> Result<Option<String>, ValidationError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let ok = (3..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(Some(s.to_owned()))
    } else {
        Err(ValidationError::field("username", "must be 3–32 lowercase letters, digits, dots, dashes or underscores"))
    }
}

impl App {
    /// `PATCH /api/me`.
    pub async fn update_profile(&self, me: SignedIn<'_>, patch: ProfilePatch) -> AppResult<User> {
        let mut errs = ValidationError::new();
        let name = patch.name.as_deref().map(|n| errs.collect(Name::parse("name", n)));
        let username = patch.username.as_deref().map(|u| errs.collect(parse_username(u)));
        errs.clone().into_result()?;
        let name = name.flatten();
        let username: Option<Option<String>> = username.map(|u| u.flatten());
        let mut tx = self.db(me.ctx).write().await?;
        tx.update_user_profile(
            me.user_id(),
            name.as_ref().map(|n| n.as_str()),
            username.as_ref().map(|u| u.as_deref()),
            patch.notification_prefs.as_ref(),
            self.now(),
        )
        .await
        .map_err(|e| match e {
            tier0_store::StoreError::Conflict(_) => AppError::conflict("username_taken", "that username is taken"),
            other => other.into(),
        })?;
        let user = tx.get_user(me.user_id()).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        Ok(user)
    }

    /// `POST /api/me/password`: keeps this session, revokes the others.
    pub async fn change_password(&self, me: SignedIn<'_>, input: PasswordChange) -> AppResult<()> {
        let db = self.db(me.ctx);
        let creds = db.read().await?.credentials(me.user_id()).await?.ok_or(AppError::NotFound)?;
        self.confirm_own_password(me.ctx, &creds, &input.current_password, "current_password").await?;
        password::check_policy("new_password", &input.new_password, &[creds.user.email.as_str(), &creds.user.name])?;
        if input.new_password == input.current_password {
            return Err(AppError::field("new_password", "must differ from the current password"));
        }
        let hash = self.hash_password(&input.new_password).await?;
        let now = self.now();
        let mut tx = db.write().await?;
        tx.set_user_password(me.user_id(), &hash, now).await?;
        tx.revoke_user_sessions(me.user_id(), Some(me.session), now).await?;
        tx.expire_user_tokens(tier0_store::tokens::TokenKind::Reset, me.user_id(), now).await?;
        self.audit(
            &mut tx,
            me.ctx,
            "user.password_changed",
            Some(("user", me.user_id().as_str())),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /api/me/totp/setup`: a new pending secret (not active until
    /// confirmed with a code).
    pub async fn totp_setup(&self, me: SignedIn<'_>) -> AppResult<TotpSetupOut> {
        if me.principal.user.totp_enabled {
            return Err(AppError::conflict("totp_enabled", "two-factor sign-in is already on; turn it off first"));
        }
        let secret = totp::base32_encode(&self.random_bytes::<20>());
        let mut tx = self.db(me.ctx).write().await?;
        tx.set_totp_secret(me.user_id(), Some(&secret), false, self.now()).await?;
        tx.commit().await?;
        let issuer = format!("{} support", me.ctx.tenant().name);
        let uri = totp::otpauth_uri(&secret, &issuer, me.principal.user.email.as_str());
        Ok(TotpSetupOut { secret, otpauth_uri: uri })
    }

    /// `POST /api/me/totp/enable`: confirm the pending secret with a code;
    /// returns ten single-use recovery codes.
    pub async fn totp_enable(&self, me: SignedIn<'_>, input: TotpCode) -> AppResult<RecoveryCodes> {
        if me.principal.user.totp_enabled {
            return Err(AppError::conflict("totp_enabled", "two-factor sign-in is already on"));
        }
        let db = self.db(me.ctx);
        let creds = db.read().await?.credentials(me.user_id()).await?.ok_or(AppError::NotFound)?;
        let Some(secret) = creds.totp_secret.as_deref().and_then(totp::base32_decode) else {
            return Err(AppError::conflict("totp_not_set_up", "start two-factor setup first"));
        };
        let Some(step) = totp::verify(&secret, &input.code, self.now().secs()) else {
            return Err(AppError::field("code", "is not valid; check your device's clock and try the current code"));
        };
        let mut codes = Vec::new();
        let mut hashes = Vec::new();
        for _ in 0..10 {
            let raw = recovery_code(&self.random_bytes::<8>());
            hashes.push(token::hash_secret(&normalize_recovery(&raw)));
            codes.push(raw);
        }
        let mut tx = db.write().await?;
        tx.set_totp_secret(me.user_id(), creds.totp_secret.as_deref(), true, self.now()).await?;
        tx.advance_totp_step(me.user_id(), step).await?;
        tx.replace_recovery_codes(me.user_id(), &hashes).await?;
        self.audit(&mut tx, me.ctx, "user.totp_enabled", Some(("user", me.user_id().as_str())), serde_json::json!({}))
            .await?;
        tx.commit().await?;
        Ok(RecoveryCodes { recovery_codes: codes })
    }

    /// `POST /api/me/totp/disable`: needs the password.
    pub async fn totp_disable(&self, me: SignedIn<'_>, input: PasswordConfirm) -> AppResult<()> {
        let db = self.db(me.ctx);
        let creds = db.read().await?.credentials(me.user_id()).await?.ok_or(AppError::NotFound)?;
        self.confirm_own_password(me.ctx, &creds, &input.password, "password").await?;
        let mut tx = db.write().await?;
        tx.set_totp_secret(me.user_id(), None, false, self.now()).await?;
        tx.replace_recovery_codes(me.user_id(), &[]).await?;
        self.audit(&mut tx, me.ctx, "user.totp_disabled", Some(("user", me.user_id().as_str())), serde_json::json!({}))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The pending (set up, not yet confirmed) secret, to show the setup
    /// again after a mistyped code. `None` when there is none or 2FA is on.
    pub async fn totp_pending(&self, me: SignedIn<'_>) -> AppResult<Option<TotpSetupOut>> {
        let creds = self.db(me.ctx).read().await?.credentials(me.user_id()).await?.ok_or(AppError::NotFound)?;
        if creds.user.totp_enabled {
            return Ok(None);
        }
        Ok(creds.totp_secret.map(|secret| {
            let issuer = format!("{} support", me.ctx.tenant().name);
            let uri = totp::otpauth_uri(&secret, &issuer, me.principal.user.email.as_str());
            TotpSetupOut { secret, otpauth_uri: uri }
        }))
    }

    /// The caller's live sessions (neither revoked nor expired, idle or
    /// absolute).
    pub async fn my_sessions(&self, me: SignedIn<'_>) -> AppResult<Vec<tier0_domain::SessionInfo>> {
        let now = self.now();
        let idle = self.0.config.session_idle_secs;
        let all = self.db(me.ctx).read().await?.list_user_sessions(me.user_id(), now).await?;
        Ok(all.into_iter().filter(|s| now < s.last_seen_at.plus_secs(idle)).collect())
    }

    /// `DELETE /api/me/sessions/{id}`: sign one of the caller's sessions
    /// out (another device, or this one). Someone else's session is 404.
    pub async fn revoke_my_session(&self, me: SignedIn<'_>, id: &str) -> AppResult<()> {
        let mut tx = self.db(me.ctx).write().await?;
        let sid = tier0_domain::SessionId::new(id);
        if !tx.revoke_own_session(me.user_id(), &sid, self.now()).await? {
            return Err(AppError::NotFound);
        }
        self.audit(&mut tx, me.ctx, "auth.session_revoked", Some(("session", id)), serde_json::json!({})).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// `xxxxx-xxxxx` from 8 random bytes (lowercase base32, 10 characters).
fn recovery_code(bytes: &[u8; 8]) -> String {
    let s = totp::base32_encode(bytes).to_ascii_lowercase();
    format!("{}-{}", &s[..5], &s[5..10])
}
