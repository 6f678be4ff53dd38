//! No answer and no log line repeats what was submitted: every issuer endpoint that takes input
//! — the token, nonce and credential endpoints wallets call, and the operator API — gets
//! distinctive garbage and credential-shaped text, and neither the body it answers nor anything
//! logged meanwhile holds any 8-character run of the secret parts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{World, now};
use dojang_core::b64;
use dojang_core::did::{Did, key_id};
use dojang_core::jwk::Jwk;
use dojang_core::jws::{self, JwsHeader};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::oid4vci::{self, CredentialOffer, ProofKey};
use dojang_testkit::{assert_quiet, logs, urlencode};
use serde_json::{Map, Value, json};
use tower::ServiceExt as _;

async fn world() -> World {
    logs();
    common::world(false).await.unwrap()
}

/// Sends `request`, and checks its answer and the logs hold none of `secrets`.
async fn send(w: &World, request: Request<Body>, secrets: &[&str]) -> (StatusCode, Value) {
    let what = format!("{} {}", request.method(), request.uri().path());
    // Lines logged from now on, this request's among them.
    let mark = logs().mark();
    let response = w.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    let logged = logs().since(mark);
    let answer = assert_quiet(&format!("{what} → {status}"), &bytes, &logged, secrets);
    (status, answer)
}

fn post_json(uri: &str, token: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(body.into()).unwrap()
}

