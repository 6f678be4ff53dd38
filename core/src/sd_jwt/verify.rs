//! Verifying an SD-JWT presentation (RFC 9901 §7.1 and §7.3).

use serde_json::{Map, Value};

use super::reveal::reveal;
use super::{ClaimPath, KB_JWT_TYP, KeyBindingError, Parts, SdJwtError, digest};
use crate::did::{self, Did, DidError, DidUrl, Relationship};
use crate::jwk::Jwk;
use crate::jws::Jws;
use crate::key::PublicKey;

/// Why the issuer's signing key could not be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssuerKeyError {
    /// The payload has no `iss`, and the resolver needs one.
    #[error("the credential names no issuer")]
    MissingIssuer,
    /// The issuer is not one this resolver knows.
    #[error("unknown issuer `{issuer}`")]
    UnknownIssuer {
        /// The `iss` value.
        issuer: String,
    },
    /// The issuer is known but had no valid key with this id at the time of issuance.
    #[error("issuer `{issuer}` had no valid key {kid:?} at the time of issuance")]
    KeyNotValidAtIssuance {
        /// The `iss` value.
        issuer: String,
        /// The key id looked up.
        kid: Option<String>,
    },
    /// Resolving the issuer's DID failed.
    #[error("{0}")]
    Did(#[from] DidError),
}

/// Finds the key an issuer signed with.
///
/// Verifiers supply the policy here: [`OfflineDids`] trusts any `did:key`/`did:jwk` (fine for
/// tests and for holder-side checks), a trust-bundle resolver accepts only accredited issuers and
/// picks the key from the issuer's key history as of `issued_at`.
pub trait IssuerKeyResolver {
    /// The key `issuer` signed with, identified by the JWS `kid`, as of `issued_at` (the
    /// credential's `iat`, if any).
    fn issuer_key(
        &self,
        issuer: Option<&str>,
        kid: Option<&str>,
        issued_at: Option<i64>,
    ) -> Result<PublicKey, IssuerKeyError>;
}

/// A single fixed key: for tests and for callers that already know the issuer's key.
impl IssuerKeyResolver for PublicKey {
    fn issuer_key(
        &self,
        _: Option<&str>,
        _: Option<&str>,
        _: Option<i64>,
    ) -> Result<PublicKey, IssuerKeyError> {
        Ok(self.clone())
    }
}

/// Resolves `did:key` and `did:jwk` issuers offline; any other issuer is unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineDids;

impl IssuerKeyResolver for OfflineDids {
    fn issuer_key(
        &self,
        issuer: Option<&str>,
        kid: Option<&str>,
        _: Option<i64>,
    ) -> Result<PublicKey, IssuerKeyError> {
        let issuer = issuer.ok_or(IssuerKeyError::MissingIssuer)?;
        let did = Did::parse(issuer).map_err(|_| IssuerKeyError::UnknownIssuer {
            issuer: issuer.to_owned(),
        })?;
        let document = did::resolve_offline(&did)?;
        Ok(document.key_for(Relationship::AssertionMethod, kid)?)
    }
}

/// What the verifier expects of the Key Binding JWT.
#[derive(Debug, Clone, Copy)]
pub struct ExpectedKeyBinding<'a> {
    /// This verifier's identifier, to match `aud`.
    pub audience: &'a str,
    /// The nonce this verifier issued, to match `nonce`.
    pub nonce: &'a str,
    /// Oldest acceptable KB-JWT `iat`, in seconds before now.
    pub max_age: i64,
}

/// How to verify.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The verification time, Unix seconds.
    pub now: i64,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway: i64,
    /// `Some`: a KB-JWT is required and must match. `None`: not required, but one that is
    /// present must still be signed by the holder key and match the presentation.
    pub key_binding: Option<ExpectedKeyBinding<'a>>,
}

impl VerifyOptions<'_> {
    /// Default options at time `now`: 60 s leeway, no key binding required.
    pub fn at(now: i64) -> Self {
        VerifyOptions {
            now,
            leeway: 60,
            key_binding: None,
        }
    }
}

