ALTER TABLE group_members DROP COLUMN display_sent;
