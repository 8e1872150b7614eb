-- A scheduled rotation that keeps failing: when the failure streak began
-- (its first failure; empty while rotations succeed) and the most urgent
-- notice sent about it ('error', or 'critical' once the secret expires
-- within a day), so that its audit record and notice go out once per
-- streak rather than at every retry. A successful rotation, or a new
-- policy, ends the streak.
ALTER TABLE vault_secrets ADD COLUMN rotation_failing_since TEXT NOT NULL DEFAULT '';
ALTER TABLE vault_secrets ADD COLUMN rotation_failure_notice TEXT NOT NULL DEFAULT '';
