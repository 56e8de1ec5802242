//! Sessions: opaque random tokens stored hashed, valid only on the tenant
//! that issued them, with idle and absolute expiry; sign-in with throttling
//! and 2FA; sign-out.

use super::{password, token, totp};
use crate::App;
use crate::ctx::{Actor, Ctx};
use crate::error::{AppError, AppResult};
use crate::tenants::Tenant;
use serde::{Deserialize, Serialize};
use tier0_domain::{Email, NavConfig, PermissionSet, Principal, SessionId, Timestamp, User, UserId};
use tier0_store::TenantWrite;
use tier0_store::sessions::NewSession;
use tier0_store::users::Credentials;

/// How often `last_seen_at` is written (idle expiry needs no finer grain).
const TOUCH_EVERY_MS: i64 = 60_000;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub totp_code: Option<String>,
}

/// A new session: the token is shown once, here.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionOut {
    pub token: String,
    pub expires_at: Timestamp,
    pub user: User,
}

impl App {
    /// Build the request context from the tenant and an optional session
    /// token. An unknown, revoked or expired token yields an anonymous
    /// caller (or the read-only guest when enabled and `safe_method`).
    pub async fn context(
        &self,
        tenant: Tenant,
        session_token: Option<&str>,
        safe_method: bool,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> AppResult<Ctx> {
        let mut actor = Actor::Anonymous;
        if let Some(tok) = session_token.filter(|t| !t.is_empty() && t.len() <= 200)
            && let Some((principal, session)) = self.lookup_session(&tenant, tok).await?
        {
            actor = Actor::User { principal, session };
        }
        if matches!(actor, Actor::Anonymous) && safe_method && self.0.config.anonymous_read {
            actor = Actor::Guest(guest_principal(&tenant));
        }
        let user_agent = user_agent.map(|u| u.chars().take(300).collect());
        Ok(Ctx { tenant, actor, ip, user_agent })
    }

    /// A context for work done on behalf of the system (CLI, demo data).
    pub fn system_context(&self, tenant: Tenant) -> Ctx {
        Ctx { tenant, actor: Actor::Anonymous, ip: None, user_agent: Some("tier0 cli".into()) }
    }

    async fn lookup_session(&self, tenant: &Tenant, tok: &str) -> AppResult<Option<(Principal, SessionId)>> {
        let hash = token::hash_secret(tok);
        let db = self.db_for(tenant);
        let key = (tenant.id.clone(), hash);
        let s = match self.0.sessions.get(&key) {
            Some(s) => s,
            None => {
                let generation = self.0.sessions.generation();
                let mut r = db.read().await?;
                let Some(s) = r.session_by_token_hash(&key.1).await? else { return Ok(None) };
                drop(r);
                self.0.sessions.put(key, s.clone(), generation);
                s
            }
        };
        let now = self.now();
        let idle_deadline = s.last_seen_at.plus_secs(self.0.config.session_idle_secs);
        if !s.user.active || now >= s.expires_at || now >= idle_deadline {
            return Ok(None);
        }
        if now.millis() - s.last_seen_at.millis() > TOUCH_EVERY_MS {
            let mut tx = db.write().await?;
            tx.touch_session(&s.id, now).await?;
            tx.commit().await?;
        }
        let role_is_admin = s.permissions.is_all();
        Ok(Some((
            Principal { tenant_id: tenant.id.clone(), user: s.user, permissions: s.permissions, role_is_admin },
            s.id,
        )))
    }

    /// Create a session for `user` inside `tx`; returns the raw token.
    pub(crate) async fn open_session(
        &self,
        tx: &mut TenantWrite,
        ctx: &Ctx,
        user: &UserId,
    ) -> AppResult<(String, Timestamp)> {
        let raw = self.new_secret();
        let id: SessionId = self.new_id();
        let now = self.now();
        let expires_at = now.plus_secs(self.0.config.session_absolute_secs);
        tx.insert_session(NewSession {
            id: &id,
            token_hash: &token::hash_secret(&raw),
            user,
            now,
            expires_at,
            ip: ctx.ip(),
            user_agent: ctx.user_agent(),
        })
        .await?;
        Ok((raw, expires_at))
    }

    /// `POST /api/auth/login`: one call with the code when 2FA is on.
    pub async fn login(&self, ctx: &Ctx, input: LoginInput) -> AppResult<SessionOut> {
        match self.login_step(ctx, input).await? {
            LoginStep::Done(s) => Ok(s),
            LoginStep::NeedTotp { .. } => Err(totp_required()),
        }
    }

    /// Sign-in for the pages: when 2FA is on and no code was given, returns
    /// a short-lived signed challenge so the code can be asked for on a
    /// second screen without sending the password again.
    pub async fn login_step(&self, ctx: &Ctx, input: LoginInput) -> AppResult<LoginStep> {
        let email_key = input.email.trim().to_ascii_lowercase();
        let ip_key = ctx.ip().unwrap_or("unknown").to_owned();
        let db = self.db(ctx);
        self.check_login_throttle(ctx, &email_key, &ip_key).await?;

        let creds = match Email::parse("email", &input.email) {
            Ok(email) => db.read().await?.credentials_by_email(&email).await?,
            Err(_) => None,
        };
        let password_ok = self.verify_password_timed(creds.as_ref(), &input.password).await;
        let user_ok = password_ok && creds.as_ref().is_some_and(|c| c.user.active);
        if !user_ok {
            let user = creds.as_ref().map(|c| &c.user);
            self.record_login_failure(ctx, &email_key, &ip_key, user, "auth.login_failed", "invalid_credentials")
                .await?;
            return Err(AppError::Unauthorized {
                code: "invalid_credentials",
                message: "The e-mail address or password is not correct.".into(),
            });
        }
        let creds = creds.ok_or(AppError::Unauthenticated)?;
        let code = input.totp_code.as_deref().map(str::trim).filter(|c| !c.is_empty());
        if creds.user.totp_enabled && code.is_none() {
            let expires = self.now().plus_secs(CHALLENGE_SECS).millis();
            let nonce = self.new_secret();
            let challenge = token::sign_link(
                &self.0.link_key,
                "mfa",
                ctx.tenant.id.as_str(),
                creds.user.id.as_str(),
                &format!("{expires}-{nonce}"),
            );
            return Ok(LoginStep::NeedTotp { challenge });
        }
        self.finish_login(ctx, creds, code, &email_key, &ip_key).await.map(LoginStep::Done)
    }

    /// Second step of a page sign-in: the challenge from [`App::login_step`]
    /// and a TOTP or recovery code.
    pub async fn login_totp(&self, ctx: &Ctx, challenge: &str, code: &str) -> AppResult<SessionOut> {
        let expired = || AppError::Unauthorized {
            code: "challenge_expired",
            message: "That took too long; sign in again.".into(),
        };
        let (uid, rest) =
            token::verify_link(&self.0.link_key, "mfa", ctx.tenant.id.as_str(), challenge).ok_or_else(expired)?;
        let expires: i64 = rest.split('-').next().and_then(|e| e.parse().ok()).ok_or_else(expired)?;
        if self.now().millis() >= expires {
            return Err(expired());
        }
        let creds = self
            .db(ctx)
            .read()
            .await?
            .credentials(&UserId::new(uid))
            .await?
            .filter(|c| c.user.active)
            .ok_or_else(expired)?;
        let email_key = creds.user.email.as_str().to_owned();
        let ip_key = ctx.ip().unwrap_or("unknown").to_owned();
        self.check_login_throttle(ctx, &email_key, &ip_key).await?;
        let code = code.trim();
        self.finish_login(ctx, creds, (!code.is_empty()).then_some(code), &email_key, &ip_key).await
    }

    async fn finish_login(
        &self,
        ctx: &Ctx,
        creds: Credentials,
        code: Option<&str>,
        email_key: &str,
        ip_key: &str,
    ) -> AppResult<SessionOut> {
        let mut tx = self.db(ctx).write().await?;
        if creds.user.totp_enabled {
            let Some(code) = code else { return Err(totp_required()) };
            if !self.check_second_factor(&mut tx, &creds, code).await? {
                drop(tx);
                self.record_login_failure(
                    ctx,
                    email_key,
                    ip_key,
                    Some(&creds.user),
                    "auth.login_failed",
                    "invalid_totp",
                )
                .await?;
                return Err(invalid_totp());
            }
        }
        tx.rate_clear("login_account", email_key).await?;
        let (token, expires_at) = self.open_session(&mut tx, ctx, &creds.user.id).await?;
        let ctx_user = ctx_as(ctx, &creds.user);
        self.audit(
            &mut tx,
            &ctx_user,
            "auth.login",
            Some(("user", creds.user.id.as_str())),
            serde_json::json!({"ok": true}),
        )
        .await?;
        tx.commit().await?;
        Ok(SessionOut { token, expires_at, user: creds.user })
    }

    /// Verify a password, spending the same argon2 work whether or not the
    /// account exists.
    pub(crate) async fn verify_password_timed(&self, creds: Option<&Credentials>, password: &str) -> bool {
        let phc = creds.and_then(|c| c.password_hash.clone()).unwrap_or_else(|| self.0.dummy_hash.clone());
        let exists = creds.is_some_and(|c| c.password_hash.is_some());
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || password::verify(&password, &phc)).await.unwrap_or(false);
        ok && exists
    }

