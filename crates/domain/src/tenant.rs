//! Tenants are addressed by host: `<slug>.<base-domain>`. The bare base
//! domain (or an IP address) serves the default tenant.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Slugs that name platform hosts, never a tenant.
pub const RESERVED_SLUGS: &[&str] = &["cp", "www", "api"];
pub const MAX_SLUG_LEN: usize = 63;

/// A validated tenant slug: 1–63 of `a-z`, `0-9`, `-`, not starting or
/// ending with a hyphen, and not reserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String)]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let err = |m: &str| Err(ValidationError::field("slug", m));
        if s.is_empty() {
            return err("is required");
        }
        if s.len() > MAX_SLUG_LEN {
            return err("must be at most 63 characters");
        }
        if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return err("may contain only lowercase letters, digits and hyphens");
        }
        if s.starts_with('-') || s.ends_with('-') {
            return err("must not start or end with a hyphen");
        }
        if RESERVED_SLUGS.contains(&s) {
            return err("is reserved");
        }
        Ok(Self(s.to_owned()))
    }

    /// The slug of the tenant created on first start.
    pub fn default_tenant() -> Self {
        Self("default".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Slug::parse(&s).map_err(|e| e.fields.into_values().next().unwrap_or_default())
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a request's Host header addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostTarget {
    /// The bare base domain or an IP address: the default tenant.
    Default,
    /// `<slug>.<base-domain>`.
    Tenant(Slug),
    /// `cp.<base-domain>`: the platform control plane.
    ControlPlane,
    /// Anything else: no tenant lives here.
    Unknown,
}

/// Resolve a Host header value (with or without port) against the base
/// domain. Case-insensitive; never panics on any input.
pub fn parse_host(host: &str, base_domain: &str) -> HostTarget {
    let host = host.trim();
    if host.is_empty() || host.len() > 255 {
        return HostTarget::Unknown;
    }
    let name = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return HostTarget::Unknown;
    }
    if is_ip_literal(&name) {
        return HostTarget::Default;
    }
    let base = base_domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if name == base {
        return HostTarget::Default;
    }
    let Some(prefix) = name.strip_suffix(&base).and_then(|p| p.strip_suffix('.')) else {
        return HostTarget::Unknown;
    };
    if prefix == "cp" {
        return HostTarget::ControlPlane;
    }
    if prefix.contains('.') {
        return HostTarget::Unknown;
    }
    match Slug::parse(prefix) {
        Ok(s) => HostTarget::Tenant(s),
        Err(_) => HostTarget::Unknown,
    }
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        return match rest.find(']') {
            Some(end) => &host[..end + 2],
            None => host,
        };
    }
    match host.rfind(':') {
        Some(i) if host[i + 1..].bytes().all(|b| b.is_ascii_digit()) && host.matches(':').count() == 1 => &host[..i],
        _ => host,
    }
}

fn is_ip_literal(name: &str) -> bool {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> HostTarget {
        HostTarget::Tenant(Slug::parse(s).unwrap())
    }

    #[test]
    fn hosts() {
        assert_eq!(parse_host("localhost:8080", "localhost"), HostTarget::Default);
        assert_eq!(parse_host("LOCALHOST", "localhost"), HostTarget::Default);
        assert_eq!(parse_host("127.0.0.1:8080", "localhost"), HostTarget::Default);
        assert_eq!(parse_host("[::1]:8080", "localhost"), HostTarget::Default);
        assert_eq!(parse_host("acme.localhost:8080", "localhost"), t("acme"));
        assert_eq!(parse_host("Acme.Example.com", "example.com"), t("acme"));
        assert_eq!(parse_host("cp.localhost", "localhost"), HostTarget::ControlPlane);
        assert_eq!(parse_host("www.localhost", "localhost"), HostTarget::Unknown);
        assert_eq!(parse_host("a.b.localhost", "localhost"), HostTarget::Unknown);
        assert_eq!(parse_host("evil.com", "localhost"), HostTarget::Unknown);
        assert_eq!(parse_host("xlocalhost", "localhost"), HostTarget::Unknown);
        assert_eq!(parse_host("-bad.localhost", "localhost"), HostTarget::Unknown);
        assert_eq!(parse_host("", "localhost"), HostTarget::Unknown);
    }

    #[test]
    fn slugs() {
        for ok in ["a", "acme", "acme-2", "0x"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "cp", "www", "api", "a.b", &"a".repeat(64)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parse_host_never_panics(h in "\\PC{0,80}", b in "[a-z.]{0,20}") {
            let _ = parse_host(&h, &b);
        }

        #[test]
        fn valid_slug_round_trips(s in "[a-z0-9][a-z0-9-]{0,20}[a-z0-9]") {
            prop_assume!(!RESERVED_SLUGS.contains(&s.as_str()));
            let host = format!("{s}.example.org:443");
            prop_assert_eq!(parse_host(&host, "example.org"), HostTarget::Tenant(Slug::parse(&s).unwrap()));
        }
    }
}
