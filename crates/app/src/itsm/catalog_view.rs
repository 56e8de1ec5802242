//! The catalog as readers see it, served from memory.
//!
//! Every portal page and catalog call reads the catalog, and it changes
//! rarely, so each tenant's live catalog (categories, items, their role
//! restrictions) is loaded whole — it is bounded by
//! [`super::catalog::MAX_CATALOG_ITEMS`] — and filtered in memory, kept in a
//! [`crate::local_cache::PerTenant`] and dropped at once when this node
//! changes the catalog. Catalog managers always read a fresh snapshot, so the workspace
//! shows their own edits whichever node serves them.

use tier0_domain::itsm::records::{CatalogItem, Category};
use tier0_domain::{CategoryId, RoleId};

/// One tenant's live catalog.
#[derive(Debug, Default)]
pub struct CatalogSnapshot {
    /// By position, then name, then id.
    pub categories: Vec<Category>,
    /// By (name, id) in byte order: the keyset order of the listing.
    items: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    item: CatalogItem,
    /// Restricted to these roles; empty: everyone.
    roles: Vec<RoleId>,
    name_lower: String,
    description_lower: String,
}

/// Which items to list.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Case-insensitive substring of the name or the description.
    pub q: Option<String>,
    pub category_id: Option<CategoryId>,
    pub published_only: bool,
    /// Only items with no role restriction or restricted to this role;
    /// `None`: no visibility filter (catalog managers).
    pub visible_to: Option<RoleId>,
    /// Keyset: strictly after this (name, id).
    pub after: Option<(String, String)>,
    pub limit: usize,
}

impl CatalogSnapshot {
    pub fn new(categories: Vec<Category>, items: Vec<(CatalogItem, Vec<RoleId>)>) -> Self {
        let mut items: Vec<Entry> = items
            .into_iter()
            .map(|(item, roles)| Entry {
                name_lower: item.name.to_lowercase(),
                description_lower: item.description.to_lowercase(),
                item,
                roles,
            })
            .collect();
        items.sort_by(|a, b| {
            (a.item.name.as_str(), a.item.id.as_str()).cmp(&(b.item.name.as_str(), b.item.id.as_str()))
        });
        Self { categories, items }
    }

