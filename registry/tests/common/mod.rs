//! Fixtures: actors with did:dojang identities, and a log to append their entries to.

#![allow(dead_code, unreachable_pub)]

use dojang_core::did::{Did, DidDocument, DidUrl, Relationship};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::status::token::{self, StatusListTokenClaims, TokenStatus, TokenStatusList};
use dojang_ledger::entry::{Entry, EntryError, Leaf, Operation};
use dojang_ledger::state::{Applied, LedgerState, dojang_did, dojang_document};

pub const ORIGIN: &str = "registry.dojang.example/log";
const ALL: &[Relationship] = &[
    Relationship::AssertionMethod,
    Relationship::Authentication,
    Relationship::CapabilityInvocation,
];

/// A party with a did:dojang whose first key (`#key-1`) has every relationship.
pub struct Actor {
    pub key: SecretKey,
    pub did: Did,
    pub document: DidDocument,
}

impl Actor {
    pub fn new(alg: Algorithm) -> Self {
        let key = SecretKey::generate(alg).unwrap();
        let did = dojang_did(key.public_key());
        let document = dojang_document(&did, &[("key-1", key.public_key(), ALL)]);
        Actor { key, did, document }
    }

    pub fn kid(&self, fragment: &str) -> DidUrl {
        self.did.with_fragment(fragment)
    }

    /// Signs `op` with `key`, naming `#fragment`.
    pub fn sign_with(&self, op: &Operation, key: &SecretKey, fragment: &str) -> String {
        Entry::sign(op, key, &self.kid(fragment)).unwrap()
    }

    pub fn sign(&self, op: &Operation) -> String {
        self.sign_with(op, &self.key, "key-1")
    }

    pub fn create(&self) -> String {
        self.sign(&Operation::DidCreate {
            document: self.document.clone(),
        })
    }

    pub fn genesis(&self) -> String {
        self.sign(&Operation::Genesis {
            origin: ORIGIN.into(),
            document: self.document.clone(),
        })
    }

    /// A signed status list token for `uri` with `revoked` indices.
    pub fn status_token(&self, uri: &str, revoked: &[usize]) -> String {
        let mut list = TokenStatusList::new(2, 131_072).unwrap();
        for &i in revoked {
            list.set(i, TokenStatus::Invalid).unwrap();
        }
        let claims = StatusListTokenClaims {
            sub: uri.into(),
            iat: 1_800_000_000,
            exp: None,
            ttl: Some(3600),
            status_list: list.encode(),
            extra: Default::default(),
        };
        token::sign_token(&claims, Some(&self.kid("key-1").to_string()), &self.key).unwrap()
    }
}

/// A ledger state with a clock.
pub struct TestLog {
    pub state: LedgerState,
    pub time: u64,
    pub leaves: Vec<Leaf>,
}

impl TestLog {
    pub fn new(root: &Actor) -> Self {
        let mut log = TestLog {
            state: LedgerState::new(),
            time: 1_800_000_000_000,
            leaves: Vec::new(),
        };
        log.append(root.genesis()).unwrap();
        log
    }

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

    /// base64url leaf hash of the latest operation on the actor's DID.
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
        dojang_core::b64::encode(leaf.hash())
    }
}

pub fn grant(root: &Actor, subject: &Actor, name: &str, types: &[&str], delegable: bool) -> String {
    root.sign(&Operation::Grant {
        grantor: root.did.clone(),
        subject: subject.did.clone(),
        name: name.into(),
        types: types.iter().map(|t| t.to_string()).collect(),
        delegable,
        at: 1_800_000_000,
    })
}

/// A fresh SQLite database file under `dir`.
pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("registry.db").display())
}

pub use dojang_testkit::postgres::TestDatabase;

/// A fresh PostgreSQL database, dropped with the returned value; `None` if
/// `DOJANG_TEST_POSTGRES_URL` is not set (the caller says it skipped).
pub async fn postgres_database() -> Option<TestDatabase> {
    dojang_testkit::postgres::fresh_database("registry").await
}

pub fn config(url: &str) -> dojang_registry::service::RegistryConfig {
    dojang_registry::service::RegistryConfig {
        database_url: url.to_owned(),
        origin: ORIGIN.into(),
        passphrase: zeroize::Zeroizing::new("test passphrase".into()),
        root: None,
        kdf: dojang_core::seal::KdfParams::INSECURE_FOR_TESTS,
        witnesses: Vec::new(),
        min_witnesses: 0,
    }
}
