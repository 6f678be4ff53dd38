//! Attacks on the registry's promises, performed against the real service (in-process HTTP,
//! real SQLite files, and PostgreSQL when `DOJANG_TEST_POSTGRES_URL` is set).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::{Actor, ORIGIN, config, grant, sqlite_url};
use dojang_core::key::Algorithm;
use dojang_core::status::token::{StatusListTokenClaims, TokenStatus, TokenStatusList};
use dojang_ledger::bundle::{self, TrustBundle, VerifiedBundle};
use dojang_ledger::entry::Operation;
use dojang_ledger::state::Accreditation;
use dojang_registry::admission::Admission;
use dojang_registry::http::app_with;
use dojang_registry::service::Registry;
use tower::ServiceExt as _;

const URI: &str = "https://registry.example/status-lists/seoul-1";

fn post_from(entry: String, client: &str) -> Request<Body> {
    let mut request = Request::post("/entries")
        .header(header::CONTENT_TYPE, "application/jose")
        .body(Body::from(entry))
        .unwrap();
    let addr: SocketAddr = client.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, Option<String>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status(), retry_after)
}

fn publication(issuer: &Actor, version: u64, revoked: &[usize]) -> String {
    issuer.sign(&Operation::StatusPublish {
        issuer: issuer.did.clone(),
        list_id: "seoul-1".into(),
        version,
        token: issuer.status_token(URI, revoked),
        cwt: None,
    })
}

/// Root, an accredited issuer and its first status list.
async fn seeded(registry: &Registry) -> (Actor, Actor) {
    let root = Actor::new(Algorithm::EdDsa);
    let seoul = Actor::new(Algorithm::Es256);
    registry.submit(root.genesis(ORIGIN)).await.unwrap();
    registry.submit(seoul.create()).await.unwrap();
    registry
        .submit(grant(&root, &seoul, "Seoul", &["citizen-card"], false))
        .await
        .unwrap();
    registry.submit(publication(&seoul, 1, &[])).await.unwrap();
    (root, seoul)
}

fn bundle_document(bundle: &str) -> TrustBundle {
    let payload = bundle.split('.').nth(1).unwrap();
    TrustBundle::from_payload(&dojang_core::b64::decode(payload).unwrap()).unwrap()
}

fn status_of(verified: &VerifiedBundle, index: usize) -> TokenStatus {
    let record = verified.state.status_list("seoul-1").unwrap();
    let jws = dojang_core::jws::Jws::parse(&record.token).unwrap();
    let claims: StatusListTokenClaims = jws.payload_json().unwrap();
    TokenStatusList::decode(&claims.status_list)
        .unwrap()
        .status(index)
        .unwrap()
}

