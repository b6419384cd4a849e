-- Keep in step with ../../postgres.
-- When a token stops authenticating (nanoseconds since the epoch); NULL never.
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
