DROP FUNCTION scim_fold(text);
DROP TABLE events;
DROP TABLE group_members;
DROP TABLE resource_emails;
DROP TABLE resource_counts;
DROP TABLE resources;
DROP TABLE tokens;
DROP TABLE tenants;
