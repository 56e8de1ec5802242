//! Password policy (NIST 800-63B: 8–128 characters, no composition rules,
//! guessable and breached-style passwords refused via the zxcvbn estimator
//! and its bundled frequency lists) and argon2id hashing.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tier0_domain::ValidationError;
use tier0_domain::identity::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};

/// argon2id cost. Production defaults follow OWASP (19 MiB, 2 passes).
#[derive(Debug, Clone, Copy)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2 }
    }
}

impl HashCost {
    /// Cheap parameters for tests only.
    pub fn test() -> Self {
        Self { memory_kib: 64, iterations: 1 }
    }

    fn hasher(self) -> Argon2<'static> {
        let params = Params::new(self.memory_kib.max(8), self.iterations.max(1), 1, None).unwrap_or_default();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// Check a new password against the policy. `context` holds the user's
/// e-mail and name so that passwords built from them are refused.
pub fn check_policy(field: &str, password: &str, context: &[&str]) -> Result<(), ValidationError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(ValidationError::field(field, format!("must be at least {MIN_PASSWORD_LEN} characters")));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(ValidationError::field(field, format!("must be at most {MAX_PASSWORD_LEN} characters")));
    }
    if password.contains('\0') {
        return Err(ValidationError::field(field, "must not contain NUL characters"));
    }
    let mut inputs: Vec<&str> = context.to_vec();
    for c in context {
        if let Some((local, _)) = c.split_once('@') {
            inputs.push(local);
        }
    }
    inputs.extend(["tier0", "servicedesk", "helpdesk", "password"]);
    let est = zxcvbn::zxcvbn(password, &inputs);
    if (est.score() as u8) < 2 {
        return Err(ValidationError::field(
            field,
            "is too common or too easy to guess; try a longer phrase of unrelated words",
        ));
    }
    Ok(())
}

/// Hash with argon2id and a random salt (PHC string).
pub fn hash(password: &str, salt: [u8; 16], cost: HashCost) -> Result<String, String> {
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    cost.hasher().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Verify against a stored PHC string; malformed hashes never verify.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn policy() {
        assert!(check_policy("password", "short", &[]).is_err());
        assert!(check_policy("password", "password123", &[]).is_err());
        assert!(check_policy("password", "qwertyuiop", &[]).is_err());
        assert!(check_policy("password", "iloveyou1", &[]).is_err());
        assert!(check_policy("password", "alice.smith2024", &["alice.smith@acme.com"]).is_err());
        assert!(check_policy("password", &"x".repeat(129), &[]).is_err());
        assert!(check_policy("password", "correct horse battery staple", &[]).is_ok());
        assert!(check_policy("password", "Tr0ub4dor&3-lamp-Orbit", &[]).is_ok());
    }

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery staple", [7; 16], HashCost::test()).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapler", &h));
        assert!(!verify("x", "not a hash"));
    }

    proptest! {
        #[test]
        fn length_bounds_are_enforced(p in "\\PC{0,140}") {
            let n = p.chars().count();
            let r = check_policy("password", &p, &[]);
            if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&n) {
                prop_assert!(r.is_err());
            }
        }

        /// Length is counted in characters, not bytes: 7 characters are too
        /// short even when they take 28 bytes, 129 too long even in ASCII.
        #[test]
        fn length_is_in_characters(c in proptest::char::range('\u{100}', '\u{10FFFF}'), n in 0usize..8) {
            let short: String = std::iter::repeat_n(c, n).collect();
            let e = check_policy("password", &short, &[]).unwrap_err();
            prop_assert!(e.fields["password"].contains("at least 8"));
            let long = "x".repeat(MAX_PASSWORD_LEN + 1 + n);
            let e = check_policy("password", &long, &[]).unwrap_err();
            prop_assert!(e.fields["password"].contains("at most 128"));
        }

        /// A password that is just the user's e-mail address, its local
        /// part or their name is always refused, whatever the case.
        #[test]
        fn own_email_or_name_is_refused(
            first in "[a-z]{4,9}",
            last in "[a-z]{4,9}",
            dom in "[a-z]{3,8}",
            upper in any::<bool>(),
        ) {
            let email = format!("{first}.{last}@{dom}.com");
            let name = format!("{first} {last}");
            for p in [email.clone(), format!("{first}.{last}"), name.clone()] {
                let p = if upper { p.to_uppercase() } else { p };
                if p.chars().count() >= MIN_PASSWORD_LEN {
                    prop_assert!(check_policy("password", &p, &[&email, &name]).is_err(), "{}", p);
                }
            }
        }

        /// The policy never panics and errors name the given field.
        #[test]
        fn errors_name_the_field(p in "\\PC{0,200}") {
            if let Err(e) = check_policy("new_password", &p, &["someone@example.com"]) {
                prop_assert!(e.fields.contains_key("new_password"));
                prop_assert_eq!(e.fields.len(), 1);
            }
        }

        #[test]
        fn long_random_passphrases_pass(words in proptest::collection::vec("[a-z]{6,9}", 4)) {
            let p = words.join("-") + "-7q";
            prop_assert!(check_policy("password", &p, &[]).is_ok(), "{}", p);
        }
    }
}
