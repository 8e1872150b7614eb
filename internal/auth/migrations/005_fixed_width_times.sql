-- Times are stored with all nine digits of the fraction
-- (2026-11-27T10:00:00.500000000Z), so that SQL compares and orders them
-- right as text: RFC3339Nano, written before, drops trailing zeros, and
-- 2026-11-27T10:00:00Z sorted after 2026-11-27T10:00:00.5Z ('Z' > '.').
-- This rewrites the times stored so: the seconds, a '.', the fraction's
-- digits padded with zeros to nine (none: nine zeros), 'Z'. Empty values
-- (no time) stay empty. Runs as written on SQLite and PostgreSQL.
UPDATE auth_users SET created_at = substr(created_at, 1, 19) || '.' || substr(replace(substr(created_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE created_at LIKE '____-__-__T__:__:__%Z' AND length(created_at) < 30;
UPDATE auth_tokens SET created_at = substr(created_at, 1, 19) || '.' || substr(replace(substr(created_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE created_at LIKE '____-__-__T__:__:__%Z' AND length(created_at) < 30;
UPDATE auth_tokens SET expires_at = substr(expires_at, 1, 19) || '.' || substr(replace(substr(expires_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE expires_at LIKE '____-__-__T__:__:__%Z' AND length(expires_at) < 30;
UPDATE auth_tokens SET revoked_at = substr(revoked_at, 1, 19) || '.' || substr(replace(substr(revoked_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE revoked_at LIKE '____-__-__T__:__:__%Z' AND length(revoked_at) < 30;
UPDATE auth_tokens SET last_used_at = substr(last_used_at, 1, 19) || '.' || substr(replace(substr(last_used_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE last_used_at LIKE '____-__-__T__:__:__%Z' AND length(last_used_at) < 30;
UPDATE auth_sessions SET created_at = substr(created_at, 1, 19) || '.' || substr(replace(substr(created_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE created_at LIKE '____-__-__T__:__:__%Z' AND length(created_at) < 30;
UPDATE auth_sessions SET expires_at = substr(expires_at, 1, 19) || '.' || substr(replace(substr(expires_at, 21), 'Z', '') || '000000000', 1, 9) || 'Z'
  WHERE expires_at LIKE '____-__-__T__:__:__%Z' AND length(expires_at) < 30;
