//! Decentralized identifiers: the parsed [`Did`] and [`DidUrl`] types, DID documents, and offline
//! resolution of the two self-describing methods, `did:key` and `did:jwk`.
//!
//! A DID is parsed once ([`Did::parse`] checks the W3C DID Core ABNF) and passed around as a
//! value; nothing downstream re-validates strings. `did:web` needs the network and `did:dojang`
//! needs the registry log, so they are resolved by the crates that own that I/O — this module
//! only defines the document shape they produce.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::b64;
use crate::jwk::Jwk;
use crate::key::{KeyError, PublicKey};
use crate::multikey;

/// Longest DID accepted. A `did:jwk` for P-256 is about 170 characters.
pub const MAX_DID_LEN: usize = 2048;

/// Why a DID or DID URL could not be parsed or resolved. The messages name no DID, method or
/// key id: those come from whatever is being checked, and a refusal travels further than it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DidError {
    /// The string is not a DID (or DID URL) per W3C DID Core syntax.
    #[error("not a valid DID: {reason}")]
    Syntax {
        /// Which rule the string breaks.
        reason: &'static str,
    },
    /// The method cannot be resolved offline by this library.
    #[error("this DID method cannot be resolved here")]
    UnsupportedMethod {
        /// The method name.
        method: String,
    },
    /// The key encoded in a `did:key` or `did:jwk` is invalid or of an unsupported type.
    #[error("DID key is invalid: {0}")]
    Key(#[from] KeyError),
    /// A `did:jwk` carries private key material, which must never be published.
    #[error("did:jwk contains a private key")]
    PrivateKeyInDid,
    /// No verification method with this id is in the document.
    #[error("the verification method is not in the DID document")]
    VerificationMethodNotFound {
        /// The id looked up.
        id: String,
    },
    /// The verification method exists but is not authorised for this purpose.
    #[error("the verification method is not authorised for {relationship}")]
    NotAuthorised {
        /// The verification method id.
        id: String,
        /// The verification relationship required (e.g. `assertionMethod`).
        relationship: &'static str,
    },
    /// A key id points into another DID than the one expected.
    #[error("the verification method belongs to another DID")]
    ForeignVerificationMethod {
        /// The verification method id.
        id: String,
        /// The DID it should belong to.
        did: String,
    },
    /// No key id was given and the document has several candidate keys.
    #[error("the document has several {relationship} keys and no key id was given")]
    AmbiguousKey {
        /// The relationship searched.
        relationship: &'static str,
    },
    /// The verification method has no key material dojang understands.
    #[error("the verification method has no usable public key")]
    NoPublicKey {
        /// The verification method id.
        id: String,
    },
}

/// A decentralized identifier, `did:<method>:<method-specific-id>`, validated on parse.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Did(String);

/// A DID is found in a map by its text: it hashes and compares as its text does.
impl std::borrow::Borrow<str> for Did {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Did {
    /// Parses and validates a DID (no path, query or fragment).
    pub fn parse(text: &str) -> Result<Self, DidError> {
        if text.len() > MAX_DID_LEN {
            return Err(DidError::Syntax {
                reason: "longer than the maximum DID length",
            });
        }
        let rest = text.strip_prefix("did:").ok_or(DidError::Syntax {
            reason: "does not start with `did:`",
        })?;
        let (method, id) = rest.split_once(':').ok_or(DidError::Syntax {
            reason: "missing method-specific id",
        })?;
        if method.is_empty()
            || !method
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(DidError::Syntax {
                reason: "method name must be lowercase letters and digits",
            });
        }
        if id.is_empty() || id.ends_with(':') {
            return Err(DidError::Syntax {
                reason: "method-specific id is empty or ends with `:`",
            });
        }
        let bytes = id.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' => {
                    let hex = bytes.get(i + 1..i + 3).ok_or(DidError::Syntax {
                        reason: "truncated percent-encoding",
                    })?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return Err(DidError::Syntax {
                            reason: "invalid percent-encoding",
                        });
                    }
                    i += 3;
                    continue;
                }
                b if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':') => {}
                _ => {
                    return Err(DidError::Syntax {
                        reason: "invalid character in method-specific id",
                    });
                }
            }
            i += 1;
        }
        Ok(Did(text.to_owned()))
    }

    /// The `did:key` for a public key.
    pub fn key(key: &PublicKey) -> Self {
        Did(format!("did:key:{}", multikey::encode(key)))
    }

    /// The `did:jwk` for a public key.
    pub fn jwk(key: &PublicKey) -> Self {
        let jwk = Jwk::from_public_key(key);
        // Members in RFC 7638 order so that one key always yields one DID.
        let json = match (&jwk.y, jwk.x.as_deref().unwrap_or_default()) {
            (Some(y), x) => format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#),
            (None, x) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
        };
        Did(format!("did:jwk:{}", b64::encode(json)))
    }

    /// The method name (`key`, `jwk`, `web`, `dojang`, …).
    pub fn method(&self) -> &str {
        let rest = &self.0[4..];
        rest.split_once(':').map_or(rest, |(m, _)| m)
    }

    /// The method-specific id.
    pub fn method_specific_id(&self) -> &str {
        &self.0[5 + self.method().len()..]
    }

    /// The DID as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The DID URL of a fragment of this DID (`did:…#fragment`).
    pub fn with_fragment(&self, fragment: &str) -> DidUrl {
        DidUrl {
            did: self.clone(),
            fragment: Some(fragment.to_owned()),
        }
    }
}

