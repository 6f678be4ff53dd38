//! The verifier service over HTTP (in-process): uploads, challenge mode, bundle refresh from a
//! real registry server, and OpenID4VP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Actor, Ledger, call, issue, now, present};
use dojang_core::compact::{self, Binding, ChallengeRequest};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::oid4vp::{AuthorizationRequest, AuthorizationResponse};
use dojang_core::sd_jwt::{ClaimPath, HeldSdJwt, KeyBindingInput};
use dojang_core::status::token::TokenStatus;
use dojang_testkit::urlencode;
use dojang_verifier::http::app;
use dojang_verifier::service::{VerifierConfig, VerifierService};
use tower::ServiceExt as _;

struct World {
    ledger: Ledger,
    seoul: Actor,
    holder: SecretKey,
    service: VerifierService,
}

async fn world(registry_url: Option<String>) -> World {
    let ledger = Ledger::new().await;
    let seoul = ledger
        .issuer(
            Algorithm::Es256,
            "Seoul Metropolitan Government",
            &["job-badge"],
        )
        .await;
    ledger
        .publish(&seoul, 2, &[(7, TokenStatus::Invalid)])
        .await;
    let config = VerifierConfig {
        public_url: "https://counter.example".into(),
        audience: "counter-1.example".into(),
        registry_url,
        max_bundle_age: Some(86_400),
        min_witnesses: 0,
    };
    let service = VerifierService::new(config, ledger.trust().await);
    World {
        ledger,
        seoul,
        holder: SecretKey::generate(Algorithm::Es256).unwrap(),
        service,
    }
}

fn post(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri).body(body.into()).unwrap()
}

#[tokio::test]
async fn uploads_get_verdicts_with_reasons_in_words() {
    let w = world(None).await;
    let t = now();
    let badge = issue(&w.seoul, "job-badge", &w.holder, 3);
    let png =
        dojang_core::qr::to_png(&compact::to_qr_text(&present(&badge, &w.holder, t))).unwrap();
    let (status, verdict) = call(&w.service, post("/api/verify", png)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdict["decision"], "accepted", "{verdict}");
    assert_eq!(verdict["issuer"]["name"], "Seoul Metropolitan Government");
    assert_eq!(verdict["credential_type"], "job-badge");
    assert!(verdict["freshness"]["checkpoint_size"].as_u64().unwrap() > 0);

    let revoked = issue(&w.seoul, "job-badge", &w.holder, 7);
    let text = compact::to_qr_text(&present(&revoked, &w.holder, t));
    let (_, verdict) = call(&w.service, post("/api/verify", text)).await;
    assert_eq!(verdict["decision"], "rejected");
    assert_eq!(verdict["reasons"][0]["code"], "revoked");
    assert!(
        verdict["reasons_in_words"][0]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{verdict}"
    );

    let (status, verdict) = call(&w.service, post("/api/verify", "garbage")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdict["reasons"][0]["code"], "unsupported_format");
    let (status, _) = call(&w.service, post("/api/verify", vec![b'A'; 17 << 20])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let page = app(w.service.clone())
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers().contains_key("content-security-policy"));
}

