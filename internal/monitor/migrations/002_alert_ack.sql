-- Acknowledgements: who is on an open alert, since when, and what they
-- said. Cleared when the alert starts a new episode (pending again after
-- it resolved or went inactive). ack_at is Unix milliseconds, 0 when none.
ALTER TABLE monitor_alerts ADD COLUMN ack_by TEXT NOT NULL DEFAULT '';
ALTER TABLE monitor_alerts ADD COLUMN ack_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE monitor_alerts ADD COLUMN ack_comment TEXT NOT NULL DEFAULT '';
