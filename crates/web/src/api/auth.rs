//! `/api/auth/*` and `/api/me*` (SPEC §4).

use crate::AppState;
use crate::error::{ApiResult, ErrorBody, Json, Query};
use crate::extract::{Caller, Via, clear_session_cookie, session_cookie};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tier0_app::auth::accounts::{
    ForgotInput, InviteInput, InviteListQuery, InviteOut, PendingInvite, RegisterInput, ResetInput, SignupInput,
};
use tier0_app::auth::profile::{PasswordChange, PasswordConfirm, ProfilePatch, RecoveryCodes, TotpCode, TotpSetupOut};
use tier0_app::auth::sessions::Me;
use tier0_app::auth::users::Page;
use tier0_app::auth::{LoginInput, SessionOut};
use tier0_domain::{SessionInfo, User};

/// A new session as JSON plus the session cookie.
pub(crate) fn session_response(st: &AppState, status: StatusCode, out: SessionOut) -> Response {
    let max_age = (out.expires_at.millis() - st.app.now().millis()) / 1000;
    let cookie = session_cookie(&out.token, max_age.max(0), st.web.https);
    let mut res = (status, axum::Json(out)).into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    res
}

#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterInput,
    responses((status = 201, body = SessionOut, description = "First admin created and signed in"),
              (status = 403, body = ErrorBody, description = "`registration_closed`"),
              (status = 422, body = ErrorBody, description = super::doc::INVALID)))]
pub async fn register(State(st): State<AppState>, c: Caller, Json(input): Json<RegisterInput>) -> ApiResult<Response> {
    let out = st.app.register_first_admin(&c.ctx, input).await?;
    Ok(session_response(&st, StatusCode::CREATED, out))
}

#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = SessionOut),
              (status = 401, body = ErrorBody, description = "`invalid_credentials`, `totp_required` or `invalid_totp`"),
              (status = 429, body = ErrorBody, description = "Throttled; see Retry-After")))]
pub async fn login(State(st): State<AppState>, c: Caller, Json(input): Json<LoginInput>) -> ApiResult<Response> {
    let out = st.app.login(&c.ctx, input).await?;
    Ok(session_response(&st, StatusCode::OK, out))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Session revoked"), (status = 401, body = ErrorBody)))]
pub async fn logout(State(st): State<AppState>, c: Caller) -> ApiResult<Response> {
    st.app.logout(&c.ctx).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    if c.via == Via::Cookie {
        res.headers_mut().insert(header::SET_COOKIE, clear_session_cookie(st.web.https));
    }
    Ok(res)
}

#[utoipa::path(post, path = "/api/auth/invite", tag = "auth", request_body = InviteInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = InviteOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`user_exists`"), (status = 422, body = ErrorBody)))]
pub async fn invite(State(st): State<AppState>, c: Caller, Json(input): Json<InviteInput>) -> ApiResult<Response> {
    let out = st.app.invite(c.ctx.can()?, input).await?;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

#[utoipa::path(get, path = "/api/auth/invites", tag = "auth", params(InviteListQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<PendingInvite>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn list_invites(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<InviteListQuery>,
) -> ApiResult<Json<Page<PendingInvite>>> {
    Ok(Json(st.app.list_invites(c.ctx.can()?, q).await?))
}

#[utoipa::path(delete, path = "/api/auth/invites/{id}", tag = "auth", params(("id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Invite withdrawn; its link no longer works"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "Unknown, used or expired")))]
pub async fn revoke_invite(State(st): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    st.app.revoke_invite(c.ctx.can()?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/auth/signup-exchange", tag = "auth", request_body = SignupInput,
    responses((status = 201, body = SessionOut), (status = 400, body = ErrorBody, description = "`invalid_token`"),
              (status = 422, body = ErrorBody)))]
pub async fn signup_exchange(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<SignupInput>,
) -> ApiResult<Response> {
    let out = st.app.signup_exchange(&c.ctx, input).await?;
    Ok(session_response(&st, StatusCode::CREATED, out))
}

#[utoipa::path(post, path = "/api/auth/forgot-password", tag = "auth", request_body = ForgotInput,
    responses((status = 202, description = "Always accepted"), (status = 429, body = ErrorBody)))]
