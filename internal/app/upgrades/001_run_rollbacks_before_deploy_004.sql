-- Deployments a release run took back before deployments recorded a
-- failure (deploy migration 004). The binaries before recorded only the
-- rollback, a deploy_events row whose detail is exactly "from deployment
-- X to Y" by the run's actor, as the run's rollback step made it (since
-- 004 the detail goes on to say why, and the failure is recorded with
-- it). X is recorded failed now, as a run records one since: otherwise a
-- plain rollback after the upgrade returned to the release its run had
-- taken back, and 'phoenix deployments' did not show it failed. X is the
-- run's deployment (deployments.run, deploy 010), the run failed (its
-- pipeline.run.failed in the audit log) and its actor rolled X back
-- before that record, as the run's last steps do; a rollback someone
-- asked for after the run had failed leaves X as it is. The failure
-- names the run (its log names the failed step). Both times are stored
-- with nine fraction digits (audit; deploy 011), so they compare as text.
-- This spans the deploy, pipeline and audit domains, hence the app's
-- upgrade domain, migrated after them all.
UPDATE deployments SET failure = 'release run ' || run || ' failed',
  failed_at = (SELECT MIN(ev.at) FROM deploy_events ev, audit_log a WHERE ev.project = deployments.project
    AND ev.environment = deployments.environment AND ev.action = 'rollback' AND ev.actor = deployments.actor
    AND ev.detail = 'from deployment ' || deployments.id || ' to ' || ev.deployment
    AND a.action = 'pipeline.run.failed' AND a.target = deployments.project || '/run/' || deployments.run AND ev.at <= a.at)
WHERE failure = '' AND run <> '' AND EXISTS (SELECT 1 FROM deploy_events ev, audit_log a WHERE ev.project = deployments.project
    AND ev.environment = deployments.environment AND ev.action = 'rollback' AND ev.actor = deployments.actor
    AND ev.detail = 'from deployment ' || deployments.id || ' to ' || ev.deployment
    AND a.action = 'pipeline.run.failed' AND a.target = deployments.project || '/run/' || deployments.run AND ev.at <= a.at);