impl fmt::Display for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Did({})", self.0)
    }
}

impl FromStr for Did {
    type Err = DidError;
    fn from_str(s: &str) -> Result<Self, DidError> {
        Did::parse(s)
    }
}

impl TryFrom<String> for Did {
    type Error = DidError;
    fn try_from(s: String) -> Result<Self, DidError> {
        Did::parse(&s)
    }
}

impl From<Did> for String {
    fn from(did: Did) -> String {
        did.0
    }
}

/// A DID URL with an optional fragment (`did:example:123#key-1`), as used for key ids.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct DidUrl {
    /// The DID.
    pub did: Did,
    /// The fragment, without `#`.
    pub fragment: Option<String>,
}

impl DidUrl {
    /// Parses `did…[#fragment]`. Paths and queries are not used by dojang and are refused.
    pub fn parse(text: &str) -> Result<Self, DidError> {
        let (did, fragment) = match text.split_once('#') {
            Some((did, fragment)) => (did, Some(fragment)),
            None => (text, None),
        };
        if let Some(fragment) = fragment
            && (fragment.is_empty() || !fragment.bytes().all(is_fragment_char))
        {
            return Err(DidError::Syntax {
                reason: "invalid fragment",
            });
        }
        Ok(DidUrl {
            did: Did::parse(did)?,
            fragment: fragment.map(str::to_owned),
        })
    }
}

fn is_fragment_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b)
}

impl fmt::Display for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.fragment {
            Some(fragment) => write!(f, "{}#{fragment}", self.did),
            None => write!(f, "{}", self.did),
        }
    }
}

/// A DID document (W3C DID Core), restricted to what dojang reads and writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DidDocument {
    /// JSON-LD contexts.
    #[serde(rename = "@context", default)]
    pub context: Vec<serde_json::Value>,
    /// The DID this document describes.
    pub id: Did,
    /// Verification methods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verification_method: Vec<VerificationMethod>,
    /// Keys that may authenticate as the DID subject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authentication: Vec<VerificationRelationship>,
    /// Keys that may sign credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertion_method: Vec<VerificationRelationship>,
    /// Keys that may invoke capabilities (in `did:dojang`: update the document).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability_invocation: Vec<VerificationRelationship>,
    /// Keys that may delegate capabilities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability_delegation: Vec<VerificationRelationship>,
    /// Service endpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service: Vec<Service>,
}

impl DidDocument {
    /// An empty document for `id` in the DID context and `context`.
    pub fn new(id: Did, context: &str) -> Self {
        DidDocument {
            context: vec!["https://www.w3.org/ns/did/v1".into(), context.into()],
            id,
            verification_method: Vec::new(),
            authentication: Vec::new(),
            assertion_method: Vec::new(),
            capability_invocation: Vec::new(),
            capability_delegation: Vec::new(),
            service: Vec::new(),
        }
    }
}

/// A verification method: a public key with an id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMethod {
    /// The method's DID URL.
    pub id: String,
    /// `Multikey` or `JsonWebKey2020` (others are read but carry no usable key for dojang).
    #[serde(rename = "type")]
    pub type_: String,
    /// The DID that controls this key.
    pub controller: String,
    /// The key as a JWK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_jwk: Option<Jwk>,
    /// The key as a multibase Multikey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_multibase: Option<String>,
}

impl VerificationMethod {
    /// A `Multikey` verification method for `key`.
    pub fn multikey(id: String, controller: &Did, key: &PublicKey) -> Self {
        VerificationMethod {
            id,
            type_: "Multikey".to_owned(),
            controller: controller.to_string(),
            public_key_jwk: None,
            public_key_multibase: Some(multikey::encode(key)),
        }
    }

