-- Lookups by id alone (the member of a group filter) use the unique index too:
-- put id first.
DROP INDEX resources_id;
CREATE UNIQUE INDEX resources_id ON resources (id, tenant_id);