/// Finding: ~500 open `did.create` entries pushed every bundle past the verifier's limit,
/// forever. Now strangers' DIDs are not in the bundle: 2,000 of them leave it as it was.
#[tokio::test]
async fn open_did_creations_do_not_grow_the_trust_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(config(&sqlite_url(dir.path())))
        .await
        .unwrap();
    let (_root, _seoul) = seeded(&registry).await;
    let before = registry.bundle(None).await.unwrap();
    let before_doc = bundle_document(&before);

    // Limits opened wide, so every one of the 2,000 strangers' entries is appended.
    let router = app_with(
        registry.clone(),
        Admission {
            per_client_per_minute: 10_000,
            max_pending: 10_000,
        },
    );
    let strangers: Vec<String> = (0..2000)
        .map(|_| Actor::new(Algorithm::Es256).create())
        .collect();
    let mut appended =
        futures::future::join_all(strangers.into_iter().enumerate().map(|(i, entry)| {
            let router = router.clone();
            async move {
                send(
                    &router,
                    post_from(entry, &format!("198.51.100.{}:4000", i % 200)),
                )
                .await
                .0
            }
        }))
        .await;
    appended.dedup();
    assert_eq!(appended, vec![StatusCode::CREATED]);
    assert_eq!(registry.size().await.unwrap(), 2004);

    let after = registry.bundle(None).await.unwrap();
    let after_doc = bundle_document(&after);
    let indices = |doc: &TrustBundle| doc.entries.iter().map(|e| e.index).collect::<Vec<_>>();
    assert_eq!(indices(&after_doc), indices(&before_doc));
    // Only the proofs lengthen, to log2(2004) = 11 hashes each (about 60 bytes a hash once
    // base64 and JSON and the JWS's base64 are counted): kilobytes, not megabytes.
    let proof_growth = before_doc.entries.len() * 11 * 60;
    assert!(
        after.len() < before.len() + proof_growth,
        "{} → {}",
        before.len(),
        after.len()
    );
    let verified = bundle::verify(&after, &registry.trust_anchor()).unwrap();
    assert_eq!(verified.state.dids().count(), 2);
    assert_eq!(verified.checkpoint.size, 2004);

    // A delta from the old bundle carries none of them either.
    let mut held = bundle::verify(&before, &registry.trust_anchor()).unwrap();
    let delta = registry.bundle(Some(4)).await.unwrap();
    assert!(bundle_document(&delta).entries.is_empty());
    held.apply_delta(&delta, &registry.trust_anchor()).unwrap();
    assert_eq!(held.checkpoint.size, 2004);
}

