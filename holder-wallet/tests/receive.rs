//! The wallet against a real issuer and registry over HTTP: receiving an offer (URI and QR
//! image), both formats bound to one fresh key, presenting offline, following revocation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dojang_core::compact::{self, VerifyOptions};
use dojang_core::did::Relationship;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::seal::KdfParams;
use dojang_issuer::db::Db;
use dojang_issuer::service::{NewOffer, Operator, Reason, StatusAction, create_issuer};
use dojang_issuer::{IssuerConfig, IssuerService, LedgerView};
use dojang_ledger::did::first_key_document;
use dojang_ledger::entry::{Entry, Operation};
use dojang_registry::service::Registry;
use dojang_verifier::LedgerKeys;
use dojang_wallet::receive::{self, ReceiveOptions};
use dojang_wallet::{Wallet, WalletError};

struct World {
    registry: Registry,
    issuer: IssuerService,
    operator: Operator,
    dir: tempfile::TempDir,
}

/// A loopback listener and its URL.
async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// A registry with a root authority, and Seoul's issuer accredited for citizen cards, both
/// serving HTTP on loopback.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let registry = dojang_testkit::registry::open(dir.path(), "registry.test/log").await;
    let (listener, registry_url) = listen().await;
    let app = dojang_registry::http::app(registry.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let root = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let (document, kid) = first_key_document(
        root.public_key(),
        &[
            Relationship::AssertionMethod,
            Relationship::CapabilityInvocation,
        ],
    );
    let root_did = document.id.clone();
    let genesis = Operation::Genesis {
        origin: "registry.test/log".into(),
        document,
    };
    registry
        .submit(Entry::sign(&genesis, &root, &kid).unwrap())
        .await
        .unwrap();

    let issuer_db = format!("sqlite://{}", dir.path().join("issuer.db").display());
    let db = Db::open(&issuer_db).await.unwrap();
    let client = LedgerView::http(&registry_url, &registry_url);
    let did = create_issuer(
        &db,
        &client,
        "pw",
        KdfParams::INSECURE_FOR_TESTS,
        dojang_issuer::service::NewIssuer {
            slug: "seoul",
            name: "Seoul Metropolitan Government",
            key: None,
        },
        now(),
    )
    .await
    .unwrap();
    let grant = Operation::Grant {
        grantor: root_did,
        subject: did,
        name: "Seoul Metropolitan Government".into(),
        types: vec!["citizen-card".into()],
        delegable: false,
        at: now(),
    };
    registry
        .submit(Entry::sign(&grant, &root, &kid).unwrap())
        .await
        .unwrap();

    let (listener, public) = listen().await;
    let mut config = IssuerConfig::new(
        &issuer_db,
        &public,
        client,
        zeroize::Zeroizing::new("pw".into()),
    );
    config.kdf = KdfParams::INSECURE_FOR_TESTS;
    let issuer = IssuerService::open(config).await.unwrap();
    let app = dojang_issuer::http::app(issuer.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let operator = Operator {
        id: "clerk".into(),
        name: "Mapo office".into(),
        issuer: "seoul".into(),
        types: vec!["citizen-card".into()],
    };
    World {
        registry,
        issuer,
        operator,
        dir,
    }
}

async fn new_offer(world: &World) -> (String, String) {
    let claims = dojang_schemas::Catalog::builtin()
        .get("citizen-card")
        .unwrap()
        .example()
        .clone();
    let new = NewOffer {
        type_id: "citizen-card".into(),
        claims,
        subject: Some("SC-2026-000123".into()),
        tx_code: true,
        idempotency_key: None,
    };
    let created = world
        .issuer
        .create_offer(&world.operator, "seoul", new, now())
        .await
        .unwrap();
    (created.credential_offer_uri, created.tx_code.unwrap())
}

#[tokio::test]
async fn an_offer_becomes_two_formats_bound_to_one_fresh_key() {
    let world = world().await;
    let wallet = Wallet::create(
        &world.dir.path().join("wallet.db"),
        b"citizen",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let (uri, tx_code) = new_offer(&world).await;
    let offer = receive::offer_from_text(&http, &uri).await.unwrap();
    let options = |tx_code| ReceiveOptions {
        tx_code,
        alg: Algorithm::Es256,
        now: now(),
    };

    // Without the transaction code the wallet asks for it; with a wrong one the issuer refuses.
    let error = receive::receive(&wallet, &http, &offer, options(None))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("transaction code"), "{error}");
    let error = receive::receive(&wallet, &http, &offer, options(Some("000000")))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, WalletError::Refused { code, .. } if code == "invalid_grant"),
        "{error}"
    );
    // The citizen is told what to do, in words, not `invalid_grant`.
    let plain = error.in_plain_words();
    assert!(
        plain.contains("6자리 코드") && plain.contains("6-digit code"),
        "{plain}"
    );
    assert!(!plain.contains("invalid_grant"), "{plain}");

    let card = receive::receive(&wallet, &http, &offer, options(Some(&tx_code)))
        .await
        .unwrap();
    assert!(card.sd_jwt.is_some() && card.compact.is_some());
    assert_eq!(card.vct, "urn:dojang:vct:citizen-card:1");
    assert_eq!(
        card.issuer_name.as_deref(),
        Some("Seoul Metropolitan Government")
    );
    // The issuer's metadata names the type in Korean and English: the wallet keeps both.
    assert_eq!(
        card.name.as_deref(),
        Some("서울시민카드 / Seoul Citizen Card")
    );
    assert!(card.issuer.starts_with("did:dojang:"));
    assert_eq!(card.status.as_ref().unwrap().status, "valid");
    assert_eq!(wallet.list().await.unwrap().len(), 1);
    // The same offer cannot be redeemed twice.
    assert!(
        receive::receive(&wallet, &http, &offer, options(Some(&tx_code)))
            .await
            .is_err()
    );

    // A second credential gets its own key: the two cannot be linked by key.
    let (uri2, tx2) = new_offer(&world).await;
    let png = dojang_wallet::qr::to_png(&uri2).unwrap();
    let offer2 = receive::offer_from_image(&http, &png).await.unwrap();
    let second = receive::receive(&wallet, &http, &offer2, options(Some(&tx2)))
        .await
        .unwrap();
    assert_ne!(second.key, card.key);

    // The QR presentation verifies against the ledger's key history.
    let presentation = wallet
        .present_qr(&card.id, &["name", "age_over_19"], None, now())
        .await
        .unwrap();
    let state = world.registry.state().await.clone();
    let verified = compact::verify(
        &presentation,
        &LedgerKeys(&state),
        &VerifyOptions::at(now()),
    )
    .unwrap();
    assert_eq!(verified.claims["age_over_19"], true);

    // Revoked at the office; the wallet sees it on its next refresh.
    let listed = world
        .issuer
        .credentials(&world.operator, "seoul", Some("SC-2026-000123"))
        .await
        .unwrap();
    world
        .issuer
        .change_status(
            &world.operator,
            "seoul",
            &listed[0].id,
            StatusAction::Revoke,
            Reason::Lost,
            now(),
        )
        .await
        .unwrap();
    let mut revoked = 0;
    for credential in wallet.credentials().await.unwrap() {
        let snapshot = receive::refresh_status(&wallet, &http, &credential.id, now())
            .await
            .unwrap();
        revoked += usize::from(snapshot.status == "revoked");
    }
    assert_eq!(revoked, 1, "exactly the revoked one");
    let summary = wallet.list().await.unwrap();
    assert!(
        summary
            .iter()
            .any(|s| s.status.as_ref().is_some_and(|(st, _)| st == "revoked"))
    );
}

