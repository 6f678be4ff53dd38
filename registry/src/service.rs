//! The running registry: one sequencer task that batches appends into checkpoints, and the
//! read side (entries, proofs, DID resolution, accreditation, status lists, trust bundles).
//!
//! Submitters send entries to the sequencer (`crate::sequencer`) over a channel and wait; it
//! answers once their batch is committed. An acknowledged entry is therefore on disk; a refused
//! one changed nothing.
//!
//! The in-memory [`LedgerState`] is write-locked for the whole batch, through the commit, so a
//! reader never sees an entry that is not committed. If the commit fails the state is rebuilt
//! from the database.

use std::sync::Arc;

use dojang_core::clock::unix_now_ms;
use dojang_core::did::Did;
use dojang_core::key::{Algorithm, SecretKey, Signer};
use dojang_core::seal::{KdfParams, PassphraseSealed};
use dojang_pkcs11::{KeyUri, Pkcs11Signer};
use tokio::sync::{RwLock, mpsc, oneshot};
use zeroize::Zeroizing;

use crate::sequencer::Sequencer;
use crate::store::{Store, StoreError};
use dojang_ledger::bundle::{BundleEntry, Since, TrustAnchor, TrustBundle, proof_bytes};
use dojang_ledger::checkpoint::SignedCheckpoint;
use dojang_ledger::entry::{EntryError, Leaf};
use dojang_ledger::merkle::{self, Hash, Plan, ProofError};
use dojang_ledger::note::{NoteSignature, NoteSigner, NoteVerifier, TYPE_ED25519};
use dojang_ledger::state::LedgerState;

/// Most entries sequenced in one transaction.
pub const MAX_BATCH: usize = 1024;

/// Why an append or a query failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The entry was refused; the log is unchanged.
    #[error("{0}")]
    Rejected(#[from] EntryError),
    /// The same entry was submitted twice at once, and the first copy was refused.
    #[error("this entry was submitted twice at once and refused")]
    Replayed,
    /// Storage failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A proof was asked for sizes or indices outside the log.
    #[error("{0}")]
    Proof(#[from] ProofError),
    /// The thing asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A request parameter is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// The registry's keys could not be opened (wrong passphrase?).
    #[error("registry keys: {0}")]
    Keys(String),
    /// A signature the registry's log or bundle key (on an HSM) could not make: nothing was
    /// appended. The token's error is logged, not shown.
    #[error(
        "레지스트리의 서명 키(HSM)를 쓸 수 없어 아무것도 기록되지 않았습니다. 토큰이 돌아오면 다시 \
         시도하세요 / the registry's signing key (HSM) is unavailable, so nothing was appended; \
         try again once the token is back"
    )]
    KeyUnavailable(String),
    /// The sequencer has stopped (shutting down).
    #[error("the registry is shutting down")]
    Stopped,
}

/// What a registry needs to start.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The log's origin (checkpoint first line), e.g. `registry.dojang.example/log`.
    pub origin: String,
    /// Passphrase sealing the registry's signing keys in the database.
    pub passphrase: Zeroizing<String>,
    /// If set, genesis must create exactly this root authority DID.
    pub root: Option<Did>,
    /// Argon2id parameters for sealing keys.
    pub kdf: KdfParams,
    /// Witnesses to collect cosignatures from.
    pub witnesses: Vec<WitnessConfig>,
    /// Cosignatures a verifier should require (published in the trust anchor).
    pub min_witnesses: usize,
    /// The log key in an HSM (Ed25519; made there if absent); `None`: sealed in the database.
    pub log_key: Option<KeyUri>,
    /// The bundle key in an HSM (Ed25519; made there if absent); `None`: sealed in the database.
    pub bundle_key: Option<KeyUri>,
}

impl RegistryConfig {
    /// A registry of the log `origin` on `database_url`, its keys sealed under `passphrase`
    /// with the default Argon2id parameters; any root authority, no witnesses.
    pub fn new(database_url: &str, origin: &str, passphrase: &str) -> Self {
        RegistryConfig {
            database_url: database_url.to_owned(),
            origin: origin.to_owned(),
            passphrase: Zeroizing::new(passphrase.to_owned()),
            root: None,
            kdf: KdfParams::DEFAULT,
            witnesses: Vec::new(),
            min_witnesses: 0,
            log_key: None,
            bundle_key: None,
        }
    }
}

/// A witness the registry asks to cosign its checkpoints.
#[derive(Debug, Clone)]
pub struct WitnessConfig {
    /// Base URL of its C2SP tlog-witness API (`…/add-checkpoint` is appended).
    pub url: String,
    /// Its cosigning key.
    pub key: NoteVerifier,
}

