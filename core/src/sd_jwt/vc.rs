//! The SD-JWT VC profile (`draft-ietf-oauth-sd-jwt-vc`): an SD-JWT with `typ: dc+sd-jwt`, a
//! credential type in `vct`, the issuer in `iss`, an optional holder key in `cnf` and a status
//! reference in `status`.
//!
//! The credential's subject claims sit at the top level next to these registered claims, each
//! one selectively disclosable as its type's descriptor says. The registered claims themselves
//! are never selectively disclosable: a verifier must always see who issued what type, until
//! when, bound to which key, with which status entry.

use serde_json::{Map, Value};

use super::verify::{optional_time, verify_typed};
use super::{
    ClaimPath, IssueOptions, IssuerKeyResolver, KeyBindingClaims, SdJwtError, VerifyOptions, issue,
};
use crate::jwk::Jwk;
use crate::jws::JwsHeader;
use crate::key::{PublicKey, Signer};
use crate::status::{StatusClaim, StatusListReference};

/// The media type and `typ` of an SD-JWT VC.
pub const TYP: &str = "dc+sd-jwt";
/// The `typ` of earlier drafts, still accepted on input.
pub const LEGACY_TYP: &str = "vc+sd-jwt";

/// Claims that must never be selectively disclosable.
pub const ALWAYS_VISIBLE: [&str; 7] =
    ["iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"];

/// Claims the profile defines; a credential type's own claims may not use these names.
pub const REGISTERED: [&str; 9] = [
    "iss",
    "iat",
    "nbf",
    "exp",
    "cnf",
    "vct",
    "vct#integrity",
    "status",
    "sub",
];

/// Everything an issuer puts into one SD-JWT VC.
#[derive(Debug, Clone)]
pub struct SdJwtVcDraft {
    /// Credential type.
    pub vct: String,
    /// The issuer (a DID for dojang issuers).
    pub issuer: String,
    /// Issuance time, Unix seconds.
    pub issued_at: i64,
    /// Start of validity (`nbf`).
    pub valid_from: Option<i64>,
    /// End of validity (`exp`).
    pub valid_until: Option<i64>,
    /// The holder key to bind to (`cnf.jwk`).
    pub holder_key: Option<PublicKey>,
    /// Status list entry.
    pub status: Option<StatusListReference>,
    /// The subject's claims.
    pub claims: Map<String, Value>,
    /// Which of `claims` are selectively disclosable.
    pub disclosable: Vec<ClaimPath>,
}

impl SdJwtVcDraft {
    /// Signs the credential with `signer`, naming the key `kid`.
    pub fn sign(&self, signer: &dyn Signer, kid: &str) -> Result<String, SdJwtError> {
        self.sign_with_chain(signer, kid, &[])
    }

    /// Signs the credential with `signer`, naming the key `kid` and, when `chain` is not empty,
    /// carrying its X.509 certificates (DER, the signer's first) in `x5c`, so a verifier that
    /// knows the root finds the key without resolving `kid`.
    pub fn sign_with_chain(
        &self,
        signer: &dyn Signer,
        kid: &str,
        chain: &[Vec<u8>],
    ) -> Result<String, SdJwtError> {
        for path in &self.disclosable {
            if let Some(first) = path.tokens().first()
                && ALWAYS_VISIBLE.contains(&first.as_str())
                && path.len() == 1
            {
                return Err(SdJwtError::ForbiddenDisclosure {
                    claim: first.clone(),
                });
            }
        }
        let mut payload = Map::with_capacity(self.claims.len() + 8);
        payload.insert("iss".into(), self.issuer.clone().into());
        payload.insert("iat".into(), self.issued_at.into());
        if let Some(nbf) = self.valid_from {
            payload.insert("nbf".into(), nbf.into());
        }
        if let Some(exp) = self.valid_until {
            payload.insert("exp".into(), exp.into());
        }
        payload.insert("vct".into(), self.vct.clone().into());
        if let Some(key) = &self.holder_key {
            payload.insert(
                "cnf".into(),
                serde_json::json!({ "jwk": Jwk::from_public_key(key) }),
            );
        }
        if let Some(status) = &self.status {
            payload.insert(
                "status".into(),
                serde_json::json!({ "status_list": status }),
            );
        }
        for (name, value) in &self.claims {
            if REGISTERED.contains(&name.as_str()) {
                return Err(SdJwtError::ReservedClaimName { name: name.clone() });
            }
            payload.insert(name.clone(), value.clone());
        }
        let mut header = JwsHeader::new(Some(TYP), Some(kid));
        if !chain.is_empty() {
            // RFC 7515 §4.1.6: standard base64 (not base64url) of each DER.
            use base64::Engine as _;
            let encoded = chain
                .iter()
                .map(|der| base64::engine::general_purpose::STANDARD.encode(der).into())
                .collect();
            header.extra.insert("x5c".into(), Value::Array(encoded));
        }
        let options = IssueOptions { header, decoys: 0 };
        issue(payload, &self.disclosable, options, signer)
    }
}

