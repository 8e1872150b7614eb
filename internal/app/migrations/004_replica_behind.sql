-- The environments whose active deployment the replica's edge does not
-- serve (it cannot fetch the release's blobs, or has not yet), and since
-- when: JSON, edge name -> unix ms. The built-in replica-down alert waits
-- two polls.
ALTER TABLE replicas ADD COLUMN behind TEXT NOT NULL DEFAULT '{}';
