-- Keep in step with ../../postgres.
-- A member's id and resource type copied into its membership row (neither ever
-- changes), and an index in the order members were added that holds them: a
-- group's member list is then one range of one index, instead of a lookup of
-- every member's resource row (a page read each, once a write has emptied the
-- reader's page cache).
ALTER TABLE group_members ADD COLUMN member_id TEXT;
ALTER TABLE group_members ADD COLUMN member_type TEXT;
UPDATE group_members SET
    member_id = (SELECT r.id FROM resources r WHERE r.pk = group_members.member_pk),
    member_type = (SELECT r.resource_type FROM resources r WHERE r.pk = group_members.member_pk);
CREATE INDEX group_members_listing ON group_members (group_pk, seq, member_pk, member_id, member_type);
