-- A cancel asked on a server that is not executing the run: the executing
-- server (the leader) reads it and cancels the run (replicas.go).
ALTER TABLE pipeline_runs ADD COLUMN cancel_by TEXT NOT NULL DEFAULT '';
