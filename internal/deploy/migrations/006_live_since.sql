-- When each environment's active deployment went live: the time of the
-- activation that made it active (a deploy, or a rollback to it), set in
-- the transaction that moves active_id. A deployment's created_at stays
-- when it was first deployed, so after a rollback the two differ.
-- Environments older than this column take it from their newest
-- deploy_events row that activated the active deployment, else from the
-- deployment's creation.
ALTER TABLE environments ADD COLUMN live_since TEXT NOT NULL DEFAULT '';
UPDATE environments SET live_since = COALESCE(
  (SELECT ev.at FROM deploy_events ev WHERE ev.project = environments.project AND ev.environment = environments.name
    AND ev.deployment = environments.active_id AND ev.action IN ('deploy', 'rollback') ORDER BY ev.id DESC LIMIT 1),
  (SELECT d.created_at FROM deployments d WHERE d.id = environments.active_id),
  '')
WHERE active_id IS NOT NULL;