#[tokio::test]
async fn a_challenge_is_answered_once() {
    let w = world(None).await;
    let (status, challenge) = call(&w.service, post("/api/challenges", Body::empty())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(challenge["svg"].as_str().unwrap().contains("<svg"));
    let scanned = ChallengeRequest::from_qr_text(challenge["text"].as_str().unwrap()).unwrap();
    assert_eq!(scanned.audience, "counter-1.example");
    let id = challenge["id"].as_str().unwrap();
    let uri = format!("/api/verify?challenge={}", urlencode(id));

    let badge = issue(&w.seoul, "job-badge", &w.holder, 3);
    let answer = |request: &ChallengeRequest| {
        let binding = Binding {
            at: now(),
            challenge: Some(request.challenge()),
        };
        compact::to_qr_text(&badge.present(&["identifier"], &binding, &w.holder).unwrap())
    };
    // A time-window QR, or the answer to another challenge, is not an answer.
    let (_, verdict) = call(
        &w.service,
        post(
            &uri,
            compact::to_qr_text(&present(&badge, &w.holder, now())),
        ),
    )
    .await;
    assert_eq!(verdict["reasons"][0]["code"], "challenge_mismatch");
    let other = ChallengeRequest::new("counter-1.example").unwrap();
    let (_, verdict) = call(&w.service, post(&uri, answer(&other))).await;
    assert_eq!(verdict["reasons"][0]["code"], "challenge_mismatch");

    let good = answer(&scanned);
    let (_, verdict) = call(&w.service, post(&uri, good.clone())).await;
    assert_eq!(verdict["decision"], "accepted", "{verdict}");
    // Replayed: the challenge is closed.
    let (_, verdict) = call(&w.service, post(&uri, good)).await;
    assert_eq!(verdict["reasons"][0]["code"], "challenge_mismatch");
    assert!(
        verdict["reasons"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("already answered")
    );
}

#[tokio::test]
async fn the_bundle_refreshes_from_a_real_registry_and_sees_revocations() {
    let w = world(None).await;
    // The registry over real HTTP.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let registry_app = dojang_registry::http::app(w.ledger.registry.clone());
    tokio::spawn(async move { axum::serve(listener, registry_app).await });
    let service = VerifierService::new(
        VerifierConfig {
            public_url: "https://counter.example".into(),
            audience: "counter-1.example".into(),
            registry_url: Some(base),
            max_bundle_age: Some(86_400),
            min_witnesses: 0,
        },
        w.ledger.trust().await,
    );

    let badge = issue(&w.seoul, "job-badge", &w.holder, 11);
    let shown = || compact::to_qr_text(&present(&badge, &w.holder, now()));
    let (_, verdict) = call(&service, post("/api/verify", shown())).await;
    assert_eq!(verdict["decision"], "accepted");

    w.ledger
        .publish(
            &w.seoul,
            3,
            &[(7, TokenStatus::Invalid), (11, TokenStatus::Suspended)],
        )
        .await;
    let (status, trust) = call(&service, post("/api/trust/refresh", Body::empty())).await;
    assert_eq!(status, StatusCode::OK, "{trust}");
    assert_eq!(trust["issuers"][0]["name"], "Seoul Metropolitan Government");
    let (_, verdict) = call(&service, post("/api/verify", shown())).await;
    assert_eq!(verdict["reasons"][0]["code"], "suspended");

    // A registry that does not answer: 502, and the bundle held still judges.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = VerifierService::new(
        VerifierConfig {
            public_url: "https://counter.example".into(),
            audience: "counter-1.example".into(),
            registry_url: Some(dead),
            max_bundle_age: Some(86_400),
            min_witnesses: 0,
        },
        w.ledger.trust().await,
    );
    let (status, body) = call(&unreachable, post("/api/trust/refresh", Body::empty())).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["error"], "registry_unavailable", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("registry:"),
        "{body}"
    );
    let (_, verdict) = call(&unreachable, post("/api/verify", shown())).await;
    assert_eq!(verdict["reasons"][0]["code"], "suspended");
    let (_, trust) = call(
        &unreachable,
        Request::get("/api/trust").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(trust["max_age_secs"], 86_400);

    // Without a registry, refreshing is refused and says why.
    let (status, body) = call(&w.service, post("/api/trust/refresh", Body::empty())).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"], "no_registry");
    assert!(body["message"].as_str().unwrap().contains("no registry"));
}

#[tokio::test]
async fn openid4vp_requests_are_answered_by_key_bound_sd_jwt_vcs() {
    let w = world(None).await;
    let request = Request::post("/api/oid4vp/requests")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"type": "job-badge", "claims": ["identifier"]}"#,
        ))
        .unwrap();
    let (status, created) = call(&w.service, request).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let request = AuthorizationRequest::from_uri(created["uri"].as_str().unwrap()).unwrap();
    assert_eq!(
        request.response_uri,
        "https://counter.example/api/oid4vp/response"
    );
    let state = created["state"].as_str().unwrap().to_owned();
    let result = format!("/api/oid4vp/requests/{}", urlencode(&state));
    let (_, pending) = call(
        &w.service,
        Request::get(&result).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(pending["status"], "pending");

    // The wallet's answer, key-bound to the request's client id and nonce.
    let answer_with = |nonce: &str, idx: u64, copies: usize| {
        let credential = common::draft(&w.seoul, "job-badge", &w.holder, idx)
            .sign(
                &w.seoul.key,
                &w.seoul.did.with_fragment("key-1").to_string(),
            )
            .unwrap();
        let presentation = HeldSdJwt::parse(&credential)
            .unwrap()
            .present(
                &[ClaimPath::parse("identifier")],
                Some(KeyBindingInput {
                    signer: &w.holder,
                    audience: &request.client_id,
                    nonce,
                    issued_at: now(),
                }),
            )
            .unwrap();
        let response = AuthorizationResponse {
            vp_token: [("credential".to_owned(), vec![presentation; copies])].into(),
            state: Some(state.clone()),
        };
        let form: String = response
            .to_form()
            .into_iter()
            .map(|(k, v)| format!("{k}={}", urlencode(&v)))
            .collect::<Vec<_>>()
            .join("&");
        Request::post("/api/oid4vp/response")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap()
    };
    let answer = |nonce: &str, idx: u64| answer_with(nonce, idx, 1);
    // One presentation answers the query: more would only make the verifier check more. The
    // request stays open.
    let (status, body) = call(&w.service, answer_with(&request.nonce, 4, 2)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_vp_token", "{body}");
    let (status, _) = call(&w.service, answer(&request.nonce, 4)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, answered) = call(
        &w.service,
        Request::get(&result).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(answered["status"], "answered");
    let verdict = &answered["verdicts"][0];
    assert_eq!(verdict["decision"], "accepted", "{verdict}");
    assert_eq!(
        verdict["disclosed_claims"]["identifier"][0]["identityHash"],
        "박서연 Park Seoyeon"
    );

    // Answered once only.
    let (status, body) = call(&w.service, answer(&request.nonce, 4)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unknown_state");
    assert!(body["message"].as_str().unwrap().contains("answered"));

    // An unknown type cannot be asked for.
    let request2 = Request::post("/api/oid4vp/requests")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"type": "nope"}"#))
        .unwrap();
    let (status, _) = call(&w.service, request2).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Only the type's own claims, each once; a request body past 16 KiB is refused unread.
    let ask = |body: String| {
        Request::post("/api/oid4vp/requests")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let (status, body) = call(
        &w.service,
        ask(r#"{"type": "job-badge", "claims": ["identifier", "password"]}"#.into()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"], "unknown_claim", "{body}");
    let (status, created) = call(
        &w.service,
        ask(r#"{"type": "job-badge", "claims": ["identifier", "identifier"]}"#.into()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let asked = AuthorizationRequest::from_uri(created["uri"].as_str().unwrap()).unwrap();
    assert_eq!(
        asked.dcql_query.credentials[0]
            .claims
            .as_ref()
            .unwrap()
            .len(),
        1
    );
    let many = vec!["\"identifier\""; 4000].join(",");
    let (status, _) = call(
        &w.service,
        ask(format!(r#"{{"type": "job-badge", "claims": [{many}]}}"#)),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// Challenges and OpenID4VP requests are open to anyone, and open ones are kept up to a
/// limit: one client address opens at most 60 a minute, so it cannot push out everyone else's.
#[tokio::test]
async fn one_client_cannot_flood_the_open_challenges() {
    let w = world(None).await;
    let from =
        |ip: [u8; 4], request: Request<Body>| {
            let mut request = request;
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from((ip, 40000)),
            ));
            request
        };
    let flooder = [203, 0, 113, 7];
    for _ in 0..dojang_verifier::service::OPENS_PER_CLIENT_PER_MINUTE {
        let (status, _) = call(
            &w.service,
            from(flooder, post("/api/challenges", Body::empty())),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, body) = call(
        &w.service,
        from(flooder, post("/api/challenges", Body::empty())),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "too_many_requests");
    let request = Request::post("/api/oid4vp/requests")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"type": "job-badge"}"#))
        .unwrap();
    let (status, _) = call(&w.service, from(flooder, request)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A counter elsewhere is not affected.
    let (status, _) = call(
        &w.service,
        from([198, 51, 100, 2], post("/api/challenges", Body::empty())),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// The API paths the tests and the employer page call, with a segment filled in at run time
/// (`…/requests/{state}`, `…/requests/' + state`) written `*`.
fn called_api_paths() -> std::collections::BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = vec![root.join("src/page/verifier.html")];
    for entry in std::fs::read_dir(root.join("tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            sources.push(path);
        }
    }
    let mut called = std::collections::BTreeSet::new();
    for source in sources {
        let text = std::fs::read_to_string(source).unwrap();
        // Spelt in two so that this line is not one of the calls it finds.
        for (at, _) in text.match_indices(concat!("api", "/")) {
            let rest = &text[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "/_-".contains(c)))
                .unwrap_or(rest.len());
            let mut path = format!("/{}", &rest[..end]);
            if path.ends_with('/') {
                path.push('*');
            }
            called.insert(path);
        }
    }
    called
}

/// The OpenAPI document lists exactly the routes the router serves: every path the tests and
/// the page call, the page and the document itself — and the router answers each of them.
#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let w = world(None).await;
    let (status, doc) = call(
        &w.service,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths = doc["paths"].as_object().unwrap();

    let mut expected = called_api_paths();
    expected.extend(["/", "/openapi.json", "/assets/*", "/types/*"].map(str::to_owned));
    let documented: std::collections::BTreeSet<String> = paths
        .keys()
        .map(|path| {
            ["{state}", "{name}", "{vct}"]
                .iter()
                .fold(path.clone(), |p, param| p.replace(param, "*"))
        })
        .collect();
    assert_eq!(documented, expected);

    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(
                    ["{state}", "{name}", "{vct}"]
                        .iter()
                        .fold(path.clone(), |p, param| p.replace(param, "unknown")),
                )
                .body(Body::empty())
                .unwrap();
            let response = app(w.service.clone()).oneshot(request).await.unwrap();
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            // The router's own refusals: 405 for a method it does not route, an empty 404 for
            // a path it does not know.
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                status != StatusCode::NOT_FOUND || !body.is_empty(),
                "{method} {path}"
            );
        }
    }
    let (status, _) = call(
        &w.service,
        Request::get("/nothing").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every error answer has the documented shape.
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error", "message"]));
}
