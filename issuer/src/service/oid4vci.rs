//! What a wallet calls before the credential itself (OpenID4VCI 1.0, pre-authorized code
//! flow): the issuer's metadata, the token endpoint and the nonce endpoint.
//!
//! Access tokens and nonces are stateless: `kind ‖ expiry ‖ body` under an HMAC with the
//! issuer's own key, so neither needs a row until it is used. The kind byte keeps an access
//! token from passing for a nonce and the reverse; a nonce is recorded as used inside the
//! issuance that uses it.

use dojang_core::compact;
use dojang_core::oid4vci::{self, TokenRequest, TokenResponse};
use dojang_core::{Jwk, Lang};
use dojang_schemas::CredentialType;
use serde_json::Value;

use super::{
    AdminError, CredentialError, Hosted, IssuerService, MAX_TX_ATTEMPTS, OfferState, TokenError,
    b64, fill_random, sha256,
};
use crate::db::OfferRow;

/// What the token endpoint says once an offer's transaction-code attempts are used up.
const OFFER_LOCKED: &str = "too many wrong transaction codes: this offer is locked, ask the \
     issuing office for a new one (거래 코드를 여러 번 잘못 입력하여 이 제안이 잠겼습니다. \
     발급 기관에 새 제안을 요청하세요)";

/// The formats a credential is offered in. One offer, one credential, one status index; the
/// wallet asks for each format with the same access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// SD-JWT VC (`dc+sd-jwt`), for online presentation; configuration id `<type>`.
    SdJwt,
    /// The compact credential of the offline QR profile (`dojang-qr`); configuration id
    /// `<type>-qr`.
    Qr,
    /// ISO 18013-5 mdoc (`mso_mdoc`), for the types that name a document type; configuration
    /// id `<type>-mdoc`.
    Mdoc,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 3] = [Format::SdJwt, Format::Qr, Format::Mdoc];

    /// The formats `ty` is issued in: mdoc only for a type with a document type.
    pub fn of_type(ty: &CredentialType) -> Vec<Format> {
        Format::ALL
            .into_iter()
            .filter(|f| *f != Format::Mdoc || ty.descriptor().mdoc_doctype.is_some())
            .collect()
    }

    /// Its bit in an offer's `issued_formats`.
    pub fn bit(self) -> i64 {
        match self {
            Format::SdJwt => 1,
            Format::Qr => 2,
            Format::Mdoc => 4,
        }
    }

    /// The OpenID4VCI `format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::SdJwt => dojang_core::sd_jwt::vc::TYP,
            Format::Qr => compact::FORMAT,
            Format::Mdoc => dojang_core::oid4vp::MSO_MDOC,
        }
    }

    /// The credential configuration id of `type_id` in this format.
    pub fn configuration_id(self, type_id: &str) -> String {
        match self {
            Format::SdJwt => type_id.to_owned(),
            Format::Qr => format!("{type_id}-qr"),
            Format::Mdoc => format!("{type_id}-mdoc"),
        }
    }

    /// The format `configuration` names, if it is one of `ty`'s.
    pub fn of_configuration(configuration: &str, ty: &CredentialType) -> Option<Format> {
        Format::of_type(ty)
            .into_iter()
            .find(|f| f.configuration_id(ty.id()) == configuration)
    }
}

/// Token kinds, so an access token can never pass for a nonce or the reverse.
pub(super) const ACCESS_TOKEN: u8 = b'a';
pub(super) const NONCE: u8 = b'n';

/// `kind ‖ expiry (8 bytes) ‖ body`.
fn token_payload(kind: u8, expires_at: i64, body: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(9 + body.len());
    payload.push(kind);
    payload.extend_from_slice(&expires_at.to_be_bytes());
    payload.extend_from_slice(body);
    payload
}

