//! Knowledge base and known-error database (SPEC §6): articles with their
//! publication states, known errors, and the validated values they are
//! made of. The permission rule for publishing lives here as a pure
//! function; the app layer enforces it.

use crate::{RecordId, Timestamp, UserId, ValidationError};
use serde::{Deserialize, Serialize};

pub const MAX_TITLE: usize = 200;
pub const MAX_BODY: usize = 100_000;
pub const MAX_CATEGORY: usize = 60;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG: usize = 40;
pub const MAX_KE_TEXT: usize = 20_000;
pub const MAX_PROBLEM_REF: usize = 64;
pub const DEFAULT_CATEGORY: &str = "General";

/// Where an article is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    Draft,
    Published,
    Archived,
}

impl ArticleStatus {
    pub const ALL: [ArticleStatus; 3] = [ArticleStatus::Draft, ArticleStatus::Published, ArticleStatus::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Archived => "archived",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| ValidationError::field(field, "must be one of draft, published, archived"))
    }

    /// Moving between states (publishing, unpublishing, archiving,
    /// restoring) is a publisher's decision.
    pub fn change_needs_publish(from: Self, to: Self) -> bool {
        from != to
    }

    /// Editing what readers already see is publishing too.
    pub fn edit_needs_publish(self) -> bool {
        self == Self::Published
    }

    /// Whether requesters and guests may read it.
    pub fn is_public(self) -> bool {
        self == Self::Published
    }
}

/// An article is stale when its review date has passed and it is still in
/// use (not archived).
pub fn is_stale(status: ArticleStatus, review_by: Option<Timestamp>, now: Timestamp) -> bool {
    status != ArticleStatus::Archived && review_by.is_some_and(|r| r < now)
}

/// A knowledge article.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Article {
    pub id: RecordId,
    /// `KB-<n>`, per tenant.
    pub number: String,
    pub title: String,
    pub body_markdown: String,
    /// The body rendered to sanitised HTML.
    pub body_html: String,
    pub category: String,
    pub tags: Vec<String>,
    pub status: ArticleStatus,
    pub owner_id: UserId,
    pub owner_name: String,
    pub review_by: Option<Timestamp>,
    /// Past `review_by` and not archived.
    pub stale: bool,
    pub views: i64,
    pub helpful_yes: i64,
    pub helpful_no: i64,
    /// "This solved my problem" answers.
    pub deflections: i64,
    /// Increases with every change; send it back as `if_version` to avoid
    /// overwriting someone else's edit.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub published_at: Option<Timestamp>,
}

/// An entry of the known-error database.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KnownError {
    pub id: RecordId,
    /// `KE-<n>`, per tenant.
    pub number: String,
    pub title: String,
    pub symptoms: String,
    pub symptoms_html: String,
    pub workaround: String,
    pub workaround_html: String,
    /// Staff only (null for requesters).
    pub root_cause: Option<String>,
    pub root_cause_html: Option<String>,
    /// Reference to the problem record (e.g. `PRB-12`); staff only.
    pub problem_id: Option<String>,
    /// Visible to requesters.
    pub public: bool,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One entry of a record's history: who changed what, when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Revision {
    pub version: i64,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub actor: String,
    /// Names of the fields that changed (`created` for the first version).
    pub changes: Vec<String>,
    /// The record as it was after this change.
    #[schema(value_type = Object)]
    pub snapshot: serde_json::Value,
}

fn text(field: &str, s: &str, min: usize, max: usize) -> Result<String, ValidationError> {
    crate::PlainText::parse(field, s, min, max).map(|t| t.0)
}

/// 1–200 characters.
pub fn parse_title(field: &str, s: &str) -> Result<String, ValidationError> {
    text(field, s, 1, MAX_TITLE)
}

/// Markdown, at most 100 000 characters (may be empty in a draft).
pub fn parse_body(field: &str, s: &str) -> Result<String, ValidationError> {
    if s.chars().count() > MAX_BODY {
        return Err(ValidationError::field(field, format!("must be at most {MAX_BODY} characters")));
    }
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(ValidationError::field(field, "must not contain control characters"));
    }
    Ok(s.replace("\r\n", "\n"))
}

/// Free text up to 60 characters; empty means "General".
pub fn parse_category(field: &str, s: Option<&str>) -> Result<String, ValidationError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(DEFAULT_CATEGORY.to_owned()),
        Some(s) => {
            let t = text(field, s, 1, MAX_CATEGORY)?;
            if t.contains('\n') {
                return Err(ValidationError::field(field, "must be a single line"));
            }
            Ok(t)
        }
    }
}

/// Up to 20 tags of up to 40 characters, lower-cased, de-duplicated.
pub fn parse_tags<S: AsRef<str>>(field: &str, tags: &[S]) -> Result<Vec<String>, ValidationError> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.as_ref().trim().to_lowercase();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > MAX_TAG {
            return Err(ValidationError::field(field, format!("each tag must be at most {MAX_TAG} characters")));
        }
        if t.chars().any(|c| c.is_control() || c == ',') {
            return Err(ValidationError::field(field, "tags must not contain commas or control characters"));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(ValidationError::field(field, format!("at most {MAX_TAGS} tags")));
    }
    Ok(out)
}

