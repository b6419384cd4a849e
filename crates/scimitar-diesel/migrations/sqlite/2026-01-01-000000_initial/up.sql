-- Scimitar schema, SQLite flavour (keep in step with ../../postgres).
-- Timestamps are INTEGER nanoseconds since the Unix epoch (UTC): exact, and
-- ordered the same way as the instants they stand for.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    settings TEXT NOT NULL,
    created BIGINT NOT NULL
);

CREATE TABLE tokens (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    hash TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_used BIGINT,
    revoked_at BIGINT
);
CREATE INDEX tokens_tenant ON tokens (tenant_id, seq);

-- One row per resource. `data` is the resource without `id`, `meta` and (for
-- groups) `members`; the other columns are copies of the attributes that filters,
-- sorting and uniqueness use, kept in step on every write.
CREATE TABLE resources (
    pk INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    id TEXT NOT NULL,
    user_name TEXT,
    user_name_folded TEXT,
    external_id TEXT,
    display_name TEXT,
    display_name_folded TEXT,
    active BOOLEAN,
    created BIGINT NOT NULL,
    last_modified BIGINT NOT NULL,
    version BIGINT NOT NULL,
    data TEXT NOT NULL
);
CREATE UNIQUE INDEX resources_id ON resources (tenant_id, id);
CREATE INDEX resources_by_type ON resources (tenant_id, resource_type, pk);
CREATE UNIQUE INDEX resources_user_name ON resources (tenant_id, resource_type, user_name_folded);
CREATE INDEX resources_external_id ON resources (tenant_id, resource_type, external_id);
CREATE INDEX resources_display_name ON resources (tenant_id, resource_type, display_name_folded);
CREATE INDEX resources_last_modified ON resources (tenant_id, resource_type, last_modified);
CREATE INDEX resources_created ON resources (tenant_id, resource_type, created);

-- How many resources of each type a tenant has: totalResults of an unfiltered
-- query without counting a million index entries.
CREATE TABLE resource_counts (
    tenant_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, resource_type)
);

-- A user's emails, one row each, so that `emails[...]` filters use an index.
CREATE TABLE resource_emails (
    resource_pk BIGINT NOT NULL REFERENCES resources (pk) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    value TEXT,
    value_folded TEXT,
    type TEXT,
    is_primary BOOLEAN,
    PRIMARY KEY (resource_pk, position)
);
CREATE INDEX resource_emails_value ON resource_emails (value_folded);

-- Group membership, outside the group's JSON: a member change is one row, and
-- reading or renaming a group never touches its members. `seq` keeps the order
-- members were added in.
CREATE TABLE group_members (
    seq INTEGER PRIMARY KEY,
    group_pk BIGINT NOT NULL REFERENCES resources (pk) ON DELETE CASCADE,
    member_pk BIGINT NOT NULL REFERENCES resources (pk) ON DELETE CASCADE,
    UNIQUE (group_pk, member_pk)
);
CREATE INDEX group_members_member ON group_members (member_pk);

-- The change-event outbox, written in the transaction of the change.
-- AUTOINCREMENT: a sequence number is never reused, even after pruning.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX events_tenant ON events (tenant_id, seq);
