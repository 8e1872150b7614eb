-- The names (never the values) of the secrets an action fetched itself
-- through action.Context.Secret (fetch-secrets, dns/update), so a run
-- resumed after a restart or on another server sharing the database
-- resolves them again and keeps masking them (resume.go). A table of its
-- own, not the step's outputs: outputs are shown to users and handed to
-- later steps, and these names are only the engine's bookkeeping.
CREATE TABLE pipeline_step_secrets (
  run_id  INTEGER NOT NULL REFERENCES pipeline_runs(id),
  step    TEXT NOT NULL,
  name    TEXT NOT NULL,
  PRIMARY KEY (run_id, step, name)
);