    /// A TOTP code (not replayed) or an unused recovery code.
    pub(crate) async fn check_second_factor(
        &self,
        tx: &mut TenantWrite,
        creds: &Credentials,
        code: &str,
    ) -> AppResult<bool> {
        let Some(secret) = creds.totp_secret.as_deref().and_then(totp::base32_decode) else { return Ok(false) };
        if let Some(step) = totp::verify(&secret, code, self.now().secs()) {
            return Ok(tx.advance_totp_step(&creds.user.id, step).await?);
        }
        let normalized = normalize_recovery(code);
        if normalized.len() == 10 {
            return Ok(tx.use_recovery_code(&creds.user.id, &token::hash_secret(&normalized), self.now()).await?);
        }
        Ok(false)
    }

    /// 429 while the account or the client address has used up its budget
    /// of failed attempts (shared by every node through the database).
    pub(crate) async fn check_login_throttle(&self, ctx: &Ctx, email_key: &str, ip_key: &str) -> AppResult<()> {
        let policy = self.0.config.throttle;
        self.check_throttle(ctx, "login_account", email_key, policy.account_failures).await?;
        self.check_throttle(ctx, "login_address", ip_key, policy.address_failures).await
    }

    /// Check the signed-in user's own password before a sensitive change,
    /// under the sign-in throttle, so a stolen session cannot guess it.
    pub(crate) async fn confirm_own_password(
        &self,
        ctx: &Ctx,
        creds: &Credentials,
        password: &str,
        field: &str,
    ) -> AppResult<()> {
        let email_key = creds.user.email.as_str();
        let ip_key = ctx.ip().unwrap_or("unknown");
        self.check_login_throttle(ctx, email_key, ip_key).await?;
        if !self.verify_password_timed(Some(creds), password).await {
            self.record_login_failure(
                ctx,
                email_key,
                ip_key,
                Some(&creds.user),
                "auth.password_check_failed",
                "wrong_password",
            )
            .await?;
            return Err(AppError::field(field, "is not correct"));
        }
        Ok(())
    }

