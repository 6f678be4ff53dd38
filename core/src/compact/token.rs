//! The COSE and CWT structures of the profile: COSE_Sign1, its protected header, the
//! credential's claims set, COSE keys, and salted disclosures.

use serde_json::{Map, Value as Json};

use super::cbor::{self, CborError, Item, JsonError, Kind, Value};
use super::{CompactError, DIGEST_LEN, MAX_DISCLOSURES, SALT_LEN};
use crate::key::{Algorithm, PublicKey};
use crate::status::StatusListReference;

// COSE header labels (RFC 9052, RFC 9596, RFC 9528, draft-ietf-spice-sd-cwt).
pub(crate) const ALG: i64 = 1;
pub(crate) const KID: i64 = 4;
pub(crate) const KCWT: i64 = 13;
pub(crate) const TYP: i64 = 16;
pub(crate) const SD_CLAIMS: i64 = 17;

// CWT claim keys (RFC 8392, RFC 8747, draft-ietf-spice-sd-cwt, draft-ietf-oauth-status-list).
pub(crate) const ISS: i64 = 1;
pub(crate) const AUD: i64 = 3;
pub(crate) const EXP: i64 = 4;
pub(crate) const NBF: i64 = 5;
pub(crate) const IAT: i64 = 6;
pub(crate) const CNF: i64 = 8;
pub(crate) const VCT: i64 = 11;
pub(crate) const CNONCE: i64 = 39;
pub(crate) const STATUS: i64 = 65535;
/// The simple value whose map entry lists the digests of redacted claims.
pub(crate) const REDACTED_CLAIM_KEYS: u8 = 59;
/// A disclosure digest: SHA-256 truncated to 128 bits (see `docs/qr-profile.md`).
pub(crate) type Digest = [u8; DIGEST_LEN];

/// `cnf` member holding a COSE key (RFC 8747).
const COSE_KEY: i64 = 1;

/// What a Sig_structure adds to its protected header and payload: 13 bytes of array head,
/// context and empty AAD, and at most 9 for each length.
pub(crate) const TO_BE_SIGNED_OVERHEAD: usize = 31;

/// A COSE_Sign1 as read: its parts borrow the bytes read, the protected header's exact bytes
/// kept for the signature.
pub(crate) struct Sign1<'a> {
    pub(crate) protected_bytes: &'a [u8],
    pub(crate) protected: Header<'a>,
    pub(crate) unprotected: Item<'a>,
    pub(crate) payload: &'a [u8],
    pub(crate) signature: &'a [u8],
}

/// The protected header parameters of the profile, read in one pass.
pub(crate) struct Header<'a> {
    pub(crate) alg: Option<i64>,
    pub(crate) typ: Option<u64>,
    /// The issuer's key id (a credential's).
    pub(crate) kid: Option<&'a [u8]>,
    /// The credential a presentation carries.
    pub(crate) kcwt: Option<Item<'a>>,
}

impl<'a> Sign1<'a> {
    /// Reads `[protected: bstr, unprotected: map, payload: bstr, signature: bstr]`.
    pub(crate) fn read(item: Item<'a>, what: &'static str) -> Result<Self, CompactError> {
        let malformed = |reason: &str| CompactError::malformed(what, reason);
        let Some(mut elements) = item.elements() else {
            return Err(malformed("not a COSE_Sign1 array"));
        };
        if elements.len() != 4 {
            return Err(malformed("a COSE_Sign1 has four elements"));
        }
        let [protected_bytes, unprotected, payload, signature] = [(); 4].map(|_| elements.next());
        let bytes = |item: Option<Item<'a>>| item.and_then(Item::as_bytes);
        let (Some(protected_bytes), Some(unprotected), Some(payload), Some(signature)) = (
            bytes(protected_bytes),
            unprotected.filter(|u| u.entries().is_some()),
            bytes(payload),
            bytes(signature),
        ) else {
            return Err(malformed("COSE_Sign1 elements have the wrong types"));
        };
        let protected = cbor::read(protected_bytes).map_err(|e| malformed(&e.to_string()))?;
        let Some(parameters) = protected.entries() else {
            return Err(malformed("the protected header is not a map"));
        };
        let mut header = Header {
            alg: None,
            typ: None,
            kid: None,
            kcwt: None,
        };
        for (label, value) in parameters {
            match label.as_i64() {
                Some(ALG) => header.alg = value.as_i64(),
                Some(TYP) => header.typ = value.as_u64(),
                Some(KID) => header.kid = value.as_bytes(),
                Some(KCWT) => header.kcwt = Some(value),
                _ => {}
            }
        }
        Ok(Sign1 {
            protected_bytes,
            protected: header,
            unprotected,
            payload,
            signature,
        })
    }

