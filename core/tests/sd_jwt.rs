//! SD-JWT VC end to end: issue → present a subset with key binding → verify, and every way a
//! presentation can be wrong, each rejected with its specific error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dojang_core::b64;
use dojang_core::did::{self, Did};
use dojang_core::jws::{self, JwsError, JwsHeader};
use dojang_core::key::{Algorithm, SecretKey, Signer};
use dojang_core::sd_jwt::vc::{self, SdJwtVcDraft};
use dojang_core::sd_jwt::{
    ClaimPath, HeldSdJwt, IssueOptions, KeyBindingError, KeyBindingInput, OfflineDids, SdJwtError,
    VerifyOptions,
};
use dojang_core::status::StatusListReference;
use dojang_core::verdict::ReasonCode;
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000;
const AUD: &str = "https://counter.example/verifier";
const NONCE: &str = "n-0S6_WzA2Mj";

struct Fixture {
    issuer: SecretKey,
    holder: SecretKey,
    credential: String,
}

fn claims() -> Map<String, Value> {
    json!({
        "name": "김민지",
        "birthdate": "1994-03-15",
        "address": {"locality": "Seoul", "region": "Mapo-gu", "street_address": "1 Example-ro"},
        "card_number": "SC-2026-000123",
        "age_over_19": true,
        "nationalities": ["KR", "CA"],
    })
    .as_object()
    .cloned()
    .unwrap()
}

fn issue(alg: Algorithm) -> Fixture {
    let issuer = SecretKey::generate(alg).unwrap();
    let holder = SecretKey::generate(alg).unwrap();
    let did = Did::key(issuer.public_key());
    let draft = SdJwtVcDraft {
        vct: "urn:dojang:vct:citizen-card:1".into(),
        issuer: did.to_string(),
        issued_at: NOW - 3600,
        valid_from: Some(NOW - 3600),
        valid_until: Some(NOW + 86_400),
        holder_key: Some(holder.public_key().clone()),
        status: Some(StatusListReference {
            idx: 4242,
            uri: "https://registry.example/status/seoul/1".into(),
        }),
        claims: claims(),
        disclosable: [
            "/name",
            "/birthdate",
            "/address",
            "/address/locality",
            "/card_number",
            "/age_over_19",
            "/nationalities/0",
            "/nationalities/1",
        ]
        .into_iter()
        .map(ClaimPath::parse)
        .collect(),
    };
    let credential = draft.sign(&issuer, &did::key_id(&did).unwrap()).unwrap();
    Fixture {
        issuer,
        holder,
        credential,
    }
}

impl Fixture {
    fn present(&self, disclose: &[&str], kb: Option<(&dyn Signer, &str, &str, i64)>) -> String {
        let held = HeldSdJwt::parse(&self.credential).unwrap();
        let paths: Vec<ClaimPath> = disclose.iter().map(|p| ClaimPath::parse(p)).collect();
        held.present(
            &paths,
            kb.map(|(signer, audience, nonce, issued_at)| KeyBindingInput {
                signer,
                audience,
                nonce,
                issued_at,
            }),
        )
        .unwrap()
    }

    fn bound(&self, disclose: &[&str]) -> String {
        self.present(disclose, Some((&self.holder, AUD, NONCE, NOW)))
    }
}

fn options() -> VerifyOptions<'static> {
    VerifyOptions::at(NOW).require_key_binding(AUD, NONCE)
}

fn verify(presentation: &str) -> Result<vc::VerifiedSdJwtVc, SdJwtError> {
    vc::verify(presentation, &OfflineDids, &options())
}

#[test]
fn issue_present_verify_discloses_exactly_the_chosen_claims() {
    for alg in Algorithm::ALL {
        let f = issue(alg);
        let presentation = f.bound(&[
            "name",
            "/address/locality",
            "/age_over_19",
            "/nationalities/1",
        ]);
        let verified = verify(&presentation).unwrap();
        assert_eq!(verified.vct, "urn:dojang:vct:citizen-card:1");
        assert_eq!(verified.issuer, Did::key(f.issuer.public_key()).to_string());
        assert_eq!(verified.holder_key.as_ref(), Some(f.holder.public_key()));
        assert_eq!(verified.status.as_ref().unwrap().idx, 4242);
        assert_eq!(
            Value::Object(verified.claims.clone()),
            json!({
                "name": "김민지",
                "address": {"locality": "Seoul", "region": "Mapo-gu", "street_address": "1 Example-ro"},
                "age_over_19": true,
                "nationalities": ["CA"],
            }),
            "{alg}: address is disclosed because its locality was asked for; the other address \
             fields are not selectively disclosable"
        );
        let kb = verified.key_binding.unwrap();
        assert_eq!(
            (kb.audience.as_str(), kb.nonce.as_str(), kb.issued_at),
            (AUD, NONCE, NOW)
        );
    }
}

