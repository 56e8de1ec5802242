//! The portal's own data and presentation rules: status-page services and
//! their states, maintenance windows, incident notes, announcements, the
//! brand colour (with the ink and link colours that keep it readable) and
//! the portal sections that an administrator can hide.

use crate::{RecordId, Timestamp, ValidationError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The state of one service on the status page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    Operational,
    Degraded,
    PartialOutage,
    MajorOutage,
    Maintenance,
}

impl ServiceState {
    pub const ALL: [ServiceState; 5] =
        [Self::Operational, Self::Degraded, Self::PartialOutage, Self::MajorOutage, Self::Maintenance];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::Degraded => "degraded",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
            Self::Maintenance => "maintenance",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim()).ok_or_else(|| {
            ValidationError::field(
                field,
                "must be one of operational, degraded, partial_outage, major_outage, maintenance",
            )
        })
    }

    /// Read back from storage; an unknown value (a newer version) shows as
    /// degraded rather than pretending all is well.
    pub fn from_storage(s: &str) -> Self {
        Self::ALL.into_iter().find(|x| x.as_str() == s).unwrap_or(Self::Degraded)
    }

    /// Plain words for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Operational => "Working normally",
            Self::Degraded => "Slow or unreliable",
            Self::PartialOutage => "Partly down",
            Self::MajorOutage => "Down",
            Self::Maintenance => "Under maintenance",
        }
    }

    /// How bad it is, for the page's one-line summary (higher is worse).
    pub fn severity(self) -> u8 {
        match self {
            Self::Operational => 0,
            Self::Maintenance => 1,
            Self::Degraded => 2,
            Self::PartialOutage => 3,
            Self::MajorOutage => 4,
        }
    }
}

impl fmt::Display for ServiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How prominent an announcement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Self::Info, Self::Warning, Self::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| ValidationError::field(field, "must be one of info, warning, critical"))
    }

    pub fn from_storage(s: &str) -> Self {
        Self::ALL.into_iter().find(|x| x.as_str() == s).unwrap_or(Self::Info)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Info => "Information",
            Self::Warning => "Warning",
            Self::Critical => "Important",
        }
    }
}

/// A portal section that settings can hide from everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Catalog,
    Requests,
    Knowledge,
    Status,
    Approvals,
}

