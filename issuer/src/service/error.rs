//! What each surface of the service refuses or fails with: [`AdminError`] for operators,
//! [`TokenError`] and [`CredentialError`] for wallets. A refusal says why. An
//! [`InternalError`] is never the caller's doing: it keeps the failure that caused it as its
//! source, and the HTTP layer logs it and answers a bare 500.

use dojang_core::compact::CompactError;
use dojang_core::did::DidError;
use dojang_core::key::{KeyError, SignError};
use dojang_core::sd_jwt::SdJwtError;
use dojang_core::seal::SealError;
use dojang_core::status::StatusListError;
use dojang_schemas::SchemaError;

use crate::db::StoreError;
use crate::ledger::LedgerError;

/// A failure inside the service — storage, keys, sealing, signing — with what caused it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InternalError {
    /// The database failed, or holds what this service never writes.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// A key could not be generated or read back.
    #[error("key: {0}")]
    Key(#[from] KeyError),
    /// Signing a registry entry or a status list failed.
    #[error("signing: {0}")]
    Sign(#[from] SignError),
    /// Sealing, or opening what this service sealed, failed.
    #[error("sealing: {0}")]
    Seal(#[from] SealError),
    /// A hosted issuer's key or data secret does not open with the service's passphrase.
    #[error("cannot unseal the keys of `{slug}`: {source}")]
    Unseal {
        /// The issuer.
        slug: String,
        /// Why.
        #[source]
        source: SealError,
    },
    /// JSON this service writes (sealed keys and claims) could not be written or read back.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A stored DID is not one.
    #[error("stored DID: {0}")]
    Did(#[from] DidError),
    /// A status list could not be built.
    #[error("status list: {0}")]
    StatusList(#[from] StatusListError),
    /// A credential could not be drafted from an offer's type and claims.
    #[error("credential type: {0}")]
    Schema(#[from] SchemaError),
    /// An SD-JWT VC could not be signed.
    #[error("SD-JWT VC: {0}")]
    SdJwt(#[from] SdJwtError),
    /// A compact credential could not be made.
    #[error("compact credential: {0}")]
    Compact(#[from] CompactError),
    /// The HSM holding a signing key could not be used (absent token, wrong PIN, no key).
    #[error("HSM: {0}")]
    Pkcs11(#[from] dojang_pkcs11::Pkcs11Error),
    /// An issuer's key URI in the database is not one.
    #[error("stored key URI: {0}")]
    KeyUri(#[from] dojang_pkcs11::UriError),
    /// An mdoc could not be made.
    #[error("mdoc: {0}")]
    Mdoc(#[from] dojang_mdoc::MdocError),
    /// An offer's QR code could not be drawn.
    #[error("QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    /// The system's random generator failed.
    #[error("random generator failed")]
    Random,
    /// A purpose key could not be derived from an issuer's data secret.
    #[error("key derivation failed")]
    KeyDerivation,
    /// No free status index was found, even in a new list.
    #[error("could not find a free status index")]
    NoFreeIndex,
}

/// Errors of the operator-facing API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// No operator token, or an unknown, tampered, expired or disabled one.
    #[error("authentication required: {0}")]
    Unauthenticated(&'static str),
    /// The operator may not act for this issuer or type.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// No such issuer, offer or credential (for this operator).
    #[error("not found")]
    NotFound,
    /// The claims do not match the type's schema.
    #[error("{0}")]
    Invalid(#[from] SchemaError),
    /// A request field is invalid.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The change conflicts with the current state (already revoked, …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The registry could not be reached or refused the publication; nothing was changed.
    #[error(
        "레지스트리에 닿지 못했거나 레지스트리가 거절해 아무것도 바뀌지 않았습니다 / the registry \
         could not be reached or refused, so nothing was changed: {0}"
    )]
    Registry(#[from] LedgerError),
    /// The issuer's signing key could not sign (its HSM is absent, logged out or failing);
    /// nothing was changed.
    #[error(
        "발급자의 서명 키(HSM)를 쓸 수 없어 아무것도 바뀌지 않았습니다. 토큰을 다시 연결한 뒤 \
         다시 시도하세요 / the issuer's signing key (HSM) is unavailable, so nothing was \
         changed; try again once the token is back"
    )]
    KeyUnavailable(#[source] InternalError),
    /// Storage, keys or sealing failed.
    #[error("internal: {0}")]
    Internal(InternalError),
}

impl From<InternalError> for AdminError {
    /// A signature the key could not make is the key's unavailability (an HSM's: software keys
    /// do not fail to sign); the rest is internal.
    fn from(e: InternalError) -> Self {
        match e {
            InternalError::Sign(_)
            | InternalError::Pkcs11(_)
            | InternalError::Mdoc(dojang_mdoc::MdocError::SignerFailed) => {
                AdminError::KeyUnavailable(e)
            }
            e => AdminError::Internal(e),
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        AdminError::Internal(e.into())
    }
}

/// Errors of the token endpoint (RFC 6749 §5.2 codes, 400).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// `invalid_request`: a parameter is missing or not expected.
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// `invalid_grant`: wrong, expired or used code, or wrong transaction code.
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    /// `unsupported_grant_type`.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// Storage failed.
    #[error("internal: {0}")]
    Internal(#[from] InternalError),
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        TokenError::Internal(e.into())
    }
}

/// Errors of the credential endpoint (OpenID4VCI 1.0 §8.3.1; bearer errors per RFC 6750).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// No access token (401, no error code).
    #[error("missing access token")]
    MissingToken,
    /// `invalid_token` (401): unknown, expired or for another issuer.
    #[error("invalid_token")]
    InvalidToken,
    /// `invalid_credential_request`.
    #[error("invalid_credential_request: {0}")]
    InvalidCredentialRequest(String),
    /// `unknown_credential_configuration`.
    #[error("unknown_credential_configuration")]
    UnknownCredentialConfiguration,
    /// `invalid_proof`: missing, invalid, or without a nonce.
    #[error("invalid_proof: {0}")]
    InvalidProof(String),
    /// `invalid_nonce`: not one of ours, used, or expired.
    #[error("invalid_nonce")]
    InvalidNonce,
    /// `credential_request_denied`: already issued, not accredited, …
    #[error("credential_request_denied: {0}")]
    Denied(String),
    /// The registry could not tell the issuer's accreditation (a server error to the wallet).
    #[error("registry: {0}")]
    Registry(#[from] LedgerError),
    /// No status index could be claimed: a new status list could not be made or published
    /// (a server error to the wallet).
    #[error("status index: {0}")]
    StatusIndex(#[source] AdminError),
    /// Storage, keys or signing failed.
    #[error("internal: {0}")]
    Internal(#[from] InternalError),
}

impl From<StoreError> for CredentialError {
    fn from(e: StoreError) -> Self {
        CredentialError::Internal(e.into())
    }
}
