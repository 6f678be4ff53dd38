//! The running registry: one sequencer task that batches appends into checkpoints, and the
//! read side (entries, proofs, DID resolution, accreditation, status lists, trust bundles).
//!
//! Submitters send entries to the sequencer over a channel and wait. The sequencer drains up to
//! [`MAX_BATCH`] waiting entries, takes the database's write lock ([`Store::begin_append`]),
//! catches up with anything another registry process appended meanwhile, validates each entry
//! against the ledger state, writes the accepted leaves, their tree nodes and a new signed
//! checkpoint in the same transaction, commits — and only then answers. An acknowledged entry
//! is therefore on disk; a refused one changed nothing.
//!
//! The in-memory [`LedgerState`] is write-locked for the whole batch, through the commit, so a
//! reader never sees an entry that is not committed. If the commit fails the state is rebuilt
//! from the database.

use std::sync::Arc;

use dojang_core::clock::unix_now_ms;
use dojang_core::did::Did;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::seal::{KdfParams, PassphraseSealed};
use tokio::sync::{RwLock, mpsc, oneshot};
use zeroize::Zeroizing;

use base64::Engine as _;

use crate::store::{NewEntry, Store, StoreError};
use dojang_ledger::bundle::{BundleEntry, Since, TrustAnchor, TrustBundle, encode_hashes};
use dojang_ledger::checkpoint::{Checkpoint, SignedCheckpoint};
use dojang_ledger::entry::{Entry, EntryError, Leaf, Operation};
use dojang_ledger::merkle::{self, Hash, Node, Plan, ProofError};
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

type Reply = oneshot::Sender<Result<Appended, RegistryError>>;

struct Submission {
    entry: String,
    reply: Reply,
}

