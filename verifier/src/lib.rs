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

use dojang_core::sd_jwt::vc;
use dojang_core::sd_jwt::{ExpectedKeyBinding, IssuerKeyResolver, VerifyOptions};
use dojang_core::verdict::{IssuerInfo, ReasonCode, Verdict};
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
