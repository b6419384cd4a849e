-- Outbox consumers and the provisioning log. Keep in step with ../../postgres.

-- Each consumer's progress through a tenant's events (`checkpoint`: the last seq
-- it handled) and the lease naming the one process that delivers them now
-- (`owner` until `lease_expires`, nanoseconds since the epoch).
CREATE TABLE outbox_consumers (
    tenant_id TEXT NOT NULL,
    consumer TEXT NOT NULL,
    checkpoint BIGINT NOT NULL,
    owner TEXT,
    lease_expires BIGINT,
    PRIMARY KEY (tenant_id, consumer)
);

-- One row per SCIM request, for the tenant's admin; pruned to the newest rows
-- per tenant as entries are added.
CREATE TABLE provisioning_log (
    seq INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    token_id TEXT,
    token_label TEXT,
    user_agent TEXT,
    method TEXT NOT NULL,
    resource_type TEXT,
    operation TEXT NOT NULL,
    resource_id TEXT,
    status BIGINT NOT NULL,
    scim_type TEXT,
    detail TEXT
);
CREATE INDEX provisioning_log_tenant ON provisioning_log (tenant_id, seq);
CREATE INDEX provisioning_log_errors ON provisioning_log (tenant_id, seq) WHERE status >= 400;