struct Shared {
    store: Store,
    origin: String,
    log_key: NoteVerifier,
    bundle_key: SecretKey,
    state: RwLock<LedgerState>,
    witnesses: Vec<WitnessConfig>,
    min_witnesses: usize,
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
        let log_key = load_key(&store, "log", &config).await?;
        let bundle_key = load_key(&store, "bundle", &config).await?;
        let signer = NoteSigner::new(&config.origin, TYPE_ED25519, log_key)
            .map_err(|e| RegistryError::Keys(e.to_string()))?;
        let (size, _) = store.head().await?;
        let state = rebuild_state(&store, size).await?;
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
        let sequencer = Sequencer {
            shared: shared.clone(),
            signer,
            root: config.root,
            frontier: load_frontier(&store, size).await?,
            size,
            stale: false,
        };
        tokio::spawn(sequencer.run(receiver));
        let registry = Registry { shared, submit };
        if !registry.shared.witnesses.is_empty() {
            tokio::spawn(crate::witness::collect_cosignatures(registry.clone()));
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
    pub fn bundle_key(&self) -> &SecretKey {
        &self.shared.bundle_key
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
        // One committed log size for everything: the state caught up to the database's head,
        // the indices taken from it, and the checkpoint, proofs and leaves read at that size
        // (committed entries and checkpoints never change, so the lock is not held for them).
        let (size, indices, full) = {
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
            let full = since.is_none() || state.trust_joined_with_history(from);
            let mut indices = state.trust_indices();
            if !full {
                indices.retain(|&i| i >= from);
            }
            (size, indices, full)
        };
        let checkpoint = self.checkpoint_at(size).await?;
        let mut entries = Vec::with_capacity(indices.len());
        for index in indices {
            let leaf = self.leaf(index).await?;
            entries.push(BundleEntry {
                index,
                leaf: base64::engine::general_purpose::STANDARD.encode(leaf.encode()),
                proof: encode_hashes(&self.inclusion_proof(index, size).await?),
            });
        }
        let since = match since {
            Some(base) => Some(Since {
                size: base,
                proof: encode_hashes(&self.consistency_proof(base, size).await?),
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
            since,
        };
        bundle
            .sign(&self.shared.bundle_key)
            .map_err(|e| RegistryError::Keys(e.to_string()))
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

/// Unseals the named signing key, creating it on first start. Concurrent first starts agree
/// on one key: the database keeps whichever was stored first.
async fn load_key(
    store: &Store,
    name: &str,
    config: &RegistryConfig,
) -> Result<SecretKey, RegistryError> {
    let purpose = format!("dojang-registry-{name}-key");
    let sealed = match store.sealed_key(name).await? {
        Some(sealed) => sealed,
        None => {
            let key = SecretKey::generate(Algorithm::EdDsa)
                .map_err(|e| RegistryError::Keys(e.to_string()))?;
            let sealed = PassphraseSealed::seal(
                key.secret_bytes().as_ref(),
                config.passphrase.as_bytes(),
                &purpose,
                config.kdf,
            )
            .map_err(|e| RegistryError::Keys(e.to_string()))?;
            let text =
                serde_json::to_string(&sealed).map_err(|e| RegistryError::Keys(e.to_string()))?;
            store.put_sealed_key(name, &text).await?
        }
    };
    let sealed: PassphraseSealed =
        serde_json::from_str(&sealed).map_err(|e| RegistryError::Keys(e.to_string()))?;
    let secret = sealed
        .open(config.passphrase.as_bytes(), &purpose)
        .map_err(|e| RegistryError::Keys(format!("cannot unseal the {name} key: {e}")))?;
    SecretKey::from_bytes(Algorithm::EdDsa, &secret).map_err(|e| RegistryError::Keys(e.to_string()))
}

/// Rebuilds the ledger state: DID and accreditation entries are replayed (and re-verified);
/// status lists come from their projection table.
async fn rebuild_state(store: &Store, size: u64) -> Result<LedgerState, RegistryError> {
    let mut state = LedgerState::new();
    for stored in store.state_entries(size).await? {
        state.apply(stored.index, &stored.leaf())?;
    }
    for record in store.status_lists().await? {
        state.restore_status_list(record);
    }
    state.restore_position(size, store.head().await?.1);
    Ok(state)
}

/// The perfect subtrees on the right edge of the tree of `size` (largest first).
async fn load_frontier(store: &Store, size: u64) -> Result<Vec<(Node, Hash)>, RegistryError> {
    let nodes = merkle::perfect_nodes(0..size);
    let hashes = store.nodes(&nodes).await?;
    Ok(nodes.into_iter().zip(hashes).collect())
}

struct Sequencer {
    shared: Arc<Shared>,
    signer: NoteSigner,
    root: Option<Did>,
    frontier: Vec<(Node, Hash)>,
    /// The size the state and frontier reflect.
    size: u64,
    /// Set when a commit failed: state and frontier must be reloaded.
    stale: bool,
}

impl Sequencer {
    async fn run(mut self, mut receiver: mpsc::Receiver<Submission>) {
        while let Some(first) = receiver.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            self.process(batch).await;
        }
    }

    async fn process(&mut self, batch: Vec<Submission>) {
        let shared = self.shared.clone();
        let mut state = shared.state.write().await;
        let result = self.append(&mut state, batch).await;
        if let Err((error, waiting)) = result {
            tracing::error!(%error, "append batch failed; reloading state");
            for reply in waiting {
                let _ = reply.send(Err(RegistryError::Stopped));
            }
            self.stale = true;
        }
        if self.stale {
            match self.reload(&mut state).await {
                Ok(()) => self.stale = false,
                Err(error) => tracing::error!(%error, "reloading registry state failed"),
            }
        }
    }

    async fn reload(&mut self, state: &mut LedgerState) -> Result<(), RegistryError> {
        let (size, _) = self.shared.store.head().await?;
        *state = rebuild_state(&self.shared.store, size).await?;
        self.frontier = load_frontier(&self.shared.store, size).await?;
        self.size = size;
        Ok(())
    }

    /// Sequences one batch. On a storage error returns the replies still owed.
    #[allow(clippy::type_complexity)]
    async fn append(
        &mut self,
        state: &mut LedgerState,
        batch: Vec<Submission>,
    ) -> Result<(), (RegistryError, Vec<Reply>)> {
        let store = self.shared.store.clone();
        let mut tx = match store.begin_append().await {
            Ok(tx) => tx,
            Err(e) => return Err((e.into(), batch.into_iter().map(|s| s.reply).collect())),
        };
        // Another process may have appended since our last batch: catch up.
        if tx.size != self.size || state.next_index() != tx.size {
            let caught_up = async {
                for (stored, _) in tx.entries_since(state.next_index()).await? {
                    state.apply(stored.index, &stored.leaf())?;
                }
                self.frontier = load_frontier(&store, tx.size).await?;
                self.size = tx.size;
                Ok::<(), RegistryError>(())
            }
            .await;
            if let Err(e) = caught_up {
                return Err((e, batch.into_iter().map(|s| s.reply).collect()));
            }
        }

        let entry_hashes: Vec<Hash> = batch.iter().map(|s| sha256(s.entry.as_bytes())).collect();
        let known = match tx.known_entries(&entry_hashes).await {
            Ok(known) => known,
            Err(e) => return Err((e.into(), batch.into_iter().map(|s| s.reply).collect())),
        };
        let mut size = tx.size;
        let mut last_ts = tx.last_ts;
        let mut accepted = Vec::new();
        // Submitted twice in this batch: answered as the first copy is.
        let mut twins = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (submission, entry_hash) in batch.into_iter().zip(entry_hashes) {
            if let Some(stored) = known.iter().find(|k| k.entry_hash == entry_hash) {
                let _ = submission.reply.send(Ok(Appended {
                    index: stored.index,
                    timestamp_ms: stored.timestamp_ms,
                    leaf_hash: stored.leaf_hash,
                    replayed: true,
                }));
                continue;
            }
            if !seen.insert(entry_hash) {
                twins.push((entry_hash, submission.reply));
                continue;
            }
            if let Err(e) = self.check_genesis(&submission.entry, size) {
                let _ = submission.reply.send(Err(e.into()));
                continue;
            }
            let timestamp_ms = unix_now_ms().max(last_ts);
            let leaf = Leaf {
                timestamp_ms,
                entry: submission.entry,
            };
            match state.apply(size, &leaf) {
                Ok(applied) => {
                    accepted.push((size, leaf, entry_hash, applied, submission.reply));
                    last_ts = timestamp_ms;
                    size += 1;
                }
                Err(e) => {
                    let _ = submission.reply.send(Err(e.into()));
                }
            }
        }
        if accepted.is_empty() {
            drop(tx);
            answer_twins(&accepted, twins);
            return Ok(());
        }

        let written = async {
            let leaf_hashes: Vec<Hash> = accepted.iter().map(|(_, leaf, ..)| leaf.hash()).collect();
            let rows: Vec<NewEntry<'_>> = accepted
                .iter()
                .zip(&leaf_hashes)
                .map(
                    |((index, leaf, entry_hash, applied, _), leaf_hash)| NewEntry {
                        index: *index,
                        timestamp_ms: leaf.timestamp_ms,
                        leaf_hash,
                        entry_hash,
                        entry: &leaf.entry,
                        op: applied.op,
                        subject: &applied.subject,
                    },
                )
                .collect();
            tx.insert_entries(&rows).await?;
            let mut nodes = Vec::with_capacity(accepted.len() * 2);
            for ((index, ..), leaf_hash) in accepted.iter().zip(&leaf_hashes) {
                nodes.extend(push_leaf(&mut self.frontier, *index, *leaf_hash));
            }
            tx.insert_nodes(&nodes).await?;
            for (_, _, _, applied, _) in &accepted {
                if applied.op == "status.publish"
                    && let Some(record) = state.status_list(&applied.subject)
                {
                    tx.upsert_status_list(record).await?;
                }
            }
            let root =
                merkle::fold_nodes(&self.frontier.iter().map(|(_, h)| *h).collect::<Vec<_>>())
                    .unwrap_or_else(merkle::empty_root);
            let checkpoint = Checkpoint {
                origin: self.shared.origin.clone(),
                size,
                root,
            };
            let signed = SignedCheckpoint::sign(checkpoint, &self.signer)
                .map_err(|e| RegistryError::Keys(e.to_string()))?;
            tx.insert_checkpoint(size, &signed.to_text(), (unix_now_ms() / 1000) as i64)
                .await?;
            tx.commit(size, last_ts).await?;
            Ok::<(), RegistryError>(())
        }
        .await;
        match written {
            Ok(()) => {
                self.size = size;
                answer_twins(&accepted, twins);
                for (index, leaf, _, _, reply) in accepted {
                    let _ = reply.send(Ok(Appended {
                        index,
                        timestamp_ms: leaf.timestamp_ms,
                        leaf_hash: leaf.hash(),
                        replayed: false,
                    }));
                }
                Ok(())
            }
            Err(e) => {
                let mut waiting: Vec<Reply> =
                    accepted.into_iter().map(|(.., reply)| reply).collect();
                waiting.extend(twins.into_iter().map(|(_, reply)| reply));
                Err((e, waiting))
            }
        }
    }

    /// With a configured root, genesis must create that DID.
    fn check_genesis(&self, entry: &str, size: u64) -> Result<(), EntryError> {
        let (Some(root), 0) = (&self.root, size) else {
            return Ok(());
        };
        let parsed = Entry::parse(entry)?;
        match parsed.operation() {
            Operation::Genesis { document, .. } if &document.id == root => Ok(()),
            _ => Err(EntryError::Genesis {
                reason: "genesis must create the configured root authority",
            }),
        }
    }
}

/// Answers entries submitted twice in one batch as their first copy was answered: committed
/// (then `replayed`), or refused.
fn answer_twins<A, R>(accepted: &[(u64, Leaf, Hash, A, R)], twins: Vec<(Hash, Reply)>) {
    for (entry_hash, reply) in twins {
        let first = accepted.iter().find(|(_, _, h, ..)| *h == entry_hash);
        let _ = reply.send(match first {
            Some((index, leaf, ..)) => Ok(Appended {
                index: *index,
                timestamp_ms: leaf.timestamp_ms,
                leaf_hash: leaf.hash(),
                replayed: true,
            }),
            None => Err(RegistryError::Replayed),
        });
    }
}

/// Adds leaf `index` to the right edge of the tree; returns the new perfect nodes to store.
fn push_leaf(frontier: &mut Vec<(Node, Hash)>, index: u64, leaf_hash: Hash) -> Vec<(Node, Hash)> {
    let mut created = vec![((0, index), leaf_hash)];
    frontier.push(((0, index), leaf_hash));
    while frontier.len() >= 2 {
        let ((right_level, right_index), right) = frontier[frontier.len() - 1];
        let ((left_level, _), left) = frontier[frontier.len() - 2];
        if left_level != right_level {
            break;
        }
        frontier.truncate(frontier.len() - 2);
        let node = (right_level + 1, right_index / 2);
        let hash = merkle::node_hash(&left, &right);
        frontier.push((node, hash));
        created.push((node, hash));
    }
    created
}

fn sha256(bytes: &[u8]) -> Hash {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}
