-- Auth domain: users, their role grants, identities from outside
-- providers, API and deploy tokens (hashed), and dashboard sessions.
CREATE TABLE auth_users (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  name       TEXT NOT NULL UNIQUE,
  password   TEXT NOT NULL DEFAULT '',
  disabled   INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);

CREATE TABLE auth_grants (
  user_id     INTEGER NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
  role        TEXT NOT NULL,
  project     TEXT NOT NULL DEFAULT '',
  environment TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (user_id, role, project, environment)
);

CREATE TABLE auth_identities (
  provider TEXT NOT NULL,
  subject  TEXT NOT NULL,
  user_id  INTEGER NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
  PRIMARY KEY (provider, subject)
);

CREATE TABLE auth_tokens (
  id           TEXT PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
  name         TEXT NOT NULL DEFAULT '',
  kind         TEXT NOT NULL,
  hash         TEXT NOT NULL,
  scopes       TEXT NOT NULL DEFAULT '',
  project      TEXT NOT NULL DEFAULT '',
  environment  TEXT NOT NULL DEFAULT '',
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL DEFAULT '',
  revoked_at   TEXT NOT NULL DEFAULT '',
  last_used_at TEXT NOT NULL DEFAULT ''
);

CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

CREATE TABLE auth_sessions (
  id         TEXT PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
