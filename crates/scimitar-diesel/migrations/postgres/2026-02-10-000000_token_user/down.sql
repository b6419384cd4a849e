ALTER TABLE tokens DROP COLUMN user_id;
