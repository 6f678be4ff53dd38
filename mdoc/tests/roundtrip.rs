//! dojang's own mdocs: an IACA root and a document signer's certificate made to ISO 18013-5
//! Annex B, an mdoc issued under them, presented over the OpenID4VP SessionTranscript with only
//! the chosen items, and verified — and refused when anything is not as issued.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dojang_core::ReasonCode;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_mdoc::{
    Certificate, DeviceResponse, Issuance, IssuerSigned, issue, present,
    session_transcript_openid4vp,
};
use dojang_testkit::mdoc::{self, DOC_TYPE};
use x509_parser::prelude::{FromDer as _, X509Certificate};

const NOW: i64 = 1_790_000_000; // 2026-09-21

struct Pki {
    iaca: Vec<u8>,
    ds: Vec<u8>,
    ds_key: SecretKey,
}

fn new_pki() -> Pki {
    let ds_key = SecretKey::generate(Algorithm::Es256).unwrap();
    let made = mdoc::pki(ds_key.public_key(), NOW);
    Pki {
        iaca: made.iaca,
        ds: made.ds,
        ds_key,
    }
}

fn elements() -> Vec<dojang_mdoc::Element> {
    mdoc::mobile_id_elements()
}

#[test]
fn certificates_follow_the_annex_b_profiles() {
    let pki = new_pki();
    let iaca = Certificate::from_der(&pki.iaca).unwrap();
    let ds = Certificate::from_der(&pki.ds).unwrap();
    assert!(iaca.is_ca && !iaca.is_document_signer);
    assert!(ds.is_document_signer && !ds.is_ca);
    ds.verify_issued_by(&iaca).unwrap();
    assert!(iaca.verify_issued_by(&ds).is_err());

    let (_, root) = X509Certificate::from_der(&pki.iaca).unwrap();
    let bc = root.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca && bc.value.path_len_constraint == Some(0));
    let ku = root.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.key_cert_sign() && ku.value.crl_sign());
    assert!(!ku.value.digital_signature());
    assert!(root.subject().to_string().contains("C=KR"));

    let (_, signer) = X509Certificate::from_der(&pki.ds).unwrap();
    let ku = signer.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.digital_signature() && !ku.value.key_cert_sign());
    let eku = signer.extended_key_usage().unwrap().unwrap();
    assert!(eku.critical, "ISO marks the document signer's EKU critical");
    assert!(signer.basic_constraints().unwrap().is_none());
    assert_eq!(
        signer.issuer().to_string(),
        root.subject().to_string(),
        "issued by the IACA"
    );
    let days = (ds.not_after - ds.not_before) / 86_400;
    assert!(days <= 457, "{days}");
    for cert in [&root, &signer] {
        let names: Vec<String> = cert
            .extensions()
            .iter()
            .map(|e| e.oid.to_id_string())
            .collect();
        assert!(
            names.contains(&"2.5.29.18".to_owned()),
            "issuer alternative name"
        );
        assert!(
            names.contains(&"2.5.29.31".to_owned()),
            "CRL distribution point"
        );
    }
}

#[test]
fn a_root_keeps_its_parsed_key_and_still_refuses_what_it_did_not_sign() {
    let (pki, other) = (new_pki(), new_pki());
    let iaca = Certificate::from_der(&pki.iaca).unwrap();
    let ds = Certificate::from_der(&pki.ds).unwrap();
    let stranger = Certificate::from_der(&other.ds).unwrap();
    // The outer signatureAlgorithm, ecdsa-with-SHA256 (1.2.840.10045.4.3.2), renamed
    // ecdsa-with-SHA384: the same bytes, claimed under the other scheme.
    let sha256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let at = pki
        .ds
        .windows(sha256.len())
        .rposition(|w| w == sha256)
        .unwrap();
    let rename = |last: u8| {
        let mut der = pki.ds.clone();
        der[at + sha256.len() - 1] = last;
        Certificate::from_der(&der).unwrap()
    };
    let renamed = rename(0x03);
    // ecdsa-with-SHA224: a scheme dojang does not check.
    assert_eq!(
        rename(0x01).verify_issued_by(&iaca).err(),
        Some(dojang_mdoc::MdocError::UnsupportedAlgorithm(
            "a certificate signature other than ECDSA"
        ))
    );
    let mut tampered = pki.ds.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let tampered = Certificate::from_der(&tampered).unwrap();

    for round in 0..2 {
        ds.verify_issued_by(&iaca).unwrap();
        for (what, cert) in [
            ("another root's", &stranger),
            ("renamed", &renamed),
            ("tampered", &tampered),
        ] {
            assert!(
                matches!(
                    cert.verify_issued_by(&iaca),
                    Err(dojang_mdoc::MdocError::UntrustedSigner(_))
                ),
                "round {round}: the {what} certificate"
            );
        }
    }
}