/// Open appends are limited per client and in number waiting; authorised acts are not.
#[tokio::test]
async fn open_appends_are_rate_limited_per_client_but_authorised_acts_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(config(&sqlite_url(dir.path())))
        .await
        .unwrap();
    let (root, seoul) = seeded(&registry).await;
    let router = app_with(
        registry.clone(),
        Admission {
            per_client_per_minute: 5,
            max_pending: 100,
        },
    );
    let attacker = "203.0.113.7:5000";
    for _ in 0..5 {
        let (status, _) = send(
            &router,
            post_from(Actor::new(Algorithm::Es256).create(), attacker),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let size = registry.size().await.unwrap();
    let (status, retry_after) = send(
        &router,
        post_from(Actor::new(Algorithm::Es256).create(), attacker),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after.as_deref(), Some("12"));
    assert_eq!(
        registry.size().await.unwrap(),
        size,
        "a refusal appends nothing"
    );
    // Finding: naming the root's key in `kid` let any entry skip admission (the signature was
    // checked only later, by the sequencer). Entries forged in the root's name wait like any
    // stranger's.
    let forger = Actor::new(Algorithm::Es256);
    let forged = root.sign_with(
        &Operation::Grant {
            grantor: root.did.clone(),
            subject: forger.did.clone(),
            name: "Forged".into(),
            types: vec!["citizen-card".into()],
            delegable: true,
            at: 1_800_000_000,
        },
        &forger.key,
        "key-1",
    );
    let (status, _) = send(&router, post_from(forged, attacker)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // Another client is not affected; nor are the root's and the issuer's own entries from
    // the attacker's address.
    let (status, _) = send(
        &router,
        post_from(Actor::new(Algorithm::Es256).create(), "203.0.113.8:5000"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let delegate = Actor::new(Algorithm::Es256);
    registry.submit(delegate.create()).await.unwrap();
    for entry in [
        grant(&root, &delegate, "Busan", &["citizen-card"], false),
        publication(&seoul, 2, &[7]),
    ] {
        assert_eq!(
            send(&router, post_from(entry, attacker)).await.0,
            StatusCode::CREATED
        );
    }

    // With no room for waiting open appends, strangers are told the registry is busy.
    let closed = app_with(
        registry.clone(),
        Admission {
            per_client_per_minute: 5,
            max_pending: 0,
        },
    );
    let (status, retry_after) = send(
        &closed,
        post_from(Actor::new(Algorithm::Es256).create(), "203.0.113.9:5000"),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry_after.is_some());
}

/// Finding: two registry processes on one database served stale status lists, so a revoked
/// credential was accepted — in full bundles and forever in deltas. Now every read catches up
/// to the committed head first.
async fn two_registries_serve_one_log(url: &str) {
    let first = Registry::open(config(url)).await.unwrap();
    let second = Registry::open(config(url)).await.unwrap();
    let (_root, seoul) = seeded(&first).await;
    // The second process has never sequenced; it answers from the database's log all the same.
    let held = bundle::verify(&second.bundle(None).await.unwrap(), &second.trust_anchor()).unwrap();
    assert_eq!(held.checkpoint.size, 4);
    assert_eq!(status_of(&held, 42), TokenStatus::Valid);

    // The first process revokes index 42.
    first.submit(publication(&seoul, 2, &[42])).await.unwrap();

    for registry in [&first, &second] {
        let full = bundle::verify(
            &registry.bundle(None).await.unwrap(),
            &registry.trust_anchor(),
        )
        .unwrap();
        assert_eq!(full.checkpoint.size, 5);
        assert_eq!(status_of(&full, 42), TokenStatus::Invalid);
        let mut updated = held.clone();
        updated
            .apply_delta(
                &registry.bundle(Some(4)).await.unwrap(),
                &registry.trust_anchor(),
            )
            .unwrap();
        assert_eq!(status_of(&updated, 42), TokenStatus::Invalid);
        assert_eq!(
            registry
                .current_state()
                .await
                .unwrap()
                .status_list("seoul-1")
                .unwrap()
                .version,
            2
        );
    }
    // The second process then sequences on top of what the first appended.
    second
        .submit(publication(&seoul, 3, &[42, 43]))
        .await
        .unwrap();
    let full = bundle::verify(&first.bundle(None).await.unwrap(), &first.trust_anchor()).unwrap();
    assert_eq!(full.checkpoint.size, 6);
    assert_eq!(status_of(&full, 43), TokenStatus::Invalid);
}

#[tokio::test]
async fn two_registries_on_one_sqlite_file_serve_the_revocation() {
    let dir = tempfile::tempdir().unwrap();
    two_registries_serve_one_log(&sqlite_url(dir.path())).await;
}

#[tokio::test]
async fn two_registries_on_one_postgres_database_serve_the_revocation() {
    let Some(db) = common::postgres_database().await else {
        println!("skipped: DOJANG_TEST_POSTGRES_URL is not set");
        return;
    };
    two_registries_serve_one_log(&db.url).await;
}

/// An issuer registered long ago and accredited later: its DID history is older than the
/// verifier's checkpoint, so the delta carries the whole trust state (`full`), still proven
/// consistent with what the verifier holds.
#[tokio::test]
async fn a_delta_brings_an_issuer_accredited_after_it_registered() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(config(&sqlite_url(dir.path())))
        .await
        .unwrap();
    let (root, _seoul) = seeded(&registry).await;
    let busan = Actor::new(Algorithm::Es256);
    registry.submit(busan.create()).await.unwrap();
    let mut held = bundle::verify(
        &registry.bundle(None).await.unwrap(),
        &registry.trust_anchor(),
    )
    .unwrap();
    assert!(
        held.state.did(&busan.did).is_none(),
        "not accredited: not carried"
    );

    registry
        .submit(grant(&root, &busan, "Busan", &["citizen-card"], false))
        .await
        .unwrap();
    let delta = registry.bundle(Some(5)).await.unwrap();
    assert!(bundle_document(&delta).since.unwrap().full);
    held.apply_delta(&delta, &registry.trust_anchor()).unwrap();
    assert!(matches!(
        held.state.accreditation(&busan.did, "citizen-card"),
        Accreditation::Accredited { .. }
    ));

    // From then on, deltas are incremental again.
    let delta = registry.bundle(Some(held.checkpoint.size)).await.unwrap();
    assert!(!bundle_document(&delta).since.unwrap().full);
}
