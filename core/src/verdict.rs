//! The verdict: what a verification concluded, and why, in stable codes.
//!
//! A verifier never answers with a bare bool. A [`Verdict`] carries the [`Decision`], every
//! [`Reason`] behind it as a [`ReasonCode`] whose snake_case string is a stable API (UIs,
//! logs and metrics key on it), the disclosed claims, the credential type, the issuer and the
//! freshness of the trust data used.
//!
//! "Could not check" is kept apart from "invalid": a reason is either [`ReasonKind::Invalid`]
//! (the credential is wrong: forged, expired, revoked…) or [`ReasonKind::Unchecked`] (a check
//! could not be made: no trust bundle, status list missing). Invalid reasons always reject;
//! an unchecked one rejects when the verifier's policy marks that check as required.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::i18n::Lang;
use crate::jws::JwsError;
use crate::sd_jwt::{IssuerKeyError, KeyBindingError, SdJwtError};

/// Accept or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Every required check passed.
    Accepted,
    /// At least one check failed, or a required check could not be made.
    Rejected,
}

/// Why a verdict is what it is. The snake_case names are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReasonCode {
    /// The credential or presentation is not well formed.
    MalformedCredential,
    /// The QR payload is not well formed (prefix, base45, CBOR, COSE).
    MalformedQr,
    /// The input is larger than any valid credential.
    TooLarge,
    /// Not a format or version this verifier understands.
    UnsupportedFormat,
    /// A signature or digest algorithm that is refused (`none`, HMAC, unknown).
    UnsupportedAlgorithm,
    /// The issuer's signature does not verify.
    SignatureInvalid,
    /// The issuer's key cannot be found: the trust data does not carry the issuer and it is
    /// not a key DID resolvable offline (`did:key`, `did:jwk`), or it names no usable key.
    IssuerUnknown,
    /// The issuer is not accredited for this credential type.
    IssuerNotAccreditedForType,
    /// The issuer's accreditation was withdrawn.
    AccreditationWithdrawn,
    /// The signing key was not the issuer's valid key when the credential was issued.
    KeyNotValidAtIssuance,
    /// A disclosure is tampered, duplicated, misplaced or otherwise invalid.
    DisclosureInvalid,
    /// The credential's validity period has ended.
    Expired,
    /// The credential's validity period has not begun.
    NotYetValid,
    /// The credential is revoked.
    Revoked,
    /// The credential is suspended.
    Suspended,
    /// The credential's status list was not available.
    StatusUnavailable,
    /// Holder binding was required and is absent.
    HolderBindingMissing,
    /// The holder binding signature or its contents do not verify.
    HolderBindingInvalid,
    /// The holder binding is outside its time window.
    BindingExpired,
    /// The holder binding answers another challenge (nonce).
    ChallengeMismatch,
    /// The holder binding is for another verifier.
    AudienceMismatch,
    /// The trust bundle is older than the verifier's policy allows.
    BundleTooOld,
    /// The trust bundle's signature or proofs do not verify.
    BundleInvalid,
    /// Fewer witnesses cosigned the checkpoint than the policy requires.
    WitnessesInsufficient,
    /// Accreditation was not checked (no trust bundle).
    AccreditationNotChecked,
    /// Status was not checked (no status list).
    StatusNotChecked,
    /// The issuer is outside the registry: a key DID (`did:key`, `did:jwk`) from another
    /// system, whose signature was checked with the key the DID names but which no one
    /// accredited. Blocking unless the verifier's policy also accepts such issuers.
    IssuerNotInRegistry,
}

