//! No error answer and no log line repeats what was submitted: every registry endpoint that
//! takes input gets distinctive garbage and entry-shaped text, and neither the body it answers
//! nor anything logged meanwhile holds any 8-character run of the secret parts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Actor, ORIGIN, config, grant, sqlite_url};
use dojang_core::b64;
use dojang_core::jws::{self, JwsHeader};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::status::token;
use dojang_ledger::entry::{ENTRY_TYP, Operation};
use dojang_registry::http::app;
use dojang_registry::service::Registry;
use dojang_testkit::{assert_quiet, logs};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// A registry with a root, Seoul accredited with a status list, and a registered stranger.
struct World {
    router: axum::Router,
    seoul: Actor,
    stranger: Actor,
    _dir: tempfile::TempDir,
}

const LIST_URI: &str = "http://registry.test/status-lists/seoul-1";

async fn world() -> World {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(config(&sqlite_url(dir.path())))
        .await
        .unwrap();
    let root = Actor::new(Algorithm::EdDsa);
    let seoul = Actor::new(Algorithm::Es256);
    let stranger = Actor::new(Algorithm::Es256);
    for entry in [
        root.genesis(ORIGIN),
        seoul.create(),
        grant(&root, &seoul, "Seoul", &["citizen-card"], false),
        stranger.create(),
        seoul.sign(&Operation::StatusPublish {
            issuer: seoul.did.clone(),
            list_id: "seoul-1".into(),
            version: 1,
            token: seoul.status_token(LIST_URI, &[]),
            cwt: None,
        }),
    ] {
        registry.submit(entry).await.unwrap();
    }
    World {
        router: app(registry),
        seoul,
        stranger,
        _dir: dir,
    }
}

/// Sends `request`, and checks its answer and the logs hold none of `secrets`.
async fn send(w: &World, request: Request<Body>, secrets: &[&str]) -> (StatusCode, Value) {
    let what = format!("{} {}", request.method(), request.uri().path());
    // Lines logged from now on, this request's among them.
    let mark = logs().mark();
    let response = w.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 4 << 20)
        .await
        .unwrap();
    let logged = logs().since(mark);
    let answer = assert_quiet(&format!("{what} → {status}"), &bytes, &logged, secrets);
    (status, answer)
}

