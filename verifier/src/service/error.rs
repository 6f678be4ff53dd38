//! Why a service call failed: one variant per cause, each with a stable code and a fixed
//! message in Korean and English — never a piece of the request.

use dojang_ledger::api::LedgerError;
use dojang_ledger::bundle::BundleError;

/// Why a [`VerifierService`](super::VerifierService) call failed.
///
/// [`code`](Self::code) is the stable code answers and logs carry; the `Display` text is the
/// message for people (Korean, then English): fixed text with, at most, what the registry
/// answered, never a piece of the request. `http` chooses each variant's status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// No trust bundle is loaded yet: verification starts once a refresh succeeds.
    #[error(
        "아직 신뢰 번들을 불러오지 못했습니다. 레지스트리에서 갱신되면 검증할 수 있습니다 / no trust \
         bundle loaded yet: verification starts once a refresh from the registry succeeds"
    )]
    NoBundle,
    /// Every verification (or upload) slot is taken; the caller is told at once, not queued.
    #[error(
        "검증 요청이 너무 많습니다. 잠시 후 다시 시도하세요 / too many verifications in progress; \
         try again shortly"
    )]
    Busy,
    /// The client address opened too many challenges or requests this minute.
    #[error(
        "이 주소에서 요청이 너무 많습니다. 잠시 후 다시 시도하세요 / too many challenges or requests \
         from this address; try again in a minute"
    )]
    TooManyRequests,
    /// An OpenID4VP request asked for a credential type the catalog does not have.
    #[error(
        "알 수 없는 자격증명 종류입니다 / unknown credential type; known: {}",
        .known.join(", ")
    )]
    UnknownType {
        /// The types there are.
        known: Vec<String>,
    },
    /// An OpenID4VP request asked for a claim the type does not have.
    #[error(
        "요청한 항목 중 이 종류에 없는 것이 있습니다 / a requested claim is not one of this \
         type's; they are: {}",
        .known.join(", ")
    )]
    UnknownClaim {
        /// The type's claims, dotted (`address.city`).
        known: Vec<String>,
    },
    /// An OpenID4VP request asked for a format the type is not issued in.
    #[error(
        "이 종류는 요청한 형식으로 발급되지 않습니다 / this type is not issued in the requested \
         format; it is: {}",
        .known.join(", ")
    )]
    UnsupportedFormat {
        /// The type's formats.
        known: Vec<String>,
    },
    /// No open OpenID4VP request has this state: unknown, expired, or already answered.
    #[error("알 수 없거나 만료되었거나 이미 답한 요청입니다 / unknown, expired or answered state")]
    UnknownState,
    /// No OpenID4VP request has this state, answered or not: unknown or expired.
    #[error("알 수 없거나 만료된 요청입니다 / unknown or expired request")]
    UnknownRequest,
    /// The `vp_token` is not a JSON object mapping each query id to presentations.
    #[error(
        "vp_token을 읽을 수 없습니다: 질의 id마다 프레젠테이션 배열을 담은 JSON 객체여야 합니다 / \
         vp_token is not a JSON object mapping each query id to an array of presentations"
    )]
    VpTokenUnreadable,
    /// The `vp_token` does not answer the query with exactly one presentation.
    #[error(
        "vp_token이 요청한 질의에 프레젠테이션 하나로 답하지 않습니다 / vp_token does not answer \
         the query with exactly one presentation"
    )]
    VpTokenNotOnePresentation,
    /// No registry is configured: the bundle is replaced by hand.
    #[error(
        "레지스트리가 설정되지 않아 이 검증기의 번들은 직접 교체해야 합니다 / no registry \
         configured: this verifier's bundle is updated by hand"
    )]
    NoRegistry,
    /// The registry could not be reached, or refused to answer with a bundle.
    #[error("레지스트리에서 번들을 받지 못했습니다 / registry: {source}")]
    RegistryUnavailable {
        /// What failed.
        source: LedgerError,
    },
    /// The registry answered with something that cannot be a bundle (too large, not text).
    #[error("레지스트리의 번들을 읽을 수 없습니다 / {source}")]
    BundleUnreadable {
        /// What is wrong with it.
        source: LedgerError,
    },
    /// The registry's bundle or delta does not verify against the anchor and bundle held.
    #[error("레지스트리의 번들이 검증되지 않습니다 / the registry's bundle: {source}")]
    BundleInvalid {
        /// Why it was refused.
        source: BundleError,
    },
    /// The registry's new checkpoint does not extend the one held; the bundle held is kept.
    #[error(
        "레지스트리의 새 체크포인트가 가진 것의 연장이 아닙니다(포크). 가진 번들을 유지합니다 / the \
         registry's new checkpoint is not an extension of the one held: a fork; the bundle held \
         is kept"
    )]
    Fork,
    /// A failure of ours; `what` and the source are for the log, never for the client.
    #[error("내부 오류 / internal error")]
    Internal {
        /// What was being done.
        what: &'static str,
        /// What failed.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl ServiceError {
    /// The stable code: `no_bundle`, `busy`, `too_many_requests`, `unknown_type`,
    /// `unknown_claim`, `unsupported_format`, `unknown_state`, `unknown_request`, `invalid_vp_token`, `no_registry`,
    /// `registry_unavailable`, `bundle_invalid`, `fork`, `internal`.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::NoBundle => "no_bundle",
            ServiceError::Busy => "busy",
            ServiceError::TooManyRequests => "too_many_requests",
            ServiceError::UnknownType { .. } => "unknown_type",
            ServiceError::UnknownClaim { .. } => "unknown_claim",
            ServiceError::UnsupportedFormat { .. } => "unsupported_format",
            ServiceError::UnknownState => "unknown_state",
            ServiceError::UnknownRequest => "unknown_request",
            ServiceError::VpTokenUnreadable | ServiceError::VpTokenNotOnePresentation => {
                "invalid_vp_token"
            }
            ServiceError::NoRegistry => "no_registry",
            ServiceError::RegistryUnavailable { .. } => "registry_unavailable",
            ServiceError::BundleUnreadable { .. } | ServiceError::BundleInvalid { .. } => {
                "bundle_invalid"
            }
            ServiceError::Fork => "fork",
            ServiceError::Internal { .. } => "internal",
        }
    }

    /// A failure of ours, logged here (never with request data); the client is told only
    /// that.
    pub(crate) fn internal(
        what: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        let source = source.into();
        tracing::error!(what, error = %source, "internal error");
        ServiceError::Internal { what, source }
    }
}

impl From<LedgerError> for ServiceError {
    /// A failed bundle fetch: unreachable or refused is the registry's state, an answer that
    /// cannot be a bundle is the bundle's.
    fn from(source: LedgerError) -> Self {
        match source {
            LedgerError::Malformed { .. } => ServiceError::BundleUnreadable { source },
            source => ServiceError::RegistryUnavailable { source },
        }
    }
}

impl From<BundleError> for ServiceError {
    fn from(source: BundleError) -> Self {
        match source {
            BundleError::Fork => ServiceError::Fork,
            source => ServiceError::BundleInvalid { source },
        }
    }
}
