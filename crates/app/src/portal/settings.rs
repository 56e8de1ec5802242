//! Portal settings (`settings:manage`): name, description, primary colour,
//! logo, the announcement shortcut and the section toggles. Every change
//! is audited and drops the tenant's cached snapshot.

use super::announcements::{AnnouncementInput, validate_announcement};
use crate::error::{AppError, AppResult};
use crate::{App, Can, Tenant, caps};
use serde::{Deserialize, Serialize};
use tier0_domain::{BrandColour, PlainText, PortalSettings, RecordId, Section, SectionSet, ValidationError};
use tier0_store::portal::Logo;

/// Largest accepted logo.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

/// Image types accepted for the logo, recognised from the bytes
/// themselves (never from the file name or the declared type). SVG is
/// refused: it can carry scripts.
pub const LOGO_TYPES: &[&str] = &["image/png", "image/jpeg", "image/webp"];

/// `GET /api/settings/portal`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortalSettingsOut {
    /// The name shown in the header: the configured one, or
    /// "<Organisation> support".
    pub display_name: String,
    /// The configured name (`null`: the default).
    pub name: Option<String>,
    /// Shown at the top of the service catalog.
    pub description: Option<String>,
    /// `#rrggbb`; `null`: the default colour.
    pub primary_colour: Option<String>,
    /// Where the logo is served, when one is uploaded.
    pub logo_url: Option<String>,
    /// Text of the announcement banner set here (`null`: none).
    pub announcement: Option<String>,
    /// Sections hidden from everyone.
    pub hidden_sections: Vec<Section>,
}

/// `PUT /api/settings/portal`: replaces every setting except the logo;
/// absent or empty fields go back to their defaults.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PortalSettingsInput {
    /// Up to 60 characters; empty: "<Organisation> support".
    #[serde(default)]
    pub name: Option<String>,
    /// Up to 300 characters of plain text.
    #[serde(default)]
    pub description: Option<String>,
    /// `#rrggbb`; empty: the default colour.
    #[serde(default)]
    pub primary_colour: Option<String>,
    /// Up to 500 characters; shown as a banner on every portal page until
    /// cleared. Changing the text shows it again to those who dismissed it.
    #[serde(default)]
    pub announcement: Option<String>,
    /// Sections to hide: catalog, requests, knowledge, status, approvals.
    #[serde(default)]
    #[schema(value_type = Vec<Section>)]
    pub hidden_sections: Vec<String>,
}

/// The public face of the portal (`GET /api/portal`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortalInfo {
    pub name: String,
    pub description: Option<String>,
    pub primary_colour: Option<String>,
    pub logo_url: Option<String>,
    /// The sections people can use, in tab order.
    pub sections: Vec<Section>,
}

/// Where the logo is served (versioned so it can be cached for long).
pub fn logo_url(s: &PortalSettings) -> Option<String> {
    s.logo_type.as_ref().map(|_| format!("/branding/logo?v={}", s.version))
}

/// The first section people can still use (where `/portal` lands).
pub fn first_visible(hidden: SectionSet) -> Option<Section> {
    Section::ALL.into_iter().find(|s| !hidden.contains(*s))
}

fn one_line(field: &str, v: Option<&str>, max: usize) -> Result<Option<String>, ValidationError> {
    let v = PlainText::optional(field, v, max)?;
    if v.as_deref().is_some_and(|s| s.contains(['\n', '\r', '\t'])) {
        return Err(ValidationError::field(field, "must be one line"));
    }
    Ok(v)
}

/// Recognise an uploaded logo; `Ok(mime)` for an accepted image.
pub fn sniff_logo(bytes: &[u8]) -> AppResult<&'static str> {
    if bytes.is_empty() {
        return Err(AppError::field("logo", "is empty; choose an image file"));
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(AppError::TooLarge { message: format!("the logo must be at most {} KB", MAX_LOGO_BYTES / 1024) });
    }
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some(m) if LOGO_TYPES.contains(&m) => Ok(LOGO_TYPES.iter().find(|x| **x == m).copied().unwrap_or("image/png")),
        _ => Err(AppError::field("logo", "must be a PNG, JPEG or WebP image (SVG is not accepted)")),
    }
}

