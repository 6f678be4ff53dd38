-- The issuer service (SQLite). Versions 2000-2999 belong to the issuer.

-- Issuers hosted by this service. The signing key and the data secret (from which the
-- subject-reference pepper and the offer-claims key are derived) are sealed under the
-- operator passphrase.
CREATE TABLE issuer_issuers (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    did TEXT NOT NULL UNIQUE,
    sealed_key TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Operator API tokens: only a SHA-256 of each token is kept.
CREATE TABLE issuer_operators (
    id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL REFERENCES issuer_issuers (slug),
    name TEXT NOT NULL,
    types TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    expires_at BIGINT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Credential offers waiting to be redeemed. Claims are sealed, and dropped once the credential
-- was issued in every format on offer (bits of issued_formats: 1 SD-JWT VC, 2 compact QR) or the
-- wallet's access could no longer ask for the rest.
CREATE TABLE issuer_offers (
    id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL REFERENCES issuer_issuers (slug),
    type TEXT NOT NULL,
    claims_sealed TEXT,
    subject_ref TEXT,
    code_hash BLOB NOT NULL UNIQUE,
    tx_code_hash BLOB,
    tx_attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    operator TEXT NOT NULL,
    idempotency_key TEXT,
    credential_id TEXT,
    issued_formats BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (issuer, idempotency_key)
);

-- Used c_nonce values. Nonces and access tokens are stateless (MAC-protected, expiring); a
-- nonce is recorded here when a key proof uses it, so it works once.
CREATE TABLE issuer_used_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- Status lists: one Token Status List (2 bits/entry) per row, published to the registry.
CREATE TABLE issuer_status_lists (
    list_id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL REFERENCES issuer_issuers (slug),
    capacity BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- What revocation needs, and no more: no claims unless the service is configured to keep them.
CREATE TABLE issuer_credentials (
    id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL REFERENCES issuer_issuers (slug),
    type TEXT NOT NULL,
    list_id TEXT NOT NULL REFERENCES issuer_status_lists (list_id),
    status_index BIGINT NOT NULL,
    status TEXT NOT NULL,
    subject_ref TEXT,
    claims_sealed TEXT,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT,
    UNIQUE (list_id, status_index)
);
CREATE INDEX issuer_credentials_subject ON issuer_credentials (issuer, subject_ref);

-- Audit trail: every issuance and status change, anchored in the registry as counts.
CREATE TABLE issuer_audit (
    id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    operator TEXT NOT NULL,
    action TEXT NOT NULL,
    type TEXT NOT NULL,
    credential_id TEXT,
    reason TEXT,
    at BIGINT NOT NULL,
    anchored_index BIGINT
);
CREATE INDEX issuer_audit_unanchored ON issuer_audit (issuer, anchored_index);
