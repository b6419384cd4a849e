-- Keep in step with ../../sqlite.
-- Whether a member's `display` was sent with it (store rule 16): one that was not
-- follows the member's renames.
ALTER TABLE group_members ADD COLUMN display_sent BOOLEAN NOT NULL DEFAULT FALSE;