impl App {
    fn settings_out(&self, tenant: &Tenant, s: &PortalSettings, announcement: Option<String>) -> PortalSettingsOut {
        PortalSettingsOut {
            display_name: Self::portal_name(tenant, s),
            name: s.name.clone(),
            description: s.description.clone(),
            primary_colour: s.primary_colour.map(|c| c.to_hex()),
            logo_url: logo_url(s),
            announcement,
            hidden_sections: s.hidden.names(),
        }
    }

    /// `GET /api/settings/portal`.
    pub async fn portal_settings(&self, by: Can<'_, caps::SettingsManage>) -> AppResult<PortalSettingsOut> {
        let mut r = self.db(by.ctx).read().await?;
        let s = r.portal_settings().await?;
        let a = r.settings_announcement().await?.map(|a| a.body);
        Ok(self.settings_out(by.ctx.tenant(), &s, a))
    }

    /// `GET /api/portal`: name, branding and visible sections (public).
    pub async fn portal_info(&self, tenant: &Tenant) -> AppResult<PortalInfo> {
        let snap = self.portal_snapshot(tenant).await?;
        let s = &snap.settings;
        Ok(PortalInfo {
            name: Self::portal_name(tenant, s),
            description: s.description.clone(),
            primary_colour: s.primary_colour.map(|c| c.to_hex()),
            logo_url: logo_url(s),
            sections: Section::ALL.into_iter().filter(|x| !s.hidden.contains(*x)).collect(),
        })
    }

    /// `PUT /api/settings/portal`.
    pub async fn save_portal_settings(
        &self,
        by: Can<'_, caps::SettingsManage>,
        input: PortalSettingsInput,
    ) -> AppResult<PortalSettingsOut> {
        let mut errs = ValidationError::new();
        let name = errs.collect(one_line("name", input.name.as_deref(), 60));
        let description = errs.collect(PlainText::optional("description", input.description.as_deref(), 300));
        let colour = match input.primary_colour.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(None),
            Some(c) => errs.collect(BrandColour::parse("primary_colour", c)).map(Some),
        };
        let hidden = errs.collect(SectionSet::parse("hidden_sections", &input.hidden_sections));
        let announcement_text = input.announcement.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let now = self.now();
        let announcement = match announcement_text {
            None => Some(None),
            Some(t) => errs
                .collect(
                    validate_announcement(&AnnouncementInput { body: t.to_owned(), ..Default::default() }, now)
                        .map_err(|e| {
                            ValidationError::field("announcement", e.fields.into_values().next().unwrap_or_default())
                        }),
                )
                .map(Some),
        };
        errs.clone().into_result()?;
        let (Some(name), Some(description), Some(colour), Some(hidden), Some(announcement)) =
            (name, description, colour, hidden, announcement)
        else {
            return Err(errs.into());
        };

        let mut tx = self.db(by.ctx).write().await?;
        let old = tx.portal_settings().await?;
        let version = if old.primary_colour != colour { now.millis().max(old.version + 1) } else { old.version };
        let new = PortalSettings {
            name,
            description,
            primary_colour: colour,
            hidden,
            logo_type: old.logo_type.clone(),
            version,
        };
        tx.save_portal_settings(&new, now).await?;

        // The announcement shortcut: one settings-owned announcement,
        // replaced when its text changes (so it shows again for everyone).
        let old_announcement = tx.settings_announcement().await?;
        let mut announcement_changed = false;
        match (&old_announcement, &announcement) {
            (Some(a), Some(v)) if a.body == v.body => {}
            (old_a, new_a) => {
                if let Some(a) = old_a {
                    tx.delete_announcement(&a.id).await?;
                    announcement_changed = true;
                }
                if let Some(v) = new_a {
                    let id: RecordId = self.new_id();
                    let author = Some(by.user_id()).filter(|_| by.is_user());
                    tx.insert_announcement(&id, &v.fields(), true, author, now).await?;
                    announcement_changed = true;
                }
            }
        }