#[tokio::test]
async fn strange_offers_are_refused_clearly() {
    let http = reqwest::Client::new();
    for text in [
        "",
        "https://example.com/no-offer",
        "openid-credential-offer://?credential_offer=%7Bnot-json",
    ] {
        assert!(matches!(
            receive::offer_from_text(&http, text).await,
            Err(WalletError::Protocol(_))
        ));
    }
    let png = dojang_wallet::qr::to_png("hello").unwrap();
    assert!(receive::offer_from_image(&http, &png).await.is_err());
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn an_openid4vp_request_gets_exactly_the_claims_asked_for() {
    use dojang_core::oid4vp::{AuthorizationRequest, DcqlQuery};
    use dojang_core::sd_jwt::{VerifyOptions as SdJwtOptions, vc};
    use dojang_wallet::openid4vp;
    use std::sync::{Arc, Mutex};

    let world = world().await;
    let wallet = Wallet::create(
        &world.dir.path().join("wallet.db"),
        b"citizen",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let (uri, tx_code) = new_offer(&world).await;
    let offer = receive::offer_from_text(&http, &uri).await.unwrap();
    let options = ReceiveOptions {
        tx_code: Some(&tx_code),
        alg: Algorithm::EdDsa,
        now: now(),
    };
    let card = receive::receive(&wallet, &http, &offer, options)
        .await
        .unwrap();

    // A verifier endpoint: checks the presentation against the ledger with its nonce and
    // client id, and keeps the claims it saw.
    let (listener, base) = listen().await;
    let response_uri = format!("{base}/vp/response");
    let query: DcqlQuery = serde_json::from_value(serde_json::json!({"credentials": [{
        "id": "card",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": ["urn:dojang:vct:citizen-card:1"]},
        "claims": [{"path": ["name"]}, {"path": ["age_over_19"]}]
    }]}))
    .unwrap();
    let request = AuthorizationRequest::new(&response_uri, "nonce-42", Some("state-7"), query);
    /// The claims the verifier saw, and the state it got back.
    type Seen = Option<(serde_json::Map<String, serde_json::Value>, String)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let state = world.registry.state().await.clone();
    let handler = {
        let (seen, client_id) = (seen.clone(), request.client_id.clone());
        move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| async move {
            let tokens: std::collections::BTreeMap<String, Vec<String>> =
                serde_json::from_str(&form["vp_token"]).unwrap();
            let options = SdJwtOptions::at(now()).require_key_binding(&client_id, "nonce-42");
            match vc::verify(&tokens["card"][0], &LedgerKeys(&state), &options) {
                Ok(verified) => {
                    *seen.lock().unwrap() = Some((verified.claims, form["state"].clone()));
                    axum::Json(serde_json::json!({"redirect_uri": "https://employer.example/done"}))
                        .into_response()
                }
                Err(e) => (axum::http::StatusCode::BAD_REQUEST, e.to_string()).into_response(),
            }
        }
    };
    use axum::response::IntoResponse;
    let app = axum::Router::new().route("/vp/response", axum::routing::post(handler));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let scanned = openid4vp::request_from_text(&request.to_uri()).unwrap();
    let found = openid4vp::matches(&wallet, &scanned).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].credential_id, card.id);
    let names: Vec<String> = found[0].disclosed.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["/name", "/age_over_19"]);
    let outcome = openid4vp::respond(&wallet, &http, &scanned, &found, now())
        .await
        .unwrap();
    assert_eq!(
        outcome.redirect_uri.as_deref(),
        Some("https://employer.example/done")
    );
    let (claims, state) = seen.lock().unwrap().clone().unwrap();
    assert_eq!(state, "state-7");
    assert_eq!(claims["name"], "김민지 Kim Minji");
    assert_eq!(claims["age_over_19"], true);
    assert!(
        !claims.contains_key("birthdate") && !claims.contains_key("address"),
        "nothing more"
    );
    let history = wallet.history(Some(&card.id)).await.unwrap();
    assert_eq!(
        history[0].presentation,
        dojang_wallet::PresentationMode::OpenId4Vp {
            client_id: request.client_id.clone()
        }
    );

    // A query no credential answers is refused before anything is sent.
    let mut other = request.clone();
    other.dcql_query.credentials[0].meta =
        serde_json::from_value(serde_json::json!({"vct_values": ["urn:other"]})).unwrap();
    let error = openid4vp::matches(&wallet, &other).await.unwrap_err();
    assert!(error.to_string().contains("no credential"), "{error}");
    let mut missing_claim = request.clone();
    missing_claim.dcql_query.credentials[0].claims =
        serde_json::from_value(serde_json::json!([{"path": ["blood_type"]}])).unwrap();
    assert!(openid4vp::matches(&wallet, &missing_claim).await.is_err());

    // A verifier that refuses: the wallet reports it and records nothing.
    let mut wrong_nonce = scanned.clone();
    wrong_nonce.nonce = "other".into();
    let error = openid4vp::respond(&wallet, &http, &wrong_nonce, &found, now())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("refused"), "{error}");
    assert_eq!(wallet.history(Some(&card.id)).await.unwrap().len(), 1);
}
