DROP SEQUENCE event_positions;
DROP INDEX events_unsettled;
DROP INDEX events_position;
CREATE INDEX events_tenant ON events (tenant_id, seq);
ALTER TABLE events DROP COLUMN pos;
ALTER TABLE events DROP COLUMN tx;
