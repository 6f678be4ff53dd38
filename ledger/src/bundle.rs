//! The signed trust bundle: what an offline verifier carries (ARCHITECTURE.md, "The registry").
//!
//! A bundle is a compact JWS (`typ: dojang-bundle+jwt`, EdDSA, the registry's bundle key)
//! over a [`TrustBundle`] in CBOR (leaves, proofs and lists are byte strings, base64'd once by
//! the JWS): the latest checkpoint with witness cosignatures, and the log entries that define
//! trust — genesis, every accreditation grant and withdrawal, every operation on a DID that
//! holds or gave an accreditation, each issuer's latest `status.root`, and the latest
//! publication of each status list no root covers yet — each with its inclusion proof against
//! that checkpoint. Beside each root, the issuer's lists as zlib bits with the digests the root
//! covers ([`IssuerLists`], [`crate::lists`]): the root is checked over the digests at load,
//! each list's bits against its digest when first decoded ([`CarriedList::decode`]).
//!
//! DIDs nobody accredited are left out: `did.create` is open to anyone, so a bundle that
//! carried every DID could be grown past any verifier's limit by strangers. A bundle grows only
//! by authorised acts (grants, an accredited issuer's key rotations and lists) and is bounded by
//! [`MAX_BUNDLE_LEN`]. The verifier checks all of it against a pinned [`TrustAnchor`], then
//! replays the entries through the same [`LedgerState`] the registry runs, so it knows issuers,
//! key histories, accreditations and revocations exactly as the log says.
//!
//! A *delta* bundle carries only entries added since a size the verifier holds, plus a
//! consistency proof from its checkpoint to the new one (when an issuer joined trust with
//! history from before that size, the delta carries the whole trust state, marked `full`, and
//! is replayed afresh — still only after the consistency proof): a registry that forked the log
//! cannot produce one, and [`VerifiedBundle::apply_delta`] refuses it, keeping the old state.
//! For an issuer with a new root, a delta carries only the entries that changed in the lists
//! the verifier holds ([`Patch`]) and the lists it did not hold; the new root must be the root
//! of the lists that result.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dojang_core::did::Did;
use dojang_core::jws::{self, Jws, JwsError, JwsHeader};
use dojang_core::key::{PublicKey, SignError, Signer};
use dojang_core::status::token::TokenStatusList;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::entry::{EntryError, Leaf};
use crate::lists::{self, Patch};
use crate::merkle::{self, Hash, ProofError};
use crate::note::NoteVerifier;
use crate::state::LedgerState;

/// The bundle format identifier.
pub const FORMAT: &str = "dojang-trust-bundle/2";
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
    /// An issuer's lists do not match its `status.root`: one left out, added or altered.
    #[error("status lists of `{issuer}`: {reason}")]
    Lists {
        /// The issuer.
        issuer: String,
        /// What is wrong.
        reason: String,
    },
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
    /// The leaf bytes.
    #[serde(with = "serde_bytes")]
    pub leaf: Vec<u8>,
    /// Inclusion proof against the bundle's checkpoint: its hashes, 32 bytes each, in order.
    #[serde(with = "serde_bytes")]
    pub proof: Vec<u8>,
}

/// The base of a delta bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Since {
    /// The checkpoint size the delta extends.
    pub size: u64,
    /// Consistency proof from `size` to the bundle's checkpoint, 32-byte hashes in order.
    #[serde(with = "serde_bytes")]
    pub proof: Vec<u8>,
    /// The entries are the whole trust state, not only what is newer than `size` (an issuer
    /// joined trust with history from before it); the verifier replays them afresh.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
}

/// One issuer's lists under its latest `status.root` (an entry of the bundle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerLists {
    /// The issuer's DID.
    pub issuer: String,
    /// Lists carried: whole, or by digest alone when a newer publication of the list is among
    /// the bundle's entries. In a delta, only lists the verifier did not hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<BundleList>,
    /// A delta's changes to the lists the verifier holds ([`Patch`]), by position among the
    /// issuer's lists sorted by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "serde_bytes")]
    pub patch: Vec<u8>,
}

