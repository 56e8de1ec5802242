//! Synonyms: groups of words and phrases that mean the same thing to the
//! people searching ("wifi", "wi-fi", "wireless"). They are applied when a
//! query is built, so changing them needs no re-indexing: a query word (or
//! run of words) that matches one variant of a group is also searched as
//! every other variant, a little below what the user actually typed.

use crate::analyze::{QueryWord, query_words};
use std::collections::HashMap;
use tier0_domain::ValidationError;

/// Groups shipped with every tenant until it configures its own.
pub const DEFAULT_GROUPS: &[&[&str]] = &[
    &["wifi", "wi-fi", "wireless", "wlan", "wireless network"],
    &["vpn", "remote access", "virtual private network", "globalprotect"],
    &["laptop", "notebook", "macbook"],
    &["computer", "pc", "desktop", "workstation"],
    &["password", "passcode", "passphrase", "login", "logon", "credentials"],
    &["forgot", "forgotten", "reset"],
    &["locked out", "lockout", "account locked", "locked"],
    &["printer", "printing", "print", "copier"],
    &["email", "e-mail", "outlook", "mail", "mailbox", "inbox"],
    &[
        "mfa",
        "2fa",
        "two-factor",
        "two factor",
        "multi-factor",
        "authenticator",
        "2-step verification",
        "one-time code",
    ],
    &["phone", "mobile", "smartphone", "iphone", "android", "cell phone"],
    &["teams", "microsoft teams", "zoom", "video call", "video conference", "meeting"],
    &["shared drive", "network drive", "file share", "shared folder", "mapped drive"],
    &["monitor", "screen", "display", "external display"],
    &["install", "installation", "setup", "set up", "download"],
    &["software", "application", "app", "program"],
    &["onboarding", "new starter", "new hire", "new employee", "first day", "joiner"],
    &["offboarding", "leaver", "leaving", "last day"],
    &["internet", "network", "online", "connection", "connectivity"],
    &["slow", "sluggish", "lagging", "performance"],
    &["crash", "crashes", "freezes", "frozen", "hangs"],
    &["headset", "headphones", "microphone", "mic", "audio"],
    &["badge", "access card", "id card", "door card"],
    &["storage", "quota", "disk space", "mailbox full"],
    &["permission", "permissions", "access rights", "access denied"],
];

/// Limits on a tenant's own configuration.
pub const MAX_GROUPS: usize = 300;
pub const MAX_VARIANTS: usize = 20;
pub const MAX_VARIANT_CHARS: usize = 60;

/// One variant: its text as configured and its analysed stems.
#[derive(Debug, Clone)]
struct Variant {
    text: String,
    stems: Vec<String>,
}

/// A tenant's synonym groups, ready for query expansion.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<Variant>>,
    /// First stem → (group, variant) of every variant starting with it.
    by_first: HashMap<String, Vec<(usize, usize)>>,
}

/// Where a query matched a synonym variant and what to search for too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// Index of the first matched query word.
    pub start: usize,
    /// Number of query words matched.
    pub len: usize,
    /// The other variants of the group, as stems.
    pub alternatives: Vec<Vec<String>>,
}

impl Synonyms {
    /// The shipped defaults.
    pub fn defaults() -> Self {
        let groups: Vec<Vec<String>> =
            DEFAULT_GROUPS.iter().map(|g| g.iter().map(|v| (*v).to_owned()).collect()).collect();
        Self::build(&groups)
    }

    /// Validate a tenant's groups (422 on `groups` when malformed).
    pub fn parse(groups: &[Vec<String>]) -> Result<Self, ValidationError> {
        let bad = |m: String| Err(ValidationError::field("groups", m));
        if groups.len() > MAX_GROUPS {
            return bad(format!("at most {MAX_GROUPS} groups"));
        }
        for (i, g) in groups.iter().enumerate() {
            let n = i + 1;
            if g.len() < 2 || g.len() > MAX_VARIANTS {
                return bad(format!("group {n} must have between 2 and {MAX_VARIANTS} entries"));
            }
            for v in g {
                let t = v.trim();
                if t.chars().count() > MAX_VARIANT_CHARS {
                    return bad(format!("group {n}: entries must be at most {MAX_VARIANT_CHARS} characters"));
                }
                if t.chars().any(char::is_control) {
                    return bad(format!("group {n}: entries must not contain control characters"));
                }
                if query_words(t).is_empty() {
                    return bad(format!("group {n}: {t:?} has no searchable word"));
                }
            }
        }
        Ok(Self::build(groups))
    }