    /// The method's public key.
    pub fn public_key(&self) -> Result<PublicKey, DidError> {
        if let Some(jwk) = &self.public_key_jwk {
            if jwk.d.is_some() {
                return Err(DidError::PrivateKeyInDid);
            }
            return Ok(jwk.to_public_key()?);
        }
        if let Some(multibase) = &self.public_key_multibase {
            return Ok(multikey::decode(multibase)?);
        }
        Err(DidError::NoPublicKey {
            id: self.id.clone(),
        })
    }
}

/// A verification relationship entry: a reference to a method, or a method embedded in place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum VerificationRelationship {
    /// A DID URL (absolute or `#fragment`) naming a method in `verificationMethod`.
    Reference(String),
    /// A method defined in place.
    Embedded(Box<VerificationMethod>),
}

/// A service endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// The service id.
    pub id: String,
    /// The service type.
    #[serde(rename = "type")]
    pub type_: String,
    /// The endpoint (a URL, or a map of URLs).
    pub service_endpoint: serde_json::Value,
}

/// The purposes a key can be looked up for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relationship {
    /// `assertionMethod`: signing credentials.
    AssertionMethod,
    /// `authentication`: proving control, e.g. key binding.
    Authentication,
    /// `capabilityInvocation`: updating the DID document.
    CapabilityInvocation,
}

impl Relationship {
    fn name(self) -> &'static str {
        match self {
            Relationship::AssertionMethod => "assertionMethod",
            Relationship::Authentication => "authentication",
            Relationship::CapabilityInvocation => "capabilityInvocation",
        }
    }
}

impl DidDocument {
    fn relationship(&self, relationship: Relationship) -> &[VerificationRelationship] {
        match relationship {
            Relationship::AssertionMethod => &self.assertion_method,
            Relationship::Authentication => &self.authentication,
            Relationship::CapabilityInvocation => &self.capability_invocation,
        }
    }

    /// Expands a relative `#fragment` reference against this document's DID.
    fn absolute(&self, id: &str) -> String {
        match id.strip_prefix('#') {
            Some(fragment) => format!("{}#{fragment}", self.id),
            None => id.to_owned(),
        }
    }

    /// An (absolute or relative) id as its DID and fragment, compared without building strings:
    /// every verification looks its issuer's key up.
    fn parts<'s>(&'s self, id: &'s str) -> (&'s str, Option<&'s str>) {
        match id.strip_prefix('#') {
            Some(fragment) => (self.id.as_str(), Some(fragment)),
            None => match id.split_once('#') {
                Some((did, fragment)) => (did, Some(fragment)),
                None => (id, None),
            },
        }
    }

    /// Finds a verification method by (absolute or relative) id.
    pub fn verification_method(&self, id: &str) -> Option<&VerificationMethod> {
        let id = self.parts(id);
        self.verification_method
            .iter()
            .chain(
                [
                    &self.authentication,
                    &self.assertion_method,
                    &self.capability_invocation,
                    &self.capability_delegation,
                ]
                .into_iter()
                .flatten()
                .filter_map(|r| match r {
                    VerificationRelationship::Embedded(m) => Some(&**m),
                    VerificationRelationship::Reference(_) => None,
                }),
            )
            .find(|m| self.parts(&m.id) == id)
    }

    /// The ids of the methods authorised for `relationship`, absolute.
    pub fn authorised_ids(&self, relationship: Relationship) -> Vec<String> {
        self.relationship(relationship)
            .iter()
            .map(|r| match r {
                VerificationRelationship::Reference(id) => self.absolute(id),
                VerificationRelationship::Embedded(m) => self.absolute(&m.id),
            })
            .collect()
    }

    /// The public key authorised for `relationship` with id `kid`; without `kid`, the only such
    /// key if there is exactly one.
    pub fn key_for(
        &self,
        relationship: Relationship,
        kid: Option<&str>,
    ) -> Result<PublicKey, DidError> {
        self.method_for(relationship, kid)?.public_key()
    }

    /// The verification method authorised for `relationship` with id `kid`; without `kid`, the
    /// only such method if there is exactly one. See [`DidDocument::key_for`].
    pub fn method_for(
        &self,
        relationship: Relationship,
        kid: Option<&str>,
    ) -> Result<&VerificationMethod, DidError> {
        let Some(kid) = kid else {
            let id = match self.authorised_ids(relationship).as_slice() {
                [only] => only.clone(),
                [] => {
                    return Err(DidError::VerificationMethodNotFound {
                        id: format!("{}#<{}>", self.id, relationship.name()),
                    });
                }
                _ => {
                    return Err(DidError::AmbiguousKey {
                        relationship: relationship.name(),
                    });
                }
            };
            return self
                .verification_method(&id)
                .ok_or(DidError::VerificationMethodNotFound { id });
        };
        let wanted = self.parts(kid);
        if wanted.0 != self.id.as_str() {
            return Err(DidError::ForeignVerificationMethod {
                id: self.absolute(kid),
                did: self.id.to_string(),
            });
        }
        let authorised = self.relationship(relationship).iter().any(|r| {
            let id = match r {
                VerificationRelationship::Reference(id) => id,
                VerificationRelationship::Embedded(m) => &m.id,
            };
            self.parts(id) == wanted
        });
        match (authorised, self.verification_method(kid)) {
            (true, Some(method)) => Ok(method),
            (false, Some(_)) => Err(DidError::NotAuthorised {
                id: self.absolute(kid),
                relationship: relationship.name(),
            }),
            (_, None) => Err(DidError::VerificationMethodNotFound {
                id: self.absolute(kid),
            }),
        }
    }
}