#[test]
fn holder_sees_every_disclosable_path() {
    let f = issue(Algorithm::Es256);
    let held = HeldSdJwt::parse(&f.credential).unwrap();
    let paths: Vec<String> = held
        .disclosable_paths()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "/address",
            "/age_over_19",
            "/birthdate",
            "/card_number",
            "/name",
            "/address/locality",
            "/nationalities/0",
            "/nationalities/1"
        ]
    );
    assert_eq!(held.claims()["address"]["locality"], "Seoul");
}

#[test]
fn without_key_binding_requirement_a_plain_credential_verifies() {
    let f = issue(Algorithm::EdDsa);
    let verified = vc::verify(&f.credential, &OfflineDids, &VerifyOptions::at(NOW)).unwrap();
    assert_eq!(verified.claims["card_number"], "SC-2026-000123");
    assert!(verified.key_binding.is_none());
    // The same credential is refused where the verifier demands holder binding.
    assert!(matches!(
        verify(&f.credential),
        Err(SdJwtError::KeyBinding(KeyBindingError::Missing))
    ));
}

fn forged_jwt(header: &str, payload: &Value, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}~",
        b64::encode(header),
        b64::encode(payload.to_string()),
        b64::encode(sig)
    )
}

fn payload_of(credential: &str) -> Value {
    let jwt = credential.split('~').next().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64::decode(payload).unwrap()).unwrap()
}

#[test]
fn alg_none_is_refused() {
    let f = issue(Algorithm::Es256);
    let forged = forged_jwt(
        r#"{"alg":"none","typ":"dc+sd-jwt"}"#,
        &payload_of(&f.credential),
        &[],
    );
    assert!(matches!(
        verify(&forged),
        Err(SdJwtError::Jws(JwsError::AlgorithmNone))
    ));
}

#[test]
fn hs256_keyed_with_the_issuer_public_key_is_refused() {
    let f = issue(Algorithm::Es256);
    // The classic confusion attack: HMAC over the token, keyed with the issuer's public key.
    let header = b64::encode(r#"{"alg":"HS256","typ":"dc+sd-jwt"}"#);
    let body = b64::encode(payload_of(&f.credential).to_string());
    let input = format!("{header}.{body}");
    let key = aws_lc_rs::hmac::Key::new(
        aws_lc_rs::hmac::HMAC_SHA256,
        f.issuer.public_key().as_bytes(),
    );
    let mac = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    let forged = format!("{input}.{}~", b64::encode(mac.as_ref()));
    match verify(&forged) {
        Err(SdJwtError::Jws(JwsError::SymmetricAlgorithm { alg })) => assert_eq!(alg, "HS256"),
        other => panic!("expected SymmetricAlgorithm, got {other:?}"),
    }
}

#[test]
fn unknown_alg_is_refused() {
    let f = issue(Algorithm::Es256);
    for alg in ["RS256", "ES512", "PS256", "ES256K", ""] {
        let forged = forged_jwt(
            &format!(r#"{{"alg":"{alg}","typ":"dc+sd-jwt"}}"#),
            &payload_of(&f.credential),
            &[0; 64],
        );
        assert!(
            matches!(verify(&forged), Err(SdJwtError::Jws(JwsError::UnsupportedAlgorithm { alg: a })) if a == alg),
            "{alg}"
        );
    }
}

#[test]
fn tampered_payload_fails_the_signature() {
    let f = issue(Algorithm::EdDsa);
    let presentation = f.bound(&["name"]);
    let (jwt, rest) = presentation.split_once('~').unwrap();
    let mut parts: Vec<&str> = jwt.split('.').collect();
    let mut payload = payload_of(&presentation);
    payload["vct"] = json!("urn:dojang:vct:mobile-id:1");
    let tampered_body = b64::encode(payload.to_string());
    parts[1] = &tampered_body;
    let tampered = format!("{}~{rest}", parts.join("."));
    assert!(matches!(
        verify(&tampered),
        Err(SdJwtError::Jws(JwsError::SignatureInvalid))
    ));
    // A signature made by another key fails the same way.
    let other = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let resigned = jws::sign(
        JwsHeader::new(
            Some(vc::TYP),
            Some(&did::key_id(&Did::key(f.issuer.public_key())).unwrap()),
        ),
        payload_of(&presentation).to_string().as_bytes(),
        &other,
    )
    .unwrap();
    let resigned = format!("{resigned}~{rest}");
    assert!(matches!(
        verify(&resigned),
        Err(SdJwtError::Jws(JwsError::SignatureInvalid))
    ));
}

/// Replaces the disclosure for `name` with one carrying `value` (same salt), re-binding the
/// presentation so only the disclosure itself is wrong.
fn with_disclosure_value(f: &Fixture, name: &str, value: Value) -> String {
    let presentation = f.present(&[name], None);
    let mut pieces: Vec<String> = presentation.split('~').map(str::to_owned).collect();
    let position = pieces
        .iter()
        .position(|p| {
            b64::decode(p)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .is_some_and(|d| d[1] == name)
        })
        .unwrap();
    let original: Value = serde_json::from_slice(&b64::decode(&pieces[position]).unwrap()).unwrap();
    pieces[position] = b64::encode(json!([original[0], name, value]).to_string());
    rebind(f, &pieces.join("~"))
}

/// Appends a fresh KB-JWT over `presentation` (which ends in `~`).
fn rebind(f: &Fixture, presentation: &str) -> String {
    let sd_hash = b64::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        presentation.as_bytes(),
    ));
    let kb = jws::sign(
        JwsHeader::new(Some("kb+jwt"), None),
        json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash})
            .to_string()
            .as_bytes(),
        &f.holder,
    )
    .unwrap();
    format!("{presentation}{kb}")
}

