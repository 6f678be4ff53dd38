//! Issuing a compact credential.

use super::cbor::Value;
use super::token::{self, Digest, Disclosure, Sign1, Signed};
use super::{CompactError, MAX_DISCLOSURES, SALT_LEN, TYP_CREDENTIAL};
use crate::key::Signer;
use crate::sd_jwt::vc::{REGISTERED, SdJwtVcDraft};

/// Signs `draft` as a compact credential with `signer`, naming the key `kid` (a DID URL
/// fragment such as `key-1`, or a whole DID URL). Returns the credential's bytes, every
/// disclosure included.
///
/// The draft is the one an SD-JWT VC is made from, so both formats carry the same claims. The
/// compact profile conceals top-level claims only, and needs a holder key: a QR presentation
/// is always holder-bound.
pub fn issue(
    draft: &SdJwtVcDraft,
    signer: &dyn Signer,
    kid: &str,
) -> Result<Vec<u8>, CompactError> {
    let unissuable = |reason: String| CompactError::Unissuable { reason };
    let holder_key = draft
        .holder_key
        .as_ref()
        .ok_or_else(|| unissuable("a compact credential must be bound to a holder key".into()))?;
    let mut concealed = Vec::with_capacity(draft.disclosable.len());
    for path in &draft.disclosable {
        match path.tokens() {
            [name] => concealed.push(name.as_str()),
            _ => {
                return Err(unissuable(format!(
                    "only top-level claims can be concealed, not {path}"
                )));
            }
        }
    }
    if concealed.len() > MAX_DISCLOSURES {
        return Err(unissuable(format!(
            "more than {MAX_DISCLOSURES} concealed claims"
        )));
    }

    let mut claims = vec![
        (Value::int(token::ISS), Value::Text(&draft.issuer)),
        (Value::int(token::IAT), Value::int(draft.issued_at)),
    ];
    // `nbf` equal to `iat` says nothing `iat` does not; it is left out to save bytes.
    if let Some(nbf) = draft.valid_from.filter(|&nbf| nbf != draft.issued_at) {
        claims.push((Value::int(token::NBF), Value::int(nbf)));
    }
    if let Some(exp) = draft.valid_until {
        claims.push((Value::int(token::EXP), Value::int(exp)));
    }
    claims.push((
        Value::int(token::CNF),
        Value::Map(vec![(Value::int(1), token::cose_key(holder_key))]),
    ));
    claims.push((Value::int(token::VCT), Value::Text(&draft.vct)));
    if let Some(status) = &draft.status {
        claims.push((Value::int(token::STATUS), token::status_value(status)));
    }

    let mut disclosures = Vec::with_capacity(concealed.len());
    for (name, value) in &draft.claims {
        if REGISTERED.contains(&name.as_str()) {
            return Err(unissuable(format!("`{name}` is a registered claim name")));
        }
        if concealed.contains(&name.as_str()) {
            let mut salt = [0u8; SALT_LEN];
            aws_lc_rs::rand::fill(&mut salt)
                .map_err(|_| unissuable("the random generator failed".into()))?;
            disclosures.push(Disclosure::new(&salt, name, value));
        } else {
            claims.push((Value::Text(name), super::cbor::from_json(value)));
        }
    }
    if disclosures.len() != concealed.len() {
        return Err(unissuable("a claim to conceal is not in the claims".into()));
    }
    // Sorted, so the order of the digests says nothing about which claim is which.
    let mut digests: Vec<Digest> = disclosures.iter().map(Disclosure::digest).collect();
    digests.sort_unstable();
    if !digests.is_empty() {
        claims.push((
            Value::Simple(token::REDACTED_CLAIM_KEYS),
            Value::Array(digests.iter().map(|d| Value::Bytes(d)).collect()),
        ));
    }

    let kid = kid.rsplit_once('#').map_or(kid, |(_, fragment)| fragment);
    let protected = Value::Map(vec![
        (
            Value::int(token::ALG),
            Value::int(signer.algorithm().cose_id()),
        ),
        (Value::int(token::KID), Value::Bytes(kid.as_bytes())),
        (Value::int(token::TYP), Value::int(TYP_CREDENTIAL)),
    ])
    .encode();
    let payload = Value::Map(claims).encode();
    let signature = signer.sign(&Sign1::to_be_signed(&protected, &payload))?;
    let unprotected = Value::Map(vec![(
        Value::int(token::SD_CLAIMS),
        Value::Array(disclosures.iter().map(|d| Value::Bytes(&d.bytes)).collect()),
    )]);
    Ok(Signed {
        protected_bytes: protected,
        payload,
        signature,
    }
    .to_value(unprotected)
    .encode())
}
