//! Database URLs: which backend, and a display form that never shows the
//! password.

use std::fmt;
use std::path::{Path, PathBuf};

/// The two supported databases. Dialect differences are named in
/// [`crate::dialect`] and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed database location.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (kept whole; shown redacted).
    Postgres(String),
}

impl DatabaseUrl {
    /// The embedded default: `<data_dir>/tier0.db`.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        Self::Sqlite(data_dir.join("tier0.db"))
    }

    /// Parse `sqlite://path`, `sqlite:path`, `postgres://…` or
    /// `postgresql://…`. The error message never contains the password.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("sqlite://").or_else(|| s.strip_prefix("sqlite:")) {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err("sqlite URL has no file path (use sqlite://path/to/tier0.db)".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return match url::Url::parse(s) {
                Ok(u) if u.host_str().is_some() || u.query().is_some_and(|q| q.contains("host=")) => {
                    Ok(Self::Postgres(s.to_owned()))
                }
                _ => Err(format!("invalid PostgreSQL URL: {}", redact(s))),
            };
        }
        Err(format!("unsupported database URL {} (expected sqlite://… or postgres://…)", redact(s)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Replace (or set) the password of a PostgreSQL URL, e.g. from a
    /// `*_FILE` secret.
    pub fn with_password(self, password: &str) -> Self {
        match self {
            Self::Postgres(s) => match url::Url::parse(&s) {
                Ok(mut u) => {
                    let _ = u.set_password(Some(password));
                    Self::Postgres(u.to_string())
                }
                Err(_) => Self::Postgres(s),
            },
            other => other,
        }
    }
}

/// The URL with any password replaced by `***`.
pub fn redact(s: &str) -> String {
    match url::Url::parse(s) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k.eq_ignore_ascii_case("password") { "***".to_owned() } else { v.into_owned() };
                    (k.into_owned(), v)
                })
                .collect();
            if !pairs.is_empty() {
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => {
            // Not a URL we understand: show only the scheme.
            match s.split_once("://") {
                Some((scheme, _)) => format!("{scheme}://***"),
                None => "***".into(),
            }
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            Self::Postgres(s) => f.write_str(&redact(s)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_redacts() {
        let u = DatabaseUrl::parse("postgres://bob:s3cret@db:5432/tier0").unwrap();
        assert_eq!(u.backend(), Backend::Postgres);
        let shown = u.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("bob"), "{shown}");
        let q = redact("postgres://db/x?password=hunter2&sslmode=disable");
        assert!(!q.contains("hunter2"), "{q}");
        assert_eq!(DatabaseUrl::parse("sqlite://./data/t.db").unwrap(), DatabaseUrl::Sqlite("./data/t.db".into()));
        let err = DatabaseUrl::parse("mysql://u:pw@h/db").unwrap_err();
        assert!(!err.contains("pw@"), "{err}");
        let with = DatabaseUrl::parse("postgres://bob@db/x").unwrap().with_password("p@ss");
        assert!(!with.to_string().contains("p@ss"));
    }
}
