//! The registry's offline part: signed notes and checkpoints, trust bundles and deltas, and
//! ledger replay.

use dojang_core::jws::JwsHeader;
use dojang_ledger::bundle::{self, BUNDLE_TYP, BundleEntry, Since, TrustBundle};
use dojang_ledger::checkpoint::{self, Checkpoint, SignedCheckpoint};
use dojang_ledger::entry::{ENTRY_TYP, Entry, Leaf};
use dojang_ledger::merkle::MemoryTree;
use dojang_ledger::note::{MAX_NOTE_LEN, Note, NoteSignature, NoteVerifier};
use dojang_ledger::state::{AsOf, LedgerState};
use dojang_verifier::Trust;
use serde_json::Value;

use crate::craft;
use crate::world::{Actor, EXPORTED_AT, ORIGIN, World, world};

/// Signed notes, note keys, checkpoints and cosignatures.
///
/// The input is tried as a signed note (which must print back to itself), a note verifier key
/// and a signature line (both must too), a checkpoint text (likewise) and a signed checkpoint
/// of the world's log.
///
/// Signed: the input, as a note text, is signed by the world's log key and cosigned by its
/// witness; the note must parse back and verify, and when the text is a checkpoint, it must
/// verify as one, with its cosignature.
pub fn note_checkpoint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let world = world();
    let log = world.log.verifier();
    let witness = world.witness.verifier();
    if let Ok(note) = Note::parse(text) {
        let _ = note.verify(log);
        let _ = note.signature_by(witness).map(NoteSignature::body);
        assert_eq!(
            Note::parse(&note.to_string()).ok().as_ref(),
            Some(&note),
            "note round trip"
        );
    }
    if let Ok(key) = NoteVerifier::parse(text) {
        assert_eq!(NoteVerifier::parse(&key.to_string()).ok(), Some(key));
    }
    if let Ok(line) = NoteSignature::parse_line(text) {
        let printed = line.to_string();
        let again = NoteSignature::parse_line(printed.trim_end_matches('\n'));
        assert_eq!(again.ok(), Some(line), "signature line round trip");
    }
    if let Ok(checkpoint) = Checkpoint::parse_text(text) {
        assert_eq!(
            Checkpoint::parse_text(&checkpoint.to_text()).ok(),
            Some(checkpoint)
        );
    }
    if let Ok(signed) = SignedCheckpoint::verify(text, ORIGIN, log) {
        let _ = signed.require_witnesses(std::slice::from_ref(witness), 1);
        let _ = signed.with_only(log);
        let again = SignedCheckpoint::verify(&signed.to_text(), ORIGIN, log);
        assert!(
            again.is_ok(),
            "a verified checkpoint printed does not verify"
        );
    }
    signed_note(text);
}

/// `text` as a note signed by the world's log and cosigned by its witness.
fn signed_note(text: &str) {
    let world = world();
    let Ok(mut note) = Note::new(text.to_owned()) else {
        return;
    };
    let Ok(signature) = world.log.sign(text) else {
        return;
    };
    note.add_signature(signature);
    let time = EXPORTED_AT as u64;
    if let Ok(cosignature) = checkpoint::cosign(&world.witness, text, time) {
        note.add_signature(cosignature);
    }
    let printed = note.to_string();
    if printed.len() > MAX_NOTE_LEN {
        return;
    }
    match Note::parse(&printed) {
        Ok(parsed) => assert_eq!(parsed, note, "a signed note changed on the way"),
        Err(e) => panic!("a note just signed does not parse: {e}"),
    }
    assert!(note.verify(world.log.verifier()).is_ok());
    if let Ok(checkpoint) = Checkpoint::parse_text(text) {
        match SignedCheckpoint::verify(&printed, &checkpoint.origin, world.log.verifier()) {
            Ok(signed) => {
                assert_eq!(signed.checkpoint, checkpoint);
                assert_eq!(
                    signed.cosigned_at(world.witness.verifier()).ok(),
                    Some(time)
                );
            }
            Err(e) => panic!("a checkpoint just signed does not verify: {e}"),
        }
    }
}

