//! The ledger's state machine: who may append what, and what the log means.
//!
//! [`LedgerState::apply`] takes leaves in log order and either accepts one (updating DID
//! histories, accreditations and status lists) or refuses it with a typed [`EntryError`] and
//! no change. The registry runs it before sequencing an entry; a verifier runs the same code
//! over a trust bundle, so the rules are enforced identically on both sides.
//!
//! Authorisation:
//!
//! | operation | signed by a key in | of | further rules |
//! |---|---|---|---|
//! | `registry.genesis` | `capabilityInvocation` | the new document | index 0 only |
//! | `did.create` | `capabilityInvocation` | the new document | DID derived from that key; not yet registered |
//! | `did.update`, `did.deactivate` | `capabilityInvocation` | the current document | `prev` is the latest operation |
//! | `accreditation.grant` | `assertionMethod` | the grantor | grantor is root, or holds a delegable grant for every type |
//! | `accreditation.withdraw` | `assertionMethod` | the grantor | grantor made the grant, or is root |
//! | `status.publish` | `assertionMethod` | the issuer | the issuer holds or held a grant; list owned by the issuer; version increases; token signed by the issuer; at most [`MAX_STATUS_LIST_BYTES`] decoded |
//! | `status.root` | `assertionMethod` | the issuer | version increases; the root of exactly the issuer's latest lists ([`crate::lists`]) |
//! | `certificate.publish` | `assertionMethod` | the root authority | an IACA root: self-signed CA, new; a document signer's: issued by a published, unrevoked IACA, for a key in the accredited subject's current DID document |
//! | `certificate.revoke` | `assertionMethod` | the root authority | published, not yet revoked |
//! | `audit` | `assertionMethod` | the issuer | counts only |
//!
//! A `did:dojang` identifier is `did:dojang:` + base58btc of the first 16 bytes of SHA-256 of
//! the creating key (compact form): a DID cannot be registered by anyone but the holder of
//! its first key, so identifiers cannot be squatted.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use dojang_core::b64;
use dojang_core::did::{
    Did, DidDocument, Relationship, VerificationMethod, VerificationRelationship,
};
use dojang_core::key::PublicKey;
use dojang_core::status::StatusListError;
use dojang_core::status::token::{self, StatusListTokenClaims};
use serde::Serialize;

use dojang_mdoc::Certificate;

use crate::did::dojang_did;
use crate::entry::{Entry, EntryError, Leaf, Operation};
use crate::merkle::Hash;

/// Largest number of verification methods in a `did:dojang` document.
pub const MAX_METHODS: usize = 16;
/// Largest decoded status list the ledger takes (4 million entries of two bits; lists hold
/// 131,072). A verifier decodes a list the first time it checks a credential on it and keeps
/// it, so this bounds a verifier's memory at this much per list in its bundle.
pub const MAX_STATUS_LIST_BYTES: usize = 1 << 20;
/// The largest certificate published (DER bytes).
pub const MAX_CERTIFICATE_LEN: usize = 8 << 10;

/// One version of a DID document.
#[derive(Debug, Clone, Serialize)]
pub struct DidVersion {
    /// Log index of the operation that set it.
    pub index: u64,
    /// When it took effect (milliseconds since the epoch).
    pub timestamp_ms: u64,
    /// The document.
    pub document: DidDocument,
}

/// Everything the log says about one DID.
#[derive(Debug, Clone, Serialize)]
pub struct DidRecord {
    /// Every version, oldest first.
    pub versions: Vec<DidVersion>,
    /// Log index and time of deactivation, if deactivated.
    pub deactivated: Option<(u64, u64)>,
    #[serde(skip)]
    latest_op: Hash,
    /// Where the grants this DID received are in [`LedgerState::grants`], in log order: a
    /// verification finds its issuer's accreditation among them, not among every grant.
    #[serde(skip)]
    received: Vec<usize>,
}

impl DidRecord {
    /// The leaf hash of the DID's latest operation: what its next `did.update` or
    /// `did.deactivate` names as `prev`.
    pub fn latest_operation(&self) -> Hash {
        self.latest_op
    }

    /// The document as of `as_of`; `None` if the DID did not exist then or was deactivated.
    pub fn document(&self, as_of: AsOf) -> Option<&DidDocument> {
        let in_force = |index: u64, time: u64| match as_of {
            AsOf::Latest => true,
            AsOf::Size(size) => index < size,
            AsOf::Time(t) => time <= t,
        };
        if let Some((index, time)) = self.deactivated
            && in_force(index, time)
        {
            return None;
        }
        self.versions
            .iter()
            .rev()
            .find(|v| in_force(v.index, v.timestamp_ms))
            .map(|v| &v.document)
    }

    /// The assertion method `kid` in force at `time_ms`.
    pub fn assertion_method_at(
        &self,
        kid: Option<&str>,
        time_ms: u64,
    ) -> Option<&VerificationMethod> {
        self.document(AsOf::Time(time_ms))?
            .method_for(Relationship::AssertionMethod, kid)
            .ok()
    }

    /// The assertion method `kid` in force at some instant from `from_ms` to `to_ms`, the
    /// latest first: a credential's `iat` has second precision, and a key may have been rotated
    /// within that second, before or after the credential was signed.
    pub fn assertion_method_during(
        &self,
        kid: Option<&str>,
        from_ms: u64,
        to_ms: u64,
    ) -> Option<&VerificationMethod> {
        // Just before each change within the interval, the version it replaced was in force.
        let before_changes = self
            .versions
            .iter()
            .rev()
            .map(|v| v.timestamp_ms)
            .filter(|t| from_ms < *t && *t <= to_ms)
            .map(|t| t - 1);
        std::iter::once(to_ms)
            .chain(before_changes)
            .chain(std::iter::once(from_ms))
            .find_map(|t| self.assertion_method_at(kid, t))
    }
}

/// An accreditation grant and its withdrawals.
#[derive(Debug, Clone, Serialize)]
pub struct Grant {
    /// Log index of the grant.
    pub index: u64,
    /// When it was granted.
    pub timestamp_ms: u64,
    /// The grantor.
    pub grantor: Did,
    /// The accredited issuer.
    pub subject: Did,
    /// The issuer's name as attested by the grantor.
    pub name: String,
    /// Types granted.
    pub types: Vec<String>,
    /// Whether the subject may delegate.
    pub delegable: bool,
    /// Types withdrawn since, with the log index of the withdrawal.
    pub withdrawn: BTreeMap<String, u64>,
}

