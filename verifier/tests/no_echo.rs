//! No answer and no log line repeats what was submitted: every endpoint that takes input gets
//! distinctive garbage and credential-shaped text, and neither the body it answers (error or
//! verdict) nor anything logged meanwhile holds any 8-character run of the secret parts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Ledger, issue, now, present};
use dojang_core::b64;
use dojang_core::compact;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::sd_jwt::{ClaimPath, HeldSdJwt, KeyBindingInput};
use dojang_testkit::{assert_quiet, logs, urlencode};
use dojang_verifier::http::app;
use dojang_verifier::service::{VerifierConfig, VerifierService};
use serde_json::{Value, json};
use tower::ServiceExt as _;

struct World {
    ledger: Ledger,
    service: VerifierService,
}

async fn world() -> World {
    logs();
    let ledger = Ledger::new().await;
    let config = VerifierConfig {
        public_url: "https://counter.example".into(),
        audience: "counter-1.example".into(),
        registry_url: None,
        max_bundle_age: Some(86_400),
        min_witnesses: 0,
    };
    let service = VerifierService::new(config, ledger.trust().await);
    World { ledger, service }
}

/// Sends `request`, and checks its answer and the logs hold none of `secrets`.
async fn send(w: &World, request: Request<Body>, secrets: &[String]) -> (StatusCode, Value) {
    let what = format!("{} {}", request.method(), request.uri().path());
    let response = app(w.service.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    // Everything logged in this binary so far, not only since the request began.
    let answer = assert_quiet(
        &format!("{what} → {status}"),
        &bytes,
        &logs().all(),
        secrets,
    );
    (status, answer)
}

fn b64json(value: Value) -> String {
    b64::encode(value.to_string())
}

/// Garbage and credential-shaped texts, each with its secret parts.
fn submissions(w: &World) -> Vec<(String, Vec<String>)> {
    let secret = |s: &str| s.to_owned();
    let mut out = Vec::new();
    let plain = "Zorblax7Quv-박서연비밀정보입니다-Wq93kPz";
    out.push((plain.to_owned(), vec![secret(plain)]));
    out.push((
        format!("DJ1:Zorblax7Quv@@{plain}"),
        vec![secret(plain), secret("Zorblax7Quv@@")],
    ));
    // Valid base45 of bytes that are no CBOR credential but carry text.
    let cbor_text = "Zorblax7CborText-박서연";
    let mut cbor = vec![0x78, cbor_text.len() as u8];
    cbor.extend_from_slice(cbor_text.as_bytes());
    out.push((compact::to_qr_text(&cbor), vec![secret(cbor_text)]));
    let mut cbor_map = vec![0xa1, 0x78, cbor_text.len() as u8];
    cbor_map.extend_from_slice(cbor_text.as_bytes());
    cbor_map.push(0x01);
    out.push((compact::to_qr_text(&cbor_map), vec![secret(cbor_text)]));
    // JWS headers the parsers quote: an algorithm, a type, a critical parameter.
    for header in [
        json!({"alg": "Zorblax7Alg", "typ": "dc+sd-jwt"}),
        json!({"alg": "HS256", "typ": "dc+sd-jwt", "kid": "Zorblax7Kid"}),
        json!({"alg": "ES256", "typ": "Zorblax7TypValue"}),
        json!({"alg": "ES256", "typ": "dc+sd-jwt", "crit": ["Zorblax7Critical"]}),
        json!({"alg": "ES256", "typ": "dc+sd-jwt"}),
    ] {
        let payload = json!({"iss": "did:key:zZorblax7Issuer", "vct": "Zorblax7Vct", "_sd_alg": "Zorblax7SdAlg", "name": "박서연비밀정보입니다"});
        let disclosure = b64json(json!([
            "Zorblax7Salt",
            "Zorblax7Claim",
            "김민지비밀정보입니다"
        ]));
        let text = format!(
            "{}.{}.Zorblax7Sgntr~{disclosure}~",
            b64json(header),
            b64json(payload)
        );
        out.push((
            text.clone(),
            vec![
                text,
                secret("Zorblax7Alg"),
                secret("Zorblax7Kid"),
                secret("Zorblax7TypValue"),
                secret("Zorblax7Critical"),
                secret("zZorblax7Issuer"),
                secret("Zorblax7Vct"),
                secret("Zorblax7SdAlg"),
                secret("박서연비밀정보입니다"),
                secret("Zorblax7Salt"),
                secret("Zorblax7Claim"),
                secret("김민지비밀정보입니다"),
            ],
        ));
    }
    // JSON credentials the Data Integrity reader quotes.
    let di = |context: &str, suite: &str, method: &str, date: &str| {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2", context],
            "type": ["VerifiableCredential", "Zorblax7Type"],
            "issuer": "https://zorblax7issuer.example/i",
            "validFrom": date,
            "credentialSubject": {"name": "박서연비밀정보입니다"},
            "proof": {
                "type": "DataIntegrityProof",
                "cryptosuite": suite,
                "proofPurpose": "assertionMethod",
                "verificationMethod": method,
                "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gkfUKKiAx9NBX3sYnXR5v"
            }
        })
        .to_string()
    };
    let vm = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
    let di_secrets = vec![
        secret("zorblax7ctx.example/Zorblax7Ctx"),
        secret("zorblax7-suite-2099"),
        secret("zorblax7web.example#Zorblax7Key"),
        secret("Zorblax7Type"),
        secret("zorblax7issuer.example/i"),
        secret("Zorblax7-not-a-date"),
        secret("박서연비밀정보입니다"),
    ];
    for text in [
        di(
            "https://zorblax7ctx.example/Zorblax7Ctx",
            "eddsa-rdfc-2022",
            vm,
            "2023-01-01T00:00:00Z",
        ),
        di(
            "https://www.w3.org/ns/credentials/examples/v2",
            "zorblax7-suite-2099",
            vm,
            "2023-01-01T00:00:00Z",
        ),
        di(
            "https://www.w3.org/ns/credentials/examples/v2",
            "eddsa-rdfc-2022",
            "did:web:zorblax7web.example#Zorblax7Key",
            "2023-01-01T00:00:00Z",
        ),
        di(
            "https://www.w3.org/ns/credentials/examples/v2",
            "eddsa-rdfc-2022",
            vm,
            "Zorblax7-not-a-date",
        ),
        format!("{{\"Zorblax7Key\": \"박서연비밀정보입니다\", {plain}"),
    ] {
        let mut secrets = di_secrets.clone();
        secrets.push(secret(plain));
        out.push((text, secrets));
    }
    // A real credential, its signature broken: nothing of it comes back.
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let _ = (&w.ledger, &holder);
    out
}