/// Trust bundles and deltas against the world's anchor.
///
/// Input: one byte choosing how the rest is read —
/// - `0`: a bundle JWS as it is (mostly refused at the signature);
/// - `1`: a bundle document, signed by the harness with the world's bundle key (the
///   checkpoint inside is the fuzzer's: seeds carry the world's, signed);
/// - `2`: a bundle document whose entries' leaves are appended to the world's log: the harness
///   computes the tree, signs and cosigns its checkpoint, writes every inclusion proof and the
///   consistency proof from the world's checkpoint, and signs a full bundle and a delta.
///
/// Each bundle is verified from scratch and applied as a delta to the world's verified bundle
/// and to the verifier's trust; a refused delta must leave them unchanged. In mode 2 the full
/// bundle and the delta carry the same entries, so they must be refused alike or lead to the
/// same ledger state.
pub fn trust_bundle(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                open(text);
            }
        }
        1 => {
            if let Some(bundle) = sign_document(rest) {
                open(&bundle);
            }
        }
        _ => {
            extend(rest);
        }
    }
}

/// Verifies `bundle` from scratch and as a delta; whether each was accepted.
fn open(bundle: &str) -> (bool, bool) {
    let world = world();
    let full = bundle::verify(bundle, &world.anchor);
    if let Ok(verified) = &full {
        check_state(&verified.state);
        let _ = Trust::from_verified(world.anchor.clone(), verified.clone());
    }
    let mut held = world.verified.clone();
    let delta = held.apply_delta(bundle, &world.anchor);
    match &delta {
        Ok(()) => check_state(&held.state),
        Err(_) => {
            assert_eq!(
                held.checkpoint, world.verified.checkpoint,
                "a refused delta applied"
            );
            assert_eq!(held.state.next_index(), world.verified.state.next_index());
        }
    }
    let mut trust = world.trust.clone();
    if trust.update(bundle).is_err() {
        assert_eq!(trust.size(), world.trust.size(), "a refused delta applied");
    }
    (full.is_ok(), delta.is_ok())
}

/// `document` (any bytes) signed as a bundle with the world's bundle key.
fn sign_document(document: &[u8]) -> Option<String> {
    let header = JwsHeader::new(Some(BUNDLE_TYP), None);
    craft::jws(header, document, &world().bundle_key)
}

/// Mode 2 of [`trust_bundle`]; whether the bundle (and so the delta) was accepted.
fn extend(document: &[u8]) -> Option<bool> {
    let document = TrustBundle::from_payload(document).ok()?;
    let world = world();
    let base = world.tree.size();
    let mut tree: MemoryTree = world.tree.clone();
    let mut leaves: Vec<Vec<u8>> = world.leaves.iter().map(Leaf::encode).collect();
    for entry in document.entries.iter().take(32) {
        let leaf = entry.leaf.clone();
        tree.push(&leaf);
        leaves.push(leaf);
    }
    let size = tree.size();
    let checkpoint = world.checkpoint_text(&document.origin, size, tree.root_at(size))?;
    let with_proof = |index: u64| -> Option<BundleEntry> {
        Some(BundleEntry {
            index,
            leaf: leaves[index as usize].clone(),
            proof: bundle::proof_bytes(&tree.inclusion_proof(index, size).ok()?),
        })
    };
    let old: Option<Vec<BundleEntry>> = world
        .state
        .trust_indices()
        .into_iter()
        .map(with_proof)
        .collect();
    let new: Option<Vec<BundleEntry>> = (base..size).map(with_proof).collect();
    let (old, new) = (old?, new?);
    let consistency = tree.consistency_proof(base, size).ok()?;
    let all: Vec<BundleEntry> = old.into_iter().chain(new.iter().cloned()).collect();
    let full_delta = document.since.as_ref().is_some_and(|since| since.full);
    let full = TrustBundle {
        checkpoint,
        entries: all.clone(),
        since: None,
        ..document
    };
    let delta = TrustBundle {
        entries: if full_delta { all } else { new },
        since: Some(Since {
            size: base,
            proof: bundle::proof_bytes(&consistency),
            full: full_delta,
        }),
        ..full.clone()
    };

    let from_scratch = bundle::verify(&world.sign_bundle(&full), &world.anchor);
    let mut trust = world.trust.clone();
    let updated = trust.update(&world.sign_bundle(&delta));
    assert_eq!(
        from_scratch.as_ref().err(),
        updated.as_ref().err(),
        "a bundle and a delta with the same entries are judged apart"
    );
    let accepted = from_scratch.is_ok();
    if let Ok(verified) = from_scratch {
        check_state(&verified.state);
        let (a, b) = (&verified.state, trust.state());
        assert_eq!(a.next_index(), b.next_index());
        assert_eq!(a.accredited_issuers(), b.accredited_issuers());
        assert_eq!(a.trust_indices(), b.trust_indices());
        let lists = |state: &LedgerState| {
            let mut lists: Vec<(String, u64)> = state
                .status_lists()
                .map(|l| (l.list_id.clone(), l.version))
                .collect();
            lists.sort();
            lists
        };
        assert_eq!(lists(a), lists(b));
        assert_eq!(trust.size(), size);
    }
    Some(accepted)
}

