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
//! Which issuers are accepted is an explicit [`IssuerPolicy`], the same for every format:
//! registry-accredited only (the default), or also key-DID issuers from other systems
//! (`did:key`, `did:jwk`), signature-checked and reported as not accredited.
//!
//! Verification never touches the network and never panics on input; every failure becomes a
//! stable reason code, and no reason's detail repeats the input.
//!
//! # Layers
//!
//! The offline verifier above — [`Verifier`], [`Trust`], [`di`], [`input`] — does no I/O and
//! needs no async runtime, so a phone or a kiosk can embed it alone (`default-features =
//! false`). Feature `server` (on by default) adds what a counter runs: [`service`] (the bundle
//! held and swapped on refresh, challenges, OpenID4VP sessions, the registry reached through
//! [`dojang_ledger::api::Ledger`]) and [`http`] (axum routes over the service, the employer
//! page, the OpenAPI document).
#![forbid(unsafe_code)]

pub mod di;
#[cfg(feature = "server")]
pub mod http;
pub mod input;
#[cfg(feature = "server")]
pub mod service;
pub mod trust;

use dojang_core::compact::{self, Challenge};
use dojang_core::did::Did;
use dojang_core::key::PublicKey;
use dojang_core::sd_jwt::vc;
use dojang_core::sd_jwt::{
    ExpectedKeyBinding, IssuerKeyError, IssuerKeyResolver, OfflineDids, VerifyOptions,
};
use dojang_core::status::StatusListReference;
use dojang_core::verdict::{IssuerInfo, ReasonCode, Verdict};
use dojang_ledger::state::{Accreditation, LedgerState};
use dojang_schemas::Catalog;

use input::Echoes;
pub use input::Presented;
pub use trust::{StatusLookup, Trust};

/// Which issuers a verifier accepts. Every format — QR, SD-JWT VC, Data Integrity — follows
/// the same rule.
///
/// An issuer the registry carries is judged by the registry: its key as of issuance, its
/// accreditation for the type, its status lists. An issuer named by a *key DID* (`did:key`,
/// `did:jwk`: a DID that is a public key, resolved offline from the identifier itself) is
/// outside the registry — a badge from another system, say. Its signature is always checked
/// with the key its DID names; whether the credential is then accepted is this policy's call,
/// and an accepted one always carries the reason
/// [`issuer_not_in_registry`](ReasonCode::IssuerNotInRegistry), never reading as accredited.
/// Any other issuer the bundle lacks (`did:web`, a `did:dojang` no one accredited, a URL) is
/// `issuer_unknown` under both policies: nothing offline says which key speaks for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum IssuerPolicy {
    /// Only issuers the registry accredits for the credential's type (the default).
    #[default]
    Accredited,
    /// Also issuers named by a key DID outside the registry: signature checked, verdict
    /// accepted with the non-blocking reason `issuer_not_in_registry` (and, when the credential
    /// names a status list, `status_not_checked`: the registry carries no lists for them).
    AlsoKeyDids,
}

impl IssuerPolicy {
    /// Every policy, in the order the CLI lists them.
    pub const ALL: [IssuerPolicy; 2] = [IssuerPolicy::Accredited, IssuerPolicy::AlsoKeyDids];

    /// The stable name, as the CLI (`--issuers`) and the service's JSON spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerPolicy::Accredited => "accredited",
            IssuerPolicy::AlsoKeyDids => "also-key-dids",
        }
    }

    /// What it means, for a person (Korean, then English).
    pub fn describe(self) -> &'static str {
        match self {
            IssuerPolicy::Accredited => {
                "등록부에서 인정된 발급자만 받습니다 / only issuers accredited in the registry"
            }
            IssuerPolicy::AlsoKeyDids => {
                "등록부에서 인정된 발급자와, 등록부 밖의 did:key·did:jwk 발급자도 받습니다(서명만 확인, \
                 '인정되지 않은 발급자'로 표시) / issuers accredited in the registry, and also did:key and \
                 did:jwk issuers outside it (signature checked, shown as not accredited)"
            }
        }
    }
}

impl std::fmt::Display for IssuerPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for IssuerPolicy {
    type Err = UnknownIssuerPolicy;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        IssuerPolicy::ALL
            .into_iter()
            .find(|policy| policy.as_str() == text)
            .ok_or(UnknownIssuerPolicy)
    }
}

/// A name that is not an [`IssuerPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown issuer policy: use `accredited` or `also-key-dids`")]
pub struct UnknownIssuerPolicy;