fn post_form(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn b64json(value: Value) -> String {
    b64::encode(value.to_string())
}

/// A JWS with `header` and `payload` and a signature of the right length that verifies for
/// nobody.
fn forged(header: Value, payload: Value) -> String {
    format!(
        "{}.{}.{}",
        b64json(header),
        b64json(payload),
        b64::encode([7u8; 64])
    )
}

#[tokio::test]
async fn the_token_endpoint_never_repeats_the_codes() {
    let w = world().await;
    let code = "Zorblax7Code-박서연비밀정보";
    let tx_code = "Zorblax7TxCode-김민지";
    for (form, secrets) in [
        (
            format!("grant_type={}", urlencode("Zorblax7Grant-박서연비밀정보")),
            vec!["Zorblax7Grant-박서연비밀정보"],
        ),
        (
            format!(
                "grant_type={}&pre-authorized_code={}&tx_code={}",
                urlencode(oid4vci::PRE_AUTHORIZED_GRANT),
                urlencode(code),
                urlencode(tx_code)
            ),
            vec![code, tx_code],
        ),
        (
            format!(
                "grant_type={}&tx_code={}",
                urlencode(oid4vci::PRE_AUTHORIZED_GRANT),
                urlencode(tx_code)
            ),
            vec![tx_code],
        ),
        (
            "grant_type=%FF%FEZorblax7Bytes&pre-authorized_code=%FFZorblax7Bytes2".into(),
            vec!["Zorblax7Bytes", "Zorblax7Bytes2"],
        ),
        (
            "Zorblax7NotAForm=박서연비밀정보입니다".into(),
            vec!["Zorblax7NotAForm=박서연비밀정보입니다"],
        ),
    ] {
        let (status, body) = send(&w, post_form("/issuers/seoul/token", &form), &secrets).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form}: {body}");
        assert!(body["error"].is_string(), "{form}: {body}");
    }

    // A real offer: a wrong transaction code, then a code where none is expected.
    let with_code = |real_code: &str| {
        format!(
            "grant_type={}&pre-authorized_code={}&tx_code={}",
            urlencode(oid4vci::PRE_AUTHORIZED_GRANT),
            urlencode(real_code),
            urlencode(tx_code)
        )
    };
    let (offer, _) = w.offer("seoul", "citizen-card", true).await;
    let real_code = &offer.grants.pre_authorized_code.pre_authorized_code;
    let form = with_code(real_code);
    let (status, body) = send(
        &w,
        post_form("/issuers/seoul/token", &form),
        &[tx_code, real_code],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (offer, _) = w.offer("seoul", "citizen-card", false).await;
    let real_code = &offer.grants.pre_authorized_code.pre_authorized_code;
    let form = with_code(real_code);
    let (status, _) = send(
        &w,
        post_form("/issuers/seoul/token", &form),
        &[tx_code, real_code],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The wrong body type, and an issuer that does not exist.
    let (status, _) = send(
        &w,
        post_json(
            "/issuers/seoul/token",
            None,
            r#"{"pre-authorized_code": "Zorblax7JsonCode"}"#,
        ),
        &["Zorblax7JsonCode"],
    )
    .await;
    assert!(status.is_client_error());
    let slug = "Zorblax7Slug-박서연";
    let (status, _) = send(
        &w,
        post_form(
            &format!("/issuers/{}/token", urlencode(slug)),
            &format!("grant_type={}", urlencode(oid4vci::PRE_AUTHORIZED_GRANT)),
        ),
        &[slug],
    )
    .await;
    assert!(status.is_client_error());
}

#[tokio::test]
async fn the_nonce_endpoint_takes_nothing_and_repeats_nothing() {
    let w = world().await;
    let slug = "Zorblax7Slug-박서연";
    let (status, _) = send(
        &w,
        post_json(
            &format!("/issuers/{}/nonce", urlencode(slug)),
            None,
            "Zorblax7NonceBody",
        ),
        &[slug, "Zorblax7NonceBody"],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = send(
        &w,
        post_json(
            "/issuers/seoul/nonce?Zorblax7Param=Zorblax7Value",
            None,
            "Zorblax7NonceBody-박서연",
        ),
        &["Zorblax7Param", "Zorblax7Value", "Zorblax7NonceBody-박서연"],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["c_nonce"].is_string());
}

/// An access token for a fresh Seoul offer.
async fn access(w: &World) -> (CredentialOffer, String) {
    let (offer, tx_code) = w.offer("seoul", "citizen-card", true).await;
    let token = w.access_token(&offer, tx_code.as_deref()).await;
    (offer, token)
}

#[tokio::test]
async fn the_credential_endpoint_never_repeats_the_request() {
    let w = world().await;
    let (offer, token) = access(&w).await;

    non_requests_are_refused_quietly(&w, token.clone()).await;

    // Key proofs whose header and payload the wallet chose.
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let nonce = w.nonce("seoul").await;
    let mut proofs = proofs_with_chosen_headers(&holder, &offer, &nonce);
    proofs.extend(proofs_with_wrong_payloads(&holder, &offer, &nonce));
    proofs_are_refused_quietly(&w, token, proofs).await;
}

/// Bodies that are not a credential request, fields of other drafts, and an access token that
/// is not one: refused, nothing repeated.
async fn non_requests_are_refused_quietly(w: &World, token: String) {
    // Bodies that are not a credential request.
    for (body, secrets) in [
        (
            "Zorblax7NotJson-박서연비밀정보",
            vec!["Zorblax7NotJson-박서연비밀정보"],
        ),
        (
            r#"{"proofs": {"jwt": "Zorblax7ProofText-박서연비밀정보"}}"#,
            vec!["Zorblax7ProofText-박서연비밀정보"],
        ),
        (
            r#"{"proofs": {"jwt": [{"Zorblax7Key": "박서연비밀정보입니다"}]}}"#,
            vec!["Zorblax7Key", "박서연비밀정보입니다"],
        ),
        (
            r#"{"credential_configuration_id": {"Zorblax7Config": 1}}"#,
            vec!["Zorblax7Config"],
        ),
        (
            r#"{"proof": {"proof_type": ["Zorblax7ProofType"], "jwt": "x"}}"#,
            vec!["Zorblax7ProofType"],
        ),
        (
            r#"{"credential_configuration_id": "citizen-card", "proofs": {"jwt": []}, "Zorblax7Trl"#,
            vec!["Zorblax7Trl"],
        ),
    ] {
        for access_token in [None, Some(token.as_str())] {
            let (status, answer) = send(
                w,
                post_json("/issuers/seoul/credential", access_token, body),
                &secrets,
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert_eq!(answer["error"], "invalid_credential_request", "{answer}");
        }
    }

    // Fields of other drafts and unknown configurations.
    for body in [
        json!({"credential_identifier": "Zorblax7Idnt", "format": "Zorblax7Format", "vct": "Zorblax7VctValue"}),
        json!({"credential_configuration_id": "Zorblax7Cfg-박서연비밀", "proofs": {"jwt": ["x"]}}),
    ] {
        let secrets = [
            "Zorblax7Idnt",
            "Zorblax7Format",
            "Zorblax7VctValue",
            "Zorblax7Cfg-박서연비밀",
        ];
        let (status, _) = send(
            w,
            post_json("/issuers/seoul/credential", None, body.to_string()),
            &secrets,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, answer) = send(
            w,
            post_json("/issuers/seoul/credential", Some(&token), body.to_string()),
            &secrets,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    }
    // An access token that is not one.
    let (status, _) = send(
        w,
        post_json(
            "/issuers/seoul/credential",
            Some("Zorblax7Access.박서연비밀정보"),
            json!({"credential_configuration_id": "citizen-card"}).to_string(),
        ),
        &["Zorblax7Access.박서연비밀정보"],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Proofs whose header the wallet chose: algorithms, types, keys and key ids of every kind.
fn proofs_with_chosen_headers(
    holder: &SecretKey,
    offer: &CredentialOffer,
    nonce: &str,
) -> Vec<String> {
    let jwk = serde_json::to_value(Jwk::from_public_key(holder.public_key())).unwrap();
    let claims = json!({"aud": offer.credential_issuer, "iat": now(), "nonce": nonce, "iss": "Zorblax7Issuer-박서연"});
    let typ = oid4vci::PROOF_TYP;
    let did_key = Did::key(holder.public_key());
    vec![
        forged(
            json!({"alg": "Zorblax7Alg", "typ": typ, "jwk": jwk}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "Zorblax7AlgThe박서연", "typ": typ, "jwk": jwk}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "ES256", "typ": typ, "jwk": jwk, "crit": ["Zorblax7Crit"]}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "ES256", "typ": "Zorblax7TypValue", "jwk": jwk}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "ES256", "typ": typ, "jwk": {"kty": "Zorblax7Kty", "crv": "Zorblax7Crv", "x": "Zorblax7X"}}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "ES256", "typ": typ, "jwk": {"kty": "EC", "crv": "P-256", "alg": "Zorblax7JwkAlg", "x": "AA", "y": "AA"}}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "ES256", "typ": typ, "jwk": {"kty": "EC", "crv": "P-256", "x": "Zorblax7CoordX", "y": "Zorblax7CoordY"}}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "ES256", "typ": typ, "kid": "Zorblax7Kid-박서연"}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "ES256", "typ": typ, "kid": "did:zorblax7method:Zorblax7Id#k"}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "ES256", "typ": typ, "kid": format!("{did_key}#Zorblax7Frag")}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "ES256", "typ": typ, "kid": "did:jwk:Zorblax7NotAJwk#0"}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "ES256", "typ": typ, "jwk": jwk, "kid": "Zorblax7BothKid"}),
            claims.clone(),
        ),
        forged(
            json!({"alg": "ES256", "typ": typ, "jwk": jwk}),
            claims.clone(),
        ),
        format!(
            "{}.Zorblax7Payload.Zorblax7Sgntr",
            b64json(json!({"alg": "ES256", "typ": typ, "jwk": jwk}))
        ),
    ]
}