impl Grant {
    fn covers(&self, ty: &str) -> bool {
        self.types.iter().any(|t| t == ty) && !self.withdrawn.contains_key(ty)
    }
}

/// The latest published version of a status list.
#[derive(Debug, Clone, Serialize)]
pub struct StatusListRecord {
    /// The list id.
    pub list_id: String,
    /// The issuer that owns it.
    pub issuer: Did,
    /// The list URI (the token's `sub`).
    pub uri: String,
    /// Version number.
    pub version: u64,
    /// Log index of the publication.
    pub index: u64,
    /// When it was published.
    pub timestamp_ms: u64,
    /// The issuer-signed `statuslist+jwt`.
    pub token: String,
    /// The same list in its CWT form (`application/statuslist+cwt`, base64url), when the issuer
    /// published one.
    pub cwt: Option<String>,
    /// The decoded list's digest ([`crate::lists::list_digest`]), once known: at admission and
    /// restore on the registry; a bundle's replay leaves it to first use.
    #[serde(skip)]
    pub digest: Option<Hash>,
}

/// An issuer's latest `status.root`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRootRecord {
    /// Its log index.
    pub index: u64,
    /// The issuer's root version.
    pub version: u64,
    /// How many lists it covers.
    pub lists: u64,
    /// The root.
    #[serde(skip)]
    pub root: Hash,
}

/// A published certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateRecord {
    /// base64url SHA-256 of the DER.
    pub id: String,
    /// The certificate, DER in base64url.
    pub der: String,
    /// An issuing-authority root (else a document signer's).
    pub is_root: bool,
    /// For a document signer's certificate: the issuer whose key it certifies.
    pub subject: Option<Did>,
    /// Its log index.
    pub index: u64,
    /// When revoked: the log index and the reason.
    pub revoked: Option<(u64, String)>,
}

/// Whether an issuer may issue a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accreditation {
    /// Accredited, through the grant at this log index, under this name.
    Accredited {
        /// The grant's log index.
        grant_index: u64,
        /// The attested name.
        name: String,
    },
    /// Was accredited, but every such grant was withdrawn (or its delegator lost the right).
    Withdrawn,
    /// Never accredited for this type.
    NotAccredited,
}

/// Which version of the log to resolve against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// Everything applied so far.
    Latest,
    /// The first `n` leaves.
    Size(u64),
    /// Operations sequenced at or before this time (milliseconds since the epoch).
    Time(u64),
}

/// Why no valid key was found for an issuer at a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyHistoryError {
    /// The DID is not in the log.
    #[error("DID `{did}` is not registered")]
    UnknownDid {
        /// The DID.
        did: String,
    },
    /// At that time the DID did not exist, was deactivated, or did not list the key for
    /// assertions.
    #[error("key {kid:?} of `{did}` was not valid for assertions at that time")]
    NotValidAt {
        /// The DID.
        did: String,
        /// The key id.
        kid: Option<String>,
    },
}

/// What applying an entry did, for projections (database tables, logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The operation name.
    pub op: &'static str,
    /// The DID or list the operation is about.
    pub subject: String,
}

impl StatusRootRecord {
    fn new(index: u64, version: u64, lists: u64, root: &str) -> Result<Self, EntryError> {
        let root = b64::decode(root)
            .ok()
            .and_then(|r| Hash::try_from(r).ok())
            .ok_or_else(|| EntryError::StatusList {
                list_id: "*".into(),
                reason: "a root is 32 bytes of base64url",
            })?;
        Ok(StatusRootRecord {
            index,
            version,
            lists,
            root,
        })
    }
}

/// The state derived from the log.
#[derive(Debug, Clone, Default)]
pub struct LedgerState {
    origin: Option<String>,
    root: Option<Did>,
    /// One past the last applied index.
    next_index: u64,
    last_timestamp: u64,
    dids: HashMap<Did, DidRecord>,
    grants: Vec<Grant>,
    lists: HashMap<String, StatusListRecord>,
    certificates: Vec<CertificateRecord>,
    roots: HashMap<Did, StatusRootRecord>,
    /// Replaying a bundle: a status list's token is authenticated by the entry's signature and
    /// checked where it is used (see [`LedgerState::for_bundle`]).
    deferred_lists: bool,
}

impl LedgerState {
    /// An empty state for replaying a trust bundle. Status list tokens are not verified nor
    /// inflated at replay: the issuer's signature on the entry already covers their bytes, so
    /// a verifier checks each token's own signature and size bound when it first reads the
    /// list (`Trust::status`) — ≈1,560 lists load without 3,000 signature checks and inflates
    /// the registry made at admission. Everything else is checked as on the registry.
    pub fn for_bundle() -> Self {
        LedgerState {
            deferred_lists: true,
            ..Self::default()
        }
    }

    /// The empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The log origin, once genesis is applied.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// The root authority, once genesis is applied.
    pub fn root(&self) -> Option<&Did> {
        self.root.as_ref()
    }

    /// One past the last applied index.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// The timestamp of the last applied leaf.
    pub fn last_timestamp(&self) -> u64 {
        self.last_timestamp
    }

    /// Checks and applies the leaf at `index`. Indices must increase (a trust bundle may skip
    /// some); a refused leaf leaves the state unchanged.
    pub fn apply(&mut self, index: u64, leaf: &Leaf) -> Result<Applied, EntryError> {
        if index < self.next_index {
            return Err(EntryError::Malformed {
                reason: format!("index {index} is not after {}", self.next_index),
            });
        }
        if leaf.timestamp_ms < self.last_timestamp {
            return Err(EntryError::Malformed {
                reason: "timestamps must not go backwards".into(),
            });
        }
        let entry = Entry::parse(&leaf.entry)?;
        let op_hash = leaf.hash();
        let applied = self.check_and_apply(index, leaf.timestamp_ms, op_hash, &entry)?;
        self.next_index = index + 1;
        self.last_timestamp = leaf.timestamp_ms;
        Ok(applied)
    }