pub async fn forgot_password(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<ForgotInput>,
) -> ApiResult<Response> {
    st.app.forgot_password(&c.ctx, input).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(serde_json::json!({"status": "accepted"}))).into_response())
}

#[utoipa::path(post, path = "/api/auth/reset-password", tag = "auth", request_body = ResetInput,
    responses((status = 200, body = SessionOut), (status = 400, body = ErrorBody, description = "`invalid_token`"),
              (status = 401, body = ErrorBody, description = "`totp_required` / `invalid_totp`"), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "Too many wrong codes (the sign-in throttle); see Retry-After")))]
pub async fn reset_password(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<ResetInput>,
) -> ApiResult<Response> {
    let out = st.app.reset_password(&c.ctx, input).await?;
    Ok(session_response(&st, StatusCode::OK, out))
}

#[utoipa::path(get, path = "/api/me", tag = "me", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(st): State<AppState>, c: Caller) -> ApiResult<Json<Me>> {
    Ok(Json(st.app.me(&c.ctx)?))
}

#[utoipa::path(patch, path = "/api/me", tag = "me", request_body = ProfilePatch, security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody, description = "`username_taken`"),
              (status = 422, body = ErrorBody)))]
pub async fn patch_me(State(st): State<AppState>, c: Caller, Json(input): Json<ProfilePatch>) -> ApiResult<Json<User>> {
    Ok(Json(st.app.update_profile(c.ctx.signed_in()?, input).await?))
}

#[utoipa::path(post, path = "/api/me/password", tag = "me", request_body = PasswordChange, security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Changed; other sessions revoked"), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "`current_password` is not correct, or the new one is too weak"),
              (status = 429, body = ErrorBody, description = "Too many wrong passwords (the sign-in throttle); see Retry-After")))]
pub async fn change_password(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    st.app.change_password(c.ctx.signed_in()?, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/me/sessions", tag = "me", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<SessionInfo>), (status = 401, body = ErrorBody)))]
pub async fn my_sessions(State(st): State<AppState>, c: Caller) -> ApiResult<Json<Vec<SessionInfo>>> {
    Ok(Json(st.app.my_sessions(c.ctx.signed_in()?).await?))
}

#[utoipa::path(delete, path = "/api/me/sessions/{id}", tag = "me", params(("id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "That session is signed out"), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "Not one of your live sessions")))]
pub async fn revoke_my_session(State(st): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    st.app.revoke_my_session(c.ctx.signed_in()?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/me/totp/setup", tag = "me", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = TotpSetupOut), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn totp_setup(State(st): State<AppState>, c: Caller) -> ApiResult<Json<TotpSetupOut>> {
    Ok(Json(st.app.totp_setup(c.ctx.signed_in()?).await?))
}

#[utoipa::path(post, path = "/api/me/totp/enable", tag = "me", request_body = TotpCode, security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = RecoveryCodes), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn totp_enable(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<TotpCode>,
) -> ApiResult<Json<RecoveryCodes>> {
    Ok(Json(st.app.totp_enable(c.ctx.signed_in()?, input).await?))
}

#[utoipa::path(post, path = "/api/me/totp/disable", tag = "me", request_body = PasswordConfirm, security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Two-factor sign-in off"), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "`password` is not correct"),
              (status = 429, body = ErrorBody, description = "Too many wrong passwords (the sign-in throttle); see Retry-After")))]
pub async fn totp_disable(
    State(st): State<AppState>,
    c: Caller,
    Json(input): Json<PasswordConfirm>,
) -> ApiResult<StatusCode> {
    st.app.totp_disable(c.ctx.signed_in()?, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