#[test]
fn tampered_disclosure_is_unreferenced() {
    let f = issue(Algorithm::Es256);
    let tampered = with_disclosure_value(&f, "age_over_19", json!(false));
    assert!(matches!(
        verify(&tampered),
        Err(SdJwtError::UnreferencedDisclosure { .. })
    ));
}

#[test]
fn duplicated_disclosure_is_refused() {
    let f = issue(Algorithm::Es256);
    let presentation = f.present(&["name"], None);
    let name = presentation.split('~').nth(1).unwrap();
    let doubled = rebind(&f, &format!("{presentation}{name}~"));
    assert!(matches!(
        verify(&doubled),
        Err(SdJwtError::DuplicateDisclosure { .. })
    ));
}

#[test]
fn disclosure_injected_from_another_credential_is_refused() {
    let f = issue(Algorithm::Es256);
    let g = issue(Algorithm::Es256);
    let foreign = g.present(&["card_number"], None);
    let injected = foreign.split('~').nth(1).unwrap();
    let presentation = rebind(&f, &format!("{}{injected}~", f.present(&["name"], None)));
    assert!(matches!(
        verify(&presentation),
        Err(SdJwtError::UnreferencedDisclosure { .. })
    ));
}

/// Signs `payload` as the fixture's issuer, with the disclosures given.
fn signed(f: &Fixture, payload: &Value, disclosures: &[String]) -> String {
    let kid = did::key_id(&Did::key(f.issuer.public_key())).unwrap();
    let jwt = jws::sign(
        JwsHeader::new(Some(vc::TYP), Some(&kid)),
        payload.to_string().as_bytes(),
        &f.issuer,
    )
    .unwrap();
    let mut out = format!("{jwt}~");
    for d in disclosures {
        out.push_str(d);
        out.push('~');
    }
    rebind(f, &out)
}

fn base_payload(f: &Fixture) -> Value {
    json!({
        "iss": Did::key(f.issuer.public_key()).to_string(),
        "iat": NOW - 10,
        "vct": "urn:dojang:vct:test:1",
        "cnf": {"jwk": dojang_core::Jwk::from_public_key(f.holder.public_key())},
    })
}

fn disclosure(items: Value) -> (String, String) {
    let encoded = b64::encode(items.to_string());
    let digest = b64::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        encoded.as_bytes(),
    ));
    (encoded, digest)
}

#[test]
fn wrong_sd_alg_is_refused() {
    let f = issue(Algorithm::Es256);
    let mut payload = base_payload(&f);
    payload["_sd_alg"] = json!("sha-512");
    assert!(matches!(
        verify(&signed(&f, &payload, &[])),
        Err(SdJwtError::UnsupportedSdAlg { alg }) if alg == "sha-512"
    ));
}

