-- Each project's phoenix.yaml as the server last received it: from a
-- release when its run was accepted (kind release, its version and run)
-- or from 'phoenix deploy' (kind deploy). yaml is the file as written;
-- empty when it held a secret value (a release's), and dir is then the
-- run's folder the server reads it from. revision counts the saves, so
-- replicas see which projects changed.
CREATE TABLE project_configs (
  project    TEXT PRIMARY KEY,
  kind       TEXT NOT NULL,
  release    TEXT NOT NULL DEFAULT '',
  run_id     INTEGER NOT NULL DEFAULT 0,
  actor      TEXT NOT NULL DEFAULT '',
  yaml       TEXT NOT NULL DEFAULT '',
  dir        TEXT NOT NULL DEFAULT '',
  digest     TEXT NOT NULL,
  revision   INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
