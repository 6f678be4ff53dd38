//! Selective Disclosure JWT (IETF SD-JWT, RFC 9901) and its Verifiable Credential profile
//! ([`vc`], `draft-ietf-oauth-sd-jwt-vc`, media type `dc+sd-jwt`).
//!
//! An SD-JWT is `<issuer-signed JWT>~<disclosure>~…~<disclosure>~[<KB-JWT>]`. Each disclosure is
//! base64url of a JSON array `[salt, name, value]` (object property) or `[salt, value]` (array
//! element); the signed payload carries only the SHA-256 digests of the disclosures, in `_sd`
//! arrays and `{"...": digest}` array placeholders. A holder reveals a claim by including its
//! disclosure, and proves possession of the key in `cnf` with a Key Binding JWT over a verifier's
//! nonce and audience and the hash of the presentation (`sd_hash`).
//!
//! - [`issue`] conceals the claims at the given [`ClaimPath`]s and signs.
//! - [`HeldSdJwt`] is the holder's view: all claims, which of them are disclosable, and
//!   [`HeldSdJwt::present`] to pick a subset and bind it.
//! - [`verify`] checks everything a verifier must (RFC 9901 §7): algorithm, signature, `_sd_alg`,
//!   each disclosure referenced exactly once, no duplicate digests, no claim-name collisions,
//!   validity period, and the KB-JWT.
//!
//! Claim paths are JSON Pointers (RFC 6901) into the *issuer's* claim set: an array element keeps
//! the index it had before anything was concealed, so `/nationalities/1` names the same element
//! for issuer, holder and verifier.

mod issue;
mod present;
mod reveal;
pub mod vc;
mod verify;

use std::fmt;

pub use issue::{IssueOptions, issue};
pub use present::{HeldSdJwt, KeyBindingInput};
pub use verify::{
    ExpectedKeyBinding, IssuerKeyError, IssuerKeyResolver, KeyBindingClaims, OfflineDids,
    VerifiedSdJwt, VerifyOptions, verify,
};

use crate::did::DidError;
use crate::jws::JwsError;
use crate::key::SignError;
use crate::{MAX_INPUT_LEN, b64};

/// The only `_sd_alg` dojang issues and accepts.
pub const SD_ALG: &str = "sha-256";
/// The `typ` of a Key Binding JWT.
pub const KB_JWT_TYP: &str = "kb+jwt";
/// Most disclosures accepted in one SD-JWT.
pub const MAX_DISCLOSURES: usize = 1024;
/// Deepest nesting of disclosures inside disclosures.
pub const MAX_DEPTH: usize = 32;