impl<'a> VerifyOptions<'a> {
    /// Requires a KB-JWT for `audience` and `nonce`, at most five minutes old.
    pub fn require_key_binding(mut self, audience: &'a str, nonce: &'a str) -> Self {
        self.key_binding = Some(ExpectedKeyBinding {
            audience,
            nonce,
            max_age: 300,
        });
        self
    }
}

/// The claims of a verified Key Binding JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBindingClaims {
    /// When the holder made the presentation.
    pub issued_at: i64,
    /// The audience it was made for.
    pub audience: String,
    /// The verifier's nonce.
    pub nonce: String,
}

/// A verified SD-JWT.
#[derive(Debug, Clone)]
pub struct VerifiedSdJwt {
    /// The issuer JWT's `typ`.
    pub typ: Option<String>,
    /// The disclosed claims (and the always-visible ones).
    pub claims: Map<String, Value>,
    /// The paths of the claims the holder disclosed.
    pub disclosed: Vec<ClaimPath>,
    /// The holder key from `cnf`, if the credential is bound to one.
    pub holder_key: Option<PublicKey>,
    /// The Key Binding JWT's claims, if one was presented.
    pub key_binding: Option<KeyBindingClaims>,
}

/// Verifies an SD-JWT (with or without a KB-JWT).
pub fn verify(
    presentation: &str,
    keys: &dyn IssuerKeyResolver,
    options: &VerifyOptions<'_>,
) -> Result<VerifiedSdJwt, SdJwtError> {
    verify_typed(presentation, keys, options, |_| Ok(()))
}

/// [`verify`], with `check_header` run on the issuer JWT before any signature is checked.
pub(crate) fn verify_typed(
    presentation: &str,
    keys: &dyn IssuerKeyResolver,
    options: &VerifyOptions<'_>,
    check_header: impl FnOnce(&Jws<'_>) -> Result<(), SdJwtError>,
) -> Result<VerifiedSdJwt, SdJwtError> {
    let parts = Parts::split(presentation)?;
    let jws = Jws::parse(parts.issuer_jwt)?;
    check_header(&jws)?;
    let payload: Map<String, Value> = jws.payload_json()?;
    let issuer = optional_str(&payload, "iss")?;
    let issued_at = optional_time(&payload, "iat")?;
    let key = keys.issuer_key(issuer, jws.header().kid.as_deref(), issued_at)?;
    jws.verify(&key)?;

    let revealed = reveal(payload, parts.decode_disclosures()?)?;
    let claims = revealed.claims;
    check_validity(&claims, options)?;
    let holder_key = holder_key(&claims)?;
    let key_binding = match (parts.key_binding_jwt, &options.key_binding) {
        (None, Some(_)) => return Err(KeyBindingError::Missing.into()),
        (None, None) => None,
        (Some(kb), expected) => {
            let holder = holder_key
                .as_ref()
                .ok_or(KeyBindingError::HolderKeyMissing)?;
            Some(verify_key_binding(
                kb,
                parts.without_kb,
                holder,
                expected.as_ref(),
                options,
            )?)
        }
    };
    Ok(VerifiedSdJwt {
        typ: jws.header().typ.clone(),
        claims,
        disclosed: revealed.paths,
        holder_key,
        key_binding,
    })
}

fn optional_str<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, SdJwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(SdJwtError::InvalidClaim { name }),
    }
}

