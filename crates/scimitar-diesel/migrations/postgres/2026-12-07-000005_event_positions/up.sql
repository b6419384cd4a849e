-- PostgreSQL only (SQLite commits one writer at a time: there `seq` is the order).
--
-- An event's delivery position (`pos`) is given when it settles, not when it is
-- written, so that writes of one tenant need no lock to keep consumers from
-- skipping an event that commits late (ARCHITECTURE.md, "Outbox order"). `tx` is
-- the writing transaction: an event settles once every transaction older than
-- the oldest still running has ended, in `seq` order, stopping at the first one
-- that cannot settle yet (event_rows.rs, `settle`).
ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE events ADD COLUMN pos BIGINT;
-- Events written before this migration were ordered by the tenant lock: their
-- positions are their sequence numbers, so checkpoints stay valid.
UPDATE events SET pos = seq;
CREATE UNIQUE INDEX events_position ON events (tenant_id, pos);
CREATE INDEX events_unsettled ON events (tenant_id, seq) WHERE pos IS NULL;
DROP INDEX events_tenant;
-- Positions come from one sequence: values drawn later are larger, so a tenant's
-- settles, one at a time, hand out increasing positions.
CREATE SEQUENCE event_positions;
SELECT setval('event_positions', GREATEST(
    (SELECT MAX(seq) FROM events),
    (SELECT MAX(checkpoint) FROM outbox_consumers),
    1
));
