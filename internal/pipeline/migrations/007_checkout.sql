-- 1 when the run builds in a clean checkout of its commit made in its own
-- folder (checkout.go), 0 when it works in the project folder as it is
-- (--in-place, a folder outside git, a promotion, a run from before).
ALTER TABLE pipeline_runs ADD COLUMN checkout INTEGER NOT NULL DEFAULT 0;
