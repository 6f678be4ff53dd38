//! One upload cannot freeze the verifier (finding 2). Over real TCP, against `app` on a runtime
//! of its own with two workers (as on a two-core server): an image tiled with QR finder
//! patterns, which used to keep rqrr busy for minutes with the trust lock held, is refused while
//! the trust endpoint, a refresh and other verifications keep answering; a refresh swaps the
//! bundle under verifications in flight; a verifier without a bundle yet, or past its limit of
//! concurrent checks, says so with 503.
//!
//! Timeouts here only turn a hang into a failure; nothing asserts how fast anything is.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::future::Future;
use std::time::Duration;

use common::{Actor, Ledger, issue, now, present};
use dojang_core::compact::{self, Binding, ChallengeRequest};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::status::token::TokenStatus;
use dojang_verifier::http::app;
use dojang_verifier::service::{VerifierConfig, VerifierService};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{GrayImage, ImageEncoder, Luma};
use reqwest::StatusCode;
use serde_json::Value;

/// Generous: a hang guard, not a performance claim.
const GUARD: Duration = Duration::from_secs(20);

struct World {
    ledger: Ledger,
    seoul: Actor,
    holder: SecretKey,
    /// The registry over real HTTP, for refreshes.
    registry_url: String,
    http: reqwest::Client,
}

/// The verifier served over TCP on its own two-worker runtime, so that a stalled worker there
/// cannot stall the test's own clock.
struct Served {
    base: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn world() -> World {
    let ledger = Ledger::new().await;
    let seoul = ledger
        .issuer(
            Algorithm::Es256,
            "Seoul Metropolitan Government",
            &["job-badge"],
        )
        .await;
    ledger.publish(&seoul, 2, &[]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let registry_url = format!("http://{}", listener.local_addr().unwrap());
    let registry_app = dojang_registry::http::app(ledger.registry.clone());
    tokio::spawn(async move { axum::serve(listener, registry_app).await });
    World {
        ledger,
        seoul,
        holder: SecretKey::generate(Algorithm::Es256).unwrap(),
        registry_url,
        http: reqwest::Client::new(),
    }
}

impl World {
    fn config(&self) -> VerifierConfig {
        VerifierConfig {
            public_url: "https://counter.example".into(),
            audience: "counter-1.example".into(),
            registry_url: Some(self.registry_url.clone()),
            max_bundle_age: Some(86_400),
            min_witnesses: 0,
        }
    }

    async fn service(&self) -> VerifierService {
        VerifierService::new(self.config(), self.ledger.trust().await)
    }

    /// A fresh presentation of a job badge at status index `idx`, as QR text.
    fn shown(&self, idx: u64) -> String {
        let badge = issue(&self.seoul, "job-badge", &self.holder, idx);
        compact::to_qr_text(&present(&badge, &self.holder, now()))
    }

    async fn post(&self, url: String, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
        answer(self.http.post(url).body(body).send()).await
    }

    async fn get(&self, url: String) -> (StatusCode, Value) {
        answer(self.http.get(url).send()).await
    }
}

fn serve(service: VerifierService) -> Served {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, app(service)).await
    });
    Served {
        base,
        runtime: Some(runtime),
    }
}

async fn answer(
    sent: impl Future<Output = reqwest::Result<reqwest::Response>>,
) -> (StatusCode, Value) {
    let response = guard(sent).await.unwrap();
    let status = response.status();
    let body = guard(response.bytes()).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn guard<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, future)
        .await
        .expect("the verifier stopped answering")
}

fn png(image: &GrayImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    PngEncoder::new_with_quality(&mut bytes, CompressionType::Fast, FilterType::Adaptive)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::L8,
        )
        .unwrap();
    bytes
}