fn post(entry: impl Into<Body>) -> Request<Body> {
    Request::post("/entries")
        .header(header::CONTENT_TYPE, "application/jose")
        .body(entry.into())
        .unwrap()
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// `uri` with every byte outside ASCII percent-encoded.
fn encoded(uri: &str) -> String {
    uri.bytes()
        .map(|b| match b {
            b' '..=b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn b64json(value: &Value) -> String {
    b64::encode(value.to_string())
}

/// `header` and `payload` signed by `key` (whatever the header says).
fn signed(mut header: Value, payload: &Value, key: &SecretKey) -> String {
    header["alg"] = json!("set by jws::sign");
    let header: JwsHeader = serde_json::from_value(header).unwrap();
    jws::sign(header, payload.to_string().as_bytes(), key).unwrap()
}

/// `header` and `payload` with a signature of the right length that verifies for nobody.
fn forged(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}.{}",
        b64json(header),
        b64json(payload),
        b64::encode([7u8; 64])
    )
}

#[tokio::test]
async fn refused_entries_are_not_repeated() {
    let w = world().await;
    let stranger_kid = w.stranger.kid("key-1").to_string();
    let seoul_kid = w.seoul.kid("key-1").to_string();
    let create = json!({"op": "did.create", "document": w.stranger.document});

    // Not an entry at all.
    let plain = "Zorblax7Entry-박서연비밀정보";
    let mut cases: Vec<(String, Vec<&str>)> = vec![
        (plain.into(), vec![plain]),
        (format!("{plain}.{plain}.{plain}"), vec![plain]),
    ];

    // Headers the parser quotes: an algorithm, critical parameters, a type, a key id.
    let header_secrets = vec![
        "Zorblax7Alg",
        "Zorblax7Crit",
        "Zorblax7TypValue",
        "Zorblax7Kid-박서연",
        "zorblax7method:Zorblax7Id",
        "Zorblax7NoFrag",
    ];
    for header in [
        json!({"alg": "Zorblax7Alg", "typ": ENTRY_TYP, "kid": stranger_kid}),
        json!({"alg": "ES256", "typ": ENTRY_TYP, "kid": stranger_kid, "crit": ["Zorblax7Crit"]}),
        json!({"alg": "ES256", "typ": "Zorblax7TypValue", "kid": stranger_kid}),
        json!({"alg": "ES256", "typ": ENTRY_TYP}),
        json!({"alg": "ES256", "typ": ENTRY_TYP, "kid": "Zorblax7Kid-박서연"}),
        json!({"alg": "ES256", "typ": ENTRY_TYP, "kid": "did:zorblax7method:Zorblax7Id#key-1"}),
        json!({"alg": "ES256", "typ": ENTRY_TYP, "kid": "did:dojang:Zorblax7NoFrag"}),
    ] {
        cases.push((forged(&header, &create), header_secrets.clone()));
    }

    // Payloads the parser quotes, signed properly by the stranger.
    let header = json!({"typ": ENTRY_TYP, "kid": stranger_kid});
    let stranger_did = w.stranger.did.to_string();
    // A DID's own part: "did:dojang:" may well be in a refusal without repeating anything.
    let stranger_id = w.stranger.did.method_specific_id();
    let payloads = [
        (
            json!({"op": "Zorblax7Op-박서연비밀정보"}),
            vec!["Zorblax7Op-박서연비밀정보"],
        ),
        (
            json!({"op": "did.create", "document": "Zorblax7Doc-박서연비밀정보"}),
            vec!["Zorblax7Doc-박서연비밀정보"],
        ),
        (
            json!({"op": "did.create", "document": w.stranger.document, "Zorblax7Field": "박서연비밀정보입니다"}),
            vec!["Zorblax7Field", "박서연비밀정보입니다"],
        ),
        (
            json!({"op": "did.deactivate", "did": "Zorblax7NotADid-박서연", "prev": "x"}),
            vec!["Zorblax7NotADid-박서연"],
        ),
        (
            json!({"op": "accreditation.grant", "grantor": stranger_did, "subject": stranger_did,
                   "name": "박서연비밀정보입니다 Zorblax7", "types": ["zorblax7-type"], "delegable": true, "at": 1}),
            vec!["박서연비밀정보입니다 Zorblax7", "zorblax7-type"],
        ),
        (
            json!({"op": "accreditation.withdraw", "grantor": stranger_did, "subject": stranger_did,
                   "types": ["citizen-card"], "reason": "Zorblax7Reason-박서연", "at": 1}),
            vec!["Zorblax7Reason-박서연"],
        ),
        (
            json!({"op": "did.update", "prev": "Zorblax7Prev-박서연비밀", "document": w.stranger.document}),
            vec!["Zorblax7Prev-박서연비밀", stranger_id],
        ),
        (
            json!({"op": "status.publish", "issuer": stranger_did, "list_id": "Zorblax7List-박서연",
                   "version": 1, "token": "Zorblax7Token-박서연비밀정보"}),
            vec!["Zorblax7List-박서연", "Zorblax7Token-박서연비밀정보"],
        ),
        (
            json!({"op": "audit", "issuer": stranger_did, "period_start": 2, "period_end": 1,
                   "counts": {"Zorblax7Count-박서연": 1}}),
            vec!["Zorblax7Count-박서연"],
        ),
        (
            json!({"op": "audit", "issuer": stranger_did, "period_start": 1, "period_end": 2,
                   "counts": {"Zorblax7Count-박서연": 1}}),
            vec!["Zorblax7Count-박서연"],
        ),
        (create.clone(), vec![stranger_id]),
    ];
    for (payload, secrets) in &payloads {
        cases.push((
            signed(header.clone(), payload, &w.stranger.key),
            secrets.clone(),
        ));
    }

    // A DID nobody registered, and a key the stranger's document does not list.
    let nobody = "did:dojang:Zorblax7Nobody";
    let seoul_id = w.seoul.did.method_specific_id();
    cases.push((
        signed(
            json!({"typ": ENTRY_TYP, "kid": format!("{nobody}#key-1")}),
            &json!({"op": "audit", "issuer": nobody, "period_start": 1, "period_end": 2, "counts": {}}),
            &w.stranger.key,
        ),
        vec!["Zorblax7Nobody"],
    ));
    cases.push((
        signed(
            json!({"typ": ENTRY_TYP, "kid": w.stranger.kid("Zorblax7Frag").to_string()}),
            &json!({"op": "audit", "issuer": stranger_did, "period_start": 1, "period_end": 2, "counts": {}}),
            &w.stranger.key,
        ),
        vec!["Zorblax7Frag", stranger_id],
    ));
    // Another's key id on the stranger's operation.
    cases.push((
        signed(
            json!({"typ": ENTRY_TYP, "kid": seoul_kid}),
            &json!({"op": "audit", "issuer": stranger_did, "period_start": 1, "period_end": 2, "counts": {}}),
            &w.stranger.key,
        ),
        vec![seoul_id, stranger_id],
    ));

    // Status list publications by the accredited issuer, the token carrying data.
    let seoul_did = w.seoul.did.to_string();
    let publish = |list_id: &str, version: u64, token: String| {
        signed(
            json!({"typ": ENTRY_TYP, "kid": seoul_kid}),
            &json!({"op": "status.publish", "issuer": seoul_did, "list_id": list_id, "version": version, "token": token}),
            &w.seoul.key,
        )
    };
    let data_claims = json!({
        "sub": "http://registry.test/status-lists/Zorblax7Sub-박서연",
        "iat": 1_800_000_000,
        "status_list": {"bits": 2, "lst": "Zorblax7Lst-not-zlib"},
        "name": "박서연비밀정보입니다",
    });
    let token_header = json!({"typ": token::JWT_TYP, "kid": seoul_kid});
    let token_secrets = vec![
        "Zorblax7Sub-박서연",
        "Zorblax7Lst-not-zlib",
        "박서연비밀정보입니다",
        "Zorblax7TokenKid",
        "Zorblax7TokenTyp",
        "Zorblax7ListName",
        "Zorblax7Token-박서연비밀정보",
    ];
    for token in [
        signed(token_header.clone(), &data_claims, &w.seoul.key),
        signed(
            json!({"typ": token::JWT_TYP, "kid": "Zorblax7TokenKid"}),
            &data_claims,
            &w.seoul.key,
        ),
        signed(
            json!({"typ": "Zorblax7TokenTyp", "kid": seoul_kid}),
            &data_claims,
            &w.seoul.key,
        ),
        signed(token_header.clone(), &data_claims, &w.stranger.key),
        "Zorblax7Token-박서연비밀정보".into(),
    ] {
        cases.push((publish("seoul-1", 2, token.clone()), token_secrets.clone()));
        cases.push((publish("Zorblax7ListName", 1, token), token_secrets.clone()));
    }
    let good_token = w.seoul.status_token(LIST_URI, &[]);
    cases.push((publish("seoul-1", 1, good_token.clone()), vec![&good_token]));
    cases.push((
        publish("Zorblax7ListName 박서연!", 1, good_token.clone()),
        vec!["Zorblax7ListName 박서연!", &good_token],
    ));

    for (entry, mut secrets) in cases {
        secrets.push(&entry);
        let (status, answer) = send(&w, post(entry.clone()), &secrets).await;
        assert!(status.is_client_error(), "{entry}: {status} {answer}");
        assert!(
            answer["error"].is_string() && answer["message"].is_string(),
            "{entry}: {answer}"
        );
    }

    // Bodies that are no text, or too long.
    let (status, _) = send(
        &w,
        post(b"\xff\xfeZorblax7Bytes-not-utf8".to_vec()),
        &["Zorblax7Bytes-not-utf8"],
    )
    .await;
    assert!(status.is_client_error());
    let big = format!("Zorblax7BigEntry{}", "박".repeat(200_000));
    let (status, _) = send(&w, post(big), &["Zorblax7BigEntry"]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let big = format!("Zorblax7LongEntry{}", "A".repeat(262_200));
    let (status, _) = send(&w, post(big), &["Zorblax7LongEntry"]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn lookups_do_not_repeat_what_was_asked() {
    let w = world().await;
    let seoul = w.seoul.did.to_string();
    for (uri, secrets) in [
        (
            "/entries/Zorblax7Index-박서연".to_owned(),
            vec!["Zorblax7Index-박서연"],
        ),
        ("/entries/98765432109".to_owned(), vec!["98765432109"]),
        ("/entries/-98765432109".to_owned(), vec!["98765432109"]),
        (
            "/dids/Zorblax7NotADid-박서연".to_owned(),
            vec!["Zorblax7NotADid-박서연"],
        ),
        (
            "/dids/did:dojang:Zorblax7Unknown".to_owned(),
            vec!["Zorblax7Unknown"],
        ),
        (
            "/dids/did:Zorblax7Method:x".to_owned(),
            vec!["Zorblax7Method"],
        ),
        (
            "/dids/did:dojang:Zorblax7Unknown/history".to_owned(),
            vec!["Zorblax7Unknown"],
        ),
        (
            "/dids/Zorblax7NotADid-박서연/history".to_owned(),
            vec!["Zorblax7NotADid-박서연"],
        ),
        (
            format!("/dids/{seoul}?as_of_size=Zorblax7Size&as_of_time=Zorblax7Time"),
            vec!["Zorblax7Size", "Zorblax7Time"],
        ),
        (
            format!("/dids/{seoul}?as_of_size=%FF%FEZorblax7Bytes"),
            vec!["Zorblax7Bytes"],
        ),
        (
            "/status-lists/Zorblax7List-박서연".to_owned(),
            vec!["Zorblax7List-박서연"],
        ),
        (
            "/status-lists/%FF%FEZorblax7Path".to_owned(),
            vec!["Zorblax7Path"],
        ),
        (
            "/bundle?since=Zorblax7Since-박서연".to_owned(),
            vec!["Zorblax7Since-박서연"],
        ),
        ("/bundle?since=98765432109".to_owned(), vec!["98765432109"]),
        ("/bundle?since=-98765432109".to_owned(), vec!["98765432109"]),
        (
            "/proofs/inclusion?leaf_hash=Zorblax7Hash-박서연".to_owned(),
            vec!["Zorblax7Hash-박서연"],
        ),
        (
            format!("/proofs/inclusion?leaf_hash={}", b64::encode([7u8; 32])),
            vec![],
        ),
        (
            "/proofs/inclusion?index=98765432109".to_owned(),
            vec!["98765432109"],
        ),
        (
            "/proofs/inclusion?index=1&size=98765432109".to_owned(),
            vec!["98765432109"],
        ),
        (
            "/proofs/inclusion?index=Zorblax7Index".to_owned(),
            vec!["Zorblax7Index"],
        ),
        (
            "/proofs/consistency?first=98765432109".to_owned(),
            vec!["98765432109"],
        ),
        (
            "/proofs/consistency?first=1&second=98765432109".to_owned(),
            vec!["98765432109"],
        ),
        (
            "/proofs/consistency?first=Zorblax7First".to_owned(),
            vec!["Zorblax7First"],
        ),
    ] {
        let (status, answer) = send(&w, get(&encoded(&uri)), &secrets).await;
        assert!(status.is_client_error(), "{uri}: {status} {answer}");
    }
    // Reads that take nothing ignore what they are given.
    for uri in [
        "/issuers?Zorblax7Param=Zorblax7Value",
        "/checkpoint?Zorblax7Param=Zorblax7Value",
        "/trust-anchor?Zorblax7Param=Zorblax7Value",
    ] {
        let (status, _) = send(&w, get(uri), &["Zorblax7Param", "Zorblax7Value"]).await;
        assert_eq!(status, StatusCode::OK);
    }
}
