//! Getting an account: first-admin registration, invites and sign-up, and
//! password reset by e-mail.

use super::sessions::{SessionOut, ctx_as, invalid_totp, totp_required};
use super::{password, token};
use crate::ctx::{Ctx, caps};
use crate::error::{AppError, AppResult};
use crate::mail::Message;
use crate::tenants::Tenant;
use crate::{App, Can};
use serde::{Deserialize, Serialize};
use tier0_domain::{BuiltinRole, Cursor, Email, Limit, Name, RecordId, RoleId, Timestamp, UserId, ValidationError};
use tier0_store::TenantWrite;
use tier0_store::tokens::{NewToken, TokenKind, TokenRecord};
use tier0_store::users::NewUser;

pub const INVITE_TTL_HOURS: i64 = 72;
pub const RESET_TTL_SECS: i64 = 30 * 60;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct InviteInput {
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// Role name or id; defaults to `requester`.
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InviteOut {
    /// The invite, for `DELETE /api/auth/invites/{id}`.
    pub id: RecordId,
    pub invite_url: String,
    pub expires_at: Timestamp,
    /// Whether the link was also e-mailed (SMTP configured).
    pub emailed: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SignupInput {
    pub token: String,
    pub password: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Needed only for invites issued without an address (a new tenant's
    /// first admin).
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ForgotInput {
    pub email: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ResetInput {
    pub token: String,
    pub password: String,
    #[serde(default)]
    pub totp_code: Option<String>,
}

/// What an invite link reveals before sign-up (for the sign-up page).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvitePreview {
    pub email: Option<Email>,
    pub role: String,
    pub expires_at: Timestamp,
}

/// An invite not yet used, withdrawn or expired.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingInvite {
    pub id: RecordId,
    /// `null` for an invite any address may use (a new tenant's first admin).
    pub email: Option<Email>,
    pub role: String,
    /// E-mail of the inviter; `null` when the system issued it.
    pub invited_by: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct InviteListQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// What a reset link reveals before use (for the reset page).
#[derive(Debug, Clone, Serialize)]
pub struct ResetPreview {
    pub email: Email,
    /// The account has 2FA on: the reset needs a code too.
    pub totp_required: bool,
}

fn invalid_link() -> AppError {
    AppError::bad_request("invalid_token", "This link is invalid, has expired or was already used.")
}

impl App {
    pub(crate) async fn hash_password(&self, password: &str) -> AppResult<String> {
        let salt = self.random_bytes::<16>();
        let cost = self.0.config.hash_cost;
        let p = password.to_owned();
        tokio::task::spawn_blocking(move || password::hash(&p, salt, cost))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)
    }

    /// `POST /api/auth/register`: the first admin of an empty tenant.
    pub async fn register_first_admin(&self, ctx: &Ctx, input: RegisterInput) -> AppResult<SessionOut> {
        let mut errs = ValidationError::new();
        let email = errs.collect(Email::parse("email", &input.email));
        let name = errs.collect(Name::parse("name", &input.name));
        let ctxs: Vec<&str> = [input.email.as_str(), input.name.as_str()].into();
        errs.collect(password::check_policy("password", &input.password, &ctxs));
        // Registration closes for good once anyone exists: check before
        // revealing validation details.
        let db = self.db(ctx);
        if db.read().await?.count_users().await? > 0 {
            return Err(AppError::Forbidden {
                code: "registration_closed",
                message: "This organisation already has users; ask an administrator for an invite.".into(),
            });
        }
        errs.clone().into_result()?;
        let (Some(email), Some(name)) = (email, name) else { return Err(errs.into()) };
        let hash = self.hash_password(&input.password).await?;
        let mut tx = db.write().await?;
        if tx.count_users().await? > 0 {
            return Err(AppError::Forbidden { code: "registration_closed", message: "Registration is closed.".into() });
        }
        let admin = tx
            .get_role_by_name(BuiltinRole::Admin.name())
            .await?
            .ok_or_else(|| AppError::internal("admin role missing"))?;
        let id: UserId = self.new_id();
        tx.insert_user(NewUser {
            id: &id,
            email: &email,
            name: name.as_str(),
            password_hash: Some(&hash),
            role_id: &admin.id,
            now: self.now(),
        })
        .await?;
        let user = tx.get_user(&id).await?.ok_or(AppError::NotFound)?;
        let (token, expires_at) = self.open_session(&mut tx, ctx, &id).await?;
        self.audit(
            &mut tx,
            &ctx_as(ctx, &user),
            "auth.register_first_admin",
            Some(("user", id.as_str())),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(SessionOut { token, expires_at, user })
    }

    /// Create an invite token inside `tx` and return its URL and expiry.
    pub(crate) async fn issue_invite(
        &self,
        tx: &mut TenantWrite,
        tenant: &Tenant,
        email: Option<&Email>,
        role: Option<&RoleId>,
        by: Option<&UserId>,
    ) -> AppResult<(RecordId, String, Timestamp)> {
        let id: RecordId = self.new_id();
        let secret = self.new_secret();
        let now = self.now();
        let expires_at = now.plus_hours(INVITE_TTL_HOURS);
        // One live invite per address: sending again replaces the old link.
        if let Some(email) = email {
            tx.expire_invites_for_email(email, now).await?;
        }
        tx.insert_token(NewToken {
            id: &id,
            kind: TokenKind::Invite,
            secret_hash: &token::hash_secret(&secret),
            email,
            user_id: None,
            role_id: role,
            created_by: by,
            now,
            expires_at,
        })
        .await?;
        let tok =
            token::sign_link(&self.0.link_key, TokenKind::Invite.as_str(), tenant.id.as_str(), id.as_str(), &secret);
        Ok((id, self.tenant_link(tenant, &format!("/signup?token={tok}")), expires_at))
    }

    /// `POST /api/auth/invite`.
    pub async fn invite(&self, by: Can<'_, caps::UsersWrite>, input: InviteInput) -> AppResult<InviteOut> {
        let ctx = by.ctx;
        let email = Email::parse("email", &input.email)?;
        let db = self.db(ctx);
        let mut tx = db.write().await?;
        let role_key =
            input.role.as_deref().map(str::trim).filter(|r| !r.is_empty()).unwrap_or(BuiltinRole::Requester.name());
        let role = match tx.get_role_by_name(role_key).await? {
            Some(r) => r,
            None => tx
                .get_role(&RoleId::new(role_key))
                .await?
                .ok_or_else(|| AppError::field("role", "is not a role of this organisation"))?,
        };
        if !by.principal.permissions.covers(&role.permissions) {
            return Err(AppError::forbidden(format!(
                "you cannot invite someone as {} because that role has permissions you do not hold",
                role.name
            )));
        }
        if tx.get_user_by_email(&email).await?.is_some() {
            return Err(AppError::conflict("user_exists", "someone with this e-mail address already has an account"));
        }
        let (invite_id, url, expires_at) =
            self.issue_invite(&mut tx, &ctx.tenant, Some(&email), Some(&role.id), Some(by.user_id())).await?;
        let inviter = &by.principal.user.name;
        let msg = Message::compose(
            email.as_str(),
            &format!("You're invited to {} support", ctx.tenant.name),
            &[
                "Hello,".into(),
                format!("{inviter} invited you to the {} service desk as {}.", ctx.tenant.name, role.name),
                format!(
                    "Choose a password to finish setting up your account. The link works once and expires in {INVITE_TTL_HOURS} hours."
                ),
            ],
            Some(("Set up my account", &url)),
            "If you did not expect this invitation you can ignore this e-mail.",
        );
        let emailed = self.enqueue_mail(&mut tx, &msg).await?;
        self.audit(
            &mut tx,
            ctx,
            "user.invited",
            Some(("invite", invite_id.as_str())),
            serde_json::json!({"email": email.as_str(), "role": role.name, "emailed": emailed}),
        )
        .await?;
        tx.commit().await?;
        if emailed {
            self.wake_mailer();
        }
        Ok(InviteOut { id: invite_id, invite_url: url, expires_at, emailed })
    }

    /// `GET /api/auth/invites`: pending invites, newest first.
    pub async fn list_invites(
        &self,
        by: Can<'_, caps::UsersRead>,
        q: InviteListQuery,
    ) -> AppResult<super::users::Page<PendingInvite>> {
        let limit = Limit::parse(q.limit)?;
        let before = match q.cursor.as_deref() {
            Some(c) => Some(Cursor::decode(c, 1)?.0.remove(0)),
            None => None,
        };
        let mut r = self.db(by.ctx).read().await?;
        let mut items: Vec<PendingInvite> = r
            .list_pending_invites(self.now(), before.as_deref(), limit.probe())
            .await?
            .into_iter()
            .map(|i| PendingInvite {
                id: i.id,
                email: i.email,
                role: i.role,
                invited_by: i.invited_by,
                created_at: i.created_at,
                expires_at: i.expires_at,
            })
            .collect();
        let next = if items.len() as i64 > i64::from(limit.get()) {
            items.truncate(limit.get() as usize);
            items.last().map(|i| Cursor(vec![i.id.to_string()]).encode())
        } else {
            None
        };
        Ok(super::users::Page { items, next_cursor: next })
    }

    /// `DELETE /api/auth/invites/{id}`: withdraw a pending invite; its link
    /// stops working at once. Unknown, used or expired invites are 404.
    pub async fn revoke_invite(&self, by: Can<'_, caps::UsersWrite>, id: &str) -> AppResult<()> {
        let mut tx = self.db(by.ctx).write().await?;
        let rid = RecordId::new(id);
        let t = tx.get_token(TokenKind::Invite, &rid).await?.ok_or(AppError::NotFound)?;
        if !tx.revoke_token(TokenKind::Invite, &rid, self.now()).await? {
            return Err(AppError::NotFound);
        }
        let email = t.email.as_ref().map(|e| e.as_str());
        self.audit(&mut tx, by.ctx, "user.invite_revoked", Some(("invite", id)), serde_json::json!({"email": email}))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The token row behind a signed link of `kind` for this tenant, if
    /// the signature and secret match and it is unused and unexpired.
    async fn live_link(&self, ctx: &Ctx, kind: TokenKind, link: &str) -> AppResult<TokenRecord> {
        let (id, secret) = token::verify_link(&self.0.link_key, kind.as_str(), ctx.tenant.id.as_str(), link)
            .ok_or_else(invalid_link)?;
        let t = self.db(ctx).read().await?.get_token(kind, &RecordId::new(id)).await?.ok_or_else(invalid_link)?;
        if !token::same_hash(&t.secret_hash, &token::hash_secret(secret))
            || t.used_at.is_some()
            || self.now() >= t.expires_at
        {
            return Err(invalid_link());
        }
        Ok(t)
    }

    /// Check an invite link without consuming it (the sign-up page).
    pub async fn preview_invite(&self, ctx: &Ctx, tok: &str) -> AppResult<InvitePreview> {
        let t = self.live_link(ctx, TokenKind::Invite, tok).await?;
        let mut r = self.db(ctx).read().await?;
        let role = match &t.role_id {
            Some(id) => r.get_role(id).await?.map(|r| r.name).unwrap_or_default(),
            None => BuiltinRole::Requester.name().into(),
        };
        Ok(InvitePreview { email: t.email, role, expires_at: t.expires_at })
    }

    /// `POST /api/auth/signup-exchange`: consume an invite, create the user
    /// and sign them in.
    pub async fn signup_exchange(&self, ctx: &Ctx, input: SignupInput) -> AppResult<SessionOut> {
        let t = self.live_link(ctx, TokenKind::Invite, &input.token).await?;
        let id = t.id.clone();
        let db = self.db(ctx);
        let mut errs = ValidationError::new();
        let email = match (&t.email, input.email.as_deref()) {
            (Some(e), _) => Some(e.clone()),
            (None, Some(given)) => errs.collect(Email::parse("email", given)),
            (None, None) => {
                errs.add("email", "is required");
                None
            }
        };
        let name_in = input.name.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let name = match name_in {
            Some(n) => errs.collect(Name::parse("name", n)),
            None => email.as_ref().map(|e| {
                Name::parse("name", e.as_str().split('@').next().unwrap_or("user"))
                    .unwrap_or_else(|_| Name::parse("name", "user").expect("valid"))
            }),
        };
        let email_str = email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default();
        errs.collect(password::check_policy("password", &input.password, &[&email_str, name_in.unwrap_or("")]));
        errs.clone().into_result()?;
        let (Some(email), Some(name)) = (email, name) else { return Err(errs.into()) };
        let hash = self.hash_password(&input.password).await?;

        let mut tx = db.write().await?;
        if !tx.consume_token(TokenKind::Invite, &id, self.now()).await? {
            return Err(invalid_link());
        }
        let role_id = match &t.role_id {
            // The role may have been deleted since (its invites are withdrawn
            // then, so this is only a race).
            Some(r) => tx.get_role(r).await?.ok_or_else(invalid_link)?.id,
            None => {
                tx.get_role_by_name(BuiltinRole::Requester.name())
                    .await?
                    .ok_or_else(|| AppError::internal("requester role missing"))?
                    .id
            }
        };
        if tx.get_user_by_email(&email).await?.is_some() {
            return Err(AppError::conflict("user_exists", "someone with this e-mail address already has an account"));
        }
        let uid: UserId = self.new_id();
        tx.insert_user(NewUser {
            id: &uid,
            email: &email,
            name: name.as_str(),
            password_hash: Some(&hash),
            role_id: &role_id,
            now: self.now(),
        })
        .await?;
        let user = tx.get_user(&uid).await?.ok_or(AppError::NotFound)?;
        let (token, expires_at) = self.open_session(&mut tx, ctx, &uid).await?;
        self.audit(
            &mut tx,
            &ctx_as(ctx, &user),
            "auth.signup",
            Some(("user", uid.as_str())),
            serde_json::json!({"role": user.role}),
        )
        .await?;
        tx.commit().await?;
        Ok(SessionOut { token, expires_at, user })
    }

    /// `POST /api/auth/forgot-password`: always accepted (no enumeration);
    /// a reset link is mailed when the address has an active account and
    /// its per-account budget allows. Per-address abuse gets 429.
    pub async fn forgot_password(&self, ctx: &Ctx, input: ForgotInput) -> AppResult<()> {
        let policy = self.0.config.throttle;
        let window_ms = policy.window_secs * 4 * 1000;
        let ip_key = ctx.ip().unwrap_or("unknown").to_owned();
        let db = self.db(ctx);
        let mut tx = db.write().await?;
        let w = tx.rate_hit("reset_address", &ip_key, self.now(), window_ms).await?;
        if w.hits > policy.resets_per_address {
            tx.commit().await?;
            let ends = w.start.millis() + window_ms;
            let secs = ((ends - self.now().millis()).max(1000) as u64).div_ceil(1000);
            return Err(AppError::Throttled { retry_after_secs: secs });
        }
        let Ok(email) = Email::parse("email", &input.email) else {
            tx.commit().await?;
            return Ok(());
        };
        let w = tx.rate_hit("reset_account", email.as_str(), self.now(), window_ms).await?;
        let user = tx.get_user_by_email(&email).await?;
        let mut queued = false;
        let user = user.filter(|u| u.active && w.hits <= policy.resets_per_account);
        if let Some(user) = user.as_ref().filter(|_| !self.mail_enabled()) {
            // No way to deliver a link: issue none (an unsendable secret is
            // only a liability), but leave a trace for the administrators.
            tracing::warn!(tenant = %ctx.tenant.slug, "password reset requested but SMTP is not configured; no e-mail sent");
            self.audit(
                &mut tx,
                &ctx_as(ctx, user),
                "auth.reset_requested",
                Some(("user", user.id.as_str())),
                serde_json::json!({"emailed": false}),
            )
            .await?;
        } else if let Some(user) = user {
            let id: RecordId = self.new_id();
            let secret = self.new_secret();
            let now = self.now();
            tx.insert_token(NewToken {
                id: &id,
                kind: TokenKind::Reset,
                secret_hash: &token::hash_secret(&secret),
                email: Some(&email),
                user_id: Some(&user.id),
                role_id: None,
                created_by: None,
                now,
                expires_at: now.plus_secs(RESET_TTL_SECS),
            })
            .await?;
            let tok = token::sign_link(
                &self.0.link_key,
                TokenKind::Reset.as_str(),
                ctx.tenant.id.as_str(),
                id.as_str(),
                &secret,
            );
            let url = self.tenant_link(&ctx.tenant, &format!("/reset-password?token={tok}"));
            let msg = Message::compose(
                email.as_str(),
                &format!("Reset your {} support password", ctx.tenant.name),
                &[
                    format!("Hello {},", user.name),
                    "Someone (hopefully you) asked to reset the password of your service desk account.".into(),
                    "The link works once and expires in 30 minutes. Choosing a new password signs you out everywhere else.".into(),
                ],
                Some(("Choose a new password", &url)),
                "If you did not ask for this, ignore this e-mail: your password stays as it is.",
            );
            queued = self.enqueue_mail(&mut tx, &msg).await?;
            self.audit(
                &mut tx,
                &ctx_as(ctx, &user),
                "auth.reset_requested",
                Some(("user", user.id.as_str())),
                serde_json::json!({"emailed": queued}),
            )
            .await?;
        }
        tx.commit().await?;
        if queued {
            self.wake_mailer();
        }
        Ok(())
    }

    /// Check a reset link without using it (the reset page).
    pub async fn preview_reset(&self, ctx: &Ctx, tok: &str) -> AppResult<ResetPreview> {
        let t = self.live_link(ctx, TokenKind::Reset, tok).await?;
        let mut r = self.db(ctx).read().await?;
        let uid = t.user_id.ok_or_else(invalid_link)?;
        let user = r.get_user(&uid).await?.filter(|u| u.active).ok_or_else(invalid_link)?;
        Ok(ResetPreview { email: user.email, totp_required: user.totp_enabled })
    }

    /// `POST /api/auth/reset-password`: set a new password from a reset
    /// link, revoke every session and sign in afresh.
    pub async fn reset_password(&self, ctx: &Ctx, input: ResetInput) -> AppResult<SessionOut> {
        let t = self.live_link(ctx, TokenKind::Reset, &input.token).await?;
        let id = t.id.clone();
        let db = self.db(ctx);
        let uid = t.user_id.clone().ok_or_else(invalid_link)?;
        let creds = db.read().await?.credentials(&uid).await?.filter(|c| c.user.active).ok_or_else(invalid_link)?;
        password::check_policy("password", &input.password, &[creds.user.email.as_str(), &creds.user.name])?;
        let code = input.totp_code.as_deref().map(str::trim).filter(|c| !c.is_empty());
        if creds.user.totp_enabled && code.is_none() {
            return Err(totp_required());
        }
        // A reset link must not become a way to guess second-factor codes:
        // wrong codes count against the sign-in budget.
        let email_key = creds.user.email.as_str();
        let ip_key = ctx.ip().unwrap_or("unknown");
        if creds.user.totp_enabled {
            self.check_login_throttle(ctx, email_key, ip_key).await?;
        }
        let hash = self.hash_password(&input.password).await?;
        let mut tx = db.write().await?;
        if let Some(code) = code.filter(|_| creds.user.totp_enabled)
            && !self.check_second_factor(&mut tx, &creds, code).await?
        {
            drop(tx);
            self.record_login_failure(ctx, email_key, ip_key, Some(&creds.user), "auth.reset_failed", "invalid_totp")
                .await?;
            return Err(invalid_totp());
        }
        if !tx.consume_token(TokenKind::Reset, &id, self.now()).await? {
            return Err(invalid_link());
        }
        let now = self.now();
        tx.set_user_password(&uid, &hash, now).await?;
        tx.expire_user_tokens(TokenKind::Reset, &uid, now).await?;
        tx.revoke_user_sessions(&uid, None, now).await?;
        tx.rate_clear("login_account", creds.user.email.as_str()).await?;
        let (token, expires_at) = self.open_session(&mut tx, ctx, &uid).await?;
        self.audit(
            &mut tx,
            &ctx_as(ctx, &creds.user),
            "auth.password_reset",
            Some(("user", uid.as_str())),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(SessionOut { token, expires_at, user: creds.user })
    }
}
