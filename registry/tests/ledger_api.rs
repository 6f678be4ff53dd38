//! The registry as a `Ledger`, two ways: over real HTTP with the typed client, and in the same
//! process. Both give the same answers and the same refusals; the client reads no more than an
//! answer may be.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::routing::get;
use common::{Actor, ORIGIN, config, grant, sqlite_url};
use dojang_core::key::Algorithm;
use dojang_ledger::api::{Ledger, LedgerError};
use dojang_ledger::bundle::{self, MAX_BUNDLE_LEN};
use dojang_ledger::client::RegistryClient;
use dojang_ledger::entry::Operation;
use dojang_registry::service::Registry;

/// Serves `router` on a loopback port; returns its URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// The status and body of a refusal, for comparing two.
fn refusal(e: LedgerError) -> (u16, String, String) {
    match e {
        LedgerError::Refused { status, body } => (status, body.error.into_owned(), body.message),
        other => panic!("expected a refusal, got {other}"),
    }
}

#[tokio::test]
async fn in_process_and_over_http_the_registry_answers_alike() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(config(&sqlite_url(dir.path())))
        .await
        .unwrap();
    let url = serve(dojang_registry::http::app(registry.clone())).await;
    let http: Arc<dyn Ledger> = Arc::new(RegistryClient::new(&url));
    let local: Arc<dyn Ledger> = Arc::new(registry.clone());

    // An append answers with where it is, whichever way it came; the same entry again is
    // answered as replayed.
    let root = Actor::new(Algorithm::EdDsa);
    let genesis = root.genesis(ORIGIN);
    let first = local.submit(&genesis).await.unwrap();
    let again = http.submit(&genesis).await.unwrap();
    assert_eq!((first.index, first.replayed), (0, false));
    assert_eq!((again.index, again.replayed), (0, true));
    assert_eq!(first.leaf_hash, again.leaf_hash);

    let seoul = Actor::new(Algorithm::Es256);
    assert_eq!(http.submit(&seoul.create()).await.unwrap().index, 1);
    local
        .submit(&grant(&root, &seoul, "Seoul", &["citizen-card"], false))
        .await
        .unwrap();
    let issuers = http.issuers().await.unwrap();
    assert_eq!(issuers, local.issuers().await.unwrap());
    assert_eq!(issuers.len(), 1);
    assert_eq!(issuers[0].did, seoul.did.as_str());
    assert_eq!(issuers[0].types, ["citizen-card"]);

    // Status lists: none yet, then the same publication with the same proof.
    let list_id = "seoul-1";
    assert!(http.status_list(list_id).await.unwrap().is_none());
    assert!(local.status_list(list_id).await.unwrap().is_none());
    let uri = format!("https://registry.example/status-lists/{list_id}");
    let publish = seoul.sign(&Operation::StatusPublish {
        issuer: seoul.did.clone(),
        list_id: list_id.into(),
        version: 1,
        token: seoul.status_token(&uri, &[7]),
        cwt: None,
    });
    local.submit(&publish).await.unwrap();
    let over_http = http.status_list(list_id).await.unwrap().unwrap();
    let in_process = local.status_list(list_id).await.unwrap().unwrap();
    assert_eq!(
        (over_http.version, over_http.index, over_http.size),
        (1, 3, 4)
    );
    assert_eq!(over_http.token, in_process.token);
    assert_eq!(over_http.proof, in_process.proof);

    // Refusals carry the same status, code and message either way.
    let stranger = Actor::new(Algorithm::Es256);
    let forged_grant = grant(&stranger, &seoul, "Seoul", &["mobile-id"], false);
    let refused_http = refusal(http.submit(&forged_grant).await.unwrap_err());
    let refused_local = refusal(local.submit(&forged_grant).await.unwrap_err());
    assert_eq!(refused_http, refused_local);
    assert_eq!(refused_http.1, "unknown_did");
    let garbage = refusal(http.submit("not a JWS").await.unwrap_err());
    assert_eq!(
        garbage,
        refusal(local.submit("not a JWS").await.unwrap_err())
    );
    assert_eq!((garbage.0, garbage.1.as_str()), (400, "malformed_entry"));

    // Bundles from either verify against the registry's anchor, at the same checkpoint.
    let anchor = registry.trust_anchor();
    let from_http = bundle::verify(&http.bundle(None, None).await.unwrap(), &anchor).unwrap();
    let from_local = bundle::verify(&local.bundle(None, None).await.unwrap(), &anchor).unwrap();
    assert_eq!(from_http.checkpoint, from_local.checkpoint);
    assert_eq!(from_http.checkpoint.size, 4);
    // Filtered by type, through the client's query and in process alike: another type's
    // verifier gets no list, this type's gets Seoul's.
    let lists = |bundle: &str| {
        bundle::verify(bundle, &anchor)
            .unwrap()
            .state
            .status_lists()
            .count()
    };
    for (types, expected) in [
        (["citizen-card".to_owned()], 1),
        (["job-badge".to_owned()], 0),
    ] {
        let over_http = http.bundle(None, Some(&types)).await.unwrap();
        let in_process = local.bundle(None, Some(&types)).await.unwrap();
        assert_eq!(
            (lists(&over_http), lists(&in_process)),
            (expected, expected)
        );
    }
}

