-- The write probe of the server's health check (storehealth.go): one row
-- rewritten every few seconds, so that /api/v1/health and the built-in
-- store-write-failing alert see a store that cannot commit.
CREATE TABLE store_health (
  id        INTEGER PRIMARY KEY,
  probed_at INTEGER NOT NULL
);
