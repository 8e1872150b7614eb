-- What the failed verification measured (error rate, p95, failed checks),
-- as JSON [{name, value}], so an alert sent late says what the one sent
-- on time would have. Rows from before this column have ''.
ALTER TABLE deploy_owed_alerts ADD COLUMN facts TEXT NOT NULL DEFAULT '';