/// Tags typed as one comma-separated line.
pub fn split_tags(s: &str) -> Vec<String> {
    s.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect()
}

/// A review date: `YYYY-MM-DD` (the end of that day, UTC) or an RFC 3339
/// timestamp. Empty means none.
pub fn parse_review_by(field: &str, s: &str) -> Result<Option<Timestamp>, ValidationError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        return Ok(Some(t));
    }
    let bad = || ValidationError::field(field, "must be a date (YYYY-MM-DD)");
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
        return Err(bad());
    }
    let end_of_day = format!("{s}T23:59:59.999Z");
    Timestamp::parse_rfc3339(&end_of_day).map(Some).ok_or_else(bad)
}

/// Known-error text fields.
pub fn parse_ke_text(field: &str, s: &str, required: bool) -> Result<String, ValidationError> {
    if s.trim().is_empty() {
        return if required { Err(ValidationError::field(field, "is required")) } else { Ok(String::new()) };
    }
    let body = parse_body(field, s)?;
    if body.chars().count() > MAX_KE_TEXT {
        return Err(ValidationError::field(field, format!("must be at most {MAX_KE_TEXT} characters")));
    }
    Ok(body.trim().to_owned())
}

/// A reference to a problem record: letters, digits, `-` and `_`.
pub fn parse_problem_ref(field: &str, s: Option<&str>) -> Result<Option<String>, ValidationError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s)
            if s.len() <= MAX_PROBLEM_REF && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(Some(s.to_owned()))
        }
        Some(_) => Err(ValidationError::field(field, "must be a problem reference such as PRB-12")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn publishing_rules() {
        use ArticleStatus::*;
        assert!(ArticleStatus::change_needs_publish(Draft, Published));
        assert!(ArticleStatus::change_needs_publish(Published, Draft));
        assert!(ArticleStatus::change_needs_publish(Draft, Archived));
        assert!(!ArticleStatus::change_needs_publish(Draft, Draft));
        assert!(Published.edit_needs_publish());
        assert!(!Draft.edit_needs_publish());
    }

    #[test]
    fn staleness() {
        let now = Timestamp::from_millis(1_000_000);
        let past = Some(Timestamp::from_millis(999_999));
        assert!(is_stale(ArticleStatus::Published, past, now));
        assert!(is_stale(ArticleStatus::Draft, past, now));
        assert!(!is_stale(ArticleStatus::Archived, past, now));
        assert!(!is_stale(ArticleStatus::Published, None, now));
        assert!(!is_stale(ArticleStatus::Published, Some(Timestamp::from_millis(2_000_000)), now));
    }

    #[test]
    fn values() {
        assert_eq!(parse_tags("tags", &[" VPN", "vpn", "", "Remote Access"]).unwrap(), ["vpn", "remote access"]);
        assert!(parse_tags("tags", &["a,b"]).is_err());
        assert!(
            parse_tags("tags", &vec!["x"; 21].iter().enumerate().map(|(i, _)| i.to_string()).collect::<Vec<_>>())
                .is_err()
        );
        assert_eq!(split_tags("a, b ,,c"), ["a", "b", "c"]);
        assert_eq!(parse_category("category", Some("  ")).unwrap(), "General");
        assert!(parse_category("category", Some(&"x".repeat(61))).is_err());
        let t = parse_review_by("review_by", "2030-01-31").unwrap().unwrap();
        assert_eq!(t.to_rfc3339(), "2030-01-31T23:59:59.999Z");
        assert_eq!(t.date_string(), "2030-01-31");
        assert!(parse_review_by("review_by", "2030-02-30").is_err());
        assert!(parse_review_by("review_by", "soon").is_err());
        assert_eq!(parse_review_by("review_by", "").unwrap(), None);
        assert!(parse_problem_ref("problem_id", Some("PRB-12")).unwrap().is_some());
        assert!(parse_problem_ref("problem_id", Some("<script>")).is_err());
        assert!(parse_body("body", "a\u{0}b").is_err());
        assert_eq!(parse_body("body", "a\r\nb").unwrap(), "a\nb");
        assert!(parse_ke_text("symptoms", " ", true).is_err());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,120}") {
            let _ = parse_title("t", &s);
            let _ = parse_category("c", Some(&s));
            let _ = parse_review_by("r", &s);
            let _ = parse_problem_ref("p", Some(&s));
            let _ = parse_tags("tags", &split_tags(&s));
        }

        #[test]
        fn parsed_tags_are_clean(tags in proptest::collection::vec("[ -~]{0,50}", 0..25)) {
            if let Ok(t) = parse_tags("tags", &tags) {
                prop_assert!(t.len() <= MAX_TAGS);
                prop_assert!(t.iter().all(|x| !x.is_empty() && !x.contains(',') && x.chars().count() <= MAX_TAG));
            }
        }
    }
}