/// Resolves `did:key` and `did:jwk` without any I/O.
pub fn resolve_offline(did: &Did) -> Result<DidDocument, DidError> {
    let (key, fragment, type_) = match did.method() {
        "key" => {
            let multibase = did.method_specific_id();
            (
                multikey::decode(multibase)?,
                multibase.to_owned(),
                "Multikey",
            )
        }
        "jwk" => {
            let json = b64::decode(did.method_specific_id()).map_err(|_| DidError::Syntax {
                reason: "did:jwk id is not base64url",
            })?;
            let jwk: Jwk = serde_json::from_slice(&json).map_err(|_| DidError::Syntax {
                reason: "did:jwk id is not a JSON Web Key",
            })?;
            if jwk.d.is_some() {
                return Err(DidError::PrivateKeyInDid);
            }
            (jwk.to_public_key()?, "0".to_owned(), "JsonWebKey2020")
        }
        method => {
            return Err(DidError::UnsupportedMethod {
                method: method.to_owned(),
            });
        }
    };
    Ok(single_key_document(did, &key, &fragment, type_))
}

fn single_key_document(did: &Did, key: &PublicKey, fragment: &str, type_: &str) -> DidDocument {
    let id = format!("{did}#{fragment}");
    let method = match type_ {
        "Multikey" => VerificationMethod::multikey(id.clone(), did, key),
        _ => VerificationMethod {
            id: id.clone(),
            type_: type_.to_owned(),
            controller: did.to_string(),
            public_key_jwk: Some(Jwk::from_public_key(key)),
            public_key_multibase: None,
        },
    };
    let context = match type_ {
        "Multikey" => "https://w3id.org/security/multikey/v1",
        _ => "https://w3id.org/security/suites/jws-2020/v1",
    };
    let reference = || vec![VerificationRelationship::Reference(id.clone())];
    DidDocument {
        verification_method: vec![method],
        authentication: reference(),
        assertion_method: reference(),
        capability_invocation: reference(),
        capability_delegation: reference(),
        ..DidDocument::new(did.clone(), context)
    }
}

