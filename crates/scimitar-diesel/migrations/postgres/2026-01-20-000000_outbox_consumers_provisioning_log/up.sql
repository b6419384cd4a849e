-- Outbox consumers and the provisioning log. Keep in step with ../../sqlite.

-- Each consumer's progress through a tenant's events (`checkpoint`: the last seq
-- it handled) and the lease naming the one process that delivers them now
-- (`owner` until `lease_expires`, nanoseconds since the epoch).
CREATE TABLE outbox_consumers (
    tenant_id TEXT COLLATE "C" NOT NULL,
    consumer TEXT COLLATE "C" NOT NULL,
    checkpoint BIGINT NOT NULL,
    owner TEXT COLLATE "C",
    lease_expires BIGINT,
    PRIMARY KEY (tenant_id, consumer)
);

-- One row per SCIM request, for the tenant's admin; pruned to the newest rows
-- per tenant as entries are added.
CREATE TABLE provisioning_log (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL,
    token_id TEXT COLLATE "C",
    token_label TEXT COLLATE "C",
    user_agent TEXT COLLATE "C",
    method TEXT COLLATE "C" NOT NULL,
    resource_type TEXT COLLATE "C",
    operation TEXT COLLATE "C" NOT NULL,
    resource_id TEXT COLLATE "C",
    status BIGINT NOT NULL,
    scim_type TEXT COLLATE "C",
    detail TEXT COLLATE "C"
);
CREATE INDEX provisioning_log_tenant ON provisioning_log (tenant_id, seq);
CREATE INDEX provisioning_log_errors ON provisioning_log (tenant_id, seq) WHERE status >= 400;
