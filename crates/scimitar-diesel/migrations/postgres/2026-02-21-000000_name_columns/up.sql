-- Keep in step with ../../sqlite.
-- A user's name.givenName and name.familyName as columns (raw and folded), kept
-- in step with `data` on every write: filters (`sw` as an index range) and sorts
-- on them use an index instead of reading every document.
ALTER TABLE resources ADD COLUMN given_name TEXT COLLATE "C";
ALTER TABLE resources ADD COLUMN given_name_folded TEXT COLLATE "C";
ALTER TABLE resources ADD COLUMN family_name TEXT COLLATE "C";
ALTER TABLE resources ADD COLUMN family_name_folded TEXT COLLATE "C";
UPDATE resources SET
    given_name = CASE WHEN jsonb_typeof(data -> 'name' -> 'givenName') = 'string'
        THEN data -> 'name' ->> 'givenName' END,
    family_name = CASE WHEN jsonb_typeof(data -> 'name' -> 'familyName') = 'string'
        THEN data -> 'name' ->> 'familyName' END
WHERE resource_type = 'User';
UPDATE resources SET
    given_name_folded = scim_fold(given_name),
    family_name_folded = scim_fold(family_name)
WHERE resource_type = 'User' AND (given_name IS NOT NULL OR family_name IS NOT NULL);
CREATE INDEX resources_given_name ON resources (tenant_id, resource_type, given_name_folded);
CREATE INDEX resources_family_name ON resources (tenant_id, resource_type, family_name_folded);