/// The key id dojang uses for a key's `did:key` or `did:jwk` (`did…#fragment`).
pub fn key_id(did: &Did) -> Option<String> {
    match did.method() {
        "key" => Some(format!("{did}#{}", did.method_specific_id())),
        "jwk" => Some(format!("{did}#0")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{Algorithm, SecretKey};

    #[test]
    fn parse_accepts_valid_and_rejects_invalid() {
        for ok in [
            "did:example:123",
            "did:web:example.com:users:alice",
            "did:dojang:abc_12.3-x",
            "did:web:localhost%3A8080",
        ] {
            let did = Did::parse(ok).unwrap();
            assert_eq!(did.as_str(), ok);
        }
        let did = Did::parse("did:web:example.com:u").unwrap();
        assert_eq!(did.method(), "web");
        assert_eq!(did.method_specific_id(), "example.com:u");
        for bad in [
            "",
            "did:",
            "did:web",
            "did:Web:x",
            "did:web:",
            "did:web:a:",
            "did:web:a b",
            "did:web:%zz",
            "did:web:%4",
            "dad:web:x",
            "did::x",
        ] {
            assert!(
                matches!(Did::parse(bad), Err(DidError::Syntax { .. })),
                "{bad:?} should be rejected"
            );
        }
        let long = format!("did:web:{}", "a".repeat(MAX_DID_LEN));
        assert!(matches!(Did::parse(&long), Err(DidError::Syntax { .. })));
    }

    #[test]
    fn did_key_and_did_jwk_resolve_to_their_key() {
        for alg in Algorithm::ALL {
            let key = SecretKey::generate(alg).unwrap();
            for did in [Did::key(key.public_key()), Did::jwk(key.public_key())] {
                let doc = resolve_offline(&did).unwrap();
                let kid = key_id(&did).unwrap();
                assert_eq!(
                    &doc.key_for(Relationship::AssertionMethod, Some(&kid))
                        .unwrap(),
                    key.public_key()
                );
                assert_eq!(
                    &doc.key_for(Relationship::Authentication, None).unwrap(),
                    key.public_key()
                );
                let fragment = kid.split_once('#').unwrap().1;
                assert_eq!(
                    &doc.key_for(Relationship::AssertionMethod, Some(&format!("#{fragment}")))
                        .unwrap(),
                    key.public_key()
                );
                let json = serde_json::to_string(&doc).unwrap();
                let back: DidDocument = serde_json::from_str(&json).unwrap();
                assert_eq!(back, doc);
            }
        }
    }

    #[test]
    fn key_lookup_errors_are_specific() {
        let key = SecretKey::generate(Algorithm::EdDsa).unwrap();
        let other = SecretKey::generate(Algorithm::EdDsa).unwrap();
        let did = Did::key(key.public_key());
        let doc = resolve_offline(&did).unwrap();
        let foreign = key_id(&Did::key(other.public_key())).unwrap();
        assert!(matches!(
            doc.key_for(Relationship::AssertionMethod, Some(&foreign)),
            Err(DidError::ForeignVerificationMethod { .. })
        ));
        // A relative id is named in full in the error.
        assert_eq!(
            doc.key_for(Relationship::AssertionMethod, Some("#nope"))
                .err(),
            Some(DidError::VerificationMethodNotFound {
                id: format!("{did}#nope")
            })
        );
        let mut limited = doc.clone();
        limited.assertion_method.clear();
        assert!(matches!(
            limited.key_for(Relationship::AssertionMethod, Some(&key_id(&did).unwrap())),
            Err(DidError::NotAuthorised { .. })
        ));
        // Without a key id: the only authorised key, none, or several.
        assert_eq!(
            doc.key_for(Relationship::AssertionMethod, None).unwrap(),
            *key.public_key()
        );
        assert_eq!(
            limited.key_for(Relationship::AssertionMethod, None).err(),
            Some(DidError::VerificationMethodNotFound {
                id: format!("{did}#<assertionMethod>")
            })
        );
        let mut two = doc.clone();
        let mut second = two.verification_method[0].clone();
        second.id = format!("{did}#second");
        two.verification_method.push(second);
        two.assertion_method
            .push(VerificationRelationship::Reference("#second".into()));
        assert_eq!(
            two.key_for(Relationship::AssertionMethod, None).err(),
            Some(DidError::AmbiguousKey {
                relationship: "assertionMethod"
            })
        );
        assert_eq!(
            two.key_for(Relationship::AssertionMethod, Some("#second"))
                .unwrap(),
            *key.public_key(),
            "with its id, either key is found"
        );
        assert!(matches!(
            resolve_offline(&Did::parse("did:web:example.com").unwrap()),
            Err(DidError::UnsupportedMethod { method }) if method == "web"
        ));
    }

    #[test]
    fn did_jwk_with_private_key_is_refused() {
        let key = SecretKey::generate(Algorithm::EdDsa).unwrap();
        let private = serde_json::to_string(&Jwk::from_secret_key(&key)).unwrap();
        let did = Did::parse(&format!("did:jwk:{}", b64::encode(private))).unwrap();
        assert_eq!(resolve_offline(&did), Err(DidError::PrivateKeyInDid));
    }

    #[test]
    fn did_urls() {
        let url = DidUrl::parse("did:key:z6Mk#z6Mk").unwrap();
        assert_eq!(url.fragment.as_deref(), Some("z6Mk"));
        assert_eq!(url.to_string(), "did:key:z6Mk#z6Mk");
        assert!(DidUrl::parse("did:key:z6Mk#").is_err());
        assert!(DidUrl::parse("did:key:z6Mk#a b").is_err());
    }
}
