//! Roles of a tenant.

use crate::db::Row;
use crate::error::StoreResult;
use crate::scoped::{TenantRead, TenantWrite};
use tier0_domain::{PermissionSet, Role, RoleId, Timestamp};

fn role_from(r: &Row) -> StoreResult<Role> {
    Ok(Role {
        id: RoleId::new(r.get::<String>("id")?),
        name: r.get("name")?,
        description: r.get("description")?,
        builtin: r.get("builtin")?,
        permissions: PermissionSet::from_storage(&r.get::<String>("permissions")?),
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

impl TenantRead {
    pub async fn list_roles(&mut self) -> StoreResult<Vec<Role>> {
        let q = self.q("SELECT id, name, description, builtin, permissions, created_at, updated_at FROM roles WHERE tenant_id = $1 ORDER BY builtin DESC, created_at, name");
        self.ex.fetch_all(q).await?.iter().map(role_from).collect()
    }

    pub async fn get_role(&mut self, id: &RoleId) -> StoreResult<Option<Role>> {
        let q = self
            .q("SELECT id, name, description, builtin, permissions, created_at, updated_at FROM roles WHERE tenant_id = $1 AND id = $2")
            .bind(id);
        self.ex.fetch_optional(q).await?.as_ref().map(role_from).transpose()
    }

    /// How many users (active or not) hold a role.
    pub async fn count_role_members(&mut self, id: &RoleId) -> StoreResult<i64> {
        let q = self.q("SELECT COUNT(*) AS n FROM users WHERE tenant_id = $1 AND role_id = $2").bind(id);
        self.ex.fetch_one(q).await?.get("n")
    }

    pub async fn get_role_by_name(&mut self, name: &str) -> StoreResult<Option<Role>> {
        let q = self
            .q("SELECT id, name, description, builtin, permissions, created_at, updated_at FROM roles WHERE tenant_id = $1 AND name = $2")
            .bind(name);
        self.ex.fetch_optional(q).await?.as_ref().map(role_from).transpose()
    }
}

impl TenantWrite {
    /// Insert a role; a taken name is `StoreError::Conflict`.
    pub async fn insert_role(
        &mut self,
        id: &RoleId,
        name: &str,
        description: &str,
        builtin: bool,
        perms: &PermissionSet,
        now: Timestamp,
    ) -> StoreResult<()> {
        let q = self
            .q("INSERT INTO roles (tenant_id, id, name, description, builtin, permissions, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)")
            .bind(id)
            .bind(name)
            .bind(description)
            .bind(builtin)
            .bind(perms.to_storage())
            .bind(now);
        self.ex.execute(q).await?;
        Ok(())
    }

    pub async fn set_role_permissions(
        &mut self,
        id: &RoleId,
        perms: &PermissionSet,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let q = self
            .q("UPDATE roles SET permissions = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(id)
            .bind(perms.to_storage())
            .bind(now);
        Ok(self.ex.execute(q).await? == 1)
    }

    /// Delete a custom role (built-in roles are never deleted). Returns
    /// whether a row went; a role still held by users is
    /// `StoreError::MissingReference` (the users' foreign key).
    /// Restrictions of deleted catalog items to the role go with it (live
    /// items restricted to it must be changed first: see
    /// [`TenantRead::count_items_restricted_to_role`]).
    pub async fn delete_custom_role(&mut self, id: &RoleId) -> StoreResult<bool> {
        let q = self
            .q("DELETE FROM catalog_item_roles WHERE tenant_id = $1 AND role_id = $2 AND item_id IN \
                (SELECT i.id FROM catalog_items i WHERE i.tenant_id = $1 AND i.archived = TRUE)")
            .bind(id);
        self.ex.execute(q).await?;
        let q = self.q("DELETE FROM roles WHERE tenant_id = $1 AND id = $2 AND builtin = FALSE").bind(id);
        Ok(self.ex.execute(q).await? == 1)
    }
}
