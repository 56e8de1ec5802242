//! Markdown for knowledge articles: rendered with pulldown-cmark, then
//! sanitised with ammonia against a small allow-list, so whatever an author
//! (or an attacker with author rights) writes, readers get inert HTML: no
//! scripts, no event handlers, no `javascript:`/`data:` URLs, no frames,
//! objects, forms or inline styles; every link gets
//! `rel="noopener noreferrer nofollow"`.

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

const TAGS: &[&str] = &[
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "del",
    "ins",
    "code",
    "pre",
    "kbd",
    "samp",
    "blockquote",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
    "mark",
    "abbr",
];

/// Elements removed together with everything inside them.
const DROP_WITH_CONTENT: &[&str] = &[
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "form",
    "template",
    "svg",
    "math",
    "noscript",
    "noembed",
    "textarea",
    "select",
    "button",
    "input",
    "video",
    "audio",
    "canvas",
    "base",
    "link",
    "meta",
    "title",
    "head",
    "xmp",
    "plaintext",
    "noframes",
];

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::empty();
    b.tags(TAGS.iter().copied().collect())
        .clean_content_tags(DROP_WITH_CONTENT.iter().copied().collect())
        .generic_attributes(HashSet::new())
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href", "title"])),
            ("img", HashSet::from(["src", "alt", "title", "width", "height"])),
            ("ol", HashSet::from(["start"])),
            ("abbr", HashSet::from(["title"])),
        ]))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer nofollow"))
        .strip_comments(true)
        .attribute_filter(|_element, _attribute, value| if suspicious(value) { None } else { Some(value.into()) });
    b
});

/// Defence in depth on top of the scheme allow-list: an attribute whose
/// value mentions a script scheme anywhere (say a relative link
/// `[x](javascript:…)` that is not a URL at all) is dropped.
fn suspicious(value: &str) -> bool {
    let squashed: String =
        value.chars().filter(|c| !c.is_whitespace() && !c.is_control()).flat_map(char::to_lowercase).collect();
    squashed.contains("javascript:") || squashed.contains("vbscript:") || squashed.starts_with("data:")
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Markdown → sanitised HTML.
pub fn render(markdown: &str) -> String {
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut raw, Parser::new_ext(markdown, options()));
    sanitize(&raw)
}

