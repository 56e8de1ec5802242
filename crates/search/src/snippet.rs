//! Snippets: a short passage of a document around the words that matched,
//! HTML-escaped, with each matched word wrapped in `<mark>`. Nothing else
//! in the output is markup, so it can be embedded in a page as is.

use crate::analyze::{bounded_distance, clip, stem, words_with_offsets};
use std::collections::{HashMap, HashSet};

/// How much of a document is scanned for matches.
const SCAN_CHARS: usize = 6_000;

/// Which words to mark.
#[derive(Debug, Clone, Default)]
pub struct Highlighter {
    /// Stems searched for exactly (query words and synonyms).
    exact: HashSet<String>,
    /// First two characters of every exact stem: a cheap pre-check before
    /// stemming a document word.
    exact_heads: HashSet<String>,
    /// Query stems searched with typo tolerance, and their distance.
    fuzzy: Vec<(String, u8)>,
    /// A word being typed (type-ahead): document words starting with it.
    prefix: Option<String>,
}

fn head(s: &str) -> String {
    s.chars().take(2).collect()
}

impl Highlighter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn exact(&mut self, stem: &str) {
        self.exact_heads.insert(head(stem));
        self.exact.insert(stem.to_owned());
    }

    pub fn fuzzy(&mut self, stem: &str, distance: u8) {
        if distance > 0 {
            self.fuzzy.push((stem.to_owned(), distance));
        }
    }

    pub fn prefix(&mut self, p: &str) {
        self.prefix = Some(p.to_owned());
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.fuzzy.is_empty() && self.prefix.is_none()
    }

    /// Which searched term a normalised document word matches, as a small
    /// key (so a passage can be scored by how many distinct terms it has).
    fn matches(&self, word: &str, stems: &mut HashMap<String, String>) -> Option<usize> {
        let mut stemmed = |w: &str| -> String {
            if let Some(s) = stems.get(w) {
                return s.clone();
            }
            let s = stem(w);
            stems.insert(w.to_owned(), s.clone());
            s
        };
        if self.exact_heads.contains(&head(word)) {
            let s = stemmed(word);
            if self.exact.contains(&s) {
                return Some(hash_key(&s));
            }
        }
        for (i, (q, d)) in self.fuzzy.iter().enumerate() {
            // A typo may hit any letter, but the first letters of the
            // document word and the query word are within `d` positions.
            let qc: Vec<char> = q.chars().take(usize::from(*d) + 1).collect();
            let wc: Vec<char> = word.chars().take(usize::from(*d) + 1).collect();
            if !(qc.first().is_some_and(|c| wc.contains(c)) || wc.first().is_some_and(|c| qc.contains(c))) {
                continue;
            }
            let s = stemmed(word);
            if bounded_distance(q, &s, *d).is_some() {
                return Some(1_000_000 + i);
            }
        }
        if let Some(p) = &self.prefix
            && word.starts_with(p.as_str())
        {
            return Some(2_000_000);
        }
        None
    }
}

fn hash_key(s: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    (h.finish() % 1_000_000) as usize
}

/// A passage of at most about `max_chars` characters of `text` around the
/// densest cluster of matches, escaped, matches in `<mark>`.
pub fn snippet(text: &str, h: &Highlighter, max_chars: usize) -> String {
    let text = clip(text, SCAN_CHARS);
    let mut marks: Vec<(usize, usize, usize)> = Vec::new();
    if !h.is_empty() {
        let mut cache = HashMap::new();
        words_with_offsets(text, |from, to, word| {
            if let Some(k) = h.matches(word, &mut cache) {
                marks.push((from, to, k));
            }
        });
    }
    // Pick the window (by byte span ≈ characters for Latin text) holding
    // the most distinct matched terms, then the most matches.
    let budget = max_chars.max(20);
    let mut best = (0usize, 0usize, 0usize); // (distinct, count, start index in marks)
    for i in 0..marks.len() {
        let limit = marks[i].0 + budget * 3 / 4;
        let mut keys = HashSet::new();
        let mut n = 0;
        for m in marks[i..].iter().take_while(|m| m.1 <= limit) {
            keys.insert(m.2);
            n += 1;
        }
        if (keys.len(), n) > (best.0, best.1) {
            best = (keys.len(), n, i);
        }
    }
    let (start, end) = if marks.is_empty() {
        (0, char_end(text, 0, budget))
    } else {
        let anchor = marks[best.2].0;
        // Some context before the first match, starting at a word.
        let back = text[..anchor].char_indices().rev().nth(budget / 5).map_or(0, |(i, _)| i);
        let start = if back == 0 { 0 } else { word_start(text, back).min(anchor) };
        (start, char_end(text, start, budget))
    };
    let mut out = String::with_capacity(budget + 64);
    if start > 0 {
        out.push('…');
    }
    let mut pos = start;
    for &(from, to, _) in marks.iter().filter(|m| m.0 >= start && m.1 <= end) {
        escape_into(&mut out, &text[pos..from]);
        out.push_str("<mark>");
        escape_into(&mut out, &text[from..to]);
        out.push_str("</mark>");
        pos = to;
    }
    escape_into(&mut out, &text[pos..end]);
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    if end < text.len() {
        out.push('…');
    }
    out
}