/// The expiry and body of an unexpired token of `kind`.
pub(super) fn token_body(payload: &[u8], kind: u8, now: i64) -> Option<(i64, &[u8])> {
    let (&found, rest) = payload.split_first()?;
    let (expiry, body) = rest.split_at_checked(8)?;
    let expires_at = i64::from_be_bytes(expiry.try_into().ok()?);
    (found == kind && expires_at > now).then_some((expires_at, body))
}

impl Hosted {
    /// `b64(payload).b64(HMAC(payload))`: what this issuer hands out as access token or nonce.
    fn seal_token(&self, payload: &[u8]) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.mac_key, payload);
        format!("{}.{}", b64::encode(payload), b64::encode(tag.as_ref()))
    }

    /// The payload of a token this issuer made, if it is one.
    pub(super) fn open_token(&self, token: &str) -> Option<Vec<u8>> {
        let (payload, tag) = token.split_once('.')?;
        let payload = b64::decode(payload).ok()?;
        let tag = b64::decode(tag).ok()?;
        aws_lc_rs::hmac::verify(&self.mac_key, &payload, &tag).ok()?;
        Some(payload)
    }
}

/// Whether `given` is the transaction code whose SHA-256 is `expected`, compared in
/// constant time.
fn tx_code_matches(expected: &[u8], given: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(expected, &sha256(given.as_bytes())).is_ok()
}

impl IssuerService {
    /// The token endpoint: exchanges a pre-authorized code (and transaction code) for an
    /// access token. A code works once.
    pub async fn token(
        &self,
        slug: &str,
        request: &TokenRequest,
        now: i64,
    ) -> Result<TokenResponse, TokenError> {
        match request.grant_type.as_deref() {
            Some(oid4vci::PRE_AUTHORIZED_GRANT) => {}
            Some(_) => return Err(TokenError::UnsupportedGrantType),
            None => return Err(TokenError::InvalidRequest("grant_type is missing")),
        }
        let code = request
            .pre_authorized_code
            .as_deref()
            .ok_or(TokenError::InvalidRequest("pre-authorized_code is missing"))?;
        let db = &self.inner.db;
        let offer = db
            .offer_by_code(&sha256(code.as_bytes()))
            .await?
            .filter(|o| o.issuer == slug)
            .ok_or(TokenError::InvalidGrant("unknown pre-authorized code"))?;
        if offer.expires_at <= now {
            return Err(TokenError::InvalidGrant(
                "the pre-authorized code has expired",
            ));
        }
        if offer.state != OfferState::Open {
            return Err(Self::closed_offer(&offer));
        }
        match (&offer.tx_code_hash, request.tx_code.as_deref()) {
            (None, Some(_)) => {
                return Err(TokenError::InvalidRequest(
                    "no transaction code is expected",
                ));
            }
            (Some(_), None) => return Err(TokenError::InvalidRequest("tx_code is missing")),
            (Some(expected), Some(given)) => {
                // An attempt is claimed (counted and checked in one statement) before the code
                // is compared: concurrent requests cannot all read "attempts left" and all
                // guess.
                let Some(attempt) = db.claim_tx_attempt(&offer.id).await? else {
                    db.lock_offer(&offer.id).await?;
                    return Err(self.refusal(&offer.id).await);
                };
                if !tx_code_matches(expected, given) {
                    if attempt >= MAX_TX_ATTEMPTS {
                        db.lock_offer(&offer.id).await?;
                    }
                    return Err(TokenError::InvalidGrant("wrong transaction code"));
                }
            }
            (None, None) => {}
        }
        // Redemption re-checks the state and the attempts in the database.
        if !db.redeem(&offer.id).await? {
            return Err(self.refusal(&offer.id).await);
        }
        let hosted = self
            .inner
            .issuers
            .get(slug)
            .ok_or(TokenError::InvalidGrant("unknown issuer"))?;
        let expires_at = now + self.inner.config.token_ttl;
        Ok(TokenResponse {
            access_token: hosted.seal_token(&token_payload(
                ACCESS_TOKEN,
                expires_at,
                offer.id.as_bytes(),
            )),
            token_type: "Bearer".into(),
            expires_in: self.inner.config.token_ttl,
        })
    }

