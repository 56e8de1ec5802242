//! The service catalog: categories, items (with their forms and role
//! visibility) and approval workflow definitions.

use crate::db::{Q, Row};
use crate::error::StoreResult;
use crate::scoped::{TenantRead, TenantWrite};
use std::collections::HashMap;
use tier0_domain::itsm::FormField;
use tier0_domain::itsm::records::{CatalogItem, Category, StoredStage};
use tier0_domain::{CatalogItemId, CategoryId, RoleId, Timestamp, WorkflowId};

const CATEGORY_COLS: &str = "SELECT id, name, description, position, created_at, updated_at FROM catalog_categories ";
const ITEM_COLS: &str = "SELECT i.id, i.name, i.description, i.category_id, i.icon, i.fields, i.fulfillment_target_hours, \
     i.workflow_id, i.published, i.created_at, i.updated_at FROM catalog_items i ";

fn category_from(r: &Row) -> StoreResult<Category> {
    Ok(Category {
        id: CategoryId::new(r.get::<String>("id")?),
        name: r.get("name")?,
        description: r.get("description")?,
        position: r.get("position")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn item_from(r: &Row) -> StoreResult<CatalogItem> {
    let fields: Vec<FormField> = serde_json::from_str(&r.get::<String>("fields")?)
        .map_err(|e| crate::StoreError::Corrupt(format!("catalog item fields: {e}")))?;
    let workflow = r.get::<Option<String>>("workflow_id")?.map(WorkflowId::new);
    Ok(CatalogItem {
        id: CatalogItemId::new(r.get::<String>("id")?),
        name: r.get("name")?,
        description: r.get("description")?,
        category_id: r.get::<Option<String>>("category_id")?.map(CategoryId::new),
        icon: r.get("icon")?,
        fields,
        fulfillment_target_hours: r.get("fulfillment_target_hours")?,
        requires_approval: workflow.is_some(),
        workflow_definition_id: workflow,
        visible_to_roles: Vec::new(),
        published: r.get("published")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

/// A catalog item to write (insert or full update).
pub struct ItemRow<'a> {
    pub id: &'a CatalogItemId,
    pub name: &'a str,
    pub description: &'a str,
    pub category_id: Option<&'a CategoryId>,
    pub icon: &'a str,
    pub fields: &'a [FormField],
    pub fulfillment_target_hours: Option<i64>,
    pub workflow_id: Option<&'a WorkflowId>,
    pub published: bool,
    pub now: Timestamp,
}

impl TenantRead {
    /// Every category, by position then name (a catalog has few).
    pub async fn list_categories(&mut self, limit: i64) -> StoreResult<Vec<Category>> {
        let q = self.q(concat!(
            "SELECT id, name, description, position, created_at, updated_at FROM catalog_categories ",
            "WHERE tenant_id = $1 ORDER BY position, name, id LIMIT $2"
        ));
        self.ex.fetch_all(q.bind(limit)).await?.iter().map(category_from).collect()
    }

    pub async fn get_category(&mut self, id: &CategoryId) -> StoreResult<Option<Category>> {
        let mut q = Q::new(CATEGORY_COLS).bind(&self.tenant).bind(id);
        q.push_sql("WHERE tenant_id = $1 AND id = $2");
        self.ex.fetch_optional(q).await?.as_ref().map(category_from).transpose()
    }

    /// Every live (not deleted) item by name then id, each with the ids of
    /// the roles it is restricted to (empty: everyone) and their names in
    /// `visible_to_roles`: at most `limit` items, in two queries. The
    /// application filters this in memory (see `tier0_app::itsm::catalog`).
    pub async fn list_live_catalog(&mut self, limit: i64) -> StoreResult<Vec<(CatalogItem, Vec<RoleId>)>> {
        let mut q = Q::new(ITEM_COLS).bind(&self.tenant).bind(limit);
        q.push_sql("WHERE i.tenant_id = $1 AND i.archived = FALSE ORDER BY i.name, i.id LIMIT $2");
        let items: Vec<CatalogItem> = self.ex.fetch_all(q).await?.iter().map(item_from).collect::<StoreResult<_>>()?;
        let q = self.q("SELECT v.item_id, v.role_id, r.name FROM catalog_item_roles v \
             JOIN roles r ON r.tenant_id = v.tenant_id AND r.id = v.role_id \
             JOIN catalog_items i ON i.tenant_id = v.tenant_id AND i.id = v.item_id \
             WHERE v.tenant_id = $1 AND i.archived = FALSE ORDER BY r.name, v.role_id");
        let mut by_item: HashMap<String, (Vec<RoleId>, Vec<String>)> = HashMap::new();
        for r in self.ex.fetch_all(q).await? {
            let e = by_item.entry(r.get::<String>("item_id")?).or_default();
            e.0.push(RoleId::new(r.get::<String>("role_id")?));
            e.1.push(r.get("name")?);
        }
        Ok(items
            .into_iter()
            .map(|mut it| {
                let (ids, names) = by_item.remove(it.id.as_str()).unwrap_or_default();
                it.visible_to_roles = names;
                (it, ids)
            })
            .collect())
    }

    /// Live items only this role, among others, may see.
    pub async fn count_items_restricted_to_role(&mut self, role: &RoleId) -> StoreResult<i64> {
        let q = self.q(
            "SELECT COUNT(*) AS n FROM catalog_item_roles v JOIN catalog_items i ON i.tenant_id = v.tenant_id AND i.id = v.item_id \
             WHERE v.tenant_id = $1 AND v.role_id = $2 AND i.archived = FALSE",
        );
        self.ex.fetch_one(q.bind(role)).await?.get("n")
    }

    /// Number of live items (for the catalog's size limit).
    pub async fn count_live_catalog_items(&mut self) -> StoreResult<i64> {
        let q = self.q("SELECT COUNT(*) AS n FROM catalog_items WHERE tenant_id = $1 AND archived = FALSE");
        self.ex.fetch_one(q).await?.get("n")
    }

    /// A live (not deleted) item, published or not.
    pub async fn get_catalog_item(&mut self, id: &CatalogItemId) -> StoreResult<Option<CatalogItem>> {
        let mut q = Q::new(ITEM_COLS).bind(&self.tenant).bind(id);
        q.push_sql("WHERE i.tenant_id = $1 AND i.id = $2 AND i.archived = FALSE");
        let Some(row) = self.ex.fetch_optional(q).await? else { return Ok(None) };
        let mut items = vec![item_from(&row)?];
        self.fill_item_roles(&mut items).await?;
        Ok(items.pop())
    }

    /// Role ids an item is restricted to (empty: everyone).
    pub async fn catalog_item_role_ids(&mut self, id: &CatalogItemId) -> StoreResult<Vec<RoleId>> {
        let q = self.q("SELECT role_id FROM catalog_item_roles WHERE tenant_id = $1 AND item_id = $2 ORDER BY role_id");
        self.ex.fetch_all(q.bind(id)).await?.iter().map(|r| Ok(RoleId::new(r.get::<String>("role_id")?))).collect()
    }

    async fn fill_item_roles(&mut self, items: &mut [CatalogItem]) -> StoreResult<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut q = self.q(
            "SELECT v.item_id, r.name FROM catalog_item_roles v JOIN roles r ON r.tenant_id = v.tenant_id AND r.id = v.role_id \
             WHERE v.tenant_id = $1 AND v.item_id IN (",
        );
        for (i, it) in items.iter().enumerate() {
            let n = q.push_bind(&it.id);
            q.push_sql(&format!("{}${n}", if i == 0 { "" } else { ", " }));
        }
        q.push_sql(") ORDER BY r.name");
        let mut by_item: HashMap<String, Vec<String>> = HashMap::new();
        for r in self.ex.fetch_all(q).await? {
            by_item.entry(r.get::<String>("item_id")?).or_default().push(r.get("name")?);
        }
        for it in items {
            it.visible_to_roles = by_item.remove(it.id.as_str()).unwrap_or_default();
        }
        Ok(())
    }

    /// Number of live items using a workflow.
    pub async fn count_items_with_workflow(&mut self, id: &WorkflowId) -> StoreResult<i64> {
        let q = self.q(
            "SELECT COUNT(*) AS n FROM catalog_items WHERE tenant_id = $1 AND workflow_id = $2 AND archived = FALSE",
        );
        self.ex.fetch_one(q.bind(id)).await?.get("n")
    }

    pub async fn get_workflow_row(&mut self, id: &WorkflowId) -> StoreResult<Option<WorkflowRow>> {
        let q = self.q(
            "SELECT id, name, stages, created_at, updated_at FROM approval_workflows WHERE tenant_id = $1 AND id = $2",
        );
        self.ex.fetch_optional(q.bind(id)).await?.as_ref().map(workflow_from).transpose()
    }

    /// Workflows by id (creation order); `after` is a keyset cursor.
    pub async fn list_workflow_rows(&mut self, after: Option<&str>, limit: i64) -> StoreResult<Vec<WorkflowRow>> {
        let mut q =
            self.q("SELECT id, name, stages, created_at, updated_at FROM approval_workflows WHERE tenant_id = $1");
        if let Some(a) = after {
            let n = q.push_bind(a);
            q.push_sql(&format!(" AND id > ${n}"));
        }
        let n = q.push_bind(limit);
        q.push_sql(&format!(" ORDER BY id LIMIT ${n}"));
        self.ex.fetch_all(q).await?.iter().map(workflow_from).collect()
    }
}

/// A workflow as stored (approvers by id).
#[derive(Debug, Clone)]
pub struct WorkflowRow {
    pub id: WorkflowId,
    pub name: String,
    pub stages: Vec<StoredStage>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn workflow_from(r: &Row) -> StoreResult<WorkflowRow> {
    Ok(WorkflowRow {
        id: WorkflowId::new(r.get::<String>("id")?),
        name: r.get("name")?,
        stages: serde_json::from_str(&r.get::<String>("stages")?)
            .map_err(|e| crate::StoreError::Corrupt(format!("workflow stages: {e}")))?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

impl TenantWrite {
    pub async fn insert_category(
        &mut self,
        id: &CategoryId,
        name: &str,
        description: &str,
        position: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO catalog_categories (tenant_id, id, name, description, position, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $6)")
            .bind(id)
            .bind(name)
            .bind(description)
            .bind(position)
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn update_category(
        &mut self,
        id: &CategoryId,
        name: &str,
        description: &str,
        position: i64,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let q = self
            .q("UPDATE catalog_categories SET name = $3, description = $4, position = $5, updated_at = $6 \
                WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(name)
            .bind(description)
            .bind(position)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    /// Delete a category; its items become uncategorised.
    pub async fn delete_category(&mut self, id: &CategoryId, now: Timestamp) -> StoreResult<bool> {
        let q = self
            .q("UPDATE catalog_items SET category_id = NULL, updated_at = $3 WHERE tenant_id = $1 AND category_id = $2")
            .bind(id)
            .bind(now);
        self.ex.execute(q).await?;
        let q = self.q("DELETE FROM catalog_categories WHERE tenant_id = $1 AND id = $2").bind(id);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn insert_catalog_item(&mut self, it: ItemRow<'_>) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO catalog_items (tenant_id, id, name, description, category_id, icon, fields, fulfillment_target_hours, \
                workflow_id, published, archived, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, $11, $11)")
            .bind(it.id)
            .bind(it.name)
            .bind(it.description)
            .bind(it.category_id)
            .bind(it.icon)
            .bind(json(&it.fields))
            .bind(it.fulfillment_target_hours)
            .bind(it.workflow_id)
            .bind(it.published)
            .bind(it.now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn update_catalog_item(&mut self, it: ItemRow<'_>) -> StoreResult<bool> {
        let q = self
            .q("UPDATE catalog_items SET name = $3, description = $4, category_id = $5, icon = $6, fields = $7, \
                fulfillment_target_hours = $8, workflow_id = $9, published = $10, updated_at = $11 \
                WHERE tenant_id = $1 AND id = $2 AND archived = FALSE")
            .bind(it.id)
            .bind(it.name)
            .bind(it.description)
            .bind(it.category_id)
            .bind(it.icon)
            .bind(json(&it.fields))
            .bind(it.fulfillment_target_hours)
            .bind(it.workflow_id)
            .bind(it.published)
            .bind(it.now);
        Ok(self.ex.execute(q).await? == 1)
    }

    /// Replace the roles an item is restricted to.
    pub async fn set_catalog_item_roles(&mut self, id: &CatalogItemId, roles: &[RoleId]) -> StoreResult<()> {
        let q = self.q("DELETE FROM catalog_item_roles WHERE tenant_id = $1 AND item_id = $2").bind(id);
        self.ex.execute(q).await?;
        for r in roles {
            let q = self
                .q("INSERT INTO catalog_item_roles (tenant_id, item_id, role_id) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(r);
            self.ex.execute(q).await?;
        }
        Ok(())
    }

    /// Delete an item: it disappears from the catalog, while requests that
    /// were filed for it keep their link (and its name).
    pub async fn archive_catalog_item(&mut self, id: &CatalogItemId, now: Timestamp) -> StoreResult<bool> {
        let q = self
            .q("UPDATE catalog_items SET archived = TRUE, published = FALSE, updated_at = $3 \
                WHERE tenant_id = $1 AND id = $2 AND archived = FALSE")
            .bind(id)
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    pub async fn insert_workflow(
        &mut self,
        id: &WorkflowId,
        name: &str,
        stages: &[StoredStage],
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO approval_workflows (tenant_id, id, name, stages, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
            .bind(id)
            .bind(name)
            .bind(json(&stages))
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn update_workflow(
        &mut self,
        id: &WorkflowId,
        name: &str,
        stages: &[StoredStage],
        now: Timestamp,
    ) -> StoreResult<bool> {
        let q = self
            .q("UPDATE approval_workflows SET name = $3, stages = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(name)
            .bind(json(&stages))
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }
}
