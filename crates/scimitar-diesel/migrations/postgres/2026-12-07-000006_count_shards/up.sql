-- Keep in step with ../../sqlite.
-- A tenant's counts (`resource_counts`, `resource_buckets`) in up to 16 rows each,
-- one per writer connection (`pg_backend_pid() % 16`), summed when read: creates
-- and deletes of one tenant no longer queue for one counter row until commit.
ALTER TABLE resource_counts ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE resource_counts DROP CONSTRAINT resource_counts_pkey,
    ADD PRIMARY KEY (tenant_id, resource_type, shard);
ALTER TABLE resource_buckets ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE resource_buckets DROP CONSTRAINT resource_buckets_pkey,
    ADD PRIMARY KEY (tenant_id, resource_type, shift, bucket, shard);
