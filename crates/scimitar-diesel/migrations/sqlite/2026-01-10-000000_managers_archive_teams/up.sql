-- Managers, archived users and derived teams (rules 19 to 21 of the Store trait).
-- Keep in step with ../../postgres.

-- A user's Enterprise manager.value, kept in step with `data` on every write:
-- deleting a manager finds its reports through the index.
ALTER TABLE resources ADD COLUMN manager_id TEXT;
UPDATE resources
SET manager_id = NULLIF(json_extract(data,
        '$."urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".manager.value'), '')
WHERE resource_type = 'User';
CREATE INDEX resources_manager ON resources (tenant_id, manager_id) WHERE manager_id IS NOT NULL;

-- A group derived from user attributes (TeamMode::Department), not pushed by the IdP.
ALTER TABLE resources ADD COLUMN derived BOOLEAN NOT NULL DEFAULT FALSE;

-- Archived users (DeletionMode::Archive): out of `resources`, so no read, filter,
-- membership or uniqueness check can see them; kept as a client last read them.
CREATE TABLE archived_resources (
    pk INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    id TEXT NOT NULL,
    archived_at BIGINT NOT NULL,
    resource TEXT NOT NULL
);
CREATE INDEX archived_resources_tenant ON archived_resources (tenant_id, resource_type, pk);