/// A verified SD-JWT VC.
#[derive(Debug, Clone)]
pub struct VerifiedSdJwtVc {
    /// Credential type.
    pub vct: String,
    /// The issuer.
    pub issuer: String,
    /// Issuance time.
    pub issued_at: Option<i64>,
    /// Start of validity.
    pub valid_from: Option<i64>,
    /// End of validity.
    pub valid_until: Option<i64>,
    /// Status list entry.
    pub status: Option<StatusListReference>,
    /// The holder key the credential is bound to.
    pub holder_key: Option<PublicKey>,
    /// The subject's disclosed (and always-visible) claims, without the registered ones.
    pub claims: Map<String, Value>,
    /// The paths of the disclosed claims.
    pub disclosed: Vec<ClaimPath>,
    /// The verified key binding, if presented.
    pub key_binding: Option<KeyBindingClaims>,
}

/// Verifies an SD-JWT VC: everything [`super::verify`] checks, plus `typ`, `vct`, `iss`, the
/// `status` shape, and that no registered claim was selectively disclosed.
pub fn verify(
    presentation: &str,
    keys: &dyn IssuerKeyResolver,
    options: &VerifyOptions<'_>,
) -> Result<VerifiedSdJwtVc, SdJwtError> {
    let verified = verify_typed(presentation, keys, options, |jws| {
        Ok(jws.expect_type(TYP, &[LEGACY_TYP])?)
    })?;
    if let Some(path) = verified
        .disclosed
        .iter()
        .find(|p| p.len() == 1 && ALWAYS_VISIBLE.contains(&p.tokens()[0].as_str()))
    {
        return Err(SdJwtError::ForbiddenDisclosure {
            claim: path.tokens()[0].clone(),
        });
    }
    let mut claims = verified.claims;
    let string = |claims: &mut Map<String, Value>, name| match claims.remove(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(SdJwtError::InvalidClaim { name }),
        None => Err(SdJwtError::MissingClaim { name }),
    };
    let vct = string(&mut claims, "vct")?;
    let issuer = string(&mut claims, "iss")?;
    let issued_at = optional_time(&claims, "iat")?;
    let valid_from = optional_time(&claims, "nbf")?;
    let valid_until = optional_time(&claims, "exp")?;
    let status = match claims.remove("status") {
        None => None,
        Some(value) => Some(
            serde_json::from_value::<StatusClaim>(value)
                .map_err(|_| SdJwtError::InvalidClaim { name: "status" })?
                .status_list,
        ),
    };
    // `sub` stays: it is the one registered claim that describes the subject.
    for name in REGISTERED.iter().filter(|&&n| n != "sub") {
        claims.remove(*name);
    }
    Ok(VerifiedSdJwtVc {
        vct,
        issuer,
        issued_at,
        valid_from,
        valid_until,
        status,
        holder_key: verified.holder_key,
        claims,
        disclosed: verified.disclosed,
        key_binding: verified.key_binding,
    })
}
