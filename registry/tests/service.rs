//! The registry service on real databases: SQLite files, and PostgreSQL when
//! `DOJANG_TEST_POSTGRES_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Actor, ORIGIN, TestDatabase, config, grant, postgres_database, sqlite_url};
use dojang_core::key::Algorithm;
use dojang_ledger::checkpoint::SignedCheckpoint;
use dojang_ledger::entry::{EntryError, Operation};
use dojang_ledger::merkle::{self, MemoryTree};
use dojang_ledger::state::Accreditation;
use dojang_registry::service::{Registry, RegistryError};

/// A registry on SQLite, or on a fresh PostgreSQL database (kept alive by the guard).
async fn registry(
    dir: &std::path::Path,
    postgres: bool,
) -> Option<(Registry, String, Option<TestDatabase>)> {
    let (url, guard) = if postgres {
        let Some(db) = postgres_database().await else {
            println!("skipped: DOJANG_TEST_POSTGRES_URL is not set");
            return None;
        };
        (db.url.clone(), Some(db))
    } else {
        (sqlite_url(dir), None)
    };
    Some((Registry::open(config(&url)).await.unwrap(), url, guard))
}

fn audit(actor: &Actor, n: u64) -> String {
    actor.sign(&Operation::Audit {
        issuer: actor.did.clone(),
        period_start: n as i64,
        period_end: n as i64 + 60,
        counts: [("issued:citizen-card".to_owned(), n)]
            .into_iter()
            .collect(),
    })
}

async fn appends_prove_and_survive_reopening(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some((registry, url, _db)) = registry(dir.path(), postgres).await else {
        return;
    };
    let root = Actor::new(Algorithm::EdDsa);
    let seoul = Actor::new(Algorithm::Es256);
    assert_eq!(
        registry.submit(root.genesis(ORIGIN)).await.unwrap().index,
        0
    );
    let create = seoul.create();
    assert_eq!(registry.submit(create.clone()).await.unwrap().index, 1);
    let granted = registry
        .submit(grant(
            &root,
            &seoul,
            "Seoul Metropolitan Government",
            &["citizen-card"],
            false,
        ))
        .await
        .unwrap();
    assert_eq!(granted.index, 2);
    let early = registry.checkpoint().await.unwrap();

    // A refused entry leaves the log as it was.
    let stranger = Actor::new(Algorithm::EdDsa);
    let refused = registry
        .submit(grant(&stranger, &seoul, "x", &["mobile-id"], false))
        .await;
    assert!(matches!(
        refused,
        Err(RegistryError::Rejected(EntryError::UnknownDid { .. }))
    ));
    // The same entry again is idempotent: it answers where it already is, and adds nothing.
    let again = registry.submit(create).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.index, 1);
    assert_eq!(again.leaf_hash, registry.leaf(1).await.unwrap().hash());
    // Re-signed (ES256 signatures differ each time), the same creation is still refused.
    assert!(matches!(
        registry.submit(seoul.create()).await,
        Err(RegistryError::Rejected(EntryError::DidExists { .. }))
    ));
    assert_eq!(registry.size().await.unwrap(), 3);

    for n in 0..20 {
        registry.submit(audit(&seoul, n)).await.unwrap();
    }
    let checkpoint = registry.checkpoint().await.unwrap();
    assert_eq!(checkpoint.checkpoint.size, 23);
    let verified =
        SignedCheckpoint::verify(&checkpoint.to_text(), common::ORIGIN, registry.log_key())
            .unwrap();

    // Every leaf's inclusion proof verifies against the signed root, and the root matches an
    // independent rebuild from the stored leaves.
    let mut tree = MemoryTree::new();
    for index in 0..23 {
        let leaf = registry.leaf(index).await.unwrap();
        tree.push(&leaf.encode());
        let proof = registry.inclusion_proof(index, 23).await.unwrap();
        merkle::verify_inclusion(index, 23, &leaf.hash(), &proof, &verified.checkpoint.root)
            .unwrap();
        assert_eq!(registry.index_of(&leaf.hash()).await.unwrap(), index);
    }
    assert_eq!(tree.root_at(23), verified.checkpoint.root);
    let proof = registry
        .consistency_proof(early.checkpoint.size, 23)
        .await
        .unwrap();
    merkle::verify_consistency(
        early.checkpoint.size,
        23,
        &early.checkpoint.root,
        &verified.checkpoint.root,
        &proof,
    )
    .unwrap();
    assert!(matches!(
        registry.inclusion_proof(23, 23).await,
        Err(RegistryError::Proof(_))
    ));
    assert!(matches!(
        registry.inclusion_proof(0, 24).await,
        Err(RegistryError::Proof(_))
    ));
    let log_key = registry.log_key().clone();
    drop(registry);

    // Reopen: same keys, same state, and the tree grows on from where it was.
    let reopened = Registry::open(config(&url)).await.unwrap();
    assert_eq!(reopened.log_key(), &log_key);
    assert!(matches!(
        reopened
            .state()
            .await
            .accreditation(&seoul.did, "citizen-card"),
        Accreditation::Accredited { .. }
    ));
    reopened.submit(audit(&seoul, 99)).await.unwrap();
    let later = reopened.checkpoint().await.unwrap();
    let leaf = reopened.leaf(23).await.unwrap();
    tree.push(&leaf.encode());
    assert_eq!(tree.root_at(24), later.checkpoint.root);
    let proof = reopened.consistency_proof(23, 24).await.unwrap();
    merkle::verify_consistency(
        23,
        24,
        &verified.checkpoint.root,
        &later.checkpoint.root,
        &proof,
    )
    .unwrap();

    // The wrong passphrase cannot open the keys.
    let mut wrong = config(&url);
    wrong.passphrase = zeroize::Zeroizing::new("guess".into());
    assert!(matches!(
        Registry::open(wrong).await,
        Err(RegistryError::Keys(_))
    ));
}