#[tokio::test]
async fn the_client_stops_reading_past_what_an_answer_may_be() {
    let endless =
        axum::Router::new().route("/bundle", get(|| async { "x".repeat(MAX_BUNDLE_LEN + 1) }));
    let client = RegistryClient::new(&serve(endless).await);
    match client.bundle(None, None).await {
        Err(LedgerError::Malformed { reason }) => assert!(reason.contains("larger than")),
        other => panic!("expected a refusal of the oversized bundle, got {other:?}"),
    }
}

#[tokio::test]
async fn a_proxy_page_is_a_lost_answer_and_a_wrong_address_is_not_the_api() {
    // A proxy in front of nothing: 502 pages, web pages, 404s.
    let proxy = axum::Router::new()
        .route(
            "/entries",
            axum::routing::post(|| async {
                (axum::http::StatusCode::BAD_GATEWAY, "<html>502</html>")
            }),
        )
        .route("/issuers", get(|| async { "<html>a web page</html>" }));
    let client = RegistryClient::new(&serve(proxy).await);
    // Resubmitted, then reported as unreachable: the registry's answer, if any, was lost.
    assert!(matches!(
        client.submit("entry").await,
        Err(LedgerError::Unreachable { .. })
    ));
    assert!(matches!(
        client.issuers().await,
        Err(LedgerError::Malformed { .. })
    ));
    // A 404 is "never published", whoever answers it; another refusal is not.
    assert!(matches!(client.status_list("seoul-1").await, Ok(None)));
    match client.trust_anchor().await {
        Err(LedgerError::Refused { status: 404, body }) => assert_eq!(body.error, "http_404"),
        other => panic!("expected a refusal without the registry's body, got {other:?}"),
    }
    let nowhere = RegistryClient::new("http://127.0.0.1:9");
    assert!(matches!(
        nowhere.issuers().await,
        Err(LedgerError::Unreachable { .. })
    ));
}

#[tokio::test]
async fn an_unreadable_acknowledgement_is_a_lost_one_and_the_entry_is_sent_again() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let garbled = axum::Router::new().route(
        "/entries",
        axum::routing::post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { "<html>200, but not the registry's answer</html>" }
        }),
    );
    let client = RegistryClient::new(&serve(garbled).await);
    assert!(matches!(
        client.submit("entry").await,
        Err(LedgerError::Unreachable { .. })
    ));
    assert_eq!(
        received.load(Ordering::SeqCst),
        3,
        "three submissions in all"
    );
}
