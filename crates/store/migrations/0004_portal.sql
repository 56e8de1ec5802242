-- Portal: the status page (services, maintenance windows, public incident
-- notes), announcements with per-user dismissal, and per-tenant portal
-- settings (branding and section toggles). Children are removed with
-- their parents (ON DELETE CASCADE), always within one tenant.

CREATE TABLE status_services (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);
CREATE INDEX status_services_order ON status_services (tenant_id, position, id);

CREATE TABLE status_maintenance (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    note TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX status_maintenance_ends ON status_maintenance (tenant_id, ends_at);

CREATE TABLE status_maintenance_services (
    tenant_id TEXT NOT NULL,
    maintenance_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, maintenance_id, service_id),
    FOREIGN KEY (tenant_id, maintenance_id) REFERENCES status_maintenance (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, service_id) REFERENCES status_services (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX status_maintenance_services_service ON status_maintenance_services (tenant_id, service_id);

CREATE TABLE status_notes (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES status_services (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX status_notes_service ON status_notes (tenant_id, service_id, id);

CREATE TABLE announcements (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    severity TEXT NOT NULL,
    active_from BIGINT NOT NULL,
    active_until BIGINT,
    from_settings BOOLEAN NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE announcement_dismissals (
    tenant_id TEXT NOT NULL,
    announcement_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    dismissed_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, announcement_id),
    FOREIGN KEY (tenant_id, announcement_id) REFERENCES announcements (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX announcement_dismissals_announcement ON announcement_dismissals (tenant_id, announcement_id);

-- One row per tenant, created on first save. `version` changes with the
-- logo or colour so their URLs can be cached for long.
CREATE TABLE portal_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    name TEXT,
    description TEXT,
    primary_colour TEXT,
    hidden_sections TEXT NOT NULL,
    logo {{BLOB}},
    logo_type TEXT,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
