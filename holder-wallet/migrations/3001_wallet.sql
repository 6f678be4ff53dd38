-- The holder wallet (SQLite on the device). Versions 3000-3999 belong to the wallet.
--
-- Only random ids and times are in the clear: every key, credential and history entry is an
-- XChaCha20-Poly1305 blob under a key derived (Argon2id) from the app's secret, bound to its
-- table and id. The check value tells a wrong secret from a damaged file.

CREATE TABLE wallet_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    kdf TEXT NOT NULL,
    check_value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE wallet_keys (
    id TEXT PRIMARY KEY,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE wallet_credentials (
    id TEXT PRIMARY KEY,
    sealed TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TABLE wallet_history (
    id TEXT PRIMARY KEY,
    credential_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX wallet_history_credential ON wallet_history (credential_id);
