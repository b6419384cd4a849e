-- Keep in step with ../../postgres.
-- JSON documents the server keeps per tenant by key (StateStore): a webhook's
-- delivery health, its dead letters. Erased with the tenant.
CREATE TABLE tenant_state (
    tenant_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
