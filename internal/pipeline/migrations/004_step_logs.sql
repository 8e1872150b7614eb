-- A finished step's log, gzip-compressed, as the step wrote it (secrets
-- already masked), for servers sharing the database to read once the
-- server that ran the step is gone (stored only with a Runner, replicas).
CREATE TABLE pipeline_step_logs (
  run_id  INTEGER NOT NULL REFERENCES pipeline_runs(id),
  step    TEXT NOT NULL,
  size    INTEGER NOT NULL,
  gz      BLOB NOT NULL,
  PRIMARY KEY (run_id, step)
);
