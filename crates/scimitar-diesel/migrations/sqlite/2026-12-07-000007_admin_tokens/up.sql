-- Keep in step with ../../postgres.
-- Admin API credentials: across tenants, so keyed by nothing but their id. The
-- hash is a digest of a random secret; `scope` is the server's word for what the
-- token may do (`admin`, `read-only`).
CREATE TABLE admin_tokens (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    scope TEXT NOT NULL,
    hash TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_used BIGINT,
    revoked_at BIGINT
);
