-- Keep in step with ../../postgres.
-- resources.data as SQLite JSONB (3.45+): json_type / ->> on a filter's or a
-- sort key's path walk the binary form instead of parsing the text on every row.
-- Written with jsonb(?) and read back with json(data) (sql.rs, Dialect).
UPDATE resources SET data = jsonb(data);