    fn check_and_apply(
        &mut self,
        index: u64,
        time: u64,
        op_hash: Hash,
        entry: &Entry,
    ) -> Result<Applied, EntryError> {
        if self.origin.is_none() && !matches!(entry.operation(), Operation::Genesis { .. }) {
            return Err(EntryError::Genesis {
                reason: "the first entry must be the genesis",
            });
        }
        let version = |document: &DidDocument| DidVersion {
            index,
            timestamp_ms: time,
            document: document.clone(),
        };
        match entry.operation() {
            Operation::Genesis { origin, document } => {
                if self.origin.is_some() || index != 0 {
                    return Err(EntryError::Genesis {
                        reason: "only entry 0 may be the genesis",
                    });
                }
                if origin.is_empty() || origin.chars().any(char::is_whitespace) {
                    return Err(EntryError::Genesis {
                        reason: "origin must be non-empty and without spaces",
                    });
                }
                self.check_new_document(entry, document)?;
                self.origin = Some(origin.clone());
                self.root = Some(document.id.clone());
                self.insert_did(document, version(document), op_hash);
                Ok(applied("registry.genesis", document.id.as_str()))
            }
            Operation::DidCreate { document } => {
                self.check_new_document(entry, document)?;
                self.insert_did(document, version(document), op_hash);
                Ok(applied("did.create", document.id.as_str()))
            }
            Operation::DidUpdate { prev, document } => {
                self.check_chain(entry, &document.id, prev)?;
                validate_document(document)?;
                let record = self.record_mut(&document.id)?;
                record.versions.push(version(document));
                record.latest_op = op_hash;
                Ok(applied("did.update", document.id.as_str()))
            }
            Operation::DidDeactivate { did, prev } => {
                self.check_chain(entry, did, prev)?;
                let record = self.record_mut(did)?;
                record.deactivated = Some((index, time));
                record.latest_op = op_hash;
                Ok(applied("did.deactivate", did.as_str()))
            }
            Operation::Grant {
                grantor,
                subject,
                name,
                types,
                delegable,
                ..
            } => {
                self.verify_as(
                    entry,
                    grantor,
                    Relationship::AssertionMethod,
                    "grant accreditation",
                )?;
                check_types(types)?;
                if name.trim().is_empty() || name.len() > 200 {
                    return Err(EntryError::Accreditation {
                        reason: "name must be 1 to 200 characters",
                    });
                }
                self.active(subject)?;
                if Some(grantor) != self.root.as_ref() {
                    for ty in types {
                        if !self.may_delegate(grantor, ty) {
                            return Err(EntryError::Unauthorized {
                                kid: entry.kid().to_string(),
                                action: "grant a type it is not allowed to delegate",
                            });
                        }
                    }
                }
                let at = self.grants.len();
                self.record_mut(subject)?.received.push(at);
                self.grants.push(Grant {
                    index,
                    timestamp_ms: time,
                    grantor: grantor.clone(),
                    subject: subject.clone(),
                    name: name.clone(),
                    types: types.clone(),
                    delegable: *delegable,
                    withdrawn: BTreeMap::new(),
                });
                Ok(applied("accreditation.grant", subject.as_str()))
            }
            Operation::Withdraw {
                grantor,
                subject,
                types,
                reason,
                ..
            } => {
                self.verify_as(
                    entry,
                    grantor,
                    Relationship::AssertionMethod,
                    "withdraw accreditation",
                )?;
                check_types(types)?;
                check_code(reason).map_err(|_| EntryError::Accreditation {
                    reason: "reason must be a short code ([a-z0-9_.:-], at most 64)",
                })?;
                let is_root = Some(grantor) == self.root.as_ref();
                let mut withdrew = false;
                for grant in self
                    .grants
                    .iter_mut()
                    .filter(|g| &g.subject == subject && (is_root || &g.grantor == grantor))
                {
                    for ty in types {
                        if grant.covers(ty) {
                            grant.withdrawn.insert(ty.clone(), index);
                            withdrew = true;
                        }
                    }
                }
                if !withdrew {
                    return Err(EntryError::Accreditation {
                        reason: "no active grant by this grantor covers these types",
                    });
                }
                Ok(applied("accreditation.withdraw", subject.as_str()))
            }
            Operation::StatusPublish {
                issuer,
                list_id,
                version,
                token,
                cwt,
            } => {
                self.verify_as(
                    entry,
                    issuer,
                    Relationship::AssertionMethod,
                    "publish a status list",
                )?;
                let list_error = |reason| EntryError::StatusList {
                    list_id: list_id.clone(),
                    reason,
                };
                // Lists are for credentials someone accredited: a stranger's lists would cost
                // every verifier memory (a withdrawn issuer still revokes what it issued).
                if self.received_by(issuer).next().is_none() {
                    return Err(list_error("only accredited issuers publish status lists"));
                }
                if list_id.is_empty()
                    || list_id.len() > 128
                    || !list_id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                {
                    return Err(list_error("list ids are 1 to 128 of [A-Za-z0-9._-]"));
                }
                let (uri, digest) = if self.deferred_lists {
                    let uri = self
                        .status_token_subject(issuer, token)
                        .map_err(list_error)?;
                    (uri, None)
                } else {
                    let (uri, key, list) =
                        self.check_status_token(issuer, token).map_err(list_error)?;
                    if let Some(cwt) = cwt {
                        check_status_cwt(cwt, &key, &uri, &list).map_err(list_error)?;
                    }
                    (uri, Some(crate::lists::list_digest(&list)))
                };
                match self.lists.get(list_id) {
                    Some(existing) if &existing.issuer != issuer => {
                        return Err(list_error("the list belongs to another issuer"));
                    }
                    Some(existing) if *version <= existing.version => {
                        return Err(list_error("version must increase (replayed or stale)"));
                    }
                    _ => {}
                }
                if self
                    .lists
                    .values()
                    .any(|l| l.uri == uri && &l.list_id != list_id)
                {
                    return Err(list_error("the URI belongs to another list"));
                }
                self.lists.insert(
                    list_id.clone(),
                    StatusListRecord {
                        list_id: list_id.clone(),
                        issuer: issuer.clone(),
                        uri,
                        version: *version,
                        index,
                        timestamp_ms: time,
                        token: token.clone(),
                        cwt: cwt.clone(),
                        digest,
                    },
                );
                Ok(applied("status.publish", list_id))
            }
            Operation::StatusRoot {
                issuer,
                version,
                lists,
                root,
            } => {
                self.verify_as(
                    entry,
                    issuer,
                    Relationship::AssertionMethod,
                    "commit to status lists",
                )?;
                let refused = |reason| EntryError::StatusList {
                    list_id: "*".into(),
                    reason,
                };
                let record = StatusRootRecord::new(index, *version, *lists, root)?;
                if self.received_by(issuer).next().is_none() {
                    return Err(refused("only accredited issuers publish status lists"));
                }
                if self
                    .roots
                    .get(issuer)
                    .is_some_and(|r| r.version >= *version)
                {
                    return Err(refused("root version must increase (replayed or stale)"));
                }
                // On a bundle's replay the lists are checked against the root by the bundle
                // (`crate::bundle`), from the digests it carries.
                if !self.deferred_lists {
                    let held = self.issuer_lists(issuer);
                    if held.len() as u64 != *lists {
                        return Err(refused(
                            "the root must cover every list the issuer published",
                        ));
                    }
                    let digests = held
                        .iter()
                        .map(|l| l.digest.map(|d| (l.list_id.as_str(), l.uri.as_str(), d)))
                        .collect::<Option<Vec<_>>>()
                        .ok_or(refused("a list's digest is unknown"))?;
                    let expected = crate::lists::status_root(
                        digests.iter().map(|(id, uri, d)| (*id, *uri, d)),
                    );
                    if expected != record.root {
                        return Err(refused(
                            "the root is not the root of the issuer's published lists",
                        ));
                    }
                }
                self.roots.insert(issuer.clone(), record);
                Ok(applied("status.root", issuer.as_str()))
            }
            Operation::CertificatePublish {
                authority,
                subject,
                certificate,
                ..
            } => {
                self.verify_as(
                    entry,
                    authority,
                    Relationship::AssertionMethod,
                    "publish a certificate",
                )?;
                self.publish_certificate(index, authority, subject.as_ref(), certificate)?;
                Ok(applied("certificate.publish", authority.as_str()))
            }
            Operation::CertificateRevoke {
                authority,
                certificate,
                reason,
                ..
            } => {
                self.verify_as(
                    entry,
                    authority,
                    Relationship::AssertionMethod,
                    "revoke a certificate",
                )?;
                let refused = |reason| EntryError::Certificate { reason };
                if Some(authority) != self.root.as_ref() {
                    return Err(refused("only the root authority revokes certificates"));
                }
                check_code(reason)
                    .map_err(|_| refused("reasons are short codes of [a-z0-9_.:-]"))?;
                let record = self
                    .certificates
                    .iter_mut()
                    .find(|c| &c.id == certificate)
                    .ok_or(refused("no such certificate"))?;
                if record.revoked.is_some() {
                    return Err(refused("already revoked"));
                }
                record.revoked = Some((index, reason.clone()));
                Ok(applied("certificate.revoke", authority.as_str()))
            }
            Operation::Audit {
                issuer,
                period_start,
                period_end,
                counts,
            } => {
                self.verify_as(
                    entry,
                    issuer,
                    Relationship::AssertionMethod,
                    "write audit events",
                )?;
                let bad = |reason: &str| EntryError::Malformed {
                    reason: reason.to_owned(),
                };
                if period_start > period_end {
                    return Err(bad("audit period ends before it starts"));
                }
                if counts.len() > 64 || counts.keys().any(|k| check_code(k).is_err()) {
                    return Err(bad("audit counts: at most 64 keys of [a-z0-9_.:-]"));
                }
                Ok(applied("audit", issuer.as_str()))
            }
        }
    }

