-- Notifications domain: the delivery log. One row per (channel, message);
-- pending rows are retried with exponential backoff until sent, refused
-- for good, or too old. Times are Unix milliseconds.
CREATE TABLE notify_deliveries (
  id          INTEGER PRIMARY KEY,
  channel     TEXT NOT NULL,
  message_id  TEXT NOT NULL,
  event       TEXT NOT NULL DEFAULT '',
  severity    INTEGER NOT NULL DEFAULT 4,
  title       TEXT NOT NULL DEFAULT '',
  payload     TEXT NOT NULL,
  state       TEXT NOT NULL DEFAULT 'pending',
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  sent_at     INTEGER,
  last_error  TEXT NOT NULL DEFAULT '',
  UNIQUE (channel, message_id)
);

CREATE INDEX notify_deliveries_due ON notify_deliveries (state, next_at);
