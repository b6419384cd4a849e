-- Managers, archived users and derived teams (rules 19 to 21 of the Store trait).
-- Keep in step with ../../sqlite.

-- A user's Enterprise manager.value, kept in step with `data` on every write:
-- deleting a manager finds its reports through the index.
ALTER TABLE resources ADD COLUMN manager_id TEXT COLLATE "C";
UPDATE resources
SET manager_id = NULLIF(data #>> '{urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,manager,value}', '')
WHERE resource_type = 'User';
CREATE INDEX resources_manager ON resources (tenant_id, manager_id) WHERE manager_id IS NOT NULL;

-- A group derived from user attributes (TeamMode::Department), not pushed by the IdP.
ALTER TABLE resources ADD COLUMN derived BOOLEAN NOT NULL DEFAULT FALSE;

-- Archived users (DeletionMode::Archive): out of `resources`, so no read, filter,
-- membership or uniqueness check can see them; kept as a client last read them.
CREATE TABLE archived_resources (
    pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    resource_type TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    archived_at BIGINT NOT NULL,
    resource JSONB NOT NULL
);
CREATE INDEX archived_resources_tenant ON archived_resources (tenant_id, resource_type, pk);

-- A date-time as nanoseconds since the epoch, read as the filter evaluator reads
-- it (RFC 3339; `t` or a space before the time; no offset means UTC), NULL for
-- other text: sorting by a `dateTime` attribute inside `data` orders instants, not
-- text (SQLite gets a function of the same name from the store itself).
CREATE OR REPLACE FUNCTION scim_instant(t text) RETURNS bigint
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
BEGIN
    IF t !~ '^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$' THEN
        RETURN NULL;
    END IF;
    IF t !~ '([Zz]|[+-]\d{2}:\d{2})$' THEN
        t := t || 'Z';
    END IF;
    RETURN (extract(epoch FROM t::timestamptz) * 1000000000)::bigint;
EXCEPTION WHEN others THEN
    -- A well-shaped impossible date (February 30th).
    RETURN NULL;
END
$$;
