//! The signed trust bundle: what an offline verifier carries (ARCHITECTURE.md, "The registry").
//!
//! A bundle is a compact JWS (`typ: dojang-bundle+jwt`, EdDSA, the registry's bundle key)
//! over a [`TrustBundle`]: the latest checkpoint with witness cosignatures, and the log entries
//! that define trust — genesis, every accreditation grant and withdrawal, every operation on a
//! DID that holds or gave an accreditation, and the latest publication of each of their status
//! lists — each with its inclusion proof against that checkpoint. DIDs nobody accredited are
//! left out: `did.create` is open to anyone, so a bundle that carried every DID could be grown
//! past any verifier's limit by strangers. A bundle grows only by authorised acts (grants, an
//! accredited issuer's key rotations and lists) and is bounded by [`MAX_BUNDLE_LEN`]. The verifier checks all of it against a pinned [`TrustAnchor`], then replays the
//! entries through the same [`LedgerState`] the registry runs, so it knows issuers, key
//! histories, accreditations and revocations exactly as the log says.
//!
//! A *delta* bundle carries only entries added since a size the verifier holds, plus a
//! consistency proof from its checkpoint to the new one (when an issuer joined trust with
//! history from before that size, the delta carries the whole trust state, marked `full`, and
//! is replayed afresh — still only after the consistency proof): a registry that forked the log cannot
//! produce one, and [`VerifiedBundle::apply_delta`] refuses it, keeping the old state.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dojang_core::jws::{self, Jws, JwsError, JwsHeader};
use dojang_core::key::{PublicKey, SignError, Signer};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::entry::{EntryError, Leaf};
use crate::merkle::{self, Hash, ProofError};
use crate::note::NoteVerifier;
use crate::state::LedgerState;

/// The bundle format identifier.
pub const FORMAT: &str = "dojang-trust-bundle/1";
/// The `typ` of a bundle JWS.
pub const BUNDLE_TYP: &str = "dojang-bundle+jwt";
/// The largest bundle a verifier opens (its own limit, not the generic JWS input limit).
/// A bundle grows with accredited issuers, their key rotations and the latest version of each
/// of their status lists — never with open appends — so this leaves room for a national
/// ledger (DESIGN.md §8 targets ≤ 5 MB) while bounding what an impostor can make a verifier
/// parse before its signature is checked.
pub const MAX_BUNDLE_LEN: usize = 32 * 1024 * 1024;

/// Why a bundle or delta was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The bundle JWS is malformed or not signed by the pinned bundle key.
    #[error("bundle signature: {0}")]
    Signature(JwsError),
    /// The bundle document is malformed.
    #[error("malformed bundle: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint is not signed by the log, for another origin, or lacks witnesses.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// An entry's inclusion proof, or the delta's consistency proof, fails.
    #[error("proof for entry {index}: {error}")]
    Proof {
        /// The entry index (the delta's base size for a consistency proof).
        index: u64,
        /// The failure.
        error: ProofError,
    },
    /// The delta does not extend the checkpoint held: the log was forked or rewritten.
    #[error("the new checkpoint is not a consistent extension of the one held (fork)")]
    Fork,
    /// An entry breaks the ledger's rules.
    #[error("entry {index}: {error}")]
    Entry {
        /// The entry index.
        index: u64,
        /// The failure.
        error: EntryError,
    },
}

/// What a verifier pins: the log's identity and keys, and its witness policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrustAnchor {
    /// The log origin.
    pub origin: String,
    /// The log's checkpoint key (`<name>+<id>+<key>`).
    pub log_key: String,
    /// The bundle signing key (multibase Multikey).
    pub bundle_key: String,
    /// Witness cosigning keys (`<name>+<id>+<key>`, type 0x04).
    #[serde(default)]
    pub witnesses: Vec<String>,
    /// Cosignatures required from those witnesses.
    #[serde(default)]
    pub min_witnesses: usize,
}

/// One log entry with its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleEntry {
    /// Log index.
    pub index: u64,
    /// The leaf bytes, base64.
    pub leaf: String,
    /// Inclusion proof against the bundle's checkpoint, base64 hashes.
    pub proof: Vec<String>,
}

/// The base of a delta bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Since {
    /// The checkpoint size the delta extends.
    pub size: u64,
    /// Consistency proof from `size` to the bundle's checkpoint, base64 hashes.
    pub proof: Vec<String>,
    /// The entries are the whole trust state, not only what is newer than `size` (an issuer
    /// joined trust with history from before it); the verifier replays them afresh.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
}

/// The bundle document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustBundle {
    /// [`FORMAT`].
    pub format: String,
    /// The log origin.
    pub origin: String,
    /// When the registry exported it, Unix seconds.
    pub exported_at: i64,
    /// The signed checkpoint note, with cosignatures.
    pub checkpoint: String,
    /// Entries, in log order.
    pub entries: Vec<BundleEntry>,
    /// Present on a delta bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Since>,
}

impl TrustBundle {
    /// Signs the bundle with the registry's bundle key.
    pub fn sign(&self, signer: &dyn Signer) -> Result<String, SignError> {
        // A derived Serialize over strings and numbers cannot fail.
        #[allow(clippy::expect_used)]
        let payload = serde_json::to_vec(self).expect("bundles serialize");
        jws::sign(JwsHeader::new(Some(BUNDLE_TYP), None), &payload, signer)
    }
}

/// A verified bundle: the trusted checkpoint and the state the log defines.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    /// The checkpoint everything was proven against.
    pub checkpoint: Checkpoint,
    /// Valid witness cosignatures on it.
    pub witnesses: usize,
    /// When the registry exported the bundle.
    pub exported_at: i64,
    /// The ledger state.
    pub state: LedgerState,
}

