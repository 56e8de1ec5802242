-- Service catalog, requests, approvals, incidents and in-app
-- notifications (SPEC §5). Same conventions as 0001: BIGINT milliseconds,
-- TEXT ids, (tenant_id, id) keys and (tenant_id, x_id) foreign keys.
--
-- The request queue is read newest first with keyset pagination
-- (`id < cursor ORDER BY id DESC`); every filter the queue offers has an
-- index whose prefix is the filter and whose tail is `id`, so a page costs
-- the same at a thousand rows and at a million (see the comments below).

CREATE TABLE catalog_categories (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE approval_workflows (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- JSON: [{"users": [user ids], "roles": [role ids], "rule": "any"|"all"}]
    stages TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE catalog_items (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    category_id TEXT,
    icon TEXT NOT NULL,
    -- JSON: the form's field definitions.
    fields TEXT NOT NULL,
    fulfillment_target_hours BIGINT,
    workflow_id TEXT,
    published BOOLEAN NOT NULL,
    -- Deleted items stay for the requests that name them.
    archived BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, category_id) REFERENCES catalog_categories (tenant_id, id),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES approval_workflows (tenant_id, id)
);
CREATE INDEX catalog_items_name ON catalog_items (tenant_id, name, id);
CREATE INDEX catalog_items_category ON catalog_items (tenant_id, category_id);
CREATE INDEX catalog_items_workflow ON catalog_items (tenant_id, workflow_id);

-- Roles that see an item; none = everyone.
CREATE TABLE catalog_item_roles (
    tenant_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    role_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, item_id, role_id),
    FOREIGN KEY (tenant_id, item_id) REFERENCES catalog_items (tenant_id, id),
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id)
);

CREATE TABLE incidents (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The request it was raised from. No foreign key: requests refer to
    -- incidents (requests.incident_id) and PostgreSQL cannot create the
    -- cycle in one pass; the app only ever writes ids it looked up in
    -- this tenant.
    source_request_id TEXT,
    reported_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, reported_by) REFERENCES users (tenant_id, id)
);
CREATE INDEX incidents_source ON incidents (tenant_id, source_request_id);
CREATE INDEX incidents_status ON incidents (tenant_id, status, id);

CREATE TABLE requests (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    details TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    assignee_id TEXT,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    catalog_item_id TEXT,
    -- JSON object of validated form values.
    field_values TEXT NOT NULL,
    due_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    incident_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, requester_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, assignee_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, catalog_item_id) REFERENCES catalog_items (tenant_id, id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id)
);
-- The whole queue, newest first: the primary key (tenant_id, id).
-- ?status=X
CREATE INDEX requests_status ON requests (tenant_id, status, id);
-- ?priority=X
CREATE INDEX requests_priority ON requests (tenant_id, priority, id);
-- ?assignee=ID|me|none
CREATE INDEX requests_assignee ON requests (tenant_id, assignee_id, id);
-- A requester's own requests (and ?mine=true).
CREATE INDEX requests_requester ON requests (tenant_id, requester_id, id);
-- ?status=active: work still outstanding, typically a small slice of a
-- large history. The predicate must match the queries' text exactly.
CREATE INDEX requests_active ON requests (tenant_id, id)
    WHERE status IN ('new', 'pending_approval', 'open', 'in_progress', 'waiting_on_customer');
-- ?overdue=true, most overdue first.
CREATE INDEX requests_active_due ON requests (tenant_id, due_at, id)
    WHERE status IN ('new', 'pending_approval', 'open', 'in_progress', 'waiting_on_customer') AND due_at IS NOT NULL;

-- The timeline: creation, status changes, assignment, priority.
CREATE TABLE request_events (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor_id TEXT,
    kind TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    note TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id),
    FOREIGN KEY (tenant_id, actor_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX request_events_request ON request_events (tenant_id, request_id, id);

CREATE TABLE request_comments (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    body TEXT NOT NULL,
    internal BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id),
    FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX request_comments_request ON request_comments (tenant_id, request_id, id);

-- People who follow a request without being its requester; they see it
-- like the requester does (never internal notes).
CREATE TABLE request_watchers (
    tenant_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, request_id, user_id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX request_watchers_user ON request_watchers (tenant_id, user_id, request_id);

CREATE TABLE request_attachments (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id),
    FOREIGN KEY (tenant_id, uploaded_by) REFERENCES users (tenant_id, id)
);
CREATE INDEX request_attachments_request ON request_attachments (tenant_id, request_id, id);

-- The bytes, in the database so that every node serves them; kept apart
-- so listing attachments never reads them.
CREATE TABLE request_attachment_data (
    tenant_id TEXT NOT NULL,
    attachment_id TEXT NOT NULL,
    data {{BLOB}} NOT NULL,
    PRIMARY KEY (tenant_id, attachment_id),
    FOREIGN KEY (tenant_id, attachment_id) REFERENCES request_attachments (tenant_id, id)
);

-- A request's approval: a snapshot of the workflow's stages taken when
-- the request was filed, so later edits of the workflow do not change
-- decisions in flight.
CREATE TABLE approvals (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    workflow_id TEXT,
    workflow_name TEXT NOT NULL,
    -- JSON: [{"users": [...], "roles": [...], "rule": ...}]
    stages TEXT NOT NULL,
    current_stage BIGINT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, request_id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES approval_workflows (tenant_id, id)
);

-- One row per approver of a started stage.
CREATE TABLE approval_decisions (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    approval_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    stage BIGINT NOT NULL,
    approver_id TEXT NOT NULL,
    state TEXT NOT NULL,
    comment TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, approval_id, stage, approver_id),
    FOREIGN KEY (tenant_id, approval_id) REFERENCES approvals (tenant_id, id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id),
    FOREIGN KEY (tenant_id, approver_id) REFERENCES users (tenant_id, id)
);
-- "My pending decisions", newest first.
CREATE INDEX approval_decisions_approver ON approval_decisions (tenant_id, approver_id, state, id);

CREATE TABLE notifications (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT NOT NULL,
    request_id TEXT,
    created_at BIGINT NOT NULL,
    read_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX notifications_user ON notifications (tenant_id, user_id, id);
CREATE INDEX notifications_unread ON notifications (tenant_id, user_id, id) WHERE read_at IS NULL;