/// An acknowledged append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Log index.
    pub index: u64,
    /// Sequencing time, ms.
    pub timestamp_ms: u64,
    /// Leaf hash.
    pub leaf_hash: Hash,
    /// The entry was already in the log (an earlier submission of it was committed, and its
    /// acknowledgement may have been lost): this is where it is.
    pub replayed: bool,
}

pub(crate) type Reply = oneshot::Sender<Result<Appended, RegistryError>>;

pub(crate) struct Submission {
    pub(crate) entry: String,
    pub(crate) reply: Reply,
}

pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) origin: String,
    pub(crate) log_key: NoteVerifier,
    pub(crate) bundle_key: Box<dyn Signer>,
    pub(crate) state: RwLock<LedgerState>,
    pub(crate) witnesses: Vec<WitnessConfig>,
    pub(crate) min_witnesses: usize,
}

/// A handle to the running registry (cheap to clone).
#[derive(Clone)]
pub struct Registry {
    shared: Arc<Shared>,
    submit: mpsc::Sender<Submission>,
}

impl Registry {
    /// Opens the database, unseals (or creates) the signing keys, rebuilds the ledger state and
    /// starts the sequencer.
    pub async fn open(config: RegistryConfig) -> Result<Self, RegistryError> {
        let store = Store::open(&config.database_url).await?;
        let log_key = load_key(&store, "log", config.log_key.as_ref(), &config).await?;
        let bundle_key = load_key(&store, "bundle", config.bundle_key.as_ref(), &config).await?;
        let signer = NoteSigner::new(&config.origin, TYPE_ED25519, log_key)
            .map_err(|e| RegistryError::Keys(e.to_string()))?;
        let (size, _) = store.head().await?;
        let state = crate::sequencer::rebuild_state(&store, size).await?;
        if let Some(origin) = state.origin()
            && origin != config.origin
        {
            return Err(RegistryError::Keys(format!(
                "this database holds the log `{origin}`, not `{}`",
                config.origin
            )));
        }
        let shared = Arc::new(Shared {
            store: store.clone(),
            origin: config.origin.clone(),
            log_key: signer.verifier().clone(),
            bundle_key,
            state: RwLock::new(state),
            witnesses: config.witnesses.clone(),
            min_witnesses: config.min_witnesses,
        });
        let (submit, receiver) = mpsc::channel(MAX_BATCH * 4);
        let sequencer = Sequencer::new(shared.clone(), signer, config.root, size).await?;
        tokio::spawn(sequencer.run(receiver));
        let registry = Registry { shared, submit };
        if !registry.shared.witnesses.is_empty() {
            tokio::spawn(crate::cosign::collect_cosignatures(registry.clone()));
        }
        Ok(registry)
    }