struct Anchor {
    origin: String,
    log: NoteVerifier,
    bundle: PublicKey,
    witnesses: Vec<NoteVerifier>,
    min_witnesses: usize,
}

impl Anchor {
    fn parse(anchor: &TrustAnchor) -> Result<Self, BundleError> {
        let bad = |what: &str, e: &dyn std::fmt::Display| BundleError::Malformed {
            reason: format!("trust anchor {what}: {e}"),
        };
        Ok(Anchor {
            origin: anchor.origin.clone(),
            log: NoteVerifier::parse(&anchor.log_key).map_err(|e| bad("log key", &e))?,
            bundle: dojang_core::multikey::decode(&anchor.bundle_key)
                .map_err(|e| bad("bundle key", &e))?,
            witnesses: anchor
                .witnesses
                .iter()
                .map(|w| NoteVerifier::parse(w).map_err(|e| bad("witness key", &e)))
                .collect::<Result<_, _>>()?,
            min_witnesses: anchor.min_witnesses,
        })
    }

    /// Checks the JWS and the checkpoint; returns the document and the signed checkpoint.
    fn open(&self, bundle: &str) -> Result<(TrustBundle, SignedCheckpoint, usize), BundleError> {
        let jws = Jws::parse_limited(bundle, MAX_BUNDLE_LEN).map_err(BundleError::Signature)?;
        jws.expect_type(BUNDLE_TYP, &[])
            .map_err(BundleError::Signature)?;
        jws.verify(&self.bundle).map_err(BundleError::Signature)?;
        let document: TrustBundle = jws.payload_json().map_err(|e| BundleError::Malformed {
            reason: e.to_string(),
        })?;
        if document.format != FORMAT {
            return Err(BundleError::Malformed {
                reason: format!("unknown format `{}`", document.format),
            });
        }
        let signed = SignedCheckpoint::verify(&document.checkpoint, &self.origin, &self.log)?;
        let witnesses = signed.require_witnesses(&self.witnesses, self.min_witnesses)?;
        Ok((document, signed, witnesses))
    }
}

/// Verifies a full bundle against `anchor` and rebuilds the ledger state from it.
pub fn verify(bundle: &str, anchor: &TrustAnchor) -> Result<VerifiedBundle, BundleError> {
    let anchor = Anchor::parse(anchor)?;
    let (document, signed, witnesses) = anchor.open(bundle)?;
    if document.since.is_some() {
        return Err(BundleError::Malformed {
            reason: "a delta bundle needs the bundle it extends".into(),
        });
    }
    let mut state = LedgerState::for_bundle();
    apply_entries(&mut state, &document.entries, &signed.checkpoint)?;
    Ok(VerifiedBundle {
        checkpoint: signed.checkpoint,
        witnesses,
        exported_at: document.exported_at,
        state,
    })
}

impl VerifiedBundle {
    /// Applies a delta bundle. On any failure — including a fork — `self` is left unchanged.
    pub fn apply_delta(&mut self, delta: &str, anchor: &TrustAnchor) -> Result<(), BundleError> {
        let anchor = Anchor::parse(anchor)?;
        let (document, signed, witnesses) = anchor.open(delta)?;
        let since = document
            .since
            .as_ref()
            .ok_or_else(|| BundleError::Malformed {
                reason: "not a delta bundle".into(),
            })?;
        if since.size != self.checkpoint.size {
            return Err(BundleError::Malformed {
                reason: format!(
                    "delta extends size {}, held checkpoint has {}",
                    since.size, self.checkpoint.size
                ),
            });
        }
        let proof =
            decode_hashes(&since.proof).map_err(|reason| BundleError::Malformed { reason })?;
        merkle::verify_consistency(
            self.checkpoint.size,
            signed.checkpoint.size,
            &self.checkpoint.root,
            &signed.checkpoint.root,
            &proof,
        )
        .map_err(|_| BundleError::Fork)?;
        let mut state = if since.full {
            LedgerState::for_bundle()
        } else {
            self.state.clone()
        };
        apply_entries(&mut state, &document.entries, &signed.checkpoint)?;
        *self = VerifiedBundle {
            checkpoint: signed.checkpoint,
            witnesses,
            exported_at: document.exported_at,
            state,
        };
        Ok(())
    }
}

fn apply_entries(
    state: &mut LedgerState,
    entries: &[BundleEntry],
    checkpoint: &Checkpoint,
) -> Result<(), BundleError> {
    for entry in entries {
        let index = entry.index;
        let bytes = STANDARD
            .decode(&entry.leaf)
            .map_err(|_| BundleError::Malformed {
                reason: format!("entry {index}: leaf is not base64"),
            })?;
        let proof =
            decode_hashes(&entry.proof).map_err(|reason| BundleError::Malformed { reason })?;
        merkle::verify_inclusion(
            index,
            checkpoint.size,
            &merkle::leaf_hash(&bytes),
            &proof,
            &checkpoint.root,
        )
        .map_err(|error| BundleError::Proof { index, error })?;
        let leaf = Leaf::decode(&bytes).map_err(|error| BundleError::Entry { index, error })?;
        state
            .apply(index, &leaf)
            .map_err(|error| BundleError::Entry { index, error })?;
    }
    Ok(())
}

/// base64 hashes → hashes.
pub fn decode_hashes(hashes: &[String]) -> Result<Vec<Hash>, String> {
    hashes
        .iter()
        .map(|h| {
            STANDARD
                .decode(h)
                .ok()
                .and_then(|b| Hash::try_from(b).ok())
                .ok_or_else(|| "a proof hash is not 32 bytes of base64".to_owned())
        })
        .collect()
}

/// Hashes → base64.
pub fn encode_hashes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h)).collect()
}