    /// A new document must be a well-formed `did:dojang` derived from, and signed by, one of
    /// its own capabilityInvocation keys, and not already registered.
    fn check_new_document(&self, entry: &Entry, document: &DidDocument) -> Result<(), EntryError> {
        validate_document(document)?;
        if self.dids.contains_key(&document.id) {
            return Err(EntryError::DidExists {
                did: document.id.to_string(),
            });
        }
        let key = signing_key(
            entry,
            document,
            Relationship::CapabilityInvocation,
            "create this DID",
        )?;
        if dojang_did(&key) != document.id {
            return Err(EntryError::Unauthorized {
                kid: entry.kid().to_string(),
                action: "create a DID not derived from its own key",
            });
        }
        entry.verify_signature(&key)
    }

    fn insert_did(&mut self, document: &DidDocument, version: DidVersion, op_hash: Hash) {
        self.dids.insert(
            document.id.clone(),
            DidRecord {
                versions: vec![version],
                deactivated: None,
                latest_op: op_hash,
                received: Vec::new(),
            },
        );
    }

    /// Update and deactivate: signed by the current document's capabilityInvocation key and
    /// chained to the latest operation.
    fn check_chain(&self, entry: &Entry, did: &Did, prev: &str) -> Result<(), EntryError> {
        let record = self.active(did)?;
        let latest = b64::encode(record.latest_op);
        if prev != latest {
            return Err(EntryError::BrokenChain {
                did: did.to_string(),
            });
        }
        self.verify_as(
            entry,
            did,
            Relationship::CapabilityInvocation,
            "change this DID",
        )
    }

