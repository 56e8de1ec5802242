//! Read-through caches.
//!
//! [`PerTenant`] keeps one snapshot per tenant (portal settings, status
//! rows, the catalog) for [`crate::portal::SNAPSHOT_TTL`], dropped at once
//! by [`PerTenant::invalidate`] when this node changes what it holds; other
//! nodes see a change within the TTL.
//!
//! [`LocalCache`] is exact on a single node. On SQLite this process is the only writer of its database, and every
//! write it commits advances [`tier0_store::write_generation`]. An entry is
//! served only while the generation it was read at is still current, so any
//! committed change whatsoever — a sign-out, a deactivation, a role change, a
//! new notification — drops every entry at once, and a read that raced a
//! write is never kept. Entries also expire after [`LOCAL_TTL`], which bounds
//! what another process (the `tier0` CLI) could change unseen. On
//! PostgreSQL other nodes write too, so these caches are off there.
//!
//! Used for what every request or page reads and writes rarely change: the
//! session behind a token and the page header's badges. They matter most on
//! SQLite, where each query is a hand-off to a database worker thread.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tier0_domain::TenantId;

/// The longest an entry is served, whatever the generation.
pub const LOCAL_TTL: Duration = Duration::from_secs(1);

/// Entries kept before the cache starts over.
const MAX_ENTRIES: usize = 50_000;

pub(crate) struct LocalCache<K, V> {
    enabled: bool,
    map: RwLock<HashMap<K, (V, u64, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> LocalCache<K, V> {
    pub(crate) fn new(enabled: bool) -> Self {
        Self { enabled, map: RwLock::new(HashMap::new()) }
    }

    /// The generation to read at: take it before reading the database, and
    /// pass it to [`Self::put`].
    pub(crate) fn generation(&self) -> u64 {
        tier0_store::write_generation()
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        if !self.enabled {
            return None;
        }
        let map = self.map.read().ok()?;
        let (v, generation, at) = map.get(key)?;
        (*generation == tier0_store::write_generation() && at.elapsed() < LOCAL_TTL).then(|| v.clone())
    }

    pub(crate) fn put(&self, key: K, value: V, generation: u64) {
        if !self.enabled || generation != tier0_store::write_generation() {
            return;
        }
        if let Ok(mut map) = self.map.write() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, (value, generation, Instant::now()));
        }
    }
}

/// A snapshot per tenant, with a generation so that a load racing a change
/// never stores what the change replaced.
pub(crate) struct PerTenant<V> {
    map: RwLock<HashMap<TenantId, (Arc<V>, Instant)>>,
    generation: AtomicU64,
}

impl<V> Default for PerTenant<V> {
    fn default() -> Self {
        Self { map: RwLock::new(HashMap::new()), generation: AtomicU64::new(0) }
    }
}

impl<V> PerTenant<V> {
    pub(crate) fn get(&self, tenant: &TenantId) -> Option<Arc<V>> {
        let map = self.map.read().ok()?;
        let (snap, at) = map.get(tenant)?;
        (at.elapsed() < crate::portal::SNAPSHOT_TTL).then(|| snap.clone())
    }

    /// The generation to pass to [`Self::put`]: take it before loading.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keep a snapshot loaded at `generation`, unless it was invalidated
    /// since.
    pub(crate) fn put(&self, tenant: &TenantId, snap: Arc<V>, generation: u64) {
        if let Ok(mut map) = self.map.write()
            && self.generation.load(Ordering::Acquire) == generation
        {
            if map.len() >= MAX_ENTRIES {
                map.retain(|_, (_, at)| at.elapsed() < crate::portal::SNAPSHOT_TTL);
            }
            map.insert(tenant.clone(), (snap, Instant::now()));
        }
    }

    pub(crate) fn invalidate(&self, tenant: &TenantId) {
        if let Ok(mut map) = self.map.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            map.remove(tenant);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_tenant_ignores_a_load_that_raced_a_change() {
        let cache: PerTenant<i32> = PerTenant::default();
        let t = TenantId::new("t");
        let g = cache.generation();
        cache.invalidate(&t);
        cache.put(&t, Arc::new(1), g);
        assert!(cache.get(&t).is_none(), "a snapshot loaded before the change must not be kept");
        let g = cache.generation();
        cache.put(&t, Arc::new(2), g);
        assert_eq!(cache.get(&t).as_deref(), Some(&2));
    }

    #[test]
    fn serves_only_what_no_write_has_changed_since() {
        let c: LocalCache<&str, i32> = LocalCache::new(true);
        let g = c.generation();
        c.put("a", 1, g);
        // Another test may commit meanwhile; then the entry is rightly gone.
        if tier0_store::write_generation() == g {
            assert_eq!(c.get(&"a"), Some(1));
        }
        let off: LocalCache<&str, i32> = LocalCache::new(false);
        off.put("a", 1, off.generation());
        assert_eq!(off.get(&"a"), None, "off on PostgreSQL");
    }
}
