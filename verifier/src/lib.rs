//! `dojang-verifier`: turning a presented credential into a [`Verdict`].
//!
//! This crate will own offline verification from a QR code against a signed trust bundle
//! (accreditation, key history, status lists, freshness), online OpenID4VP, Data Integrity
//! credentials from other systems, and the employer web page. It starts with the SD-JWT VC
//! path: [`verify_sd_jwt_vc`] runs every cryptographic and structural check in
//! `dojang-core` and reports the trust checks it cannot make without a bundle as
//! [`ReasonKind::Unchecked`](dojang_core::verdict::ReasonKind::Unchecked), so "could not check"
//! never reads as "valid".
//!
//! Verification never touches the network and never panics on input; every failure becomes a
//! stable reason code.
#![forbid(unsafe_code)]

pub mod di;

use dojang_core::did::Did;
use dojang_core::key::PublicKey;
use dojang_core::sd_jwt::vc;
use dojang_core::sd_jwt::{ExpectedKeyBinding, IssuerKeyError, IssuerKeyResolver, VerifyOptions};
use dojang_core::verdict::{IssuerInfo, ReasonCode, Verdict};
use dojang_registry::state::{KeyHistoryError, LedgerState};
use dojang_schemas::Catalog;

/// What the verifier requires.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// Key binding the presentation must carry (nonce and audience), if any.
    pub key_binding: Option<ExpectedKeyBinding<'a>>,
    /// Whether checks that need trust data (accreditation, status) are required. Without a
    /// trust bundle they cannot be made, and a required check that cannot be made rejects.
    pub require_trust_checks: bool,
    /// Clock skew tolerated, in seconds.
    pub leeway: i64,
}

impl Default for Policy<'_> {
    fn default() -> Self {
        Policy {
            key_binding: None,
            require_trust_checks: true,
            leeway: 60,
        }
    }
}

/// Verifies an SD-JWT VC presentation with the issuer keys from `keys`.
///
/// Without trust data, accreditation and status are reported unchecked (blocking when the
/// policy requires them).
pub fn verify_sd_jwt_vc(
    presentation: &str,
    keys: &dyn IssuerKeyResolver,
    catalog: &Catalog,
    policy: &Policy<'_>,
    now: i64,
) -> Verdict {
    let options = VerifyOptions {
        now,
        leeway: policy.leeway,
        key_binding: policy.key_binding,
    };
    let verified = match vc::verify(presentation, keys, &options) {
        Ok(verified) => verified,
        Err(e) => return Verdict::rejected(now, ReasonCode::from(&e), e.to_string()),
    };
    let mut verdict = Verdict::new(now);
    verdict.credential_type = Some(match catalog.by_vct(&verified.vct) {
        Ok(ty) => ty.id().to_owned(),
        Err(_) => verified.vct.clone(),
    });
    verdict.issuer = Some(IssuerInfo {
        id: verified.issuer.clone(),
        name: None,
    });
    verdict.disclosed_claims = verified.claims;
    verdict.unchecked(
        ReasonCode::AccreditationNotChecked,
        policy.require_trust_checks,
        "no trust bundle: the issuer's accreditation for this type was not checked",
    );
    if verified.status.is_some() {
        verdict.unchecked(
            ReasonCode::StatusNotChecked,
            policy.require_trust_checks,
            "no trust bundle: the credential's status list was not consulted",
        );
    }
    verdict
}

/// A credential's status, read from its issuer's status list token.
///
/// The token must be signed by `issuer_key` and be the list the reference names (`sub` equal to
/// its URI), and not expired at `now`.
pub fn check_status(
    reference: &dojang_core::status::StatusListReference,
    token: &str,
    issuer_key: &dojang_core::PublicKey,
    now: i64,
) -> Result<dojang_core::status::token::TokenStatus, dojang_core::status::StatusListError> {
    let (_, list) =
        dojang_core::status::token::verify_token(token, issuer_key, &reference.uri, now)?;
    let index = usize::try_from(reference.idx).map_err(|_| {
        dojang_core::status::StatusListError::IndexOutOfRange {
            index: usize::MAX,
            len: list.len(),
        }
    })?;
    list.status(index)
}

/// The reason code for a status, if it rejects the credential.
pub fn status_reason(status: dojang_core::status::token::TokenStatus) -> Option<ReasonCode> {
    use dojang_core::status::token::TokenStatus;
    match status {
        TokenStatus::Valid => None,
        TokenStatus::Invalid => Some(ReasonCode::Revoked),
        TokenStatus::Suspended => Some(ReasonCode::Suspended),
        // Application-specific values are not ours to interpret: not valid.
        TokenStatus::Other(_) => Some(ReasonCode::Revoked),
    }
}

/// Issuer keys from the ledger: a `did:dojang` issuer's assertion key as it was when the
/// credential was issued (its `iat`), so a credential signed before a key rotation still
/// verifies and one signed with a rotated-out key does not.
pub struct LedgerKeys<'a>(pub &'a LedgerState);

impl IssuerKeyResolver for LedgerKeys<'_> {
    fn issuer_key(
        &self,
        issuer: Option<&str>,
        kid: Option<&str>,
        issued_at: Option<i64>,
    ) -> Result<PublicKey, IssuerKeyError> {
        let issuer = issuer.ok_or(IssuerKeyError::MissingIssuer)?;
        let unknown = || IssuerKeyError::UnknownIssuer {
            issuer: issuer.to_owned(),
        };
        let did = Did::parse(issuer).map_err(|_| unknown())?;
        // `iat` has second precision, the ledger milliseconds: the key must have been valid at
        // some instant of that second. Without `iat`, only the current document counts.
        let result = match issued_at {
            None => self.0.assertion_key_at(&did, kid, u64::MAX),
            Some(iat) => {
                let start = u64::try_from(iat).unwrap_or(0).saturating_mul(1000);
                self.0
                    .assertion_key_at(&did, kid, start + 999)
                    .or_else(|_| self.0.assertion_key_at(&did, kid, start))
            }
        };
        result.map_err(|e| match e {
            KeyHistoryError::UnknownDid { .. } => unknown(),
            _ => IssuerKeyError::KeyNotValidAtIssuance {
                issuer: issuer.to_owned(),
                kid: kid.map(str::to_owned),
            },
        })
    }
}
