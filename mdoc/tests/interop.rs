//! Interop with an mdoc implementation nobody here wrote: `@owf/mdoc` (Animo's, npm; run by
//! `tests/interop/interop.mjs`) verifies an mdoc and a DeviceResponse dojang made over an
//! OpenID4VP SessionTranscript — and refuses the response for another verifier — then issues
//! one with dojang's document signer and presents it; dojang's verifier accepts that one, and
//! refuses it altered.
//!
//! And an SD-JWT VC verifier with no dojang code (`tests/interop/x5c.mjs`, Node's own X.509 and
//! crypto) finds the issuer's key through `x5c` under the IACA root, or through a JWK set by
//! `kid`.
//!
//! Needs `node` and `npm ci` in `mdoc/tests/interop` (`.ci/services` does it); without them the
//! test says it skipped — except under `CI`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use dojang_core::clock::unix_now;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_mdoc::{
    Certificate, DeviceResponse, Issuance, issue, present, session_transcript_openid4vp,
};
use dojang_testkit::mdoc::{self, DOC_TYPE, Pki};
use serde_json::{Value, json};

const CLIENT_ID: &str = "x509_san_dns:counter.example";
const NONCE: &str = "bTQ8hcs7yNc2mM1g";
const RESPONSE_URI: &str = "https://counter.example/oid4vp/response";

/// A P-256 key as a JWK with its private part, for the library.
fn jwk(key: &SecretKey) -> Value {
    let b64 = |bytes: &[u8]| dojang_core::b64::encode(bytes);
    let point = key.public_key().as_bytes();
    json!({
        "kty": "EC", "crv": "P-256",
        "x": b64(&point[1..33]), "y": b64(&point[33..]),
        "d": b64(key.secret_bytes().as_ref()),
    })
}

#[test]
fn owf_mdoc_and_dojang_verify_each_others_mdocs() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    if !script.join("node_modules/@owf/mdoc").is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the mdoc interop test: `npm ci` in {}",
            script.display()
        );
        println!(
            "skipped: @owf/mdoc not installed (npm ci in {})",
            script.display()
        );
        return;
    }
    let now = unix_now();
    let ds_key = SecretKey::generate(Algorithm::Es256).unwrap();
    let Pki { iaca, ds, .. } = mdoc::pki(ds_key.public_key(), now);
    let device = SecretKey::generate(Algorithm::Es256).unwrap();
    let elements = mdoc::mobile_id_elements();
    let issued = issue(&Issuance {
        doc_type: DOC_TYPE,
        elements: &elements,
        device_key: device.public_key(),
        signed: now - 60,
        valid_from: now - 60,
        valid_until: now + 30 * 86_400,
        status: None,
        signer: &ds_key,
        certificate: &ds,
    })
    .unwrap();
    let transcript = session_transcript_openid4vp(CLIENT_ID, NONCE, None, RESPONSE_URI);
    let response = present(
        &issued,
        &[(DOC_TYPE, "age_over_19"), (DOC_TYPE, "family_name")],
        &transcript,
        &device,
    )
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let write = |file: &str, bytes: &[u8]| std::fs::write(dir.path().join(file), bytes).unwrap();
    write("iaca.der", &iaca);
    write("ds.der", &ds);
    write("issuer_signed.cbor", &issued);
    write("device_response.cbor", &response);
    write("session_transcript.cbor", &transcript);
    let input = json!({
        "doc_type": DOC_TYPE, "client_id": CLIENT_ID, "nonce": NONCE, "response_uri": RESPONSE_URI,
        "ds_key": jwk(&ds_key), "device_key": jwk(&device),
    });
    write("input.json", input.to_string().as_bytes());

    let output = std::process::Command::new("node")
        .arg(script.join("interop.mjs"))
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let steps: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("no step {name}: {stdout}"))
    };
    assert_eq!(
        step("transcript")["same"],
        true,
        "the same OpenID4VP transcript"
    );
    step("issuer_signed_verified");
    step("device_response_verified");
    assert_eq!(step("other_transcript_refused")["refused"], true);
    step("js_device_response_written");

    // dojang verifies what the library issued and presented.
    let theirs = std::fs::read(dir.path().join("js_device_response.cbor")).unwrap();
    let roots = [Certificate::from_der(&iaca).unwrap()];
    let parsed = DeviceResponse::parse(&theirs).unwrap();
    let verified = parsed.documents[0]
        .verify(&roots, unix_now(), &transcript, None)
        .unwrap();
    let mut names: Vec<&str> = verified.items.iter().map(|i| i.element.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["age_over_19", "family_name"]);
    assert_eq!(
        verified
            .items
            .iter()
            .find(|i| i.element == "family_name")
            .unwrap()
            .value,
        "홍"
    );
    // Altered, or for another verifier: refused.
    let other =
        session_transcript_openid4vp("x509_san_dns:evil.example", NONCE, None, RESPONSE_URI);
    assert!(
        parsed.documents[0]
            .verify(&roots, unix_now(), &other, None)
            .is_err()
    );
    let at = theirs
        .windows("홍".len())
        .position(|w| w == "홍".as_bytes())
        .unwrap();
    let mut altered = theirs.clone();
    altered[at + 2] ^= 1;
    let refused = DeviceResponse::parse(&altered)
        .and_then(|r| r.documents[0].verify(&roots, unix_now(), &transcript, None))
        .unwrap_err();
    assert_eq!(refused.reason(), dojang_core::ReasonCode::DisclosureInvalid);
}