#[test]
fn digest_used_twice_is_refused() {
    let f = issue(Algorithm::Es256);
    let (d, digest) = disclosure(json!(["salt", "a", 1]));
    let mut payload = base_payload(&f);
    payload["_sd"] = json!([digest]);
    payload["nested"] = json!({"_sd": [digest]});
    assert!(matches!(
        verify(&signed(&f, &payload, &[d])),
        Err(SdJwtError::DuplicateDigest { .. })
    ));
}

#[test]
fn disclosed_claim_may_not_overwrite_a_plain_one() {
    let f = issue(Algorithm::Es256);
    let (d, digest) = disclosure(json!(["salt", "age_over_19", false]));
    let mut payload = base_payload(&f);
    payload["age_over_19"] = json!(true);
    payload["_sd"] = json!([digest]);
    assert!(matches!(
        verify(&signed(&f, &payload, &[d])),
        Err(SdJwtError::ClaimCollision { name }) if name == "age_over_19"
    ));
}

#[test]
fn array_disclosure_in_object_position_is_refused() {
    let f = issue(Algorithm::Es256);
    let (d, digest) = disclosure(json!(["salt", "KR"]));
    let mut payload = base_payload(&f);
    payload["_sd"] = json!([digest]);
    assert!(matches!(
        verify(&signed(&f, &payload, &[d])),
        Err(SdJwtError::DisclosureKind { .. })
    ));
}

#[test]
fn registered_claims_must_not_be_selectively_disclosed() {
    let f = issue(Algorithm::Es256);
    let (d, digest) = disclosure(json!(["salt", "exp", NOW + 10]));
    let mut payload = base_payload(&f);
    payload["_sd"] = json!([digest]);
    assert!(matches!(
        verify(&signed(&f, &payload, &[d])),
        Err(SdJwtError::ForbiddenDisclosure { claim }) if claim == "exp"
    ));
    let mut draft = sample_draft(&f);
    draft.disclosable.push(ClaimPath::parse("/status"));
    assert!(matches!(
        draft.sign(&f.issuer, "kid"),
        Err(SdJwtError::ForbiddenDisclosure { claim }) if claim == "status"
    ));
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let f = issue(Algorithm::Es256);
    // A chain of 200 disclosures, each hiding the next: would recurse without a depth limit.
    let mut disclosures = Vec::new();
    let mut inner = json!("leaf");
    for i in 0..200 {
        let (d, digest) = disclosure(json!(["s", format!("c{i}"), inner]));
        disclosures.push(d);
        inner = json!({"_sd": [digest]});
    }
    let mut payload = base_payload(&f);
    payload["deep"] = inner;
    assert!(matches!(
        verify(&signed(&f, &payload, &disclosures)),
        Err(SdJwtError::TooDeep)
    ));
}

fn sample_draft(f: &Fixture) -> SdJwtVcDraft {
    SdJwtVcDraft {
        vct: "urn:dojang:vct:test:1".into(),
        issuer: Did::key(f.issuer.public_key()).to_string(),
        issued_at: NOW - 100,
        valid_from: None,
        valid_until: None,
        holder_key: Some(f.holder.public_key().clone()),
        status: None,
        claims: claims(),
        disclosable: vec![ClaimPath::parse("/name")],
    }
}

#[test]
fn validity_period_is_enforced() {
    let f = issue(Algorithm::EdDsa);
    let kid = did::key_id(&Did::key(f.issuer.public_key())).unwrap();
    let mut expired = sample_draft(&f);
    expired.valid_until = Some(NOW - 61);
    let credential = expired.sign(&f.issuer, &kid).unwrap();
    let fixture = Fixture {
        credential,
        issuer: f.issuer.clone(),
        holder: f.holder.clone(),
    };
    assert!(matches!(
        verify(&fixture.bound(&["name"])),
        Err(SdJwtError::Expired { exp, now: NOW }) if exp == NOW - 61
    ));
    // Within the leeway it still verifies.
    let mut nearly = sample_draft(&f);
    nearly.valid_until = Some(NOW - 30);
    let fixture = Fixture {
        credential: nearly.sign(&f.issuer, &kid).unwrap(),
        ..fixture
    };
    verify(&fixture.bound(&["name"])).unwrap();

    let mut future = sample_draft(&f);
    future.valid_from = Some(NOW + 3600);
    let fixture = Fixture {
        credential: future.sign(&f.issuer, &kid).unwrap(),
        ..fixture
    };
    assert!(matches!(
        verify(&fixture.bound(&["name"])),
        Err(SdJwtError::NotYetValid { not_before, .. }) if not_before == NOW + 3600
    ));
}

