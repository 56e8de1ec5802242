-- Knowledge base and known-error database (SPEC §6): articles, known
-- errors, their version history, the change feed that keeps every node's
-- search index fresh, synonyms, and what readers do with the knowledge
-- (searches, clicks, feedback, deflections).

CREATE TABLE kb_articles (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    category TEXT NOT NULL,
    -- JSON array of strings.
    tags TEXT NOT NULL,
    -- draft | published | archived
    status TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    review_by BIGINT,
    views BIGINT NOT NULL,
    helpful_yes BIGINT NOT NULL,
    helpful_no BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    published_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX kb_articles_status ON kb_articles (tenant_id, status, views);
CREATE INDEX kb_articles_category ON kb_articles (tenant_id, status, category);
CREATE INDEX kb_articles_owner ON kb_articles (tenant_id, owner_id);
CREATE INDEX kb_articles_review ON kb_articles (tenant_id, review_by);

CREATE TABLE kb_known_errors (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    symptoms TEXT NOT NULL,
    workaround TEXT NOT NULL,
    root_cause TEXT,
    problem_id TEXT,
    public BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number)
);

-- Who changed what, when: one row per version of an article or known
-- error, with the record as it was after the change.
CREATE TABLE kb_revisions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    doc_kind TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    actor_id TEXT,
    actor_label TEXT NOT NULL,
    at BIGINT NOT NULL,
    -- JSON array of changed field names.
    changes TEXT NOT NULL,
    -- JSON object: the record after the change.
    snapshot TEXT NOT NULL,
    PRIMARY KEY (tenant_id, doc_kind, doc_id, version)
);

-- The change feed: written in the same transaction as every article,
-- known-error or synonym change; each node polls it to refresh its index.
CREATE TABLE kb_changes (
    seq {{AUTOINC_PK}},
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    -- article | known_error | synonyms
    doc_kind TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX kb_changes_at ON kb_changes (at);

-- A tenant's own synonym groups (absent: the shipped defaults).
CREATE TABLE kb_synonyms (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    groups_json TEXT NOT NULL,
    updated_by TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id)
);

-- Every search, for analytics: written in batches by each node.
CREATE TABLE kb_searches (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    at BIGINT NOT NULL,
    user_id TEXT,
    query TEXT NOT NULL,
    -- Lower-cased, whitespace collapsed: groups equal questions.
    query_norm TEXT NOT NULL,
    results BIGINT NOT NULL,
    kind TEXT,
    category TEXT,
    -- api | portal | request_check
    source TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX kb_searches_zero ON kb_searches (tenant_id, results, at);

-- Results opened from a results page.
CREATE TABLE kb_search_clicks (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    search_id TEXT NOT NULL,
    doc_kind TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    user_id TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, search_id, doc_id)
);

-- "Was this helpful?": one answer per reader and article (answering again
-- replaces it).
CREATE TABLE kb_feedback (
    tenant_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    helpful BOOLEAN NOT NULL,
    comment TEXT,
    search_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, article_id, user_id),
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);

-- "This solved my problem": a request that did not need to be filed.
CREATE TABLE kb_deflections (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    user_id TEXT,
    search_id TEXT,
    query TEXT,
    -- article | request_check | api
    source TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id)
);
CREATE INDEX kb_deflections_article ON kb_deflections (tenant_id, article_id);
CREATE INDEX kb_deflections_search ON kb_deflections (tenant_id, search_id);
