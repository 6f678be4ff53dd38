//! Compact JWS (RFC 7515) with a closed set of algorithms.
//!
//! The header's `alg` is checked against a fixed list before anything else is looked at:
//! `none` and the HMAC family have their own errors (they are the classic algorithm-confusion
//! attacks on JWT libraries), every other unknown name is refused, and a known algorithm must
//! still match the verifying key's type. There is no code path on which a public key is used as
//! an HMAC secret.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::b64;
use crate::jwk::Jwk;
use crate::key::{Algorithm, SignError, SignatureError, Signer, Verifier};

/// Largest compact JWS accepted, in bytes.
pub const MAX_JWS_LEN: usize = crate::MAX_INPUT_LEN;

/// Which part of a compact JWS is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsPart {
    /// The `header.payload.signature` structure itself.
    Structure,
    /// The protected header.
    Header,
    /// The payload.
    Payload,
    /// The signature.
    Signature,
}

/// Why a JWS was rejected. The messages never repeat a header value: the header is whatever
/// the sender wrote, and a refusal travels further (an error body, a log line) than it did.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// The input is larger than [`MAX_JWS_LEN`].
    #[error("JWS is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The JWS is not well formed.
    #[error("malformed JWS {part:?}")]
    Malformed {
        /// The offending part.
        part: JwsPart,
    },
    /// `alg: none`: an unsigned token.
    #[error("unsigned JWS (`alg: none`) is not accepted")]
    AlgorithmNone,
    /// An HMAC algorithm: a shared-secret MAC, never accepted where a signature is required.
    #[error("symmetric algorithm `{alg}` is not accepted")]
    SymmetricAlgorithm {
        /// The algorithm named in the header: `HS256`, `HS384` or `HS512`.
        alg: String,
    },
    /// An algorithm dojang does not use.
    #[error("unsupported algorithm: dojang accepts ES256 and EdDSA")]
    UnsupportedAlgorithm {
        /// The algorithm named in the header.
        alg: String,
    },
    /// The header marks extensions as critical that this implementation does not understand.
    #[error("the header marks parameters as critical that dojang does not understand")]
    UnsupportedCritical {
        /// The `crit` names.
        names: Vec<String>,
    },
    /// The header's algorithm does not match the key's.
    #[error("header algorithm {header} does not match the {key} key")]
    AlgorithmMismatch {
        /// The key's algorithm.
        key: Algorithm,
        /// The header's algorithm.
        header: Algorithm,
    },
    /// The signature does not verify.
    #[error("JWS signature does not verify")]
    SignatureInvalid,
    /// The header `typ` is not the expected media type.
    #[error(
        "JWS type is {}: expected `{expected}`",
        if found.is_some() { "wrong" } else { "missing" }
    )]
    UnexpectedType {
        /// The expected `typ`.
        expected: &'static str,
        /// The `typ` found.
        found: Option<String>,
    },
}

/// The protected header of a JWS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JwsHeader {
    /// The algorithm as written; see [`Jws::algorithm`] for the checked value.
    pub alg: String,
    /// Media type of the whole JWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The signer's public key, where the protocol carries it in the header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk: Option<Jwk>,
    /// Critical extensions; any present is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crit: Option<Vec<String>>,
    /// Other header parameters, carried through unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl JwsHeader {
    /// A header with `typ` and `kid` set; `alg` is filled in when signing.
    pub fn new(typ: Option<&str>, kid: Option<&str>) -> Self {
        JwsHeader {
            typ: typ.map(str::to_owned),
            kid: kid.map(str::to_owned),
            ..Default::default()
        }
    }
}

/// Checks a JOSE `alg` name against the closed list.
pub fn check_algorithm(alg: &str) -> Result<Algorithm, JwsError> {
    match alg {
        "ES256" => Ok(Algorithm::Es256),
        "EdDSA" => Ok(Algorithm::EdDsa),
        "none" | "None" | "NONE" => Err(JwsError::AlgorithmNone),
        "HS256" | "HS384" | "HS512" => Err(JwsError::SymmetricAlgorithm {
            alg: alg.to_owned(),
        }),
        _ => Err(JwsError::UnsupportedAlgorithm {
            alg: alg.to_owned(),
        }),
    }
}

