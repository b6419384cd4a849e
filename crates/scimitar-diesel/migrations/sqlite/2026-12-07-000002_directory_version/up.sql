-- Keep in step with ../../postgres.
-- A number every change of a tenant, its settings or a token's revocation bumps in
-- the same transaction. Servers read it every few hundred milliseconds and forget
-- what they cached when it moved: a change made by another server or the CLI
-- takes effect within a second (TenantStore rule T9).
CREATE TABLE directory_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 0);