/// Proofs signed by the holder, with the payload wrong, and one signed by another key for
/// another issuer.
fn proofs_with_wrong_payloads(
    holder: &SecretKey,
    offer: &CredentialOffer,
    nonce: &str,
) -> Vec<String> {
    let typ = oid4vci::PROOF_TYP;
    let mut proofs = Vec::new();
    // Signed by the holder, with the payload wrong: another audience, a nonce not the
    // issuer's, no nonce, a time far away, a payload that is not JSON.
    let signed = |payload: Vec<u8>| {
        let mut header = JwsHeader::new(Some(typ), None);
        header.jwk = Some(Jwk::from_public_key(holder.public_key()));
        jws::sign(header, &payload, holder).unwrap()
    };
    for payload in [
        json!({"aud": "https://Zorblax7Aud.example", "iat": now(), "nonce": nonce}),
        json!({"aud": offer.credential_issuer, "iat": now(), "nonce": "Zorblax7Nonce-박서연비밀정보"}),
        json!({"aud": offer.credential_issuer, "iat": now(), "Zorblax7NoNonce": "박서연비밀정보입니다"}),
        json!({"aud": offer.credential_issuer, "iat": "Zorblax7Iat", "nonce": nonce}),
        json!({"aud": ["Zorblax7AudList"], "iat": now(), "nonce": nonce}),
    ] {
        proofs.push(signed(payload.to_string().into_bytes()));
    }
    proofs.push(signed("Zorblax7NotJsonPayload-박서연".as_bytes().to_vec()));
    let other = SecretKey::generate(Algorithm::Es256).unwrap();
    proofs.push(
        oid4vci::sign_proof(
            &other,
            ProofKey::Kid(&key_id(&Did::key(other.public_key())).unwrap()),
            "https://Zorblax7Elsw.example",
            "Zorblax7OtherNonce",
            now(),
        )
        .unwrap(),
    );
    proofs
}

