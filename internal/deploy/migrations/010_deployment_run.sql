-- The pipeline run whose deploy step made a deployment (its id; empty for
-- every other deployment), recorded from the run itself, never from a
-- request. A run's deployment that the run health-checks has verification
-- 'run' until those checks pass ('passed'), fail (taken back: 'failed'),
-- or a newer deploy replaces it ('superseded'); promote_from counts it
-- only once passed (deploy/promote.go). Deployments made by runs before
-- this column named their run only in their message ("pipeline run 12"):
-- one with that message and no verification state is taken to be a run's
-- (the server verifies every other deployment since the message stopped
-- counting as proof of a run).
ALTER TABLE deployments ADD COLUMN run TEXT NOT NULL DEFAULT '';
UPDATE deployments SET run = substr(message, 14) WHERE verification = '' AND message LIKE 'pipeline run %';
