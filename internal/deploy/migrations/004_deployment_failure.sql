-- Why a deployment was taken back automatically (it failed verification:
-- the failed checks, e.g. "health-check/production") and when; empty for
-- every other deployment. A plain rollback never returns to such a
-- deployment and a rollback naming it is refused.
ALTER TABLE deployments ADD COLUMN failure TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN failed_at TEXT NOT NULL DEFAULT '';