/// A status list beside its issuer's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleList {
    /// The list id.
    pub list_id: String,
    /// The list URI.
    pub uri: String,
    /// The digest the root covers ([`lists::list_digest`]).
    #[serde(with = "serde_bytes")]
    pub digest: Vec<u8>,
    /// Bits per entry.
    pub bits: u32,
    /// The list, zlib-compressed; absent when carried by digest alone.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_bytes")]
    pub zlib: Option<Vec<u8>>,
}

/// The bundle document: the JWS payload, in CBOR (byte strings stay bytes — base64 once, in the
/// JWS, not nested).
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
    /// Status lists under their issuers' roots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<IssuerLists>,
    /// Present on a delta bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Since>,
}

impl TrustBundle {
    /// The JWS payload.
    pub fn to_payload(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Serializing owned strings, numbers and bytes into a Vec cannot fail.
        #[allow(clippy::expect_used)]
        ciborium::into_writer(self, &mut out).expect("bundles serialize");
        out
    }

    /// Reads a JWS payload (no signature is checked here).
    pub fn from_payload(payload: &[u8]) -> Result<Self, BundleError> {
        ciborium::from_reader(payload).map_err(|e| BundleError::Malformed {
            reason: format!("bundle document: {e}"),
        })
    }

    /// Signs the bundle with the registry's bundle key.
    pub fn sign(&self, signer: &dyn Signer) -> Result<String, SignError> {
        jws::sign(
            JwsHeader::new(Some(BUNDLE_TYP), None),
            &self.to_payload(),
            signer,
        )
    }
}

/// A status list the bundle carried beside its issuer's root, checked against the root by its
/// digest: its bits are checked against that digest when first decoded.
#[derive(Debug, Clone)]
pub struct CarriedList {
    /// The list id.
    pub list_id: String,
    /// The issuer.
    pub issuer: Did,
    /// The list URI.
    pub uri: String,
    /// The log index of the root it was checked against.
    pub index: u64,
    /// Its digest under that root.
    pub digest: lists::Digest,
    form: Arc<CarriedForm>,
}

#[derive(Debug)]
enum CarriedForm {
    Compressed { bits: u32, zlib: Vec<u8> },
    Decoded(TokenStatusList),
}

impl CarriedList {
    /// The list, inflated (within [`crate::state::MAX_STATUS_LIST_BYTES`]) and checked against
    /// the digest its issuer's root covers.
    pub fn decode(&self) -> Result<TokenStatusList, String> {
        match &*self.form {
            CarriedForm::Decoded(list) => Ok(list.clone()),
            CarriedForm::Compressed { bits, zlib } => {
                let list = lists::inflate(*bits, zlib)?;
                if lists::list_digest(&list) != self.digest {
                    return Err("the list's bytes are not those its issuer's root covers".into());
                }
                Ok(list)
            }
        }
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
    /// Status lists carried under their issuers' roots, by list id (a newer publication of the
    /// same list among the state's lists supersedes one).
    pub lists: HashMap<String, CarriedList>,
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
        let document = TrustBundle::from_payload(jws.payload())?;
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
    let mut lists = HashMap::new();
    take_lists(&state, &document.lists, None, &mut lists)?;
    Ok(VerifiedBundle {
        checkpoint: signed.checkpoint,
        witnesses,
        exported_at: document.exported_at,
        state,
        lists,
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
        let proof = hashes(&since.proof)?;
        merkle::verify_consistency(
            self.checkpoint.size,
            signed.checkpoint.size,
            &self.checkpoint.root,
            &signed.checkpoint.root,
            &proof,
        )
        .map_err(|_| BundleError::Fork)?;
        let (mut state, mut lists, held) = if since.full {
            (LedgerState::for_bundle(), HashMap::new(), None)
        } else {
            (
                self.state.clone(),
                self.lists.clone(),
                Some(Held {
                    bundle: self,
                    size: since.size,
                }),
            )
        };
        apply_entries(&mut state, &document.entries, &signed.checkpoint)?;
        take_lists(&state, &document.lists, held, &mut lists)?;
        *self = VerifiedBundle {
            checkpoint: signed.checkpoint,
            witnesses,
            exported_at: document.exported_at,
            state,
            lists,
        };
        Ok(())
    }
}

/// What a verifier held before a delta.
struct Held<'a> {
    bundle: &'a VerifiedBundle,
    /// The size the delta extends.
    size: u64,
}

impl Held<'_> {
    /// The lists of `issuer` the verifier held, by id: the newer of the one carried under a
    /// root and the one published as a token.
    fn lists(&self, issuer: &Did) -> BTreeMap<String, HeldList> {
        let mut held: BTreeMap<String, HeldList> = self
            .bundle
            .lists
            .values()
            .filter(|l| &l.issuer == issuer)
            .map(|l| (l.list_id.clone(), HeldList::Carried(l.clone())))
            .collect();
        for record in self.bundle.state.issuer_lists(issuer) {
            if held
                .get(&record.list_id)
                .is_none_or(|h| matches!(h, HeldList::Carried(c) if c.index < record.index))
            {
                held.insert(
                    record.list_id.clone(),
                    HeldList::Token {
                        uri: record.uri.clone(),
                        token: record.token.clone(),
                    },
                );
            }
        }
        held
    }
}