impl ReasonCode {
    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::MalformedCredential => "malformed_credential",
            ReasonCode::MalformedQr => "malformed_qr",
            ReasonCode::TooLarge => "too_large",
            ReasonCode::UnsupportedFormat => "unsupported_format",
            ReasonCode::UnsupportedAlgorithm => "unsupported_algorithm",
            ReasonCode::SignatureInvalid => "signature_invalid",
            ReasonCode::IssuerUnknown => "issuer_unknown",
            ReasonCode::IssuerNotAccreditedForType => "issuer_not_accredited_for_type",
            ReasonCode::AccreditationWithdrawn => "accreditation_withdrawn",
            ReasonCode::KeyNotValidAtIssuance => "key_not_valid_at_issuance",
            ReasonCode::DisclosureInvalid => "disclosure_invalid",
            ReasonCode::Expired => "expired",
            ReasonCode::NotYetValid => "not_yet_valid",
            ReasonCode::Revoked => "revoked",
            ReasonCode::Suspended => "suspended",
            ReasonCode::StatusUnavailable => "status_unavailable",
            ReasonCode::HolderBindingMissing => "holder_binding_missing",
            ReasonCode::HolderBindingInvalid => "holder_binding_invalid",
            ReasonCode::BindingExpired => "binding_expired",
            ReasonCode::ChallengeMismatch => "challenge_mismatch",
            ReasonCode::AudienceMismatch => "audience_mismatch",
            ReasonCode::BundleTooOld => "bundle_too_old",
            ReasonCode::BundleInvalid => "bundle_invalid",
            ReasonCode::WitnessesInsufficient => "witnesses_insufficient",
            ReasonCode::AccreditationNotChecked => "accreditation_not_checked",
            ReasonCode::StatusNotChecked => "status_not_checked",
            ReasonCode::IssuerNotInRegistry => "issuer_not_in_registry",
        }
    }

    /// The reason for people reading the verdict, in `lang`: dojang's one catalog of reason
    /// messages.
    pub fn message(self, lang: Lang) -> &'static str {
        let (ko, en) = match self {
            ReasonCode::MalformedCredential => (
                "자격증명이 손상되었거나 형식이 올바르지 않습니다.",
                "The credential is damaged or not well formed.",
            ),
            ReasonCode::MalformedQr => (
                "QR 코드에 읽을 수 있는 자격증명이 없습니다.",
                "The QR code does not contain a readable credential.",
            ),
            ReasonCode::TooLarge => (
                "입력이 어떤 자격증명보다도 훨씬 큽니다.",
                "The input is far larger than any credential.",
            ),
            ReasonCode::UnsupportedFormat => (
                "지원하지 않는 자격증명 형식 또는 버전입니다.",
                "This credential format or version is not supported.",
            ),
            ReasonCode::UnsupportedAlgorithm => (
                "자격증명이 허용되지 않는 서명 알고리즘을 사용합니다.",
                "The credential uses a refused signature algorithm.",
            ),
            ReasonCode::SignatureInvalid => (
                "발급자의 서명이 유효하지 않습니다: 위조되었거나 변경되었습니다.",
                "The issuer's signature is not valid: forged or altered.",
            ),
            ReasonCode::IssuerUnknown => (
                "발급자를 오프라인으로 확인할 수 없습니다: 신뢰 번들에 없는 발급자(인정된 적이 없거나 번들 이후에 인정됨)이며 키 DID도 아닙니다.",
                "The issuer cannot be identified offline: the trust bundle does not carry it (never accredited, or accredited after the bundle) and it is not a key DID.",
            ),
            ReasonCode::IssuerNotAccreditedForType => (
                "발급자가 이 종류의 자격증명을 발급하도록 인정받지 않았습니다.",
                "The issuer is not accredited to issue this type of credential.",
            ),
            ReasonCode::AccreditationWithdrawn => (
                "발급자의 인정이 철회되었습니다.",
                "The issuer's accreditation has been withdrawn.",
            ),
            ReasonCode::KeyNotValidAtIssuance => (
                "이 자격증명이 발급될 때 발급자의 키가 유효하지 않았습니다.",
                "The issuer's key was not valid when this credential was issued.",
            ),
            ReasonCode::DisclosureInvalid => (
                "공개된 항목이 변경되었거나, 중복되었거나, 끼워 넣어졌습니다.",
                "A disclosed claim was altered, duplicated or injected.",
            ),
            ReasonCode::Expired => (
                "자격증명의 유효기간이 지났습니다.",
                "The credential has expired.",
            ),
            ReasonCode::NotYetValid => (
                "자격증명의 유효기간이 아직 시작되지 않았습니다.",
                "The credential is not valid yet.",
            ),
            ReasonCode::Revoked => (
                "발급자가 이 자격증명을 폐지했습니다.",
                "The issuer has revoked this credential.",
            ),
            ReasonCode::Suspended => (
                "발급자가 이 자격증명을 정지했습니다.",
                "The issuer has suspended this credential.",
            ),
            ReasonCode::StatusUnavailable => (
                "자격증명의 폐지 여부를 확인할 수 없습니다.",
                "The credential's revocation status is not available.",
            ),
            ReasonCode::HolderBindingMissing => (
                "소지자가 이 자격증명의 소지를 증명하지 않았습니다.",
                "The holder did not prove possession of the credential.",
            ),
            ReasonCode::HolderBindingInvalid => (
                "소지자의 소지 증명이 유효하지 않습니다(다른 키이거나 제시가 변경됨).",
                "The holder's proof of possession is invalid (wrong key or altered presentation).",
            ),
            ReasonCode::BindingExpired => (
                "제시의 유효 시간이 지났습니다(재사용된 것일 수 있습니다).",
                "The presentation is outside its time window (replayed?).",
            ),
            ReasonCode::ChallengeMismatch => (
                "제시가 다른 요청(챌린지)에 대한 응답입니다.",
                "The presentation answers a different challenge.",
            ),
            ReasonCode::AudienceMismatch => (
                "제시가 다른 검증자를 위해 만들어졌습니다.",
                "The presentation was made for a different verifier.",
            ),
            ReasonCode::BundleTooOld => (
                "검증기의 신뢰 데이터가 너무 오래되었습니다. 동기화하세요.",
                "The verifier's trust data is too old; sync it.",
            ),
            ReasonCode::BundleInvalid => (
                "검증기의 신뢰 데이터가 무결성 검사를 통과하지 못했습니다.",
                "The verifier's trust data failed its integrity checks.",
            ),
            ReasonCode::WitnessesInsufficient => (
                "신뢰 데이터를 보증하는 독립 증인이 너무 적습니다.",
                "Too few independent witnesses vouch for the trust data.",
            ),
            ReasonCode::AccreditationNotChecked => (
                "발급자 인정 여부를 확인하지 않았습니다.",
                "Issuer accreditation was not checked.",
            ),
            ReasonCode::StatusNotChecked => (
                "폐지 여부를 확인하지 않았습니다.",
                "Revocation status was not checked.",
            ),
            ReasonCode::IssuerNotInRegistry => (
                "등록부에서 인정되지 않은 발급자입니다: 서명은 유효하지만 누구도 이 발급자를 보증하지 않습니다.",
                "The issuer is not accredited in the registry: its signature is valid, but no one vouches for who it is.",
            ),
        };
        lang.choose(ko, en)
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a reason is a failed check or a check that could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// The check was made and failed.
    Invalid,
    /// The check could not be made.
    Unchecked,
}

