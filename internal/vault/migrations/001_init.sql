-- Vault domain: the key-derivation parameters and master-key check, secrets
-- (metadata only) and their versions (ciphertext and wrapped data keys).
-- No column ever holds a plaintext value or an unwrapped key.
CREATE TABLE vault_meta (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  vault_id     TEXT NOT NULL,
  kdf          TEXT NOT NULL,
  kdf_salt     BLOB NOT NULL,
  kdf_time     INTEGER NOT NULL,
  kdf_memory   INTEGER NOT NULL,
  kdf_threads  INTEGER NOT NULL,
  check_nonce  BLOB NOT NULL,
  check_ct     BLOB NOT NULL,
  created_at   TEXT NOT NULL
);

CREATE TABLE vault_secrets (
  name            TEXT PRIMARY KEY,
  kind            TEXT NOT NULL DEFAULT 'secret',
  production      INTEGER NOT NULL DEFAULT 0,
  tags            TEXT NOT NULL DEFAULT '{}',
  rotation        TEXT NOT NULL DEFAULT '',
  current_version INTEGER NOT NULL DEFAULT 0,
  rotated_at      TEXT NOT NULL DEFAULT '',
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  deleted_at      TEXT NOT NULL DEFAULT '',
  purge_after     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE vault_versions (
  name         TEXT NOT NULL REFERENCES vault_secrets(name) ON DELETE CASCADE,
  version      INTEGER NOT NULL,
  enabled      INTEGER NOT NULL DEFAULT 1,
  content_type TEXT NOT NULL DEFAULT '',
  not_before   TEXT NOT NULL DEFAULT '',
  expires_at   TEXT NOT NULL DEFAULT '',
  cert         TEXT NOT NULL DEFAULT '',
  key_nonce    BLOB NOT NULL,
  wrapped_key  BLOB NOT NULL,
  nonce        BLOB NOT NULL,
  ciphertext   BLOB NOT NULL,
  created_by   TEXT NOT NULL DEFAULT '',
  created_at   TEXT NOT NULL,
  PRIMARY KEY (name, version)
);
