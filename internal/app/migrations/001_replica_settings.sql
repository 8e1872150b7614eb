-- What the servers sharing a database must agree on and is no secret: the
-- blob store owner id, the audit log's verifier key (replicas.go).
CREATE TABLE replica_settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