/// One reason in a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// Failed, or could not check.
    pub kind: ReasonKind,
    /// Whether this reason alone rejects the credential.
    pub blocking: bool,
    /// Technical detail for logs and experts (never personal data).
    pub detail: String,
}

/// How fresh the trust data behind a verdict is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freshness {
    /// When the trust bundle was exported, Unix seconds.
    pub bundle_issued_at: i64,
    /// Its age at verification time, in seconds.
    pub bundle_age_secs: i64,
    /// The log size of the bundle's checkpoint.
    pub checkpoint_size: u64,
    /// How many witnesses cosigned that checkpoint.
    pub witnesses: u32,
}

/// Who issued the credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerInfo {
    /// The issuer's identifier (DID).
    pub id: String,
    /// Its registered name, when the trust data knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The result of verifying one credential presentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Accept or reject.
    pub decision: Decision,
    /// Every reason, blocking or not.
    pub reasons: Vec<Reason>,
    /// The credential type, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<String>,
    /// The issuer, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerInfo>,
    /// The claims the holder disclosed (empty when rejected before they could be trusted).
    pub disclosed_claims: Map<String, Value>,
    /// Freshness of the trust data, when a trust bundle was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness: Option<Freshness>,
    /// When the verification was made, Unix seconds.
    pub verified_at: i64,
}

impl Verdict {
    /// An accepted verdict with nothing in it yet.
    pub fn new(verified_at: i64) -> Self {
        Verdict {
            decision: Decision::Accepted,
            reasons: Vec::new(),
            credential_type: None,
            issuer: None,
            disclosed_claims: Map::new(),
            freshness: None,
            verified_at,
        }
    }

    /// A verdict rejecting for one reason.
    pub fn rejected(verified_at: i64, code: ReasonCode, detail: impl Into<String>) -> Self {
        let mut verdict = Verdict::new(verified_at);
        verdict.invalid(code, detail);
        verdict
    }

    /// Records a failed check; the verdict becomes rejected.
    pub fn invalid(&mut self, code: ReasonCode, detail: impl Into<String>) {
        self.push(code, ReasonKind::Invalid, true, detail.into());
    }

    /// Records a check that could not be made; it rejects if `required`.
    pub fn unchecked(&mut self, code: ReasonCode, required: bool, detail: impl Into<String>) {
        self.push(code, ReasonKind::Unchecked, required, detail.into());
    }

    fn push(&mut self, code: ReasonCode, kind: ReasonKind, blocking: bool, detail: String) {
        if blocking {
            self.decision = Decision::Rejected;
            // Claims of a credential that failed are not to be relied on or displayed.
            self.disclosed_claims.clear();
        }
        self.reasons.push(Reason {
            code,
            kind,
            blocking,
            detail,
        });
    }

    /// Whether the decision is accept.
    pub fn is_accepted(&self) -> bool {
        self.decision == Decision::Accepted
    }

    /// Whether `code` is among the reasons.
    pub fn has(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }

    /// The blocking reason codes, in order.
    pub fn blocking_codes(&self) -> Vec<ReasonCode> {
        self.reasons
            .iter()
            .filter(|r| r.blocking)
            .map(|r| r.code)
            .collect()
    }
}

