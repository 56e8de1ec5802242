//! The service catalog: readers list what they may request; catalog
//! managers (`catalog:manage`) edit categories, items and their forms.

use super::catalog_view::{CatalogSnapshot, Selection};
use super::{decode_cursor, double_option, paginate};
use crate::auth::users::Page;
use crate::error::{AppError, AppResult};
use crate::{App, Can, Ctx, caps};
use serde::Deserialize;
use std::sync::Arc;
use tier0_domain::itsm::form::{FormFieldInput, parse_form};
use tier0_domain::itsm::records::{CatalogItem, Category};
use tier0_domain::{CatalogItemId, CategoryId, Limit, PlainText, Principal, RoleId, ValidationError, WorkflowId};
use tier0_store::TenantRead;
use tier0_store::catalog::ItemRow;

pub const MAX_ITEM_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
pub const MAX_ICON_CHARS: usize = 64;
/// A year.
pub const MAX_TARGET_HOURS: i64 = 8_760;
pub const MAX_CATEGORY_NAME_CHARS: usize = 80;
pub const MAX_CATEGORIES: i64 = 500;
/// Live items per catalog: the whole catalog is served from memory (see
/// [`super::catalog_view`]), and a person cannot browse more than this.
pub const MAX_CATALOG_ITEMS: i64 = 5_000;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct CatalogQuery {
    /// Words in the item's name or description.
    pub q: Option<String>,
    pub category_id: Option<String>,
    /// Catalog managers: include unpublished items and ignore role
    /// visibility.
    #[serde(default)]
    pub all: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A new catalog item.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CatalogItemInput {
    #[schema(min_length = 1)]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category_id: Option<String>,
    #[serde(default)]
    pub icon: Option<String>,
    #[serde(default)]
    pub fields: Vec<FormFieldInput>,
    /// Hours; 1–8760.
    #[serde(default)]
    pub fulfillment_target_hours: Option<i64>,
    #[serde(default)]
    pub workflow_definition_id: Option<String>,
    /// Role names or ids; empty = everyone.
    #[serde(default)]
    pub visible_to_roles: Vec<String>,
    /// Default true.
    #[serde(default)]
    pub published: Option<bool>,
}

/// Changes to a catalog item; absent fields stay, `null` clears.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CatalogItemPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub category_id: Option<Option<String>>,
    #[serde(default)]
    pub icon: Option<String>,
    #[serde(default)]
    pub fields: Option<Vec<FormFieldInput>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub fulfillment_target_hours: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub workflow_definition_id: Option<Option<String>>,
    #[serde(default)]
    pub visible_to_roles: Option<Vec<String>>,
    #[serde(default)]
    pub published: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CategoryInput {
    #[schema(min_length = 1)]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Sort key, ascending (default 0).
    #[serde(default)]
    pub position: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CategoryPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub position: Option<i64>,
}

/// A catalog item's values, checked.
struct ItemValues {
    name: String,
    description: String,
    category_id: Option<CategoryId>,
    icon: String,
    fields: Vec<tier0_domain::itsm::FormField>,
    target: Option<i64>,
    workflow: Option<WorkflowId>,
    roles: Vec<RoleId>,
    published: bool,
}

fn one_line(field: &str, s: &str, min: usize, max: usize) -> Result<String, ValidationError> {
    let t = PlainText::parse(field, s, min, max)?.0;
    if t.contains(['\n', '\r', '\t']) {
        return Err(ValidationError::field(field, "must be a single line"));
    }
    Ok(t)
}

fn target_hours(v: Option<i64>) -> Result<Option<i64>, ValidationError> {
    match v {
        Some(h) if !(1..=MAX_TARGET_HOURS).contains(&h) => Err(ValidationError::field(
            "fulfillment_target_hours",
            format!("must be between 1 and {MAX_TARGET_HOURS} hours"),
        )),
        other => Ok(other),
    }
}

/// Whether a principal's role may see an item restricted to `role_ids`.
pub(crate) fn item_visible_to(role_ids: &[RoleId], p: &Principal) -> bool {
    role_ids.is_empty() || role_ids.contains(&p.user.role_id)
}

impl App {
    /// Resolve references of an item in this tenant: a reference that does
    /// not resolve here (unknown, or another tenant's) is a 422 on its field.
    async fn check_item_refs(&self, r: &mut TenantRead, v: &mut ItemValues, roles_in: &[String]) -> AppResult<()> {
        let mut err = ValidationError::new();
        if let Some(c) = &v.category_id
            && r.get_category(c).await?.is_none()
        {
            err.add("category_id", "is not a category of this catalog");
        }
        if let Some(w) = &v.workflow
            && r.get_workflow_row(w).await?.is_none()
        {
            err.add("workflow_definition_id", "is not an approval workflow of this organisation");
        }
        v.roles.clear();
        if roles_in.len() > 50 {
            err.add("visible_to_roles", "may list at most 50 roles");
        } else {
            for key in roles_in.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
                let role = match r.get_role_by_name(key).await? {
                    Some(role) => Some(role),
                    None => r.get_role(&RoleId::new(key)).await?,
                };
                match role {
                    Some(role) if !v.roles.contains(&role.id) => v.roles.push(role.id),
                    Some(_) => {}
                    None => {
                        let shown: String = key.chars().take(60).collect();
                        err.add("visible_to_roles", format!("{shown:?} is not a role of this organisation"));
                    }
                }
            }
        }
        err.into_result()?;
        Ok(())
    }

    /// Catalog managers read the database, never the cache, so the
    /// workspace shows their own edits whichever node serves them.
    fn reads_fresh(by: Can<'_, caps::ItsmRead>) -> bool {
        by.allows("catalog:manage")
    }

    /// The tenant's live catalog: loaded fresh for catalog managers,
    /// otherwise from the cache.
    async fn catalog_snapshot(&self, by: Can<'_, caps::ItsmRead>) -> AppResult<Arc<CatalogSnapshot>> {
        let tenant = &by.ctx.tenant().id;
        if !Self::reads_fresh(by)
            && let Some(snap) = self.0.catalog.get(tenant)
        {
            return Ok(snap);
        }
        let generation = self.0.catalog.generation();
        let mut r = self.db(by.ctx).read().await?;
        let categories = r.list_categories(MAX_CATEGORIES).await?;
        let items = r.list_live_catalog(MAX_CATALOG_ITEMS).await?;
        drop(r);
        let snap = Arc::new(CatalogSnapshot::new(categories, items));
        self.0.catalog.put(tenant, snap.clone(), generation);
        Ok(snap)
    }

    /// Drop this tenant's cached catalog after a committed change.
    pub(crate) fn catalog_changed(&self, ctx: &Ctx) {
        self.0.catalog.invalidate(&ctx.tenant().id);
    }

    /// `GET /api/itsm/catalog`: published items visible to the caller's
    /// role, by name. With `all=true` (needs `catalog:manage`) every live
    /// item, published or not.
    pub async fn list_catalog(&self, by: Can<'_, caps::ItsmRead>, q: CatalogQuery) -> AppResult<Page<CatalogItem>> {
        let limit = Limit::parse(q.limit)?;
        let all = q.all.unwrap_or(false);
        if all && !by.allows("catalog:manage") {
            return Err(AppError::forbidden("listing every item needs the catalog:manage permission"));
        }
        let after = decode_cursor(q.cursor.as_deref(), 2)?.map(|v| (v[0].clone(), v[1].clone()));
        let text = q.q.as_deref().map(|s| s.trim().chars().take(200).collect::<String>()).filter(|s| !s.is_empty());
        let category_id = q.category_id.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(CategoryId::new);
        let selection = Selection {
            q: text,
            category_id,
            published_only: !all,
            visible_to: (!all).then(|| by.principal.user.role_id.clone()),
            after,
            limit: usize::try_from(limit.probe()).unwrap_or(usize::MAX),
        };
        let items = self.catalog_snapshot(by).await?.select(&selection);
        Ok(paginate(items, limit, |i| vec![i.name.clone(), i.id.to_string()]))
    }

    /// `GET /api/itsm/catalog/{id}`: catalog managers see any live item;
    /// others only published items visible to their role (else 404).
    pub async fn get_catalog_item(&self, by: Can<'_, caps::ItsmRead>, id: &str) -> AppResult<CatalogItem> {
        if Self::reads_fresh(by) {
            let mut r = self.db(by.ctx).read().await?;
            return r.get_catalog_item(&CatalogItemId::new(id)).await?.ok_or(AppError::NotFound);
        }
        let snap = self.catalog_snapshot(by).await?;
        let (item, roles) = snap.item(id).ok_or(AppError::NotFound)?;
        if item.published && item_visible_to(roles, by.principal) { Ok(item.clone()) } else { Err(AppError::NotFound) }
    }

    /// An item the caller may file a request for: published and visible to
    /// their role (agents and catalog managers may file for any published
    /// item). Anything else is a 422 on `catalog_item_id`.
    pub(crate) async fn requestable_item(&self, r: &mut TenantRead, p: &Principal, id: &str) -> AppResult<CatalogItem> {
        let bad = || AppError::field("catalog_item_id", "is not a catalog item you can request");
        let id = CatalogItemId::new(id.trim());
        let item = r.get_catalog_item(&id).await?.ok_or_else(bad)?;
        if !item.published {
            return Err(bad());
        }
        let privileged = p.permissions.allows("itsm:fulfill") || p.permissions.allows("catalog:manage");
        if !privileged && !item_visible_to(&r.catalog_item_role_ids(&id).await?, p) {
            return Err(bad());
        }
        Ok(item)
    }

    /// `POST /api/itsm/catalog`.
    pub async fn create_catalog_item(
        &self,
        by: Can<'_, caps::CatalogManage>,
        input: CatalogItemInput,
    ) -> AppResult<CatalogItem> {
        let mut err = ValidationError::new();
        let name = err.collect(one_line("name", &input.name, 1, MAX_ITEM_NAME_CHARS));
        let description =
            err.collect(PlainText::optional("description", input.description.as_deref(), MAX_DESCRIPTION_CHARS));
        let icon = err.collect(PlainText::optional("icon", input.icon.as_deref(), MAX_ICON_CHARS));
        let fields = err.collect(parse_form(&input.fields));
        let target = err.collect(target_hours(input.fulfillment_target_hours));
        err.into_result()?;
        let mut v = ItemValues {
            name: name.unwrap_or_default(),
            description: description.flatten().unwrap_or_default(),
            category_id: non_empty(input.category_id).map(CategoryId::new),
            icon: icon.flatten().unwrap_or_default(),
            fields: fields.unwrap_or_default(),
            target: target.flatten(),
            workflow: non_empty(input.workflow_definition_id).map(WorkflowId::new),
            roles: Vec::new(),
            published: input.published.unwrap_or(true),
        };
        let id: CatalogItemId = self.new_id();
        let mut tx = self.db(by.ctx).write().await?;
        if tx.count_live_catalog_items().await? >= MAX_CATALOG_ITEMS {
            return Err(AppError::conflict(
                "too_many_items",
                format!("a catalog may have at most {MAX_CATALOG_ITEMS} live items; delete unused ones first"),
            ));
        }
        self.check_item_refs(&mut tx, &mut v, &input.visible_to_roles).await?;
        tx.insert_catalog_item(row(&id, &v, self.now())).await?;
        tx.set_catalog_item_roles(&id, &v.roles).await?;
        self.audit(
            &mut tx,
            by.ctx,
            "catalog.item_created",
            Some(("catalog_item", id.as_str())),
            serde_json::json!({"name": v.name, "published": v.published}),
        )
        .await?;
        let item = tx.get_catalog_item(&id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        self.catalog_changed(by.ctx);
        Ok(item)
    }

    /// `PATCH /api/itsm/catalog/{id}`.
    pub async fn patch_catalog_item(
        &self,
        by: Can<'_, caps::CatalogManage>,
        id: &str,
        patch: CatalogItemPatch,
    ) -> AppResult<CatalogItem> {
        let id = CatalogItemId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        let cur = tx.get_catalog_item(&id).await?.ok_or(AppError::NotFound)?;
        let mut err = ValidationError::new();
        let name = match &patch.name {
            Some(n) => err.collect(one_line("name", n, 1, MAX_ITEM_NAME_CHARS)),
            None => Some(cur.name.clone()),
        };
        let description = match &patch.description {
            Some(d) => err.collect(PlainText::optional("description", Some(d), MAX_DESCRIPTION_CHARS)).flatten(),
            None => Some(cur.description.clone()),
        };
        let icon = match &patch.icon {
            Some(i) => err.collect(PlainText::optional("icon", Some(i), MAX_ICON_CHARS)).flatten(),
            None => Some(cur.icon.clone()),
        };
        let fields = match &patch.fields {
            Some(f) => err.collect(parse_form(f)),
            None => Some(cur.fields.clone()),
        };
        let target = match patch.fulfillment_target_hours {
            Some(t) => err.collect(target_hours(t)).flatten(),
            None => cur.fulfillment_target_hours,
        };
        err.into_result()?;
        let mut v = ItemValues {
            name: name.unwrap_or_default(),
            description: description.unwrap_or_default(),
            category_id: match patch.category_id {
                Some(c) => non_empty(c).map(CategoryId::new),
                None => cur.category_id.clone(),
            },
            icon: icon.unwrap_or_default(),
            fields: fields.unwrap_or_default(),
            target,
            workflow: match patch.workflow_definition_id {
                Some(w) => non_empty(w).map(WorkflowId::new),
                None => cur.workflow_definition_id.clone(),
            },
            roles: Vec::new(),
            published: patch.published.unwrap_or(cur.published),
        };
        let roles_in: Vec<String> = match &patch.visible_to_roles {
            Some(r) => r.clone(),
            None => tx.catalog_item_role_ids(&id).await?.into_iter().map(|r| r.into_string()).collect(),
        };
        self.check_item_refs(&mut tx, &mut v, &roles_in).await?;
        tx.update_catalog_item(row(&id, &v, self.now())).await?;
        tx.set_catalog_item_roles(&id, &v.roles).await?;
        self.audit(
            &mut tx,
            by.ctx,
            "catalog.item_updated",
            Some(("catalog_item", id.as_str())),
            serde_json::json!({"name": v.name, "published": v.published, "fields": v.fields.len()}),
        )
        .await?;
        let item = tx.get_catalog_item(&id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        self.catalog_changed(by.ctx);
        Ok(item)
    }

    /// `DELETE /api/itsm/catalog/{id}`: the item leaves the catalog;
    /// requests filed for it keep their link.
    pub async fn delete_catalog_item(&self, by: Can<'_, caps::CatalogManage>, id: &str) -> AppResult<()> {
        let id = CatalogItemId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        let item = tx.get_catalog_item(&id).await?.ok_or(AppError::NotFound)?;
        tx.archive_catalog_item(&id, self.now()).await?;
        self.audit(
            &mut tx,
            by.ctx,
            "catalog.item_deleted",
            Some(("catalog_item", id.as_str())),
            serde_json::json!({"name": item.name}),
        )
        .await?;
        tx.commit().await?;
        self.catalog_changed(by.ctx);
        Ok(())
    }

    /// `GET /api/itsm/catalog/categories`: every category, by position.
    pub async fn list_categories(&self, by: Can<'_, caps::ItsmRead>) -> AppResult<Page<Category>> {
        let items = if Self::reads_fresh(by) {
            self.db(by.ctx).read().await?.list_categories(MAX_CATEGORIES).await?
        } else {
            self.catalog_snapshot(by).await?.categories.clone()
        };
        Ok(Page { items, next_cursor: None })
    }

    /// One category (for edit pages).
    pub async fn get_category(&self, by: Can<'_, caps::ItsmRead>, id: &str) -> AppResult<Category> {
        let id = CategoryId::new(id);
        if Self::reads_fresh(by) {
            return self.db(by.ctx).read().await?.get_category(&id).await?.ok_or(AppError::NotFound);
        }
        self.catalog_snapshot(by).await?.category(id.as_str()).cloned().ok_or(AppError::NotFound)
    }

    /// `POST /api/itsm/catalog/categories`.
    pub async fn create_category(&self, by: Can<'_, caps::CatalogManage>, input: CategoryInput) -> AppResult<Category> {
        let (name, description, position) = category_values(&input.name, input.description.as_deref(), input.position)?;
        let id: CategoryId = self.new_id();
        let mut tx = self.db(by.ctx).write().await?;
        if tx.list_categories(MAX_CATEGORIES).await?.len() as i64 >= MAX_CATEGORIES {
            return Err(AppError::conflict("too_many_categories", "a catalog may have at most 500 categories"));
        }
        tx.insert_category(&id, &name, &description, position, self.now()).await?;
        self.audit(
            &mut tx,
            by.ctx,
            "catalog.category_created",
            Some(("category", id.as_str())),
            serde_json::json!({"name": name}),
        )
        .await?;
        let c = tx.get_category(&id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        self.catalog_changed(by.ctx);
        Ok(c)
    }

    /// `PATCH /api/itsm/catalog/categories/{id}`.
    pub async fn patch_category(
        &self,
        by: Can<'_, caps::CatalogManage>,
        id: &str,
        patch: CategoryPatch,
    ) -> AppResult<Category> {
        let id = CategoryId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        let cur = tx.get_category(&id).await?.ok_or(AppError::NotFound)?;
        let (name, description, position) = category_values(
            patch.name.as_deref().unwrap_or(&cur.name),
            Some(patch.description.as_deref().unwrap_or(&cur.description)),
            Some(patch.position.unwrap_or(cur.position)),
        )?;
        tx.update_category(&id, &name, &description, position, self.now()).await?;
        self.audit(
            &mut tx,
            by.ctx,
            "catalog.category_updated",
            Some(("category", id.as_str())),
            serde_json::json!({"name": name}),
        )
        .await?;
        let c = tx.get_category(&id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        self.catalog_changed(by.ctx);
        Ok(c)
    }

    /// `DELETE /api/itsm/catalog/categories/{id}`: its items become
    /// uncategorised.
    pub async fn delete_category(&self, by: Can<'_, caps::CatalogManage>, id: &str) -> AppResult<()> {
        let id = CategoryId::new(id);
        let mut tx = self.db(by.ctx).write().await?;
        let cur = tx.get_category(&id).await?.ok_or(AppError::NotFound)?;
        tx.delete_category(&id, self.now()).await?;
        self.audit(
            &mut tx,
            by.ctx,
            "catalog.category_deleted",
            Some(("category", id.as_str())),
            serde_json::json!({"name": cur.name}),
        )
        .await?;
        tx.commit().await?;
        self.catalog_changed(by.ctx);
        Ok(())
    }

    /// Whether the caller may manage the catalog (for pages).
    pub fn can_manage_catalog(&self, ctx: &Ctx) -> bool {
        ctx.is_signed_in() && ctx.allows("catalog:manage")
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn row<'a>(id: &'a CatalogItemId, v: &'a ItemValues, now: tier0_domain::Timestamp) -> ItemRow<'a> {
    ItemRow {
        id,
        name: &v.name,
        description: &v.description,
        category_id: v.category_id.as_ref(),
        icon: &v.icon,
        fields: &v.fields,
        fulfillment_target_hours: v.target,
        workflow_id: v.workflow.as_ref(),
        published: v.published,
        now,
    }
}

fn category_values(
    name: &str,
    description: Option<&str>,
    position: Option<i64>,
) -> Result<(String, String, i64), ValidationError> {
    let mut err = ValidationError::new();
    let name = err.collect(one_line("name", name, 1, MAX_CATEGORY_NAME_CHARS));
    let description = err.collect(PlainText::optional("description", description, MAX_DESCRIPTION_CHARS));
    let position = position.unwrap_or(0);
    if !(-1_000_000..=1_000_000).contains(&position) {
        err.add("position", "must be between -1000000 and 1000000");
    }
    err.into_result()?;
    Ok((name.unwrap_or_default(), description.flatten().unwrap_or_default(), position))
}