#[tokio::test]
async fn verify_never_repeats_the_upload() {
    let w = world().await;
    for (text, secrets) in submissions(&w) {
        let (status, verdict) = send(
            &w,
            Request::post("/api/verify")
                .body(Body::from(text.clone()))
                .unwrap(),
            &secrets,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(verdict["decision"], "rejected", "{text}: {verdict}");
        // In challenge mode, with a challenge id nobody opened.
        let id = "Zorblax7Chlg-박서연";
        let (status, _) = send(
            &w,
            Request::post(format!("/api/verify?challenge={}", urlencode(id)))
                .body(Body::from(text))
                .unwrap(),
            &[id.to_owned()],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    // A query that does not parse, and a body over the limit.
    let (status, body) = send(
        &w,
        Request::post("/api/verify?challenge=Zorblax7Query%FF%FE&challenge=Zorblax7Again")
            .body(Body::from("Zorblax7Body"))
            .unwrap(),
        &[
            "Zorblax7Query".into(),
            "Zorblax7Again".into(),
            "Zorblax7Body".into(),
        ],
    )
    .await;
    assert!(
        status.is_client_error() || status == StatusCode::OK,
        "{status} {body}"
    );
    let big = format!("Zorblax7BigBody{}", "박".repeat(6 << 20));
    let (status, body) = send(
        &w,
        Request::post("/api/verify").body(Body::from(big)).unwrap(),
        &["Zorblax7BigBody".into()],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"], "too_large");
}

#[tokio::test]
async fn a_tampered_credential_comes_back_as_a_code_not_as_itself() {
    let w = world().await;
    let seoul = w
        .ledger
        .issuer(
            Algorithm::Es256,
            "Seoul Metropolitan Government",
            &["job-badge"],
        )
        .await;
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let badge = issue(&seoul, "job-badge", &holder, 3);
    let mut shown = present(&badge, &holder, now());
    let last = shown.len() - 1;
    shown[last] ^= 1;
    let text = compact::to_qr_text(&shown);
    let (_, verdict) = send(
        &w,
        Request::post("/api/verify")
            .body(Body::from(text.clone()))
            .unwrap(),
        &[text, "박서연 Park Seoyeon".into()],
    )
    .await;
    assert_eq!(verdict["decision"], "rejected");
}

#[tokio::test]
async fn the_openid4vp_endpoints_never_repeat_the_answer() {
    let w = world().await;
    let seoul = w
        .ledger
        .issuer(
            Algorithm::Es256,
            "Seoul Metropolitan Government",
            &["job-badge"],
        )
        .await;
    let w = World {
        service: VerifierService::new(
            VerifierConfig {
                public_url: "https://counter.example".into(),
                audience: "counter-1.example".into(),
                registry_url: None,
                max_bundle_age: Some(86_400),
                min_witnesses: 0,
            },
            w.ledger.trust().await,
        ),
        ledger: w.ledger,
    };
    let open = || async {
        let (status, created) = send(
            &w,
            Request::post("/api/oid4vp/requests")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"type": "job-badge"}"#))
                .unwrap(),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        created["state"].as_str().unwrap().to_owned()
    };
    let post = |form: String| {
        Request::post("/api/oid4vp/response")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap()
    };
    let form = |vp_token: &str, state: &str| {
        format!(
            "vp_token={}&state={}",
            urlencode(vp_token),
            urlencode(state)
        )
    };

    // The reported leak: a vp_token that is JSON but not the expected shape.
    let state = open().await;
    for vp_token in [
        r#""Zorblax7VpToken-박서연비밀정보입니다""#,
        r#"{"credential": "Zorblax7VpToken-박서연비밀정보입니다"}"#,
        r#"{"credential": [42, "Zorblax7VpToken-박서연비밀정보입니다"]}"#,
        r#"{"Zorblax7VpToken-박서연비밀정보입니다": ["x"]}"#,
        "Zorblax7VpToken-박서연비밀정보입니다",
        r#"{"credential": []}"#,
    ] {
        let (status, body) = send(
            &w,
            post(form(vp_token, &state)),
            &["Zorblax7VpToken-박서연비밀정보입니다".into()],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{vp_token}: {body}");
        assert_eq!(body["error"], "invalid_vp_token", "{vp_token}: {body}");
        assert!(body["message"].as_str().unwrap().contains("vp_token"));
    }
    // An unknown state.
    let (status, body) = send(
        &w,
        post(form(r#"{"credential": ["x"]}"#, "Zorblax7State-박서연")),
        &["Zorblax7State-박서연".into()],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_state"))
    );
    // Bodies that are not the form at all.
    for (content_type, body) in [
        (
            "application/x-www-form-urlencoded",
            "vp_token=Zorblax7OnlyToken",
        ),
        (
            "application/x-www-form-urlencoded",
            "state=%FF%FEZorblax7Bytes&vp_token=x",
        ),
        (
            "application/json",
            r#"{"vp_token": "Zorblax7Json", "state": "x"}"#,
        ),
    ] {
        let (status, answer) = send(
            &w,
            Request::post("/api/oid4vp/response")
                .header("content-type", content_type)
                .body(Body::from(body))
                .unwrap(),
            &[
                "Zorblax7OnlyToken".into(),
                "Zorblax7Bytes".into(),
                "Zorblax7Json".into(),
            ],
        )
        .await;
        assert!(status.is_client_error(), "{body}: {status}");
        assert!(answer["error"].is_string(), "{body}: {answer}");
    }

    // Garbage presentations in a well-formed answer: judged, and the verdicts the page reads
    // do not repeat them either.
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    for (text, secrets) in submissions(&w) {
        let state = open().await;
        let vp_token = json!({"credential": [text]}).to_string();
        let (status, _) = send(&w, post(form(&vp_token, &state)), &secrets).await;
        assert_eq!(status, StatusCode::OK);
        let (_, result) = send(
            &w,
            Request::get(format!("/api/oid4vp/requests/{}", urlencode(&state)))
                .body(Body::empty())
                .unwrap(),
            &secrets,
        )
        .await;
        assert_eq!(result["verdicts"][0]["decision"], "rejected");
    }
    // A credential with its signature broken, key-bound to another verifier.
    let state = open().await;
    let credential = common::draft(&seoul, "job-badge", &holder, 4)
        .sign(&seoul.key, &seoul.did.with_fragment("key-1").to_string())
        .unwrap();
    let presentation = HeldSdJwt::parse(&credential)
        .unwrap()
        .present(
            &[ClaimPath::parse("identifier")],
            Some(KeyBindingInput {
                signer: &holder,
                audience: "https://Zorblax7Audience.example",
                nonce: "Zorblax7Nonce",
                issued_at: now(),
            }),
        )
        .unwrap();
    let vp_token = json!({"credential": [presentation.clone()]}).to_string();
    let secrets = [
        presentation,
        "Zorblax7Audience".into(),
        "Zorblax7Nonce".into(),
    ];
    send(&w, post(form(&vp_token, &state)), &secrets).await;
    let (_, result) = send(
        &w,
        Request::get(format!("/api/oid4vp/requests/{}", urlencode(&state)))
            .body(Body::empty())
            .unwrap(),
        &secrets,
    )
    .await;
    assert_eq!(result["verdicts"][0]["decision"], "rejected", "{result}");

    // The request endpoints themselves.
    for body in [
        r#"{"type": "Zorblax7TypeId-박서연"}"#,
        r#"{"type": 5, "claims": "Zorblax7Claims"}"#,
        r#"{"type": "job-badge", "claims": [7, "Zorblax7Claims"], "#,
        "Zorblax7NotJson",
    ] {
        let (status, answer) = send(
            &w,
            Request::post("/api/oid4vp/requests")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
            &[
                "Zorblax7TypeId-박서연".into(),
                "Zorblax7Claims".into(),
                "Zorblax7NotJson".into(),
            ],
        )
        .await;
        assert!(status.is_client_error(), "{body}: {status} {answer}");
        assert!(
            answer["error"].is_string() && answer["message"].is_string(),
            "{answer}"
        );
    }
    let (status, answer) = send(
        &w,
        Request::get(format!(
            "/api/oid4vp/requests/{}",
            urlencode("Zorblax7Unknown-박서연")
        ))
        .body(Body::empty())
        .unwrap(),
        &["Zorblax7Unknown-박서연".into()],
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_request"))
    );
    let (status, _) = send(
        &w,
        Request::get("/api/oid4vp/requests/%FF%FEZorblax7Path")
            .body(Body::empty())
            .unwrap(),
        &["Zorblax7Path".into()],
    )
    .await;
    assert!(status.is_client_error());
}

#[tokio::test]
async fn challenges_take_nothing_and_repeat_nothing() {
    let w = world().await;
    let (status, challenge) = send(
        &w,
        Request::post("/api/challenges?Zorblax7Param=Zorblax7Value")
            .body(Body::from("Zorblax7ChallengeBody-박서연"))
            .unwrap(),
        &[
            "Zorblax7Param".into(),
            "Zorblax7Value".into(),
            "Zorblax7ChallengeBody-박서연".into(),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(challenge["text"].as_str().unwrap().starts_with("DJC1:"));
}
