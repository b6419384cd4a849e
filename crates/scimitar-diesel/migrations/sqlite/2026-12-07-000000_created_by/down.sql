ALTER TABLE resources DROP COLUMN created_by;
