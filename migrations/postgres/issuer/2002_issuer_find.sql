-- Finding credentials from the command line (`dojang issuer list`, revoking by offer id): the
-- offer a credential was issued from, and credentials by issuance date.
CREATE INDEX issuer_offers_credential ON issuer_offers (credential_id);
CREATE INDEX issuer_credentials_issued ON issuer_credentials (issuer, issued_at);
