-- Keep in step with ../../postgres. SQLite writes one transaction at a time, so it
-- keeps every count in shard 0; the column lets both backends share one SQL text.
CREATE TABLE resource_counts_sharded (
    tenant_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    shard INTEGER NOT NULL DEFAULT 0,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, resource_type, shard)
);
INSERT INTO resource_counts_sharded (tenant_id, resource_type, shard, n)
SELECT tenant_id, resource_type, 0, n FROM resource_counts;
DROP TABLE resource_counts;
ALTER TABLE resource_counts_sharded RENAME TO resource_counts;
CREATE TABLE resource_buckets_sharded (
    tenant_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    shift BIGINT NOT NULL,
    bucket BIGINT NOT NULL,
    shard INTEGER NOT NULL DEFAULT 0,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, resource_type, shift, bucket, shard)
);
INSERT INTO resource_buckets_sharded (tenant_id, resource_type, shift, bucket, shard, n)
SELECT tenant_id, resource_type, shift, bucket, 0, n FROM resource_buckets;
DROP TABLE resource_buckets;
ALTER TABLE resource_buckets_sharded RENAME TO resource_buckets;
