//! The issuance writes under concurrency: on SQLite they share group commits, on PostgreSQL
//! they run side by side. Either way each write is all-or-nothing, conflicts stay with the
//! write that caused them, and an acknowledged write is on disk.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use dojang_issuer::db::{
    Conflict, CredentialRow, Db, Issuance, IssuerRow, KeyDerivation, ListRow, OfferRow, StoreError,
};
use dojang_issuer::service::{CredentialStatus, OfferState};

const OFFERS: usize = 40;

async fn seeded(url: &str) -> Db {
    let db = Db::open(url).await.unwrap();
    let issuer = IssuerRow {
        slug: "seoul".into(),
        name: "Seoul".into(),
        did: "did:dojang:seoul".into(),
        sealed_key: "-".into(),
        key_uri: None,
        key_id: "key-1".into(),
        retired_keys: Vec::new(),
        sealed_secret: "-".into(),
        key_derivation: KeyDerivation::HkdfSha256,
    };
    db.insert_issuer(&issuer, 0).await.unwrap();
    let list = ListRow {
        list_id: "seoul-1".into(),
        capacity: 1024,
        version: 1,
    };
    db.insert_list("seoul", &list, 0).await.unwrap();
    for i in 0..OFFERS {
        let offer = OfferRow {
            id: format!("offer-{i}"),
            issuer: "seoul".into(),
            type_id: "citizen-card".into(),
            claims_sealed: Some("sealed".into()),
            subject_ref: None,
            person_ref: None,
            tx_code_hash: None,
            tx_attempts: 0,
            state: OfferState::Open,
            operator: "clerk".into(),
            credential_id: None,
            issued_formats: 0,
            expires_at: i64::MAX,
        };
        db.insert_offer(&offer, format!("code-{i}").as_bytes(), None, 0)
            .await
            .unwrap()
            .unwrap();
    }
    db
}

fn issuance(offer: usize, nonce: &str, credential_id: &str, index: u64) -> Issuance {
    Issuance {
        nonce: nonce.into(),
        nonce_expires_at: 100,
        credential: CredentialRow {
            id: credential_id.into(),
            issuer: "seoul".into(),
            type_id: "citizen-card".into(),
            list_id: "seoul-1".into(),
            status_index: index,
            status: CredentialStatus::Valid,
            subject_ref: None,
            issued_at: 10,
        },
        claims_sealed: None,
        expires_at: None,
        offer_id: format!("offer-{offer}"),
        operator: "clerk".into(),
        audit_id: format!("audit-{offer}-{credential_id}"),
        format: 1,
        last_format: true,
    }
}

/// Runs every future on its own task, all at once; their outputs in order.
async fn all<F: Future<Output: Send + 'static> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for task in tasks {
        outputs.push(task.await.unwrap());
    }
    outputs
}

async fn concurrent_writes(url: &str) {
    let db = seeded(url).await;

    // Every offer redeemed at once; each only once.
    let redeemed = all((0..OFFERS).map(|i| {
        let db = db.clone();
        async move { db.redeem(&format!("offer-{i}")).await.unwrap() }
    }))
    .await;
    assert!(redeemed.iter().all(|r| *r));
    assert!(!db.redeem("offer-0").await.unwrap(), "a second redemption");

    // Forty issuances at once; pairs share a nonce, so exactly one of each pair is kept.
    let outcomes = all((0..OFFERS).map(|i| {
        let db = db.clone();
        async move {
            db.issue(issuance(
                i,
                &format!("nonce-{}", i / 2),
                &format!("cred-{i}"),
                i as u64,
            ))
            .await
            .unwrap()
        }
    }))
    .await;
    let kept: Vec<usize> = (0..OFFERS).filter(|&i| outcomes[i].is_ok()).collect();
    assert_eq!(kept.len(), OFFERS / 2);
    for pair in 0..OFFERS / 2 {
        let (a, b) = (&outcomes[2 * pair], &outcomes[2 * pair + 1]);
        assert!(
            a.is_ok() != b.is_ok(),
            "pair {pair}: exactly one of {a:?} {b:?}"
        );
        assert!([a, b].contains(&&Err(Conflict::NonceUsed)));
    }
    for i in 0..OFFERS {
        let credential = db.credential(&format!("cred-{i}")).await.unwrap();
        let offer = db.offer(&format!("offer-{i}")).await.unwrap().unwrap();
        if kept.contains(&i) {
            assert_eq!(credential.unwrap().status_index, i as u64);
            assert_eq!(offer.state.as_str(), "issued");
            assert_eq!(offer.claims_sealed, None, "claims dropped once issued");
        } else {
            assert!(
                credential.is_none(),
                "a refused issuance leaves no credential"
            );
            assert_eq!(
                offer.state.as_str(),
                "redeemed",
                "and leaves its offer as it was"
            );
        }
    }
    let refused_all: Vec<usize> = (0..OFFERS).filter(|i| !kept.contains(i)).collect();
    let (refused, other_refused) = (refused_all[0], refused_all[1]);

    conflicts_stay_with_their_write(&db, &kept, refused, other_refused).await;

    // What was acknowledged is there for the next process.
    drop(db);
    let reopened = Db::open(url).await.unwrap();
    for id in ["cred-z", "cred-w"]
        .into_iter()
        .map(String::from)
        .chain(kept.iter().map(|i| format!("cred-{i}")))
    {
        assert!(reopened.credential(&id).await.unwrap().is_some(), "{id}");
    }
    let trail = reopened.audit_trail("seoul", 1000).await.unwrap();
    assert_eq!(trail.len(), kept.len() + 2, "one audit event per issuance");
}

