-- Keep in step with ../../sqlite. PostgreSQL has kept resources.data as jsonb
-- from the start: nothing to do.
SELECT 1;
