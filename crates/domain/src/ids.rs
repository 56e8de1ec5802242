//! Opaque identifiers. Every id is a 26-character, time-ordered Crockford
//! base32 string (ULID layout): 48 bits of milliseconds, 80 random bits.
//! Sorting ids sorts by creation time, which keyset pagination relies on.

use serde::{Deserialize, Serialize};
use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Encode a ULID from a millisecond timestamp and 10 random bytes.
pub fn ulid_string(ms: i64, random: [u8; 10]) -> String {
    let mut value: u128 = (u128::from(ms.max(0) as u64) & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= u128::from(*b) << (72 - 8 * i);
    }
    let mut out = [0u8; 26];
    for (i, slot) in out.iter_mut().enumerate() {
        let shift = 125 - 5 * i as u32;
        let idx = ((value >> shift) & 0x1F) as usize;
        *slot = ALPHABET[idx];
    }
    String::from_utf8(out.to_vec()).unwrap_or_default()
}

/// Whether `s` has the shape of an id (ULID alphabet, 26 chars). Ids that
/// fail this check can never exist, so callers answer 404 without a query.
pub fn looks_like_id(s: &str) -> bool {
    s.len() == 26 && s.bytes().all(|b| ALPHABET.contains(&b))
}

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String)]
        pub struct $name(String);

        impl $name {
            /// Wrap a string read from storage or a path. No shape check:
            /// lookups of malformed ids simply find nothing.
            pub fn new(s: impl Into<String>) -> Self {
                Self(s.into())
            }

            pub fn generate(ms: i64, random: [u8; 10]) -> Self {
                Self(ulid_string(ms, random))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A tenant (one organisation).
    TenantId
);
id_type!(
    /// A user of one tenant.
    UserId
);
id_type!(
    /// A role of one tenant (built-in or custom).
    RoleId
);
id_type!(
    /// A server-side session.
    SessionId
);
id_type!(
    /// A generic row id for records without a dedicated type.
    RecordId
);

// Service catalog, requests, approvals and incidents (SPEC §5).
id_type!(
    /// A service catalog category.
    CategoryId
);
id_type!(
    /// A service catalog item.
    CatalogItemId
);
id_type!(
    /// A service request (`REQ-n`).
    RequestId
);
id_type!(
    /// An approval workflow definition.
    WorkflowId
);
id_type!(
    /// An incident (`INC-n`).
    IncidentId
);
id_type!(
    /// A file attached to a request.
    AttachmentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulid_is_sortable_and_shaped() {
        let a = ulid_string(1_000, [0xFF; 10]);
        let b = ulid_string(1_001, [0; 10]);
        assert!(a < b);
        assert!(looks_like_id(&a) && looks_like_id(&b));
        assert_eq!(ulid_string(0, [0; 10]), "00000000000000000000000000");
    }
}