    /// Appends an entry; returns once it is committed.
    pub async fn submit(&self, entry: String) -> Result<Appended, RegistryError> {
        let (reply, answer) = oneshot::channel();
        self.submit
            .send(Submission { entry, reply })
            .await
            .map_err(|_| RegistryError::Stopped)?;
        answer.await.map_err(|_| RegistryError::Stopped)?
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// The log's checkpoint verifier key (`<name>+<id>+<key>`).
    pub fn log_key(&self) -> &NoteVerifier {
        &self.shared.log_key
    }

    /// The key that signs trust bundles.
    pub fn bundle_key(&self) -> &dyn Signer {
        self.shared.bundle_key.as_ref()
    }

    /// The store (for the witness and bundle code in this crate).
    pub(crate) fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The witnesses this registry collects cosignatures from.
    pub fn witnesses(&self) -> &[WitnessConfig] {
        &self.shared.witnesses
    }

    /// What a verifier should pin to trust this registry's bundles.
    pub fn trust_anchor(&self) -> TrustAnchor {
        TrustAnchor {
            origin: self.shared.origin.clone(),
            log_key: self.shared.log_key.to_string(),
            bundle_key: dojang_core::multikey::encode(self.shared.bundle_key.public_key()),
            witnesses: self
                .shared
                .witnesses
                .iter()
                .map(|w| w.key.to_string())
                .collect(),
            min_witnesses: self.shared.min_witnesses,
        }
    }

    /// Exports the signed trust bundle at the latest committed checkpoint: the entries that
    /// define trust ([`LedgerState::trust_indices`]), each with its inclusion proof. With
    /// `since`, a delta holding only those added after that size, with a consistency proof
    /// from it — or, when an issuer joined trust with older history, all of them (`full`).
    pub async fn bundle(&self, since: Option<u64>) -> Result<String, RegistryError> {
        self.bundle_for(since, None).await
    }

    /// [`Registry::bundle`] for a verifier that checks only `types`: the status lists of other
    /// issuers left out (see [`LedgerState::trust_indices_for`]); every entry still proven
    /// against the checkpoint.
    pub async fn bundle_for(
        &self,
        since: Option<u64>,
        types: Option<&[String]>,
    ) -> Result<String, RegistryError> {
        // One committed log size for everything: the state caught up to the database's head,
        // the indices taken from it, and the checkpoint, proofs and leaves read at that size
        // (committed entries and checkpoints never change, so the lock is not held for them).
        let (size, indices, full, held, plans) = {
            let state = self.current_state().await?;
            let size = state.next_index();
            let from = since.unwrap_or(0);
            if from > size {
                return Err(ProofError::InvalidSizes {
                    first: from,
                    second: size,
                }
                .into());
            }
            let full = since.is_none()
                || state.trust_joined_with_history(from)
                || state.granted_since(from, types);
            let mut indices = state.trust_indices_for(types);
            if !full {
                indices.retain(|&i| i >= from);
            }
            // What the verifier holds, for the lists: nothing on a full bundle.
            let held = (!full).then_some(from);
            (
                size,
                indices,
                full,
                held,
                crate::lists::plan(&state, types, held),
            )
        };
        let lists = crate::lists::carried(self.store(), plans, held).await?;
        let checkpoint = self.checkpoint_at(size).await?;
        let mut entries = Vec::with_capacity(indices.len());
        for index in indices {
            let leaf = self.leaf(index).await?;
            entries.push(BundleEntry {
                index,
                leaf: leaf.encode(),
                proof: proof_bytes(&self.inclusion_proof(index, size).await?),
            });
        }
        let since = match since {
            Some(base) => Some(Since {
                size: base,
                proof: proof_bytes(&self.consistency_proof(base, size).await?),
                full,
            }),
            None => None,
        };
        let bundle = TrustBundle {
            format: dojang_ledger::bundle::FORMAT.to_owned(),
            origin: self.shared.origin.clone(),
            exported_at: (unix_now_ms() / 1000) as i64,
            checkpoint: checkpoint.to_text(),
            entries,
            lists,
            since,
        };
        bundle.sign(&self.shared.bundle_key).map_err(|e| {
            tracing::error!(error = %e, "the bundle key could not sign");
            RegistryError::KeyUnavailable(e.to_string())
        })
    }

    /// The ledger state as this process last applied it (no database read). Reads that answer
    /// others use [`Registry::current_state`].
    pub async fn state(&self) -> tokio::sync::RwLockReadGuard<'_, LedgerState> {
        self.shared.state.read().await
    }

    /// The ledger state caught up with the database's committed head: entries another
    /// registry process sequenced on the same database are applied first, so every process
    /// answers from the same committed log.
    pub async fn current_state(
        &self,
    ) -> Result<tokio::sync::RwLockReadGuard<'_, LedgerState>, RegistryError> {
        let (size, _) = self.store().head().await?;
        {
            let state = self.shared.state.read().await;
            if state.next_index() >= size {
                return Ok(state);
            }
        }
        let mut state = self.shared.state.write().await;
        if state.next_index() < size {
            for stored in self.store().entries(state.next_index(), size).await? {
                state.apply(stored.index, &stored.leaf())?;
            }
        }
        Ok(state.downgrade())
    }

    /// The latest signed checkpoint with its cosignatures, as a note.
    pub async fn checkpoint(&self) -> Result<SignedCheckpoint, RegistryError> {
        let (_, note, cosignatures) = self
            .store()
            .latest_checkpoint()
            .await?
            .ok_or(RegistryError::NotFound)?;
        self.with_cosignatures(&note, &cosignatures)
    }

    /// The signed checkpoint for `size`, with its cosignatures.
    pub async fn checkpoint_at(&self, size: u64) -> Result<SignedCheckpoint, RegistryError> {
        let (note, cosignatures) = self
            .store()
            .checkpoint(size)
            .await?
            .ok_or(RegistryError::NotFound)?;
        self.with_cosignatures(&note, &cosignatures)
    }

    fn with_cosignatures(
        &self,
        note: &str,
        cosignatures: &[String],
    ) -> Result<SignedCheckpoint, RegistryError> {
        let mut signed = SignedCheckpoint::verify(note, &self.shared.origin, &self.shared.log_key)
            .map_err(|e| RegistryError::Keys(e.to_string()))?;
        for line in cosignatures {
            if let Ok(signature) = NoteSignature::parse_line(line.trim_end()) {
                signed.add_cosignature(signature);
            }
        }
        Ok(signed)
    }

    /// The committed log size.
    pub async fn size(&self) -> Result<u64, RegistryError> {
        Ok(self.store().head().await?.0)
    }

    /// The leaf at `index`.
    pub async fn leaf(&self, index: u64) -> Result<Leaf, RegistryError> {
        let stored = self
            .store()
            .entry(index)
            .await?
            .ok_or(RegistryError::NotFound)?;
        Ok(Leaf {
            timestamp_ms: stored.timestamp_ms,
            entry: stored.entry,
        })
    }

    /// The index of the leaf with `leaf_hash`.
    pub async fn index_of(&self, leaf_hash: &Hash) -> Result<u64, RegistryError> {
        self.store()
            .index_of_leaf(leaf_hash)
            .await?
            .ok_or(RegistryError::NotFound)
    }

    /// The inclusion proof of leaf `index` in the tree of `size`.
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, RegistryError> {
        self.check_size(size).await?;
        let ranges = merkle::inclusion_ranges(index, size)?;
        self.range_hashes(&ranges).await
    }

    /// The consistency proof from `first` to `second`.
    pub async fn consistency_proof(
        &self,
        first: u64,
        second: u64,
    ) -> Result<Vec<Hash>, RegistryError> {
        self.check_size(second).await?;
        if first == second || first == 0 {
            return if first <= second {
                Ok(Vec::new())
            } else {
                Err(ProofError::InvalidSizes { first, second }.into())
            };
        }
        let ranges = merkle::consistency_ranges(first, second)?;
        self.range_hashes(&ranges).await
    }

    /// The root hash of the first `size` leaves.
    pub async fn root(&self, size: u64) -> Result<Hash, RegistryError> {
        self.check_size(size).await?;
        if size == 0 {
            return Ok(merkle::empty_root());
        }
        Ok(self
            .range_hashes(std::slice::from_ref(&(0..size)))
            .await?
            .remove(0))
    }

    async fn check_size(&self, size: u64) -> Result<(), RegistryError> {
        let committed = self.size().await?;
        if size > committed {
            return Err(ProofError::IndexOutOfRange {
                index: size,
                size: committed,
            }
            .into());
        }
        Ok(())
    }

    async fn range_hashes(
        &self,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<Vec<Hash>, RegistryError> {
        let plan = Plan::new(ranges);
        let hashes = self.store().nodes(&plan.nodes).await?;
        Ok(plan.fold(&hashes))
    }
}