    async fn check_throttle(&self, ctx: &Ctx, bucket: &str, key: &str, limit: i64) -> AppResult<()> {
        let window = self.0.config.throttle.window_secs;
        let mut r = self.db(ctx).read().await?;
        if let Some(w) = r.rate_window(bucket, key).await? {
            let ends = w.start.plus_secs(window);
            let now = self.now();
            if w.hits >= limit && now < ends {
                let secs = ((ends.millis() - now.millis()) as u64).div_ceil(1000).max(1);
                return Err(AppError::Throttled { retry_after_secs: secs });
            }
        }
        Ok(())
    }

    /// Count a failed attempt against the account and the address, and
    /// audit it as `action` with `why`. Call with no write transaction open.
    pub(crate) async fn record_login_failure(
        &self,
        ctx: &Ctx,
        email_key: &str,
        ip_key: &str,
        user: Option<&User>,
        action: &str,
        why: &str,
    ) -> AppResult<()> {
        let window_ms = self.0.config.throttle.window_secs * 1000;
        let now = self.now();
        let mut tx = self.db(ctx).write().await?;
        tx.rate_hit("login_account", email_key, now, window_ms).await?;
        tx.rate_hit("login_address", ip_key, now, window_ms).await?;
        let label: String = email_key.chars().take(254).collect();
        let id: tier0_domain::RecordId = self.new_id();
        tx.insert_audit(tier0_store::audit::NewAudit {
            id: &id,
            at: now,
            actor_id: user.map(|u| &u.id),
            actor_label: &label,
            action,
            target_type: user.map(|_| "user"),
            target_id: user.map(|u| u.id.as_str()),
            ip: ctx.ip(),
            details: &serde_json::json!({ "reason": why }),
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /api/auth/logout`: revoke the caller's session.
    pub async fn logout(&self, ctx: &Ctx) -> AppResult<()> {
        let me = ctx.signed_in()?;
        let mut tx = self.db(ctx).write().await?;
        tx.revoke_session(me.session, self.now()).await?;
        self.audit(&mut tx, ctx, "auth.logout", Some(("user", me.user_id().as_str())), serde_json::json!({})).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// How long the second sign-in step may take.
const CHALLENGE_SECS: i64 = 300;

/// Outcome of the first sign-in step.
#[derive(Debug, Clone)]
pub enum LoginStep {
    Done(SessionOut),
    /// 2FA is on: ask for a code, then call [`App::login_totp`].
    NeedTotp {
        challenge: String,
    },
}

pub(crate) fn totp_required() -> AppError {
    AppError::Unauthorized {
        code: "totp_required",
        message: "Enter the 6-digit code from your authenticator app.".into(),
    }
}

pub(crate) fn invalid_totp() -> AppError {
    AppError::Unauthorized {
        code: "invalid_totp",
        message: "That code is not valid. Use a current code or a recovery code.".into(),
    }
}

/// Recovery codes are shown as `xxxxx-xxxxx`; accept any case and spacing.
pub(crate) fn normalize_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// A context that attributes audit entries to `user` (sign-in, sign-up).
pub(crate) fn ctx_as(ctx: &Ctx, user: &User) -> Ctx {
    let permissions = PermissionSet::default();
    Ctx {
        tenant: ctx.tenant.clone(),
        actor: Actor::User {
            principal: Principal {
                tenant_id: ctx.tenant.id.clone(),
                user: user.clone(),
                permissions,
                role_is_admin: false,
            },
            session: SessionId::new(""),
        },
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
    }
}

fn guest_principal(tenant: &Tenant) -> Principal {
    let permissions = PermissionSet::new([tier0_domain::Permission::known("itsm:read")]);
    let now = Timestamp::from_millis(0);
    Principal {
        tenant_id: tenant.id.clone(),
        user: User {
            id: UserId::new("guest"),
            email: Email::from_trusted("guest@invalid"),
            name: "Guest".into(),
            username: None,
            role_id: tier0_domain::RoleId::new("guest"),
            role: "guest".into(),
            active: true,
            totp_enabled: false,
            notification_prefs: Default::default(),
            created_at: now,
            updated_at: now,
        },
        permissions,
        role_is_admin: false,
    }
}

/// `/api/me` body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub username: Option<String>,
    pub role: String,
    pub permissions: Vec<String>,
    pub tenant: Tenant,
    pub nav: NavConfig,
    pub totp_enabled: bool,
    pub notification_prefs: tier0_domain::NotificationPrefs,
}

impl App {
    /// `GET /api/me`.
    pub fn me(&self, ctx: &Ctx) -> AppResult<Me> {
        let p = ctx.principal().ok_or(AppError::Unauthenticated)?;
        Ok(Me {
            id: p.user.id.clone(),
            email: p.user.email.clone(),
            name: p.user.name.clone(),
            username: p.user.username.clone(),
            role: p.user.role.clone(),
            permissions: p.permissions.effective(),
            tenant: ctx.tenant.clone(),
            nav: p.nav(),
            totp_enabled: p.user.totp_enabled,
            notification_prefs: p.user.notification_prefs.clone(),
        })
    }
}