    /// The signed parts, owned.
    pub(crate) fn to_signed(&self) -> Signed {
        Signed {
            protected_bytes: self.protected_bytes.to_vec(),
            payload: self.payload.to_vec(),
            signature: self.signature.to_vec(),
        }
    }

    /// The `alg` of the protected header, if dojang accepts it.
    pub(crate) fn algorithm(&self) -> Result<Algorithm, CompactError> {
        let alg = self.protected.alg;
        alg.and_then(Algorithm::from_cose_id)
            .ok_or(CompactError::UnsupportedAlgorithm { alg })
    }

    /// Requires the protected `typ` to be `expected`.
    pub(crate) fn require_typ(
        &self,
        expected: u64,
        name: &'static str,
    ) -> Result<(), CompactError> {
        let found = self.protected.typ;
        match found == Some(expected) {
            true => Ok(()),
            false => Err(CompactError::UnexpectedType {
                expected: name,
                found,
            }),
        }
    }

    /// The bytes signed (RFC 9052 §4.4, no external AAD).
    pub(crate) fn to_be_signed(protected: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(protected.len() + payload.len() + TO_BE_SIGNED_OVERHEAD);
        Self::write_to_be_signed(protected, payload, &mut out);
        out
    }

    /// Writes the bytes signed into `out`, emptied first: a verification checks two
    /// signatures with one buffer.
    fn write_to_be_signed(protected: &[u8], payload: &[u8], out: &mut Vec<u8>) {
        out.clear();
        // `["Signature1", protected, h'', payload]`, written in place.
        out.push(0x84);
        Value::Text("Signature1").encode_into(out);
        Value::Bytes(protected).encode_into(out);
        Value::Bytes(&[]).encode_into(out);
        Value::Bytes(payload).encode_into(out);
    }

    /// Checks the signature with `key`, whose algorithm must be the header's; the signed bytes
    /// are written into `buffer`.
    pub(crate) fn verify(&self, key: &PublicKey, buffer: &mut Vec<u8>) -> Result<(), CompactError> {
        use crate::key::Verifier;
        let alg = self.algorithm()?;
        if alg != key.algorithm() {
            return Err(CompactError::AlgorithmMismatch {
                alg,
                key: key.algorithm(),
            });
        }
        Self::write_to_be_signed(self.protected_bytes, self.payload, buffer);
        key.verify(buffer, self.signature)
            .map_err(|_| CompactError::SignatureInvalid)
    }
}

/// A COSE_Sign1's signed parts, owned: to write one, or to keep a credential to present.
pub(crate) struct Signed {
    pub(crate) protected_bytes: Vec<u8>,
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

impl Signed {
    /// The COSE_Sign1 with the header `unprotected`.
    pub(crate) fn to_value<'v>(&'v self, unprotected: Value<'v>) -> Value<'v> {
        Value::Array(vec![
            Value::Bytes(&self.protected_bytes),
            unprotected,
            Value::Bytes(&self.payload),
            Value::Bytes(&self.signature),
        ])
    }
}

/// A holder key as a COSE_Key: EC2 P-256 with both coordinates, or OKP Ed25519.
///
/// The P-256 point goes uncompressed although it costs a QR 32 bytes more: recovering `y` from
/// its sign is a field square root, some 6 µs — 5 % of a verification (`dojang bench`).
pub(crate) fn cose_key(key: &PublicKey) -> Value<'_> {
    let raw = key.as_bytes();
    match key.algorithm() {
        Algorithm::Es256 => Value::Map(vec![
            (Value::int(1), Value::int(2)),
            (Value::int(-1), Value::int(1)),
            (Value::int(-2), Value::Bytes(&raw[1..33])),
            (Value::int(-3), Value::Bytes(&raw[33..])),
        ]),
        Algorithm::EdDsa => Value::Map(vec![
            (Value::int(1), Value::int(1)),
            (Value::int(-1), Value::int(6)),
            (Value::int(-2), Value::Bytes(raw)),
        ]),
    }
}