    /// Checks and records a certificate the root authority publishes.
    fn publish_certificate(
        &mut self,
        index: u64,
        authority: &Did,
        subject: Option<&Did>,
        certificate: &str,
    ) -> Result<(), EntryError> {
        let refused = |reason| EntryError::Certificate { reason };
        if Some(authority) != self.root.as_ref() {
            return Err(refused("only the root authority publishes certificates"));
        }
        let der = b64::decode(certificate).map_err(|_| refused("not base64url"))?;
        if der.len() > MAX_CERTIFICATE_LEN {
            return Err(refused("larger than any certificate"));
        }
        let parsed =
            Certificate::from_der(&der).map_err(|_| refused("not an X.509 certificate"))?;
        let id = b64::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der));
        if self.certificates.iter().any(|c| c.id == id) {
            return Err(refused("already published"));
        }
        match (parsed.is_ca, subject) {
            (true, None) => {
                parsed
                    .verify_issued_by(&parsed)
                    .map_err(|_| refused("a root must be self-signed"))?;
            }
            (false, Some(subject)) if parsed.is_document_signer => {
                let issued_by_root = self.iaca_roots().any(|root| {
                    Certificate::from_der(&root).is_ok_and(|r| parsed.verify_issued_by(&r).is_ok())
                });
                if !issued_by_root {
                    return Err(refused("not issued by a published, unrevoked root"));
                }
                if self.received_by(subject).next().is_none() {
                    return Err(refused("the subject is not accredited"));
                }
                let document = &self
                    .active(subject)?
                    .versions
                    .last()
                    .ok_or(refused("the subject has no document"))?
                    .document;
                let holds_key = document.verification_method.iter().any(|method| {
                    method
                        .public_key()
                        .is_ok_and(|key| key.as_bytes() == parsed.public_key.as_slice())
                });
                if !holds_key {
                    return Err(refused("the certificate's key is not one of the subject's"));
                }
            }
            _ => {
                return Err(refused(
                    "a root names no subject; a document signer's names its issuer",
                ));
            }
        }
        self.certificates.push(CertificateRecord {
            id,
            der: certificate.to_owned(),
            is_root: parsed.is_ca,
            subject: subject.cloned(),
            index,
            revoked: None,
        });
        Ok(())
    }

    /// The published, unrevoked issuing-authority roots (DER).
    pub fn iaca_roots(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.certificates
            .iter()
            .filter(|c| c.is_root && c.revoked.is_none())
            .filter_map(|c| b64::decode(&c.der).ok())
    }

    /// Every published certificate, in log order.
    pub fn certificates(&self) -> &[CertificateRecord] {
        &self.certificates
    }

    /// The published certificate with this DER, if any.
    pub fn certificate(&self, der: &[u8]) -> Option<&CertificateRecord> {
        let id = b64::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der));
        self.certificates.iter().find(|c| c.id == id)
    }

    fn verify_as(
        &self,
        entry: &Entry,
        did: &Did,
        relationship: Relationship,
        action: &'static str,
    ) -> Result<(), EntryError> {
        let record = self.active(did)?;
        let version = record
            .versions
            .last()
            .ok_or_else(|| EntryError::UnknownDid {
                did: did.to_string(),
            })?;
        let key = signing_key(entry, &version.document, relationship, action)?;
        entry.verify_signature(&key)
    }

    fn active(&self, did: &Did) -> Result<&DidRecord, EntryError> {
        let record = self.dids.get(did).ok_or_else(|| EntryError::UnknownDid {
            did: did.to_string(),
        })?;
        if record.deactivated.is_some() {
            return Err(EntryError::Deactivated {
                did: did.to_string(),
            });
        }
        Ok(record)
    }

    fn record_mut(&mut self, did: &Did) -> Result<&mut DidRecord, EntryError> {
        self.dids
            .get_mut(did)
            .ok_or_else(|| EntryError::UnknownDid {
                did: did.to_string(),
            })
    }

    /// Verifies a status list token against the issuer's current assertion keys; returns its
    /// `sub` (the list URI), the key that signed it and its list.
    fn check_status_token(
        &self,
        issuer: &Did,
        token: &str,
    ) -> Result<(String, PublicKey, token::TokenStatusList), &'static str> {
        let jws = dojang_core::jws::Jws::parse(token).map_err(|_| "token is not a valid JWS")?;
        jws.expect_type(token::JWT_TYP, &[])
            .map_err(|_| "token typ is not statuslist+jwt")?;
        let document = self
            .document(issuer, AsOf::Latest)
            .ok_or("issuer is not registered")?;
        let key = document
            .key_for(Relationship::AssertionMethod, jws.header().kid.as_deref())
            .map_err(|_| "token is not signed by an assertion key of the issuer")?;
        jws.verify(&key)
            .map_err(|_| "token signature does not verify")?;
        let claims: StatusListTokenClaims = jws
            .payload_json()
            .map_err(|_| "token claims are malformed")?;
        // Inflating stops one byte past the bound: a list that would inflate to 16 MiB costs no
        // more to refuse than one of 1 MiB.
        let list =
            token::TokenStatusList::decode_within(&claims.status_list, MAX_STATUS_LIST_BYTES)
                .map_err(|e| match e {
                    StatusListError::TooLarge { .. } => {
                        "the decoded list is larger than the ledger allows (1 MiB)"
                    }
                    _ => "token list does not decode",
                })?;
        Ok((claims.sub, key, list))
    }

    /// The list URI a status token names, its signing key one of the issuer's assertion keys:
    /// the token read but not verified nor inflated (a bundle's replay, see
    /// [`LedgerState::for_bundle`]).
    fn status_token_subject(&self, issuer: &Did, token: &str) -> Result<String, &'static str> {
        let jws = dojang_core::jws::Jws::parse(token).map_err(|_| "token is not a valid JWS")?;
        jws.expect_type(token::JWT_TYP, &[])
            .map_err(|_| "token typ is not statuslist+jwt")?;
        self.document(issuer, AsOf::Latest)
            .ok_or("issuer is not registered")?
            .method_for(Relationship::AssertionMethod, jws.header().kid.as_deref())
            .map_err(|_| "token is not signed by an assertion key of the issuer")?;
        #[derive(serde::Deserialize)]
        struct Subject {
            sub: String,
        }
        let claims: Subject = jws
            .payload_json()
            .map_err(|_| "token claims are malformed")?;
        Ok(claims.sub)
    }

    /// Whether `did` currently holds a delegable grant for `ty` through a valid chain.
    fn may_delegate(&self, did: &Did, ty: &str) -> bool {
        self.grant_for(did, ty, true).is_some()
    }

    /// The latest currently valid grant of `ty` to `subject` (delegable, if asked), whose
    /// chain of grantors leads to the root through active, delegable grants that do not pass
    /// through `subject` itself.
    ///
    /// Found among the grants `subject` received, latest first; a grantor other than the root
    /// is followed up its own (see [`LedgerState::chained`]). A verification pays for the
    /// grants of its issuer and of the issuer's grantors, not for every grant in the log.
    fn grant_for(&self, subject: &Did, ty: &str, delegable: bool) -> Option<&Grant> {
        let record = self.active(subject).ok()?;
        let root = self.root.as_ref()?;
        let mut seen = HashSet::new();
        self.received(record).rev().find(|g| {
            g.covers(ty)
                && (!delegable || g.delegable)
                && (&g.grantor == root || self.chained(&g.grantor, ty, subject, &mut seen))
        })
    }

    /// Whether `from` is the root, or an active DID that reaches it up a chain of active DIDs
    /// and delegable grants of `ty` not passing through `excluded`. Walks up the grants each
    /// DID received, each DID once (`seen`), so it is linear in the grants it walks whatever
    /// the chains — trying every path was exponential when a chain was broken among delegates
    /// that grant each other. A walk that fails leaves in `seen` only DIDs without a chain, so
    /// the next walk for the same `excluded` can skip them.
    fn chained<'a>(
        &'a self,
        from: &'a Did,
        ty: &str,
        excluded: &Did,
        seen: &mut HashSet<&'a Did>,
    ) -> bool {
        let mut stack = vec![from];
        while let Some(did) = stack.pop() {
            if self.root.as_ref() == Some(did) {
                return true;
            }
            if did == excluded || !seen.insert(did) {
                continue;
            }
            if let Ok(record) = self.active(did) {
                let grantors = self
                    .received(record)
                    .filter(|g| g.delegable && g.covers(ty));
                stack.extend(grantors.map(|g| &g.grantor));
            }
        }
        false
    }

    /// The grants `record`'s DID received, in log order.
    fn received<'a>(
        &'a self,
        record: &'a DidRecord,
    ) -> impl DoubleEndedIterator<Item = &'a Grant> + 'a {
        record.received.iter().map(|&at| &self.grants[at])
    }

    /// The grants `did` received, in log order (none for a DID not registered).
    fn received_by<'a>(&'a self, did: &Did) -> impl DoubleEndedIterator<Item = &'a Grant> + 'a {
        self.dids
            .get(did)
            .into_iter()
            .flat_map(|record| self.received(record))
    }

    /// Every DID with a chain of active, delegable grants of `ty` from the root (the root
    /// included); `None` before genesis. One breadth-first walk: linear in the number of grants.
    fn chained_grantors(&self, ty: &str) -> Option<HashSet<&Did>> {
        let root = self.root.as_ref()?;
        let mut by_grantor: HashMap<&Did, Vec<&Grant>> = HashMap::new();
        for grant in &self.grants {
            if grant.delegable && grant.covers(ty) {
                by_grantor.entry(&grant.grantor).or_default().push(grant);
            }
        }
        let mut chained: HashSet<&Did> = HashSet::from([root]);
        let mut queue = vec![root];
        while let Some(grantor) = queue.pop() {
            for grant in by_grantor.get(grantor).into_iter().flatten() {
                if self.active(&grant.subject).is_ok() && chained.insert(&grant.subject) {
                    queue.push(&grant.subject);
                }
            }
        }
        Some(chained)
    }

    /// Whether `subject` may issue `ty` now.
    pub fn accreditation(&self, subject: &Did, ty: &str) -> Accreditation {
        if let Some(grant) = self.grant_for(subject, ty, false) {
            return Accreditation::Accredited {
                grant_index: grant.index,
                name: grant.name.clone(),
            };
        }
        if self
            .received_by(subject)
            .any(|g| g.types.iter().any(|t| t == ty))
        {
            Accreditation::Withdrawn
        } else {
            Accreditation::NotAccredited
        }
    }

    /// Every issuer with at least one current accreditation: DID, name, types.
    ///
    /// Two walks of the grants per type (the chains from the root, then the grants latest
    /// first), plus one per DID that itself grants the type: [`LedgerState::accreditation`] for
    /// each grant would be quadratic in the grants.
    pub fn accredited_issuers(&self) -> Vec<(Did, String, Vec<String>)> {
        let mut out: BTreeMap<Did, (String, u64, BTreeSet<String>)> = BTreeMap::new();
        let types: BTreeSet<&str> = self
            .grants
            .iter()
            .flat_map(|g| g.types.iter().map(String::as_str))
            .collect();
        for ty in types {
            // A chain that passes through a subject only matters for a subject that grants.
            let Some(common) = self.chained_grantors(ty) else {
                continue;
            };
            let grantors: HashSet<&Did> = self
                .grants
                .iter()
                .filter(|g| g.delegable && g.covers(ty))
                .map(|g| &g.grantor)
                .collect();
            // Latest grant first: a subject is settled by the first of its grants that counts.
            let mut settled: HashSet<&Did> = HashSet::new();
            for candidate in self.grants.iter().rev().filter(|g| g.covers(ty)) {
                let subject = &candidate.subject;
                if settled.contains(subject) {
                    continue;
                }
                let grant = if self.active(subject).is_err() {
                    settled.insert(subject);
                    continue;
                } else if grantors.contains(subject) {
                    settled.insert(subject);
                    match self.grant_for(subject, ty, false) {
                        Some(grant) => grant,
                        None => continue,
                    }
                } else if common.contains(&candidate.grantor) {
                    settled.insert(subject);
                    candidate
                } else {
                    continue;
                };
                let slot = out
                    .entry(subject.clone())
                    .or_insert_with(|| (grant.name.clone(), grant.index, BTreeSet::new()));
                // The name of the latest grant in force.
                if grant.index >= slot.1 {
                    slot.0 = grant.name.clone();
                    slot.1 = grant.index;
                }
                slot.2.insert(ty.to_owned());
            }
        }
        out.into_iter()
            .map(|(did, (name, _, types))| (did, name, types.into_iter().collect()))
            .collect()
    }

    /// All grants, in log order.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// The record of a DID.
    pub fn did(&self, did: &Did) -> Option<&DidRecord> {
        self.dids.get(did)
    }

    /// The record of a DID whose key history is asked for.
    fn record_of(&self, did: &Did) -> Result<&DidRecord, KeyHistoryError> {
        self.dids
            .get(did)
            .ok_or_else(|| KeyHistoryError::UnknownDid {
                did: did.to_string(),
            })
    }

    /// The registered DID written `text` and its record, found without parsing or copying it:
    /// every registered DID was checked when it was created, so a text that is none of them — a
    /// DID or not — is not found. What a verifier looks an issuer up by on every verification.
    pub fn registered(&self, text: &str) -> Option<(&Did, &DidRecord)> {
        self.dids.get_key_value(text)
    }

    /// Every registered DID.
    pub fn dids(&self) -> impl Iterator<Item = (&Did, &DidRecord)> {
        self.dids.iter()
    }

    /// The DID's document as of `as_of`; `None` if it did not exist then or was deactivated.
    pub fn document(&self, did: &Did, as_of: AsOf) -> Option<&DidDocument> {
        self.dids.get(did)?.document(as_of)
    }

    /// The assertion key `kid` of `did` as it was at `time_ms`: the key that may have signed a
    /// credential issued then, even if it has since been rotated out.
    pub fn assertion_key_at(
        &self,
        did: &Did,
        kid: Option<&str>,
        time_ms: u64,
    ) -> Result<PublicKey, KeyHistoryError> {
        let method = self.assertion_method_at(did, kid, time_ms)?;
        method
            .public_key()
            .map_err(|_| KeyHistoryError::NotValidAt {
                did: did.to_string(),
                kid: kid.map(str::to_owned),
            })
    }

    /// The verification method behind [`LedgerState::assertion_key_at`], undecoded.
    pub fn assertion_method_at(
        &self,
        did: &Did,
        kid: Option<&str>,
        time_ms: u64,
    ) -> Result<&VerificationMethod, KeyHistoryError> {
        self.record_of(did)?
            .assertion_method_at(kid, time_ms)
            .ok_or_else(|| KeyHistoryError::NotValidAt {
                did: did.to_string(),
                kid: kid.map(str::to_owned),
            })
    }

    /// The assertion method `kid` of `did` in force at some instant from `from_ms` to `to_ms`
    /// (see [`DidRecord::assertion_method_during`]).
    pub fn assertion_method_during(
        &self,
        did: &Did,
        kid: Option<&str>,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<&VerificationMethod, KeyHistoryError> {
        self.record_of(did)?
            .assertion_method_during(kid, from_ms, to_ms)
            .ok_or_else(|| KeyHistoryError::NotValidAt {
                did: did.to_string(),
                kid: kid.map(str::to_owned),
            })
    }

    /// Restores a status list from a trusted projection (the registry's own database), without
    /// replaying its publication.
    pub fn restore_status_list(&mut self, mut record: StatusListRecord) {
        if record.digest.is_none() {
            record.digest = crate::lists::token_bits(&record.token)
                .ok()
                .map(|list| crate::lists::list_digest(&list));
        }
        self.lists.insert(record.list_id.clone(), record);
    }

    /// Restores an issuer's `status.root` from the log without checking it against the lists
    /// (it was checked when appended; the lists restored may be newer).
    pub fn restore_status_root(&mut self, index: u64, leaf: &Leaf) -> Result<(), EntryError> {
        let entry = Entry::parse(&leaf.entry)?;
        if let Operation::StatusRoot {
            issuer,
            version,
            lists,
            root,
        } = entry.operation()
        {
            let record = StatusRootRecord::new(index, *version, *lists, root)?;
            self.roots.insert(issuer.clone(), record);
        }
        Ok(())
    }

    /// An issuer's latest `status.root`.
    pub fn status_root(&self, issuer: &Did) -> Option<&StatusRootRecord> {
        self.roots.get(issuer)
    }

    /// Every issuer's latest `status.root`.
    pub fn status_roots(&self) -> impl Iterator<Item = (&Did, &StatusRootRecord)> {
        self.roots.iter()
    }

    /// The issuer's lists, by id.
    pub fn issuer_lists(&self, issuer: &Did) -> Vec<&StatusListRecord> {
        let mut lists: Vec<_> = self
            .lists
            .values()
            .filter(|l| &l.issuer == issuer)
            .collect();
        lists.sort_unstable_by(|a, b| a.list_id.cmp(&b.list_id));
        lists
    }

    /// Restores the log position after a partial replay (entries not affecting state skipped).
    pub fn restore_position(&mut self, next_index: u64, last_timestamp: u64) {
        self.next_index = self.next_index.max(next_index);
        self.last_timestamp = self.last_timestamp.max(last_timestamp);
    }

    /// The latest version of a status list.
    pub fn status_list(&self, list_id: &str) -> Option<&StatusListRecord> {
        self.lists.get(list_id)
    }

    /// The latest version of every status list.
    pub fn status_lists(&self) -> impl Iterator<Item = &StatusListRecord> {
        self.lists.values()
    }

    /// The DIDs that take part in trust — the root authority and every DID that was ever
    /// granted, or granted, an accreditation — each with the log index from which it does.
    /// Only authorised grants add to it, never an open `did.create`.
    fn trust_dids(&self) -> HashMap<&Did, u64> {
        let mut dids = HashMap::new();
        if let Some(root) = &self.root {
            dids.insert(root, 0);
        }
        for grant in &self.grants {
            dids.entry(&grant.subject).or_insert(grant.index);
            dids.entry(&grant.grantor).or_insert(grant.index);
        }
        dids
    }

    /// Whether `did` takes part in trust (see [`LedgerState::trust_dids`]).
    pub fn takes_part_in_trust(&self, did: &Did) -> bool {
        self.root.as_ref() == Some(did)
            || self
                .grants
                .iter()
                .any(|g| &g.subject == did || &g.grantor == did)
    }

    /// Whether `entry` is signed by a DID that takes part in trust, with a key that DID's
    /// latest document lists for signing ledger entries — what lets an append skip admission
    /// control. A `kid` naming such a DID proves nothing: anyone can write one.
    pub fn signed_by_trust_did(&self, entry: &Entry) -> bool {
        let did = &entry.kid().did;
        let Some(document) = self
            .takes_part_in_trust(did)
            .then(|| self.document(did, AsOf::Latest))
            .flatten()
        else {
            return false;
        };
        // The key the `kid` names, if the document lets it sign entries: one signature check.
        [
            Relationship::CapabilityInvocation,
            Relationship::AssertionMethod,
        ]
        .into_iter()
        .find_map(|relationship| signing_key(entry, document, relationship, "append").ok())
        .is_some_and(|key| entry.verify_signature(&key).is_ok())
    }

    /// The log indices of the entries that define trust, ascending: every operation on a
    /// trust DID (see [`LedgerState::trust_dids`]), every grant and withdrawal, each issuer's
    /// latest `status.root` and the latest publication of each list a trust DID owns that no
    /// root covers yet (those under a root travel as bits beside it), and every certificate published or revoked. What a trust bundle carries: it grows with
    /// accredited issuers, their key rotations and their lists, never with open appends.
    pub fn trust_indices(&self) -> Vec<u64> {
        self.trust_indices_for(None)
    }

    /// [`LedgerState::trust_indices`] for a verifier that checks only `types`: the status lists
    /// carried are those of issuers ever granted one of them (a list holds whatever its issuer
    /// issued); every DID operation, grant and certificate is still carried, so accreditation
    /// and key history replay whole. A credential on a list left out is never found valid: its
    /// status is unknown to that verifier.
    pub fn trust_indices_for(&self, types: Option<&[String]>) -> Vec<u64> {
        let dids = self.trust_dids();
        let wanted = |issuer: &Did| self.ever_accredited_for(issuer, types);
        let mut indices: Vec<u64> = dids
            .keys()
            .filter_map(|did| self.dids.get(*did))
            .flat_map(|record| {
                record
                    .versions
                    .iter()
                    .map(|v| v.index)
                    .chain(record.deactivated.map(|(index, _)| index))
            })
            .chain(
                self.grants
                    .iter()
                    .flat_map(|g| std::iter::once(g.index).chain(g.withdrawn.values().copied())),
            )
            .chain(
                self.lists
                    .values()
                    .filter(|l| dids.contains_key(&l.issuer) && wanted(&l.issuer))
                    // A list its issuer's root covers travels as bits beside the root.
                    .filter(|l| self.roots.get(&l.issuer).is_none_or(|r| l.index > r.index))
                    .map(|l| l.index),
            )
            .chain(
                self.roots
                    .iter()
                    .filter(|(issuer, _)| dids.contains_key(issuer) && wanted(issuer))
                    .map(|(_, r)| r.index),
            )
            .chain(self.certificates.iter().flat_map(|c| {
                std::iter::once(c.index).chain(c.revoked.as_ref().map(|(index, _)| *index))
            }))
            .collect();
        indices.sort_unstable();
        indices.dedup();
        indices
    }

    /// Whether `issuer` was ever granted one of `types` (any type, for `None`): whose lists a
    /// verifier checking those types carries.
    pub fn ever_accredited_for(&self, issuer: &Did, types: Option<&[String]>) -> bool {
        self.received_by(issuer)
            .any(|g| types.is_none_or(|types| g.types.iter().any(|t| types.contains(t))))
    }

    /// Whether an issuer was granted one of `types` at or after `size`: a verifier whose bundle
    /// was filtered to those types did not take that issuer's older lists, so its delta must
    /// carry the whole state.
    pub fn granted_since(&self, size: u64, types: Option<&[String]>) -> bool {
        types.is_some_and(|types| {
            self.grants
                .iter()
                .any(|g| g.index >= size && g.types.iter().any(|t| types.contains(t)))
        })
    }

    /// Whether a DID joined trust at or after `size` with operations from before it: a delta
    /// from `size` cannot carry that history in log order, so the verifier needs it whole.
    pub fn trust_joined_with_history(&self, size: u64) -> bool {
        self.trust_dids().into_iter().any(|(did, joined)| {
            joined >= size
                && self
                    .dids
                    .get(did)
                    .and_then(|r| r.versions.first())
                    .is_some_and(|v| v.index < size)
        })
    }
}

