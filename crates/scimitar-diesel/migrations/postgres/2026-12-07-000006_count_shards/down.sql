CREATE TABLE resource_counts_whole AS
    SELECT tenant_id, resource_type, SUM(n)::BIGINT AS n FROM resource_counts
    GROUP BY tenant_id, resource_type;
DELETE FROM resource_counts;
ALTER TABLE resource_counts DROP CONSTRAINT resource_counts_pkey;
ALTER TABLE resource_counts DROP COLUMN shard;
INSERT INTO resource_counts SELECT tenant_id, resource_type, n FROM resource_counts_whole;
ALTER TABLE resource_counts ADD PRIMARY KEY (tenant_id, resource_type);
DROP TABLE resource_counts_whole;
CREATE TABLE resource_buckets_whole AS
    SELECT tenant_id, resource_type, shift, bucket, SUM(n)::BIGINT AS n FROM resource_buckets
    GROUP BY tenant_id, resource_type, shift, bucket;
DELETE FROM resource_buckets;
ALTER TABLE resource_buckets DROP CONSTRAINT resource_buckets_pkey;
ALTER TABLE resource_buckets DROP COLUMN shard;
INSERT INTO resource_buckets SELECT tenant_id, resource_type, shift, bucket, n FROM resource_buckets_whole;
ALTER TABLE resource_buckets ADD PRIMARY KEY (tenant_id, resource_type, shift, bucket);
DROP TABLE resource_buckets_whole;
