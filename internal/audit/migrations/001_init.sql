-- Audit domain: the append-only, hash-chained log and its signed checkpoints.
CREATE TABLE audit_log (
  seq        INTEGER PRIMARY KEY,
  at         TEXT NOT NULL,
  actor      TEXT NOT NULL DEFAULT '',
  auth       TEXT NOT NULL DEFAULT '',
  action     TEXT NOT NULL,
  target     TEXT NOT NULL DEFAULT '',
  source     TEXT NOT NULL DEFAULT '',
  request_id TEXT NOT NULL DEFAULT '',
  outcome    TEXT NOT NULL,
  detail     TEXT NOT NULL DEFAULT '',
  prev       TEXT NOT NULL,
  hash       TEXT NOT NULL
);

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE TABLE audit_checkpoints (
  seq  INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  note TEXT NOT NULL,
  at   TEXT NOT NULL
);
