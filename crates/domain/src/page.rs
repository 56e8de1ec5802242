//! List paging: `limit` (default 50, max 200) and opaque keyset cursors.

use base64::Engine as _;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// A page size within the API's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    /// Absent → default; 0 or over the maximum → a validation error.
    pub fn parse(v: Option<i64>) -> Result<Self, crate::ValidationError> {
        match v {
            None => Ok(Self(DEFAULT_LIMIT)),
            Some(n) if (1..=i64::from(MAX_LIMIT)).contains(&n) => Ok(Self(n as u32)),
            Some(_) => Err(crate::ValidationError::field("limit", format!("must be between 1 and {MAX_LIMIT}"))),
        }
    }

    pub fn new_clamped(n: u32) -> Self {
        Self(n.clamp(1, MAX_LIMIT))
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// One more than the page, to learn whether a next page exists.
    pub fn probe(self) -> i64 {
        i64::from(self.0) + 1
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(DEFAULT_LIMIT)
    }
}

/// An opaque keyset cursor: the sort key of the last item of a page,
/// base64url-encoded. Clients must not interpret it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub Vec<String>);

impl Cursor {
    pub fn encode(&self) -> String {
        let joined = self.0.join("\u{1f}");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(joined.as_bytes())
    }

    /// Decode a client-supplied cursor. Anything malformed is a 422 on
    /// `cursor`, never a server error.
    pub fn decode(s: &str, parts: usize) -> Result<Self, crate::ValidationError> {
        let bad = || crate::ValidationError::field("cursor", "is not a valid cursor");
        if s.len() > 512 {
            return Err(bad());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.as_bytes()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let v: Vec<String> = text.split('\u{1f}').map(str::to_owned).collect();
        if v.len() != parts || v.iter().any(|p| p.contains('\0')) {
            return Err(bad());
        }
        Ok(Self(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn limits() {
        assert_eq!(Limit::parse(None).unwrap().get(), 50);
        assert_eq!(Limit::parse(Some(200)).unwrap().get(), 200);
        assert!(Limit::parse(Some(0)).is_err());
        assert!(Limit::parse(Some(201)).is_err());
        assert!(Limit::parse(Some(-5)).is_err());
    }

    proptest! {
        #[test]
        fn cursor_round_trips(a in "[A-Z0-9]{0,26}", b in "[ -~]{0,40}") {
            let c = Cursor(vec![a, b]);
            prop_assert_eq!(Cursor::decode(&c.encode(), 2).unwrap(), c);
        }

        #[test]
        fn cursor_decode_never_panics(s in ".{0,600}") {
            let _ = Cursor::decode(&s, 2);
        }
    }
}
