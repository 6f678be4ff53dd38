//! `dojang-verifier`: turning a presented credential into a [`Verdict`].
//!
//! Offline, a [`Verifier`] holds a verified trust bundle ([`Trust`]) and judges what a citizen
//! shows — the QR text, a photo of the QR, an SD-JWT VC or a Data Integrity credential — by the
//! issuer's signature with the key the ledger says was valid at issuance, the issuer's
//! accreditation for the type, the holder's binding, the validity period, the status lists the
//! bundle carries, and the bundle's own freshness. Without a bundle, [`verify_sd_jwt_vc`] makes
//! the cryptographic checks and reports the trust checks as
//! [`ReasonKind::Unchecked`](dojang_core::verdict::ReasonKind::Unchecked), so "could not check"
//! never reads as "valid".
//!
//! Verification never touches the network and never panics on input; every failure becomes a
//! stable reason code.
#![forbid(unsafe_code)]

pub mod di;
pub mod http;
pub mod input;
pub mod trust;

use dojang_core::compact::{self, Challenge};
use dojang_core::did::Did;
use dojang_core::key::PublicKey;
use dojang_core::sd_jwt::vc;
use dojang_core::sd_jwt::{ExpectedKeyBinding, IssuerKeyError, IssuerKeyResolver, VerifyOptions};
use dojang_core::status::StatusListReference;
use dojang_core::verdict::{IssuerInfo, ReasonCode, Verdict};
use dojang_registry::state::{Accreditation, KeyHistoryError, LedgerState};
use dojang_schemas::Catalog;

pub use input::Presented;
pub use trust::{StatusLookup, Trust};

/// What the verifier requires.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// Key binding an SD-JWT VC presentation must carry (nonce and audience), if any.
    pub key_binding: Option<ExpectedKeyBinding<'a>>,
    /// The challenge this verifier showed, for a QR presentation in challenge mode. `None`:
    /// time-window mode.
    pub challenge: Option<Challenge<'a>>,
    /// How long after it was made a QR presentation is accepted, in seconds.
    pub window: i64,
    /// Clock skew tolerated, in seconds.
    pub leeway: i64,
    /// Whether checks that need trust data (accreditation, status) are required. A required
    /// check that cannot be made rejects.
    pub require_trust_checks: bool,
    /// The oldest trust bundle accepted, in seconds since its export. `None`: any age.
    pub max_bundle_age: Option<i64>,
    /// Witness cosignatures the bundle's checkpoint must carry.
    pub min_witnesses: usize,
}

/// The default maximum bundle age: one day.
pub const DEFAULT_MAX_BUNDLE_AGE: i64 = 24 * 3600;

impl Default for Policy<'_> {
    fn default() -> Self {
        Policy {
            key_binding: None,
            challenge: None,
            window: 60,
            leeway: 30,
            require_trust_checks: true,
            max_bundle_age: Some(DEFAULT_MAX_BUNDLE_AGE),
            min_witnesses: 0,
        }
    }
}

/// An offline verifier: a trust bundle and the credential type catalog.
#[derive(Debug, Clone, Copy)]
pub struct Verifier<'a> {
    /// What the verifier trusts.
    pub trust: &'a Trust,
    /// The credential types it knows.
    pub catalog: &'a Catalog,
}