/// A taken index, a closed offer and a failing write are each refused alone, and use nothing.
async fn conflicts_stay_with_their_write(
    db: &Db,
    kept: &[usize],
    refused: usize,
    other_refused: usize,
) {
    // A taken index, a closed offer and a failing write are each refused alone.
    let taken = db
        .issue(issuance(refused, "fresh-1", "cred-x", kept[0] as u64))
        .await
        .unwrap();
    assert_eq!(taken, Err(Conflict::IndexTaken));
    let closed = db
        .issue(issuance(kept[0], "fresh-2", "cred-y", 500))
        .await
        .unwrap();
    assert_eq!(closed, Err(Conflict::OfferClosed));
    let (duplicate, fine) = tokio::join!(
        db.issue(issuance(
            refused,
            "fresh-3",
            &format!("cred-{}", kept[0]),
            501
        )),
        db.issue(issuance(other_refused, "fresh-4", "cred-z", 502)),
    );
    let error = duplicate.unwrap_err();
    assert!(
        matches!(&error, StoreError::Database(_)) && error.is_unique_violation(),
        "{error:?}"
    );
    assert_eq!(fine.unwrap(), Ok(()));
    // The refused writes used nothing: their nonces and indices are still free.
    let again = db
        .issue(issuance(refused, "fresh-1", "cred-w", 500))
        .await
        .unwrap();
    assert_eq!(again, Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_writes(&format!(
        "sqlite://{}",
        dir.path().join("issuer.db").display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_on_postgres() {
    let Some(database) = common::postgres().await else {
        eprintln!("skipped: set DOJANG_TEST_POSTGRES_URL to run against PostgreSQL");
        return;
    };
    concurrent_writes(&database.url).await;
}

/// An issuer stored before purpose keys were derived with HKDF keeps the derivation its
/// subject references and sealed claims were made with; one stored now records HKDF.
async fn key_derivation_is_kept_per_issuer(url: &str) {
    let db = seeded(url).await;
    let (pool, _) = dojang_migrations::open(url, dojang_migrations::Service::Issuer)
        .await
        .unwrap();
    // The row as the issuer wrote it before the `key_derivation` column existed.
    sqlx::query(
        "INSERT INTO issuer_issuers (slug, name, did, sealed_key, sealed_secret, created_at) \
         VALUES ('busan', 'Busan', 'did:dojang:busan', '-', '-', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let derivations: Vec<(String, KeyDerivation)> = db
        .issuers()
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.slug, row.key_derivation))
        .collect();
    assert_eq!(
        derivations,
        [
            ("busan".to_owned(), KeyDerivation::Sha256Label),
            ("seoul".to_owned(), KeyDerivation::HkdfSha256),
        ]
    );
    sqlx::query("UPDATE issuer_issuers SET key_derivation = 'md5' WHERE slug = 'busan'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(matches!(
        db.issuers().await,
        Err(StoreError::Corrupt("issuer key derivation"))
    ));
}

#[tokio::test]
async fn key_derivation_is_kept_per_issuer_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    key_derivation_is_kept_per_issuer(&format!(
        "sqlite://{}",
        dir.path().join("issuer.db").display()
    ))
    .await;
}

#[tokio::test]
async fn key_derivation_is_kept_per_issuer_on_postgres() {
    let Some(database) = common::postgres().await else {
        eprintln!("skipped: set DOJANG_TEST_POSTGRES_URL to run against PostgreSQL");
        return;
    };
    key_derivation_is_kept_per_issuer(&database.url).await;
}
