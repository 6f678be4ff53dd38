//! Witnesses: cosign only consistent extensions, refuse forks, and get collected by the
//! registry over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Actor, ORIGIN, config, sqlite_url};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_ledger::bundle;
use dojang_ledger::checkpoint::{Checkpoint, SignedCheckpoint};
use dojang_ledger::entry::Operation;
use dojang_ledger::note::{NoteSigner, NoteVerifier, TYPE_ED25519};
use dojang_registry::service::{Registry, WitnessConfig};
use dojang_registry::witness::{Witness, WitnessError, request_body};

async fn log_with(n: u64) -> (Registry, Actor, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let registry = Registry::open(config(&url)).await.unwrap();
    let root = Actor::new(Algorithm::EdDsa);
    registry.submit(root.genesis(ORIGIN)).await.unwrap();
    for i in 0..n.saturating_sub(1) {
        append(&registry, &root, i).await;
    }
    (registry, root, dir)
}

async fn append(registry: &Registry, root: &Actor, i: u64) {
    let entry = root.sign(&Operation::Audit {
        issuer: root.did.clone(),
        period_start: i as i64,
        period_end: i as i64,
        counts: Default::default(),
    });
    registry.submit(entry).await.unwrap();
}

async fn witness(dir: &std::path::Path, log: &NoteVerifier) -> Witness {
    let url = format!("sqlite://{}", dir.join("witness.db").display());
    Witness::open(
        &url,
        "mois.example/witness",
        SecretKey::generate(Algorithm::EdDsa).unwrap(),
        vec![log.clone()],
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn witness_cosigns_only_consistent_extensions() {
    let (registry, root, dir) = log_with(3).await;
    let w = witness(dir.path(), registry.log_key()).await;
    let first = registry.checkpoint().await.unwrap();
    let note = |c: &SignedCheckpoint| c.with_only(registry.log_key());

    let line = w
        .add_checkpoint(&request_body(0, &[], &note(&first)), 1_800_000_000)
        .await
        .unwrap();
    let mut cosigned = first.clone();
    cosigned
        .add_cosignature(dojang_ledger::note::NoteSignature::parse_line(line.trim_end()).unwrap());
    assert_eq!(cosigned.cosigned_at(w.verifier()).unwrap(), 1_800_000_000);

    for i in 0..5 {
        append(&registry, &root, 100 + i).await;
    }
    let second = registry.checkpoint().await.unwrap();
    let proof = registry.consistency_proof(3, 8).await.unwrap();
    w.add_checkpoint(&request_body(3, &proof, &note(&second)), 1_800_000_010)
        .await
        .unwrap();
    assert_eq!(w.held(common::ORIGIN).await.unwrap().unwrap().0, 8);

    // A stale `old`: the witness answers with the size it holds.
    assert!(matches!(
        w.add_checkpoint(&request_body(3, &proof, &note(&second)), 0)
            .await,
        Err(WitnessError::SizeConflict(8))
    ));
    // Re-offering the same checkpoint is fine (cosigned again); the same size with another root
    // is a fork.
    w.add_checkpoint(&request_body(8, &[], &note(&second)), 1_800_000_020)
        .await
        .unwrap();
    let log_signer = NoteSigner::new(
        common::ORIGIN,
        TYPE_ED25519,
        SecretKey::generate(Algorithm::EdDsa).unwrap(),
    )
    .unwrap();
    let impostor = SignedCheckpoint::sign(
        Checkpoint {
            origin: common::ORIGIN.into(),
            size: 8,
            root: [9; 32],
        },
        &log_signer,
    )
    .unwrap();
    assert!(matches!(
        w.add_checkpoint(&request_body(8, &[], &impostor.to_text()), 0)
            .await,
        Err(WitnessError::BadSignature(_))
    ));

    // The real log key signs a rewritten history: a larger tree that does not extend size 8.
    let real = dojang_testkit::registry::log_signer(&sqlite_url(dir.path()), ORIGIN).await;
    let fork = SignedCheckpoint::sign(
        Checkpoint {
            origin: common::ORIGIN.into(),
            size: 12,
            root: [7; 32],
        },
        &real,
    )
    .unwrap();
    let some_proof = registry.consistency_proof(3, 8).await.unwrap();
    assert!(matches!(
        w.add_checkpoint(&request_body(8, &some_proof, &fork.to_text()), 0)
            .await,
        Err(WitnessError::BadProof)
    ));
    let same_size_fork = SignedCheckpoint::sign(
        Checkpoint {
            origin: common::ORIGIN.into(),
            size: 8,
            root: [7; 32],
        },
        &real,
    )
    .unwrap();
    assert!(matches!(
        w.add_checkpoint(&request_body(8, &[], &same_size_fork.to_text()), 0)
            .await,
        Err(WitnessError::RootConflict)
    ));
    assert_eq!(
        w.held(common::ORIGIN).await.unwrap().unwrap().0,
        8,
        "a refused fork changes nothing"
    );

    // Malformed requests and unknown logs.
    assert!(matches!(
        w.add_checkpoint("old x\n\n", 0).await,
        Err(WitnessError::Malformed(_))
    ));
    assert!(matches!(
        w.add_checkpoint(&request_body(9, &[], &note(&second)), 0)
            .await,
        Err(WitnessError::Malformed(_))
    ));
    let other = NoteSigner::new(
        "other.example/log",
        TYPE_ED25519,
        SecretKey::generate(Algorithm::EdDsa).unwrap(),
    )
    .unwrap();
    let foreign = SignedCheckpoint::sign(
        Checkpoint {
            origin: "other.example/log".into(),
            size: 1,
            root: [1; 32],
        },
        &other,
    )
    .unwrap();
    assert!(matches!(
        w.add_checkpoint(&request_body(0, &[], &foreign.to_text()), 0)
            .await,
        Err(WitnessError::UnknownLog(_))
    ));
}

#[tokio::test]
async fn registry_collects_cosignatures_over_http() {
    let dir = tempfile::tempdir().unwrap();
    // Start the registry once to learn its log key, then the witness, then the registry with it.
    let url = sqlite_url(dir.path());
    let log_key = Registry::open(config(&url))
        .await
        .unwrap()
        .log_key()
        .clone();
    let w = Arc::new(witness(dir.path(), &log_key).await);
    let witness_key = w.verifier().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, dojang_registry::witness::app(w))
            .await
            .unwrap()
    });

    let mut cfg = config(&url);
    cfg.witnesses = vec![WitnessConfig {
        url: format!("http://{address}"),
        key: witness_key.clone(),
    }];
    cfg.min_witnesses = 1;
    let registry = Registry::open(cfg).await.unwrap();
    let root = Actor::new(Algorithm::EdDsa);
    registry.submit(root.genesis(ORIGIN)).await.unwrap();
    append(&registry, &root, 1).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let cosigned = loop {
        let latest = registry.checkpoint().await.unwrap();
        if latest.cosigned_at(&witness_key).is_ok() && latest.checkpoint.size == 2 {
            break latest;
        }
        assert!(Instant::now() < deadline, "no cosignature within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        cosigned
            .require_witnesses(std::slice::from_ref(&witness_key), 1)
            .unwrap(),
        1
    );
    // A verifier requiring one witness accepts the bundle.
    let anchor = registry.trust_anchor();
    assert_eq!(anchor.min_witnesses, 1);
    let verified = bundle::verify(&registry.bundle(None).await.unwrap(), &anchor).unwrap();
    assert_eq!(verified.witnesses, 1);
}