    fn build(groups: &[Vec<String>]) -> Self {
        let mut s = Synonyms::default();
        for g in groups {
            let variants: Vec<Variant> = g
                .iter()
                .map(|t| Variant {
                    text: t.trim().to_owned(),
                    stems: query_words(t).into_iter().map(|w| w.stem).collect(),
                })
                .filter(|v| !v.stems.is_empty())
                .collect();
            if variants.len() < 2 {
                continue;
            }
            let gi = s.groups.len();
            for (vi, v) in variants.iter().enumerate() {
                s.by_first.entry(v.stems[0].clone()).or_default().push((gi, vi));
            }
            s.groups.push(variants);
        }
        s
    }

    /// The groups as configured (for display and the API).
    pub fn groups(&self) -> Vec<Vec<String>> {
        self.groups.iter().map(|g| g.iter().map(|v| v.text.clone()).collect()).collect()
    }

    /// Find synonym matches in a query, longest variant first, left to
    /// right. A word may take part in several groups ("email password").
    pub fn expand(&self, words: &[QueryWord]) -> Vec<Expansion> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let mut best: Option<(usize, Vec<usize>)> = None; // (len, groups)
            if let Some(cands) = self.by_first.get(&words[i].stem) {
                for &(gi, vi) in cands {
                    let v = &self.groups[gi][vi];
                    let n = v.stems.len();
                    if i + n > words.len() || !v.stems.iter().zip(&words[i..i + n]).all(|(s, w)| *s == w.stem) {
                        continue;
                    }
                    match &mut best {
                        Some((len, gs)) if *len == n => {
                            if !gs.contains(&gi) {
                                gs.push(gi)
                            }
                        }
                        Some((len, _)) if *len > n => {}
                        _ => best = Some((n, vec![gi])),
                    }
                }
            }
            match best {
                Some((len, gs)) => {
                    let matched: Vec<&str> = words[i..i + len].iter().map(|w| w.stem.as_str()).collect();
                    let mut alternatives: Vec<Vec<String>> = Vec::new();
                    for gi in gs {
                        for v in &self.groups[gi] {
                            if v.stems.iter().map(String::as_str).ne(matched.iter().copied())
                                && !alternatives.contains(&v.stems)
                            {
                                alternatives.push(v.stems.clone());
                            }
                        }
                    }
                    out.push(Expansion { start: i, len, alternatives });
                    i += len;
                }
                None => i += 1,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alts(q: &str) -> Vec<Vec<String>> {
        let s = Synonyms::defaults();
        s.expand(&query_words(q)).into_iter().flat_map(|e| e.alternatives).collect()
    }

    #[test]
    fn defaults_expand_both_ways() {
        let a = alts("wifi");
        assert!(a.contains(&vec!["wi".to_owned(), "fi".to_owned()]), "{a:?}");
        assert!(a.contains(&vec!["wireless".to_owned()]));
        let a = alts("Wi-Fi down");
        assert!(a.contains(&vec!["wifi".to_owned()]), "{a:?}");
        let a = alts("remote access");
        assert!(a.contains(&vec!["vpn".to_owned()]), "{a:?}");
        // Plurals match through stemming.
        assert!(alts("printers").contains(&vec!["copier".to_owned()]));
    }

    #[test]
    fn longest_match_wins() {
        let s = Synonyms::defaults();
        let e = s.expand(&query_words("microsoft teams call"));
        assert_eq!((e[0].start, e[0].len), (0, 2));
    }

    #[test]
    fn parse_validates() {
        assert!(Synonyms::parse(&[vec!["a".into()]]).is_err());
        assert!(Synonyms::parse(&[vec!["the".into(), "x".into()]]).is_err());
        assert!(Synonyms::parse(&[vec!["ok".into(), "x\u{0}".into()]]).is_err());
        let s = Synonyms::parse(&[vec!["hr".into(), "human resources".into()]]).unwrap();
        assert_eq!(s.groups(), vec![vec!["hr".to_owned(), "human resources".to_owned()]]);
    }
}
