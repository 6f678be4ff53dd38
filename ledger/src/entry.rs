//! Log entries: signed operations, and the leaves that carry them.
//!
//! An entry is a compact JWS (`typ: dojang-entry+jwt`) whose payload is one [`Operation`],
//! signed by the key the operation's actor must use (see [`crate::state`] for who may do
//! what). The registry stores the JWS exactly as submitted, so anyone can recheck every
//! signature. A leaf is the sequencing time and the entry:
//!
//! ```text
//! leaf = timestamp (u64, milliseconds since the epoch, big-endian) ‖ entry JWS (UTF-8)
//! ```
//!
//! The timestamp is the registry's; it orders key history ("which key was valid when this
//! credential was issued") and is covered by the Merkle tree, so it cannot be changed later.

use std::collections::BTreeMap;

use dojang_core::did::{Did, DidDocument, DidUrl};
use dojang_core::jws::{self, Jws, JwsError, JwsHeader};
use dojang_core::key::{PublicKey, SignError, Signer};
use serde::{Deserialize, Serialize};

use crate::merkle::{self, Hash};

/// The `typ` of an entry JWS.
pub const ENTRY_TYP: &str = "dojang-entry+jwt";
/// Largest entry accepted, in bytes.
pub const MAX_ENTRY_LEN: usize = 256 * 1024;

