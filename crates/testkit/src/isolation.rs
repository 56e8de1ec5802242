//! The tenant-isolation check every feature reuses: data of tenant B must
//! never appear in anything tenant A can list, get or search.

use crate::Client;
use serde_json::Value;

/// One way of reading data.
pub enum Probe {
    /// A list or search by GET: the body must not mention any foreign id.
    List(String),
    /// A POST search: the body must not mention any foreign id.
    Search(String, Value),
    /// A foreign object's URL: must be 404.
    Get(String),
}

/// Assert that `client` (of tenant A) sees none of `foreign_ids` (of
/// tenant B) through any probe, and that every probe answered.
pub async fn assert_isolated(client: &Client, foreign_ids: &[String], probes: &[Probe]) {
    assert!(!foreign_ids.is_empty(), "isolation check needs foreign ids");
    for p in probes {
        let (what, r) = match p {
            Probe::List(path) => (path.clone(), client.get(path).await),
            Probe::Search(path, body) => (path.clone(), client.post(path, body.clone()).await),
            Probe::Get(path) => {
                let r = client.get(path).await;
                assert_eq!(r.status, 404, "{path} must be 404 across tenants; got {}: {}", r.status, r.text);
                (path.clone(), r)
            }
        };
        assert!(r.status < 500, "{what}: server error {}", r.text);
        if !matches!(p, Probe::Get(_)) {
            assert_eq!(r.status, 200, "{what}: {}", r.text);
        }
        for id in foreign_ids {
            assert!(!r.text.contains(id.as_str()), "{what} leaked foreign id {id}: {}", r.text);
        }
    }
}
