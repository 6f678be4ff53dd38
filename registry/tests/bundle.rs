//! Trust bundles: export, offline verification, deltas, and refusal of tampering and forks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Actor, ORIGIN, config, grant, sqlite_url};
use dojang_core::did::Relationship;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::status::token::{TokenStatus, TokenStatusList};
use dojang_ledger::bundle::{self, BundleError, TrustAnchor, TrustBundle};
use dojang_ledger::did::dojang_document;
use dojang_ledger::entry::Operation;
use dojang_ledger::state::Accreditation;
use dojang_registry::service::Registry;

const URI: &str = "https://registry.example/status-lists/seoul-1";

struct World {
    registry: Registry,
    root: Actor,
    seoul: Actor,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let registry = Registry::open(config(&url)).await.unwrap();
    let root = Actor::new(Algorithm::EdDsa);
    let seoul = Actor::new(Algorithm::Es256);
    registry.submit(root.genesis(ORIGIN)).await.unwrap();
    registry.submit(seoul.create()).await.unwrap();
    registry
        .submit(grant(
            &root,
            &seoul,
            "Seoul Metropolitan Government",
            &["citizen-card"],
            false,
        ))
        .await
        .unwrap();
    publish(&registry, &seoul, 1, &[]).await;
    for n in 0..5 {
        audit(&registry, &seoul, n).await;
    }
    World {
        registry,
        root,
        seoul,
        _dir: dir,
    }
}

async fn publish(registry: &Registry, issuer: &Actor, version: u64, revoked: &[usize]) {
    let entry = issuer.sign(&Operation::StatusPublish {
        issuer: issuer.did.clone(),
        list_id: "seoul-1".into(),
        version,
        token: issuer.status_token(URI, revoked),
        cwt: None,
    });
    registry.submit(entry).await.unwrap();
}

async fn audit(registry: &Registry, issuer: &Actor, n: u64) {
    let entry = issuer.sign(&Operation::Audit {
        issuer: issuer.did.clone(),
        period_start: n as i64,
        period_end: n as i64,
        counts: [("issued:citizen-card".to_owned(), 1)]
            .into_iter()
            .collect(),
    });
    registry.submit(entry).await.unwrap();
}

fn list_status(verified: &bundle::VerifiedBundle, index: usize) -> TokenStatus {
    let record = verified.state.status_list("seoul-1").unwrap();
    let jws = dojang_core::jws::Jws::parse(&record.token).unwrap();
    let claims: dojang_core::status::token::StatusListTokenClaims = jws.payload_json().unwrap();
    TokenStatusList::decode(&claims.status_list)
        .unwrap()
        .status(index)
        .unwrap()
}

