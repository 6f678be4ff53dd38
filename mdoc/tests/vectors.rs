//! Known answers: ISO/IEC 18013-5 Annex D (the "utopia" mDL, with its IACA root and an ISO
//! session MAC) and a real OpenID4VP 1.0 DeviceResponse (device signature over the OpenID4VP
//! SessionTranscript), from `../shared/vectors/mdoc/`. Each verifies as of a pinned clock; every
//! mutated byte of an item, the MSO or the device authentication is refused with its reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use dojang_core::ReasonCode;
use dojang_mdoc::{
    Certificate, DeviceResponse, IssuerSigned, MdocError, MobileSecurityObject,
    device_authentication_bytes, session_transcript_openid4vp,
};
use serde_json::Value;

/// 2021-01-01T00:00:00Z: inside Annex D's MSO and DS certificate validity.
const ANNEX_D_AT: i64 = 1_609_459_200;
/// 2026-01-12T00:00:00Z: inside the OpenID4VP example's validity.
const OID4VP_AT: i64 = 1_768_176_000;

fn dir(test: &str) -> Option<PathBuf> {
    dojang_testkit::vectors::vectors_dir(test).map(|d| d.join("mdoc"))
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn json(dir: &Path, file: &str) -> Value {
    serde_json::from_slice(&read(dir, file)).unwrap()
}

fn iaca(dir: &Path) -> Certificate {
    Certificate::from_der(&read(dir, "annex-d/iaca_root_cert.der")).unwrap()
}

#[test]
fn annex_d_issuer_signed_verifies_under_its_iaca_root() {
    let Some(dir) = dir("annex_d_issuer_signed") else {
        return;
    };
    let bytes = read(&dir, "annex-d/issuer_signed.cbor");
    let verified = IssuerSigned::parse(&bytes)
        .unwrap()
        .verify(&[iaca(&dir)], ANNEX_D_AT)
        .unwrap();
    assert_eq!(verified.mso.doc_type, "org.iso.18013.5.1.mDL");
    assert_eq!(verified.items.len(), 6);
    let family = verified
        .items
        .iter()
        .find(|i| i.element == "family_name")
        .unwrap();
    assert_eq!(family.namespace, "org.iso.18013.5.1");
    assert_eq!(family.value, "Doe");
    assert!(verified.signer.is_document_signer);
    assert_eq!(verified.signer.der(), read(&dir, "annex-d/ds_cert.der"));

    // The device key the MSO binds is the Annex D device key.
    let keys = json(&dir, "annex-d/keys.json");
    let x = hex::decode(keys["s_device_key"]["x"].as_str().unwrap()).unwrap();
    assert_eq!(verified.mso.device_key.point[1..33], x[..]);
    let mso = MobileSecurityObject::parse(&read(&dir, "annex-d/mso.cbor")).unwrap();
    assert_eq!(mso.value_digests["org.iso.18013.5.1"].len(), 13);
    assert_eq!(mso.valid_until, 1_633_095_002); // 2021-10-01T13:30:02Z
}

#[test]
fn annex_d_is_refused_with_the_right_reason_when_anything_is_off() {
    let Some(dir) = dir("annex_d_refusals") else {
        return;
    };
    let bytes = read(&dir, "annex-d/issuer_signed.cbor");
    let signed = IssuerSigned::parse(&bytes).unwrap();
    let reason = |result: Result<_, MdocError>| result.map(|_| ()).unwrap_err().reason();
    // Today: the MSO (and the certificate) expired in 2021.
    let now = 1_790_000_000;
    assert_eq!(
        reason(signed.verify(&[iaca(&dir)], now)),
        ReasonCode::Expired
    );
    // Before its validity.
    assert_eq!(
        reason(signed.verify(&[iaca(&dir)], 1_500_000_000)),
        ReasonCode::NotYetValid
    );
    // No trusted root, or a root that did not issue the signer.
    assert_eq!(
        reason(signed.verify(&[], ANNEX_D_AT)),
        ReasonCode::IssuerUnknown
    );
    let stranger = Certificate::from_der(&read(&dir, "oid4vp/animo_root_cert.der")).unwrap();
    assert_eq!(
        reason(signed.verify(&[stranger], ANNEX_D_AT)),
        ReasonCode::IssuerUnknown
    );
    // A signer certificate is not a root.
    let ds = Certificate::from_der(&read(&dir, "annex-d/ds_cert.der")).unwrap();
    assert_eq!(
        reason(signed.verify(&[ds], ANNEX_D_AT)),
        ReasonCode::IssuerUnknown
    );
}

/// Every byte of every disclosed item and of the signed MSO, flipped one at a time: never
/// accepted; an item's change is a digest mismatch, the MSO's a signature failure (or, where
/// the flip breaks the CBOR, a malformed credential).
#[test]
fn each_mutated_byte_of_an_item_or_the_mso_is_refused() {
    let Some(dir) = dir("annex_d_mutations") else {
        return;
    };
    let bytes = read(&dir, "annex-d/issuer_signed.cbor");
    let mso = read(&dir, "annex-d/mso.cbor");
    let issuer_auth = read(&dir, "annex-d/issuer_auth.cbor");
    let mso_at = find(&bytes, &mso);
    let auth_at = find(&bytes, &issuer_auth);
    let roots = [iaca(&dir)];
    let mut seen = std::collections::HashMap::new();
    // Items lie before issuerAuth; the portrait is long, so every item's bytes are covered by
    // flipping each byte up to issuerAuth, stepping through the portrait's middle.
    let flips = (0..auth_at)
        .filter(|i| *i < 600 || *i > auth_at - 600 || i % 97 == 0)
        .chain(mso_at..mso_at + mso.len());
    for at in flips {
        let mut mutated = bytes.clone();
        mutated[at] ^= 0x01;
        let outcome = IssuerSigned::parse(&mutated).and_then(|s| s.verify(&roots, ANNEX_D_AT));
        let code = match outcome {
            Ok(_) => panic!("byte {at} flipped and still accepted"),
            Err(e) => e.reason(),
        };
        *seen.entry(code).or_insert(0) += 1;
        if (mso_at..mso_at + mso.len()).contains(&at) {
            assert!(
                matches!(
                    code,
                    ReasonCode::SignatureInvalid | ReasonCode::MalformedCredential
                ),
                "MSO byte {at}: {code}"
            );
        }
    }
    assert!(
        seen.contains_key(&ReasonCode::DisclosureInvalid),
        "{seen:?}"
    );
    assert!(seen.contains_key(&ReasonCode::SignatureInvalid), "{seen:?}");
}

#[test]
fn annex_d_device_mac_verifies_over_its_session_transcript() {
    let Some(dir) = dir("annex_d_device_mac") else {
        return;
    };
    let response = read(&dir, "annex-d/device_response.cbor");
    let response = DeviceResponse::parse(&response).unwrap();
    assert_eq!(response.status, 0);
    let document = &response.documents[0];
    // SessionTranscriptBytes is #6.24(bstr .cbor SessionTranscript): the transcript inside.
    let transcript_bytes = read(&dir, "annex-d/session_transcript_bytes.cbor");
    let transcript = embedded(&transcript_bytes);
    // The builder reproduces Annex D's DeviceAuthenticationBytes (deviceSigned's nameSpaces
    // is an empty map, #6.24(h'a0')).
    assert_eq!(
        device_authentication_bytes(
            transcript,
            "org.iso.18013.5.1.mDL",
            &[0xd8, 0x18, 0x41, 0xa0]
        )
        .unwrap(),
        read(&dir, "annex-d/device_authentication_bytes.cbor")
    );
    let keys = json(&dir, "annex-d/keys.json");
    let mac_key = hex::decode(keys["e_mac_key"].as_str().unwrap()).unwrap();
    let verified = document
        .verify(&[iaca(&dir)], ANNEX_D_AT, transcript, Some(&mac_key))
        .unwrap();
    assert_eq!(verified.items.len(), 6);
    // Another key, or another transcript: refused as the holder's proof.
    let mut wrong = mac_key.clone();
    wrong[0] ^= 1;
    let refused = document
        .verify(&[iaca(&dir)], ANNEX_D_AT, transcript, Some(&wrong))
        .unwrap_err();
    assert_eq!(refused.reason(), ReasonCode::HolderBindingInvalid);
    assert!(
        document
            .verify(&[iaca(&dir)], ANNEX_D_AT, transcript, None)
            .is_err()
    );
}

#[test]
fn the_openid4vp_session_transcript_is_rebuilt_byte_for_byte() {
    let Some(dir) = dir("openid4vp_transcript") else {
        return;
    };
    let inputs = json(&dir, "oid4vp/animo_paradym_inputs.json");
    let i = &inputs["inputs"];
    let transcript = session_transcript_openid4vp(
        i["client_id"].as_str().unwrap(),
        i["nonce"].as_str().unwrap(),
        Some(&hex::decode(i["jwk_thumbprint"].as_str().unwrap()).unwrap()),
        i["response_uri"].as_str().unwrap(),
    );
    assert_eq!(hex::encode(&transcript), inputs["session_transcript_hex"]);
    let device_auth = device_authentication_bytes(
        &transcript,
        inputs["doc_type"].as_str().unwrap(),
        &[0xd8, 0x18, 0x41, 0xa0],
    )
    .unwrap();
    assert_eq!(
        hex::encode(device_auth),
        inputs["device_authentication_bytes_hex"]
    );
}

#[test]
fn an_openid4vp_device_response_verifies_and_any_other_transcript_fails() {
    let Some(dir) = dir("openid4vp_device_response") else {
        return;
    };
    let inputs = json(&dir, "oid4vp/animo_paradym_inputs.json");
    let i = &inputs["inputs"];
    let thumbprint = hex::decode(i["jwk_thumbprint"].as_str().unwrap()).unwrap();
    let transcript = |client_id: &str, nonce: &str, response_uri: &str| {
        session_transcript_openid4vp(client_id, nonce, Some(&thumbprint), response_uri)
    };
    let (client_id, nonce, response_uri) = (
        i["client_id"].as_str().unwrap(),
        i["nonce"].as_str().unwrap(),
        i["response_uri"].as_str().unwrap(),
    );
    let bytes = read(&dir, "oid4vp/animo_paradym_device_response.cbor");
    let response = DeviceResponse::parse(&bytes).unwrap();
    let document = &response.documents[0];
    let root = Certificate::from_der(&read(&dir, "oid4vp/animo_root_cert.der")).unwrap();
    let verified = document
        .verify(
            std::slice::from_ref(&root),
            OID4VP_AT,
            &transcript(client_id, nonce, response_uri),
            None,
        )
        .unwrap();
    let names: Vec<&str> = verified.items.iter().map(|i| i.element.as_str()).collect();
    assert_eq!(names, ["given_name", "family_name"]);
    for other in [
        transcript("x509_san_dns:evil.example", nonce, response_uri),
        transcript(client_id, "another-nonce", response_uri),
        transcript(client_id, nonce, "https://evil.example/response"),
        session_transcript_openid4vp(client_id, nonce, None, response_uri),
    ] {
        let refused = document
            .verify(std::slice::from_ref(&root), OID4VP_AT, &other, None)
            .unwrap_err();
        assert_eq!(refused.reason(), ReasonCode::HolderBindingInvalid);
    }
}

/// The contents of `#6.24(bstr)` (a 1- or 2-byte length, as in the vectors).
fn embedded(bytes: &[u8]) -> &[u8] {
    match bytes {
        [0xd8, 0x18, 0x58, _, rest @ ..] => rest,
        [0xd8, 0x18, 0x59, _, _, rest @ ..] => rest,
        _ => panic!("not an embedded item"),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the part is inside the whole")
}
