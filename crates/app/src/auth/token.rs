//! Opaque secrets: session tokens, signed single-use link tokens, and the
//! hashes under which they are stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// SHA-256 hex of a secret: what the database stores instead of it.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A link token: `<row id>.<secret>.<signature>`, where the signature is an
/// HMAC over kind, tenant, id and secret with the instance key. Forged or
/// re-targeted tokens fail before any lookup.
pub fn sign_link(key: &[u8], kind: &str, tenant: &str, id: &str, secret: &str) -> String {
    format!("{id}.{secret}.{}", b64(&mac(key, kind, tenant, id, secret)))
}

/// Split and verify a link token; returns (id, secret).
pub fn verify_link<'a>(key: &[u8], kind: &str, tenant: &str, token: &'a str) -> Option<(&'a str, &'a str)> {
    if token.len() > 256 {
        return None;
    }
    let mut parts = token.trim().splitn(3, '.');
    let (id, secret, sig) = (parts.next()?, parts.next()?, parts.next()?);
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let mut m = Hmac::<Sha256>::new_from_slice(key).ok()?;
    m.update(payload(kind, tenant, id, secret).as_bytes());
    m.verify_slice(&sig).ok()?;
    Some((id, secret))
}

fn payload(kind: &str, tenant: &str, id: &str, secret: &str) -> String {
    format!("tier0-link|{kind}|{tenant}|{id}|{secret}")
}

fn mac(key: &[u8], kind: &str, tenant: &str, id: &str, secret: &str) -> Vec<u8> {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else { return Vec::new() };
    m.update(payload(kind, tenant, id, secret).as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// Constant-time equality of two hex hashes.
pub fn same_hash(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links() {
        let key = b"k";
        let t = sign_link(key, "invite", "T1", "ID", "SECRET");
        assert_eq!(verify_link(key, "invite", "T1", &t), Some(("ID", "SECRET")));
        assert_eq!(verify_link(key, "reset", "T1", &t), None);
        assert_eq!(verify_link(key, "invite", "T2", &t), None);
        assert_eq!(verify_link(b"other", "invite", "T1", &t), None);
        assert_eq!(verify_link(key, "invite", "T1", "ID.SECRET.AAAA"), None);
        assert_eq!(verify_link(key, "invite", "T1", "garbage"), None);
    }
}
