-- Keep in step with ../../sqlite.
-- The client (token id) whose create made the resource: only that client may
-- replay the create within the tenant's createRetryWindowSeconds (rule 10).
ALTER TABLE resources ADD COLUMN created_by TEXT COLLATE "C";
