DROP TABLE resource_buckets;