/// Reads a COSE_Key written by [`cose_key`] (a compressed EC2 point, `y` as its sign, is
/// accepted too).
pub(crate) fn from_cose_key(value: Item<'_>) -> Result<PublicKey, CompactError> {
    let invalid = |reason: &str| CompactError::InvalidClaim {
        claim: "cnf".into(),
        reason: reason.into(),
    };
    let (mut kty, mut crv, mut x, mut y) = (None, None, None, None);
    for (label, param) in value.entries().into_iter().flatten() {
        match label.as_i64() {
            Some(1) => kty = param.as_i64(),
            Some(-1) => crv = param.as_i64(),
            Some(-2) => x = param.as_bytes(),
            Some(-3) => y = param.kind(),
            _ => {}
        }
    }
    let x = x.ok_or_else(|| invalid("no x"))?;
    match (kty, crv) {
        (Some(2), Some(1)) => {
            let mut point = [0u8; 65];
            let point = match (y, x.len()) {
                (Some(Kind::Bool(odd)), 32) => {
                    point[0] = if odd { 0x03 } else { 0x02 };
                    point[1..33].copy_from_slice(x);
                    &point[..33]
                }
                (Some(Kind::Bytes(y)), 32) if y.len() == 32 => {
                    point[0] = 0x04;
                    point[1..33].copy_from_slice(x);
                    point[33..].copy_from_slice(y);
                    &point[..]
                }
                _ => return Err(invalid("no y, or coordinates that are not 32 bytes")),
            };
            Ok(PublicKey::p256_from_sec1(point)?)
        }
        (Some(1), Some(6)) => Ok(PublicKey::ed25519(x)?),
        _ => Err(invalid("only EC2 P-256 and OKP Ed25519 keys are accepted")),
    }
}

/// The credential's claims set, read: its strings borrow the bytes read.
pub(crate) struct Claims<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) issued_at: i64,
    pub(crate) valid_from: Option<i64>,
    pub(crate) valid_until: Option<i64>,
    pub(crate) vct: &'a str,
    pub(crate) holder_key: PublicKey,
    pub(crate) status: Option<StatusListReference>,
    /// Claims that are always visible.
    pub(crate) visible: Map<String, Json>,
    /// Digests of the redacted claims.
    pub(crate) digests: Vec<Digest>,
}

impl<'a> Claims<'a> {
    /// Reads a claims set. It is read whole, so in one walk ([`cbor::Walk`]): each key and
    /// value checked as it is reached, and a key written twice refused as [`cbor::read`] would —
    /// an accepted integer key, or the redacted digests' simple value, by its slot already
    /// filled, a text key by the claims map (any other key is no claim of the profile).
    pub(crate) fn parse(payload: &'a [u8]) -> Result<Self, CompactError> {
        let malformed = |e: CborError| CompactError::malformed("claims", e);
        let mut walk = cbor::Walk::new(payload);
        let Some(count) = walk.map().map_err(malformed)? else {
            return Err(CompactError::malformed("claims", "not a map"));
        };
        let invalid = |claim: &str, reason: &str| CompactError::InvalidClaim {
            claim: claim.into(),
            reason: reason.into(),
        };
        let (mut issuer, mut issued_at, mut vct, mut holder_key) = (None, None, None, None);
        let (mut valid_from, mut valid_until, mut status_ref) = (None, None, None);
        let mut visible = Map::new();
        let mut digests = None;
        for _ in 0..count {
            let key = walk.item(1).map_err(malformed)?;
            let label = match key.kind() {
                Some(label @ (Kind::Uint(_) | Kind::NegInt(_))) => label.as_i64(),
                Some(Kind::Simple(REDACTED_CLAIM_KEYS)) => {
                    let listed = redacted_digests(walk.item(1).map_err(malformed)?)?;
                    fill(&mut digests, listed)?;
                    continue;
                }
                Some(Kind::Text(name)) => {
                    let json = walk.json(1).map_err(|e| match e {
                        JsonError::Cbor(e) => malformed(e),
                        JsonError::NotJson(why) => invalid(name, why),
                    })?;
                    if visible.insert(name.to_owned(), json).is_some() {
                        return Err(malformed(CborError::DuplicateKey));
                    }
                    continue;
                }
                _ => {
                    return Err(invalid(
                        &format!("{key:?}"),
                        "not a claim key of this profile",
                    ));
                }
            };
            match label {
                Some(ISS) => fill(&mut issuer, claim_text(&mut walk, "iss")?)?,
                Some(VCT) => fill(&mut vct, claim_text(&mut walk, "vct")?)?,
                Some(IAT) => fill(&mut issued_at, claim_time(&mut walk, "iat")?)?,
                Some(NBF) => fill(&mut valid_from, claim_time(&mut walk, "nbf")?)?,
                Some(EXP) => fill(&mut valid_until, claim_time(&mut walk, "exp")?)?,
                Some(CNF) => {
                    let key = walk
                        .item(1)
                        .map_err(malformed)?
                        .get(&Value::int(COSE_KEY))
                        .ok_or_else(|| invalid("cnf", "no COSE_Key"))?;
                    fill(&mut holder_key, from_cose_key(key)?)?;
                }
                Some(STATUS) => fill(&mut status_ref, status(walk.item(1).map_err(malformed)?)?)?,
                // Other registered claims (sub, cti…) are not part of the profile.
                _ => return Err(invalid(&format!("{key:?}"), "not a claim of this profile")),
            }
        }
        walk.end().map_err(malformed)?;
        Ok(Claims {
            issuer: issuer.ok_or_else(|| CompactError::MissingClaim { claim: "iss" })?,
            issued_at: issued_at.ok_or_else(|| CompactError::MissingClaim { claim: "iat" })?,
            valid_from,
            valid_until,
            vct: vct.ok_or_else(|| CompactError::MissingClaim { claim: "vct" })?,
            holder_key: holder_key.ok_or_else(|| CompactError::MissingClaim { claim: "cnf" })?,
            status: status_ref,
            visible,
            digests: digests.unwrap_or_default(),
        })
    }
}

