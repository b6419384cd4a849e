-- Keep in step with ../../sqlite.
-- Admin API credentials: across tenants, so keyed by nothing but their id. The
-- hash is a digest of a random secret; `scope` is the server's word for what the
-- token may do (`admin`, `read-only`).
CREATE TABLE admin_tokens (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    label TEXT COLLATE "C" NOT NULL,
    scope TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL,
    created BIGINT NOT NULL,
    last_used BIGINT,
    revoked_at BIGINT
);