fn applied(op: &'static str, subject: &str) -> Applied {
    Applied {
        op,
        subject: subject.to_owned(),
    }
}

/// The key `entry` names, which must be authorised for `relationship` in `document`.
fn signing_key(
    entry: &Entry,
    document: &DidDocument,
    relationship: Relationship,
    action: &'static str,
) -> Result<PublicKey, EntryError> {
    let kid = entry.kid().to_string();
    document
        .key_for(relationship, Some(&kid))
        .map_err(|_| EntryError::Unauthorized { kid, action })
}

/// Structural rules for `did:dojang` documents.
fn validate_document(document: &DidDocument) -> Result<(), EntryError> {
    let bad = |reason: &str| EntryError::Malformed {
        reason: format!("DID document: {reason}"),
    };
    if document.id.method() != "dojang" {
        return Err(bad("the registry holds did:dojang documents only"));
    }
    if document.verification_method.is_empty() || document.verification_method.len() > MAX_METHODS {
        return Err(bad("needs 1 to 16 verification methods"));
    }
    let prefix = format!("{}#", document.id);
    for method in &document.verification_method {
        if !method.id.starts_with(&prefix) && !method.id.starts_with('#') {
            return Err(bad("verification method ids must be fragments of the DID"));
        }
        if method.controller != document.id.as_str() {
            return Err(bad("verification methods must be controlled by the DID"));
        }
        method.public_key().map_err(|e| bad(&e.to_string()))?;
    }
    for relationship in [
        &document.authentication,
        &document.assertion_method,
        &document.capability_invocation,
        &document.capability_delegation,
    ] {
        for reference in relationship {
            match reference {
                VerificationRelationship::Reference(id)
                    if document.verification_method(id).is_some() => {}
                _ => {
                    return Err(bad(
                        "relationships must reference listed verification methods",
                    ));
                }
            }
        }
    }
    if document.capability_invocation.is_empty() {
        return Err(bad("needs a capabilityInvocation key to control it"));
    }
    if document.service.len() > 8 {
        return Err(bad("at most 8 services"));
    }
    Ok(())
}

