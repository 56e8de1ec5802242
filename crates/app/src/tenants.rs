//! Tenants: resolving a request's host, creating and listing tenants, and
//! the URL each tenant is reached at.

use crate::error::{AppError, AppResult};
use crate::{App, Ctx};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};
use tier0_domain::{BuiltinRole, HostTarget, RoleId, Slug, TenantId, parse_host};
use tier0_store::TenantHandle;
use tier0_store::global::NewTenant;

/// A resolved tenant.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Tenant {
    #[serde(skip)]
    pub id: TenantId,
    pub slug: String,
    pub name: String,
}

/// Host → tenant lookups, cached briefly so a busy node does not query the
/// tenants table on every request; a tenant created elsewhere appears
/// within a second.
#[derive(Default)]
pub(crate) struct TenantCache {
    map: RwLock<HashMap<String, (Option<Tenant>, Instant)>>,
}

const HIT_TTL: Duration = Duration::from_secs(30);
const MISS_TTL: Duration = Duration::from_secs(1);

impl App {
    /// The tenant a Host header addresses, or 404 `unknown_tenant`.
    pub async fn resolve_host(&self, host: &str) -> AppResult<Tenant> {
        let slug = match parse_host(host, &self.0.config.base_domain) {
            HostTarget::Default => Slug::default_tenant(),
            HostTarget::Tenant(s) => s,
            HostTarget::ControlPlane | HostTarget::Unknown => return Err(AppError::UnknownTenant),
        };
        self.tenant_by_slug(slug.as_str()).await?.ok_or(AppError::UnknownTenant)
    }

    pub async fn tenant_by_slug(&self, slug: &str) -> AppResult<Option<Tenant>> {
        if let Ok(map) = self.0.tenants.map.read()
            && let Some((t, at)) = map.get(slug)
        {
            let ttl = if t.is_some() { HIT_TTL } else { MISS_TTL };
            if at.elapsed() < ttl {
                return Ok(t.clone());
            }
        }
        let found =
            self.0.store.global_tenant_by_slug(slug).await?.map(|t| Tenant { id: t.id, slug: t.slug, name: t.name });
        if let Ok(mut map) = self.0.tenants.map.write() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(slug.to_owned(), (found.clone(), Instant::now()));
        }
        Ok(found)
    }

    pub async fn list_tenants(&self) -> AppResult<Vec<tier0_store::global::Tenant>> {
        Ok(self.0.store.global_list_tenants().await?)
    }

    /// Create a tenant with its built-in roles and a one-time admin invite.
    /// Returns the tenant and the invite URL.
    pub async fn create_tenant(&self, slug: &str, name: &str) -> AppResult<(Tenant, String)> {
        let slug = Slug::parse(slug)?;
        let name = tier0_domain::PlainText::parse("name", name, 1, 100)?.0;
        let id: TenantId = self.new_id();
        let role_ids: Vec<(BuiltinRole, RoleId)> = BuiltinRole::ALL.iter().map(|r| (*r, self.new_id())).collect();
        let admin_role = role_ids.iter().find(|(r, _)| *r == BuiltinRole::Admin).map(|(_, id)| id.clone());
        let now = self.now();
        let mut tx = self
            .0
            .store
            .global_create_tenant(NewTenant { id: id.clone(), slug: slug.clone(), name: name.clone(), now, role_ids })
            .await
            .map_err(|e| match e {
                tier0_store::StoreError::Conflict(_) => {
                    AppError::conflict("slug_taken", format!("a tenant named {slug} already exists"))
                }
                other => other.into(),
            })?;
        let tenant = Tenant { id, slug: slug.to_string(), name };
        let (_, url, _) = self.issue_invite(&mut tx, &tenant, None, admin_role.as_ref(), None).await?;
        tx.commit().await?;
        if let Ok(mut map) = self.0.tenants.map.write() {
            map.remove(slug.as_str());
        }
        Ok((tenant, url))
    }

    /// Create the `default` tenant on first start (no tenants yet).
    /// Returns the admin invite URL when it was created.
    pub async fn ensure_default_tenant(&self) -> AppResult<Option<String>> {
        if self.tenant_by_slug("default").await?.is_some() {
            return Ok(None);
        }
        if !self.list_tenants().await?.is_empty() {
            return Ok(None);
        }
        match self.create_tenant("default", "Default").await {
            Ok((_, url)) => Ok(Some(url)),
            // Another node created it at the same moment.
            Err(AppError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The base URL of a tenant, from the configured public URL (never
    /// from a request): the default tenant at the public URL itself, others
    /// at `<slug>.<base-domain>` with the same scheme and port.
    pub fn tenant_url(&self, slug: &str) -> url::Url {
        let mut u = self.0.config.public_url.clone();
        if slug != "default" {
            let _ = u.set_host(Some(&format!("{slug}.{}", self.0.config.base_domain)));
        }
        u.set_path("");
        u.set_query(None);
        u
    }

    /// A link into a tenant: `tenant_url(slug)` + `path_and_query`.
    pub fn tenant_link(&self, tenant: &Tenant, path_and_query: &str) -> String {
        let base = self.tenant_url(&tenant.slug);
        format!("{}{}", base.as_str().trim_end_matches('/'), path_and_query)
    }

    /// The store handle for the context's tenant: the only way use cases
    /// reach tenant rows.
    pub(crate) fn db(&self, ctx: &Ctx) -> TenantHandle {
        self.0.store.tenant(&ctx.tenant.id)
    }

    pub(crate) fn db_for(&self, tenant: &Tenant) -> TenantHandle {
        self.0.store.tenant(&tenant.id)
    }
}
