-- Monitoring domain. Times are Unix milliseconds.
-- monitor_points holds every metric as aggregates: res 0 is raw (kept 48 h),
-- 60 one-minute rollups (30 days), 3600 one-hour rollups (400 days). A
-- probe result is n=1, good=1 or 0, sum=min=max=latency ms; an edge
-- interval is n=requests, good=requests without a 5xx, sum=total latency ms.
CREATE TABLE monitor_points (
  series TEXT NOT NULL,
  res    INTEGER NOT NULL,
  ts     INTEGER NOT NULL,
  n      INTEGER NOT NULL,
  good   INTEGER NOT NULL,
  sum    REAL NOT NULL,
  min    REAL NOT NULL,
  max    REAL NOT NULL,
  PRIMARY KEY (series, res, ts)
);

CREATE INDEX monitor_points_res_ts ON monitor_points (res, ts);

-- The latest result of each probe, for status.
CREATE TABLE monitor_last (
  target      TEXT PRIMARY KEY,
  environment TEXT NOT NULL,
  name        TEXT NOT NULL,
  at          INTEGER NOT NULL,
  success     INTEGER NOT NULL,
  result      TEXT NOT NULL
);

-- Current state of each alert instance (rule x environment).
CREATE TABLE monitor_alerts (
  rule          TEXT NOT NULL,
  environment   TEXT NOT NULL,
  state         TEXT NOT NULL,
  severity      INTEGER NOT NULL,
  since         INTEGER NOT NULL,
  value         REAL NOT NULL,
  threshold     TEXT NOT NULL,
  fails         INTEGER NOT NULL DEFAULT 0,
  oks           INTEGER NOT NULL DEFAULT 0,
  last_notified INTEGER NOT NULL DEFAULT 0,
  summary       TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (rule, environment)
);

-- Every state change.
CREATE TABLE monitor_alert_history (
  id          INTEGER PRIMARY KEY,
  rule        TEXT NOT NULL,
  environment TEXT NOT NULL,
  state       TEXT NOT NULL,
  severity    INTEGER NOT NULL,
  value       REAL NOT NULL,
  threshold   TEXT NOT NULL,
  at          INTEGER NOT NULL,
  silenced    INTEGER NOT NULL DEFAULT 0,
  summary     TEXT NOT NULL DEFAULT ''
);

CREATE INDEX monitor_alert_history_at ON monitor_alert_history (at);

-- Silences and maintenance windows: notifications for matching alerts are
-- held back between starts and ends.
CREATE TABLE monitor_silences (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL,
  rule        TEXT NOT NULL DEFAULT '',
  environment TEXT NOT NULL DEFAULT '',
  starts      INTEGER NOT NULL,
  ends        INTEGER NOT NULL,
  comment     TEXT NOT NULL DEFAULT '',
  created_by  TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL
);
