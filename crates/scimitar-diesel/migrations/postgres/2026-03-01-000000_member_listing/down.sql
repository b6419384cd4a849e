DROP INDEX group_members_listing;
ALTER TABLE group_members DROP COLUMN member_type;
ALTER TABLE group_members DROP COLUMN member_id;