impl From<&JwsError> for ReasonCode {
    fn from(e: &JwsError) -> Self {
        match e {
            JwsError::AlgorithmNone
            | JwsError::SymmetricAlgorithm { .. }
            | JwsError::UnsupportedAlgorithm { .. }
            | JwsError::UnsupportedCritical { .. }
            | JwsError::AlgorithmMismatch { .. } => ReasonCode::UnsupportedAlgorithm,
            JwsError::SignatureInvalid => ReasonCode::SignatureInvalid,
            JwsError::UnexpectedType { .. } => ReasonCode::UnsupportedFormat,
            JwsError::TooLarge { .. } => ReasonCode::TooLarge,
            JwsError::Malformed { .. } => ReasonCode::MalformedCredential,
        }
    }
}

impl From<&SdJwtError> for ReasonCode {
    fn from(e: &SdJwtError) -> Self {
        match e {
            SdJwtError::TooLarge { .. } => ReasonCode::TooLarge,
            SdJwtError::Jws(e) => e.into(),
            SdJwtError::IssuerKey(IssuerKeyError::KeyNotValidAtIssuance { .. }) => {
                ReasonCode::KeyNotValidAtIssuance
            }
            SdJwtError::IssuerKey(_) => ReasonCode::IssuerUnknown,
            SdJwtError::UnsupportedSdAlg { .. } => ReasonCode::UnsupportedAlgorithm,
            SdJwtError::InvalidDisclosure { .. }
            | SdJwtError::DuplicateDisclosure { .. }
            | SdJwtError::DuplicateDigest { .. }
            | SdJwtError::UnreferencedDisclosure { .. }
            | SdJwtError::ClaimCollision { .. }
            | SdJwtError::DisclosureKind { .. }
            | SdJwtError::ReservedClaimName { .. }
            | SdJwtError::TooDeep
            | SdJwtError::TooManyDisclosures { .. }
            | SdJwtError::ForbiddenDisclosure { .. } => ReasonCode::DisclosureInvalid,
            SdJwtError::Expired { .. } => ReasonCode::Expired,
            SdJwtError::NotYetValid { .. } => ReasonCode::NotYetValid,
            SdJwtError::KeyBinding(e) => match e {
                KeyBindingError::Missing | KeyBindingError::HolderKeyMissing => {
                    ReasonCode::HolderBindingMissing
                }
                KeyBindingError::NonceMismatch => ReasonCode::ChallengeMismatch,
                KeyBindingError::AudienceMismatch => ReasonCode::AudienceMismatch,
                KeyBindingError::Stale { .. } | KeyBindingError::IssuedInFuture { .. } => {
                    ReasonCode::BindingExpired
                }
                KeyBindingError::HolderKey(_)
                | KeyBindingError::Jws(_)
                | KeyBindingError::InvalidClaim { .. }
                | KeyBindingError::SdHashMismatch => ReasonCode::HolderBindingInvalid,
            },
            SdJwtError::Malformed { .. }
            | SdJwtError::MissingClaim { .. }
            | SdJwtError::InvalidClaim { .. }
            | SdJwtError::PathNotFound { .. }
            | SdJwtError::Sign(_)
            | SdJwtError::Rng => ReasonCode::MalformedCredential,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_stable_strings() {
        for code in [
            ReasonCode::SignatureInvalid,
            ReasonCode::IssuerNotAccreditedForType,
            ReasonCode::KeyNotValidAtIssuance,
            ReasonCode::Revoked,
            ReasonCode::BindingExpired,
            ReasonCode::BundleTooOld,
            ReasonCode::MalformedQr,
            ReasonCode::StatusNotChecked,
            ReasonCode::IssuerNotInRegistry,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                Value::String(code.as_str().into())
            );
            for lang in Lang::ALL {
                assert!(!code.message(lang).is_empty());
            }
        }
    }

    #[test]
    fn unchecked_rejects_only_when_required() {
        let mut v = Verdict::new(0);
        v.disclosed_claims.insert("a".into(), 1.into());
        v.unchecked(ReasonCode::AccreditationNotChecked, false, "no bundle");
        assert!(v.is_accepted());
        assert_eq!(v.disclosed_claims.len(), 1);
        v.unchecked(ReasonCode::StatusUnavailable, true, "list missing");
        assert_eq!(v.decision, Decision::Rejected);
        assert!(
            v.disclosed_claims.is_empty(),
            "claims of a rejected credential are dropped"
        );
        assert_eq!(v.blocking_codes(), [ReasonCode::StatusUnavailable]);
        let r = Verdict::rejected(5, ReasonCode::Revoked, "bit set");
        assert!(!r.is_accepted() && r.has(ReasonCode::Revoked));
    }
}
