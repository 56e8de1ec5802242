//! Validated text values: e-mail addresses, names, bounded plain text.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const MAX_EMAIL_LEN: usize = 254;

/// A syntactically valid e-mail address, stored lower-cased so that lookups
/// are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, format = "email")]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain` where the local part is 1–64 printable
    /// characters without spaces, `@`, `<`, `>` or quotes, and the domain
    /// has at least one dot-separated label of letters, digits and hyphens.
    pub fn parse(field: &str, input: &str) -> Result<Self, ValidationError> {
        let s = input.trim();
        let err = |m: &str| Err(ValidationError::field(field, m));
        if s.is_empty() {
            return err("is required");
        }
        if s.len() > MAX_EMAIL_LEN {
            return err("is too long");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return err("is not a valid e-mail address");
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| {
                c.is_ascii_graphic()
                    && !matches!(c, '@' | '<' | '>' | '"' | '(' | ')' | ',' | ';' | ':' | '\\' | '[' | ']')
            });
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && domain.len() <= 253
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return err("is not a valid e-mail address");
        }
        Ok(Self(s.to_ascii_lowercase()))
    }

    /// Wrap a value read back from storage (validated when written).
    pub fn from_trusted(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's display name: 1–100 characters after trimming, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &str, input: &str) -> Result<Self, ValidationError> {
        PlainText::parse(field, input, 1, 100).map(|t| Self(t.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Trimmed single- or multi-line text of bounded length with no control
/// characters other than newline and tab, and no NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainText(pub String);

impl PlainText {
    pub fn parse(field: &str, input: &str, min: usize, max: usize) -> Result<Self, ValidationError> {
        let s = input.trim();
        let n = s.chars().count();
        if n < min {
            return Err(ValidationError::field(
                field,
                if min <= 1 { "is required".to_owned() } else { format!("must be at least {min} characters") },
            ));
        }
        if n > max {
            return Err(ValidationError::field(field, format!("must be at most {max} characters")));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            return Err(ValidationError::field(field, "must not contain control characters"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn optional(field: &str, input: Option<&str>, max: usize) -> Result<Option<String>, ValidationError> {
        match input.map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => Self::parse(field, s, 0, max).map(|t| Some(t.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "First.Last+tag@Example.COM", "x_y-z@sub.domain.org"] {
            assert!(Email::parse("email", ok).is_ok(), "{ok}");
        }
        assert_eq!(Email::parse("email", " A@B.Co ").unwrap().as_str(), "a@b.co");
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a b@c.de", "a@b..co", "a@-b.co", "a@@b.co", "<a>@b.co", ".a@b.co",
            "a\0@b.co",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn plain_text_bounds() {
        assert!(PlainText::parse("t", "   ", 1, 10).is_err());
        assert!(PlainText::parse("t", "abc\u{0}", 1, 10).is_err());
        assert_eq!(PlainText::parse("t", "  hi ", 1, 10).unwrap().0, "hi");
        assert!(PlainText::parse("t", &"é".repeat(11), 1, 10).is_err());
        assert!(PlainText::parse("t", &"é".repeat(10), 1, 10).is_ok());
    }

    proptest! {
        #[test]
        fn email_parse_never_panics(s in "\\PC{0,300}") {
            let _ = Email::parse("email", &s);
        }

        #[test]
        fn generated_addresses_parse(local in "[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]", dom in "[a-z0-9]{1,10}", tld in "[a-z]{2,6}") {
            prop_assume!(!local.contains(".."));
            let e = format!("{local}@{dom}.{tld}");
            let parsed = Email::parse("email", &e).unwrap();
            prop_assert_eq!(parsed.as_str(), e.as_str());
        }

        /// Parsing is idempotent and ignores case and surrounding space, so
        /// one address has exactly one stored form (lookups, uniqueness).
        #[test]
        fn email_parse_is_canonical(
            local in "[A-Za-z0-9][A-Za-z0-9_+-]{0,15}",
            dom in "[A-Za-z0-9]{1,10}",
            tld in "[A-Za-z]{2,6}",
            pad in "[ \t]{0,3}",
        ) {
            let raw = format!("{pad}{local}@{dom}.{tld}{pad}");
            let a = Email::parse("email", &raw).unwrap();
            prop_assert_eq!(Email::parse("email", a.as_str()).unwrap(), a.clone());
            prop_assert_eq!(Email::parse("email", &raw.to_uppercase()).unwrap(), a.clone());
            prop_assert_eq!(Email::parse("email", &raw.to_lowercase()).unwrap(), a);
        }

        /// Whatever is accepted is short, printable ASCII with one `@` and
        /// a dotted domain: safe in headers, links and logs.
        #[test]
        fn accepted_emails_are_header_safe(s in "\\PC{0,80}|[a-z@. <>\"\r\n\t\\x00-]{1,40}") {
            if let Ok(e) = Email::parse("email", &s) {
                let v = e.as_str();
                prop_assert!(v.len() <= MAX_EMAIL_LEN);
                prop_assert!(v.bytes().all(|b| b.is_ascii_graphic()), "{:?}", v);
                prop_assert!(!v.contains(['<', '>', '"', ',', ';', '\\']), "{:?}", v);
                prop_assert_eq!(v.matches('@').count(), 1);
                let domain = v.rsplit_once('@').unwrap().1;
                prop_assert!(domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
            }
        }

        /// Anything with a space, control character or angle bracket inside
        /// is refused.
        #[test]
        fn emails_with_inner_junk_are_refused(
            local in "[a-z]{1,10}",
            junk in "[ \t\r\n<>\"\\x00]",
            at in 0usize..10,
        ) {
            let mut l = local.clone();
            l.insert_str(at.clamp(1, l.len()), &junk);
            let e = format!("{l}x@example.com");
            prop_assert!(Email::parse("email", &e).is_err(), "{:?}", e);
        }

        #[test]
        fn parsed_email_is_lowercase_and_has_one_at(s in "[A-Za-z0-9.@_+-]{1,40}") {
            if let Ok(e) = Email::parse("email", &s) {
                prop_assert_eq!(e.as_str().to_ascii_lowercase(), e.as_str());
                prop_assert!(e.as_str().contains('@'));
                prop_assert!(!e.as_str().contains(' '));
            }
        }
    }
}
