//! The sequencer: the one task that appends. It drains up to [`MAX_BATCH`] waiting entries,
//! takes the database's write lock ([`Store::begin_append`]), catches up with anything another
//! registry process appended meanwhile, validates each entry against the ledger state, writes
//! the accepted leaves, their tree nodes and a new signed checkpoint in the same transaction,
//! commits — and only then answers.

use std::sync::Arc;

use dojang_core::clock::unix_now_ms;
use dojang_core::did::Did;
use tokio::sync::mpsc;

use crate::service::{Appended, MAX_BATCH, RegistryError, Reply, Shared, Submission};
use crate::store::{NewEntry, Store};
use dojang_ledger::checkpoint::{Checkpoint, SignedCheckpoint};
use dojang_ledger::entry::{Entry, EntryError, Leaf, Operation};
use dojang_ledger::merkle::{self, Hash, Node};
use dojang_ledger::note::NoteSigner;
use dojang_ledger::state::LedgerState;

/// Rebuilds the ledger state: DID and accreditation entries are replayed (and re-verified);
/// status lists come from their projection table, and each issuer's roots after them.
pub(crate) async fn rebuild_state(store: &Store, size: u64) -> Result<LedgerState, RegistryError> {
    let mut state = LedgerState::new();
    for stored in store.state_entries(size).await? {
        state.apply(stored.index, &stored.leaf())?;
    }
    for record in store.status_lists().await? {
        state.restore_status_list(record);
    }
    for stored in store.latest_roots(size).await? {
        state.restore_status_root(stored.index, &stored.leaf())?;
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

pub(crate) struct Sequencer {
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
    pub(crate) async fn new(
        shared: Arc<Shared>,
        signer: NoteSigner,
        root: Option<Did>,
        size: u64,
    ) -> Result<Self, RegistryError> {
        let frontier = load_frontier(&shared.store, size).await?;
        Ok(Sequencer {
            shared,
            signer,
            root,
            frontier,
            size,
            stale: false,
        })
    }

    pub(crate) async fn run(mut self, mut receiver: mpsc::Receiver<Submission>) {
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
            let source = match &error {
                RegistryError::KeyUnavailable(source) => source.as_str(),
                _ => "",
            };
            tracing::error!(%error, %source, "append batch failed; reloading state");
            for reply in waiting {
                let _ = reply.send(Err(match &error {
                    RegistryError::KeyUnavailable(source) => {
                        RegistryError::KeyUnavailable(source.clone())
                    }
                    _ => RegistryError::Stopped,
                }));
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
                .map_err(|e| RegistryError::KeyUnavailable(e.to_string()))?;
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
