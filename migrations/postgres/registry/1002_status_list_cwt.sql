-- A status list's CWT form (application/statuslist+cwt, base64url), when its issuer published one
-- beside the statuslist+jwt: what an mdoc's status reference serves to a CBOR verifier.
ALTER TABLE registry_status_lists ADD COLUMN cwt TEXT;
