-- Where the server's own verification of a deployment stands: 'pending'
-- from the activation's transaction until a verdict, 'passed', 'failed',
-- or 'superseded' (a newer deploy or a rollback replaced it before a
-- verdict); empty for a deployment the server does not verify (a pipeline
-- run verifies its own) and for every deployment older than this column.
-- verification_at is when the pending verification began (or was taken
-- over at a start), else when it ended. An active deployment still
-- 'pending' at a server's start lost its verification to a stop or a
-- crash, and is verified again.
ALTER TABLE deployments ADD COLUMN verification TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN verification_at TEXT NOT NULL DEFAULT '';
