//! A credential on a status list published after the verifier loaded its bundle: a service
//! with a registry catches up once (shared, rate-limited) and accepts it at once; one without a
//! registry says `status_unavailable`, and says in words that the bundle may be older than the
//! list.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Actor, Ledger, call, issue, issue_with, now, present, status_uri};
use dojang_core::compact;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::oid4vp::{AuthorizationRequest, AuthorizationResponse};
use dojang_core::sd_jwt::{ClaimPath, HeldSdJwt, KeyBindingInput};
use dojang_core::status::StatusListReference;
use dojang_core::status::token::TokenStatus;
use dojang_testkit::urlencode;
use dojang_verifier::service::{VerifierConfig, VerifierService};

fn config(registry_url: Option<String>) -> VerifierConfig {
    VerifierConfig {
        public_url: "https://counter.example".into(),
        audience: "counter-1.example".into(),
        registry_url,
        max_bundle_age: Some(86_400),
        min_witnesses: 0,
    }
}

/// The registry over real HTTP, counting the bundles it is asked for.
async fn serve_registry(ledger: &Ledger) -> (String, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = fetches.clone();
    let registry =
        dojang_registry::http::app(ledger.registry.clone()).layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                if request.uri().path() == "/bundle" {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
                next.run(request)
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, registry).await });
    (base, fetches)
}

/// An issuer accredited for job badges that has published no status list yet.
async fn issuer_without_a_list(ledger: &Ledger, name: &str) -> Actor {
    let issuer = ledger.issuer(Algorithm::Es256, name, &[]).await;
    ledger.grant(&issuer, name, &["job-badge"]).await;
    issuer
}

fn upload(text: String) -> Request<Body> {
    Request::post("/api/verify").body(Body::from(text)).unwrap()
}