/// A parsed compact JWS whose signature has not yet been checked.
#[derive(Debug, Clone)]
pub struct Jws<'a> {
    signing_input: &'a str,
    header: JwsHeader,
    alg: Algorithm,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    /// Parses a compact JWS, checking its size, structure and algorithm.
    pub fn parse(compact: &'a str) -> Result<Self, JwsError> {
        Self::parse_limited(compact, MAX_JWS_LEN)
    }

    /// [`Jws::parse`] with the caller's own size limit, for documents that are larger by
    /// nature (a trust bundle) and bounded by their own setting.
    pub fn parse_limited(compact: &'a str, max: usize) -> Result<Self, JwsError> {
        if compact.len() > max {
            return Err(JwsError::TooLarge {
                len: compact.len(),
                max,
            });
        }
        let structure = JwsError::Malformed {
            part: JwsPart::Structure,
        };
        let (signing_input, signature) = compact.rsplit_once('.').ok_or(structure.clone())?;
        let (header, payload) = signing_input.split_once('.').ok_or(structure.clone())?;
        if payload.contains('.') {
            return Err(structure);
        }
        let malformed = |part| JwsError::Malformed { part };
        let header_bytes = b64::decode(header).map_err(|_| malformed(JwsPart::Header))?;
        let header: JwsHeader =
            serde_json::from_slice(&header_bytes).map_err(|_| malformed(JwsPart::Header))?;
        let alg = check_algorithm(&header.alg)?;
        if let Some(names) = &header.crit {
            return Err(JwsError::UnsupportedCritical {
                names: names.clone(),
            });
        }
        let payload = b64::decode(payload).map_err(|_| malformed(JwsPart::Payload))?;
        let signature = b64::decode(signature).map_err(|_| malformed(JwsPart::Signature))?;
        if signature.len() != alg.signature_len() {
            return Err(malformed(JwsPart::Signature));
        }
        Ok(Jws {
            signing_input,
            header,
            alg,
            payload,
            signature,
        })
    }

    /// The protected header.
    pub fn header(&self) -> &JwsHeader {
        &self.header
    }

    /// The checked algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The decoded payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload parsed as JSON.
    pub fn payload_json<T: DeserializeOwned>(&self) -> Result<T, JwsError> {
        serde_json::from_slice(&self.payload).map_err(|_| JwsError::Malformed {
            part: JwsPart::Payload,
        })
    }

    /// Requires the header `typ` to be `expected` (or one of `also`).
    pub fn expect_type(&self, expected: &'static str, also: &[&str]) -> Result<(), JwsError> {
        match self.header.typ.as_deref() {
            Some(typ) if typ == expected || also.contains(&typ) => Ok(()),
            found => Err(JwsError::UnexpectedType {
                expected,
                found: found.map(str::to_owned),
            }),
        }
    }

    /// Verifies the signature with `key`, refusing a key of another algorithm.
    pub fn verify(&self, key: &dyn Verifier) -> Result<(), JwsError> {
        key.verify_as(self.alg, self.signing_input.as_bytes(), &self.signature)
            .map_err(|e| match e {
                SignatureError::AlgorithmMismatch { key, signature } => {
                    JwsError::AlgorithmMismatch {
                        key,
                        header: signature,
                    }
                }
                _ => JwsError::SignatureInvalid,
            })
    }
}