    /// Why an offer that was open a moment ago cannot be redeemed now.
    async fn refusal(&self, offer_id: &str) -> TokenError {
        match self.inner.db.offer(offer_id).await {
            Ok(Some(offer)) => Self::closed_offer(&offer),
            Ok(None) => TokenError::InvalidGrant("unknown pre-authorized code"),
            Err(e) => e.into(),
        }
    }

    /// The refusal for an offer that is not open, or has no transaction-code attempts left.
    fn closed_offer(offer: &OfferRow) -> TokenError {
        match offer.state {
            OfferState::Locked => TokenError::InvalidGrant(OFFER_LOCKED),
            OfferState::Open if offer.tx_attempts >= MAX_TX_ATTEMPTS => {
                TokenError::InvalidGrant(OFFER_LOCKED)
            }
            OfferState::Expired => TokenError::InvalidGrant("the pre-authorized code has expired"),
            _ => TokenError::InvalidGrant("the pre-authorized code was already used"),
        }
    }

    /// The nonce endpoint: an unpredictable, expiring nonce that needs no storage until it is
    /// used (then it is recorded, so it works once).
    pub fn nonce(&self, slug: &str, now: i64) -> Result<String, CredentialError> {
        let hosted = self
            .inner
            .issuers
            .get(slug)
            .ok_or(CredentialError::InvalidToken)?;
        let mut random = [0u8; 16];
        fill_random(&mut random)?;
        Ok(hosted.seal_token(&token_payload(
            NONCE,
            now + self.inner.config.nonce_ttl,
            &random,
        )))
    }

    /// Credential issuer metadata for `slug`.
    pub fn metadata(&self, slug: &str) -> Result<oid4vci::IssuerMetadata, AdminError> {
        let hosted = self.hosted(slug)?;
        let id = self.issuer_id(slug);
        // The types whose descriptor names this issuer; an issuer no descriptor names may offer any.
        let named: Vec<_> = self
            .inner
            .catalog
            .iter()
            .filter(|ty| ty.descriptor().issuers.iter().any(|i| i.slug == slug))
            .collect();
        let types = if named.is_empty() {
            self.inner.catalog.iter().collect()
        } else {
            named
        };
        let configurations = types
            .into_iter()
            .flat_map(|ty| {
                Format::of_type(ty)
                    .into_iter()
                    .map(move |format| (ty, format))
            })
            .map(|(ty, format)| configuration(ty, format))
            .collect();
        Ok(oid4vci::IssuerMetadata {
            credential_endpoint: format!("{id}/credential"),
            nonce_endpoint: Some(format!("{id}/nonce")),
            authorization_servers: None,
            credential_configurations_supported: configurations,
            display: oid4vci::bilingual_display(&hosted.name),
            credential_issuer: id,
        })
    }

    /// JWT VC Issuer Metadata for `slug` (SD-JWT VC, served at
    /// `/.well-known/jwt-vc-issuer/issuers/<slug>`): its identifier and its current signing key
    /// as a JWK, under the `kid` its credentials name (the key's DID URL).
    pub async fn jwt_vc_issuer(&self, slug: &str) -> Result<Value, AdminError> {
        let hosted = self.hosted(slug)?;
        let signing = hosted.signing.read().await;
        let key = signing.key.public_key();
        let jwk = Jwk {
            kid: Some(signing.kid.clone()),
            alg: Some(key.algorithm().jose_name().to_owned()),
            use_: Some("sig".into()),
            ..Jwk::from_public_key(key)
        };
        Ok(serde_json::json!({
            "issuer": self.issuer_id(slug),
            "jwks": {"keys": [jwk]},
        }))
    }