/// What `tests/interop/x5c.mjs` (Node's own X.509 and crypto) finds in `sd_jwt` under `root`.
fn node_x5c(input: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/x5c.mjs");
    let mut child = std::process::Command::new("node")
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_verifier_without_dojang_finds_an_sd_jwt_vcs_key_through_x5c_or_jwks() {
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(std::env::var_os("CI").is_none(), "CI must have node");
        println!("skipped: node is not installed");
        return;
    }
    use base64::Engine as _;
    use dojang_core::Jwk;
    use dojang_core::did::Did;
    use dojang_core::sd_jwt::vc::SdJwtVcDraft;
    let now = unix_now();
    let issuer = SecretKey::generate(Algorithm::Es256).unwrap();
    let did = Did::key(issuer.public_key()).to_string();
    let kid = format!("{did}#key-1");
    let Pki { iaca, iaca_key, .. } = mdoc::pki(issuer.public_key(), now);
    let ds = dojang_mdoc::document_signer_certificate(
        &mdoc::AUTHORITY,
        &iaca,
        &iaca_key,
        &dojang_mdoc::DocumentSigner {
            common_name: "document signer",
            uri: Some(&did),
            key: issuer.public_key(),
            not_before: now - 60,
            days: 30,
        },
    )
    .unwrap();
    let draft = SdJwtVcDraft {
        vct: "urn:dojang:vct:mobile-id:1".into(),
        issuer: did.clone(),
        issued_at: now,
        valid_from: None,
        valid_until: None,
        holder_key: None,
        status: None,
        claims: serde_json::from_value(json!({"family_name": "김"})).unwrap(),
        disclosable: vec![],
    };
    let sd_jwt = draft.sign_with_chain(&issuer, &kid, &[ds]).unwrap();
    let jwks =
        json!({"keys": [Jwk { kid: Some(kid), ..Jwk::from_public_key(issuer.public_key()) }]});
    let root = base64::engine::general_purpose::STANDARD.encode(&iaca);
    let found = node_x5c(&json!({"sd_jwt": sd_jwt, "root": root, "jwks": jwks}));
    assert_eq!(
        found,
        json!({"alg": "ES256", "chains": true, "valid_now": true, "names_issuer": true,
            "signature_x5c": true, "signature_jwks": true}),
    );

    // Under another root, the chain does not hold; a payload altered, no key verifies it.
    let Pki { iaca: other, .. } = mdoc::pki(issuer.public_key(), now);
    let other = base64::engine::general_purpose::STANDARD.encode(&other);
    let found = node_x5c(&json!({"sd_jwt": sd_jwt, "root": other}));
    assert_eq!(found["chains"], false);
    let mut parts: Vec<String> = sd_jwt.split('.').map(str::to_owned).collect();
    parts[1] = dojang_core::b64::encode(br#"{"iss":"did:key:zEvil"}"#);
    let forged = parts.join(".");
    let found = node_x5c(&json!({"sd_jwt": forged, "root": root, "jwks": jwks}));
    assert_eq!(
        (&found["signature_x5c"], &found["signature_jwks"]),
        (&json!(false), &json!(false))
    );
    assert_eq!(found["names_issuer"], false);
}