/// Signs `payload` as a compact JWS; the header's `alg` is set from the signer.
pub fn sign(
    mut header: JwsHeader,
    payload: &[u8],
    signer: &dyn Signer,
) -> Result<String, SignError> {
    header.alg = signer.algorithm().jose_name().to_owned();
    // Serializing a struct of strings and JSON values cannot fail.
    #[allow(clippy::expect_used)]
    let header = serde_json::to_vec(&header).expect("header serializes");
    let mut out = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 100);
    out.push_str(&b64::encode(header));
    out.push('.');
    out.push_str(&b64::encode(payload));
    let signature = signer.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&b64::encode(signature));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{PublicKey, SecretKey};

    fn forged(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(header),
            b64::encode(payload),
            b64::encode([0u8; 64])
        )
    }

    #[test]
    fn sign_then_verify() {
        for alg in Algorithm::ALL {
            let key = SecretKey::generate(alg).unwrap();
            let token = sign(
                JwsHeader::new(Some("x+jwt"), Some("k1")),
                b"{\"a\":1}",
                &key,
            )
            .unwrap();
            let jws = Jws::parse(&token).unwrap();
            assert_eq!(jws.algorithm(), alg);
            assert_eq!(jws.header().kid.as_deref(), Some("k1"));
            jws.expect_type("x+jwt", &[]).unwrap();
            jws.verify(key.public_key()).unwrap();
            let other = SecretKey::generate(alg).unwrap();
            assert_eq!(
                jws.verify(other.public_key()),
                Err(JwsError::SignatureInvalid)
            );
        }
    }

    #[test]
    fn algorithm_attacks_have_their_own_errors() {
        assert_eq!(
            Jws::parse(&forged(r#"{"alg":"none"}"#, "{}")).unwrap_err(),
            JwsError::AlgorithmNone
        );
        assert_eq!(
            Jws::parse(&forged(r#"{"alg":"HS256"}"#, "{}")).unwrap_err(),
            JwsError::SymmetricAlgorithm {
                alg: "HS256".into()
            }
        );
        assert_eq!(
            Jws::parse(&forged(r#"{"alg":"RS256"}"#, "{}")).unwrap_err(),
            JwsError::UnsupportedAlgorithm {
                alg: "RS256".into()
            }
        );
        assert_eq!(
            Jws::parse(&forged(r#"{"alg":"ES256","crit":["b64"]}"#, "{}")).unwrap_err(),
            JwsError::UnsupportedCritical {
                names: vec!["b64".into()]
            }
        );
        // An EdDSA key must not verify an ES256-labelled signature, even a valid-looking one.
        let ed: PublicKey = SecretKey::generate(Algorithm::EdDsa)
            .unwrap()
            .public_key()
            .clone();
        let jws_text = forged(r#"{"alg":"ES256"}"#, "{}");
        let jws = Jws::parse(&jws_text).unwrap();
        assert_eq!(
            jws.verify(&ed),
            Err(JwsError::AlgorithmMismatch {
                key: Algorithm::EdDsa,
                header: Algorithm::Es256
            })
        );
    }

    #[test]
    fn malformed_inputs_are_typed() {
        let part = |p| JwsError::Malformed { part: p };
        assert_eq!(Jws::parse("").unwrap_err(), part(JwsPart::Structure));
        assert_eq!(Jws::parse("a.b").unwrap_err(), part(JwsPart::Structure));
        assert_eq!(Jws::parse("a.b.c.d").unwrap_err(), part(JwsPart::Structure));
        assert_eq!(Jws::parse("!!.e30.AA").unwrap_err(), part(JwsPart::Header));
        assert_eq!(
            Jws::parse(&format!("{}.e30.AA", b64::encode("[1]"))).unwrap_err(),
            part(JwsPart::Header)
        );
        let header = b64::encode(r#"{"alg":"EdDSA"}"#);
        assert_eq!(
            Jws::parse(&format!("{header}.e3=.AA")).unwrap_err(),
            part(JwsPart::Payload)
        );
        assert_eq!(
            Jws::parse(&format!("{header}.e30.AAAA")).unwrap_err(),
            part(JwsPart::Signature)
        );
        let huge = "a".repeat(MAX_JWS_LEN + 1);
        assert!(matches!(Jws::parse(&huge), Err(JwsError::TooLarge { .. })));
        let jws_text = forged(r#"{"alg":"EdDSA","typ":"JWT"}"#, "{}");
        let jws = Jws::parse(&jws_text).unwrap();
        assert_eq!(
            jws.expect_type("kb+jwt", &[]),
            Err(JwsError::UnexpectedType {
                expected: "kb+jwt",
                found: Some("JWT".into())
            })
        );
    }
}
