//! Injected sources of time and randomness, so that expiry, SLA timers and
//! TOTP are testable with a fixed clock.

use crate::time::Timestamp;

/// Source of the current time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// Source of cryptographically secure random bytes.
pub trait Random: Send + Sync + 'static {
    fn fill(&self, buf: &mut [u8]);
}

/// `N` random bytes from any source.
pub fn random_bytes<const N: usize>(r: &dyn Random) -> [u8; N] {
    let mut b = [0u8; N];
    r.fill(&mut b);
    b
}
