-- Key rotation: the fragment of the signing key's verification method in the issuer's DID
-- document (`key-1`, then `key-2`, …), and the public keys it used before (multikey, a JSON
-- array), which still verify the status lists they signed.
ALTER TABLE issuer_issuers ADD COLUMN key_id TEXT NOT NULL DEFAULT 'key-1';
ALTER TABLE issuer_issuers ADD COLUMN retired_keys TEXT NOT NULL DEFAULT '[]';
