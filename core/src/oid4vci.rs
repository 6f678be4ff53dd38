//! OpenID for Verifiable Credential Issuance 1.0: the messages of the pre-authorized code flow,
//! shared by the issuer (server side) and the wallet (client side), and the key proof JWT.
//!
//! ```text
//! wallet                                                   issuer
//!   ← credential offer (QR / openid-credential-offer://…) ─
//!   ─ POST token: pre-authorized_code, tx_code ──────────→  access token
//!   ─ POST nonce ────────────────────────────────────────→  c_nonce
//!   ─ POST credential: configuration id, proofs.jwt[…] ──→  credentials[…]
//! ```
//!
//! The proof JWT (`typ: openid4vci-proof+jwt`) proves the wallet holds the key the credential
//! will be bound to: it is signed by that key (named in `jwk`, or `kid` as a did:key / did:jwk
//! URL), over the issuer's identifier (`aud`), a fresh `c_nonce` and `iat`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::did::{self, DidUrl, Relationship};
use crate::jwk::Jwk;
use crate::jws::{self, Jws, JwsHeader};
use crate::key::{PublicKey, SignError, Signer};

/// The pre-authorized code grant type.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The `typ` of a key proof JWT.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// The custom URI scheme of credential offers passed by value.
pub const OFFER_SCHEME: &str = "openid-credential-offer://";

/// A credential offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialOffer {
    /// The issuer's identifier (URL).
    pub credential_issuer: String,
    /// Keys of `credential_configurations_supported` on offer.
    pub credential_configuration_ids: Vec<String>,
    /// Grants; dojang offers the pre-authorized code grant.
    pub grants: Grants,
}

/// The grants of an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// The pre-authorized code grant.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code")]
    pub pre_authorized_code: PreAuthorizedCodeGrant,
}

/// The pre-authorized code and whether a transaction code is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreAuthorizedCodeGrant {
    /// Short-lived, single-use code.
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: String,
    /// Present when a transaction code (sent to the citizen separately) is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<TxCode>,
}

/// How the transaction code looks to the person typing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxCode {
    /// `numeric` or `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<String>,
    /// Number of characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    /// Where to find it (at most 300 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Why an offer URI could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OfferError {
    /// Not an `openid-credential-offer://` URI with a `credential_offer` parameter.
    #[error("not a credential offer URI")]
    NotAnOffer,
    /// The offer is passed by reference (`credential_offer_uri`): fetch it, then parse the JSON.
    #[error("the offer is by reference: fetch {0}")]
    ByReference(String),
    /// The offer JSON is malformed.
    #[error("malformed credential offer: {0}")]
    Malformed(String),
}

impl CredentialOffer {
    /// The offer by value as an `openid-credential-offer://` URI.
    pub fn to_uri(&self) -> String {
        // Serializing strings cannot fail.
        #[allow(clippy::expect_used)]
        let json = serde_json::to_string(self).expect("offers serialize");
        let encoded =
            percent_encoding::utf8_percent_encode(&json, percent_encoding::NON_ALPHANUMERIC);
        format!("{OFFER_SCHEME}?credential_offer={encoded}")
    }

    /// Reads an offer URI (any scheme, as wallets also receive `https://` links).
    pub fn from_uri(uri: &str) -> Result<Self, OfferError> {
        if uri.len() > crate::MAX_INPUT_LEN {
            return Err(OfferError::NotAnOffer);
        }
        let query = uri
            .split_once('?')
            .map(|(_, q)| q)
            .ok_or(OfferError::NotAnOffer)?;
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map_err(|_| OfferError::Malformed("not UTF-8".into()))?;
            match key {
                "credential_offer" => {
                    return serde_json::from_str(&value)
                        .map_err(|e| OfferError::Malformed(e.to_string()));
                }
                "credential_offer_uri" => return Err(OfferError::ByReference(value.into_owned())),
                _ => {}
            }
        }
        Err(OfferError::NotAnOffer)
    }
}

/// A token request of the pre-authorized code flow (OpenID4VCI 1.0 §6.1), sent as an
/// `application/x-www-form-urlencoded` body.
///
/// Every parameter is optional when read, so the token endpoint — not the form parser — says
/// which one is missing, with the error code RFC 6749 §5.2 gives for it. Parameters other than
/// these three are ignored; a parameter sent twice counts once, with its last value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "BTreeMap<String, String>")]
pub struct TokenRequest {
    /// [`PRE_AUTHORIZED_GRANT`] is the one grant dojang supports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// The code from the offer.
    #[serde(
        rename = "pre-authorized_code",
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<String>,
    /// The transaction code the citizen was given separately, when the offer asks for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<String>,
}