/// The named signing key, created on first start: sealed in the database, or, with `uri`, on an
/// HSM (the database then keeps the URI). Concurrent first starts agree on one key: the database
/// keeps whichever was stored first. A log keeps its key: a database whose key is sealed does
/// not start on an HSM key, nor one whose key is on an HSM on another key or a sealed one.
async fn load_key(
    store: &Store,
    name: &str,
    uri: Option<&KeyUri>,
    config: &RegistryConfig,
) -> Result<Box<dyn Signer>, RegistryError> {
    let keys = |e: &dyn std::fmt::Display| RegistryError::Keys(format!("the {name} key: {e}"));
    let purpose = format!("dojang-registry-{name}-key");
    let stored = match (store.sealed_key(name).await?, uri) {
        (Some(stored), _) => stored,
        (None, Some(uri)) => {
            let signer =
                Pkcs11Signer::open_or_generate(uri, Algorithm::EdDsa).map_err(|e| keys(&e))?;
            drop(signer);
            store.put_sealed_key(name, &uri.to_string()).await?
        }
        (None, None) => {
            let key = SecretKey::generate(Algorithm::EdDsa).map_err(|e| keys(&e))?;
            let sealed = PassphraseSealed::seal(
                key.secret_bytes().as_ref(),
                config.passphrase.as_bytes(),
                &purpose,
                config.kdf,
            )
            .map_err(|e| keys(&e))?;
            let text = serde_json::to_string(&sealed).map_err(|e| keys(&e))?;
            store.put_sealed_key(name, &text).await?
        }
    };
    if stored.starts_with("pkcs11:") {
        let held: KeyUri = stored.parse().map_err(|e| keys(&e))?;
        if uri.is_some_and(|uri| {
            uri.token != held.token || uri.object != held.object || uri.id != held.id
        }) {
            return Err(keys(&format!(
                "로그는 처음의 키를 유지합니다 / this log's key is {held}, not the one configured; a \
                 log keeps its key"
            )));
        }
        // The configured URI may say where the module and PIN are on this machine.
        let signer = Pkcs11Signer::open(uri.unwrap_or(&held)).map_err(|e| keys(&e))?;
        return Ok(Box::new(signer));
    }
    if uri.is_some() {
        return Err(keys(
            &"로그는 처음의 키를 유지합니다 / this log's key is sealed in its database; a log keeps \
              its key",
        ));
    }
    let sealed: PassphraseSealed = serde_json::from_str(&stored).map_err(|e| keys(&e))?;
    let secret = sealed
        .open(config.passphrase.as_bytes(), &purpose)
        .map_err(|e| RegistryError::Keys(format!("cannot unseal the {name} key: {e}")))?;
    Ok(Box::new(
        SecretKey::from_bytes(Algorithm::EdDsa, &secret).map_err(|e| keys(&e))?,
    ))
}
