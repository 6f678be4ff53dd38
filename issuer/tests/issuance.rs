//! The issuer end to end: OpenID4VCI for every credential type, status changes seen by a
//! verifier, concurrency, access control, protocol errors, audit and data minimisation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use axum::http::StatusCode;
use common::{MINISTRIES, World, now, world};
use dojang_core::compact::{self, Binding, HeldCompact};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::oid4vci::{self, ProofKey};
use dojang_core::sd_jwt::vc;
use dojang_core::sd_jwt::{HeldSdJwt, VerifyOptions};
use dojang_core::status::token::TokenStatus;
use dojang_core::verdict::ReasonCode;
use dojang_verifier::{LedgerKeys, check_status, status_reason};
use serde_json::{Value, json};

/// The raw status list token the registry publishes for `uri`.
async fn status_token(world: &World, uri: &str) -> String {
    let list_id = uri.rsplit('/').next().unwrap();
    reqwest::Client::new()
        .get(format!("{}/status-lists/{list_id}", world.registry_url))
        .header("accept", "application/statuslist+jwt")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A verifier's view: the credential's current status from the registry.
async fn status_seen_by_verifier(world: &World, credential: &str) -> TokenStatus {
    let state = world.registry.state().await.clone();
    let verified = vc::verify(credential, &LedgerKeys(&state), &VerifyOptions::at(now())).unwrap();
    let reference = verified.status.unwrap();
    let issuer = dojang_core::Did::parse(&verified.issuer).unwrap();
    let key = state.assertion_key_at(&issuer, None, u64::MAX).unwrap();
    check_status(
        &reference,
        &status_token(world, &reference.uri).await,
        &key,
        now(),
    )
    .unwrap()
}

/// The OAuth `error` code of an answer.
fn error(a: &common::Answer) -> String {
    a.json["error"].as_str().unwrap_or_default().to_owned()
}

async fn credential_id(world: &World, slug: &str) -> String {
    let listed = world
        .operator(
            "GET",
            &format!("/issuers/{slug}/credentials"),
            Some(&world.tokens[slug]),
            Value::Null,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    listed.json[0]["id"].as_str().unwrap().to_owned()
}

async fn change(world: &World, slug: &str, id: &str, action: &str, reason: &str) -> common::Answer {
    world
        .operator(
            "POST",
            &format!("/issuers/{slug}/credentials/{id}/{action}"),
            Some(&world.tokens[slug]),
            json!({"reason": reason}),
        )
        .await
}

#[tokio::test]
async fn every_type_is_issued_verified_revoked_and_seen_revoked() {
    every_type_story(&world(false).await.unwrap()).await;
}

/// Each ministry issues its type over OpenID4VCI; the credential and its QR form verify against
/// the ledger with one status entry; a revocation is published and seen by verifiers.
async fn every_type_story(world: &World) {
    for (slug, name, type_id) in MINISTRIES {
        let holder = SecretKey::generate(Algorithm::EdDsa).unwrap();
        let (offer, tx_code) = world.offer(slug, type_id, true).await;
        assert_eq!(
            offer.credential_issuer,
            format!("{}/issuers/{slug}", common::PUBLIC_URL)
        );
        let (credential, qr) = world.redeem_both(&offer, tx_code.as_deref(), &holder).await;

        // The credential verifies against the ledger, bound to the holder's key, with the
        // status reference the registry serves.
        let state = world.registry.state().await.clone();
        let verified =
            vc::verify(&credential, &LedgerKeys(&state), &VerifyOptions::at(now())).unwrap();
        let ty = dojang_schemas::Catalog::builtin().get(type_id).unwrap();
        assert_eq!(verified.vct, ty.descriptor().vct);
        assert_eq!(verified.holder_key.as_ref(), Some(holder.public_key()));
        let held = HeldSdJwt::parse(&credential).unwrap();
        assert_eq!(
            held.claims().get("vct").and_then(Value::as_str),
            Some(ty.descriptor().vct.as_str())
        );
        for (claim, value) in ty.example() {
            assert_eq!(
                held.claims().get(claim),
                Some(value),
                "{type_id}: claim {claim}"
            );
        }
        assert_eq!(
            status_seen_by_verifier(world, &credential).await,
            TokenStatus::Valid,
            "{name}"
        );

        // The compact credential carries the same claims and the same status entry, and a QR
        // presentation of every claim verifies against the ledger.
        let compact = HeldCompact::parse(&qr).unwrap();
        assert_eq!(compact.vct(), ty.descriptor().vct);
        assert_eq!(
            compact.status(),
            verified.status.as_ref(),
            "{name}: one status index"
        );
        let binding = Binding {
            at: now(),
            challenge: None,
        };
        let presentation = compact
            .present(&compact.disclosable(), &binding, &holder)
            .unwrap();
        let shown = compact::verify(
            &presentation,
            &LedgerKeys(&state),
            &compact::VerifyOptions::at(now()),
        )
        .unwrap();
        assert_eq!(
            &shown.claims,
            ty.example(),
            "{name}: every claim, as issued"
        );
        assert_eq!(&shown.holder_key, holder.public_key());

        let id = credential_id(world, slug).await;
        let revoked = change(world, slug, &id, "revoke", "lost").await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.json);
        assert_eq!(revoked.json["status"], "revoked");
        let status = status_seen_by_verifier(world, &credential).await;
        assert_eq!(status, TokenStatus::Invalid, "{name}: revocation published");
        assert_eq!(status_reason(status), Some(ReasonCode::Revoked));
        let reference = shown.status.unwrap();
        let issuer_key = state
            .assertion_key_at(
                &dojang_core::Did::parse(shown.issuer).unwrap(),
                None,
                u64::MAX,
            )
            .unwrap();
        let token = status_token(world, &reference.uri).await;
        assert_eq!(
            check_status(&reference, &token, &issuer_key, now()).unwrap(),
            TokenStatus::Invalid,
            "{name}: the QR credential is revoked with it"
        );
    }
}

#[tokio::test]
async fn suspension_is_reversible_and_transitions_are_checked() {
    let world = world(false).await.unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let (offer, tx) = world.offer("mois", "mobile-id", true).await;
    let credential = world.redeem(&offer, tx.as_deref(), &holder).await;
    let id = credential_id(&world, "mois").await;
    assert_eq!(
        change(&world, "mois", &id, "unsuspend", "resolved")
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        change(&world, "mois", &id, "suspend", "investigation")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        status_seen_by_verifier(&world, &credential).await,
        TokenStatus::Suspended
    );
    assert_eq!(
        change(&world, "mois", &id, "suspend", "investigation")
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        change(&world, "mois", &id, "unsuspend", "resolved")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        status_seen_by_verifier(&world, &credential).await,
        TokenStatus::Valid
    );
    assert_eq!(
        change(&world, "mois", &id, "revoke", "stolen").await.status,
        StatusCode::OK
    );
    assert_eq!(
        change(&world, "mois", &id, "revoke", "stolen").await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        change(&world, "mois", &id, "unsuspend", "resolved")
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        change(&world, "mois", &id, "explode", "lost").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        change(&world, "mois", &id, "revoke", "because")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status_seen_by_verifier(&world, &credential).await,
        TokenStatus::Invalid
    );
}

async fn concurrent_issuance(postgres: bool) {
    let Some(world) = world(postgres).await else {
        println!("skipped: DOJANG_TEST_POSTGRES_URL is not set");
        return;
    };
    let world = std::sync::Arc::new(world);
    let mut offers = Vec::new();
    for _ in 0..100 {
        offers.push(world.offer("seoul", "citizen-card", false).await);
    }
    let tasks: Vec<_> = offers
        .into_iter()
        .map(|(offer, _)| {
            let world = world.clone();
            tokio::spawn(async move {
                let holder = SecretKey::generate(Algorithm::Es256).unwrap();
                world.redeem(&offer, None, &holder).await
            })
        })
        .collect();
    let state = world.registry.state().await.clone();
    let mut indices = HashSet::new();
    for task in tasks {
        let credential = task.await.unwrap();
        let verified =
            vc::verify(&credential, &LedgerKeys(&state), &VerifyOptions::at(now())).unwrap();
        let reference = verified.status.unwrap();
        assert!(
            indices.insert((reference.uri, reference.idx)),
            "a status index was handed out twice"
        );
    }
    assert_eq!(indices.len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_issuances_on_sqlite() {
    concurrent_issuance(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_issuances_on_postgres() {
    concurrent_issuance(true).await;
}

#[tokio::test]
async fn operators_are_confined_to_their_issuer_and_types() {
    let world = world(false).await.unwrap();
    let claims = dojang_schemas::Catalog::builtin()
        .get("citizen-card")
        .unwrap()
        .example()
        .clone();
    let offer = |token: Option<String>, slug: &'static str, body: Value| {
        let world = &world;
        async move {
            world
                .operator(
                    "POST",
                    &format!("/issuers/{slug}/offers"),
                    token.as_deref(),
                    body,
                )
                .await
        }
    };
    let body = json!({"type": "citizen-card", "claims": claims});

    let missing = offer(None, "seoul", body.clone()).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers["www-authenticate"], "Bearer");
    let tampered = {
        let mut t = world.tokens["seoul"].clone();
        t.pop();
        t.push('x');
        t
    };
    assert_eq!(
        offer(Some(tampered), "seoul", body.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let (_, expired) = dojang_issuer::service::create_operator(
        world.service.db(),
        "seoul",
        "old",
        &["citizen-card".into()],
        Some(now() - 1),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(
        offer(Some(expired), "seoul", body.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );

    // HRD Korea's operator cannot act for Seoul, nor issue a type outside its scope.
    let hrdk = world.tokens["hrdk"].clone();
    assert_eq!(
        offer(Some(hrdk.clone()), "seoul", body.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        offer(Some(hrdk.clone()), "hrdk", body.clone()).await.status,
        StatusCode::FORBIDDEN
    );

    // Schema-invalid claims: 422 with the failing path.
    let mut bad = body.clone();
    bad["claims"]["card_number"] = json!("not-a-card");
    let invalid = offer(Some(world.tokens["seoul"].clone()), "seoul", bad).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.json["error"], "invalid_claims");
    assert_eq!(invalid.json["violations"][0]["path"], "/card_number");

    another_issuers_credential_is_out_of_reach(&world).await;
}

/// Seoul issues; HRD Korea can neither see nor change Seoul's credential, and Seoul finds it
/// by subject reference.
async fn another_issuers_credential_is_out_of_reach(world: &World) {
    let hrdk = world.tokens["hrdk"].clone();
    // Seoul issues; HRD Korea can neither see nor change Seoul's credential.
    let (seoul_offer, tx) = world.offer("seoul", "citizen-card", true).await;
    let credential = world
        .redeem(
            &seoul_offer,
            tx.as_deref(),
            &SecretKey::generate(Algorithm::Es256).unwrap(),
        )
        .await;
    let id = credential_id(world, "seoul").await;
    let forbidden = world
        .operator(
            "POST",
            &format!("/issuers/seoul/credentials/{id}/revoke"),
            Some(&hrdk),
            json!({"reason": "lost"}),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let hidden = world
        .operator(
            "POST",
            &format!("/issuers/hrdk/credentials/{id}/revoke"),
            Some(&hrdk),
            json!({"reason": "lost"}),
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        world
            .operator(
                "GET",
                "/issuers/seoul/credentials",
                Some(&hrdk),
                Value::Null
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_seen_by_verifier(world, &credential).await,
        TokenStatus::Valid,
        "nothing changed"
    );
    // Finding a citizen's credentials by subject reference.
    let found = world
        .operator(
            "GET",
            "/issuers/seoul/credentials?subject=SUBJECT-1",
            Some(&world.tokens["seoul"]),
            Value::Null,
        )
        .await;
    assert_eq!(found.json.as_array().unwrap().len(), 1);
    let none = world
        .operator(
            "GET",
            "/issuers/seoul/credentials?subject=OTHER",
            Some(&world.tokens["seoul"]),
            Value::Null,
        )
        .await;
    assert!(none.json.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn token_endpoint_errors_follow_the_spec() {
    let world = world(false).await.unwrap();
    let (offer, tx) = world.offer("keis", "job-badge", true).await;
    let code = offer.grants.pre_authorized_code.pre_authorized_code.clone();
    let tx = tx.unwrap();
    let grant = oid4vci::PRE_AUTHORIZED_GRANT;

    let a = world
        .token(
            "keis",
            &[("grant_type", "authorization_code"), ("code", "x")],
        )
        .await;
    assert_eq!(
        (a.status, error(&a)),
        (StatusCode::BAD_REQUEST, "unsupported_grant_type".into())
    );
    let a = world.token("keis", &[("grant_type", grant)]).await;
    assert_eq!(error(&a), "invalid_request");
    let a = world
        .token(
            "keis",
            &[
                ("grant_type", grant),
                ("pre-authorized_code", "nope"),
                ("tx_code", &tx),
            ],
        )
        .await;
    assert_eq!(error(&a), "invalid_grant");
    let a = world
        .token(
            "keis",
            &[("grant_type", grant), ("pre-authorized_code", &code)],
        )
        .await;
    assert_eq!(error(&a), "invalid_request", "tx_code missing");
    let a = world
        .token(
            "keis",
            &[
                ("grant_type", grant),
                ("pre-authorized_code", &code),
                ("tx_code", "000000x"),
            ],
        )
        .await;
    assert_eq!(error(&a), "invalid_grant", "wrong tx_code");
    // The code belongs to KEIS: presented to Seoul it is unknown.
    let a = world
        .token(
            "seoul",
            &[
                ("grant_type", grant),
                ("pre-authorized_code", &code),
                ("tx_code", &tx),
            ],
        )
        .await;
    assert_eq!(error(&a), "invalid_grant");
    let a = world
        .token(
            "keis",
            &[
                ("grant_type", grant),
                ("pre-authorized_code", &code),
                ("tx_code", &tx),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers["cache-control"], "no-store");
    assert_eq!(a.json["token_type"], "Bearer");
    let a = world
        .token(
            "keis",
            &[
                ("grant_type", grant),
                ("pre-authorized_code", &code),
                ("tx_code", &tx),
            ],
        )
        .await;
    assert_eq!(error(&a), "invalid_grant", "replayed code");

    transaction_codes_are_expected_and_limited(&world).await;
}

/// A transaction code only where the offer asks for one, and five wrong ones lock the offer.
async fn transaction_codes_are_expected_and_limited(world: &World) {
    let grant = oid4vci::PRE_AUTHORIZED_GRANT;
    // Without a transaction code in the offer, sending one is an invalid request.
    let (plain, none) = world.offer("keis", "job-badge", false).await;
    assert!(none.is_none());
    let plain_code = plain.grants.pre_authorized_code.pre_authorized_code.clone();
    let a = world
        .token(
            "keis",
            &[
                ("grant_type", grant),
                ("pre-authorized_code", &plain_code),
                ("tx_code", "123456"),
            ],
        )
        .await;
    assert_eq!(error(&a), "invalid_request");

    // Five wrong transaction codes lock the offer, even for the right code afterwards.
    let (locked, right) = world.offer("keis", "job-badge", true).await;
    let locked_code = locked
        .grants
        .pre_authorized_code
        .pre_authorized_code
        .clone();
    for _ in 0..5 {
        world
            .token(
                "keis",
                &[
                    ("grant_type", grant),
                    ("pre-authorized_code", &locked_code),
                    ("tx_code", "zzzzzz"),
                ],
            )
            .await;
    }
    let a = world
        .token(
            "keis",
            &[
                ("grant_type", grant),
                ("pre-authorized_code", &locked_code),
                ("tx_code", right.as_deref().unwrap()),
            ],
        )
        .await;
    assert_eq!(error(&a), "invalid_grant");
}

/// A request for HRD Korea's qualification with one key proof.
fn request(proof: String) -> Value {
    json!({"credential_configuration_id": "qualification", "proofs": {"jwt": [proof]}})
}

#[tokio::test]
async fn credential_endpoint_errors_follow_the_spec() {
    let world = world(false).await.unwrap();
    let (offer, tx) = world.offer("hrdk", "qualification", true).await;
    let code = offer.grants.pre_authorized_code.pre_authorized_code.clone();
    let token = world
        .token(
            "hrdk",
            &[
                ("grant_type", oid4vci::PRE_AUTHORIZED_GRANT),
                ("pre-authorized_code", &code),
                ("tx_code", tx.as_deref().unwrap()),
            ],
        )
        .await
        .json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let aud = offer.credential_issuer.clone();

    let nonce = world.nonce("hrdk").await;
    let good = oid4vci::sign_proof(&holder, ProofKey::Jwk, &aud, &nonce, now()).unwrap();
    let a = world.credential("hrdk", None, request(good.clone())).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = world
        .credential("hrdk", Some("forged"), request(good.clone()))
        .await;
    assert_eq!(
        (a.status, a.headers["www-authenticate"].to_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "Bearer error=\"invalid_token\"")
    );
    let a = world
        .credential("keis", Some(&token), request(good.clone()))
        .await;
    assert_eq!(
        a.status,
        StatusCode::UNAUTHORIZED,
        "a token for HRD Korea is invalid at KEIS"
    );
    let a = world
        .credential(
            "hrdk",
            Some(&token),
            json!({"proofs": {"jwt": [good.clone()]}}),
        )
        .await;
    assert_eq!(error(&a), "invalid_credential_request");
    let a = world
        .credential(
            "hrdk",
            Some(&token),
            json!({"credential_configuration_id": "mobile-id", "proofs": {"jwt": [good.clone()]}}),
        )
        .await;
    assert_eq!(error(&a), "unknown_credential_configuration");
    let a = world
        .credential(
            "hrdk",
            Some(&token),
            json!({"credential_configuration_id": "qualification"}),
        )
        .await;
    assert_eq!(error(&a), "invalid_proof", "no proof");

    faulty_proofs_are_refused(&world, &token, &holder, &aud).await;
    a_good_proof_works_once(&world, &token, &holder, &aud, good).await;
}

/// Key proofs with no nonce, an unknown nonce, the wrong audience, or signed by another key.
async fn faulty_proofs_are_refused(world: &World, token: &str, holder: &SecretKey, aud: &str) {
    // Proofs: no nonce, unknown nonce, wrong audience, signed by another key.
    let no_nonce = dojang_core::jws::sign(
        dojang_core::jws::JwsHeader {
            jwk: Some(dojang_core::Jwk::from_public_key(holder.public_key())),
            ..dojang_core::jws::JwsHeader::new(Some(oid4vci::PROOF_TYP), None)
        },
        json!({"aud": aud, "iat": now()}).to_string().as_bytes(),
        holder,
    )
    .unwrap();
    assert_eq!(
        error(
            &world
                .credential("hrdk", Some(token), request(no_nonce))
                .await
        ),
        "invalid_proof"
    );
    let stale = oid4vci::sign_proof(holder, ProofKey::Jwk, aud, "never-issued", now()).unwrap();
    assert_eq!(
        error(&world.credential("hrdk", Some(token), request(stale)).await),
        "invalid_nonce"
    );
    let nonce2 = world.nonce("hrdk").await;
    let elsewhere = oid4vci::sign_proof(
        holder,
        ProofKey::Jwk,
        "https://evil.example",
        &nonce2,
        now(),
    )
    .unwrap();
    assert_eq!(
        error(
            &world
                .credential("hrdk", Some(token), request(elsewhere))
                .await
        ),
        "invalid_proof"
    );
    let thief = SecretKey::generate(Algorithm::Es256).unwrap();
    let mut forged_header = dojang_core::jws::JwsHeader::new(Some(oid4vci::PROOF_TYP), None);
    forged_header.jwk = Some(dojang_core::Jwk::from_public_key(holder.public_key()));
    let forged = dojang_core::jws::sign(
        forged_header,
        json!({"aud": aud, "iat": now(), "nonce": nonce2})
            .to_string()
            .as_bytes(),
        &thief,
    )
    .unwrap();
    assert_eq!(
        error(&world.credential("hrdk", Some(token), request(forged)).await),
        "invalid_proof"
    );
}

/// The good proof works once; its nonce cannot be used again, nor the offer.
async fn a_good_proof_works_once(
    world: &World,
    token: &str,
    holder: &SecretKey,
    aud: &str,
    good: String,
) {
    // The good proof works once; its nonce cannot be used again, nor the offer.
    let a = world
        .credential("hrdk", Some(token), request(good.clone()))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let nonce3 = world.nonce("hrdk").await;
    let again = oid4vci::sign_proof(holder, ProofKey::Jwk, aud, &nonce3, now()).unwrap();
    assert_eq!(
        error(&world.credential("hrdk", Some(token), request(again)).await),
        "credential_request_denied"
    );
    let (offer2, tx2) = world.offer("hrdk", "qualification", true).await;
    let code2 = offer2
        .grants
        .pre_authorized_code
        .pre_authorized_code
        .clone();
    let token2 = world
        .token(
            "hrdk",
            &[
                ("grant_type", oid4vci::PRE_AUTHORIZED_GRANT),
                ("pre-authorized_code", &code2),
                ("tx_code", tx2.as_deref().unwrap()),
            ],
        )
        .await
        .json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        error(&world.credential("hrdk", Some(&token2), request(good)).await),
        "invalid_nonce",
        "a used nonce is refused on a fresh offer"
    );
    // The draft-13 single `proof` form is still understood.
    let nonce4 = world.nonce("hrdk").await;
    let legacy = oid4vci::sign_proof(holder, ProofKey::Jwk, aud, &nonce4, now()).unwrap();
    let a = world
        .credential("hrdk", Some(&token2), json!({"credential_configuration_id": "qualification", "proof": {"proof_type": "jwt", "jwt": legacy}}))
        .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn metadata_describes_every_configuration() {
    let world = world(false).await.unwrap();
    for path in [
        "/.well-known/openid-credential-issuer/issuers/seoul",
        "/issuers/seoul/.well-known/openid-credential-issuer",
    ] {
        let a = world
            .call(
                axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(
            a.json["credential_issuer"],
            format!("{}/issuers/seoul", common::PUBLIC_URL)
        );
        assert_eq!(
            a.json["nonce_endpoint"],
            format!("{}/issuers/seoul/nonce", common::PUBLIC_URL)
        );
        let config = &a.json["credential_configurations_supported"]["citizen-card"];
        assert_eq!(config["format"], "dc+sd-jwt");
        assert_eq!(config["vct"], "urn:dojang:vct:citizen-card:1");
        assert_eq!(
            config["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"],
            json!(["ES256", "EdDSA"])
        );
        let qr = &a.json["credential_configurations_supported"]["citizen-card-qr"];
        assert_eq!(qr["format"], "dojang-qr");
        assert_eq!(qr["vct"], config["vct"]);
        assert_eq!(
            a.json["credential_configurations_supported"]
                .as_object()
                .unwrap()
                .len(),
            2,
            "seoul issues citizen cards, in two formats"
        );
    }
    let a = world
        .call(
            axum::http::Request::get("/.well-known/oauth-authorization-server/issuers/seoul")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        a.json["pre-authorized_grant_anonymous_access_supported"],
        true
    );
    assert_eq!(
        a.json["token_endpoint"],
        format!("{}/issuers/seoul/token", common::PUBLIC_URL)
    );
    let a = world
        .call(
            axum::http::Request::get("/issuers/nowhere/.well-known/openid-credential-issuer")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let api = world
        .call(
            axum::http::Request::get("/openapi/issuer.json")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(api.json["paths"]["/issuers/{slug}/credential"].is_object());
}

#[tokio::test]
async fn unaccredited_types_are_refused() {
    let world = world(false).await.unwrap();
    // Seoul's operator, given a token for mobile-id, still cannot offer it: Seoul is not
    // accredited for mobile-id on the registry.
    let (_, token) = dojang_issuer::service::create_operator(
        world.service.db(),
        "seoul",
        "eager",
        &["mobile-id".into()],
        None,
        now(),
    )
    .await
    .unwrap();
    let claims = dojang_schemas::Catalog::builtin()
        .get("mobile-id")
        .unwrap()
        .example()
        .clone();
    let a = world
        .operator(
            "POST",
            "/issuers/seoul/offers",
            Some(&token),
            json!({"type": "mobile-id", "claims": claims}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(
        a.json["message"]
            .as_str()
            .unwrap()
            .contains("not accredited")
    );
}

#[tokio::test]
async fn audit_is_anchored_without_personal_data_and_claims_are_not_kept() {
    let world = world(false).await.unwrap();
    let (offer, tx) = world.offer("seoul", "citizen-card", true).await;
    let (credential, _) = world
        .redeem_both(
            &offer,
            tx.as_deref(),
            &SecretKey::generate(Algorithm::Es256).unwrap(),
        )
        .await;
    let id = credential_id(&world, "seoul").await;
    change(&world, "seoul", &id, "revoke", "superseded").await;
    assert_eq!(world.service.anchor_audit().await.unwrap(), 2);
    assert_eq!(
        world.service.anchor_audit().await.unwrap(),
        0,
        "nothing left to anchor"
    );

    let size = world.registry.size().await.unwrap();
    let leaf = world.registry.leaf(size - 1).await.unwrap();
    let entry = dojang_ledger::entry::Entry::parse(&leaf.entry).unwrap();
    let dojang_ledger::entry::Operation::Audit { counts, .. } = entry.operation() else {
        panic!("not an audit entry")
    };
    assert_eq!(counts.get("issued:citizen-card"), Some(&1));
    assert_eq!(counts.get("revoked:citizen-card"), Some(&1));
    assert_eq!(counts.get("reason:superseded"), Some(&1));
    let held = HeldSdJwt::parse(&credential).unwrap();
    for value in held.claims().values().filter_map(Value::as_str) {
        assert!(
            !leaf.entry.contains(value),
            "personal data in the audit entry"
        );
    }
    // The issuer's database holds no claims: the offer dropped them when the credential was
    // issued in both formats, and the credential record never had them. (One format only: see
    // `claims_wait_for_the_other_format_then_go`.)
    let url = format!("sqlite://{}", world._dir.path().join("issuer.db").display());
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (offer_claims,): (Option<String>,) =
        sqlx::query_as("SELECT claims_sealed FROM issuer_offers")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let (record_claims,): (Option<String>,) =
        sqlx::query_as("SELECT claims_sealed FROM issuer_credentials")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!((offer_claims, record_claims), (None, None));
    let dump: Vec<(String,)> =
        sqlx::query_as("SELECT COALESCE(subject_ref, '') FROM issuer_credentials")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert!(
        !dump[0].0.contains("SUBJECT-1"),
        "subject references are stored hashed"
    );
}

#[tokio::test]
async fn claims_wait_for_the_other_format_then_go() {
    let world = world(false).await.unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let (offer, tx) = world.offer("seoul", "citizen-card", true).await;
    assert_eq!(
        offer.credential_configuration_ids,
        ["citizen-card", "citizen-card-qr"]
    );
    let access = world.access_token(&offer, tx.as_deref()).await;
    world
        .request_credential(&offer, &access, "citizen-card", &holder)
        .await;
    let offer_claims = || async {
        let url = format!("sqlite://{}", world._dir.path().join("issuer.db").display());
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let (claims,): (Option<String>,) =
            sqlx::query_as("SELECT claims_sealed FROM issuer_offers")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        claims
    };
    assert!(
        offer_claims().await.is_some(),
        "kept for the compact format"
    );

    // The same format twice, or a format of another type, is refused.
    let ask = |configuration: &'static str| {
        let (world, access, holder) = (&world, &access, &holder);
        async move {
            let nonce = world.nonce("seoul").await;
            let proof = oid4vci::sign_proof(
                holder,
                ProofKey::Jwk,
                &format!("{}/issuers/seoul", common::PUBLIC_URL),
                &nonce,
                now(),
            )
            .unwrap();
            world
                .credential(
                    "seoul",
                    Some(access),
                    json!({"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}),
                )
                .await
        }
    };
    assert_eq!(
        error(&ask("citizen-card").await),
        "credential_request_denied"
    );
    assert_eq!(
        error(&ask("mobile-id-qr").await),
        "unknown_credential_configuration"
    );

    // Once no wallet could ask any more, the claims go.
    world
        .service
        .housekeeping(now() + 30 * 86_400)
        .await
        .unwrap();
    assert_eq!(offer_claims().await, None);
    let late = ask("citizen-card-qr").await;
    assert_eq!(error(&late), "credential_request_denied");
    assert!(
        late.json["error_description"]
            .as_str()
            .unwrap()
            .contains("no longer holds")
    );
}

#[tokio::test]
async fn a_registry_refusal_changes_nothing() {
    let world = world(false).await.unwrap();
    let (offer, tx) = world.offer("seoul", "citizen-card", true).await;
    let credential = world
        .redeem(
            &offer,
            tx.as_deref(),
            &SecretKey::generate(Algorithm::Es256).unwrap(),
        )
        .await;
    let id = credential_id(&world, "seoul").await;
    // Seoul's DID is deactivated on the registry (by its own key, out of band): the registry
    // now refuses its status publications.
    let _ = &credential;
    let service_db = world.service.db().clone();
    let rows = service_db.issuers().await.unwrap();
    let seoul = rows.iter().find(|r| r.slug == "seoul").unwrap();
    let sealed: dojang_core::seal::PassphraseSealed =
        serde_json::from_str(&seoul.sealed_key).unwrap();
    let key = SecretKey::from_bytes(
        Algorithm::Es256,
        &sealed
            .open(b"issuer passphrase", "dojang-issuer-key:seoul")
            .unwrap(),
    )
    .unwrap();
    let did = dojang_core::Did::parse(&seoul.did).unwrap();
    let prev = {
        let state = world.registry.state().await;
        let index = state.did(&did).unwrap().versions.last().unwrap().index;
        drop(state);
        dojang_core::b64::encode(world.registry.leaf(index).await.unwrap().hash())
    };
    let deactivate = dojang_ledger::entry::Operation::DidDeactivate {
        did: did.clone(),
        prev,
    };
    world
        .registry
        .submit(
            dojang_ledger::entry::Entry::sign(&deactivate, &key, &did.with_fragment("key-1"))
                .unwrap(),
        )
        .await
        .unwrap();
    let a = change(&world, "seoul", &id, "revoke", "lost").await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.json);
    let listed = world
        .operator(
            "GET",
            "/issuers/seoul/credentials",
            Some(&world.tokens["seoul"]),
            Value::Null,
        )
        .await;
    assert_eq!(
        listed.json[0]["status"], "valid",
        "the refused revocation changed nothing"
    );
}

#[tokio::test]
async fn an_mdoc_needs_a_p256_device_key_and_a_published_document_signer() {
    let world = world(false).await.unwrap();
    let (offer, tx_code) = world.offer("mois", "mobile-id", true).await;
    assert_eq!(
        offer.credential_configuration_ids,
        ["mobile-id", "mobile-id-qr", "mobile-id-mdoc"]
    );
    let access = world.access_token(&offer, tx_code.as_deref()).await;
    let ask = |holder: SecretKey| {
        let (world, offer, access) = (&world, &offer, &access);
        async move {
            world
                .try_credential(offer, access, "mobile-id-mdoc", &holder)
                .await
        }
    };
    // An Ed25519 key cannot be an mdoc's device key.
    let answer = ask(SecretKey::generate(Algorithm::EdDsa).unwrap()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json["error"], "invalid_proof", "{}", answer.json);
    // The root authority published no document-signer certificate for this issuer's key.
    let answer = ask(SecretKey::generate(Algorithm::Es256).unwrap()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json["error"], "credential_request_denied",
        "{}",
        answer.json
    );
    // Neither refusal used up the offer: the SD-JWT VC is still issued.
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    world
        .request_credential(&offer, &access, "mobile-id", &holder)
        .await;
    // A type without a document type has no mdoc configuration.
    let (offer, tx_code) = world.offer("seoul", "citizen-card", true).await;
    let access = world.access_token(&offer, tx_code.as_deref()).await;
    let answer = world
        .try_credential(&offer, &access, "citizen-card-mdoc", &holder)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json["error"], "unknown_credential_configuration");
}

#[tokio::test]
async fn every_type_is_issued_and_revoked_with_issuer_keys_in_an_hsm() {
    let Some(hsm) = dojang_testkit::hsm::softhsm() else {
        return;
    };
    for postgres in [false, true] {
        let token = hsm.token("issuers");
        let key = |slug: &str| hsm.uri(&token, slug);
        let Some(world) = common::world_in_hsm(postgres, &key).await else {
            continue;
        };
        every_type_story(&world).await;
        // The database names each key by its URI and holds no key material, and no PIN.
        let db = dojang_issuer::db::Db::open(&world.database_url)
            .await
            .unwrap();
        for row in db.issuers().await.unwrap() {
            assert_eq!(row.sealed_key, "", "{}", row.slug);
            assert_eq!(row.key_uri, Some(key(&row.slug).to_string()));
            assert!(!row.key_uri.unwrap().contains(dojang_testkit::hsm::USER_PIN));
        }
    }
}

#[tokio::test]
async fn a_token_that_goes_away_refuses_the_write_and_service_resumes() {
    let Some(hsm) = dojang_testkit::hsm::softhsm() else {
        return;
    };
    let token = hsm.token("failover");
    let key = |slug: &str| hsm.uri(&token, slug);
    let world = common::world_in_hsm(false, &key).await.unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let (offer, tx) = world.offer("mois", "mobile-id", true).await;
    let credential = world.redeem(&offer, tx.as_deref(), &holder).await;
    let id = credential_id(&world, "mois").await;

    // The token goes away: its sessions lose their login, and the service's PIN no longer
    // opens it (SoftHSM2 has no unplugging; the security officer resets the user PIN instead).
    hsm.set_user_pin(&token, "elsewhere-0000");
    let refused = change(&world, "mois", &id, "revoke", "lost").await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.json
    );
    assert_eq!(refused.json["error"], "key_unavailable");
    assert!(
        refused.json["message"]
            .as_str()
            .unwrap()
            .contains("nothing was changed")
    );
    // Nothing was written: the credential is valid in the issuer's records and on the ledger.
    let listed = world
        .operator(
            "GET",
            "/issuers/mois/credentials",
            Some(&world.tokens["mois"]),
            Value::Null,
        )
        .await;
    assert_eq!(listed.json[0]["status"], "valid", "{}", listed.json);
    assert_eq!(
        status_seen_by_verifier(&world, &credential).await,
        TokenStatus::Valid
    );

    // The token is back: the same request goes through, without a restart.
    hsm.set_user_pin(&token, dojang_testkit::hsm::USER_PIN);
    let revoked = change(&world, "mois", &id, "revoke", "lost").await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.json);
    assert_eq!(
        status_seen_by_verifier(&world, &credential).await,
        TokenStatus::Invalid
    );
}

/// The `kid` in a credential's JWS header.
fn header_kid(credential: &str) -> String {
    let header = credential.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&dojang_core::b64::decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// A key rotation of `world`'s `mois`: to the key on the token `new_key` names, or to a new
/// sealed one. Credentials signed before verify by key history; the new key signs from then
/// on; a credential signed with the old key afterwards is refused; the old credential is
/// revoked under a list the new key signs. A second service over the same database, loaded
/// before the rotation, cannot rotate from the old key (nothing changes), and picks up the new
/// one.
async fn rotation_story(world: &World, new_key: Option<&dojang_pkcs11::KeyUri>) {
    let (slug, type_id) = ("mois", "mobile-id");
    let did = world
        .service
        .issuers()
        .into_iter()
        .find(|(s, ..)| s == slug)
        .unwrap()
        .2;
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let (offer, tx) = world.offer(slug, type_id, true).await;
    let before = world.redeem(&offer, tx.as_deref(), &holder).await;
    let old_id = credential_id(world, slug).await;
    assert_eq!(header_kid(&before), format!("{did}#key-1"));
    let db = dojang_issuer::db::Db::open(&world.database_url)
        .await
        .unwrap();
    let row = |db: &dojang_issuer::db::Db| {
        let db = db.clone();
        async move {
            db.issuers()
                .await
                .unwrap()
                .into_iter()
                .find(|r| r.slug == slug)
                .unwrap()
        }
    };
    let old_key = common::issuer_key(&row(&db).await);
    let stale = dojang_issuer::IssuerService::open(common::config(
        &world.database_url,
        &world.registry_url,
    ))
    .await
    .unwrap();

    let rotated = world.service.rotate_key(slug, new_key).await.unwrap();
    assert_eq!(rotated.previous_kid, format!("{did}#key-1"));
    assert_eq!(rotated.kid, format!("{did}#key-2"));
    let state = world.registry.state().await.clone();
    assert_eq!(
        state.assertion_key_at(&did, None, u64::MAX).unwrap(),
        rotated.public_key,
        "the DID names the new key"
    );
    let (offer, tx) = world.offer(slug, type_id, true).await;
    let after = world.redeem(&offer, tx.as_deref(), &holder).await;
    assert_eq!(header_kid(&after), format!("{did}#key-2"));
    for credential in [&before, &after] {
        vc::verify(credential, &LedgerKeys(&state), &VerifyOptions::at(now())).unwrap();
    }

    // The old key, still able to sign, no longer makes credentials anyone accepts.
    let ty = dojang_schemas::Catalog::builtin().get(type_id).unwrap();
    let forged = ty
        .draft(
            ty.example().clone(),
            dojang_schemas::Issuance {
                issuer: did.to_string(),
                issued_at: now() + 2,
                valid_until: None,
                holder_key: Some(holder.public_key().clone()),
                status: None,
            },
        )
        .unwrap()
        .sign(old_key.as_ref(), &format!("{did}#key-1"))
        .unwrap();
    let refused =
        vc::verify(&forged, &LedgerKeys(&state), &VerifyOptions::at(now() + 2)).unwrap_err();
    assert!(
        matches!(
            refused,
            dojang_core::sd_jwt::SdJwtError::IssuerKey(
                dojang_core::sd_jwt::IssuerKeyError::KeyNotValidAtIssuance { .. }
            )
        ),
        "{refused}"
    );

    // The credential from before the rotation is revoked under a list the new key signs.
    let revoked = change(world, slug, &old_id, "revoke", "lost").await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.json);
    assert_eq!(
        status_seen_by_verifier(world, &before).await,
        TokenStatus::Invalid
    );

    let stored = row(&db).await;
    assert_eq!(stored.key_id, "key-2");
    assert_eq!(stored.retired_keys.len(), 1);
    match new_key {
        Some(uri) => {
            assert_eq!(stored.key_uri, Some(uri.to_string()));
            assert_eq!(stored.sealed_key, "");
        }
        None => assert!(stored.key_uri.is_none() && !stored.sealed_key.is_empty()),
    }

    // The service loaded before the rotation: rotating from the old key is refused and
    // changes nothing; it then loads the new key.
    let conflict = stale.rotate_key(slug, None).await.unwrap_err();
    assert!(
        matches!(conflict, dojang_issuer::service::AdminError::Conflict(_)),
        "{conflict:?}"
    );
    assert_eq!(row(&db).await.key_id, "key-2");
    assert_eq!(
        world
            .registry
            .state()
            .await
            .assertion_key_at(&did, None, u64::MAX)
            .unwrap(),
        rotated.public_key
    );
    assert_eq!(stale.reload_keys().await.unwrap(), vec![slug.to_owned()]);
    let metadata = stale.jwt_vc_issuer(slug).await.unwrap();
    assert_eq!(metadata["jwks"]["keys"][0]["kid"], rotated.kid);
    assert!(stale.reload_keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_rotated_sealed_key_signs_from_then_on_and_old_credentials_still_verify() {
    rotation_story(&world(false).await.unwrap(), None).await;
}

#[tokio::test]
async fn an_hsm_key_is_rotated_to_a_new_hsm_key_on_sqlite_and_postgresql() {
    let Some(hsm) = dojang_testkit::hsm::softhsm() else {
        return;
    };
    for postgres in [false, true] {
        let token = hsm.token("rotation");
        let key = |slug: &str| hsm.uri(&token, slug);
        let Some(world) = common::world_in_hsm(postgres, &key).await else {
            continue;
        };
        rotation_story(&world, Some(&hsm.uri(&token, "mois-2"))).await;
        // Rotating to the key already signing is refused, and changes nothing.
        let same = world
            .service
            .rotate_key("mois", Some(&hsm.uri(&token, "mois-2")))
            .await
            .unwrap_err();
        assert!(
            matches!(&same, dojang_issuer::service::AdminError::BadRequest(m) if m.contains("the new key is the current key")),
            "{same:?}"
        );
        let metadata = world.service.jwt_vc_issuer("mois").await.unwrap();
        assert!(
            metadata["jwks"]["keys"][0]["kid"]
                .as_str()
                .unwrap()
                .ends_with("#key-2")
        );
        // The new key was made on the token, never to leave it.
        hsm.key_stays_on_token(&token, "mois-2").unwrap();
    }
}

/// An issuer commits its changed lists by a `status.root`; a verifier's bundle then carries
/// them as bits beside the root, and its delta only the entries a revocation changed.
#[tokio::test]
async fn changed_lists_are_committed_and_verifiers_read_them_beside_the_root() {
    let world = world(false).await.unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let (offer, tx) = world.offer("mois", "mobile-id", true).await;
    let credential = world.redeem(&offer, tx.as_deref(), &holder).await;
    let committed = world.service.commit_status_lists(now()).await.unwrap();
    assert_eq!(committed, vec!["mois".to_owned()]);
    assert!(
        world
            .service
            .commit_status_lists(now())
            .await
            .unwrap()
            .is_empty(),
        "nothing changed, nothing committed"
    );

    let anchor = world.registry.trust_anchor();
    let trust =
        dojang_verifier::Trust::load(&world.registry.bundle(None).await.unwrap(), anchor).unwrap();
    let state = world.registry.state().await.clone();
    let verified = vc::verify(&credential, &LedgerKeys(&state), &VerifyOptions::at(now())).unwrap();
    let reference = verified.status.unwrap();
    let list_id = reference.uri.rsplit('/').next().unwrap().to_owned();
    assert!(
        trust.state().status_list(&list_id).is_none(),
        "carried beside the root, not as an entry"
    );
    let seen = |trust: &dojang_verifier::Trust| trust.status(&verified.issuer, &reference, now());
    assert_eq!(
        seen(&trust),
        dojang_verifier::trust::StatusLookup::Known(TokenStatus::Valid)
    );

    let id = credential_id(&world, "mois").await;
    assert_eq!(
        change(&world, "mois", &id, "revoke", "stolen").await.status,
        StatusCode::OK
    );
    assert_eq!(
        world.service.commit_status_lists(now()).await.unwrap(),
        vec!["mois".to_owned()]
    );
    let delta = world.registry.bundle(Some(trust.size())).await.unwrap();
    let mut updated = trust.clone();
    updated.update(&delta).unwrap();
    assert_eq!(
        seen(&updated),
        dojang_verifier::trust::StatusLookup::Known(TokenStatus::Invalid)
    );
    assert!(
        updated.state().status_list(&list_id).is_none(),
        "patched beside the new root"
    );
}