impl TokenRequest {
    /// The request a wallet sends for an offer's pre-authorized `code`.
    pub fn pre_authorized(code: &str, tx_code: Option<&str>) -> Self {
        TokenRequest {
            grant_type: Some(PRE_AUTHORIZED_GRANT.to_owned()),
            pre_authorized_code: Some(code.to_owned()),
            tx_code: tx_code.map(str::to_owned),
        }
    }
}

impl From<BTreeMap<String, String>> for TokenRequest {
    fn from(mut form: BTreeMap<String, String>) -> Self {
        TokenRequest {
            grant_type: form.remove("grant_type"),
            pre_authorized_code: form.remove("pre-authorized_code"),
            tx_code: form.remove("tx_code"),
        }
    }
}

/// The token endpoint's success answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// Bearer access token for the credential endpoint.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: i64,
}

/// The nonce endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceResponse {
    /// A fresh, single-use challenge.
    pub c_nonce: String,
}

/// A credential request (1.0; the draft-13 single `proof` is still read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRequest {
    /// Which configuration to issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_configuration_id: Option<String>,
    /// Key proofs, by proof type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proofs: Option<Proofs>,
    /// Draft 13's single proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<LegacyProof>,
}

/// Key proofs of type `jwt`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proofs {
    /// Proof JWTs.
    #[serde(default)]
    pub jwt: Vec<String>,
}

/// Draft 13's `proof` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyProof {
    /// `jwt`.
    pub proof_type: String,
    /// The proof JWT.
    #[serde(default)]
    pub jwt: Option<String>,
}

impl CredentialRequest {
    /// The proof JWTs, from `proofs.jwt` or the legacy `proof`.
    pub fn proof_jwts(&self) -> Vec<&str> {
        match (&self.proofs, &self.proof) {
            (Some(proofs), _) => proofs.jwt.iter().map(String::as_str).collect(),
            (
                None,
                Some(LegacyProof {
                    proof_type,
                    jwt: Some(jwt),
                }),
            ) if proof_type == "jwt" => vec![jwt],
            _ => Vec::new(),
        }
    }
}

/// The credential endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialResponse {
    /// The credentials issued, one per proof.
    pub credentials: Vec<IssuedCredential>,
    /// For the notification endpoint (unused by dojang).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<String>,
}

/// One issued credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredential {
    /// The credential (for `dc+sd-jwt`, the compact SD-JWT).
    pub credential: String,
}

/// An OAuth-style error answer (`error`, `error_description`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error code (`invalid_grant`, `invalid_proof`, …).
    pub error: String,
    /// Human explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// Credential issuer metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuerMetadata {
    /// The issuer's identifier.
    pub credential_issuer: String,
    /// The credential endpoint.
    pub credential_endpoint: String,
    /// The nonce endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_endpoint: Option<String>,
    /// Authorization servers (omitted: the issuer is its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_servers: Option<Vec<String>>,
    /// What it issues.
    pub credential_configurations_supported: BTreeMap<String, CredentialConfiguration>,
    /// Display properties of the issuer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<Display>,
}

/// One credential configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialConfiguration {
    /// `dc+sd-jwt`, `dojang-qr` or `mso_mdoc`.
    pub format: String,
    /// The SD-JWT VC type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct: Option<String>,
    /// The ISO 18013-5 document type (`mso_mdoc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctype: Option<String>,
    /// `jwk`, `did:key`, `did:jwk`; `cose_key` for mdoc.
    pub cryptographic_binding_methods_supported: Vec<String>,
    /// Algorithms the issuer signs with: JOSE names, or COSE numbers for `mso_mdoc` (-7).
    pub credential_signing_alg_values_supported: Vec<serde_json::Value>,
    /// Key proof types accepted.
    pub proof_types_supported: BTreeMap<String, ProofType>,
    /// Display and claims descriptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_metadata: Option<CredentialMetadata>,
}

/// A key proof type's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofType {
    /// Algorithms accepted for the proof.
    pub proof_signing_alg_values_supported: Vec<String>,
}

/// How a credential is shown to people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialMetadata {
    /// Names and descriptions.
    #[serde(default)]
    pub display: Vec<Display>,
    /// Claims, by path.
    #[serde(default)]
    pub claims: Vec<ClaimDescription>,
}

