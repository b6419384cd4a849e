DROP INDEX resources_family_name;
DROP INDEX resources_given_name;
ALTER TABLE resources DROP COLUMN family_name_folded;
ALTER TABLE resources DROP COLUMN family_name;
ALTER TABLE resources DROP COLUMN given_name_folded;
ALTER TABLE resources DROP COLUMN given_name;