#[tokio::test]
async fn an_issuers_first_credential_on_a_new_list_is_accepted_at_once() {
    let ledger = Ledger::new().await;
    let busan = issuer_without_a_list(&ledger, "Busan Metropolitan City").await;
    let (registry, fetches) = serve_registry(&ledger).await;
    let service = VerifierService::new(config(Some(registry)), ledger.trust().await);
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();

    // The first credential opens the issuer's first list, after the verifier loaded its bundle.
    ledger
        .publish(&busan, 1, &[(9, TokenStatus::Invalid)])
        .await;
    let badge = issue(&busan, "job-badge", &holder, 5);
    let (status, verdict) = call(
        &service,
        upload(compact::to_qr_text(&present(&badge, &holder, now()))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdict["decision"], "accepted", "{verdict}");
    assert_eq!(verdict["issuer"]["name"], "Busan Metropolitan City");
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "one refresh caught up");

    // The list caught up with is the one judged by: a revoked credential on it is revoked, and
    // judging it asks the registry for nothing more.
    let revoked = issue(&busan, "job-badge", &holder, 9);
    let (_, verdict) = call(
        &service,
        upload(compact::to_qr_text(&present(&revoked, &holder, now()))),
    )
    .await;
    assert_eq!(verdict["reasons"][0]["code"], "revoked", "{verdict}");
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_openid4vp_answer_on_a_new_list_is_accepted_at_once() {
    let ledger = Ledger::new().await;
    let daegu = issuer_without_a_list(&ledger, "Daegu Metropolitan City").await;
    let (registry, _) = serve_registry(&ledger).await;
    let service = VerifierService::new(config(Some(registry)), ledger.trust().await);
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();

    let (_, created) = call(
        &service,
        Request::post("/api/oid4vp/requests")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"type": "job-badge"}"#))
            .unwrap(),
    )
    .await;
    let request = AuthorizationRequest::from_uri(created["uri"].as_str().unwrap()).unwrap();
    let state = created["state"].as_str().unwrap().to_owned();

    ledger.publish(&daegu, 1, &[]).await;
    let credential = common::draft(&daegu, "job-badge", &holder, 4)
        .sign(&daegu.key, &daegu.did.with_fragment("key-1").to_string())
        .unwrap();
    let presentation = HeldSdJwt::parse(&credential)
        .unwrap()
        .present(
            &[ClaimPath::parse("identifier")],
            Some(KeyBindingInput {
                signer: &holder,
                audience: &request.client_id,
                nonce: &request.nonce,
                issued_at: now(),
            }),
        )
        .unwrap();
    let form: String = AuthorizationResponse {
        vp_token: [("credential".to_owned(), vec![presentation])].into(),
        state: Some(state.clone()),
    }
    .to_form()
    .into_iter()
    .map(|(k, v)| format!("{k}={}", urlencode(&v)))
    .collect::<Vec<_>>()
    .join("&");
    let (status, body) = call(
        &service,
        Request::post("/api/oid4vp/response")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, answered) = call(
        &service,
        Request::get(format!("/api/oid4vp/requests/{}", urlencode(&state)))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let verdict = &answered["verdicts"][0];
    assert_eq!(verdict["decision"], "accepted", "{verdict}");
    assert_eq!(verdict["issuer"]["name"], "Daegu Metropolitan City");
}

#[tokio::test]
async fn offline_the_verdict_stays_status_unavailable_and_says_why() {
    let ledger = Ledger::new().await;
    let busan = issuer_without_a_list(&ledger, "Busan Metropolitan City").await;
    let service = VerifierService::new(config(None), ledger.trust().await);
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    ledger.publish(&busan, 1, &[]).await;
    let badge = issue(&busan, "job-badge", &holder, 5);

    let (status, verdict) = call(
        &service,
        upload(compact::to_qr_text(&present(&badge, &holder, now()))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdict["decision"], "rejected");
    assert_eq!(verdict["reasons"].as_array().unwrap().len(), 1, "{verdict}");
    assert_eq!(verdict["reasons"][0]["code"], "status_unavailable");
    let words = verdict["reasons_in_words"][0].as_str().unwrap();
    for said in [
        "may be newer than the bundle",
        "refresh the bundle",
        "번들보다",
        "번들을 갱신",
    ] {
        assert!(words.contains(said), "{said:?} not in {words:?}");
    }
    // Said without repeating the credential's own list URI.
    assert!(!words.contains(&status_uri(&busan)), "{words}");
}

#[tokio::test]
async fn refreshes_asked_for_by_verifications_are_shared_and_rate_limited() {
    let ledger = Ledger::new().await;
    let seoul = ledger
        .issuer(
            Algorithm::Es256,
            "Seoul Metropolitan Government",
            &["job-badge"],
        )
        .await;
    let (registry, fetches) = serve_registry(&ledger).await;
    let service = VerifierService::new(config(Some(registry)), ledger.trust().await)
        .with_max_concurrent_checks(64);
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    // Signed by an accredited issuer, on a list it never publishes: no refresh will help, and
    // presenting it again and again must not make the service hammer the registry.
    let never = issue_with(
        &seoul,
        &seoul.key,
        "key-1",
        "job-badge",
        &holder,
        3,
        |draft| {
            draft.status = Some(StatusListReference {
                idx: 3,
                uri: "https://registry.example/status-lists/never-published".into(),
            });
        },
    );
    let text = compact::to_qr_text(&present(&never, &holder, now()));

    let started = std::time::Instant::now();
    let burst: Vec<_> = (0..16)
        .map(|_| {
            let (service, text) = (service.clone(), text.clone());
            tokio::spawn(async move { call(&service, upload(text)).await })
        })
        .collect();
    for answer in burst {
        let (status, verdict) = answer.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{verdict}");
        assert_eq!(verdict["reasons"][0]["code"], "status_unavailable");
    }
    let elapsed = started.elapsed();
    // One refresh for the burst, and at most one more once the interval has passed (for a list
    // published just after the first one asked).
    let asked = fetches.load(Ordering::SeqCst);
    assert!(
        (1..=2).contains(&asked),
        "{asked} refreshes for 16 verifications"
    );
    assert!(
        elapsed
            < dojang_verifier::service::CATCH_UP_INTERVAL
                + 2 * dojang_verifier::service::CATCH_UP_WAIT,
        "{elapsed:?}"
    );
}

/// `POST /api/trust/refresh` is open: however many ask at once, the registry is asked at most
/// once an interval, and every caller gets a bundle refreshed after it asked — so a change made
/// just before (a revocation) is in it.
#[tokio::test]
async fn the_open_refresh_endpoint_cannot_make_the_verifier_hammer_the_registry() {
    let ledger = Ledger::new().await;
    let seoul = ledger
        .issuer(
            Algorithm::Es256,
            "Seoul Metropolitan Government",
            &["job-badge"],
        )
        .await;
    let (registry, fetches) = serve_registry(&ledger).await;
    let service = VerifierService::new(config(Some(registry)), ledger.trust().await);
    let ask = || {
        let service = service.clone();
        tokio::spawn(async move {
            call(
                &service,
                Request::post("/api/trust/refresh")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        })
    };
    let asks: Vec<_> = (0..50).map(|_| ask()).collect();
    for asked in asks {
        let (status, view) = asked.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{view}");
    }
    let burst = fetches.load(Ordering::SeqCst);
    assert!((1..=2).contains(&burst), "{burst} fetches for 50 asks");

    // A revocation, then an ask at once: it waits out the interval and sees the revocation.
    let size = service.trust(now()).unwrap().freshness.checkpoint_size;
    ledger
        .publish(&seoul, 2, &[(3, TokenStatus::Invalid)])
        .await;
    let (status, view) = ask().await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(view["checkpoint_size"].as_u64().unwrap() > size, "{view}");
    assert_eq!(fetches.load(Ordering::SeqCst), burst + 1);
}