/// The byte index `max_chars` characters after `start`, moved back to the
/// end of a word when that does not lose much.
fn char_end(text: &str, start: usize, max_chars: usize) -> usize {
    let rest = &text[start..];
    let Some((cut, _)) = rest.char_indices().nth(max_chars) else { return text.len() };
    let window = &rest[..cut];
    match window.rfind(char::is_whitespace) {
        Some(ws) if ws > cut * 2 / 3 => start + ws,
        _ => start + cut,
    }
}

/// The start of the word after the whitespace at or after `i` (`i` when
/// there is none). Whitespace may be wider than a byte (U+00A0, U+3000).
fn word_start(text: &str, i: usize) -> usize {
    text[i..].char_indices().find(|(_, c)| c.is_whitespace()).map_or(i, |(ws, c)| i + ws + c.len_utf8())
}

/// HTML-escape, collapsing runs of whitespace (line breaks of the source)
/// into single spaces.
fn escape_into(out: &mut String, s: &str) {
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            if !space {
                out.push(' ');
            }
            space = true;
            continue;
        }
        space = false;
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hl(exact: &[&str]) -> Highlighter {
        let mut h = Highlighter::new();
        for e in exact {
            h.exact(e);
        }
        h
    }

    #[test]
    fn marks_stemmed_matches() {
        let s = snippet("Restart the printer. Printers & <copiers> jam.", &hl(&["printer"]), 200);
        assert_eq!(s, "Restart the <mark>printer</mark>. <mark>Printers</mark> &amp; &lt;copiers&gt; jam.");
    }

    #[test]
    fn marks_typo_neighbours() {
        let mut h = Highlighter::new();
        h.fuzzy("pasword", 1);
        let s = snippet("Reset your password here.", &h, 200);
        assert!(s.contains("<mark>password</mark>"), "{s}");
    }

    #[test]
    fn windows_around_the_best_cluster() {
        let text =
            format!("{} vpn {} vpn client setup {}", "filler ".repeat(100), "more ".repeat(100), "end ".repeat(50));
        let s = snippet(&text, &hl(&["vpn", "client"]), 120);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>vpn</mark> <mark>client</mark>"), "{s}");
        let visible = s.replace("<mark>", "").replace("</mark>", "");
        assert!(visible.chars().count() <= 122, "{}", visible.chars().count());
    }

    #[test]
    fn no_match_gives_the_opening() {
        let s = snippet("Line one\n\nline two", &hl(&["zzz"]), 200);
        assert_eq!(s, "Line one line two");
    }

    #[test]
    fn context_may_start_after_wide_whitespace() {
        // U+00A0 is two bytes: the word after it starts two bytes on.
        let text = format!("{}\u{a0}match here", "é".repeat(60));
        let s = snippet(&text, &hl(&["match"]), 20);
        assert!(s.contains("<mark>match</mark>"), "{s}");
    }

    proptest! {
        #[test]
        fn only_marks_are_markup(text in "\\PC{0,400}", word in "[a-z]{1,8}") {
            let s = snippet(&text, &hl(&[&word]), 80);
            let stripped = s.replace("<mark>", "").replace("</mark>", "");
            prop_assert!(!stripped.contains('<') && !stripped.contains('>') && !stripped.contains('"'));
        }
    }
}
