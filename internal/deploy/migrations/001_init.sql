-- Deployments domain: projects, environments, artifacts, uploads in flight,
-- deployments and the active pointer of each environment.
CREATE TABLE projects (
  name       TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);

CREATE TABLE artifacts (
  digest     TEXT PRIMARY KEY,
  project    TEXT NOT NULL REFERENCES projects(name),
  release    TEXT NOT NULL DEFAULT '',
  manifest   BLOB NOT NULL,
  signature  BLOB NOT NULL,
  key_id     TEXT NOT NULL,
  files      INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE environments (
  project     TEXT NOT NULL REFERENCES projects(name),
  name        TEXT NOT NULL,
  kind        TEXT NOT NULL DEFAULT 'standard',
  locked      INTEGER NOT NULL DEFAULT 0,
  approvals   INTEGER NOT NULL DEFAULT 0,
  domains     TEXT NOT NULL DEFAULT '',
  active_id   INTEGER,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (project, name)
);

CREATE TABLE deployments (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  project      TEXT NOT NULL,
  environment  TEXT NOT NULL,
  artifact     TEXT NOT NULL REFERENCES artifacts(digest),
  actor        TEXT NOT NULL DEFAULT '',
  message      TEXT NOT NULL DEFAULT '',
  rollback_of  INTEGER,
  created_at   TEXT NOT NULL,
  FOREIGN KEY (project, environment) REFERENCES environments(project, name)
);

CREATE INDEX deployments_env ON deployments (project, environment, id);

CREATE TABLE uploads (
  id         TEXT PRIMARY KEY,
  project    TEXT NOT NULL REFERENCES projects(name),
  manifest   BLOB NOT NULL,
  digest     TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

CREATE TABLE deploy_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  project     TEXT NOT NULL,
  environment TEXT NOT NULL,
  action      TEXT NOT NULL,
  deployment  INTEGER,
  actor       TEXT NOT NULL DEFAULT '',
  detail      TEXT NOT NULL DEFAULT '',
  at          TEXT NOT NULL
);
