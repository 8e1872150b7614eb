-- certmagic's storage: certificates, their private keys, ACME accounts and
-- challenge tokens, one row per key ("certificates/<ca>/<name>/<name>.key").
-- Every value is sealed (AES-256-GCM under a data key kept in the vault):
-- a format byte, the data key's version, the nonce and the ciphertext.
-- size is the plaintext's length; modified is Unix milliseconds.
CREATE TABLE certs_values (
    key      TEXT PRIMARY KEY,
    value    BLOB NOT NULL,
    size     INTEGER NOT NULL,
    modified INTEGER NOT NULL
);

-- certmagic's named locks, shared by every server on the database (one
-- server obtains a name's certificate while the others wait). A lock whose
-- holder stopped refreshing it is free again after expires (Unix ms).
CREATE TABLE certs_locks (
    name    TEXT PRIMARY KEY,
    owner   TEXT NOT NULL,
    expires INTEGER NOT NULL
);