impl Section {
    /// In tab order: the first visible one is where `/portal` lands.
    pub const ALL: [Section; 5] = [Self::Catalog, Self::Requests, Self::Knowledge, Self::Status, Self::Approvals];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Catalog => "catalog",
            Self::Requests => "requests",
            Self::Knowledge => "knowledge",
            Self::Status => "status",
            Self::Approvals => "approvals",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim()).ok_or_else(|| {
            ValidationError::field(field, "must list only catalog, requests, knowledge, status, approvals")
        })
    }

    /// The tab label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Catalog => "Service Catalog",
            Self::Requests => "My Requests",
            Self::Knowledge => "Knowledge Base",
            Self::Status => "Status",
            Self::Approvals => "Approvals",
        }
    }

    /// The section's portal page.
    pub fn path(self) -> &'static str {
        match self {
            Self::Catalog => "/portal",
            Self::Requests => "/portal/requests",
            Self::Knowledge => "/portal/knowledge",
            Self::Status => "/portal/status",
            Self::Approvals => "/portal/approvals",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of sections (the hidden ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SectionSet(u8);

impl SectionSet {
    pub fn empty() -> Self {
        Self(0)
    }

    pub fn of(sections: impl IntoIterator<Item = Section>) -> Self {
        let mut s = Self::empty();
        for x in sections {
            s.insert(x);
        }
        s
    }

    pub fn insert(&mut self, s: Section) {
        self.0 |= s.bit();
    }

    pub fn contains(self, s: Section) -> bool {
        self.0 & s.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Section> {
        Section::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Parse a list of names (duplicates are fine).
    pub fn parse<S: AsRef<str>>(field: &str, items: &[S]) -> Result<Self, ValidationError> {
        if items.len() > 20 {
            return Err(ValidationError::field(field, "has too many entries"));
        }
        items.iter().map(|s| Section::parse(field, s.as_ref())).collect::<Result<Vec<_>, _>>().map(Self::of)
    }

    /// Storage form: comma-separated names.
    pub fn to_storage(self) -> String {
        self.iter().map(Section::as_str).collect::<Vec<_>>().join(",")
    }

    /// Unknown names (from a newer version) are ignored.
    pub fn from_storage(s: &str) -> Self {
        Self::of(s.split(',').filter_map(|x| Section::parse("", x).ok()))
    }

    pub fn names(self) -> Vec<Section> {
        self.iter().collect()
    }
}

/// A brand colour, `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BrandColour {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

/// The page background the portal draws text on (see app.css `--bg`).
pub const PAGE_BACKGROUND: BrandColour = BrandColour { r: 0xf6, g: 0xf7, b: 0xfb };
pub const WHITE: BrandColour = BrandColour { r: 0xff, g: 0xff, b: 0xff };
pub const BLACK: BrandColour = BrandColour { r: 0, g: 0, b: 0 };
/// WCAG 2.1 AA for normal text.
pub const AA_TEXT: f64 = 4.5;

impl BrandColour {
    /// Exactly `#` and six hex digits (either case); stored lower-case.
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        let bad = || ValidationError::field(field, "must be a colour like #2446c7");
        let hex = s.strip_prefix('#').ok_or_else(bad)?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        Ok(Self { r: byte(0)?, g: byte(2)?, b: byte(4)? })
    }

    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// WCAG relative luminance.
    pub fn luminance(self) -> f64 {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * lin(self.r) + 0.7152 * lin(self.g) + 0.0722 * lin(self.b)
    }

    /// WCAG contrast ratio (1–21).
    pub fn contrast(self, other: BrandColour) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }

    /// The text colour for labels drawn on this colour (buttons, the logo
    /// mark): white or black, whichever contrasts more. One of the two
    /// always reaches at least 4.58:1, so the result is AA for any colour.
    pub fn ink(self) -> BrandColour {
        if self.contrast(WHITE) >= self.contrast(BLACK) { WHITE } else { BLACK }
    }

    /// This colour, darkened just enough to be readable as text (links,
    /// active tabs) on white and on the page background: AA on both.
    pub fn as_text_on_light(self) -> BrandColour {
        let ok = |c: BrandColour| c.contrast(WHITE) >= AA_TEXT && c.contrast(PAGE_BACKGROUND) >= AA_TEXT;
        let mut c = self;
        let mut factor = 1.0_f64;
        while !ok(c) && factor > 0.0 {
            factor -= 0.02;
            let f = |v: u8| (f64::from(v) * factor.max(0.0)).round() as u8;
            c = BrandColour { r: f(self.r), g: f(self.g), b: f(self.b) };
        }
        c
    }
}

impl fmt::Display for BrandColour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A link in an announcement: an `http(s)://` URL or a same-site path.
/// Never `javascript:`, `data:`, protocol-relative `//host` or anything
/// with spaces or control characters.
pub fn parse_link(field: &str, s: &str) -> Result<String, ValidationError> {
    let s = s.trim();
    let bad = || ValidationError::field(field, "must be a web address (https://…) or a path on this site (/…)");
    if s.is_empty() || s.len() > 500 || s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
        return Err(bad());
    }
    let lower = s.to_ascii_lowercase();
    let absolute = ["https://", "http://"].iter().any(|p| lower.starts_with(p) && s.len() > p.len());
    let path = s.starts_with('/') && !s.starts_with("//");
    if absolute || path { Ok(s.to_owned()) } else { Err(bad()) }
}

/// A `datetime-local` form value (`YYYY-MM-DDTHH:MM`, optional `:SS`),
/// read as UTC.
pub fn parse_form_datetime(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        return Some(t);
    }
    let with_secs = if s.len() == 16 { format!("{s}:00Z") } else { format!("{s}Z") };
    Timestamp::parse_rfc3339(&with_secs)
}

/// The `datetime-local` form value of a time (UTC, minutes).
pub fn form_datetime(t: Timestamp) -> String {
    t.to_rfc3339().chars().take(16).collect()
}

