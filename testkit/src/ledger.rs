//! Ledger fixtures: parties with `did:dojang` identities that sign entries, and an in-memory
//! log to apply them to.

use dojang_core::b64;
use dojang_core::did::{Did, DidDocument, DidUrl};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::status::token::{self, StatusListTokenClaims, TokenStatus, TokenStatusList};
use dojang_ledger::did::{EVERY_RELATIONSHIP, FIRST_KEY, first_key_document};
use dojang_ledger::entry::{Entry, EntryError, Leaf, Operation};
use dojang_ledger::state::{Applied, LedgerState};

/// When fixtures say things happened, in seconds since the epoch.
pub const FIXTURE_TIME: i64 = 1_800_000_000;

/// A party with a `did:dojang` whose first key (`#key-1`) has every relationship.
pub struct Actor {
    /// Its first key.
    pub key: SecretKey,
    /// Its DID.
    pub did: Did,
    /// Its DID document as created.
    pub document: DidDocument,
}

impl Actor {
    /// A party with a fresh key of `alg`.
    #[allow(clippy::unwrap_used)]
    pub fn new(alg: Algorithm) -> Self {
        let key = SecretKey::generate(alg).unwrap();
        let (document, kid) = first_key_document(key.public_key(), EVERY_RELATIONSHIP);
        Actor {
            key,
            did: kid.did,
            document,
        }
    }

    /// The DID URL of `#fragment`.
    pub fn kid(&self, fragment: &str) -> DidUrl {
        self.did.with_fragment(fragment)
    }

    /// `op` signed with `key`, naming `#fragment`.
    #[allow(clippy::unwrap_used)]
    pub fn sign_with(&self, op: &Operation, key: &SecretKey, fragment: &str) -> String {
        Entry::sign(op, key, &self.kid(fragment)).unwrap()
    }

    /// `op` signed with the first key.
    pub fn sign(&self, op: &Operation) -> String {
        self.sign_with(op, &self.key, FIRST_KEY)
    }

    /// The `did.create` of this party's document.
    pub fn create(&self) -> String {
        self.sign(&Operation::DidCreate {
            document: self.document.clone(),
        })
    }

    /// The genesis of the log `origin`, this party as its root authority.
    pub fn genesis(&self, origin: &str) -> String {
        self.sign(&Operation::Genesis {
            origin: origin.into(),
            document: self.document.clone(),
        })
    }

    /// This party's `status.root` at `version` over the lists `state` (a registry's, which
    /// knows each list's digest) holds for it.
    #[allow(clippy::unwrap_used)]
    pub fn status_root(&self, state: &LedgerState, version: u64) -> String {
        let lists = state.issuer_lists(&self.did);
        let root = dojang_ledger::lists::status_root(lists.iter().map(|l| {
            (
                l.list_id.as_str(),
                l.uri.as_str(),
                l.digest.as_ref().unwrap(),
            )
        }));
        self.sign(&Operation::StatusRoot {
            issuer: self.did.clone(),
            version,
            lists: lists.len() as u64,
            root: b64::encode(root),
        })
    }

    /// This party's status list for `uri` (2 bits, 131,072 entries) with `statuses` set,
    /// issued at `iat`, as a signed `statuslist+jwt`.
    #[allow(clippy::unwrap_used)]
    pub fn status_token_with(
        &self,
        uri: &str,
        statuses: &[(usize, TokenStatus)],
        iat: i64,
    ) -> String {
        let mut list = TokenStatusList::new(2, 131_072).unwrap();
        for &(i, status) in statuses {
            list.set(i, status).unwrap();
        }
        let claims = StatusListTokenClaims {
            sub: uri.into(),
            iat,
            exp: None,
            ttl: Some(3600),
            status_list: list.encode(),
            extra: Default::default(),
        };
        token::sign_token(&claims, Some(&self.kid(FIRST_KEY).to_string()), &self.key).unwrap()
    }

    /// This party's status list for `uri` with `revoked` indices, issued at [`FIXTURE_TIME`].
    pub fn status_token(&self, uri: &str, revoked: &[usize]) -> String {
        let statuses: Vec<_> = revoked.iter().map(|&i| (i, TokenStatus::Invalid)).collect();
        self.status_token_with(uri, &statuses, FIXTURE_TIME)
    }
}

/// `root`'s grant to `subject` of `types` under `name`, at [`FIXTURE_TIME`].
pub fn grant(root: &Actor, subject: &Actor, name: &str, types: &[&str], delegable: bool) -> String {
    root.sign(&Operation::Grant {
        grantor: root.did.clone(),
        subject: subject.did.clone(),
        name: name.into(),
        types: types.iter().map(|t| t.to_string()).collect(),
        delegable,
        at: FIXTURE_TIME,
    })
}

/// A ledger state with a clock: each append is sequenced a second after the last.
pub struct TestLog {
    /// The state the appended entries define.
    pub state: LedgerState,
    /// The next entry's sequencing time, ms.
    pub time: u64,
    /// The leaves appended so far.
    pub leaves: Vec<Leaf>,
}

impl TestLog {
    /// A log of `origin` begun by `root`'s genesis.
    #[allow(clippy::unwrap_used)]
    pub fn new(root: &Actor, origin: &str) -> Self {
        let mut log = TestLog {
            state: LedgerState::new(),
            time: FIXTURE_TIME as u64 * 1000,
            leaves: Vec::new(),
        };
        log.append(root.genesis(origin)).unwrap();
        log
    }

    /// Applies `entry` as the next leaf.
    pub fn append(&mut self, entry: String) -> Result<Applied, EntryError> {
        let leaf = Leaf {
            timestamp_ms: self.time,
            entry,
        };
        let index = self.leaves.len() as u64;
        let applied = self.state.apply(index, &leaf)?;
        self.leaves.push(leaf);
        self.time += 1000;
        Ok(applied)
    }

    /// The base64url leaf hash of the latest DID operation on `did` (a `did.update`'s `prev`).
    #[allow(clippy::unwrap_used)]
    pub fn prev(&self, did: &Did) -> String {
        let leaf = self
            .leaves
            .iter()
            .rev()
            .find(|l| {
                let entry = Entry::parse(&l.entry).unwrap();
                entry.operation().actor() == did
                    && matches!(
                        entry.operation(),
                        Operation::DidCreate { .. }
                            | Operation::DidUpdate { .. }
                            | Operation::Genesis { .. }
                            | Operation::DidDeactivate { .. }
                    )
            })
            .unwrap();
        b64::encode(leaf.hash())
    }
}
