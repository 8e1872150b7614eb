-- A project's edge policy: the `edge:` section of its phoenix.yaml (header
-- rules, rate limit, firewall) as canonical JSON; empty means none.
ALTER TABLE projects ADD COLUMN edge_policy TEXT NOT NULL DEFAULT '';
