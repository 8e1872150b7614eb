-- Each replica's heartbeat (replica_telemetry.go): when it last published,
-- whether its own edge answers, what it serves; and its edge telemetry,
-- growing counters since its start (boot), one row per environment, for
-- the leader's monitor to merge.
CREATE TABLE replicas (
  replica    TEXT PRIMARY KEY, -- its advertised API URL
  boot       TEXT NOT NULL,    -- random, new at every start
  started    INTEGER NOT NULL, -- unix ms
  seen       INTEGER NOT NULL, -- unix ms of the last heartbeat
  stopped    INTEGER NOT NULL DEFAULT 0, -- unix ms of a clean stop, 0 while it runs
  leader     INTEGER NOT NULL DEFAULT 0,
  edge_ok    INTEGER NOT NULL DEFAULT 0,
  edge_error TEXT NOT NULL DEFAULT '',
  served     TEXT NOT NULL DEFAULT '{}' -- JSON: edge name -> deployment id it serves
);

CREATE TABLE replica_edges (
  replica     TEXT NOT NULL,
  environment TEXT NOT NULL, -- edge name, <env>.<project>
  boot        TEXT NOT NULL,
  started     INTEGER NOT NULL,
  at          INTEGER NOT NULL, -- unix ms of the figures
  stats       TEXT NOT NULL,    -- JSON edge.EnvStats
  PRIMARY KEY (replica, environment)
);