/// A display name (and description) in one locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Display {
    /// The name.
    pub name: String,
    /// BCP 47 language tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One claim in a credential configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimDescription {
    /// Path of the claim.
    pub path: Vec<String>,
    /// Whether the issuer always includes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory: Option<bool>,
    /// Its label per language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<Display>,
}

/// One `display` entry per language for `name`, written `"<Korean> / <English>"`; a name in
/// one language is given once, without a locale.
pub fn bilingual_display(name: &str) -> Vec<Display> {
    if !name.contains(" / ") {
        return vec![Display {
            name: name.to_owned(),
            locale: None,
            description: None,
        }];
    }
    crate::Lang::ALL
        .iter()
        .map(|lang| Display {
            name: lang.pick(name).to_owned(),
            locale: Some(lang.tag().to_owned()),
            description: None,
        })
        .collect()
}

/// A name for every reader from `display`: `"<Korean> / <English>"` when it has both, else its
/// first entry.
pub fn display_name(display: &[Display]) -> Option<String> {
    let named = |lang: crate::Lang| {
        display
            .iter()
            .find(|d| d.locale.as_deref().is_some_and(|l| l.parse() == Ok(lang)))
            .map(|d| d.name.as_str())
    };
    match (named(crate::Lang::Ko), named(crate::Lang::En)) {
        (Some(ko), Some(en)) => Some(format!("{ko} / {en}")),
        _ => display.first().map(|d| d.name.clone()),
    }
}

/// OAuth authorization server metadata (RFC 8414) for the pre-authorized code flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    /// The server's identifier.
    pub issuer: String,
    /// Its token endpoint.
    pub token_endpoint: String,
    /// Grants supported.
    pub grant_types_supported: Vec<String>,
    /// Whether a token request without `client_id` is accepted.
    #[serde(rename = "pre-authorized_grant_anonymous_access_supported")]
    pub anonymous_access: bool,
}

/// The well-known URL of a credential issuer's metadata: `/.well-known/openid-credential-issuer`
/// inserted between the host and the path of the issuer identifier.
pub fn metadata_url(credential_issuer: &str, well_known: &str) -> String {
    let (scheme, rest) = credential_issuer
        .split_once("://")
        .unwrap_or(("https", credential_issuer));
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        format!("{scheme}://{host}/.well-known/{well_known}")
    } else {
        format!("{scheme}://{host}/.well-known/{well_known}/{path}")
    }
}

/// Why a key proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The proof is invalid (structure, type, algorithm, key, signature, audience, time).
    #[error("invalid proof: {0}")]
    Invalid(String),
    /// The proof carries no `c_nonce` though the issuer requires one.
    #[error("the proof carries no nonce")]
    MissingNonce,
}

/// A verified key proof.
#[derive(Debug, Clone)]
pub struct VerifiedProof {
    /// The key the credential is to be bound to.
    pub key: PublicKey,
    /// The `c_nonce` it answers (the issuer must still check it is one of its own, unused).
    pub nonce: String,
}

/// Where the proof names its key.
#[derive(Debug, Clone)]
pub enum ProofKey<'a> {
    /// In the `jwk` header.
    Jwk,
    /// In the `kid` header, as this DID URL.
    Kid(&'a str),
}

/// Builds a key proof JWT (wallet side).
pub fn sign_proof(
    signer: &dyn Signer,
    key: ProofKey<'_>,
    audience: &str,
    nonce: &str,
    issued_at: i64,
) -> Result<String, SignError> {
    let mut header = JwsHeader::new(Some(PROOF_TYP), None);
    match key {
        ProofKey::Jwk => header.jwk = Some(Jwk::from_public_key(signer.public_key())),
        ProofKey::Kid(kid) => header.kid = Some(kid.to_owned()),
    }
    let claims = serde_json::json!({ "aud": audience, "iat": issued_at, "nonce": nonce });
    jws::sign(header, claims.to_string().as_bytes(), signer)
}

