//! The status lists a bundle carries beside their issuers' roots ([`dojang_ledger::lists`]):
//! whole in a full bundle; in a delta, whole only where the verifier held nothing, else as the
//! entries that changed since the size it holds.

use dojang_core::did::Did;
use dojang_ledger::bundle::{BundleList, IssuerLists};
use dojang_ledger::entry::{Entry, Operation};
use dojang_ledger::lists::{self, Digest, Patch, TokenList};
use dojang_ledger::state::LedgerState;

use crate::service::RegistryError;
use crate::store::{Store, StoredEntry};

/// An issuer's latest root and its lists as they are now, taken from the state under its lock.
pub(crate) struct RootPlan {
    issuer: Did,
    root_index: u64,
    lists: Vec<ListNow>,
}

struct ListNow {
    list_id: String,
    index: u64,
    token: String,
    digest: Option<Digest>,
}

/// The roots to carry lists for: every root of a wanted issuer in a full bundle, the roots
/// appended since `since` in a delta.
pub(crate) fn plan(
    state: &LedgerState,
    types: Option<&[String]>,
    since: Option<u64>,
) -> Vec<RootPlan> {
    let mut plans: Vec<RootPlan> = state
        .status_roots()
        .filter(|(issuer, root)| {
            state.ever_accredited_for(issuer, types) && since.is_none_or(|s| root.index >= s)
        })
        .map(|(issuer, root)| RootPlan {
            issuer: issuer.clone(),
            root_index: root.index,
            lists: state
                .issuer_lists(issuer)
                .into_iter()
                .map(|l| ListNow {
                    list_id: l.list_id.clone(),
                    index: l.index,
                    token: l.token.clone(),
                    digest: l.digest,
                })
                .collect(),
        })
        .collect();
    plans.sort_unstable_by_key(|p| p.root_index);
    plans
}

/// Builds each issuer's [`IssuerLists`] (see the module documentation).
pub(crate) async fn carried(
    store: &Store,
    plans: Vec<RootPlan>,
    since: Option<u64>,
) -> Result<Vec<IssuerLists>, RegistryError> {
    let mut out = Vec::with_capacity(plans.len());
    for plan in plans {
        let root = plan.root_index;
        let mut group = IssuerLists {
            issuer: plan.issuer.to_string(),
            lists: Vec::new(),
            patch: Vec::new(),
        };
        let mut patch = Patch::default();
        let mut position = 0;
        for list in plan.lists {
            // The list as the root covers it: the latest publication before the root.
            let (at_root, digest) = if list.index < root {
                (read(&list.token)?, list.digest)
            } else {
                match publication_below(store, &list.list_id, root).await? {
                    Some(token) => (read(&token)?, None),
                    // First published after the root: its entry carries it.
                    None => continue,
                }
            };
            let digest = match digest {
                Some(digest) => digest,
                None => lists::list_digest(&at_root.inflate().map_err(corrupt)?),
            };
            let whole = |zlib| BundleList {
                list_id: list.list_id.clone(),
                uri: at_root.uri.clone(),
                digest: digest.to_vec(),
                bits: at_root.bits,
                zlib,
            };
            if list.index > root {
                // Republished since the root: that publication is among the entries.
                group.lists.push(whole(None));
            } else {
                match since {
                    None => group.lists.push(whole(Some(at_root.zlib.clone()))),
                    // Unchanged since the size the verifier holds.
                    Some(since) if list.index < since => {}
                    Some(since) => match publication_below(store, &list.list_id, since).await? {
                        None => group.lists.push(whole(Some(at_root.zlib.clone()))),
                        Some(base) => {
                            let base = read(&base)?;
                            let (old, now) = (
                                base.inflate().map_err(corrupt)?,
                                at_root.inflate().map_err(corrupt)?,
                            );
                            // Entries change in place; a list that grew, changed width or
                            // moved is sent whole.
                            if base.uri != at_root.uri
                                || old.bits() != now.bits()
                                || old.len() != now.len()
                            {
                                group.lists.push(whole(Some(at_root.zlib.clone())));
                            } else if let Some(changes) = Patch::diff(&old, &now) {
                                patch.lists.push((position, changes));
                            }
                        }
                    },
                }
            }
            position += 1;
        }
        group.patch = patch.encode();
        out.push(group);
    }
    Ok(out)
}

fn read(token: &str) -> Result<TokenList, RegistryError> {
    TokenList::read(token).map_err(corrupt)
}

fn corrupt(reason: String) -> RegistryError {
    tracing::error!(%reason, "a stored status list cannot be read");
    RegistryError::Store(crate::store::StoreError::Corrupt("status list"))
}

/// The token of the latest publication of a list below `below`.
async fn publication_below(
    store: &Store,
    list_id: &str,
    below: u64,
) -> Result<Option<String>, RegistryError> {
    let Some(stored) = store.publication_below(list_id, below).await? else {
        return Ok(None);
    };
    token_of(&stored).map(Some)
}

fn token_of(stored: &StoredEntry) -> Result<String, RegistryError> {
    match Entry::parse(&stored.entry).map(|e| e.operation().clone()) {
        Ok(Operation::StatusPublish { token, .. }) => Ok(token),
        _ => Err(corrupt("not a status publication".into())),
    }
}
