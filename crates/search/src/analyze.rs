//! Text analysis shared by indexing, querying and snippets, so the three
//! always agree on what a "word" is: split on anything that is not a letter
//! or digit, lower-case, fold accents to ASCII, drop stop words, and reduce
//! English words to their stem ("printers" and "printing" → "print…").

use rust_stemmers::{Algorithm, Stemmer};
use std::sync::LazyLock;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, StopWordFilter, TextAnalyzer,
    TokenStream,
};

/// Longest token kept (longer ones are base64 blobs, hashes, URLs).
const MAX_TOKEN_LEN: usize = 40;

/// The query text considered (longer input is cut here, on a character
/// boundary): nobody types a 500-character question, and the cap bounds
/// the work a single request can cause.
pub const MAX_QUERY_CHARS: usize = 400;

/// The number of distinct words of a query that are searched for.
pub const MAX_QUERY_TOKENS: usize = 16;

/// Words too common to help ranking. Lucene's English list plus the
/// question words people type into a help search ("how do I …").
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
    "i", "im", "me", "my", "we", "our", "you", "your", "do", "does", "did", "how", "what", "when", "where", "why",
    "which", "who", "can", "could", "should", "would", "t", "s", "m", "d", "ll", "ve", "re", "am", "been", "have",
    "has", "had", "from", "so", "just", "please", "anyone", "any", "some", "about",
];

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

fn stop_filter() -> StopWordFilter {
    StopWordFilter::remove(STOP_WORDS.iter().map(|w| (*w).to_owned()))
}

/// The analyzer of titles, tags and bodies (before partitioning).
fn stemming_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(stop_filter())
        .filter(tantivy::tokenizer::Stemmer::new(Language::English))
        .build()
}

/// The same pipeline without stemming: the words as typed, normalised.
fn normalizer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(stop_filter())
        .build()
}

thread_local! {
    // Building an analyzer allocates its stop-word set; reuse one per thread.
    static STEMMING: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(stemming_analyzer());
    static NORMALIZER: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(normalizer());
}

/// The stems of `text`, in order (stop words dropped).
pub(crate) fn stems(text: &str) -> Vec<String> {
    STEMMING.with_borrow_mut(|a| {
        let mut out = Vec::new();
        let mut ts = a.token_stream(text);
        while ts.advance() {
            out.push(ts.token().text.clone());
        }
        out
    })
}

/// The English stem of a normalised word.
pub fn stem(word: &str) -> String {
    STEMMER.stem(word).into_owned()
}

/// One word of a query: as typed (normalised) and stemmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWord {
    pub raw: String,
    pub stem: String,
}

/// The first [`MAX_QUERY_CHARS`] characters of `text`.
pub fn clip(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Split a query into words (at most [`MAX_QUERY_TOKENS`], duplicates
/// kept so phrases still line up). Any input is acceptable: punctuation,
/// quotes and control characters are separators, never syntax.
pub fn query_words(text: &str) -> Vec<QueryWord> {
    let text = clip(text, MAX_QUERY_CHARS);
    NORMALIZER.with_borrow_mut(|a| {
        let mut out = Vec::new();
        let mut ts = a.token_stream(text);
        while ts.advance() {
            let raw = ts.token().text.clone();
            let stem = stem(&raw);
            out.push(QueryWord { raw, stem });
            if out.len() >= MAX_QUERY_TOKENS {
                break;
            }
        }
        out
    })
}

/// Normalised words of `text` with their byte offsets (for snippets).
pub(crate) fn words_with_offsets(text: &str, mut f: impl FnMut(usize, usize, &str)) {
    NORMALIZER.with_borrow_mut(|a| {
        let mut ts = a.token_stream(text);
        while ts.advance() {
            let t = ts.token();
            f(t.offset_from, t.offset_to, &t.text);
        }
    })
}

/// The edit distance a word of `len` characters may be off by: none below
/// 4 letters, 1 edit for 4–7, 2 from 8.
pub fn fuzzy_distance(len: usize) -> u8 {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Optimal-string-alignment distance between `a` and `b` if it is at most
/// `max`, else `None` (adjacent transpositions cost one, as in the index's
/// fuzzy queries).
pub fn bounded_distance(a: &str, b: &str, max: u8) -> Option<u8> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let max = usize::from(max);
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let w = b.len() + 1;
    let mut prev2 = vec![0usize; w];
    let mut prev: Vec<usize> = (0..w).collect();
    let mut cur = vec![0usize; w];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_are_normalised_and_stemmed() {
        let w = query_words("How do I reset my PASSWORDS? Café printers!");
        let stems: Vec<&str> = w.iter().map(|w| w.stem.as_str()).collect();
        assert_eq!(stems, ["reset", "password", "cafe", "printer"]);
        assert_eq!(w[1].raw, "passwords");
    }

    #[test]
    fn punctuation_is_data() {
        for q in ["\"", "((", "title:x AND -y", "a\0b", "🙂 wifi 🙂", "*?~^", "", "   "] {
            let _ = query_words(q);
        }
        assert_eq!(query_words("wifi🙂").len(), 1);
        assert_eq!(query_words(&"x ".repeat(10_000)).len(), MAX_QUERY_TOKENS);
    }

    #[test]
    fn distances() {
        assert_eq!(bounded_distance("pasword", "password", 1), Some(1));
        assert_eq!(bounded_distance("pritner", "printer", 1), Some(1));
        assert_eq!(bounded_distance("printer", "printer", 0), Some(0));
        assert_eq!(bounded_distance("abc", "xyz", 2), None);
        assert_eq!(bounded_distance("wfi", "wifi", 1), Some(1));
        assert_eq!(fuzzy_distance(3), 0);
        assert_eq!(fuzzy_distance(4), 1);
        assert_eq!(fuzzy_distance(7), 1);
        assert_eq!(fuzzy_distance(8), 2);
    }

    proptest! {
        #[test]
        fn query_words_never_panic(s in "\\PC{0,600}") {
            let w = query_words(&s);
            prop_assert!(w.len() <= MAX_QUERY_TOKENS);
            prop_assert!(w.iter().all(|w| !w.raw.is_empty() && !w.stem.is_empty()));
        }

        #[test]
        fn clip_is_a_prefix(s in "\\PC{0,50}", n in 0usize..60) {
            let c = clip(&s, n);
            prop_assert!(s.starts_with(c));
            prop_assert!(c.chars().count() <= n);
        }
    }
}