/// Verifies a key proof JWT (issuer side): type, algorithm, key, signature, `aud`, `iat`
/// within `window` seconds of `now`, and the presence of a nonce.
pub fn verify_proof(
    jwt: &str,
    audience: &str,
    now: i64,
    window: i64,
) -> Result<VerifiedProof, ProofError> {
    let invalid = |m: &str| ProofError::Invalid(m.to_owned());
    let jws = Jws::parse(jwt).map_err(|e| ProofError::Invalid(e.to_string()))?;
    jws.expect_type(PROOF_TYP, &[])
        .map_err(|e| ProofError::Invalid(e.to_string()))?;
    let header = jws.header();
    let key = match (&header.jwk, &header.kid) {
        (Some(jwk), None) => {
            if jwk.d.is_some() {
                return Err(invalid("the jwk header carries a private key"));
            }
            jwk.to_public_key()
                .map_err(|e| ProofError::Invalid(e.to_string()))?
        }
        (None, Some(kid)) => {
            let url = DidUrl::parse(kid).map_err(|e| ProofError::Invalid(e.to_string()))?;
            let document =
                did::resolve_offline(&url.did).map_err(|e| ProofError::Invalid(e.to_string()))?;
            document
                .key_for(Relationship::Authentication, Some(kid))
                .map_err(|e| ProofError::Invalid(e.to_string()))?
        }
        _ => return Err(invalid("exactly one of jwk and kid must name the key")),
    };
    jws.verify(&key)
        .map_err(|e| ProofError::Invalid(e.to_string()))?;
    #[derive(Deserialize)]
    struct Claims {
        aud: Option<serde_json::Value>,
        iat: Option<serde_json::Value>,
        nonce: Option<serde_json::Value>,
    }
    let claims: Claims = jws
        .payload_json()
        .map_err(|e| ProofError::Invalid(e.to_string()))?;
    let audience_ok = match &claims.aud {
        Some(serde_json::Value::String(aud)) => aud == audience,
        Some(serde_json::Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(invalid("aud is not this credential issuer"));
    }
    let iat = claims
        .iat
        .as_ref()
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| invalid("iat is missing"))? as i64;
    // `as i64` saturates; `abs_diff` cannot overflow at the extremes.
    if iat.abs_diff(now) > window.unsigned_abs() {
        return Err(invalid("iat is outside the accepted window"));
    }
    match claims.nonce {
        Some(serde_json::Value::String(nonce)) => Ok(VerifiedProof { key, nonce }),
        _ => Err(ProofError::MissingNonce),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::did::Did;
    use crate::key::{Algorithm, SecretKey};

    fn offer() -> CredentialOffer {
        CredentialOffer {
            credential_issuer: "https://issuer.example/issuers/seoul".into(),
            credential_configuration_ids: vec!["citizen-card".into()],
            grants: Grants {
                pre_authorized_code: PreAuthorizedCodeGrant {
                    pre_authorized_code: "abc-123".into(),
                    tx_code: Some(TxCode {
                        input_mode: Some("numeric".into()),
                        length: Some(6),
                        description: None,
                    }),
                },
            },
        }
    }

    #[test]
    fn offers_round_trip_through_their_uri() {
        let uri = offer().to_uri();
        assert!(uri.starts_with("openid-credential-offer://?credential_offer=%7B"));
        assert_eq!(CredentialOffer::from_uri(&uri).unwrap(), offer());
        let json = serde_json::to_value(offer()).unwrap();
        assert_eq!(
            json["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"],
            "abc-123"
        );
        assert_eq!(
            CredentialOffer::from_uri(
                "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fx%2Fo"
            ),
            Err(OfferError::ByReference("https://x/o".into()))
        );
        assert_eq!(
            CredentialOffer::from_uri("https://example.com/"),
            Err(OfferError::NotAnOffer)
        );
        assert!(matches!(
            CredentialOffer::from_uri("x://?credential_offer=%7B"),
            Err(OfferError::Malformed(_))
        ));
    }

    #[test]
    fn token_requests_carry_the_form_parameters() {
        let request = TokenRequest::pre_authorized("abc-123", Some("493817"));
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({
                "grant_type": PRE_AUTHORIZED_GRANT,
                "pre-authorized_code": "abc-123",
                "tx_code": "493817",
            })
        );
        assert_eq!(
            serde_json::to_value(TokenRequest::pre_authorized("abc-123", None)).unwrap(),
            serde_json::json!({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": "abc-123"}),
            "no tx_code parameter without a transaction code"
        );
        let read: TokenRequest = serde_json::from_value(serde_json::json!({
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": "abc-123",
            "tx_code": "493817",
            "client_id": "ignored",
        }))
        .unwrap();
        assert_eq!(read, request);
        let read: TokenRequest =
            serde_json::from_value(serde_json::json!({"grant_type": "authorization_code"}))
                .unwrap();
        assert_eq!(
            (read.pre_authorized_code, read.tx_code),
            (None, None),
            "missing parameters are left for the endpoint to name"
        );
    }

    #[test]
    fn metadata_urls_insert_the_well_known_segment() {
        assert_eq!(
            metadata_url(
                "https://gov.example/issuers/seoul",
                "openid-credential-issuer"
            ),
            "https://gov.example/.well-known/openid-credential-issuer/issuers/seoul"
        );
        assert_eq!(
            metadata_url("http://127.0.0.1:8080", "oauth-authorization-server"),
            "http://127.0.0.1:8080/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn proofs_verify_and_every_fault_is_refused() {
        let aud = "https://issuer.example/issuers/seoul";
        for alg in Algorithm::ALL {
            let holder = SecretKey::generate(alg).unwrap();
            let jwt = sign_proof(&holder, ProofKey::Jwk, aud, "n1", 1000).unwrap();
            let verified = verify_proof(&jwt, aud, 1010, 300).unwrap();
            assert_eq!(
                (&verified.key, verified.nonce.as_str()),
                (holder.public_key(), "n1")
            );
            let did = Did::key(holder.public_key());
            let kid = did::key_id(&did).unwrap();
            let by_kid = sign_proof(&holder, ProofKey::Kid(&kid), aud, "n2", 1000).unwrap();
            assert_eq!(
                &verify_proof(&by_kid, aud, 1000, 300).unwrap().key,
                holder.public_key()
            );
            assert!(matches!(
                verify_proof(&jwt, "https://other", 1000, 300),
                Err(ProofError::Invalid(_))
            ));
            assert!(matches!(
                verify_proof(&jwt, aud, 2000, 300),
                Err(ProofError::Invalid(_))
            ));
        }
        let holder = SecretKey::generate(Algorithm::Es256).unwrap();
        let no_nonce = jws::sign(
            JwsHeader {
                jwk: Some(Jwk::from_public_key(holder.public_key())),
                ..JwsHeader::new(Some(PROOF_TYP), None)
            },
            br#"{"aud":"a","iat":5}"#,
            &holder,
        )
        .unwrap();
        assert_eq!(
            verify_proof(&no_nonce, "a", 5, 10).unwrap_err(),
            ProofError::MissingNonce
        );
        let wrong_typ = jws::sign(
            JwsHeader {
                jwk: Some(Jwk::from_public_key(holder.public_key())),
                ..JwsHeader::new(Some("JWT"), None)
            },
            br#"{"aud":"a","iat":5,"nonce":"n"}"#,
            &holder,
        )
        .unwrap();
        assert!(matches!(
            verify_proof(&wrong_typ, "a", 5, 10),
            Err(ProofError::Invalid(_))
        ));
        // Signed by another key than the one in the header.
        let thief = SecretKey::generate(Algorithm::Es256).unwrap();
        let stolen = jws::sign(
            JwsHeader {
                jwk: Some(Jwk::from_public_key(holder.public_key())),
                ..JwsHeader::new(Some(PROOF_TYP), None)
            },
            br#"{"aud":"a","iat":5,"nonce":"n"}"#,
            &thief,
        )
        .unwrap();
        assert!(matches!(
            verify_proof(&stolen, "a", 5, 10),
            Err(ProofError::Invalid(_))
        ));
        // Extreme `iat`s (saturating to i64::MIN/MAX) are outside the window, never a panic
        // or a wrap-around into it.
        for iat in [
            "-1e19",
            "1e19",
            "-9223372036854775808",
            "9223372036854775807",
            "-1e308",
        ] {
            let extreme = jws::sign(
                JwsHeader {
                    jwk: Some(Jwk::from_public_key(holder.public_key())),
                    ..JwsHeader::new(Some(PROOF_TYP), None)
                },
                format!(r#"{{"aud":"a","iat":{iat},"nonce":"n"}}"#).as_bytes(),
                &holder,
            )
            .unwrap();
            for now in [-1, 0, 5, 1_800_000_000] {
                assert_eq!(
                    verify_proof(&extreme, "a", now, 300).unwrap_err(),
                    ProofError::Invalid("iat is outside the accepted window".into()),
                    "iat {iat}, now {now}"
                );
            }
        }
        // A private key in the header.
        let leaky = jws::sign(
            JwsHeader {
                jwk: Some(Jwk::from_secret_key(&holder)),
                ..JwsHeader::new(Some(PROOF_TYP), None)
            },
            br#"{"aud":"a","iat":5,"nonce":"n"}"#,
            &holder,
        )
        .unwrap();
        assert!(matches!(
            verify_proof(&leaky, "a", 5, 10),
            Err(ProofError::Invalid(_))
        ));
    }
}