#[tokio::test]
async fn sqlite_appends_prove_and_survive_reopening() {
    appends_prove_and_survive_reopening(false).await;
}

#[tokio::test]
async fn postgres_appends_prove_and_survive_reopening() {
    appends_prove_and_survive_reopening(true).await;
}

/// Two registries (separate pools, sequencers and in-memory state, as two processes would
/// have) appending concurrently to one database never fork the log.
async fn concurrent_sequencers_do_not_fork(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some((first, url, _db)) = registry(dir.path(), postgres).await else {
        return;
    };
    let second = Registry::open(config(&url)).await.unwrap();
    let root = Actor::new(Algorithm::EdDsa);
    first.submit(root.genesis(ORIGIN)).await.unwrap();
    let issuers: Vec<Actor> = (0..2).map(|_| Actor::new(Algorithm::EdDsa)).collect();
    for issuer in &issuers {
        first.submit(issuer.create()).await.unwrap();
    }
    let mut tasks = Vec::new();
    for (i, registry) in [first.clone(), second.clone()].into_iter().enumerate() {
        let entries: Vec<String> = (0..150).map(|n| audit(&issuers[i], n)).collect();
        tasks.push(tokio::spawn(async move {
            let mut indices = Vec::new();
            let pending: Vec<_> = entries
                .into_iter()
                .map(|e| {
                    let registry = registry.clone();
                    tokio::spawn(async move { registry.submit(e).await })
                })
                .collect();
            for p in pending {
                indices.push(p.await.unwrap().unwrap().index);
            }
            indices
        }));
    }
    let mut all: Vec<u64> = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    assert_eq!(
        all,
        (3..303).collect::<Vec<_>>(),
        "every index handed out exactly once"
    );
    let mut tree = MemoryTree::new();
    for index in 0..303 {
        tree.push(&first.leaf(index).await.unwrap().encode());
    }
    for registry in [&first, &second] {
        let checkpoint = registry.checkpoint().await.unwrap();
        assert_eq!(checkpoint.checkpoint.size, 303);
        assert_eq!(
            checkpoint.checkpoint.root,
            tree.root_at(303),
            "both see one tree"
        );
    }
    // Both sequencers' states agree and keep validating: the second can use a DID the first
    // created.
    let late = Actor::new(Algorithm::Es256);
    first.submit(late.create()).await.unwrap();
    second.submit(audit(&late, 1)).await.unwrap();
}

#[tokio::test]
async fn sqlite_concurrent_sequencers_do_not_fork() {
    concurrent_sequencers_do_not_fork(false).await;
}

#[tokio::test]
async fn postgres_concurrent_sequencers_do_not_fork() {
    concurrent_sequencers_do_not_fork(true).await;
}
