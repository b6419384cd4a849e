-- Keep in step with ../../sqlite.
-- A member's `display` (store rule 16): the value sent with it, else its own
-- name when it joined. In the listing index too, so that a member list is still
-- one index range.
ALTER TABLE group_members ADD COLUMN display TEXT COLLATE "C";
DROP INDEX group_members_listing;
CREATE INDEX group_members_listing ON group_members (group_pk, seq, member_pk, member_id, member_type, display);
-- Members from before: the name each has now.
UPDATE group_members SET display = (
    SELECT COALESCE(NULLIF(r.display_name, ''), r.user_name, '')
    FROM resources r WHERE r.pk = group_members.member_pk
);
