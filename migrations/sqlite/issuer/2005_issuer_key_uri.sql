-- An issuer whose signing key stays in an HSM: its PKCS#11 URI (RFC 7512; never a PIN), and
-- an empty sealed_key.
ALTER TABLE issuer_issuers ADD COLUMN key_uri TEXT;
