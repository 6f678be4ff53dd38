-- How each issuer's purpose keys come from its data secret. Issuers created before this
-- migration keep the derivation their stored subject references and sealed claims were made
-- with ('sha256-label'); new issuers use HKDF-SHA256 and HMAC-SHA256 ('hkdf-sha256').
ALTER TABLE issuer_issuers ADD COLUMN key_derivation TEXT NOT NULL DEFAULT 'sha256-label';