enum HeldList {
    Carried(CarriedList),
    Token { uri: String, token: String },
}

impl HeldList {
    fn uri(&self) -> &str {
        match self {
            HeldList::Carried(c) => &c.uri,
            HeldList::Token { uri, .. } => uri,
        }
    }

    fn decode(&self) -> Result<TokenStatusList, String> {
        match self {
            HeldList::Carried(c) => c.decode(),
            HeldList::Token { token, .. } => lists::token_bits(token),
        }
    }

    fn digest(&self) -> Result<lists::Digest, String> {
        match self {
            HeldList::Carried(c) => Ok(c.digest),
            HeldList::Token { .. } => self.decode().map(|l| lists::list_digest(&l)),
        }
    }

    /// What a list held as a token becomes under a new root that covers it unchanged: its bits,
    /// carried (a publication older than its issuer's root is no longer used). `None` for a list
    /// already carried, which stays as it is.
    fn carried_form(&self) -> Result<Option<CarriedForm>, String> {
        match self {
            HeldList::Carried(_) => Ok(None),
            HeldList::Token { token, .. } => {
                let list = lists::TokenList::read(token)?;
                Ok(Some(CarriedForm::Compressed {
                    bits: list.bits,
                    zlib: list.zlib,
                }))
            }
        }
    }
}

