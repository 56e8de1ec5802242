//! Attachments: safe file names and the content types they are served with.

/// Longest stored file name, in bytes.
pub const MAX_FILENAME_BYTES: usize = 200;

/// A file name safe to store and to put in a `Content-Disposition` header:
/// the last path component only, without control characters, quotes,
/// backslashes or separators, no leading dots or spaces, at most
/// [`MAX_FILENAME_BYTES`] bytes (cut on a character boundary, keeping the
/// extension where possible). Never empty: falls back to `attachment`.
pub fn sanitize_filename(input: &str) -> String {
    let base = input.rsplit(['/', '\\']).next().unwrap_or("");
    let mut s: String = base
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '\\' | '/' | ':' | '*' | '?' | '<' | '>' | '|' | ';') {
                '_'
            } else {
                c
            }
        })
        .collect();
    s = s.trim_matches(|c: char| c == '.' || c.is_whitespace()).to_owned();
    if s.len() > MAX_FILENAME_BYTES {
        let (stem, ext) = match s.rfind('.') {
            Some(i) if s.len() - i <= 16 && i > 0 => (s[..i].to_owned(), s[i..].to_owned()),
            _ => (s.clone(), String::new()),
        };
        let mut cut = MAX_FILENAME_BYTES - ext.len();
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        s = format!("{}{}", &stem[..cut], ext).trim_matches(|c: char| c == '.' || c.is_whitespace()).to_owned();
    }
    if s.is_empty() { "attachment".to_owned() } else { s }
}

/// The `Content-Type` an attachment is served with, from its sniffed type:
/// common document and image types as themselves, anything a browser could
/// execute or render as a page (HTML, SVG, XML, scripts) as
/// `application/octet-stream`. Downloads also carry `nosniff` and
/// `Content-Disposition: attachment`.
pub fn served_content_type(sniffed: &str) -> &'static str {
    const SAFE: &[&str] = &[
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/tiff",
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-7z-compressed",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "text/plain",
        "text/csv",
        "audio/mpeg",
        "video/mp4",
    ];
    SAFE.iter().find(|t| **t == sniffed).copied().unwrap_or("application/octet-stream")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\Users\\x\\report.pdf"), "report.pdf");
        assert_eq!(sanitize_filename("a\"b;c\r\n.txt"), "a_b_c__.txt");
        assert_eq!(sanitize_filename("..."), "attachment");
        assert_eq!(sanitize_filename(""), "attachment");
        assert_eq!(sanitize_filename(".htaccess"), "htaccess");
        let long = format!("{}.pdf", "é".repeat(300));
        let s = sanitize_filename(&long);
        assert!(s.len() <= MAX_FILENAME_BYTES && s.ends_with(".pdf"), "{s}");
        assert_eq!(served_content_type("text/html"), "application/octet-stream");
        assert_eq!(served_content_type("image/png"), "image/png");
    }

    proptest! {
        #[test]
        fn sanitized_names_are_safe(s in "\\PC{0,400}|[\\x00-\\x7f]{0,300}") {
            let n = sanitize_filename(&s);
            prop_assert!(!n.is_empty() && n.len() <= MAX_FILENAME_BYTES);
            prop_assert!(!n.chars().any(|c| c.is_control() || matches!(c, '"' | '\\' | '/' | ';')));
            prop_assert!(!n.starts_with('.'));
            prop_assert_eq!(sanitize_filename(&n), n.clone());
        }
    }
}
