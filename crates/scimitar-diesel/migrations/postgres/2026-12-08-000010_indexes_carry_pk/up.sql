-- The indexes a filter or sort walks carry the row's pk: a filtered page reads
-- its keys and counts its matches from the index alone once the table is
-- vacuumed (an index-only scan), instead of one heap fetch per match. A
-- `familyName sw` matching 20,000 of 1,000,000 users: 118 ms -> 16 ms.
-- (SQLite's indexes hold the rowid, its pk, already.)
DROP INDEX resources_user_name;
CREATE UNIQUE INDEX resources_user_name ON resources (tenant_id, resource_type, user_name_folded) INCLUDE (pk);
DROP INDEX resources_external_id;
CREATE INDEX resources_external_id ON resources (tenant_id, resource_type, external_id) INCLUDE (pk);
DROP INDEX resources_display_name;
CREATE INDEX resources_display_name ON resources (tenant_id, resource_type, display_name_folded) INCLUDE (pk);
DROP INDEX resources_given_name;
CREATE INDEX resources_given_name ON resources (tenant_id, resource_type, given_name_folded) INCLUDE (pk);
DROP INDEX resources_family_name;
CREATE INDEX resources_family_name ON resources (tenant_id, resource_type, family_name_folded) INCLUDE (pk);
DROP INDEX resources_created;
CREATE INDEX resources_created ON resources (tenant_id, resource_type, created) INCLUDE (pk);
DROP INDEX resources_last_modified;
CREATE INDEX resources_last_modified ON resources (tenant_id, resource_type, last_modified) INCLUDE (pk);
