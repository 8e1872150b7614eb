-- 1 while a deployment's pending verification is the check of a release
-- the server's own automatic rollback restored (Revert with an alert):
-- a failure of that check is alerted on and never rolled back again, so
-- a broken environment cannot loop. Kept in the database since the check
-- may be cut short by a stop or a crash and finished by the next start
-- (or another replica), which must know it too. Back to 0 with the
-- verdict, and when a plain rollback or an adoption makes the deployment
-- pending for another reason.
ALTER TABLE deployments ADD COLUMN verify_restored INTEGER NOT NULL DEFAULT 0;
