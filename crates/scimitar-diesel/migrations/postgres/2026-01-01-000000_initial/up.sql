-- Scimitar schema, PostgreSQL flavour (keep in step with ../../sqlite).
-- Timestamps are BIGINT nanoseconds since the Unix epoch (UTC): exact, and
-- ordered the same way as the instants they stand for.
-- Text columns use the "C" collation: byte order, as SQLite and Rust compare
-- strings, so sorting and `gt`/`lt` agree across backends, and btree indexes
-- serve `LIKE 'prefix%'`.

CREATE TABLE tenants (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    enabled BOOLEAN NOT NULL,
    settings JSONB NOT NULL,
    created BIGINT NOT NULL
);

CREATE TABLE tokens (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    label TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL,
    created BIGINT NOT NULL,
    last_used BIGINT,
    revoked_at BIGINT
);
CREATE INDEX tokens_tenant ON tokens (tenant_id, seq);

-- One row per resource. `data` is the resource without `id`, `meta` and (for
-- groups) `members`; the other columns are copies of the attributes that filters,
-- sorting and uniqueness use, kept in step on every write.
CREATE TABLE resources (
    pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    resource_type TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    user_name TEXT COLLATE "C",
    user_name_folded TEXT COLLATE "C",
    external_id TEXT COLLATE "C",
    display_name TEXT COLLATE "C",
    display_name_folded TEXT COLLATE "C",
    active BOOLEAN,
    created BIGINT NOT NULL,
    last_modified BIGINT NOT NULL,
    version BIGINT NOT NULL,
    data JSONB NOT NULL
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
    tenant_id TEXT COLLATE "C" NOT NULL,
    resource_type TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, resource_type)
);

-- A user's emails, one row each, so that `emails[...]` filters use an index.
CREATE TABLE resource_emails (
    resource_pk BIGINT NOT NULL REFERENCES resources (pk) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    value TEXT COLLATE "C",
    value_folded TEXT COLLATE "C",
    type TEXT COLLATE "C",
    is_primary BOOLEAN,
    PRIMARY KEY (resource_pk, position)
);
CREATE INDEX resource_emails_value ON resource_emails (value_folded);

-- Group membership, outside the group's JSON: a member change is one row, and
-- reading or renaming a group never touches its members. `seq` keeps the order
-- members were added in.
CREATE TABLE group_members (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_pk BIGINT NOT NULL REFERENCES resources (pk) ON DELETE CASCADE,
    member_pk BIGINT NOT NULL REFERENCES resources (pk) ON DELETE CASCADE,
    UNIQUE (group_pk, member_pk)
);
CREATE INDEX group_members_member ON group_members (member_pk);

-- The change-event outbox, written in the transaction of the change.
-- An identity column: a sequence number is never reused.
CREATE TABLE events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    resource_type TEXT COLLATE "C" NOT NULL,
    resource_id TEXT COLLATE "C" NOT NULL,
    payload JSONB NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX events_tenant ON events (tenant_id, seq);

-- Case folding for case-insensitive comparisons of JSON attributes, matching the
-- Unicode lower-casing the store applies to its folded columns (SQLite gets a
-- function of the same name from the store itself). ICU's root locale where the
-- server has it; otherwise lower() under the database's default collation
-- (never "C", which folds ASCII only).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') THEN
        EXECUTE 'CREATE FUNCTION scim_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE '
             || 'AS $f$ SELECT lower(t COLLATE "und-x-icu") COLLATE "C" $f$';
    ELSE
        EXECUTE 'CREATE FUNCTION scim_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE '
             || 'AS $f$ SELECT lower(t COLLATE "default") COLLATE "C" $f$';
    END IF;
END
$$;
