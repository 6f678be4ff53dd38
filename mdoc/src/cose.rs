//! COSE_Sign1 and COSE_Mac0 (RFC 9052) as ISO 18013-5 uses them: ES256 signatures (raw r‖s),
//! HMAC-SHA256 MACs, certificates in `x5chain` (label 33).

use aws_lc_rs::{hmac, signature};
use minicbor::Encoder;

use crate::MdocError;
use crate::cbor;

/// COSE algorithm ES256.
pub(crate) const ES256: i64 = -7;
/// COSE algorithm EdDSA (Ed25519 here).
pub(crate) const EDDSA: i64 = -8;
/// COSE algorithm HMAC 256/256.
const HMAC_256: i64 = 5;
/// Header labels.
const ALG: i64 = 1;
const KID: i64 = 4;
const X5CHAIN: i64 = 33;

/// A COSE_Sign1, with the exact bytes it was read from.
#[derive(Debug, Clone)]
pub struct CoseSign1<'b> {
    protected: &'b [u8],
    alg: i64,
    /// The certificates in `x5chain` (DER), leaf first.
    pub x5chain: Vec<&'b [u8]>,
    /// The `kid` header, if any.
    pub kid: Option<&'b [u8]>,
    /// The payload, or `None` when detached.
    pub payload: Option<&'b [u8]>,
    signature: &'b [u8],
}

impl<'b> CoseSign1<'b> {
    /// Reads a COSE_Sign1 (tagged 18 or not).
    pub fn parse(bytes: &'b [u8]) -> Result<Self, MdocError> {
        let bytes = untagged(bytes, 18)?;
        let parts = cbor::elements(bytes)?;
        let [protected, unprotected, payload, signature] = parts[..] else {
            return Err(MdocError::Malformed("a COSE_Sign1 has four parts"));
        };
        let (protected, alg) = protected_header(protected)?;
        let unprotected = cbor::entries(unprotected)?;
        let x5chain = match cbor::label(&unprotected, X5CHAIN) {
            None => Vec::new(),
            Some(chain) => match cbor::byte_string(chain) {
                Ok(one) => vec![one],
                Err(_) => cbor::elements(chain)?
                    .into_iter()
                    .map(cbor::byte_string)
                    .collect::<Result<_, _>>()?,
            },
        };
        let kid = cbor::label(&unprotected, KID)
            .map(cbor::byte_string)
            .transpose()?;
        let payload = if payload == [0xf6] {
            None
        } else {
            Some(cbor::byte_string(payload)?)
        };
        Ok(CoseSign1 {
            protected,
            alg,
            x5chain,
            kid,
            payload,
            signature: cbor::byte_string(signature)?,
        })
    }

    /// Checks the signature with `key` over the payload, or over `detached` when the payload is
    /// detached: ES256 with a P-256 key (uncompressed SEC1 point), or EdDSA with an Ed25519 key.
    pub fn verify(&self, key: &[u8], detached: Option<&[u8]>) -> Result<(), MdocError> {
        let algorithm: &dyn signature::VerificationAlgorithm = match self.alg {
            ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            EDDSA => &signature::ED25519,
            _ => {
                return Err(MdocError::UnsupportedAlgorithm(
                    "COSE_Sign1 other than ES256 or EdDSA",
                ));
            }
        };
        let payload = self
            .payload
            .or(detached)
            .ok_or(MdocError::Malformed("a COSE_Sign1 without its payload"))?;
        let tbs = structure("Signature1", self.protected, payload)?;
        signature::UnparsedPublicKey::new(algorithm, key)
            .verify(&tbs, self.signature)
            .map_err(|_| MdocError::IssuerSignatureInvalid)
    }

    /// The protected header's entries (label, encoded value).
    pub(crate) fn protected_entries(&self) -> Result<Vec<(cbor::Key<'b>, &'b [u8])>, MdocError> {
        cbor::entries(self.protected)
    }
}

/// A COSE_Mac0, with the exact bytes it was read from.
#[derive(Debug, Clone)]
pub struct CoseMac0<'b> {
    protected: &'b [u8],
    alg: i64,
    tag: &'b [u8],
}

impl<'b> CoseMac0<'b> {
    /// Reads a COSE_Mac0 (tagged 17 or not) with a detached payload.
    pub fn parse(bytes: &'b [u8]) -> Result<Self, MdocError> {
        let bytes = untagged(bytes, 17)?;
        let parts = cbor::elements(bytes)?;
        let [protected, _unprotected, _payload, tag] = parts[..] else {
            return Err(MdocError::Malformed("a COSE_Mac0 has four parts"));
        };
        let (protected, alg) = protected_header(protected)?;
        Ok(CoseMac0 {
            protected,
            alg,
            tag: cbor::byte_string(tag)?,
        })
    }

    /// Checks the HMAC-SHA256 tag with `key` over `payload`.
    pub fn verify(&self, key: &[u8], payload: &[u8]) -> Result<(), MdocError> {
        if self.alg != HMAC_256 {
            return Err(MdocError::UnsupportedAlgorithm(
                "COSE_Mac0 other than HMAC 256/256",
            ));
        }
        let tbs = structure("MAC0", self.protected, payload)?;
        hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, key), &tbs, self.tag)
            .map_err(|_| MdocError::DeviceAuthInvalid)
    }
}

/// The protected header's bytes (the bstr's contents) and its `alg`.
fn protected_header(item: &[u8]) -> Result<(&[u8], i64), MdocError> {
    let protected = cbor::byte_string(item)?;
    let header = cbor::entries(protected)?;
    let alg =
        cbor::label(&header, ALG).ok_or(MdocError::Malformed("no alg in the protected header"))?;
    Ok((protected, cbor::int(alg)?))
}

/// `bytes` without its tag `tag`, if it has one.
fn untagged(bytes: &[u8], tag: u64) -> Result<&[u8], MdocError> {
    let mut d = minicbor::Decoder::new(bytes);
    if d.datatype()? == minicbor::data::Type::Tag {
        if d.tag()?.as_u64() != tag {
            return Err(MdocError::Malformed("an unexpected COSE tag"));
        }
        return Ok(&bytes[d.position()..]);
    }
    Ok(bytes)
}

/// `[context, protected, h'' (external aad), payload]`, what COSE signs and MACs.
fn structure(context: &str, protected: &[u8], payload: &[u8]) -> Result<Vec<u8>, MdocError> {
    let mut e = Encoder::new(Vec::new());
    e.array(4)
        .and_then(|e| e.str(context))
        .and_then(|e| e.bytes(protected))
        .and_then(|e| e.bytes(&[]))
        .and_then(|e| e.bytes(payload))
        .map_err(|_| MdocError::Malformed("cannot encode the signed structure"))?;
    Ok(e.into_writer())
}
