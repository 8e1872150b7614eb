-- A file in the run's files folder that a finished step's output names
-- (create-artifact's manifest), kept for a run that waits for an approval
-- and is resumed by another server sharing the database: that server's
-- files folder is its own (resume.go). Stored only with a Runner, as the
-- step logs are.
CREATE TABLE pipeline_step_files (
  run_id  INTEGER NOT NULL REFERENCES pipeline_runs(id),
  step    TEXT NOT NULL,
  output  TEXT NOT NULL,
  name    TEXT NOT NULL,
  data    BLOB NOT NULL,
  PRIMARY KEY (run_id, step, output)
);