/// The image of finding 2: 4096×4096, 16×16 finder patterns (16-pixel modules, each in a light
/// margin) on a checkerboard of modules, so that rqrr can group none of them and tries them all.
fn attack_image() -> Vec<u8> {
    const SIDE: u32 = 4096;
    const MODULE: u32 = 16;
    const PITCH: u32 = 16 * MODULE;
    let image = GrayImage::from_fn(SIDE, SIDE, |x, y| {
        let (mx, my) = (x / MODULE, y / MODULE);
        let (ox, oy) = (mx % (PITCH / MODULE), my % (PITCH / MODULE));
        let dark = if ox <= 8 && oy <= 8 {
            // The pattern: modules 1..=7 of a 9-module square with a light margin.
            let inside = (1..=7).contains(&ox) && (1..=7).contains(&oy);
            let ring = ox == 1 || ox == 7 || oy == 1 || oy == 7;
            let stone = (3..=5).contains(&ox) && (3..=5).contains(&oy);
            inside && (ring || stone)
        } else {
            (mx + my).is_multiple_of(2)
        };
        Luma([if dark { 0 } else { 255 }])
    });
    png(&image)
}

/// A presentation's QR code drawn some 2,400 pixels wide on a 3000×3000 light canvas: real
/// work for the reader (decoding, shrinking, detection), a valid presentation at the end of it.
fn large_photo(text: &str) -> Vec<u8> {
    let code = image::load_from_memory(&dojang_core::qr::to_png(text).unwrap())
        .unwrap()
        .into_luma8();
    let times = (2400 / code.width()).max(2);
    let big = image::imageops::resize(
        &code,
        code.width() * times,
        code.height() * times,
        image::imageops::FilterType::Nearest,
    );
    assert!(big.width() + 300 <= 3000, "{}", big.width());
    let mut canvas = GrayImage::from_pixel(3000, 3000, Luma([230]));
    image::imageops::overlay(&mut canvas, &big, 200, 250);
    png(&canvas)
}

