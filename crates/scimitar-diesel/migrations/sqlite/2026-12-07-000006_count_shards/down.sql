CREATE TABLE resource_counts_whole (
    tenant_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, resource_type)
);
INSERT INTO resource_counts_whole SELECT tenant_id, resource_type, SUM(n) FROM resource_counts
GROUP BY tenant_id, resource_type;
DROP TABLE resource_counts;
ALTER TABLE resource_counts_whole RENAME TO resource_counts;
CREATE TABLE resource_buckets_whole (
    tenant_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    shift BIGINT NOT NULL,
    bucket BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, resource_type, shift, bucket)
);
INSERT INTO resource_buckets_whole SELECT tenant_id, resource_type, shift, bucket, SUM(n)
FROM resource_buckets GROUP BY tenant_id, resource_type, shift, bucket;
DROP TABLE resource_buckets;
ALTER TABLE resource_buckets_whole RENAME TO resource_buckets;
