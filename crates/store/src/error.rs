//! The store's one error type. Database errors never leave this crate as
//! text for clients: they are classified here and logged by the caller.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint rejected the write (maps to 409).
    #[error("conflict on {0}")]
    Conflict(String),
    /// A referenced row does not exist in this tenant (maps to 404/422).
    #[error("a referenced record does not exist")]
    MissingReference,
    /// Anything else: connection loss, corruption, a bug. Maps to 500 and
    /// is logged with its cause, never shown to the client.
    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),
    /// A stored value could not be read back as expected.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// Start-up problems (bad URL, failed migration) with a clear message.
    #[error("{0}")]
    Setup(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict(db.constraint().unwrap_or("unique").to_owned());
            }
            if db.is_foreign_key_violation() {
                return StoreError::MissingReference;
            }
        }
        StoreError::Db(e)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
