-- When the replica's own edge started failing its self-check (unix ms), 0
-- while it answers: the built-in replica-down alert waits two polls.
ALTER TABLE replicas ADD COLUMN edge_failing INTEGER NOT NULL DEFAULT 0;