/// Why an entry was refused. A refused entry never changes the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Exhaustive on purpose: the registry maps every refusal to its own answer.
pub enum EntryError {
    /// The entry is larger than [`MAX_ENTRY_LEN`].
    #[error("entry is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The JWS is malformed, uses a refused algorithm, or has the wrong `typ`.
    #[error("entry JWS: {0}")]
    Jws(JwsError),
    /// The payload is not a valid operation.
    #[error("malformed operation: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The signature does not verify with the key named in `kid`.
    #[error("entry signature does not verify")]
    BadSignature,
    /// The signing key is not authorised for this operation.
    #[error("key `{kid}` may not {action}")]
    Unauthorized {
        /// The key id used.
        kid: String,
        /// What it tried to do.
        action: &'static str,
    },
    /// The DID already exists (a replayed or duplicate create).
    #[error("DID `{did}` already exists")]
    DidExists {
        /// The DID.
        did: String,
    },
    /// The DID is not in the log.
    #[error("DID `{did}` is not registered")]
    UnknownDid {
        /// The DID.
        did: String,
    },
    /// The DID has been deactivated.
    #[error("DID `{did}` is deactivated")]
    Deactivated {
        /// The DID.
        did: String,
    },
    /// The operation does not chain to the DID's latest operation (replay or fork).
    #[error("operation does not follow the latest operation of `{did}` (replayed or forked)")]
    BrokenChain {
        /// The DID.
        did: String,
    },
    /// The genesis entry is missing, repeated or misplaced.
    #[error("genesis: {reason}")]
    Genesis {
        /// What is wrong.
        reason: &'static str,
    },
    /// A status list publication is stale, foreign or inconsistent.
    #[error("status list `{list_id}`: {reason}")]
    StatusList {
        /// The list.
        list_id: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An accreditation operation is not allowed.
    #[error("accreditation: {reason}")]
    Accreditation {
        /// What is wrong.
        reason: &'static str,
    },
    /// A certificate operation breaks a rule.
    #[error("certificate: {reason}")]
    Certificate {
        /// What is wrong.
        reason: &'static str,
    },
}

/// What an entry does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", deny_unknown_fields)]
pub enum Operation {
    /// Entry 0: names the log and creates the root authority's DID.
    #[serde(rename = "registry.genesis")]
    Genesis {
        /// The log's origin (checkpoint first line).
        origin: String,
        /// The root authority's DID document.
        document: DidDocument,
    },
    /// Registers a `did:dojang` DID.
    #[serde(rename = "did.create")]
    DidCreate {
        /// Its first document.
        document: DidDocument,
    },
    /// Replaces a DID's document (key rotation, service changes).
    #[serde(rename = "did.update")]
    DidUpdate {
        /// Leaf hash (base64url) of the DID's latest operation.
        prev: String,
        /// The new document.
        document: DidDocument,
    },
    /// Deactivates a DID for good.
    #[serde(rename = "did.deactivate")]
    DidDeactivate {
        /// The DID.
        did: Did,
        /// Leaf hash (base64url) of the DID's latest operation.
        prev: String,
    },
    /// Accredits `subject` to issue `types`.
    #[serde(rename = "accreditation.grant")]
    Grant {
        /// Who grants (the root authority, or a holder of a delegable grant).
        grantor: Did,
        /// Who is accredited.
        subject: Did,
        /// The subject's display name, as the grantor attests it.
        name: String,
        /// Credential type ids.
        types: Vec<String>,
        /// Whether the subject may accredit others for these types.
        delegable: bool,
        /// When the grantor signed it (Unix seconds): makes each grant distinct, so an
        /// identical entry is always a replay.
        at: i64,
    },
    /// Withdraws an accreditation.
    #[serde(rename = "accreditation.withdraw")]
    Withdraw {
        /// The original grantor, or the root authority.
        grantor: Did,
        /// Whose accreditation.
        subject: Did,
        /// The types withdrawn.
        types: Vec<String>,
        /// Why (a short code, no personal data).
        reason: String,
        /// When the grantor signed it (Unix seconds).
        at: i64,
    },
    /// Publishes a new version of an issuer's status list.
    #[serde(rename = "status.publish")]
    StatusPublish {
        /// The issuer.
        issuer: Did,
        /// The list's id, unique in the registry (served at `/status-lists/<id>`).
        list_id: String,
        /// Strictly increasing version.
        version: u64,
        /// The issuer-signed `statuslist+jwt`.
        token: String,
        /// The same list in its CWT form (`application/statuslist+cwt`, base64url), signed by
        /// the same key: what an mdoc's status reference serves to a CBOR verifier.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cwt: Option<String>,
    },
    /// Commits to every status list the issuer has published, at their latest versions, by one
    /// digest (see [`crate::lists`]): what lets a trust bundle carry an issuer's lists as bare
    /// compressed bits, and a delta carry only the entries that changed — each checked against
    /// this root. The registry accepts it only if it is the root of the lists it holds.
    #[serde(rename = "status.root")]
    StatusRoot {
        /// The issuer.
        issuer: Did,
        /// Strictly increasing, per issuer.
        version: u64,
        /// How many lists it covers: all the issuer's.
        lists: u64,
        /// The root, base64url (see [`crate::lists::status_root`]).
        root: String,
    },
    /// Publishes an X.509 certificate (DER, base64url): the root authority's issuing-authority
    /// root (IACA), or a document signer's certificate for an accredited issuer's key (ISO
    /// 18013-5 Annex B), so offline verifiers check mdoc and `x5c` chains from the bundle.
    #[serde(rename = "certificate.publish")]
    CertificatePublish {
        /// Who publishes: the root authority.
        authority: Did,
        /// For a document signer's certificate, the issuer whose key it certifies.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<Did>,
        /// The certificate, DER in base64url.
        certificate: String,
        /// When the authority signed it (Unix seconds).
        at: i64,
    },
    /// Revokes a published certificate.
    #[serde(rename = "certificate.revoke")]
    CertificateRevoke {
        /// Who revokes: the root authority.
        authority: Did,
        /// The certificate's id: base64url SHA-256 of its DER.
        certificate: String,
        /// Why (a short code).
        reason: String,
        /// When the authority signed it (Unix seconds).
        at: i64,
    },
    /// Aggregate issuance and revocation counts (never personal data).
    #[serde(rename = "audit")]
    Audit {
        /// The issuer.
        issuer: Did,
        /// Start of the period, Unix seconds.
        period_start: i64,
        /// End of the period, Unix seconds.
        period_end: i64,
        /// Counts by event, e.g. `issued:citizen-card`, `revoked:lost`.
        counts: BTreeMap<String, u64>,
    },
}

impl Operation {
    /// The operation's name.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Genesis { .. } => "registry.genesis",
            Operation::DidCreate { .. } => "did.create",
            Operation::DidUpdate { .. } => "did.update",
            Operation::DidDeactivate { .. } => "did.deactivate",
            Operation::Grant { .. } => "accreditation.grant",
            Operation::Withdraw { .. } => "accreditation.withdraw",
            Operation::StatusPublish { .. } => "status.publish",
            Operation::StatusRoot { .. } => "status.root",
            Operation::CertificatePublish { .. } => "certificate.publish",
            Operation::CertificateRevoke { .. } => "certificate.revoke",
            Operation::Audit { .. } => "audit",
        }
    }

    /// The DID that must sign this operation.
    pub fn actor(&self) -> &Did {
        match self {
            Operation::Genesis { document, .. }
            | Operation::DidCreate { document }
            | Operation::DidUpdate { document, .. } => &document.id,
            Operation::DidDeactivate { did, .. } => did,
            Operation::Grant { grantor, .. } | Operation::Withdraw { grantor, .. } => grantor,
            Operation::StatusPublish { issuer, .. }
            | Operation::StatusRoot { issuer, .. }
            | Operation::Audit { issuer, .. } => issuer,
            Operation::CertificatePublish { authority, .. }
            | Operation::CertificateRevoke { authority, .. } => authority,
        }
    }
}