/// Ledger replay: `LedgerState::apply` over leaves whose entries the harness signs.
///
/// Input: one record a line, `<actor>[#fragment] <operation JSON>`. The actor is a digit: `0`
/// the root authority, `1` and `2` the issuers, `3` the stranger; the fragment (`key-1` by
/// default) picks its key. The harness replaces `$n` with the hash of leaf `n` (for `prev`),
/// signs a `token` given as a JSON object as the actor's status list token, signs the
/// operation as an entry with that key, and applies it as leaf `n` (the line number) a second
/// after the one before. A record `r <text>` is the entry text as it is.
///
/// Invariants: a refused leaf changes nothing; an accepted one moves the log on by one; the
/// trust indices are sorted, unique and in the log; the queries a verifier makes never fail.
pub fn ledger(data: &[u8]) {
    let _ = Leaf::decode(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let (state, _) = replay(text);
        queries(&state);
    }
}

/// The state after the records of `text`, and how many were accepted.
fn replay(text: &str) -> (LedgerState, usize) {
    let world = world();
    let actors = [
        &world.root,
        &world.issuer,
        &world.issuer_ed,
        &world.stranger,
    ];
    let mut state = LedgerState::new();
    let mut leaves: Vec<(u64, Leaf)> = Vec::new();
    for (index, line) in (0u64..).zip(text.split('\n').take(64)) {
        let Some(entry) = record(line, &leaves, &actors) else {
            continue;
        };
        let _ = Entry::parse(&entry);
        let leaf = Leaf {
            timestamp_ms: World::leaf_time(index),
            entry,
        };
        let before = Snapshot::of(&state);
        match state.apply(index, &leaf) {
            Ok(_) => {
                assert_eq!(state.next_index(), index + 1);
                leaves.push((index, leaf));
            }
            Err(e) => assert_eq!(
                Snapshot::of(&state),
                before,
                "a refused leaf changed the state ({e})"
            ),
        }
    }
    (state, leaves.len())
}

/// The entry a [`ledger`] record describes.
fn record(line: &str, leaves: &[(u64, Leaf)], actors: &[&Actor; 4]) -> Option<String> {
    let (head, payload) = line.split_once(' ')?;
    if head == "r" {
        return Some(payload.to_owned());
    }
    let (actor, fragment) = head.split_once('#').unwrap_or((head, "key-1"));
    let actor = actors.get(usize::from(actor.bytes().next()?.checked_sub(b'0')?))?;
    let key = actor.key_for(fragment);
    let kid = actor.kid(fragment).to_string();
    let payload = craft::substitute(payload, |name| {
        let n: u64 = name.parse().ok()?;
        let (_, leaf) = leaves.iter().find(|(index, _)| *index == n)?;
        Some(dojang_core::b64::encode(leaf.hash()))
    });
    let payload = match serde_json::from_str::<Value>(&payload) {
        Ok(Value::Object(mut operation)) => {
            if let Some(Value::Object(claims)) = operation.get("token") {
                let claims = serde_json::to_vec(claims).ok()?;
                let header = JwsHeader::new(Some("statuslist+jwt"), Some(&kid));
                let token = craft::jws(header, &claims, key)?;
                operation.insert("token".to_owned(), Value::String(token));
            }
            serde_json::to_string(&operation).ok()?
        }
        _ => payload,
    };
    craft::jws(
        JwsHeader::new(Some(ENTRY_TYP), Some(&kid)),
        payload.as_bytes(),
        key,
    )
}

