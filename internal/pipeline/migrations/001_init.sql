-- Pipeline domain: runs, their steps, approvals, cron ticks and the
-- projects whose workflows are registered.
CREATE TABLE pipeline_runs (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  project      TEXT NOT NULL,
  kind         TEXT NOT NULL,
  workflow     TEXT NOT NULL DEFAULT '',
  version      TEXT NOT NULL DEFAULT '',
  environments TEXT NOT NULL DEFAULT '',
  commit_sha   TEXT NOT NULL DEFAULT '',
  actor        TEXT NOT NULL DEFAULT '',
  trigger_kind TEXT NOT NULL DEFAULT '',
  dir          TEXT NOT NULL,
  plan         TEXT NOT NULL,
  inputs       TEXT NOT NULL DEFAULT '{}',
  status       TEXT NOT NULL,
  message      TEXT NOT NULL DEFAULT '',
  retry_of     INTEGER,
  queue_keys   TEXT NOT NULL DEFAULT '',
  created_at   TEXT NOT NULL,
  started_at   TEXT NOT NULL DEFAULT '',
  finished_at  TEXT NOT NULL DEFAULT ''
);

CREATE INDEX pipeline_runs_status ON pipeline_runs (status, id);
CREATE INDEX pipeline_runs_project ON pipeline_runs (project, id);

CREATE TABLE pipeline_steps (
  run_id      INTEGER NOT NULL REFERENCES pipeline_runs(id),
  step        TEXT NOT NULL,
  position    INTEGER NOT NULL,
  status      TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  exit_code   INTEGER NOT NULL DEFAULT 0,
  error       TEXT NOT NULL DEFAULT '',
  outputs     TEXT NOT NULL DEFAULT '{}',
  log_bytes   INTEGER NOT NULL DEFAULT 0,
  started_at  TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, step)
);

CREATE TABLE pipeline_approvals (
  run_id      INTEGER NOT NULL REFERENCES pipeline_runs(id),
  environment TEXT NOT NULL,
  actor       TEXT NOT NULL,
  decision    TEXT NOT NULL,
  comment     TEXT NOT NULL DEFAULT '',
  at          TEXT NOT NULL,
  PRIMARY KEY (run_id, environment, actor)
);

CREATE TABLE pipeline_ticks (
  key  TEXT PRIMARY KEY,
  last TEXT NOT NULL
);

CREATE TABLE pipeline_projects (
  name       TEXT PRIMARY KEY,
  dir        TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