/// Checks each issuer's lists against its latest `status.root` in `state` and keeps them in
/// `carried`. A full bundle's lists are taken as carried; a delta's are the lists it adds, its
/// patches applied to those `held`, and the rest held unchanged — the root over all of them
/// must be the issuer's.
fn take_lists(
    state: &LedgerState,
    groups: &[IssuerLists],
    held: Option<Held<'_>>,
    carried: &mut HashMap<String, CarriedList>,
) -> Result<(), BundleError> {
    let mut seen = std::collections::HashSet::new();
    for group in groups {
        let refused = |reason: &str| BundleError::Lists {
            issuer: group.issuer.clone(),
            reason: reason.to_owned(),
        };
        let issuer = Did::parse(&group.issuer).map_err(|_| refused("not a DID"))?;
        if !seen.insert(issuer.clone()) {
            return Err(refused("carried twice"));
        }
        let root = state
            .status_root(&issuer)
            .ok_or_else(|| refused("lists without the issuer's root"))?;
        if held.as_ref().is_some_and(|h| root.index < h.size) {
            return Err(refused("lists for a root the verifier already holds"));
        }
        if group.lists.len() as u64 > root.lists {
            return Err(refused("more lists than the root covers"));
        }
        // Every list of the issuer under the new root, by id: (uri, digest, what it is now).
        let mut all: BTreeMap<String, (String, lists::Digest, Option<CarriedForm>)> =
            BTreeMap::new();
        for list in &group.lists {
            let digest = lists::Digest::try_from(list.digest.as_slice())
                .map_err(|_| refused("a digest is not 32 bytes"))?;
            // Carried by digest alone: a publication newer than the root, among the entries,
            // must serve it — never an older one, nor nothing.
            if list.zlib.is_none()
                && state
                    .status_list(&list.list_id)
                    .is_none_or(|r| r.index < root.index || r.uri != list.uri)
            {
                return Err(refused("a list carried by digest has no newer publication"));
            }
            let form = list.zlib.as_ref().map(|zlib| CarriedForm::Compressed {
                bits: list.bits,
                zlib: zlib.clone(),
            });
            if all
                .insert(list.list_id.clone(), (list.uri.clone(), digest, form))
                .is_some()
            {
                return Err(refused("a list carried twice"));
            }
        }
        let held_lists = match &held {
            Some(held) => held.lists(&issuer),
            None => BTreeMap::new(),
        };
        let mut unchanged = std::collections::BTreeSet::new();
        for (id, list) in &held_lists {
            if !all.contains_key(id) {
                let digest = list.digest().map_err(|e| refused(&e))?;
                let form = list.carried_form().map_err(|e| refused(&e))?;
                all.insert(id.clone(), (list.uri().to_owned(), digest, form));
                unchanged.insert(id.clone());
            }
        }
        if all.len() as u64 != root.lists {
            // A verifier that took none of this issuer's lists (a bundle filtered by type) and
            // is sent a delta for them cannot check them: it leaves them out, unknown.
            if held.is_some() && held_lists.is_empty() {
                continue;
            }
            return Err(refused("the lists are not exactly those the root covers"));
        }
        let patch = Patch::decode(&group.patch).map_err(|e| refused(&e))?;
        let ids: Vec<String> = all.keys().cloned().collect();
        for (position, changes) in &patch.lists {
            let id = ids
                .get(*position)
                .ok_or_else(|| refused("a patch names no list"))?;
            let base = held_lists
                .get(id)
                .filter(|_| unchanged.contains(id))
                .ok_or_else(|| refused("a patch changes a list the verifier does not hold"))?;
            let mut list = base.decode().map_err(|e| refused(&e))?;
            Patch::apply(&mut list, changes).map_err(|e| refused(&e))?;
            if let Some(entry) = all.get_mut(id) {
                entry.1 = lists::list_digest(&list);
                entry.2 = Some(CarriedForm::Decoded(list));
            }
        }
        let computed = lists::status_root(
            all.iter()
                .map(|(id, (uri, d, _))| (id.as_str(), uri.as_str(), d)),
        );
        if computed != root.root {
            return Err(refused("the lists are not those the issuer's root covers"));
        }
        for (id, (uri, digest, form)) in all {
            match form {
                Some(form) => {
                    carried.insert(
                        id.clone(),
                        CarriedList {
                            list_id: id,
                            issuer: issuer.clone(),
                            uri,
                            index: root.index,
                            digest,
                            form: Arc::new(form),
                        },
                    );
                }
                // Held and carried already: it stays.
                None if unchanged.contains(&id) => {}
                // Carried by digest: a newer publication among the entries serves it.
                None => {
                    carried.remove(&id);
                }
            }
        }
    }
    if let Some(held) = &held {
        // An issuer that committed to new lists, whose lists the verifier holds, must have them
        // brought up to date: otherwise the next patch would apply to the wrong lists.
        for (issuer, root) in state.status_roots() {
            let holds = held.bundle.lists.values().any(|l| &l.issuer == issuer)
                || !held.bundle.state.issuer_lists(issuer).is_empty();
            if root.index >= held.size && holds && !seen.contains(issuer) {
                return Err(BundleError::Lists {
                    issuer: issuer.to_string(),
                    reason: "the delta leaves out the lists of a new root".into(),
                });
            }
        }
    }
    Ok(())
}

fn apply_entries(
    state: &mut LedgerState,
    entries: &[BundleEntry],
    checkpoint: &Checkpoint,
) -> Result<(), BundleError> {
    for entry in entries {
        let index = entry.index;
        let proof = hashes(&entry.proof)?;
        merkle::verify_inclusion(
            index,
            checkpoint.size,
            &merkle::leaf_hash(&entry.leaf),
            &proof,
            &checkpoint.root,
        )
        .map_err(|error| BundleError::Proof { index, error })?;
        let leaf =
            Leaf::decode(&entry.leaf).map_err(|error| BundleError::Entry { index, error })?;
        state
            .apply(index, &leaf)
            .map_err(|error| BundleError::Entry { index, error })?;
    }
    Ok(())
}

/// Concatenated 32-byte hashes → hashes.
fn hashes(bytes: &[u8]) -> Result<Vec<Hash>, BundleError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(BundleError::Malformed {
            reason: "a proof is not a sequence of 32-byte hashes".into(),
        });
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|chunk| {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect())
}

/// Hashes → concatenated bytes, as a bundle carries a proof.
pub fn proof_bytes(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
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