/// Fills a claim's slot: each accepted key fills its own once, so a slot already filled is a key
/// written twice.
fn fill<T>(slot: &mut Option<T>, value: T) -> Result<(), CompactError> {
    match slot.replace(value) {
        None => Ok(()),
        Some(_) => Err(CompactError::malformed("claims", CborError::DuplicateKey)),
    }
}

/// The next item of a claims set as text.
fn claim_text<'a>(walk: &mut cbor::Walk<'a>, claim: &str) -> Result<&'a str, CompactError> {
    walk.text()
        .map_err(|e| CompactError::malformed("claims", e))?
        .ok_or_else(|| CompactError::InvalidClaim {
            claim: claim.into(),
            reason: "not text".into(),
        })
}

/// The next item of a claims set as a time (an integer).
fn claim_time(walk: &mut cbor::Walk<'_>, claim: &str) -> Result<i64, CompactError> {
    walk.scalar()
        .map_err(|e| CompactError::malformed("claims", e))?
        .and_then(|kind| kind.as_i64())
        .ok_or_else(|| CompactError::InvalidClaim {
            claim: claim.into(),
            reason: "not an integer time".into(),
        })
}

/// The digests of the redacted claims, each once.
fn redacted_digests(listed: Item<'_>) -> Result<Vec<Digest>, CompactError> {
    let invalid = |reason: &str| CompactError::InvalidClaim {
        claim: "redacted_claim_keys".into(),
        reason: reason.into(),
    };
    let Some(listed) = listed.elements() else {
        return Err(invalid("not an array"));
    };
    if listed.len() > MAX_DISCLOSURES {
        return Err(invalid("too many digests"));
    }
    let mut digests: Vec<Digest> = Vec::with_capacity(listed.len());
    for digest in listed {
        let digest: Digest = digest
            .as_bytes()
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| invalid("a digest is not 16 bytes"))?;
        if digests.contains(&digest) {
            return Err(CompactError::disclosure("a digest appears twice"));
        }
        digests.push(digest);
    }
    Ok(digests)
}

/// `{"status_list": {"idx": uint, "uri": text}}` (Token Status List, CWT form).
pub(crate) fn status_value(reference: &StatusListReference) -> Value<'_> {
    Value::Map(vec![(
        Value::Text("status_list"),
        Value::Map(vec![
            (Value::Text("idx"), Value::int(reference.idx)),
            (Value::Text("uri"), Value::Text(&reference.uri)),
        ]),
    )])
}

fn status(value: Item<'_>) -> Result<StatusListReference, CompactError> {
    let (mut idx, mut uri) = (None, None);
    let list = value.get(&Value::Text("status_list"));
    for (name, member) in list.and_then(Item::entries).into_iter().flatten() {
        match name.as_text() {
            Some("idx") => idx = member.as_u64(),
            Some("uri") => uri = member.as_text(),
            _ => {}
        }
    }
    match (idx, uri) {
        (Some(idx), Some(uri)) => Ok(StatusListReference {
            idx,
            uri: uri.to_owned(),
        }),
        _ => Err(CompactError::InvalidClaim {
            claim: "status".into(),
            reason: "expected {\"status_list\": {\"idx\": uint, \"uri\": text}}".into(),
        }),
    }
}

