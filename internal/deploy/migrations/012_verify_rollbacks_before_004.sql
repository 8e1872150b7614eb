-- Deployments the server's verification took back before deployments
-- recorded a failure (004): the binaries before recorded only the
-- rollback, a deploy_events row of the actor phoenix-verify whose detail
-- is exactly "from deployment X to Y" (since 004 it goes on to say why,
-- and the failure is recorded with it). Such a deployment X is recorded
-- failed verification now, at the time of that rollback, as the server
-- records one since: otherwise a plain rollback after the upgrade
-- returned to the release the server had taken back, and
-- 'phoenix deployments' did not show it failed.
-- The index lets each deployment's lookup read only its environment's
-- rollbacks by that actor (without it a store of 20,000 deployments and
-- 40,000 events took minutes at the start of the upgrade); the upgrade
-- domain's 001 reads rollbacks the same way.
CREATE INDEX IF NOT EXISTS deploy_events_action ON deploy_events (action, actor, project, environment);
UPDATE deployments SET failure = 'verification',
  failed_at = (SELECT MIN(ev.at) FROM deploy_events ev WHERE ev.project = deployments.project AND ev.environment = deployments.environment
    AND ev.action = 'rollback' AND ev.actor = 'phoenix-verify' AND ev.detail = 'from deployment ' || deployments.id || ' to ' || ev.deployment),
  verification_at = CASE WHEN verification = '' THEN (SELECT MIN(ev.at) FROM deploy_events ev WHERE ev.project = deployments.project
    AND ev.environment = deployments.environment AND ev.action = 'rollback' AND ev.actor = 'phoenix-verify'
    AND ev.detail = 'from deployment ' || deployments.id || ' to ' || ev.deployment) ELSE verification_at END,
  verification = CASE WHEN verification = '' THEN 'failed' ELSE verification END
WHERE failure = '' AND EXISTS (SELECT 1 FROM deploy_events ev WHERE ev.project = deployments.project AND ev.environment = deployments.environment
    AND ev.action = 'rollback' AND ev.actor = 'phoenix-verify' AND ev.detail = 'from deployment ' || deployments.id || ' to ' || ev.deployment);
