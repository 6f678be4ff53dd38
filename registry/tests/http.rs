//! The registry's HTTP API, driven in-process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Actor, ORIGIN, config, grant, sqlite_url};
use dojang_core::key::Algorithm;
use dojang_ledger::bundle::{self, TrustAnchor};
use dojang_ledger::checkpoint::SignedCheckpoint;
use dojang_ledger::entry::Operation;
use dojang_ledger::merkle;
use dojang_ledger::note::NoteVerifier;
use dojang_registry::http::app;
use dojang_registry::service::Registry;
use serde_json::Value;
use tower::ServiceExt as _;

async fn call(
    router: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, String, Option<String>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 4 << 20)
        .await
        .unwrap();
    (
        status,
        String::from_utf8(body.to_vec()).unwrap(),
        content_type,
    )
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post(entry: String) -> Request<Body> {
    Request::post("/entries")
        .header(header::CONTENT_TYPE, "application/jose")
        .body(Body::from(entry))
        .unwrap()
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn the_api_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(config(&sqlite_url(dir.path())))
        .await
        .unwrap();
    let router = app(registry.clone());
    let root = Actor::new(Algorithm::EdDsa);
    let seoul = Actor::new(Algorithm::Es256);

    let (status, body, _) = call(&router, post(root.genesis(ORIGIN))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(json(&body)["index"], 0);
    let create = seoul.create();
    assert_eq!(
        call(&router, post(create.clone())).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        call(
            &router,
            post(grant(
                &root,
                &seoul,
                "Seoul Metropolitan Government",
                &["citizen-card"],
                false
            ))
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let uri = "http://registry.test/status-lists/seoul-1";
    let publish = seoul.sign(&Operation::StatusPublish {
        issuer: seoul.did.clone(),
        list_id: "seoul-1".into(),
        version: 1,
        token: seoul.status_token(uri, &[3]),
        cwt: None,
    });
    assert_eq!(call(&router, post(publish)).await.0, StatusCode::CREATED);

    // The same entry again: 200 with where it already is (a lost acknowledgement recovered).
    let (status, body, _) = call(&router, post(create.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(json(&body)["index"], 1);
    assert_eq!(json(&body)["replayed"], true);

    // Refusals, each with its status and code; the log does not move.
    let cases = [
        (
            post("garbage".into()),
            StatusCode::BAD_REQUEST,
            "malformed_entry",
        ),
        (post(seoul.create()), StatusCode::CONFLICT, "did_exists"),
        (
            post(grant(&seoul, &root, "x", &["mobile-id"], false)),
            StatusCode::FORBIDDEN,
            "unauthorized",
        ),
        (post("A".repeat(300_000)), StatusCode::PAYLOAD_TOO_LARGE, ""),
    ];
    for (request, expected, code) in cases {
        let (status, body, _) = call(&router, request).await;
        assert_eq!(status, expected, "{body}");
        if !code.is_empty() {
            assert_eq!(json(&body)["error"], code);
        }
    }
    assert_eq!(registry.size().await.unwrap(), 4);

    // Checkpoint and proofs.
    let (status, checkpoint_text, content_type) = call(&router, get("/checkpoint")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.unwrap().starts_with("text/plain"));
    let anchor: TrustAnchor =
        serde_json::from_str(&call(&router, get("/trust-anchor")).await.1).unwrap();
    let log_key = NoteVerifier::parse(&anchor.log_key).unwrap();
    let checkpoint = SignedCheckpoint::verify(&checkpoint_text, &anchor.origin, &log_key)
        .unwrap()
        .checkpoint;
    assert_eq!(checkpoint.size, 4);
    let entry = json(&call(&router, get("/entries/2")).await.1);
    let leaf = registry.leaf(2).await.unwrap();
    assert_eq!(entry["entry"], leaf.entry);
    for query in [
        "/proofs/inclusion?index=2",
        &format!(
            "/proofs/inclusion?leaf_hash={}",
            urlencode(entry["leaf_hash"].as_str().unwrap())
        ),
    ] {
        let proof = json(&call(&router, get(query)).await.1);
        let hashes = bundle::decode_hashes(
            &serde_json::from_value::<Vec<String>>(proof["proof"].clone()).unwrap(),
        )
        .unwrap();
        merkle::verify_inclusion(2, 4, &leaf.hash(), &hashes, &checkpoint.root).unwrap();
    }
    assert_eq!(
        call(&router, get("/proofs/inclusion?index=9")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(&router, get("/proofs/inclusion")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(&router, get("/proofs/consistency?first=2")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&router, get("/proofs/consistency?first=5&second=4"))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(&router, get("/entries/99")).await.0,
        StatusCode::NOT_FOUND
    );

    // DIDs, issuers, status lists.
    let resolved = json(&call(&router, get(&format!("/dids/{}", seoul.did))).await.1);
    assert_eq!(resolved["document"]["id"], seoul.did.as_str());
    assert_eq!(resolved["metadata"]["version_index"], 1);
    assert_eq!(
        call(&router, get(&format!("/dids/{}?as_of_size=1", seoul.did)))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&router, get("/dids/did:dojang:nobody")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&router, get("/dids/not-a-did")).await.0,
        StatusCode::BAD_REQUEST
    );
    let issuers = json(&call(&router, get("/issuers")).await.1);
    assert_eq!(issuers[0]["name"], "Seoul Metropolitan Government");
    assert_eq!(issuers[0]["types"][0], "citizen-card");
    let list = json(&call(&router, get("/status-lists/seoul-1")).await.1);
    assert_eq!(
        (
            list["uri"].as_str().unwrap(),
            list["version"].as_u64().unwrap()
        ),
        (uri, 1)
    );
    let raw = Request::get("/status-lists/seoul-1")
        .header(header::ACCEPT, "application/statuslist+jwt")
        .body(Body::empty())
        .unwrap();
    let (status, token, content_type) = call(&router, raw).await;
    assert_eq!(
        (status, content_type.as_deref()),
        (StatusCode::OK, Some("application/statuslist+jwt"))
    );
    assert_eq!(token, list["token"].as_str().unwrap());
    assert_eq!(
        call(&router, get("/status-lists/none")).await.0,
        StatusCode::NOT_FOUND
    );

    // The bundle verifies against the anchor the API publishes.
    let (status, text, _) = call(&router, get("/bundle")).await;
    assert_eq!(status, StatusCode::OK);
    let verified = bundle::verify(&text, &anchor).unwrap();
    assert_eq!(verified.checkpoint.size, 4);
    let (_, delta, _) = call(&router, get("/bundle?since=4")).await;
    let mut held = verified;
    held.apply_delta(&delta, &anchor).unwrap();
    assert_eq!(
        call(&router, get("/bundle?since=40")).await.0,
        StatusCode::BAD_REQUEST
    );

    // The OpenAPI document lists every route.
    let api = json(&call(&router, get("/openapi.json")).await.1);
    for path in [
        "/entries",
        "/checkpoint",
        "/proofs/inclusion",
        "/dids/{did}",
        "/issuers",
        "/status-lists/{list_id}",
        "/bundle",
    ] {
        assert!(
            api["paths"].get(path).is_some(),
            "missing {path} in the OpenAPI document"
        );
    }
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}
