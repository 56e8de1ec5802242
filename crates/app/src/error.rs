//! The app layer's one error type. The web layer maps it once to the
//! SPEC §3 JSON error; nothing here carries database text to clients.

use tier0_domain::ValidationError;
use tier0_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed in a way validation cannot name.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401 `unauthorized`: not signed in.
    #[error("sign in first")]
    Unauthenticated,
    /// 401 with a specific code (`invalid_credentials`, `totp_required`, …).
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 403: signed in but not allowed.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: absent or not visible to the caller (indistinguishable).
    #[error("not found")]
    NotFound,
    /// 404 `unknown_tenant`.
    #[error("unknown tenant")]
    UnknownTenant,
    /// 409.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413.
    #[error("{message}")]
    TooLarge { message: String },
    /// 422 with per-field messages.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// 429 with `Retry-After`.
    #[error("too many attempts")]
    Throttled { retry_after_secs: u64 },
    /// 500: logged with its cause; the client sees a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden { code: "forbidden", message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }

    pub fn field(name: &str, message: &str) -> Self {
        Self::Validation(ValidationError::field(name, message))
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => {
                tracing::debug!(constraint = %what, "unique constraint");
                AppError::conflict("conflict", "a record with these values already exists")
            }
            StoreError::MissingReference => {
                AppError::Validation(ValidationError::field("reference", "refers to something that does not exist"))
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
