DROP INDEX group_members_listing;
CREATE INDEX group_members_listing ON group_members (group_pk, seq, member_pk, member_id, member_type);
ALTER TABLE group_members DROP COLUMN display;