/// What a refused leaf must not change.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    next_index: u64,
    last_timestamp: u64,
    origin: Option<String>,
    dids: usize,
    versions: usize,
    deactivated: usize,
    grants: usize,
    withdrawals: usize,
    lists: Vec<(String, u64)>,
}

impl Snapshot {
    fn of(state: &LedgerState) -> Self {
        let mut lists: Vec<(String, u64)> = state
            .status_lists()
            .map(|l| (l.list_id.clone(), l.version))
            .collect();
        lists.sort();
        Snapshot {
            next_index: state.next_index(),
            last_timestamp: state.last_timestamp(),
            origin: state.origin().map(str::to_owned),
            dids: state.dids().count(),
            versions: state.dids().map(|(_, r)| r.versions.len()).sum(),
            deactivated: state
                .dids()
                .filter(|(_, r)| r.deactivated.is_some())
                .count(),
            grants: state.grants().len(),
            withdrawals: state.grants().iter().map(|g| g.withdrawn.len()).sum(),
            lists,
        }
    }
}

/// What verifiers and the registry ask of a state.
fn check_state(state: &LedgerState) {
    let indices = state.trust_indices();
    assert!(
        indices.windows(2).all(|w| w[0] < w[1]),
        "trust indices are not sorted and unique"
    );
    assert!(
        indices.last().is_none_or(|&last| last < state.next_index()),
        "a trust index beyond the log"
    );
    let _ = state.accredited_issuers();
}

/// Every query over `state`.
fn queries(state: &LedgerState) {
    check_state(state);
    for size in 0..=state.next_index().min(70) {
        let _ = state.trust_joined_with_history(size);
    }
    for (did, record) in state.dids() {
        let _ = state.takes_part_in_trust(did);
        for as_of in [
            AsOf::Latest,
            AsOf::Size(state.next_index() / 2),
            AsOf::Time(World::leaf_time(state.next_index() / 2)),
        ] {
            let _ = state.document(did, as_of);
        }
        for version in &record.versions {
            for method in &version.document.verification_method {
                let kid = Some(method.id.as_str());
                let _ = state.assertion_key_at(did, kid, version.timestamp_ms);
            }
        }
        let _ = state.assertion_key_at(did, None, u64::MAX);
    }
    for grant in state.grants() {
        for ty in &grant.types {
            let _ = state.accreditation(&grant.subject, ty);
        }
    }
    for list in state.status_lists() {
        assert!(state.status_list(&list.list_id).is_some());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_seeds_apply() {
        for (name, seed) in crate::seeds("ledger") {
            let Ok(text) = std::str::from_utf8(&seed) else {
                continue;
            };
            let (_, applied) = replay(text);
            assert_eq!(applied, text.lines().count(), "{name}");
        }
    }

    #[test]
    fn bundle_seeds_verify() {
        for (name, seed) in crate::seeds("trust_bundle") {
            let (mode, rest) = seed.split_first().unwrap();
            match mode {
                0 => assert_eq!(
                    open(std::str::from_utf8(rest).unwrap()),
                    (true, false),
                    "{name}"
                ),
                1 => {
                    let delta = name.contains("delta");
                    let opened = open(&sign_document(rest).unwrap());
                    assert_eq!(opened, (!delta, delta), "{name}");
                }
                _ => assert_eq!(extend(rest), Some(true), "{name}"),
            }
        }
    }
}
