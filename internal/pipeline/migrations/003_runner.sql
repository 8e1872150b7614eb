-- The API address of the server that executes (executed) the run, for the
-- servers sharing the database to read its logs from (replicas.go).
ALTER TABLE pipeline_runs ADD COLUMN runner TEXT NOT NULL DEFAULT '';