/// Whether `did` is a key DID: a public key written as a DID, resolved offline.
pub fn is_key_did(did: &Did) -> bool {
    matches!(did.method(), "key" | "jwk")
}

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
    /// Which issuers are accepted: see [`IssuerPolicy`].
    pub issuers: IssuerPolicy,
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
            issuers: IssuerPolicy::default(),
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
    ///
    /// A verdict's reasons never repeat the input: what a parser quotes from it is cut from
    /// the detail (see `input::Echoes`), and the trust decisions name no input value, so a
    /// verdict can be shown and logged.
    pub fn verify(&self, input: &[u8], policy: &Policy<'_>, now: i64) -> Verdict {
        match Presented::detect(input) {
            Ok(Presented::QrPayload(payload)) => self.qr(&payload, policy, now),
            Ok(Presented::SdJwt(text)) => self.sd_jwt_vc(&text, policy, now),
            Ok(Presented::DataIntegrity(text)) => self.data_integrity(&text, policy, now),
            Err((code, detail)) => self.rejected(now, code, Echoes::of_input(input).scrub(&detail)),
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
        match compact::verify(presentation, &IssuerKeys(self.trust), &options) {
            Ok(verified) => self.judge(
                Verified {
                    issuer: verified.issuer,
                    vct: verified.vct,
                    status: verified.status.as_ref(),
                    unread_status: false,
                    claims: verified.claims,
                },
                policy,
                now,
            ),
            Err(e) => {
                let detail = Echoes::of_payload(presentation).scrub(&e.to_string());
                self.rejected(now, (&e).into(), detail)
            }
        }
    }

    /// Verifies an SD-JWT VC presentation.
    pub fn sd_jwt_vc(&self, presentation: &str, policy: &Policy<'_>, now: i64) -> Verdict {
        let options = VerifyOptions {
            now,
            leeway: policy.leeway,
            key_binding: policy.key_binding,
        };
        match vc::verify(presentation, &IssuerKeys(self.trust), &options) {
            Ok(verified) => self.judge(
                Verified {
                    issuer: &verified.issuer,
                    vct: &verified.vct,
                    status: verified.status.as_ref(),
                    unread_status: false,
                    claims: verified.claims,
                },
                policy,
                now,
            ),
            Err(e) => {
                let detail = Echoes::of_jwt(presentation).scrub(&e.to_string());
                self.rejected(now, (&e).into(), detail)
            }
        }
    }

    /// Verifies an ISO 18013-5 DeviceResponse (`mso_mdoc`) answering a request whose
    /// SessionTranscript is `session_transcript` (for OpenID4VP, see
    /// [`dojang_mdoc::session_transcript_openid4vp`]): issuerAuth under an issuing-authority root
    /// the bundle carries, a document signer the registry published (and has not revoked) for
    /// an accredited issuer's key, every disclosed item's digest, the device's signature, then
    /// the checks every format shares (accreditation for the document type's credential type,
    /// status, bundle age).
    pub fn mdoc(
        &self,
        device_response: &[u8],
        session_transcript: &[u8],
        policy: &Policy<'_>,
        now: i64,
    ) -> Verdict {
        let state = self.trust.state();
        let refused = |e: dojang_mdoc::MdocError| self.rejected(now, e.reason(), e.to_string());
        let response = match dojang_mdoc::DeviceResponse::parse(device_response) {
            Ok(response) => response,
            Err(e) => return refused(e),
        };
        let [document] = response.documents.as_slice() else {
            return self.rejected(
                now,
                ReasonCode::MalformedCredential,
                "a DeviceResponse answers with exactly one document".to_owned(),
            );
        };
        let verified = match document.verify(self.trust.iaca_roots(), now, session_transcript, None)
        {
            Ok(verified) => verified,
            Err(e) => return refused(e),
        };
        let Some(signer) = state
            .certificate(verified.signer.der())
            .filter(|c| !c.is_root)
        else {
            return self.rejected(
                now,
                ReasonCode::IssuerUnknown,
                "the document signer's certificate is not one the registry published".to_owned(),
            );
        };
        if signer.revoked.is_some() {
            return self.rejected(
                now,
                ReasonCode::KeyNotValidAtIssuance,
                "the registry revoked the document signer's certificate".to_owned(),
            );
        }
        let Some(issuer) = signer.subject.as_ref().map(ToString::to_string) else {
            return self.rejected(
                now,
                ReasonCode::IssuerUnknown,
                "the document signer's certificate names no issuer".to_owned(),
            );
        };
        let vct = match self.catalog.by_mdoc_doctype(&verified.mso.doc_type) {
            Ok(ty) => ty.descriptor().vct.clone(),
            Err(_) => {
                return self.rejected(
                    now,
                    ReasonCode::UnsupportedFormat,
                    "a document type this verifier does not know".to_owned(),
                );
            }
        };
        let claims = verified
            .items
            .iter()
            .map(|item| (item.element.clone(), item.value.clone()))
            .collect();
        self.judge(
            Verified {
                issuer: &issuer,
                vct: &vct,
                status: verified.mso.status.as_ref(),
                unread_status: false,
                claims,
            },
            policy,
            now,
        )
    }

    /// Verifies a W3C Data Integrity credential (eddsa-rdfc-2022, ecdsa-rdfc-2019).
    ///
    /// Its proof is made with a `did:key`, so its issuer is always a key DID outside the
    /// registry: accepted only under [`IssuerPolicy::AlsoKeyDids`], and then only when the
    /// credential's `issuer` is that DID. A URL issuer cannot be tied to the proof's key
    /// offline: `issuer_unknown`, whatever the policy.
    pub fn data_integrity(&self, document: &str, policy: &Policy<'_>, now: i64) -> Verdict {
        let echoes = || Echoes::of_text(document);
        let verified = match di::verify(document) {
            Ok(verified) => verified,
            Err(e) => {
                return self.rejected(now, e.reason_code(), echoes().scrub(&e.to_string()));
            }
        };
        if let Some((code, detail)) = di::judge(&verified, now, policy.leeway) {
            return self.rejected(now, code, echoes().scrub(&detail));
        }
        // The accountable party is the key's controller: a DID issuer was checked to be it.
        let ty = verified.most_specific_type().to_owned();
        let signer = verified.signer().to_owned();
        let url_issuer = verified.issuer != signer;
        // A W3C `credentialStatus` names a list the trust bundle cannot hold.
        let unread_status = serde_json::from_str::<serde_json::Value>(document)
            .ok()
            .is_some_and(|doc| doc.get("credentialStatus").is_some());
        let mut verdict = self.judge(
            Verified {
                issuer: &signer,
                vct: &ty,
                status: None,
                unread_status,
                claims: verified.claims,
            },
            policy,
            now,
        );
        if url_issuer {
            verdict.unchecked(
                ReasonCode::IssuerUnknown,
                policy.require_trust_checks,
                "발급자가 DID가 아닌 URL이어서 오프라인으로는 서명한 키와 연결할 수 없습니다 / the \
                 credential names a URL, not a DID, as its issuer: offline, that URL cannot be tied \
                 to the key that signed it",
            );
        }
        verdict
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
        // An issuer outside the registry: a key DID (the only kind whose key could be found
        // without the bundle). Accepted only when the policy says so, and never as accredited.
        let mut outside = None;
        match state.registered(verified.issuer) {
            Some((did, _)) => match state.accreditation(did, ty) {
                Accreditation::Accredited { name, .. } => issuer.name = Some(name),
                Accreditation::Withdrawn => verdict.invalid(
                    ReasonCode::AccreditationWithdrawn,
                    "the issuer's accreditation for this credential type was withdrawn",
                ),
                Accreditation::NotAccredited => verdict.invalid(
                    ReasonCode::IssuerNotAccreditedForType,
                    "the issuer is not accredited for this credential type in the registry",
                ),
            },
            None => match Did::parse(verified.issuer) {
                Ok(did) => {
                    let accepted = policy.issuers == IssuerPolicy::AlsoKeyDids && is_key_did(&did);
                    outside = Some(accepted);
                    let detail = if accepted {
                        "등록부 밖의 발급자(did:key·did:jwk)입니다. 서명은 그 DID가 가리키는 키로 \
                         확인했지만, 아무도 이 발급자를 인정하지 않았습니다 / the issuer is a key \
                         DID outside the registry: its signature was checked with the key the DID \
                         names, but no one accredited it"
                    } else {
                        "등록부 밖의 발급자(did:key·did:jwk)입니다. 이 검증기는 등록부에서 인정된 \
                         발급자만 받습니다 / the issuer is a key DID outside the registry; this \
                         verifier accepts only issuers the registry accredits (policy \
                         `also-key-dids` also accepts such issuers, shown as not accredited)"
                    };
                    verdict.unchecked(
                        ReasonCode::IssuerNotInRegistry,
                        policy.require_trust_checks && !accepted,
                        detail,
                    );
                }
                Err(_) => verdict.invalid(
                    ReasonCode::IssuerNotAccreditedForType,
                    "the issuer is not a DID",
                ),
            },
        }
        verdict.issuer = Some(issuer);

        match (outside, verified.status) {
            (Some(accepted), status) if status.is_some() || verified.unread_status => verdict
                .unchecked(
                    ReasonCode::StatusNotChecked,
                    policy.require_trust_checks && !accepted,
                    "등록부는 인정된 발급자의 상태 목록만 싣습니다. 이 발급자의 폐지 여부는 \
                     오프라인으로 확인할 수 없습니다 / the registry carries status lists only for \
                     issuers it accredits: whether this one revoked the credential cannot be checked \
                     offline",
                ),
            (None, Some(reference)) => match self.trust.status(verified.issuer, reference, now) {
                StatusLookup::Known(status) => {
                    if let Some(code) = status_reason(status) {
                        verdict.invalid(
                            code,
                            format!("the issuer's status list marks it {}", code.as_str()),
                        );
                    }
                }
                StatusLookup::Missing => verdict.unchecked(
                    ReasonCode::StatusUnavailable,
                    policy.require_trust_checks,
                    format!(
                        "신뢰 번들(체크포인트 {size})에 이 자격증명의 상태 목록이 없습니다. 번들보다 \
                         나중에 게시된 목록일 수 있으니, 번들을 갱신한 뒤 다시 확인하세요 / the trust \
                         bundle (checkpoint {size}) has no status list for this credential: the list \
                         may be newer than the bundle; refresh the bundle and verify again",
                        size = freshness.checkpoint_size
                    ),
                ),
                StatusLookup::Unavailable(why) => verdict.unchecked(
                    ReasonCode::StatusUnavailable,
                    policy.require_trust_checks,
                    why,
                ),
            },
            (None, None) if verified.unread_status => verdict.unchecked(
                ReasonCode::StatusNotChecked,
                policy.require_trust_checks,
                "the credential's status is not of a kind the trust bundle carries",
            ),
            _ => {}
        }
        verdict
    }
}