/// A service shown on the status page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusService {
    pub id: RecordId,
    pub name: String,
    pub description: String,
    pub state: ServiceState,
    /// Display order (ascending).
    pub position: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Planned work on one or more services.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaintenanceWindow {
    pub id: RecordId,
    pub title: String,
    pub note: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// The affected services.
    pub service_ids: Vec<RecordId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl MaintenanceWindow {
    pub fn is_ongoing(&self, now: Timestamp) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

/// A public, timestamped update about a service (an incident note).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusNote {
    pub id: RecordId,
    pub service_id: RecordId,
    pub body: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A message shown as a banner on every portal page while active.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Announcement {
    pub id: RecordId,
    pub body: String,
    /// `https://…` or a path on this site.
    pub link: Option<String>,
    pub severity: Severity,
    pub active_from: Timestamp,
    /// Open-ended when absent.
    pub active_until: Option<Timestamp>,
    /// Set from the portal settings' announcement text.
    pub from_settings: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Announcement {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.active_from <= now && self.active_until.is_none_or(|u| now < u)
    }
}

/// The portal settings of one tenant as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortalSettings {
    pub name: Option<String>,
    pub description: Option<String>,
    pub primary_colour: Option<BrandColour>,
    pub hidden: SectionSet,
    /// MIME type of the uploaded logo, when there is one.
    pub logo_type: Option<String>,
    /// Changes whenever the logo or colour changes (cache busting).
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn colours_parse_strictly() {
        assert_eq!(BrandColour::parse("c", "#1A2b3C").unwrap().to_hex(), "#1a2b3c");
        for bad in ["", "#", "#abc", "123456", "#12345g", "#1234567", "red", "rgb(1,2,3)", "#12 345", "##12345"] {
            assert!(BrandColour::parse("c", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_palette_is_readable() {
        let brand = BrandColour::parse("c", "#2446c7").unwrap();
        assert!(brand.contrast(brand.ink()) >= AA_TEXT);
        assert_eq!(brand.as_text_on_light(), brand, "the default brand is already dark enough");
    }

    #[test]
    fn light_colours_get_dark_ink_and_darker_links() {
        let yellow = BrandColour::parse("c", "#ffd400").unwrap();
        assert_eq!(yellow.ink(), BLACK);
        let t = yellow.as_text_on_light();
        assert!(t.contrast(WHITE) >= AA_TEXT && t.contrast(PAGE_BACKGROUND) >= AA_TEXT, "{t}");
    }

    #[test]
    fn sections_round_trip() {
        let s = SectionSet::parse("hidden", &["status", "catalog", "status"]).unwrap();
        assert!(s.contains(Section::Status) && s.contains(Section::Catalog) && !s.contains(Section::Requests));
        assert_eq!(s.to_storage(), "catalog,status");
        assert_eq!(SectionSet::from_storage(&s.to_storage()), s);
        assert_eq!(SectionSet::from_storage(""), SectionSet::empty());
        assert!(SectionSet::parse("hidden", &["nope"]).is_err());
    }

    #[test]
    fn links() {
        for ok in ["https://example.com/x?y=1", "http://intranet/page", "/portal/knowledge/01ABC"] {
            assert_eq!(parse_link("l", ok).unwrap(), ok);
        }
        for bad in ["javascript:alert(1)", "//evil.com", "data:text/html,x", "https://", "ftp://x", "a b", "/\\x", ""] {
            assert!(parse_link("l", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn form_datetimes() {
        let t = parse_form_datetime("2026-03-01T09:30").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-01T09:30:00Z");
        assert_eq!(form_datetime(t), "2026-03-01T09:30");
        assert_eq!(parse_form_datetime("2026-03-01T09:30:15").unwrap().to_rfc3339(), "2026-03-01T09:30:15Z");
        assert!(parse_form_datetime("tomorrow").is_none());
        assert!(parse_form_datetime("").is_none());
    }

    proptest! {
        #[test]
        fn any_colour_gets_aa_ink_and_link_colours(r: u8, g: u8, b: u8) {
            let c = BrandColour { r, g, b };
            prop_assert!(c.contrast(c.ink()) >= AA_TEXT);
            let t = c.as_text_on_light();
            prop_assert!(t.contrast(WHITE) >= AA_TEXT && t.contrast(PAGE_BACKGROUND) >= AA_TEXT);
            prop_assert_eq!(BrandColour::parse("c", &c.to_hex()).unwrap(), c);
        }

        #[test]
        fn colour_parse_never_panics(s in "\\PC{0,12}") {
            let _ = BrandColour::parse("c", &s);
        }

        #[test]
        fn links_never_start_dangerously(s in "\\PC{0,40}") {
            if let Ok(l) = parse_link("l", &s) {
                let lower = l.to_ascii_lowercase();
                prop_assert!(lower.starts_with("https://") || lower.starts_with("http://") || (l.starts_with('/') && !l.starts_with("//")));
            }
        }
    }
}
