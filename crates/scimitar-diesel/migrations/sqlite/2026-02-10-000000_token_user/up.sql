-- Keep in step with ../../postgres.
-- The SCIM id of the User a token is bound to (its `/Me`), if any. Not a foreign
-- key: the user may be deleted later, and `/Me` then answers 404.
ALTER TABLE tokens ADD COLUMN user_id TEXT;
