DROP TABLE archived_resources;
DROP INDEX resources_manager;
ALTER TABLE resources DROP COLUMN derived;
ALTER TABLE resources DROP COLUMN manager_id;