impl Verifier<'_> {
    /// Verifies whatever was presented: see [`Presented::detect`].
    pub fn verify(&self, input: &[u8], policy: &Policy<'_>, now: i64) -> Verdict {
        match Presented::detect(input) {
            Ok(Presented::QrPayload(payload)) => self.qr(&payload, policy, now),
            Ok(Presented::SdJwt(text)) => self.sd_jwt_vc(&text, policy, now),
            Ok(Presented::DataIntegrity(text)) => self.data_integrity(&text, policy, now),
            Err((code, detail)) => self.rejected(now, code, detail),
        }
    }

    /// Verifies a QR presentation's bytes (after base45).
    pub fn qr(&self, presentation: &[u8], policy: &Policy<'_>, now: i64) -> Verdict {
        let options = compact::VerifyOptions {
            now,
            leeway: policy.leeway,
            window: policy.window,
            challenge: policy.challenge,
        };
        match compact::verify(presentation, self.trust, &options) {
            Ok(verified) => self.judge(
                Verified {
                    issuer: &verified.issuer,
                    vct: &verified.vct,
                    status: verified.status.as_ref(),
                    claims: verified.claims,
                },
                policy,
                now,
            ),
            Err(e) => self.rejected(now, (&e).into(), e.to_string()),
        }
    }

    /// Verifies an SD-JWT VC presentation.
    pub fn sd_jwt_vc(&self, presentation: &str, policy: &Policy<'_>, now: i64) -> Verdict {
        let options = VerifyOptions {
            now,
            leeway: policy.leeway,
            key_binding: policy.key_binding,
        };
        match vc::verify(presentation, self.trust, &options) {
            Ok(verified) => self.judge(
                Verified {
                    issuer: &verified.issuer,
                    vct: &verified.vct,
                    status: verified.status.as_ref(),
                    claims: verified.claims,
                },
                policy,
                now,
            ),
            Err(e) => self.rejected(now, (&e).into(), e.to_string()),
        }
    }

    /// Verifies a W3C Data Integrity credential (eddsa-rdfc-2022, ecdsa-rdfc-2019).
    pub fn data_integrity(&self, document: &str, policy: &Policy<'_>, now: i64) -> Verdict {
        let verified = match di::verify(document) {
            Ok(verified) => verified,
            Err(e) => return self.rejected(now, e.reason_code(), e.to_string()),
        };
        if let Some((code, detail)) = di::judge(&verified, now, policy.leeway) {
            return self.rejected(now, code, detail);
        }
        // The accredited party is the key's controller: a URL issuer cannot be tied to a key
        // offline, a DID issuer was checked to be that controller.
        let ty = verified.most_specific_type().to_owned();
        let signer = verified.signer().to_owned();
        self.judge(
            Verified {
                issuer: &signer,
                vct: &ty,
                status: None,
                claims: verified.claims,
            },
            policy,
            now,
        )
    }

    fn with_freshness(&self, mut verdict: Verdict, now: i64) -> Verdict {
        verdict.freshness = Some(self.trust.freshness(now));
        verdict
    }

    fn rejected(&self, now: i64, code: ReasonCode, detail: String) -> Verdict {
        self.with_freshness(Verdict::rejected(now, code, detail), now)
    }

    /// The trust decisions shared by every format, once the credential itself verified.
    fn judge(&self, verified: Verified<'_>, policy: &Policy<'_>, now: i64) -> Verdict {
        let freshness = self.trust.freshness(now);
        let mut verdict = Verdict::new(now);
        verdict.freshness = Some(freshness.clone());
        let ty = self
            .catalog
            .by_vct(verified.vct)
            .map_or(verified.vct, |ty| ty.id());
        verdict.credential_type = Some(ty.to_owned());
        verdict.disclosed_claims = verified.claims;
        let mut issuer = IssuerInfo {
            id: verified.issuer.to_owned(),
            name: None,
        };

        if let Some(max) = policy.max_bundle_age
            && freshness.bundle_age_secs > max
        {
            verdict.invalid(
                ReasonCode::BundleTooOld,
                format!(
                    "the trust bundle is {} old; this verifier accepts at most {}",
                    duration(freshness.bundle_age_secs),
                    duration(max)
                ),
            );
        }
        if usize::try_from(freshness.witnesses).unwrap_or(usize::MAX) < policy.min_witnesses {
            verdict.invalid(
                ReasonCode::WitnessesInsufficient,
                format!(
                    "the bundle's checkpoint has {} witness cosignatures; {} are required",
                    freshness.witnesses, policy.min_witnesses
                ),
            );
        }

        let state = self.trust.state();
        match Did::parse(verified.issuer) {
            // An issuer from another system (a Data Integrity credential signed with a
            // `did:key`): the registry cannot speak for it either way.
            Ok(did) if state.did(&did).is_none() => verdict.unchecked(
                ReasonCode::AccreditationNotChecked,
                policy.require_trust_checks,
                format!("{did} is not in the registry: its accreditation cannot be checked"),
            ),
            Ok(did) => match state.accreditation(&did, ty) {
                Accreditation::Accredited { name, .. } => issuer.name = Some(name),
                Accreditation::Withdrawn => verdict.invalid(
                    ReasonCode::AccreditationWithdrawn,
                    format!("the issuer's accreditation for `{ty}` was withdrawn"),
                ),
                Accreditation::NotAccredited => verdict.invalid(
                    ReasonCode::IssuerNotAccreditedForType,
                    format!("the issuer is not accredited for `{ty}` in the registry"),
                ),
            },
            Err(_) => verdict.invalid(
                ReasonCode::IssuerNotAccreditedForType,
                format!("the issuer `{}` is not a DID", verified.issuer),
            ),
        }
        verdict.issuer = Some(issuer);

        if let Some(reference) = verified.status {
            match self.trust.status(verified.issuer, reference, now) {
                StatusLookup::Known(status) => {
                    if let Some(code) = status_reason(status) {
                        verdict.invalid(
                            code,
                            format!("the issuer's status list marks it {}", code.as_str()),
                        );
                    }
                }
                StatusLookup::Unavailable(why) => verdict.unchecked(
                    ReasonCode::StatusUnavailable,
                    policy.require_trust_checks,
                    why,
                ),
            }
        }
        verdict
    }
}