/// Why an SD-JWT could not be issued, presented or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdJwtError {
    /// The input is larger than the limit.
    #[error("SD-JWT is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The `~`-separated structure is broken.
    #[error("malformed SD-JWT: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The issuer-signed JWT was rejected (algorithm, structure, signature, type).
    #[error("issuer JWT: {0}")]
    Jws(#[source] JwsError),
    /// The issuer's key could not be found.
    #[error("issuer key: {0}")]
    IssuerKey(#[from] IssuerKeyError),
    /// `_sd_alg` names a hash function other than SHA-256.
    #[error("unsupported `_sd_alg` `{alg}`")]
    UnsupportedSdAlg {
        /// The value found.
        alg: String,
    },
    /// A disclosure does not decode to a valid `[salt, (name,) value]` array.
    #[error("disclosure #{index} is invalid: {reason}")]
    InvalidDisclosure {
        /// Position of the disclosure in the SD-JWT.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The same disclosure appears twice.
    #[error("duplicate disclosure {digest}")]
    DuplicateDisclosure {
        /// Its digest.
        digest: String,
    },
    /// A digest appears more than once in the payload and disclosures.
    #[error("digest {digest} appears more than once")]
    DuplicateDigest {
        /// The digest.
        digest: String,
    },
    /// A disclosure is not referenced by any digest (tampered, or belongs elsewhere).
    #[error("disclosure {digest} is not referenced by the signed payload")]
    UnreferencedDisclosure {
        /// Its digest.
        digest: String,
    },
    /// A disclosed claim name already exists in its object.
    #[error("disclosed claim `{name}` collides with an existing claim")]
    ClaimCollision {
        /// The claim name.
        name: String,
    },
    /// An object-property disclosure is referenced from an array position, or the reverse.
    #[error("disclosure {digest} is used in the wrong kind of position")]
    DisclosureKind {
        /// Its digest.
        digest: String,
    },
    /// A claim name dojang's SD-JWT processing reserves (`_sd`, `...`, `_sd_alg`).
    #[error("claim name `{name}` is reserved")]
    ReservedClaimName {
        /// The name.
        name: String,
    },
    /// Disclosures nest deeper than [`MAX_DEPTH`].
    #[error("disclosures nest too deeply")]
    TooDeep,
    /// More than [`MAX_DISCLOSURES`] disclosures.
    #[error("{count} disclosures, more than the {max} allowed")]
    TooManyDisclosures {
        /// Count found.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A claim that must be present is missing.
    #[error("claim `{name}` is missing")]
    MissingClaim {
        /// The claim name.
        name: &'static str,
    },
    /// A claim has the wrong type or an invalid value.
    #[error("claim `{name}` is invalid")]
    InvalidClaim {
        /// The claim name.
        name: &'static str,
    },
    /// The credential's `exp` has passed.
    #[error("expired at {exp} (now {now})")]
    Expired {
        /// The `exp` claim.
        exp: i64,
        /// The verification time.
        now: i64,
    },
    /// The credential's `nbf` (or `iat`) is in the future.
    #[error("not valid before {not_before} (now {now})")]
    NotYetValid {
        /// The `nbf` or `iat` claim.
        not_before: i64,
        /// The verification time.
        now: i64,
    },
    /// A claim that must always be visible was selectively disclosable.
    #[error("claim `{claim}` must not be selectively disclosable")]
    ForbiddenDisclosure {
        /// The claim name.
        claim: String,
    },
    /// Issuance: a path to conceal does not exist in the claims.
    #[error("claim path `{path}` does not exist")]
    PathNotFound {
        /// The path.
        path: String,
    },
    /// The Key Binding JWT is missing or invalid.
    #[error("key binding: {0}")]
    KeyBinding(#[from] KeyBindingError),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(#[from] SignError),
    /// The system random generator failed.
    #[error("the system random number generator failed")]
    Rng,
}

impl From<JwsError> for SdJwtError {
    fn from(e: JwsError) -> Self {
        SdJwtError::Jws(e)
    }
}

/// Why a Key Binding JWT was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyBindingError {
    /// The verifier requires key binding and the presentation has none.
    #[error("presentation has no key binding JWT")]
    Missing,
    /// The credential has no `cnf` holder key to bind to.
    #[error("credential has no holder key (`cnf`)")]
    HolderKeyMissing,
    /// The holder key in `cnf` is not usable.
    #[error("holder key in `cnf` is invalid: {0}")]
    HolderKey(DidError),
    /// The KB-JWT is malformed, has the wrong `typ` or algorithm, or its signature does not
    /// verify with the holder key (e.g. signed by another key).
    #[error("{0}")]
    Jws(JwsError),
    /// A required KB-JWT claim is missing or has the wrong type.
    #[error("KB-JWT claim `{name}` is missing or invalid")]
    InvalidClaim {
        /// The claim name.
        name: &'static str,
    },
    /// `nonce` is not the verifier's.
    #[error("nonce does not match")]
    NonceMismatch,
    /// `aud` is not this verifier.
    #[error("audience does not match")]
    AudienceMismatch,
    /// `sd_hash` does not match the presented SD-JWT (disclosures added, removed or altered).
    #[error("sd_hash does not match the presentation")]
    SdHashMismatch,
    /// `iat` is older than the verifier accepts.
    #[error("KB-JWT issued at {iat} is too old (now {now})")]
    Stale {
        /// The KB-JWT `iat`.
        iat: i64,
        /// The verification time.
        now: i64,
    },
    /// `iat` is in the future.
    #[error("KB-JWT issued at {iat} is in the future (now {now})")]
    IssuedInFuture {
        /// The KB-JWT `iat`.
        iat: i64,
        /// The verification time.
        now: i64,
    },
}

/// A JSON Pointer (RFC 6901) to a claim, stored as its reference tokens.
///
/// Array elements are named by their decimal index in the issuer's claims.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ClaimPath(Vec<String>);

impl ClaimPath {
    /// The path of a top-level claim.
    pub fn claim(name: &str) -> Self {
        ClaimPath(vec![name.to_owned()])
    }

    /// Parses a JSON Pointer (`/address/locality`). A string without a leading `/` is taken as
    /// a single top-level claim name, so `given_name` and `/given_name` are the same path.
    pub fn parse(pointer: &str) -> Self {
        match pointer.strip_prefix('/') {
            None => ClaimPath::claim(pointer),
            Some(rest) => ClaimPath(
                rest.split('/')
                    .map(|t| t.replace("~1", "/").replace("~0", "~"))
                    .collect(),
            ),
        }
    }

    /// The reference tokens.
    pub fn tokens(&self) -> &[String] {
        &self.0
    }

    /// The value at this path in `claims`, if there is one.
    pub fn resolve<'a>(
        &self,
        claims: &'a serde_json::Map<String, serde_json::Value>,
    ) -> Option<&'a serde_json::Value> {
        let (first, rest) = self.0.split_first()?;
        let mut value = claims.get(first)?;
        for token in rest {
            value = match value {
                serde_json::Value::Object(object) => object.get(token)?,
                serde_json::Value::Array(array) => array.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// Whether `self` is `other` or one of its ancestors.
    pub fn is_prefix_of(&self, other: &ClaimPath) -> bool {
        other.0.starts_with(&self.0)
    }

    /// Whether this path and `other` lie on one branch (one is a prefix of the other).
    pub fn is_related_to(&self, other: &ClaimPath) -> bool {
        self.is_prefix_of(other) || other.is_prefix_of(self)
    }

    pub(crate) fn push(&mut self, token: String) {
        self.0.push(token);
    }

    pub(crate) fn pop(&mut self) {
        self.0.pop();
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for token in &self.0 {
            write!(f, "/{}", token.replace('~', "~0").replace('/', "~1"))?;
        }
        Ok(())
    }
}

impl fmt::Debug for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimPath({self})")
    }
}

impl serde::Serialize for ClaimPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One decoded disclosure.
#[derive(Debug, Clone)]
pub(crate) struct Disclosure {
    /// The base64url text as it appears in the SD-JWT.
    pub(crate) encoded: String,
    /// base64url(SHA-256(encoded)).
    pub(crate) digest: String,
    /// The claim name; `None` for an array element.
    pub(crate) name: Option<String>,
    /// The disclosed value.
    pub(crate) value: serde_json::Value,
}

impl Disclosure {
    pub(crate) fn decode(index: usize, encoded: &str) -> Result<Self, SdJwtError> {
        let invalid = |reason| SdJwtError::InvalidDisclosure { index, reason };
        let json = b64::decode(encoded).map_err(|_| invalid("not base64url"))?;
        let array: Vec<serde_json::Value> =
            serde_json::from_slice(&json).map_err(|_| invalid("not a JSON array"))?;
        let mut items = array.into_iter();
        let (salt, name, value) = match (items.next(), items.next(), items.next(), items.next()) {
            (Some(salt), Some(value), None, None) => (salt, None, value),
            (Some(salt), Some(name), Some(value), None) => (salt, Some(name), value),
            _ => return Err(invalid("not 2 or 3 elements")),
        };
        if !salt.is_string() {
            return Err(invalid("salt is not a string"));
        }
        let name = match name {
            None => None,
            Some(serde_json::Value::String(name)) => {
                if matches!(name.as_str(), "_sd" | "..." | "_sd_alg") {
                    return Err(SdJwtError::ReservedClaimName { name });
                }
                Some(name)
            }
            Some(_) => return Err(invalid("claim name is not a string")),
        };
        Ok(Disclosure {
            digest: digest(encoded),
            encoded: encoded.to_owned(),
            name,
            value,
        })
    }
}

/// base64url(SHA-256(text)), the SD-JWT digest of a disclosure or presentation.
pub(crate) fn digest(text: &str) -> String {
    b64::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        text.as_bytes(),
    ))
}

