//! Every place where SQLite and PostgreSQL need different SQL, by name.
//! Queries elsewhere are written once in the shared subset.

use crate::url::Backend;

/// Migration placeholders and what each backend writes for them.
const TOKENS: &[(&str, &str, &str)] = &[
    // Binary payloads (attachments).
    ("{{BLOB}}", "BLOB", "BYTEA"),
    // An ever-increasing 64-bit key assigned by the database (change feeds).
    ("{{AUTOINC_PK}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
];

/// Render a migration for one backend.
pub(crate) fn render_migration(sql: &str, backend: Backend) -> String {
    let mut out = sql.to_owned();
    for (token, sqlite, pg) in TOKENS {
        out = out.replace(token, if backend == Backend::Sqlite { sqlite } else { pg });
    }
    out
}

/// Row-lock suffix for claiming work items: PostgreSQL nodes skip rows
/// another node is claiming; SQLite's single writer needs nothing.
pub(crate) fn skip_locked(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    }
}

/// Row-lock suffix for reads that a decision in the same transaction
/// depends on (e.g. "is this the last administrator?"): PostgreSQL locks
/// the rows so two concurrent changes cannot both pass the check; SQLite's
/// single writer already serialises them.
pub(crate) fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

/// Serialise migrations across nodes starting at once (PostgreSQL advisory
/// lock; SQLite's `BEGIN IMMEDIATE` already excludes other writers).
pub(crate) fn migration_lock(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some("SELECT pg_advisory_xact_lock(7301170001)"),
    }
}

/// Text as PostgreSQL can hold it. Its `text` type has no NUL character
/// and refuses a value with one ("invalid byte sequence"), which would turn
/// a stray `%00` in an id, a filter or a login e-mail into a server error.
/// Nothing Tier0 stores contains a NUL (validated text refuses control
/// characters), so such a value can only be a lookup or filter that matches
/// nothing, on either database, or a key (a sign-in throttle bucket) that
/// only has to stay the same: binding U+FFFD in its place keeps both true.
/// SQLite takes NUL as it is.
pub(crate) fn pg_text(s: String) -> String {
    if s.contains('\0') { s.replace('\0', "\u{FFFD}") } else { s }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pg_text_has_no_nul() {
        assert_eq!(super::pg_text("a\0b\0".into()), "a\u{FFFD}b\u{FFFD}");
        assert_eq!(super::pg_text("plain é".into()), "plain é");
    }
}
