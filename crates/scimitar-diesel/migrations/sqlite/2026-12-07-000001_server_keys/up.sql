-- Keep in step with ../../postgres.
-- Keys every server on this database shares (the cursor sealing key), made by the
-- first server that needs one. Not credentials: a key must be usable, so it is
-- stored as is (hex), like the database's own data.
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL
);