/// A NumericDate claim (RFC 7519 §2); fractional seconds are truncated.
pub(crate) fn optional_time(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, SdJwtError> {
    claims
        .get(name)
        .map(|value| numeric_date(value).ok_or(SdJwtError::InvalidClaim { name }))
        .transpose()
}

/// Seconds since the epoch from a JSON number, integer or not (`ssi` writes fractions).
fn numeric_date(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else {
        return None;
    };
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.is_finite() && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

fn check_validity(
    claims: &Map<String, Value>,
    options: &VerifyOptions<'_>,
) -> Result<(), SdJwtError> {
    let now = options.now;
    if let Some(exp) = optional_time(claims, "exp")?
        && now >= exp.saturating_add(options.leeway)
    {
        return Err(SdJwtError::Expired { exp, now });
    }
    for name in ["nbf", "iat"] {
        if let Some(not_before) = optional_time(claims, name)?
            && not_before > now.saturating_add(options.leeway)
        {
            return Err(SdJwtError::NotYetValid { not_before, now });
        }
    }
    Ok(())
}

/// The holder key confirmed by `cnf`: `{"jwk": …}`, or `{"kid": "<did:key or did:jwk URL>"}`.
fn holder_key(claims: &Map<String, Value>) -> Result<Option<PublicKey>, SdJwtError> {
    let Some(cnf) = claims.get("cnf") else {
        return Ok(None);
    };
    let invalid = SdJwtError::InvalidClaim { name: "cnf" };
    if let Some(jwk) = cnf.get("jwk") {
        let jwk: Jwk = serde_json::from_value(jwk.clone()).map_err(|_| invalid)?;
        if jwk.d.is_some() {
            return Err(KeyBindingError::HolderKey(DidError::PrivateKeyInDid).into());
        }
        let key = jwk
            .to_public_key()
            .map_err(|e| KeyBindingError::HolderKey(e.into()))?;
        return Ok(Some(key));
    }
    if let Some(Value::String(kid)) = cnf.get("kid") {
        let url = DidUrl::parse(kid).map_err(KeyBindingError::HolderKey)?;
        let document = did::resolve_offline(&url.did).map_err(KeyBindingError::HolderKey)?;
        let key = document
            .key_for(Relationship::Authentication, Some(kid))
            .map_err(KeyBindingError::HolderKey)?;
        return Ok(Some(key));
    }
    Err(invalid)
}

fn verify_key_binding(
    kb_jwt: &str,
    presented: &str,
    holder: &PublicKey,
    expected: Option<&ExpectedKeyBinding<'_>>,
    options: &VerifyOptions<'_>,
) -> Result<KeyBindingClaims, KeyBindingError> {
    let jws = Jws::parse(kb_jwt).map_err(KeyBindingError::Jws)?;
    jws.expect_type(KB_JWT_TYP, &[])
        .map_err(KeyBindingError::Jws)?;
    jws.verify(holder).map_err(KeyBindingError::Jws)?;
    #[derive(serde::Deserialize)]
    struct Claims {
        iat: Option<Value>,
        aud: Option<Value>,
        nonce: Option<Value>,
        sd_hash: Option<Value>,
    }
    let claims: Claims = jws.payload_json().map_err(KeyBindingError::Jws)?;
    let string = |value: Option<Value>, name| match value {
        Some(Value::String(s)) => Ok(s),
        _ => Err(KeyBindingError::InvalidClaim { name }),
    };
    let iat = claims
        .iat
        .as_ref()
        .and_then(numeric_date)
        .ok_or(KeyBindingError::InvalidClaim { name: "iat" })?;
    let audience = string(claims.aud, "aud")?;
    let nonce = string(claims.nonce, "nonce")?;
    if string(claims.sd_hash, "sd_hash")? != digest(presented) {
        return Err(KeyBindingError::SdHashMismatch);
    }
    let now = options.now;
    if iat > now.saturating_add(options.leeway) {
        return Err(KeyBindingError::IssuedInFuture { iat, now });
    }
    if let Some(expected) = expected {
        if nonce != expected.nonce {
            return Err(KeyBindingError::NonceMismatch);
        }
        if audience != expected.audience {
            return Err(KeyBindingError::AudienceMismatch);
        }
        if iat < now.saturating_sub(expected.max_age) {
            return Err(KeyBindingError::Stale { iat, now });
        }
    }
    Ok(KeyBindingClaims {
        issued_at: iat,
        audience,
        nonce,
    })
}
