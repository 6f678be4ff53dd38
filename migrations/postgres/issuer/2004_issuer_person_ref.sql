-- A citizen is found by a card or document number (`subject_ref`) or by name and birth date
-- (`person_ref`): offers of a type whose descriptor names those claims (`find_by`) keep both,
-- each only as a keyed hash.
ALTER TABLE issuer_offers ADD COLUMN person_ref TEXT;
CREATE INDEX issuer_offers_person ON issuer_offers (issuer, person_ref);