    /// The items matching `s`, in order, at most `s.limit`.
    pub fn select(&self, s: &Selection) -> Vec<CatalogItem> {
        let start = match &s.after {
            Some((name, id)) => self
                .items
                .partition_point(|e| (e.item.name.as_str(), e.item.id.as_str()) <= (name.as_str(), id.as_str())),
            None => 0,
        };
        let q = s.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase);
        self.items[start..]
            .iter()
            .filter(|e| !s.published_only || e.item.published)
            .filter(|e| s.category_id.as_ref().is_none_or(|c| e.item.category_id.as_ref() == Some(c)))
            .filter(|e| s.visible_to.as_ref().is_none_or(|r| e.roles.is_empty() || e.roles.contains(r)))
            .filter(|e| q.as_deref().is_none_or(|q| e.name_lower.contains(q) || e.description_lower.contains(q)))
            .take(s.limit)
            .map(|e| e.item.clone())
            .collect()
    }

    /// One live item and the roles it is restricted to.
    pub fn item(&self, id: &str) -> Option<(&CatalogItem, &[RoleId])> {
        self.items.iter().find(|e| e.item.id.as_str() == id).map(|e| (&e.item, e.roles.as_slice()))
    }

    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id.as_str() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tier0_domain::{CatalogItemId, Timestamp};

    fn item(id: &str, name: &str, description: &str, category: Option<&str>, published: bool) -> CatalogItem {
        CatalogItem {
            id: CatalogItemId::new(id),
            name: name.into(),
            description: description.into(),
            category_id: category.map(CategoryId::new),
            icon: String::new(),
            fields: Vec::new(),
            fulfillment_target_hours: None,
            workflow_definition_id: None,
            requires_approval: false,
            visible_to_roles: Vec::new(),
            published,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        }
    }

    /// The obvious, slow reading of a selection.
    fn reference(all: &[(CatalogItem, Vec<RoleId>)], s: &Selection) -> Vec<String> {
        let mut v: Vec<&(CatalogItem, Vec<RoleId>)> = all.iter().collect();
        v.sort_by(|a, b| (&a.0.name, &a.0.id.as_str()).cmp(&(&b.0.name, &b.0.id.as_str())));
        v.into_iter()
            .filter(|(i, _)| match &s.after {
                Some((n, id)) => (i.name.as_str(), i.id.as_str()) > (n.as_str(), id.as_str()),
                None => true,
            })
            .filter(|(i, _)| !s.published_only || i.published)
            .filter(|(i, _)| s.category_id.is_none() || i.category_id == s.category_id)
            .filter(|(_, r)| match &s.visible_to {
                Some(role) => r.is_empty() || r.contains(role),
                None => true,
            })
            .filter(|(i, _)| match s.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                Some(q) => {
                    let q = q.to_lowercase();
                    i.name.to_lowercase().contains(&q) || i.description.to_lowercase().contains(&q)
                }
                None => true,
            })
            .take(s.limit)
            .map(|(i, _)| i.id.to_string())
            .collect()
    }

    fn catalog() -> impl Strategy<Value = Vec<(CatalogItem, Vec<RoleId>)>> {
        let one = (
            "[a-c]{1,2}",
            "(VPN|vpn|Ünïcode|mail|[a-c ]{0,6})",
            "(vpn access|MAIL box|[a-cé ]{0,8})",
            prop::option::of("c[12]"),
            any::<bool>(),
            prop::collection::vec("r[123]", 0..3),
        );
        prop::collection::vec(one, 0..25).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(n, (id, name, d, c, p, roles))| {
                    let id = format!("{id}{n:02}");
                    (item(&id, &name, &d, c.as_deref(), p), roles.into_iter().map(RoleId::new).collect())
                })
                .collect()
        })
    }

    fn selection() -> impl Strategy<Value = Selection> {
        (
            prop::option::of("( ?vpn|VP|MAIL| |é|ü|[a-c])"),
            prop::option::of("c[123]"),
            any::<bool>(),
            prop::option::of("r[1234]"),
            prop::option::of(("(VPN|[a-c ]{0,3})", "[a-c]{1,2}")),
            1usize..30,
        )
            .prop_map(|(q, c, published_only, role, after, limit)| Selection {
                q,
                category_id: c.map(CategoryId::new),
                published_only,
                visible_to: role.map(RoleId::new),
                after,
                limit,
            })
    }

    proptest! {
        /// The fast path (sorted once, binary search for the keyset) picks
        /// exactly what the plain reading picks.
        #[test]
        fn select_matches_the_plain_reading(all in catalog(), s in selection()) {
            let snap = CatalogSnapshot::new(Vec::new(), all.clone());
            let got: Vec<String> = snap.select(&s).into_iter().map(|i| i.id.to_string()).collect();
            prop_assert_eq!(got, reference(&all, &s));
        }

        /// Walking the pages with the last item as the keyset visits every
        /// match once, in order.
        #[test]
        fn pages_visit_every_match_once(all in catalog(), mut s in selection()) {
            let snap = CatalogSnapshot::new(Vec::new(), all.clone());
            s.after = None;
            let mut everything = s.clone();
            everything.limit = usize::MAX;
            let want: Vec<String> = snap.select(&everything).into_iter().map(|i| i.id.to_string()).collect();
            let mut seen = Vec::new();
            loop {
                let page = snap.select(&s);
                let Some(last) = page.last() else { break };
                s.after = Some((last.name.clone(), last.id.to_string()));
                seen.extend(page.iter().map(|i| i.id.to_string()));
                prop_assert!(seen.len() <= want.len());
            }
            prop_assert_eq!(seen, want);
        }
    }
}
