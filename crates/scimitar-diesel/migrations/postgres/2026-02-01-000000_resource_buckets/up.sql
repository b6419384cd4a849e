-- Keep in step with ../../sqlite.
-- Resources counted per bucket of consecutive pks, at two sizes (rows.rs,
-- BUCKET_SHIFTS): bucket b of shift s counts the pks in [b << s, (b + 1) << s).
-- A deep index page in creation order sums these counts to find where it starts
-- instead of walking every key before it. Kept in step on every insert and delete.
CREATE TABLE resource_buckets (
    tenant_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    shift BIGINT NOT NULL,
    bucket BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, resource_type, shift, bucket)
);
INSERT INTO resource_buckets (tenant_id, resource_type, shift, bucket, n)
SELECT tenant_id, resource_type, 15, pk / 32768, COUNT(*)
FROM resources
GROUP BY tenant_id, resource_type, pk / 32768;
INSERT INTO resource_buckets (tenant_id, resource_type, shift, bucket, n)
SELECT tenant_id, resource_type, 10, pk / 1024, COUNT(*)
FROM resources
GROUP BY tenant_id, resource_type, pk / 1024;