/// Whether `types` are 1 to 32 credential type ids as the ledger grants them (1 to 64 of
/// `[a-z0-9_.:-]` each): what a grant names, and what a trust bundle may be filtered by.
pub fn are_type_ids(types: &[String]) -> bool {
    !types.is_empty() && types.len() <= 32 && types.iter().all(|t| check_code(t).is_ok())
}

fn check_types(types: &[String]) -> Result<(), EntryError> {
    if !are_type_ids(types) {
        return Err(EntryError::Accreditation {
            reason: "types: 1 to 32 ids of [a-z0-9_.:-]",
        });
    }
    Ok(())
}

/// Short machine codes: 1 to 64 of `[a-z0-9_.:-]`.
fn check_code(code: &str) -> Result<(), ()> {
    if !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.:-".contains(&b))
    {
        Ok(())
    } else {
        Err(())
    }
}

/// Checks that the CWT form of a status list (base64url) is the same list as its JWT: signed by
/// the same key, for the same URI, with the same statuses.
fn check_status_cwt(
    cwt: &str,
    key: &PublicKey,
    uri: &str,
    list: &token::TokenStatusList,
) -> Result<(), &'static str> {
    let bytes = b64::decode(cwt).map_err(|_| "the CWT form is not base64url")?;
    let (claims, cwt_list) = dojang_mdoc::read_status_list_cwt(&bytes, key, MAX_STATUS_LIST_BYTES)
        .map_err(|_| "the CWT form is not a status list signed by the token's key")?;
    if claims.sub != uri || cwt_list.bits() != list.bits() || cwt_list.as_bytes() != list.as_bytes()
    {
        return Err("the CWT form is not the same list as the token");
    }
    Ok(())
}