#[test]
fn key_binding_must_match_nonce_audience_key_time_and_content() {
    let f = issue(Algorithm::Es256);
    let kb = |e| Err::<(), _>(e);
    let check = |presentation: &str| verify(presentation).map(|_| ());
    let err = |r: Result<(), SdJwtError>| match r {
        Err(SdJwtError::KeyBinding(e)) => Err(e),
        other => panic!("expected a key binding error, got {other:?}"),
    };

    assert_eq!(
        err(check(&f.present(
            &["name"],
            Some((&f.holder, AUD, "other-nonce", NOW))
        ))),
        kb(KeyBindingError::NonceMismatch)
    );
    assert_eq!(
        err(check(&f.present(
            &["name"],
            Some((&f.holder, "https://evil.example", NONCE, NOW))
        ))),
        kb(KeyBindingError::AudienceMismatch)
    );
    let thief = SecretKey::generate(Algorithm::Es256).unwrap();
    assert_eq!(
        err(check(
            &f.present(&["name"], Some((&thief, AUD, NONCE, NOW)))
        )),
        kb(KeyBindingError::Jws(JwsError::SignatureInvalid))
    );
    // An EdDSA key cannot sign for an ES256-bound credential either.
    let other_alg = SecretKey::generate(Algorithm::EdDsa).unwrap();
    assert!(matches!(
        err(check(
            &f.present(&["name"], Some((&other_alg, AUD, NONCE, NOW)))
        )),
        Err(KeyBindingError::Jws(JwsError::AlgorithmMismatch { .. }))
    ));
    assert_eq!(
        err(check(&f.present(
            &["name"],
            Some((&f.holder, AUD, NONCE, NOW - 301))
        ))),
        kb(KeyBindingError::Stale {
            iat: NOW - 301,
            now: NOW
        })
    );
    assert_eq!(
        err(check(&f.present(
            &["name"],
            Some((&f.holder, AUD, NONCE, NOW + 600))
        ))),
        kb(KeyBindingError::IssuedInFuture {
            iat: NOW + 600,
            now: NOW
        })
    );
    // Dropping a disclosure after binding breaks sd_hash.
    let bound = f.bound(&["name", "birthdate"]);
    let mut pieces: Vec<&str> = bound.split('~').collect();
    pieces.remove(1);
    assert_eq!(
        err(check(&pieces.join("~"))),
        kb(KeyBindingError::SdHashMismatch)
    );
    // A KB-JWT with the wrong typ.
    let presented = f.present(&["name"], None);
    let sd_hash = b64::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        presented.as_bytes(),
    ));
    let wrong_typ = jws::sign(
        JwsHeader::new(Some("JWT"), None),
        json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash})
            .to_string()
            .as_bytes(),
        &f.holder,
    )
    .unwrap();
    assert!(matches!(
        err(check(&format!("{presented}{wrong_typ}"))),
        Err(KeyBindingError::Jws(JwsError::UnexpectedType { .. }))
    ));
}

#[test]
fn credential_without_cnf_cannot_be_bound() {
    let f = issue(Algorithm::Es256);
    let mut draft = sample_draft(&f);
    draft.holder_key = None;
    let kid = did::key_id(&Did::key(f.issuer.public_key())).unwrap();
    let unbound = Fixture {
        credential: draft.sign(&f.issuer, &kid).unwrap(),
        ..f
    };
    assert!(matches!(
        verify(&unbound.bound(&["name"])),
        Err(SdJwtError::KeyBinding(KeyBindingError::HolderKeyMissing))
    ));
}

#[test]
fn every_truncation_is_an_error_never_a_panic() {
    let f = issue(Algorithm::Es256);
    let presentation = f.bound(&["name", "/address/locality"]);
    let full_len = presentation.len();
    for len in 0..full_len {
        let truncated = &presentation[..len];
        assert!(verify(truncated).is_err(), "prefix of {len} bytes verified");
    }
    // One flipped character anywhere is also an error.
    let bytes = presentation.as_bytes();
    for i in (0..full_len).step_by(7) {
        let mut mutated = bytes.to_vec();
        mutated[i] = if mutated[i] == b'A' { b'B' } else { b'A' };
        let Ok(mutated) = String::from_utf8(mutated) else {
            continue;
        };
        if mutated == presentation {
            continue;
        }
        assert!(verify(&mutated).is_err(), "mutation at {i} verified");
    }
}

