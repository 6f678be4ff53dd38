//! The registry's API as types: what its HTTP server answers and its clients read, and
//! [`Ledger`], the registry as an issuer or a verifier reaches it — over HTTP
//! (`client::RegistryClient`, feature `client`) or in the same process (`dojang-registry`'s
//! `Registry`).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// An error answer: `{"error": "<stable code>", "message": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine code.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub error: Cow<'static, str>,
    /// Human explanation.
    pub message: String,
}

/// An acknowledged append.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Appended {
    /// Log index.
    pub index: u64,
    /// Sequencing time, ms since the epoch.
    pub timestamp_ms: u64,
    /// RFC 9162 leaf hash, base64.
    pub leaf_hash: String,
    /// The entry was already in the log: an earlier submission was committed (its
    /// acknowledgement may have been lost). Answered with 200 instead of 201.
    #[serde(default)]
    pub replayed: bool,
}

/// A stored entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredEntry {
    /// Log index.
    pub index: u64,
    /// Sequencing time, ms.
    pub timestamp_ms: u64,
    /// Leaf hash, base64.
    pub leaf_hash: String,
    /// The entry JWS as submitted.
    pub entry: String,
}

/// An inclusion proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InclusionProof {
    /// Leaf index.
    pub index: u64,
    /// Tree size.
    pub size: u64,
    /// Hashes, base64, leaf to root.
    pub proof: Vec<String>,
}

/// A consistency proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsistencyProof {
    /// The older size.
    pub first: u64,
    /// The newer size.
    pub second: u64,
    /// Hashes, base64.
    pub proof: Vec<String>,
}

/// Resolution metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DidMetadata {
    /// When the DID was created, ms.
    pub created_ms: u64,
    /// When the returned version took effect, ms.
    pub updated_ms: u64,
    /// Log index of the operation that set the returned version.
    pub version_index: u64,
    /// Whether the DID is deactivated (as of the query).
    pub deactivated: bool,
    /// The leaf hash (base64url) of the DID's latest operation, whatever version was asked
    /// for: the `prev` its next `did.update` names. Absent from history answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_operation: Option<String>,
}

/// A resolved DID.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolvedDid {
    /// The DID document.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub document: serde_json::Value,
    /// Metadata.
    pub metadata: DidMetadata,
}

/// An accredited issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Issuer {
    /// Its DID.
    pub did: String,
    /// Its name, as its accreditor attests.
    pub name: String,
    /// Credential types it may issue.
    pub types: Vec<String>,
}

/// A status list with its inclusion proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusList {
    /// List id.
    pub list_id: String,
    /// Owning issuer.
    pub issuer: String,
    /// The list's URI (`sub` of the token).
    pub uri: String,
    /// Version.
    pub version: u64,
    /// The issuer-signed `statuslist+jwt`.
    pub token: String,
    /// Log index of the publication.
    pub index: u64,
    /// Tree size the proof is for (the latest checkpoint).
    pub size: u64,
    /// Inclusion proof, base64.
    pub proof: Vec<String>,
}

/// A published X.509 certificate (DESIGN §11): an issuing-authority root, or a document
/// signer's certificate for an accredited issuer's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Certificate {
    /// base64url SHA-256 of the DER.
    pub id: String,
    /// The certificate, DER in base64url.
    pub der: String,
    /// An issuing-authority root (else a document signer's).
    pub is_root: bool,
    /// For a document signer's certificate: the issuer whose key it certifies.
    pub subject: Option<String>,
    /// Its log index.
    pub index: u64,
    /// When revoked: the log index and the reason.
    pub revoked: Option<(u64, String)>,
}

/// Why a call to the registry failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// No answer: the registry could not be reached, or the answer was lost.
    #[error("registry unreachable: {source}")]
    Unreachable {
        /// What failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The registry answered with an error.
    #[error("registry refused with {status} ({}): {}", .body.error, .body.message)]
    Refused {
        /// The HTTP status (or the one the registry would have answered with).
        status: u16,
        /// Its error answer.
        body: ErrorBody,
    },
    /// The registry answered with something that is not its API's answer.
    #[error("the registry's answer is malformed: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: Cow<'static, str>,
    },
}

impl LedgerError {
    /// The registry's error code, when it refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            LedgerError::Refused { body, .. } => Some(&body.error),
            _ => None,
        }
    }
}

/// What a [`Ledger`] call returns: a boxed future, so the trait can be used as `dyn Ledger`.
pub type LedgerFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, LedgerError>> + Send + 'a>>;

/// The registry as issuers and verifiers use it: append entries, read accreditation, status
/// lists and the trust bundle.
pub trait Ledger: Send + Sync {
    /// Appends a signed entry (a compact JWS). Appends are idempotent: an entry already in the
    /// log is answered with where it is, with `replayed` set.
    fn submit<'a>(&'a self, entry: &'a str) -> LedgerFuture<'a, Appended>;

    /// The issuers with a current accreditation.
    fn issuers(&self) -> LedgerFuture<'_, Vec<Issuer>>;

    /// The certificates the root authority published, with their revocations.
    fn certificates(&self) -> LedgerFuture<'_, Vec<Certificate>>;

    /// The latest version of a status list, if it was ever published.
    fn status_list<'a>(&'a self, list_id: &'a str) -> LedgerFuture<'a, Option<StatusList>>;

    /// The signed trust bundle, or with `since`, the delta from that checkpoint size; with
    /// `types`, carrying only the status lists of issuers accredited for those credential types
    /// (a verifier that checks a few types; a delta must be asked with the same types as the
    /// bundle it extends).
    fn bundle<'a>(
        &'a self,
        since: Option<u64>,
        types: Option<&'a [String]>,
    ) -> LedgerFuture<'a, String>;

    /// A `did:dojang` as it is now; `None` if the log has no such DID.
    fn did<'a>(&'a self, did: &'a str) -> LedgerFuture<'a, Option<ResolvedDid>>;
}
