-- The environment an environment promotes from (phoenix.yaml's
-- environments.ENV.promote_from): a deployment here is refused unless its
-- artifact has a deployment there that ran (deploy/promote.go); empty
-- means any artifact may be deployed.
ALTER TABLE environments ADD COLUMN promote_from TEXT NOT NULL DEFAULT '';