    /// OAuth authorization server metadata for `slug`.
    pub fn authorization_server(
        &self,
        slug: &str,
    ) -> Result<oid4vci::AuthorizationServerMetadata, AdminError> {
        self.hosted(slug)?;
        let id = self.issuer_id(slug);
        Ok(oid4vci::AuthorizationServerMetadata {
            token_endpoint: format!("{id}/token"),
            issuer: id,
            grant_types_supported: vec![oid4vci::PRE_AUTHORIZED_GRANT.into()],
            anonymous_access: true,
        })
    }
}

/// The credential configuration of `ty` in `format`, by its id.
fn configuration(
    ty: &CredentialType,
    format: Format,
) -> (String, oid4vci::CredentialConfiguration) {
    let d = ty.descriptor();
    let mdoc = format == Format::Mdoc;
    // An mdoc's device key is P-256: its proof must be ES256.
    let algs = match mdoc {
        true => vec!["ES256".to_owned()],
        false => vec!["ES256".to_owned(), "EdDSA".to_owned()],
    };
    (
        format.configuration_id(&d.id),
        oid4vci::CredentialConfiguration {
            format: format.name().into(),
            vct: (!mdoc).then(|| d.vct.clone()),
            doctype: d.mdoc_doctype.clone().filter(|_| mdoc),
            cryptographic_binding_methods_supported: match mdoc {
                true => vec!["cose_key".into()],
                false => vec!["jwk".into(), "did:key".into(), "did:jwk".into()],
            },
            credential_signing_alg_values_supported: match mdoc {
                true => vec![(-7).into()],
                false => vec!["ES256".into(), "EdDSA".into()],
            },
            proof_types_supported: [(
                "jwt".to_owned(),
                oid4vci::ProofType {
                    proof_signing_alg_values_supported: algs,
                },
            )]
            .into_iter()
            .collect(),
            credential_metadata: Some(oid4vci::CredentialMetadata {
                // The type's and each claim's names in Korean and English, from its metadata.
                display: Lang::ALL
                    .iter()
                    .map(|lang| oid4vci::Display {
                        name: ty.name_in(*lang).to_owned(),
                        locale: Some(lang.tag().to_owned()),
                        description: ty
                            .metadata()
                            .display_in(*lang)
                            .map(|m| m.description.clone()),
                    })
                    .collect(),
                claims: ty
                    .schema()
                    .get("properties")
                    .and_then(Value::as_object)
                    .map(|p| {
                        p.keys()
                            .map(|k| oid4vci::ClaimDescription {
                                display: Lang::ALL
                                    .iter()
                                    .map(|lang| oid4vci::Display {
                                        name: ty.label(&format!("/{k}"), *lang),
                                        locale: Some(lang.tag().to_owned()),
                                        description: None,
                                    })
                                    .collect(),
                                path: vec![k.clone()],
                                mandatory: Some(
                                    d.always_disclosed
                                        .iter()
                                        .any(|a| a.trim_start_matches('/') == k),
                                ),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_kind_and_expiry() {
        let payload = token_payload(ACCESS_TOKEN, 1_000, b"offer-1");
        assert_eq!(
            token_body(&payload, ACCESS_TOKEN, 999),
            Some((1_000, &b"offer-1"[..]))
        );
        assert_eq!(
            token_body(&payload, ACCESS_TOKEN, 1_000),
            None,
            "expired at its expiry"
        );
        assert_eq!(
            token_body(&payload, NONCE, 999),
            None,
            "an access token is not a nonce"
        );
        assert_eq!(
            token_body(&payload[..5], ACCESS_TOKEN, 0),
            None,
            "truncated"
        );
        assert_eq!(token_body(&[], ACCESS_TOKEN, 0), None);
    }

    #[test]
    fn transaction_codes_match_only_their_own_hash() {
        let expected = sha256(b"493817");
        assert!(tx_code_matches(&expected, "493817"));
        assert!(!tx_code_matches(&expected, "493818"));
        assert!(
            !tx_code_matches(&expected[..31], "493817"),
            "a shorter hash"
        );
        assert!(!tx_code_matches(&[], ""), "an empty hash");
    }
}