#[test]
fn huge_input_is_refused_before_parsing() {
    let huge = format!("{}~", "A".repeat(dojang_core::MAX_INPUT_LEN));
    assert!(matches!(verify(&huge), Err(SdJwtError::TooLarge { .. })));
    let many = format!("a.b.c~{}", "WyJhIiwxXQ~".repeat(5000));
    assert!(matches!(
        verify(&many),
        Err(SdJwtError::TooManyDisclosures { .. })
    ));
}

#[test]
fn issuance_input_errors() {
    let f = issue(Algorithm::Es256);
    let mut draft = sample_draft(&f);
    draft.disclosable = vec![ClaimPath::parse("/no_such_claim")];
    assert!(matches!(
        draft.sign(&f.issuer, "k"),
        Err(SdJwtError::PathNotFound { path }) if path == "/no_such_claim"
    ));
    let mut draft = sample_draft(&f);
    draft
        .claims
        .insert("iss".into(), json!("did:example:spoof"));
    assert!(matches!(
        draft.sign(&f.issuer, "k"),
        Err(SdJwtError::ReservedClaimName { name }) if name == "iss"
    ));
    let mut claims = Map::new();
    claims.insert("x".into(), json!({"_sd": []}));
    assert!(matches!(
        dojang_core::sd_jwt::issue(claims, &[], IssueOptions::default(), &f.issuer),
        Err(SdJwtError::ReservedClaimName { name }) if name == "_sd"
    ));
}

#[test]
fn decoys_are_ignored_by_verifiers() {
    let f = issue(Algorithm::Es256);
    let mut claims = claims();
    claims.insert(
        "iss".into(),
        json!(Did::key(f.issuer.public_key()).to_string()),
    );
    let sd_jwt = dojang_core::sd_jwt::issue(
        claims,
        &[ClaimPath::parse("/name")],
        IssueOptions {
            decoys: 5,
            ..Default::default()
        },
        &f.issuer,
    )
    .unwrap();
    assert_eq!(payload_of(&sd_jwt)["_sd"].as_array().unwrap().len(), 6);
    let verified =
        dojang_core::sd_jwt::verify(&sd_jwt, &OfflineDids, &VerifyOptions::at(NOW)).unwrap();
    assert_eq!(verified.claims["name"], "김민지");
}

#[test]
fn errors_map_to_stable_reason_codes() {
    let f = issue(Algorithm::Es256);
    let code = |p: &str| ReasonCode::from(&verify(p).unwrap_err());
    assert_eq!(
        code(&f.present(&["name"], Some((&f.holder, AUD, "x", NOW)))),
        ReasonCode::ChallengeMismatch
    );
    assert_eq!(
        code(&with_disclosure_value(&f, "name", json!("x"))),
        ReasonCode::DisclosureInvalid
    );
    assert_eq!(code(&f.credential), ReasonCode::HolderBindingMissing);
    assert_eq!(code("garbage"), ReasonCode::MalformedCredential);
    let forged = forged_jwt(
        r#"{"alg":"none","typ":"dc+sd-jwt"}"#,
        &payload_of(&f.credential),
        &[],
    );
    assert_eq!(code(&forged), ReasonCode::UnsupportedAlgorithm);
}

#[test]
fn fractional_numeric_dates_are_accepted() {
    // RFC 7519 NumericDate may carry fractions; ssi writes KB-JWT `iat` that way.
    let f = issue(Algorithm::Es256);
    let presented = f.present(&["name"], None);
    let sd_hash = b64::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        presented.as_bytes(),
    ));
    let kb = jws::sign(
        JwsHeader::new(Some("kb+jwt"), None),
        format!(r#"{{"iat":{NOW}.75,"aud":"{AUD}","nonce":"{NONCE}","sd_hash":"{sd_hash}"}}"#)
            .as_bytes(),
        &f.holder,
    )
    .unwrap();
    let verified = verify(&format!("{presented}{kb}")).unwrap();
    assert_eq!(verified.key_binding.unwrap().issued_at, NOW);
}
