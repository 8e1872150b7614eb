-- The sign-in limits' token buckets when replicas share the database
-- (auth.Options.Replicas; logindb.go), so the limits hold for all of them
-- together. key is the SHA-256 (hex) of the limit's key (the client
-- address, the user name, both); tokens is what the bucket held at
-- updated_at (unix ns) for a limit of per_minute. A full bucket has no
-- row: one given back full is deleted, and so are rows untouched for two
-- minutes (full since one).
CREATE TABLE auth_login_buckets (
  key        TEXT PRIMARY KEY,
  tokens     REAL NOT NULL,
  per_minute INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX auth_login_buckets_updated_at ON auth_login_buckets (updated_at);