/// Sanitise an HTML fragment.
pub fn sanitize(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// The readable text of a Markdown document (for the search index and
/// snippets): no markup, no URLs, blocks on their own lines.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for e in Parser::new_ext(markdown, options()) {
        match e {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::Start(Tag::Item) => out.push('\n'),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::BlockQuote(_),
            ) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push(' '),
            _ => {}
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Well-known XSS payloads, raw and wrapped in Markdown.
    const PAYLOADS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "<img src=x onerror=alert(1)>",
        "<img src=\"x\" onerror=\"alert(1)\">",
        "<IMG SRC=\"javascript:alert('XSS');\">",
        "<img src=javascript:alert(1)>",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<svg><a xlink:href=\"javascript:alert(1)\"><text x=20 y=20>XSS</text></a></svg>",
        "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<details open ontoggle=alert(1)>",
        "<details/open/ontoggle=\"alert`1`\">",
        "<body onload=alert(1)>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<object data=\"javascript:alert(1)\"></object>",
        "<embed src=\"javascript:alert(1)\">",
        "<form action=\"javascript:alert(1)\"><button>x</button></form>",
        "<input onfocus=alert(1) autofocus>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<a href=\"javascript&#58;alert(1)\">x</a>",
        "<a href=\"javascript&colon;alert(1)\">x</a>",
        "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
        "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
        "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)\">x</a>",
        "<a href=\"java\tscript:alert(1)\">x</a>",
        "<a href=\"java&#x09;script:alert(1)\">x</a>",
        "<a href=\" javascript:alert(1)\">x</a>",
        "<a href=\"\u{1}javascript:alert(1)\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
        "<a href=\"x\" onclick=\"alert(1)\">x</a>",
        "<a href=\"x\" onmouseover=alert(1)>x</a>",
        "<p style=\"background:url(javascript:alert(1))\">x</p>",
        "<div style=\"x:expression(alert(1))\">x</div>",
        "<style>@import 'javascript:alert(1)';</style>",
        "<link rel=stylesheet href=\"javascript:alert(1)\">",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<base href=\"javascript:alert(1)//\">",
        "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
        "<video><source onerror=\"alert(1)\"></video>",
        "<audio src=x onerror=alert(1)>",
        "<marquee onstart=alert(1)>x</marquee>",
        "<isindex type=image src=1 onerror=alert(1)>",
        "<x onclick=alert(1)>click</x>",
        "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<textarea><script>alert(1)</script></textarea>",
        "<template><script>alert(1)</script></template>",
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](javascript&#58;alert(1))",
        "[x](&#x6A;avascript:alert(1))",
        "[x](  javascript:alert(1)  )",
        "[x](<javascript:alert(1)>)",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "![x](javascript:alert(1))",
        "![x\" onerror=\"alert(1)](x)",
        "[x]: javascript:alert(1)\n\n[x]",
        "<javascript:alert(1)>",
        "[a](https://ok.example \"title\\\" onmouseover=alert(1)\")",
        "```html\n<script>alert(1)</script>\n```",
    ];

    /// Whether `html` contains something a browser would run. `html` comes
    /// from the sanitiser: text `<` is always escaped, so every `<` opens a
    /// tag, and attribute values are double-quoted.
    fn dangerous(html: &str) -> Option<String> {
        let lower = html.to_ascii_lowercase();
        for bad in [
            "<script",
            "<iframe",
            "<object",
            "<embed",
            "<form",
            "<svg",
            "<math",
            "<style",
            "<link",
            "<meta",
            "<base",
            "<input",
            "<button",
            "<textarea",
            "<details",
        ] {
            if lower.contains(bad) {
                return Some(format!("element {bad}"));
            }
        }
        // Inspect every tag's attributes.
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            let after = &rest[start..];
            let end = after.find('>').unwrap_or(after.len());
            let tag = &after[..end];
            let mut attrs = tag.split_once(char::is_whitespace).map_or("", |x| x.1);
            while let Some(eq) = attrs.find('=') {
                let name = attrs[..eq].trim().trim_start_matches('/').to_ascii_lowercase();
                let value_part = &attrs[eq + 1..];
                let (value, tail) = if let Some(v) = value_part.strip_prefix('"') {
                    let close = v.find('"').unwrap_or(v.len());
                    (&v[..close], &v[(close + 1).min(v.len())..])
                } else {
                    let close = value_part.find(char::is_whitespace).unwrap_or(value_part.len());
                    (&value_part[..close], &value_part[close..])
                };
                if name.starts_with("on") || name == "style" || name == "srcdoc" || name == "formaction" {
                    return Some(format!("attribute {name} in {tag}"));
                }
                let decoded: String = decode_entities(value)
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                for scheme in ["javascript:", "vbscript:", "data:"] {
                    if decoded.starts_with(scheme) {
                        return Some(format!("{scheme} URL in {tag}"));
                    }
                }
                attrs = tail;
            }
            if tag.to_ascii_lowercase().contains("javascript:") {
                return Some(format!("javascript: inside {tag}"));
            }
            if tag.starts_with("<a ") && !tag.contains("rel=\"noopener noreferrer nofollow\"") {
                return Some(format!("link without rel: {tag}"));
            }
            rest = &after[end.min(after.len())..];
            if rest.is_empty() {
                break;
            }
            rest = &rest[1..];
        }
        None
    }

    /// Decode numeric and the common named character references.
    fn decode_entities(s: &str) -> String {
        let mut out = String::new();
        let mut it = s.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            if c == '&'
                && let Some(semi) = s[i..].find(';')
            {
                let ent = &s[i + 1..i + semi];
                let decoded = if let Some(hex) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                } else if let Some(dec) = ent.strip_prefix('#') {
                    dec.parse::<u32>().ok().and_then(char::from_u32)
                } else {
                    match ent {
                        "colon" => Some(':'),
                        "amp" => Some('&'),
                        "tab" => Some('\t'),
                        "newline" => Some('\n'),
                        "quot" => Some('"'),
                        _ => None,
                    }
                };
                if let Some(d) = decoded {
                    out.push(d);
                    for _ in 0..semi {
                        it.next();
                    }
                    continue;
                }
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn payloads_are_neutralised() {
        for p in PAYLOADS {
            for input in [p.to_string(), format!("Intro paragraph.\n\n{p}\n\nOutro *text*."), format!("- item {p}")] {
                let html = render(&input);
                assert!(dangerous(&html).is_none(), "{input:?} rendered to {html:?}: {:?}", dangerous(&html));
            }
        }
    }

    #[test]
    fn detector_detects() {
        assert!(dangerous("<a href=\"javascript&#58;x\" rel=\"noopener noreferrer nofollow\">").is_some());
        assert!(dangerous("<img src=\"x\" onerror=\"y\">").is_some());
        assert!(dangerous("<p>javascript: is just text here</p>").is_none());
    }

    #[test]
    fn useful_markdown_survives() {
        let html = render(
            "# Title\n\nSome **bold** and `code`.\n\n1. one\n2. two\n\n[docs](https://example.com/a?b=1) ![alt](/img.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nfn x() {}\n```",
        );
        for want in [
            "<h1>Title</h1>",
            "<strong>bold</strong>",
            "<code>code</code>",
            "<ol>",
            "<a href=\"https://example.com/a?b=1\" rel=\"noopener noreferrer nofollow\">docs</a>",
            "<img src=\"/img.png\" alt=\"alt\">",
            "<table>",
            "<pre><code>fn x() {}",
        ] {
            assert!(html.contains(want), "missing {want} in {html}");
        }
        assert!(render("mail <a href=\"mailto:it@example.com\">us</a>").contains("href=\"mailto:it@example.com\""));
    }

    #[test]
    fn plain_text_drops_markup() {
        assert_eq!(
            plain_text("# Reset\n\nUse **this** [link](https://x.example).\n\n- a\n- b"),
            "Reset\nUse this link.\n\na\n\nb"
        );
    }

    proptest! {
        /// Random mixes of dangerous fragments and noise never render to
        /// anything that runs: no `<script`, no `on…=` attribute, no
        /// `javascript:` inside a tag.
        #[test]
        fn sanitised_output_is_inert(
            parts in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(PAYLOADS.to_vec()).prop_map(str::to_owned),
                    proptest::sample::select(vec![
                        "<", ">", "\"", "'", "=", "&#", ";", "javascript:", "JaVaScRiPt&#58;", "on", "error", "load",
                        "<a href=", "<img src=", "[", "](", ")", "\n", " ", "`", "<!--", "-->", "&#x6A;", "<svg", "<details",
                        "ontoggle=", "onerror=alert(1)", "data:", "vbscript:", "\t", "<scr", "ipt>",
                    ]).prop_map(str::to_owned),
                    "\\PC{0,12}",
                ],
                0..24,
            )
        ) {
            let input: String = parts.concat();
            let html = render(&input);
            prop_assert!(dangerous(&html).is_none(), "{:?} → {:?}: {:?}", input, html, dangerous(&html));
            let lower = html.to_ascii_lowercase();
            prop_assert!(!lower.contains("<script"));
        }
    }
}