        let mut changed: Vec<&str> = Vec::new();
        if old.name != new.name {
            changed.push("name");
        }
        if old.description != new.description {
            changed.push("description");
        }
        if old.primary_colour != new.primary_colour {
            changed.push("primary_colour");
        }
        if old.hidden != new.hidden {
            changed.push("hidden_sections");
        }
        if announcement_changed {
            changed.push("announcement");
        }
        self.audit(
            &mut tx,
            by.ctx,
            "portal.settings_changed",
            Some(("portal_settings", by.ctx.tenant().slug.as_str())),
            serde_json::json!({
                "changed": changed,
                "name": new.name,
                "primary_colour": new.primary_colour.map(|c| c.to_hex()),
                "hidden_sections": new.hidden.names(),
                "from_hidden_sections": old.hidden.names(),
            }),
        )
        .await?;
        tx.commit().await?;
        self.invalidate_portal(&by.ctx.tenant().id);
        Ok(self.settings_out(by.ctx.tenant(), &new, announcement.map(|a| a.body)))
    }

    /// Upload the logo (PNG, JPEG or WebP, at most 512 KB).
    pub async fn set_portal_logo(
        &self,
        by: Can<'_, caps::SettingsManage>,
        bytes: &[u8],
    ) -> AppResult<PortalSettingsOut> {
        let mime = sniff_logo(bytes)?;
        let now = self.now();
        let mut tx = self.db(by.ctx).write().await?;
        let old = tx.portal_settings().await?;
        let version = now.millis().max(old.version + 1);
        tx.set_portal_logo(Some((bytes, mime)), version, now).await?;
        self.audit(
            &mut tx,
            by.ctx,
            "portal.logo_changed",
            Some(("portal_settings", by.ctx.tenant().slug.as_str())),
            serde_json::json!({"type": mime, "bytes": bytes.len()}),
        )
        .await?;
        let s = tx.portal_settings().await?;
        let a = tx.settings_announcement().await?.map(|a| a.body);
        tx.commit().await?;
        self.invalidate_portal(&by.ctx.tenant().id);
        Ok(self.settings_out(by.ctx.tenant(), &s, a))
    }

    /// Remove the logo (the portal shows its initials mark again).
    pub async fn remove_portal_logo(&self, by: Can<'_, caps::SettingsManage>) -> AppResult<()> {
        let now = self.now();
        let mut tx = self.db(by.ctx).write().await?;
        let old = tx.portal_settings().await?;
        if old.logo_type.is_none() {
            return Ok(());
        }
        tx.set_portal_logo(None, now.millis().max(old.version + 1), now).await?;
        self.audit(
            &mut tx,
            by.ctx,
            "portal.logo_removed",
            Some(("portal_settings", by.ctx.tenant().slug.as_str())),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.invalidate_portal(&by.ctx.tenant().id);
        Ok(())
    }

    /// The logo for serving (public branding; `None` when there is none).
    pub async fn portal_logo(&self, tenant: &Tenant) -> AppResult<Option<Logo>> {
        Ok(self.db_for(tenant).read().await?.portal_logo().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logos_are_sniffed() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
        assert_eq!(sniff_logo(png).unwrap(), "image/png");
        assert_eq!(sniff_logo(b"\xff\xd8\xff\xe0\0\x10JFIF\0").unwrap(), "image/jpeg");
        assert!(sniff_logo(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>").is_err());
        assert!(sniff_logo(b"GIF89a....").is_err());
        assert!(sniff_logo(b"").is_err());
        let mut big = png.to_vec();
        big.resize(MAX_LOGO_BYTES + 1, 0);
        assert!(matches!(sniff_logo(&big), Err(AppError::TooLarge { .. })));
    }

    #[test]
    fn landing_section() {
        assert_eq!(first_visible(SectionSet::empty()), Some(Section::Catalog));
        assert_eq!(first_visible(SectionSet::of([Section::Catalog])), Some(Section::Requests));
        assert_eq!(first_visible(SectionSet::of(Section::ALL)), None);
    }
}