/// The compact parts of an SD-JWT, borrowed from the input.
#[derive(Debug, Clone)]
pub(crate) struct Parts<'a> {
    pub(crate) issuer_jwt: &'a str,
    pub(crate) disclosures: Vec<&'a str>,
    pub(crate) key_binding_jwt: Option<&'a str>,
    /// Everything up to and including the last `~`: what `sd_hash` covers.
    pub(crate) without_kb: &'a str,
}

impl<'a> Parts<'a> {
    pub(crate) fn split(input: &'a str) -> Result<Self, SdJwtError> {
        if input.len() > MAX_INPUT_LEN {
            return Err(SdJwtError::TooLarge {
                len: input.len(),
                max: MAX_INPUT_LEN,
            });
        }
        let last = input.rfind('~').ok_or(SdJwtError::Malformed {
            reason: "no `~` separator",
        })?;
        let (without_kb, kb) = input.split_at(last + 1);
        let mut pieces = without_kb[..last].split('~');
        let issuer_jwt = pieces.next().unwrap_or_default();
        if issuer_jwt.is_empty() {
            return Err(SdJwtError::Malformed {
                reason: "empty issuer JWT",
            });
        }
        let disclosures: Vec<&str> = pieces.collect();
        if disclosures.len() > MAX_DISCLOSURES {
            return Err(SdJwtError::TooManyDisclosures {
                count: disclosures.len(),
                max: MAX_DISCLOSURES,
            });
        }
        if disclosures.iter().any(|d| d.is_empty()) {
            return Err(SdJwtError::Malformed {
                reason: "empty disclosure",
            });
        }
        Ok(Parts {
            issuer_jwt,
            disclosures,
            key_binding_jwt: (!kb.is_empty()).then_some(kb),
            without_kb,
        })
    }

