DROP INDEX resources_id;
CREATE UNIQUE INDEX resources_id ON resources (tenant_id, id);