/// Every proof of `proofs`, in both request forms, and two proofs where one is wanted: refused
/// with `invalid_proof` or `invalid_nonce`, nothing repeated.
async fn proofs_are_refused_quietly(w: &World, token: String, proofs: Vec<String>) {
    let secrets = [
        "Zorblax7Alg",
        "Zorblax7AlgThe박서연",
        "Zorblax7Crit",
        "Zorblax7TypValue",
        "Zorblax7Kty",
        "Zorblax7Crv",
        "Zorblax7JwkAlg",
        "Zorblax7CoordX",
        "Zorblax7CoordY",
        "Zorblax7Kid-박서연",
        "zorblax7method:Zorblax7Id",
        "Zorblax7Frag",
        "Zorblax7NotAJwk",
        "Zorblax7BothKid",
        "Zorblax7Issuer-박서연",
        "Zorblax7Payload",
        "Zorblax7Sgntr",
        "Zorblax7Aud",
        "Zorblax7Nonce-박서연비밀정보",
        "Zorblax7NoNonce",
        "박서연비밀정보입니다",
        "Zorblax7Iat",
        "Zorblax7AudList",
        "Zorblax7NotJsonPayload-박서연",
        "Zorblax7Elsw",
        "Zorblax7OtherNonce",
    ];
    for proof in &proofs {
        for body in [
            json!({"credential_configuration_id": "citizen-card", "proofs": {"jwt": [proof]}}),
            json!({"credential_configuration_id": "citizen-card-qr", "proof": {"proof_type": "jwt", "jwt": proof}}),
        ] {
            let mut all = secrets.to_vec();
            all.push(proof);
            let (status, answer) = send(
                w,
                post_json("/issuers/seoul/credential", Some(&token), body.to_string()),
                &all,
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{proof}: {answer}");
            assert!(
                ["invalid_proof", "invalid_nonce"].contains(&answer["error"].as_str().unwrap()),
                "{proof}: {answer}"
            );
        }
    }
    // Two proofs where one is wanted.
    let (status, answer) = send(
        w,
        post_json(
            "/issuers/seoul/credential",
            Some(&token),
            json!({"credential_configuration_id": "citizen-card", "proofs": {"jwt": [&proofs[0], &proofs[1]]}}).to_string(),
        ),
        &secrets,
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_proof"))
    );
}

#[tokio::test]
async fn the_operator_api_never_repeats_the_claims() {
    let w = world().await;
    let seoul = w.tokens["seoul"].clone();
    let example = dojang_schemas::Catalog::builtin()
        .get("citizen-card")
        .unwrap()
        .example()
        .clone();

    refused_claims_are_named_by_path(&w, seoul.clone(), example.clone()).await;
    malformed_offers_are_refused_quietly(&w, seoul.clone(), example.clone()).await;

    // A good offer: its answer holds the codes, not the claims or the subject.
    let mut claims = example.clone();
    claims.insert("name".into(), json!("박서연비밀정보입니다 Park Seoyeon"));
    let subject = "Zorblax7Subject-SC-2026-000777";
    let (status, answer) = send(
        &w,
        post_json(
            "/issuers/seoul/offers",
            Some(&seoul),
            json!({"type": "citizen-card", "claims": claims, "subject": subject, "idempotency_key": "Zorblax7IdemKey"}).to_string(),
        ),
        &["박서연비밀정보입니다 Park Seoyeon", subject, "Zorblax7IdemKey"],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");

    // Listing by subject.
    let (status, _) = send(
        &w,
        Request::get(format!(
            "/issuers/seoul/credentials?subject={}",
            urlencode(subject)
        ))
        .header(header::AUTHORIZATION, format!("Bearer {seoul}"))
        .body(Body::empty())
        .unwrap(),
        &[subject],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        &w,
        Request::get(
            "/issuers/seoul/credentials?subject=%FF%FEZorblax7Bytes&subject=Zorblax7Again",
        )
        .header(header::AUTHORIZATION, format!("Bearer {seoul}"))
        .body(Body::empty())
        .unwrap(),
        &["Zorblax7Bytes", "Zorblax7Again"],
    )
    .await;
    assert!(status.is_client_error() || status == StatusCode::OK);
}

/// Claims the schema refuses: the answer names each path and rule, never the value.
async fn refused_claims_are_named_by_path(w: &World, seoul: String, example: Map<String, Value>) {
    // Claims the schema refuses, each value distinctive: the answer names the path and the
    // rule, never the value.
    let mut bad = example.clone();
    bad.insert(
        "name".into(),
        json!({"Zorblax7Nested": "박서연비밀정보입니다"}),
    );
    bad.insert("birthdate".into(), json!("Zorblax7-not-a-date"));
    bad.insert("card_number".into(), json!("SC-박서연비밀정보-Zorblax7"));
    bad.insert("age_over_19".into(), json!("Zorblax7Boolean"));
    bad["address"]["postal_code"] = json!("Zorblax7Postal");
    bad["address"]["country"] = json!(["Zorblax7Country"]);
    bad.insert("portrait_sha256".into(), json!(12_345_678_901_u64));
    bad.insert("unexpected".into(), json!("Zorblax7Unxp-박서연"));
    let secrets = [
        "Zorblax7Nested",
        "박서연비밀정보입니다",
        "Zorblax7-not-a-date",
        "SC-박서연비밀정보-Zorblax7",
        "Zorblax7Boolean",
        "Zorblax7Postal",
        "Zorblax7Country",
        "12345678901",
        "Zorblax7Unxp-박서연",
    ];
    let (status, answer) = send(
        w,
        post_json(
            "/issuers/seoul/offers",
            Some(&seoul),
            json!({"type": "citizen-card", "claims": bad}).to_string(),
        ),
        &secrets,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"], "invalid_claims");
    let paths: Vec<&str> = answer["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["path"].as_str().unwrap())
        .collect();
    for path in [
        "/name",
        "/birthdate",
        "/card_number",
        "/age_over_19",
        "/address/postal_code",
        "/address/country",
        "/portrait_sha256",
    ] {
        assert!(paths.contains(&path), "{path} in {answer}");
    }
    assert!(
        answer["violations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| !v["message"].as_str().unwrap().is_empty()),
        "{answer}"
    );
}

/// Bodies that are not an offer request, a type the operator does not hold, a bad idempotency
/// key, an unknown token: refused, nothing repeated.
async fn malformed_offers_are_refused_quietly(
    w: &World,
    seoul: String,
    example: Map<String, Value>,
) {
    // Bodies that are not an offer request.
    for (body, secrets) in [
        ("Zorblax7NotJson-박서연비밀정보".to_owned(), vec!["Zorblax7NotJson-박서연비밀정보"]),
        (
            json!({"type": "citizen-card", "claims": "Zorblax7Claims-박서연비밀정보"}).to_string(),
            vec!["Zorblax7Claims-박서연비밀정보"],
        ),
        (
            json!({"type": ["Zorblax7TypeList"], "claims": example}).to_string(),
            vec!["Zorblax7TypeList"],
        ),
        (
            json!({"type": "citizen-card", "claims": example, "tx_code": "Zorblax7TxFlag"}).to_string(),
            vec!["Zorblax7TxFlag"],
        ),
        (
            json!({"type": "citizen-card", "claims": example, "subject": {"Zorblax7Subject": "박서연비밀정보입니다"}}).to_string(),
            vec!["Zorblax7Subject", "박서연비밀정보입니다"],
        ),
        (
            json!({"claims": {"Zorblax7Claim": "박서연비밀정보입니다"}}).to_string(),
            vec!["Zorblax7Claim", "박서연비밀정보입니다"],
        ),
        (
            r#"{"type": "citizen-card", "claims": {"name": "Zorblax7Uncl-박서연"#.to_owned(),
            vec!["Zorblax7Uncl-박서연"],
        ),
    ] {
        let (status, answer) = send(
            w,
            post_json("/issuers/seoul/offers", Some(&seoul), body.clone()),
            &secrets,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"], "bad_request", "{answer}");
    }

    // A type the operator does not hold, a bad idempotency key, an unknown token: refused
    // without the request in the answer.
    let type_id = "Zorblax7Type-박서연비밀정보";
    let idempotency_key = format!("Zorblax7Idmp-{}", "박".repeat(200));
    for (token, body, status) in [
        (
            Some(seoul.as_str()),
            json!({"type": type_id, "claims": example}),
            StatusCode::FORBIDDEN,
        ),
        (
            Some(seoul.as_str()),
            json!({"type": "citizen-card", "claims": example, "idempotency_key": idempotency_key}),
            StatusCode::BAD_REQUEST,
        ),
        (
            Some("Zorblax7Oprt-박서연"),
            json!({"type": type_id, "claims": example}),
            StatusCode::UNAUTHORIZED,
        ),
        (
            None,
            json!({"type": type_id, "claims": example}),
            StatusCode::UNAUTHORIZED,
        ),
    ] {
        let (answered, answer) = send(
            w,
            post_json("/issuers/seoul/offers", token, body.to_string()),
            &[type_id, &idempotency_key, "Zorblax7Oprt-박서연"],
        )
        .await;
        assert_eq!(answered, status, "{body}: {answer}");
    }
}

#[tokio::test]
async fn status_changes_never_repeat_the_request() {
    let w = world().await;
    let seoul = w.tokens["seoul"].clone();
    let (offer, tx_code) = w.offer("seoul", "citizen-card", true).await;
    w.redeem(
        &offer,
        tx_code.as_deref(),
        &SecretKey::generate(Algorithm::Es256).unwrap(),
    )
    .await;
    let (_, listed) = send(
        &w,
        Request::get("/issuers/seoul/credentials")
            .header(header::AUTHORIZATION, format!("Bearer {seoul}"))
            .body(Body::empty())
            .unwrap(),
        &[],
    )
    .await;
    let id = listed[0]["id"].as_str().unwrap().to_owned();

    let unknown = "Zorblax7Crdl-박서연";
    for (path, body, secrets) in [
        (
            format!("/issuers/seoul/credentials/{id}/revoke"),
            json!({"reason": "Zorblax7Reason-박서연"}).to_string(),
            vec!["Zorblax7Reason-박서연"],
        ),
        (
            format!("/issuers/seoul/credentials/{id}/suspend"),
            json!({"reason": ["Zorblax7ReasonList"]}).to_string(),
            vec!["Zorblax7ReasonList"],
        ),
        (
            format!("/issuers/seoul/credentials/{}/suspend", urlencode(unknown)),
            json!({"reason": "lost", "Zorblax7Extra": "박서연비밀정보입니다"}).to_string(),
            vec!["Zorblax7Extra", "박서연비밀정보입니다"],
        ),
        (
            format!("/issuers/seoul/credentials/{id}/revoke"),
            "Zorblax7NotJson-박서연비밀정보".into(),
            vec!["Zorblax7NotJson-박서연비밀정보"],
        ),
        (
            format!("/issuers/seoul/credentials/{id}/Zorblax7Action"),
            json!({"reason": "lost"}).to_string(),
            vec!["Zorblax7Action"],
        ),
        (
            format!("/issuers/seoul/credentials/{}/revoke", urlencode(unknown)),
            json!({"reason": "lost"}).to_string(),
            vec![unknown],
        ),
        (
            format!(
                "/issuers/{}/credentials/{id}/revoke",
                urlencode("Zorblax7Slug-박서연")
            ),
            json!({"reason": "lost"}).to_string(),
            vec!["Zorblax7Slug-박서연"],
        ),
        (
            "/issuers/seoul/credentials/%FF%FEZorblax7Path/revoke".into(),
            json!({"reason": "lost"}).to_string(),
            vec!["Zorblax7Path"],
        ),
    ] {
        let (status, answer) =
            send(&w, post_json(&path, Some(&seoul), body.clone()), &secrets).await;
        assert!(status.is_client_error(), "{path} {body}: {status} {answer}");
    }
    // The credential is still valid: no refused request changed it.
    let (status, answer) = send(
        &w,
        post_json(
            &format!("/issuers/seoul/credentials/{id}/unsuspend"),
            Some(&seoul),
            json!({"reason": "resolved"}).to_string(),
        ),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
}

#[tokio::test]
async fn metadata_lookups_never_repeat_the_path() {
    let w = world().await;
    let slug = "Zorblax7Slug-박서연비밀정보";
    for path in [
        format!(
            "/.well-known/openid-credential-issuer/issuers/{}",
            urlencode(slug)
        ),
        format!(
            "/issuers/{}/.well-known/openid-credential-issuer",
            urlencode(slug)
        ),
        format!(
            "/.well-known/oauth-authorization-server/issuers/{}",
            urlencode(slug)
        ),
        format!(
            "/issuers/{}/.well-known/oauth-authorization-server",
            urlencode(slug)
        ),
    ] {
        let (status, _) = send(&w, Request::get(path).body(Body::empty()).unwrap(), &[slug]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

/// Bodies past the issuer's limit are refused unread, whatever the route and whoever sends
/// them (an operator token is checked after the body is read, so the bound matters).
#[tokio::test]
async fn bodies_past_the_limit_are_refused_unread() {
    let w = world().await;
    let big = format!(
        "{{\"Zorblax7Big\": \"{}\"}}",
        "박".repeat(dojang_issuer::http::MAX_REQUEST_LEN / 3 + 1)
    );
    for uri in [
        "/issuers/seoul/offers",
        "/issuers/seoul/credential",
        "/issuers/seoul/credentials/x/revoke",
    ] {
        let (status, _) = send(&w, post_json(uri, None, big.clone()), &["Zorblax7Big"]).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{uri}");
    }
}
