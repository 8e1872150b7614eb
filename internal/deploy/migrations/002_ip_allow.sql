-- Client address ranges allowed into an environment (comma-separated CIDR
-- prefixes); empty allows everyone.
ALTER TABLE environments ADD COLUMN ip_allow TEXT NOT NULL DEFAULT '';