    pub(crate) fn decode_disclosures(&self) -> Result<Vec<Disclosure>, SdJwtError> {
        let mut seen = std::collections::HashSet::with_capacity(self.disclosures.len());
        self.disclosures
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let disclosure = Disclosure::decode(i, d)?;
                if !seen.insert(disclosure.digest.clone()) {
                    return Err(SdJwtError::DuplicateDisclosure {
                        digest: disclosure.digest,
                    });
                }
                Ok(disclosure)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9901_disclosure_digest_known_answers() {
        // RFC 9901 §4.2.3: digests of an object-property and an array-element disclosure.
        let d = Disclosure::decode(0, "WyI2cU1RdlJMNWhhaiIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0")
            .unwrap();
        assert_eq!(d.name.as_deref(), Some("family_name"));
        assert_eq!(d.value, serde_json::json!("Möbius"));
        assert_eq!(d.digest, "uutlBuYeMDyjLLTpf6Jxi7yNkEF35jdyWMn9U7b_RYY");
        let d = Disclosure::decode(0, "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0").unwrap();
        assert_eq!(d.name, None);
        assert_eq!(d.value, serde_json::json!("FR"));
        assert_eq!(d.digest, "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs");
    }

    #[test]
    fn bad_disclosures_are_typed() {
        let enc = |v: serde_json::Value| b64::encode(v.to_string());
        let invalid = |e| matches!(e, Err(SdJwtError::InvalidDisclosure { .. }));
        assert!(invalid(Disclosure::decode(0, "!!")));
        assert!(invalid(Disclosure::decode(0, &b64::encode("{}"))));
        assert!(invalid(Disclosure::decode(
            0,
            &enc(serde_json::json!(["s"]))
        )));
        assert!(invalid(Disclosure::decode(
            0,
            &enc(serde_json::json!(["s", "a", 1, 2]))
        )));
        assert!(invalid(Disclosure::decode(
            0,
            &enc(serde_json::json!([1, "a", 1]))
        )));
        assert!(invalid(Disclosure::decode(
            0,
            &enc(serde_json::json!(["s", 5, 1]))
        )));
        assert!(matches!(
            Disclosure::decode(0, &enc(serde_json::json!(["s", "_sd", 1]))),
            Err(SdJwtError::ReservedClaimName { name }) if name == "_sd"
        ));
    }

    #[test]
    fn claim_paths_parse_and_print() {
        let p = ClaimPath::parse("/a~1b/0/c~0d");
        assert_eq!(p.tokens(), ["a/b", "0", "c~d"]);
        assert_eq!(p.to_string(), "/a~1b/0/c~0d");
        assert_eq!(
            ClaimPath::parse("given_name"),
            ClaimPath::parse("/given_name")
        );
        assert!(ClaimPath::parse("/a").is_prefix_of(&ClaimPath::parse("/a/b")));
        assert!(!ClaimPath::parse("/a/b").is_prefix_of(&ClaimPath::parse("/a")));
        assert!(ClaimPath::parse("/a/b").is_related_to(&ClaimPath::parse("/a")));
        assert!(!ClaimPath::parse("/ab").is_related_to(&ClaimPath::parse("/a")));
        let claims = serde_json::json!({"a": {"b": [10, {"c": true}]}})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(
            ClaimPath::parse("/a/b/1/c").resolve(&claims),
            Some(&serde_json::json!(true))
        );
        assert_eq!(
            ClaimPath::parse("/a/b/0").resolve(&claims),
            Some(&serde_json::json!(10))
        );
        assert_eq!(ClaimPath::parse("/a/b/2").resolve(&claims), None);
        assert_eq!(ClaimPath::parse("/a/x").resolve(&claims), None);
    }

    #[test]
    fn split_rejects_broken_structure() {
        assert!(matches!(
            Parts::split("abc"),
            Err(SdJwtError::Malformed { .. })
        ));
        assert!(matches!(
            Parts::split("~abc~"),
            Err(SdJwtError::Malformed { .. })
        ));
        assert!(matches!(
            Parts::split("a.b.c~~"),
            Err(SdJwtError::Malformed { .. })
        ));
        let p = Parts::split("a.b.c~d1~d2~k.b.j").unwrap();
        assert_eq!(p.issuer_jwt, "a.b.c");
        assert_eq!(p.disclosures, ["d1", "d2"]);
        assert_eq!(p.key_binding_jwt, Some("k.b.j"));
        assert_eq!(p.without_kb, "a.b.c~d1~d2~");
        let many = format!("a.b.c~{}", "d~".repeat(MAX_DISCLOSURES + 1));
        assert!(matches!(
            Parts::split(&many),
            Err(SdJwtError::TooManyDisclosures { .. })
        ));
    }
}
