-- The registry's append-only log (SQLite). Versions 1000-1999 belong to the registry.
CREATE TABLE registry_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL,
    last_ts BIGINT NOT NULL
);
INSERT INTO registry_head (id, size, last_ts) VALUES (1, 0, 0);

-- One row per leaf; `entry` is the JWS exactly as submitted.
CREATE TABLE registry_entries (
    idx BIGINT PRIMARY KEY,
    ts BIGINT NOT NULL,
    leaf_hash BLOB NOT NULL,
    entry_hash BLOB NOT NULL UNIQUE,
    entry TEXT NOT NULL,
    op TEXT NOT NULL,
    subject TEXT NOT NULL
);
CREATE INDEX registry_entries_leaf_hash ON registry_entries (leaf_hash);
CREATE INDEX registry_entries_subject ON registry_entries (subject, idx);
CREATE INDEX registry_entries_op ON registry_entries (op, idx);

-- Hashes of perfect subtrees: (level, idx) covers leaves idx*2^level .. (idx+1)*2^level.
CREATE TABLE registry_nodes (
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed checkpoints, and the witness cosignature lines collected for them.
CREATE TABLE registry_checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE registry_cosignatures (
    size BIGINT NOT NULL,
    witness TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (size, witness)
);

-- Latest version of each status list (a projection of status.publish entries).
CREATE TABLE registry_status_lists (
    list_id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    uri TEXT NOT NULL,
    version BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    token TEXT NOT NULL
);

-- Signing keys, sealed under the operator's passphrase.
CREATE TABLE registry_keys (
    name TEXT PRIMARY KEY,
    sealed TEXT NOT NULL
);

-- Witness mode: the latest checkpoint cosigned per log.
CREATE TABLE witness_logs (
    origin TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    root BLOB NOT NULL,
    updated_at BIGINT NOT NULL
);
