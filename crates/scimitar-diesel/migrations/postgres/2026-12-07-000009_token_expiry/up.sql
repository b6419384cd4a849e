-- Keep in step with ../../sqlite.
-- When a token stops authenticating (nanoseconds since the epoch); NULL never.
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