#[tokio::test]
async fn full_bundle_verifies_offline_and_carries_trust() {
    let w = world().await;
    let anchor = w.registry.trust_anchor();
    let text = w.registry.bundle(None).await.unwrap();
    let verified = bundle::verify(&text, &anchor).unwrap();
    assert_eq!(verified.checkpoint.size, 9);
    assert_eq!(verified.state.root(), Some(&w.root.did));
    assert!(matches!(
        verified.state.accreditation(&w.seoul.did, "citizen-card"),
        Accreditation::Accredited { name, .. } if name == "Seoul Metropolitan Government"
    ));
    assert_eq!(verified.state.status_list("seoul-1").unwrap().version, 1);
    // Audit entries carry no trust: they are not in the bundle.
    let (_, payload, _) = split(&text);
    let document = TrustBundle::from_payload(&payload).unwrap();
    assert_eq!(
        document.entries.iter().map(|e| e.index).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
}

fn split(jws: &str) -> (String, Vec<u8>, String) {
    let parts: Vec<&str> = jws.split('.').collect();
    (
        parts[0].to_owned(),
        dojang_core::b64::decode(parts[1]).unwrap(),
        parts[2].to_owned(),
    )
}

/// Re-signs a modified bundle document with the real bundle key, so only the modification is
/// wrong (what a compromised distribution channel with the key could try).
fn resign(registry: &Registry, document: &TrustBundle) -> String {
    document.sign(registry.bundle_key()).unwrap()
}

#[tokio::test]
async fn tampered_bundles_are_refused() {
    let w = world().await;
    let anchor = w.registry.trust_anchor();
    let text = w.registry.bundle(None).await.unwrap();
    let (_, payload, _) = split(&text);
    let document = TrustBundle::from_payload(&payload).unwrap();

    // Signed by another key.
    let stranger = SecretKey::generate(Algorithm::EdDsa).unwrap();
    assert!(matches!(
        bundle::verify(&document.sign(&stranger).unwrap(), &anchor),
        Err(BundleError::Signature(_))
    ));
    // A flipped byte in the JWS.
    let mut bytes = text.clone().into_bytes();
    bytes[text.len() / 2] ^= 0x01;
    assert!(bundle::verify(&String::from_utf8(bytes).unwrap(), &anchor).is_err());

    // A leaf swapped for another entry: its proof no longer matches the checkpoint.
    let mut swapped = document.clone();
    swapped.entries[2].leaf = swapped.entries[1].leaf.clone();
    assert!(matches!(
        bundle::verify(&resign(&w.registry, &swapped), &anchor),
        Err(BundleError::Proof { index: 2, .. })
    ));
    // A forged checkpoint (not signed by the log key).
    let mut forged = document.clone();
    forged.checkpoint = forged.checkpoint.replacen("\n9\n", "\n10\n", 1);
    assert!(matches!(
        bundle::verify(&resign(&w.registry, &forged), &anchor),
        Err(BundleError::Checkpoint(_))
    ));
    // An omitted DID creation: the accreditation that needs it no longer applies.
    let mut gap = document.clone();
    gap.entries.remove(1);
    assert!(matches!(
        bundle::verify(&resign(&w.registry, &gap), &anchor),
        Err(BundleError::Entry { index: 2, .. })
    ));
    // Entries out of order.
    let mut shuffled = document.clone();
    shuffled.entries.swap(1, 2);
    assert!(matches!(
        bundle::verify(&resign(&w.registry, &shuffled), &anchor),
        Err(BundleError::Entry { .. })
    ));
    // Too few witnesses for the anchor's policy.
    let mut strict = anchor.clone();
    let witness = SecretKey::generate(Algorithm::EdDsa).unwrap();
    strict.witnesses = vec![
        dojang_ledger::note::NoteVerifier::new("w.example/1", 0x04, witness.public_key().clone())
            .unwrap()
            .to_string(),
    ];
    strict.min_witnesses = 1;
    assert!(matches!(
        bundle::verify(&text, &strict),
        Err(BundleError::Checkpoint(_))
    ));
    // Another log's anchor.
    let mut other: TrustAnchor = anchor.clone();
    other.origin = "other.example/log".into();
    assert!(matches!(
        bundle::verify(&text, &other),
        Err(BundleError::Checkpoint(_))
    ));
}

#[tokio::test]
async fn deltas_update_state_and_forks_are_refused() {
    let w = world().await;
    let anchor = w.registry.trust_anchor();
    let mut held = bundle::verify(&w.registry.bundle(None).await.unwrap(), &anchor).unwrap();
    let base = held.checkpoint.size;
    assert_eq!(list_status(&held, 42), TokenStatus::Valid);

    // Seoul revokes index 42 and rotates its signing key; the root withdraws nothing yet.
    publish(&w.registry, &w.seoul, 2, &[42]).await;
    let key2 = SecretKey::generate(Algorithm::Es256).unwrap();
    let rotated = dojang_document(
        &w.seoul.did,
        &[
            (
                "key-1",
                w.seoul.key.public_key(),
                &[Relationship::CapabilityInvocation],
            ),
            ("key-2", key2.public_key(), &[Relationship::AssertionMethod]),
        ],
    );
    let prev = {
        let state = w.registry.state().await;
        let record = state.did(&w.seoul.did).unwrap();
        let index = record.versions.last().unwrap().index;
        drop(state);
        dojang_core::b64::encode(w.registry.leaf(index).await.unwrap().hash())
    };
    w.registry
        .submit(w.seoul.sign(&Operation::DidUpdate {
            prev,
            document: rotated,
        }))
        .await
        .unwrap();
    audit_as_root(&w.registry, &w.root, 77).await;

    let delta = w.registry.bundle(Some(base)).await.unwrap();
    let (_, payload, _) = split(&delta);
    let document = TrustBundle::from_payload(&payload).unwrap();
    assert_eq!(
        document.entries.len(),
        2,
        "only the new status list and the DID update"
    );
    held.apply_delta(&delta, &anchor).unwrap();
    assert_eq!(held.checkpoint.size, base + 3);
    assert_eq!(list_status(&held, 42), TokenStatus::Invalid);
    assert_eq!(
        held.state
            .document(&w.seoul.did, dojang_ledger::state::AsOf::Latest)
            .unwrap()
            .verification_method
            .len(),
        2
    );

    // A delta from the wrong base is refused; the held state is untouched.
    assert!(matches!(
        held.apply_delta(&delta, &anchor),
        Err(BundleError::Malformed { .. })
    ));
    assert_eq!(held.checkpoint.size, base + 3);

    // A fork: the registry key signs a checkpoint for a different tree of a larger size. Its
    // consistency proof cannot match the held root.
    let forked_dir = tempfile::tempdir().unwrap();
    let mut forked_doc = document.clone();
    forked_doc.since = Some(dojang_ledger::bundle::Since {
        full: false,
        size: held.checkpoint.size,
        proof: vec![],
    });
    let other_registry = {
        let url = sqlite_url(forked_dir.path());
        // Same keys? No: a fork signed by another log key fails the signature check too.
        Registry::open(config(&url)).await.unwrap()
    };
    other_registry.submit(w.root.genesis(ORIGIN)).await.unwrap();
    for n in 0..20 {
        audit_as_root(&other_registry, &w.root, n).await;
    }
    forked_doc.checkpoint = other_registry.checkpoint().await.unwrap().to_text();
    let attempt = resign(&w.registry, &forked_doc);
    assert!(held.apply_delta(&attempt, &anchor).is_err());
    assert_eq!(
        held.checkpoint.size,
        base + 3,
        "a refused delta changes nothing"
    );
}

async fn audit_as_root(registry: &Registry, root: &Actor, n: u64) {
    let entry = root.sign(&Operation::Audit {
        issuer: root.did.clone(),
        period_start: n as i64,
        period_end: n as i64,
        counts: Default::default(),
    });
    registry.submit(entry).await.unwrap();
}

#[tokio::test]
async fn a_fork_signed_with_the_real_log_key_is_refused() {
    // The strongest fork: the operator itself signs a checkpoint of a rewritten history (same
    // keys, different entries). The consistency check catches it.
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let registry = Registry::open(config(&url)).await.unwrap();
    let root = Actor::new(Algorithm::EdDsa);
    registry.submit(root.genesis(ORIGIN)).await.unwrap();
    for n in 0..4 {
        audit_as_root(&registry, &root, n).await;
    }
    let anchor = registry.trust_anchor();
    let mut held = bundle::verify(&registry.bundle(None).await.unwrap(), &anchor).unwrap();
    for n in 4..10 {
        audit_as_root(&registry, &root, n).await;
    }
    let honest = registry.bundle(Some(held.checkpoint.size)).await.unwrap();
    let (_, payload, _) = split(&honest);
    let mut document = TrustBundle::from_payload(&payload).unwrap();
    // The operator signs, with the real log key, a checkpoint whose root is not an extension.
    let signer = dojang_testkit::registry::log_signer(&url, ORIGIN).await;
    let mut checkpoint = dojang_ledger::checkpoint::SignedCheckpoint::verify(
        &document.checkpoint,
        common::ORIGIN,
        registry.log_key(),
    )
    .unwrap()
    .checkpoint;
    checkpoint.root[0] ^= 0xff;
    document.checkpoint = dojang_ledger::checkpoint::SignedCheckpoint::sign(checkpoint, &signer)
        .unwrap()
        .to_text();
    let forged = resign(&registry, &document);
    assert_eq!(
        held.apply_delta(&forged, &anchor).unwrap_err(),
        BundleError::Fork
    );
    let size = held.checkpoint.size;
    held.apply_delta(&honest, &anchor).unwrap();
    assert!(held.checkpoint.size > size);
}

/// `issuer`'s `status.root` over the lists the registry holds for it.
async fn commit(registry: &Registry, issuer: &Actor, version: u64) {
    let entry = issuer.status_root(&*registry.state().await, version);
    registry.submit(entry).await.unwrap();
}

/// Roots survive a restart (the state is rebuilt from the log and the lists' projection): the
/// registry exports the same lists, and a delta made after it applies — on SQLite and
/// PostgreSQL.
async fn roots_survive_a_restart(url: &str) {
    let registry = Registry::open(config(url)).await.unwrap();
    let root = Actor::new(Algorithm::EdDsa);
    let seoul = Actor::new(Algorithm::Es256);
    registry.submit(root.genesis(ORIGIN)).await.unwrap();
    registry.submit(seoul.create()).await.unwrap();
    registry
        .submit(grant(&root, &seoul, "Seoul", &["citizen-card"], false))
        .await
        .unwrap();
    publish(&registry, &seoul, 1, &[3]).await;
    commit(&registry, &seoul, 1).await;
    // The latest of an issuer's roots is the one a restarted registry takes.
    publish(&registry, &seoul, 2, &[4]).await;
    commit(&registry, &seoul, 2).await;
    // Republished after its root: the bundle carries that list by digest beside the entry.
    publish(&registry, &seoul, 3, &[4, 5]).await;
    let anchor = registry.trust_anchor();
    let before = registry.bundle(None).await.unwrap();
    drop(registry);

    let registry = Registry::open(config(url)).await.unwrap();
    let after = registry.bundle(None).await.unwrap();
    let lists = |bundle: &str| {
        let payload = dojang_core::b64::decode(bundle.split('.').nth(1).unwrap()).unwrap();
        TrustBundle::from_payload(&payload).unwrap().lists
    };
    assert_eq!(lists(&before), lists(&after));
    assert_eq!(lists(&after)[0].lists[0].zlib, None, "carried by digest");
    let mut verified = bundle::verify(&after, &anchor).unwrap();
    let size = verified.checkpoint.size;
    publish(&registry, &seoul, 4, &[4, 5, 6]).await;
    commit(&registry, &seoul, 3).await;
    // A commitment that is not the root of the lists held is refused, nothing appended.
    let stale = seoul.sign(&Operation::StatusRoot {
        issuer: seoul.did.clone(),
        version: 4,
        lists: 1,
        root: dojang_core::b64::encode([7u8; 32]),
    });
    assert!(registry.submit(stale).await.is_err());
    verified
        .apply_delta(&registry.bundle(Some(size)).await.unwrap(), &anchor)
        .unwrap();
    let held = &verified.lists["seoul-1"];
    let list = held.decode().unwrap();
    assert_eq!(list.status(6).unwrap(), TokenStatus::Invalid);
    assert_eq!(list.status(7).unwrap(), TokenStatus::Valid);

    // The list grows to twice its length: entries cannot be patched in place, so the delta
    // carries it whole, and the verifier follows.
    let size = verified.checkpoint.size;
    let mut grown = TokenStatusList::new(2, 262_144).unwrap();
    grown.set(200_000, TokenStatus::Invalid).unwrap();
    let claims = dojang_core::status::token::StatusListTokenClaims {
        sub: URI.into(),
        iat: 1_800_000_000,
        exp: None,
        ttl: None,
        status_list: grown.encode(),
        extra: Default::default(),
    };
    let kid = seoul.kid(dojang_ledger::did::FIRST_KEY).to_string();
    let token = dojang_core::status::token::sign_token(&claims, Some(&kid), &seoul.key).unwrap();
    registry
        .submit(seoul.sign(&Operation::StatusPublish {
            issuer: seoul.did.clone(),
            list_id: "seoul-1".into(),
            version: 5,
            token,
            cwt: None,
        }))
        .await
        .unwrap();
    commit(&registry, &seoul, 4).await;
    let delta = registry.bundle(Some(size)).await.unwrap();
    let payload = dojang_core::b64::decode(delta.split('.').nth(1).unwrap()).unwrap();
    let document = TrustBundle::from_payload(&payload).unwrap();
    assert!(document.lists[0].patch.is_empty());
    assert!(document.lists[0].lists[0].zlib.is_some(), "sent whole");
    verified.apply_delta(&delta, &anchor).unwrap();
    let list = verified.lists["seoul-1"].decode().unwrap();
    assert_eq!(list.len(), 262_144);
    assert_eq!(list.status(200_000).unwrap(), TokenStatus::Invalid);
}

#[tokio::test]
async fn roots_survive_a_restart_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    roots_survive_a_restart(&common::sqlite_url(dir.path())).await;
}

#[tokio::test]
async fn roots_survive_a_restart_on_postgres() {
    let Some(db) = common::postgres_database().await else {
        println!("skipped: DOJANG_TEST_POSTGRES_URL is not set");
        return;
    };
    roots_survive_a_restart(&db.url).await;
}