/// Issuer keys: the bundle's key histories, and for a key DID the bundle does not carry, the
/// key the DID names — its signature is checked either way, and [`Verifier::judge`] applies the
/// [`IssuerPolicy`]. Any other issuer the bundle lacks stays unknown.
struct IssuerKeys<'a>(&'a Trust);

impl IssuerKeyResolver for IssuerKeys<'_> {
    fn issuer_key(
        &self,
        issuer: Option<&str>,
        kid: Option<&str>,
        issued_at: Option<i64>,
    ) -> Result<PublicKey, IssuerKeyError> {
        match self.0.issuer_key(issuer, kid, issued_at) {
            Err(IssuerKeyError::UnknownIssuer { .. })
                if issuer
                    .and_then(|issuer| Did::parse(issuer).ok())
                    .is_some_and(|did| is_key_did(&did)) =>
            {
                OfflineDids.issuer_key(issuer, kid, issued_at)
            }
            found => found,
        }
    }
}

/// What every format yields once its signatures check out.
struct Verified<'a> {
    issuer: &'a str,
    vct: &'a str,
    status: Option<&'a StatusListReference>,
    /// A status the bundle cannot look up (a Data Integrity `credentialStatus`).
    unread_status: bool,
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

/// A table of the trust state, looked up on every verification: an issuer's key and status list
/// are found without hashing their 50–90-byte names through SipHash on every verdict. Foldhash
/// is enough here: a table is filled once from a verified bundle and only read after, nothing a
/// verification is given inserts into it, and its seed is this process's own — whoever
/// registered a DID's keys in the log cannot aim collisions at a seed they never see. (The
/// registry's own state, which anyone can add a DID to for as long as it runs, keeps SipHash.)
pub(crate) type Lookup<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Multibase public keys already decoded (P-256 point decompression costs ~8 µs a time).
pub(crate) type DecodedKeys = Lookup<String, PublicKey>;

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
    let (_, record) = state.registered(issuer).ok_or_else(unknown)?;
    // `iat` has second precision, the ledger milliseconds: the key must have been valid at
    // some instant of that second. Without `iat`, only the current document counts.
    let method = match issued_at {
        None => record.assertion_method_at(kid, u64::MAX),
        Some(iat) => {
            let start = u64::try_from(iat).unwrap_or(0).saturating_mul(1000);
            record.assertion_method_during(kid, start, start.saturating_add(999))
        }
    }
    .ok_or_else(not_valid)?;
    let cached = method
        .public_key_multibase
        .as_ref()
        .and_then(|multibase| decoded?.get(multibase));
    match cached {
        Some(key) => Ok(key.clone()),
        None => method.public_key().map_err(|_| not_valid()),
    }
}