/// A salted disclosure `[salt, value, name]`, with its encoded bytes (what is digested).
pub(crate) struct Disclosure {
    pub(crate) bytes: Vec<u8>,
    pub(crate) name: String,
}

impl Disclosure {
    pub(crate) fn new(salt: &[u8; SALT_LEN], name: &str, value: &Json) -> Self {
        let bytes = Value::Array(vec![
            Value::Bytes(salt),
            cbor::from_json(value),
            Value::Text(name),
        ])
        .encode();
        Disclosure {
            bytes,
            name: name.to_owned(),
        }
    }

    pub(crate) fn digest(&self) -> Digest {
        digest(&self.bytes)
    }
}

/// SHA-256 of an encoded disclosure, truncated to [`DIGEST_LEN`] bytes.
fn digest(disclosure: &[u8]) -> Digest {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, disclosure);
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&digest.as_ref()[..DIGEST_LEN]);
    out
}
/// Reads an encoded disclosure: its name and its value. It is read whole, so in one walk that
/// checks each item as it reaches it ([`cbor::Walk`]).
fn read_disclosure(bytes: &[u8]) -> Result<(&str, Json), CompactError> {
    let shape = || CompactError::disclosure("expected [salt, value, name]");
    let mut walk = cbor::Walk::new(bytes);
    if walk.array().map_err(CompactError::disclosure)? != Some(3) {
        return Err(shape());
    }
    let salt = walk
        .bytes()
        .map_err(CompactError::disclosure)?
        .ok_or_else(shape)?;
    let value = walk.json(1).map_err(CompactError::disclosure)?;
    let name = walk
        .text()
        .map_err(CompactError::disclosure)?
        .ok_or_else(shape)?;
    walk.end().map_err(CompactError::disclosure)?;
    if salt.len() != SALT_LEN {
        return Err(CompactError::disclosure(format!(
            "the salt is not {SALT_LEN} bytes"
        )));
    }
    Ok((name, value))
}

/// The disclosures in a credential's unprotected header (`sd_claims`), each a byte string.
pub(crate) fn disclosures<'a>(unprotected: Item<'a>) -> Result<Vec<&'a [u8]>, CompactError> {
    let Some(listed) = unprotected.get(&Value::int(SD_CLAIMS)) else {
        return Ok(Vec::new());
    };
    match listed.elements() {
        Some(items) if items.len() <= MAX_DISCLOSURES => items
            .map(Item::as_bytes)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| CompactError::disclosure("a disclosure is not a byte string")),
        _ => Err(CompactError::disclosure(
            "sd_claims is not an array of at most 64",
        )),
    }
}

/// Adds to `claims` (the visible ones) each claim `disclosures` reveal, after checking that
/// every disclosure's digest is in `digests`, at most once, and that no disclosed name shadows
/// another claim. Returns the disclosed names, in order.
pub(crate) fn reveal<'a>(
    claims: &mut Map<String, Json>,
    digests: &[Digest],
    disclosures: &[&'a [u8]],
) -> Result<Vec<&'a str>, CompactError> {
    // Which of `digests` were disclosed, one bit each: `Claims::parse` allows at most
    // `MAX_DISCLOSURES` of them.
    const _: () = assert!(MAX_DISCLOSURES <= 64);
    let mut seen = 0u64;
    let mut names = Vec::with_capacity(disclosures.len());
    for bytes in disclosures {
        let (name, value) = read_disclosure(bytes)?;
        let digest = digest(bytes);
        let Some(at) = digests.iter().position(|d| *d == digest) else {
            return Err(CompactError::disclosure(format!(
                "`{name}` is not one the issuer signed"
            )));
        };
        if seen & (1 << at) != 0 {
            return Err(CompactError::disclosure(format!(
                "`{name}` is disclosed twice"
            )));
        }
        seen |= 1 << at;
        match claims.entry(name) {
            serde_json::map::Entry::Vacant(entry) => entry.insert(value),
            serde_json::map::Entry::Occupied(_) => {
                return Err(CompactError::disclosure(format!(
                    "`{name}` collides with another claim"
                )));
            }
        };
        names.push(name);
    }
    Ok(names)
}
