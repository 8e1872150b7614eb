-- A scheduled rotation that keeps failing is tried again after a growing
-- wait rather than at every tick of the scheduler: how many scheduled
-- tries have failed in a row, and the earliest time of the next one
-- (empty: as soon as it is due). A successful rotation, or a new policy,
-- clears both. Kept in the database, so a restart does not start over.
ALTER TABLE vault_secrets ADD COLUMN rotation_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vault_secrets ADD COLUMN rotation_retry_at TEXT NOT NULL DEFAULT '';