#[tokio::test]
async fn an_image_tiled_with_finder_patterns_is_refused_while_the_rest_answers() {
    let w = world().await;
    let served = serve(w.service().await);
    let base = served.base.clone();
    let attack = tokio::task::spawn_blocking(attack_image).await.unwrap();

    let upload = {
        let (http, url) = (w.http.clone(), format!("{base}/api/verify"));
        tokio::spawn(async move { answer(http.post(url).body(attack).send()).await })
    };
    // While it is being read: a refresh, the trust view, another verification.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refresh = {
        let (http, url) = (w.http.clone(), format!("{base}/api/trust/refresh"));
        tokio::spawn(async move { answer(http.post(url).send()).await })
    };
    for _ in 0..3 {
        let (status, trust) = w.get(format!("{base}/api/trust")).await;
        assert_eq!(status, StatusCode::OK, "{trust}");
        assert_eq!(trust["issuers"][0]["name"], "Seoul Metropolitan Government");
    }
    let (status, verdict) = w.post(format!("{base}/api/verify"), w.shown(3)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdict["decision"], "accepted", "{verdict}");

    let (status, trust) = guard(refresh).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{trust}");
    let (status, verdict) = guard(upload).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdict["decision"], "rejected", "{verdict}");
    assert_eq!(verdict["reasons"][0]["code"], "malformed_qr", "{verdict}");
    let detail = verdict["reasons"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("too many QR finder-pattern candidates"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_refresh_swaps_the_bundle_under_verifications_in_flight() {
    let w = world().await;
    let served = serve(w.service().await.with_max_concurrent_checks(16));
    let base = served.base.clone();
    let photo = large_photo(&w.shown(11));

    let uploads: Vec<_> = (0..4)
        .map(|_| {
            let (http, url) = (w.http.clone(), format!("{base}/api/verify"));
            let photo = photo.clone();
            tokio::spawn(async move { answer(http.post(url).body(photo).send()).await })
        })
        .collect();
    // Suspended at the registry, then refreshed while the photos are being read.
    w.ledger
        .publish(&w.seoul, 3, &[(11, TokenStatus::Suspended)])
        .await;
    let (_, before) = w.get(format!("{base}/api/trust")).await;
    let (status, after) = w.post(format!("{base}/api/trust/refresh"), "").await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert!(
        after["checkpoint_size"].as_u64() > before["checkpoint_size"].as_u64(),
        "{before} {after}"
    );
    // Each upload was judged by one bundle or the other, whole.
    for upload in uploads {
        let (status, verdict) = guard(upload).await.unwrap();
        assert_eq!(status, StatusCode::OK);
        let judged = (
            verdict["decision"].as_str().unwrap(),
            verdict["reasons"][0]["code"].as_str(),
        );
        assert!(
            matches!(judged, ("accepted", _) | ("rejected", Some("suspended"))),
            "{verdict}"
        );
    }
    // After the swap, the new bundle judges.
    let (_, verdict) = w.post(format!("{base}/api/verify"), w.shown(11)).await;
    assert_eq!(verdict["reasons"][0]["code"], "suspended", "{verdict}");
}

#[tokio::test]
async fn without_a_bundle_verification_answers_503_until_a_refresh() {
    let w = world().await;
    let anchor = w.ledger.registry.trust_anchor();
    let served = serve(VerifierService::without_trust(w.config(), anchor));
    let base = served.base.clone();

    let (status, body) = w.post(format!("{base}/api/verify"), w.shown(3)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "no_bundle");
    let error = body["message"].as_str().unwrap();
    assert!(error.contains("no trust bundle loaded yet"), "{error}");
    assert!(error.contains("신뢰 번들"), "{error}");
    let (status, _) = w.get(format!("{base}/api/trust")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    let (status, trust) = w.post(format!("{base}/api/trust/refresh"), "").await;
    assert_eq!(status, StatusCode::OK, "{trust}");
    assert_eq!(trust["issuers"][0]["name"], "Seoul Metropolitan Government");
    let (status, verdict) = w.post(format!("{base}/api/verify"), w.shown(3)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdict["decision"], "accepted", "{verdict}");
}

#[tokio::test]
async fn past_the_limit_of_concurrent_checks_verification_answers_503() {
    let w = world().await;
    let served = serve(w.service().await.with_max_concurrent_checks(0));
    let base = served.base.clone();
    let (status, body) = w.post(format!("{base}/api/verify"), w.shown(3)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "busy");
    let error = body["message"].as_str().unwrap();
    assert!(
        error.contains("too many verifications in progress"),
        "{error}"
    );
    assert!(error.contains("잠시 후"), "{error}");
    // What needs no check still answers.
    let (status, _) = w.get(format!("{base}/api/trust")).await;
    assert_eq!(status, StatusCode::OK);
}

/// Uploads are read only with a permit: with room for one check (two uploads), a third
/// client is turned away while two others are still sending their bodies — nothing of its
/// body is read or kept.
#[tokio::test]
async fn uploads_past_the_permits_are_refused_before_their_bodies_are_read() {
    let w = world().await;
    let served = serve(w.service().await.with_max_concurrent_checks(1));
    let url = format!("{}/api/verify", served.base);
    // Two clients announce a megabyte and send four bytes of it.
    let addr = served.base.trim_start_matches("http://").to_owned();
    let slow_upload = || async {
        use tokio::io::AsyncWriteExt as _;
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/verify HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 1000000\r\n\r\nDJ1:"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream
    };
    let mut slow = vec![slow_upload().await, slow_upload().await];
    // A third upload is refused once both hold their permits. (Until then it may take one,
    // and a slow one that came later is refused instead: that one is replaced.)
    let (status, body) = guard(async {
        loop {
            let (status, body) = w.post(url.clone(), w.shown(3)).await;
            if status == StatusCode::SERVICE_UNAVAILABLE {
                return (status, body);
            }
            for stream in &mut slow {
                let mut answered = [0u8; 64];
                if !matches!(stream.try_read(&mut answered), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock) {
                    *stream = slow_upload().await;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "busy");
    // The slow clients go away; their permits come back.
    drop(slow);
    let (status, verdict) = guard(async {
        loop {
            let (status, verdict) = w.post(url.clone(), w.shown(3)).await;
            if status != StatusCode::SERVICE_UNAVAILABLE {
                return (status, verdict);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdict["decision"], "accepted", "{verdict}");
}

#[tokio::test]
async fn of_two_answers_to_one_challenge_judged_at_once_one_is_accepted() {
    let w = world().await;
    let served = serve(w.service().await);
    let base = served.base.clone();
    let (_, challenge) = w.post(format!("{base}/api/challenges"), "").await;
    let request = ChallengeRequest::from_qr_text(challenge["text"].as_str().unwrap()).unwrap();
    let id = challenge["id"].as_str().unwrap();
    let badge = issue(&w.seoul, "job-badge", &w.holder, 3);
    let binding = Binding {
        at: now(),
        challenge: Some(request.challenge()),
    };
    let good = compact::to_qr_text(&badge.present(&["identifier"], &binding, &w.holder).unwrap());
    let url = reqwest::Url::parse_with_params(&format!("{base}/api/verify"), [("challenge", id)])
        .unwrap();
    let answers: Vec<_> = (0..2)
        .map(|_| {
            let (http, url, good) = (w.http.clone(), url.clone(), good.clone());
            tokio::spawn(async move { answer(http.post(url).body(good).send()).await })
        })
        .collect();
    let mut accepted = 0;
    for answered in answers {
        let (_, verdict) = guard(answered).await.unwrap();
        match verdict["decision"].as_str() {
            Some("accepted") => accepted += 1,
            _ => assert_eq!(
                verdict["reasons"][0]["code"], "challenge_mismatch",
                "{verdict}"
            ),
        }
    }
    assert_eq!(accepted, 1);
}

/// A registry (or whoever answers at its address) that sends a bundle without end is cut off
/// at the largest bundle there can be, not read into memory.
#[tokio::test]
async fn an_endless_bundle_is_cut_off_at_the_bundle_limit() {
    use futures::StreamExt as _;
    let w = world().await;
    let chunk = axum::body::Bytes::from(vec![b'a'; 1 << 20]);
    let endless = axum::Router::new().route(
        "/bundle",
        axum::routing::get(move || {
            let chunk = chunk.clone();
            async move {
                axum::body::Body::from_stream(
                    futures::stream::repeat(chunk).map(Ok::<_, std::io::Error>),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, endless).await });
    let config = VerifierConfig {
        registry_url: Some(url),
        ..w.config()
    };
    let served = serve(VerifierService::without_trust(
        config,
        w.ledger.registry.trust_anchor(),
    ));
    let (status, body) = guard(w.post(format!("{}/api/trust/refresh", served.base), "")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"], "bundle_invalid");
    assert!(
        body["message"].as_str().unwrap().contains("larger than"),
        "{body}"
    );
}

/// A Data Integrity credential built to make canonicalization try every permutation of alike
/// blank nodes (minutes of CPU per upload before) is refused at once, over HTTP.
#[tokio::test]
async fn a_credential_poisoning_canonicalization_is_refused_at_once() {
    let w = world().await;
    let served = serve(w.service().await);
    let parent = serde_json::json!({"kids": vec![serde_json::json!({"v": "x"}); 8]});
    let poison = serde_json::json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"items": [parent.clone(), parent.clone(), parent]},
        "proof": {
            "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
            "proofPurpose": "assertionMethod",
            "verificationMethod": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gkfUKKiAx9NBX3sYnXR5v"
        }
    });
    let (status, verdict) =
        guard(w.post(format!("{}/api/verify", served.base), poison.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdict["decision"], "rejected", "{verdict}");
    let detail = verdict["reasons"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("look alike"), "{verdict}");
}
