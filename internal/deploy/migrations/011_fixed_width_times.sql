-- Times are stored with all nine digits of the fraction
-- (2026-11-27T10:00:00.500000000Z), so that SQL compares and orders them
-- right as text: RFC3339Nano, written before, drops trailing zeros, and
-- 2026-11-27T10:00:00Z sorted after 2026-11-27T10:00:00.5Z ('Z' > '.').
-- This rewrites the times stored so: the seconds, a '.', the fraction's
-- digits padded with zeros to nine (none: nine zeros), 'Z'. Empty values
-- (no time) stay empty. Runs as written on SQLite and PostgreSQL.
UPDATE projects SET created_at = substr(created_at, 1, 19) || '.' || substr(replace(substr(created_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE created_at LIKE '____-__-__T__:__:__%Z' AND length(created_at) < 30;
UPDATE artifacts SET created_at = substr(created_at, 1, 19) || '.' || substr(replace(substr(created_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE created_at LIKE '____-__-__T__:__:__%Z' AND length(created_at) < 30;
UPDATE environments SET created_at = substr(created_at, 1, 19) || '.' || substr(replace(substr(created_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE created_at LIKE '____-__-__T__:__:__%Z' AND length(created_at) < 30;
UPDATE environments SET live_since = substr(live_since, 1, 19) || '.' || substr(replace(substr(live_since, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE live_since LIKE '____-__-__T__:__:__%Z' AND length(live_since) < 30;
UPDATE deployments SET created_at = substr(created_at, 1, 19) || '.' || substr(replace(substr(created_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE created_at LIKE '____-__-__T__:__:__%Z' AND length(created_at) < 30;
UPDATE deployments SET failed_at = substr(failed_at, 1, 19) || '.' || substr(replace(substr(failed_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE failed_at LIKE '____-__-__T__:__:__%Z' AND length(failed_at) < 30;
UPDATE deployments SET verification_at = substr(verification_at, 1, 19) || '.' || substr(replace(substr(verification_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE verification_at LIKE '____-__-__T__:__:__%Z' AND length(verification_at) < 30;
UPDATE uploads SET created_at = substr(created_at, 1, 19) || '.' || substr(replace(substr(created_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE created_at LIKE '____-__-__T__:__:__%Z' AND length(created_at) < 30;
UPDATE uploads SET expires_at = substr(expires_at, 1, 19) || '.' || substr(replace(substr(expires_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE expires_at LIKE '____-__-__T__:__:__%Z' AND length(expires_at) < 30;
UPDATE deploy_events SET at = substr(at, 1, 19) || '.' || substr(replace(substr(at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE at LIKE '____-__-__T__:__:__%Z' AND length(at) < 30;
UPDATE deploy_owed_alerts SET at = substr(at, 1, 19) || '.' || substr(replace(substr(at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE at LIKE '____-__-__T__:__:__%Z' AND length(at) < 30;