/// A parsed entry: the JWS as submitted and its operation. The signature is checked by the
/// ledger state, which knows the signer's keys.
#[derive(Debug, Clone)]
pub struct Entry {
    jws: String,
    kid: DidUrl,
    operation: Operation,
}

impl Entry {
    /// Signs `operation` with `signer`, naming the key `kid` (a DID URL).
    pub fn sign(
        operation: &Operation,
        signer: &dyn Signer,
        kid: &DidUrl,
    ) -> Result<String, SignError> {
        // A derived Serialize over strings, numbers and DID documents cannot fail.
        #[allow(clippy::expect_used)]
        let payload = serde_json::to_vec(operation).expect("operations serialize");
        jws::sign(
            JwsHeader::new(Some(ENTRY_TYP), Some(&kid.to_string())),
            &payload,
            signer,
        )
    }

    /// Parses an entry JWS (size, structure, algorithm, `typ`, `kid`, operation shape).
    pub fn parse(text: &str) -> Result<Self, EntryError> {
        if text.len() > MAX_ENTRY_LEN {
            return Err(EntryError::TooLarge {
                len: text.len(),
                max: MAX_ENTRY_LEN,
            });
        }
        let jws = Jws::parse(text).map_err(EntryError::Jws)?;
        jws.expect_type(ENTRY_TYP, &[]).map_err(EntryError::Jws)?;
        let kid = jws
            .header()
            .kid
            .as_deref()
            .ok_or_else(|| malformed("missing `kid`"))
            .and_then(|kid| DidUrl::parse(kid).map_err(|e| malformed(&format!("`kid`: {e}"))))?;
        if kid.fragment.is_none() {
            return Err(malformed("`kid` must name a key (DID URL with a fragment)"));
        }
        let operation: Operation =
            serde_json::from_slice(jws.payload()).map_err(|e| malformed(&e.to_string()))?;
        if &kid.did != operation.actor() {
            return Err(EntryError::Unauthorized {
                kid: kid.to_string(),
                action: "sign for another DID",
            });
        }
        Ok(Entry {
            jws: text.to_owned(),
            kid,
            operation,
        })
    }

    /// Checks the signature with `key`.
    pub fn verify_signature(&self, key: &PublicKey) -> Result<(), EntryError> {
        // Re-parsing is cheap next to the signature check and keeps `Entry` owned.
        let jws = Jws::parse(&self.jws).map_err(EntryError::Jws)?;
        jws.verify(key).map_err(|_| EntryError::BadSignature)
    }

    /// The entry JWS as submitted.
    pub fn as_str(&self) -> &str {
        &self.jws
    }

    /// The signing key's id.
    pub fn kid(&self) -> &DidUrl {
        &self.kid
    }

    /// The operation.
    pub fn operation(&self) -> &Operation {
        &self.operation
    }
}

fn malformed(reason: &str) -> EntryError {
    EntryError::Malformed {
        reason: reason.to_owned(),
    }
}

/// A log leaf: sequencing time and entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// Milliseconds since the Unix epoch, assigned by the registry.
    pub timestamp_ms: u64,
    /// The entry JWS.
    pub entry: String,
}

impl Leaf {
    /// The leaf bytes hashed into the tree.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.entry.len());
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        out.extend_from_slice(self.entry.as_bytes());
        out
    }

    /// Decodes leaf bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, EntryError> {
        if bytes.len() < 8 || bytes.len() > 8 + MAX_ENTRY_LEN {
            return Err(malformed("leaf length out of range"));
        }
        let (time, entry) = bytes.split_at(8);
        Ok(Leaf {
            timestamp_ms: u64::from_be_bytes(time.try_into().map_err(|_| malformed("leaf time"))?),
            entry: String::from_utf8(entry.to_vec())
                .map_err(|_| malformed("leaf entry is not UTF-8"))?,
        })
    }

    /// The RFC 9162 leaf hash.
    pub fn hash(&self) -> Hash {
        merkle::leaf_hash(&self.encode())
    }
}