#[test]
fn an_issued_mdoc_is_presented_with_only_the_chosen_items_and_verifies() {
    let pki = new_pki();
    let device = SecretKey::generate(Algorithm::Es256).unwrap();
    let status = dojang_core::status::StatusListReference {
        idx: 41,
        uri: "https://dojang.example/registry/status-lists/mois-1".into(),
    };
    let elements = elements();
    let issued = issue(&Issuance {
        doc_type: DOC_TYPE,
        elements: &elements,
        device_key: device.public_key(),
        signed: NOW,
        valid_from: NOW,
        valid_until: NOW + 365 * 86_400,
        status: Some(&status),
        signer: &pki.ds_key,
        certificate: &pki.ds,
    })
    .unwrap();
    let roots = [Certificate::from_der(&pki.iaca).unwrap()];
    let verified = IssuerSigned::parse(&issued)
        .unwrap()
        .verify(&roots, NOW)
        .unwrap();
    assert_eq!(verified.items.len(), 5);
    assert_eq!(verified.mso.status, Some(status));
    assert_eq!(
        verified.mso.device_key.point,
        device.public_key().as_bytes()
    );
    let birth = verified
        .items
        .iter()
        .find(|i| i.element == "birthdate")
        .unwrap();
    assert_eq!(birth.value, "1994-03-15");

    let transcript = session_transcript_openid4vp(
        "x509_san_dns:counter.example",
        "n-0S6_WzA2Mj",
        None,
        "https://counter.example/response",
    );
    let response = present(
        &issued,
        &[(DOC_TYPE, "age_over_19"), (DOC_TYPE, "family_name")],
        &transcript,
        &device,
    )
    .unwrap();
    let parsed = DeviceResponse::parse(&response).unwrap();
    let document = &parsed.documents[0];
    let shown = document
        .verify(&roots, NOW + 60, &transcript, None)
        .unwrap();
    let mut names: Vec<&str> = shown.items.iter().map(|i| i.element.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["age_over_19", "family_name"],
        "only what was chosen"
    );

    // Another verifier's transcript, another device, another root, another time: refused.
    let other = session_transcript_openid4vp(
        "x509_san_dns:evil.example",
        "n-0S6_WzA2Mj",
        None,
        "https://counter.example/response",
    );
    let reason = |r: Result<_, dojang_mdoc::MdocError>| r.map(|_| ()).unwrap_err().reason();
    assert_eq!(
        reason(document.verify(&roots, NOW, &other, None)),
        ReasonCode::HolderBindingInvalid
    );
    let thief = SecretKey::generate(Algorithm::Es256).unwrap();
    let stolen = present(&issued, &[(DOC_TYPE, "age_over_19")], &transcript, &thief).unwrap();
    assert_eq!(
        reason(DeviceResponse::parse(&stolen).unwrap().documents[0].verify(
            &roots,
            NOW,
            &transcript,
            None
        )),
        ReasonCode::HolderBindingInvalid
    );
    let stranger = new_pki();
    let foreign = [Certificate::from_der(&stranger.iaca).unwrap()];
    assert_eq!(
        reason(document.verify(&foreign, NOW, &transcript, None)),
        ReasonCode::IssuerUnknown
    );
    assert_eq!(
        reason(document.verify(&roots, NOW + 2 * 365 * 86_400, &transcript, None)),
        ReasonCode::Expired
    );
}

#[test]
fn a_signer_certificate_outside_its_validity_at_signing_is_refused() {
    let pki = new_pki();
    let device = SecretKey::generate(Algorithm::Es256).unwrap();
    let elements = elements();
    // Signed a year before the document signer's certificate began.
    let early = NOW - 365 * 86_400;
    let issued = issue(&Issuance {
        doc_type: DOC_TYPE,
        elements: &elements,
        device_key: device.public_key(),
        signed: early,
        valid_from: early,
        valid_until: NOW + 86_400,
        status: None,
        signer: &pki.ds_key,
        certificate: &pki.ds,
    })
    .unwrap();
    let roots = [Certificate::from_der(&pki.iaca).unwrap()];
    let refused = IssuerSigned::parse(&issued)
        .unwrap()
        .verify(&roots, NOW)
        .unwrap_err();
    assert_eq!(refused.reason(), ReasonCode::KeyNotValidAtIssuance);
    // A document signer's key that is not the certificate's: the signature fails.
    let impostor = SecretKey::generate(Algorithm::Es256).unwrap();
    let forged = issue(&Issuance {
        doc_type: DOC_TYPE,
        elements: &elements,
        device_key: device.public_key(),
        signed: NOW,
        valid_from: NOW,
        valid_until: NOW + 86_400,
        status: None,
        signer: &impostor,
        certificate: &pki.ds,
    })
    .unwrap();
    let refused = IssuerSigned::parse(&forged)
        .unwrap()
        .verify(&roots, NOW)
        .unwrap_err();
    assert_eq!(refused.reason(), ReasonCode::SignatureInvalid);
}
