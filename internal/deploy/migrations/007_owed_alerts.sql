-- The alert each automatic rollback owes its channels (deploy.rolled_back),
-- recorded in the rollback's transaction and deleted once the alert is in
-- the notifications' delivery log: a row left behind means the server
-- stopped or crashed in between, and the next start (with replicas, the
-- leader) sends it. failed is the deployment taken back, restored the one
-- the rollback made active, reason why verification failed, at when the
-- rollback committed.
CREATE TABLE deploy_owed_alerts (
  failed      INTEGER NOT NULL PRIMARY KEY,
  project     TEXT NOT NULL,
  environment TEXT NOT NULL,
  restored    INTEGER NOT NULL,
  reason      TEXT NOT NULL DEFAULT '',
  at          TEXT NOT NULL
);