/// What every format yields once its signatures check out.
struct Verified<'a> {
    issuer: &'a str,
    vct: &'a str,
    status: Option<&'a StatusListReference>,
    claims: serde_json::Map<String, serde_json::Value>,
}

/// `3h 5m`, `2d 4h`: a duration for a person.
fn duration(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// Verifies an SD-JWT VC presentation with the issuer keys from `keys`, without a trust
/// bundle: accreditation and status are reported unchecked (blocking when the policy requires
/// them).
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
        ledger_key(self.0, None, issuer, kid, issued_at)
    }
}

/// Multibase public keys already decoded (P-256 point decompression costs ~8 µs a time).
pub(crate) type DecodedKeys = std::collections::HashMap<String, PublicKey>;

pub(crate) fn ledger_key(
    state: &LedgerState,
    decoded: Option<&DecodedKeys>,
    issuer: Option<&str>,
    kid: Option<&str>,
    issued_at: Option<i64>,
) -> Result<PublicKey, IssuerKeyError> {
    let issuer = issuer.ok_or(IssuerKeyError::MissingIssuer)?;
    let unknown = || IssuerKeyError::UnknownIssuer {
        issuer: issuer.to_owned(),
    };
    let not_valid = || IssuerKeyError::KeyNotValidAtIssuance {
        issuer: issuer.to_owned(),
        kid: kid.map(str::to_owned),
    };
    let did = Did::parse(issuer).map_err(|_| unknown())?;
    // `iat` has second precision, the ledger milliseconds: the key must have been valid at
    // some instant of that second. Without `iat`, only the current document counts.
    let method = match issued_at {
        None => state.assertion_method_at(&did, kid, u64::MAX),
        Some(iat) => {
            let start = u64::try_from(iat).unwrap_or(0).saturating_mul(1000);
            state
                .assertion_method_at(&did, kid, start + 999)
                .or_else(|_| state.assertion_method_at(&did, kid, start))
        }
    }
    .map_err(|e| match e {
        KeyHistoryError::UnknownDid { .. } => unknown(),
        _ => not_valid(),
    })?;
    let cached = method
        .public_key_multibase
        .as_ref()
        .and_then(|multibase| decoded?.get(multibase));
    match cached {
        Some(key) => Ok(key.clone()),
        None => method.public_key().map_err(|_| not_valid()),
    }
}
