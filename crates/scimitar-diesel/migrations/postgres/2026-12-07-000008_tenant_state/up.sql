-- Keep in step with ../../sqlite.
-- JSON documents the server keeps per tenant by key (StateStore): a webhook's
-- delivery health, its dead letters. Erased with the tenant.
CREATE TABLE tenant_state (
    tenant_id TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    value JSONB NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
