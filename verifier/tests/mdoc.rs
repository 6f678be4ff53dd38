//! mdoc (`mso_mdoc`) verdicts: a mobile ID issued as an ISO 18013-5 mdoc by the Ministry,
//! whose document signer's certificate the root authority published on the ledger under its
//! IACA root, presented over an OpenID4VP SessionTranscript and judged against the trust bundle
//! like every other format — accredited, revoked, certificate revoked, unknown signer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Actor, Ledger, now, status_uri};
use dojang_core::b64;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::status::StatusListReference;
use dojang_core::status::token::TokenStatus;
use dojang_core::verdict::{Decision, ReasonCode};
use dojang_ledger::entry::Operation;
use dojang_mdoc::{
    DocumentSigner, Issuance, document_signer_certificate, issue, present,
    session_transcript_openid4vp,
};
use dojang_schemas::Catalog;
use dojang_testkit::mdoc::{self, AUTHORITY, DOC_TYPE, Pki};
use dojang_verifier::{Policy, Verifier};

struct World {
    ledger: Ledger,
    mois: Actor,
    iaca: Vec<u8>,
    iaca_key: SecretKey,
    ds: Vec<u8>,
}

async fn world() -> World {
    let ledger = Ledger::new().await;
    let mois = ledger
        .issuer(
            Algorithm::Es256,
            "행정안전부 / Ministry of the Interior and Safety",
            &["mobile-id"],
        )
        .await;
    let Pki { iaca, iaca_key, ds } = mdoc::pki(mois.key.public_key(), now());
    for (subject, der) in [(None, &iaca), (Some(&mois), &ds)] {
        ledger
            .submit(ledger.root.sign(&Operation::CertificatePublish {
                authority: ledger.root.did.clone(),
                subject: subject.map(|s| s.did.clone()),
                certificate: b64::encode(der),
                at: now(),
            }))
            .await;
    }
    World {
        ledger,
        mois,
        iaca,
        iaca_key,
        ds,
    }
}

/// A mobile ID at status index `idx`, signed by `signer` with `certificate`, bound to `device`.
fn issued(
    signer: &SecretKey,
    certificate: &[u8],
    uri: &str,
    idx: u64,
    device: &SecretKey,
) -> Vec<u8> {
    let elements = mdoc::mobile_id_elements();
    let status = StatusListReference {
        idx,
        uri: uri.to_owned(),
    };
    issue(&Issuance {
        doc_type: DOC_TYPE,
        elements: &elements,
        device_key: device.public_key(),
        signed: now() - 60,
        valid_from: now() - 60,
        valid_until: now() + 86_400,
        status: Some(&status),
        signer,
        certificate,
    })
    .unwrap()
}

/// That mobile ID presented by its holder, disclosing two elements over `transcript`.
fn presented(
    signer: &SecretKey,
    certificate: &[u8],
    uri: &str,
    idx: u64,
    transcript: &[u8],
) -> Vec<u8> {
    let device = SecretKey::generate(Algorithm::Es256).unwrap();
    present(
        &issued(signer, certificate, uri, idx, &device),
        &[(DOC_TYPE, "family_name"), (DOC_TYPE, "age_over_19")],
        transcript,
        &device,
    )
    .unwrap()
}

/// The verdict on `presented` against the ledger's bundle now.
async fn judged(ledger: &Ledger, presented: &[u8]) -> dojang_core::Verdict {
    let trust = ledger.trust().await;
    let verifier = Verifier {
        trust: &trust,
        catalog: Catalog::builtin(),
    };
    verifier.mdoc(presented, &transcript(), &Policy::default(), now())
}

fn transcript() -> Vec<u8> {
    session_transcript_openid4vp(
        "x509_san_dns:counter.example",
        "nonce-1",
        None,
        "https://counter.example/response",
    )
}

#[tokio::test]
async fn an_mdoc_from_an_accredited_issuer_is_judged_like_any_credential() {
    let w = world().await;
    w.ledger
        .publish(&w.mois, 2, &[(5, TokenStatus::Invalid)])
        .await;
    let trust = w.ledger.trust().await;
    let verifier = Verifier {
        trust: &trust,
        catalog: Catalog::builtin(),
    };
    let policy = Policy::default();
    let uri = status_uri(&w.mois);

    let good = presented(&w.mois.key, &w.ds, &uri, 4, &transcript());
    let verdict = verifier.mdoc(&good, &transcript(), &policy, now());
    assert_eq!(verdict.decision, Decision::Accepted, "{verdict:?}");
    assert_eq!(verdict.credential_type.as_deref(), Some("mobile-id"));
    let issuer = verdict.issuer.as_ref().unwrap();
    assert_eq!(issuer.id, w.mois.did.to_string());
    assert!(issuer.name.as_deref().unwrap().contains("Ministry"));
    assert_eq!(verdict.disclosed_claims["family_name"], "김");
    assert!(!verdict.disclosed_claims.contains_key("birthdate"));

    // The same status list as the other formats: index 5 is revoked.
    let revoked = presented(&w.mois.key, &w.ds, &uri, 5, &transcript());
    let verdict = verifier.mdoc(&revoked, &transcript(), &policy, now());
    assert_eq!(verdict.decision, Decision::Rejected);
    assert!(
        verdict.blocking_codes().contains(&ReasonCode::Revoked),
        "{verdict:?}"
    );

    // Another verifier's transcript.
    let other = session_transcript_openid4vp(
        "x509_san_dns:evil.example",
        "nonce-1",
        None,
        "https://counter.example/response",
    );
    let verdict = verifier.mdoc(&good, &other, &policy, now());
    assert!(
        verdict
            .blocking_codes()
            .contains(&ReasonCode::HolderBindingInvalid)
    );

    // A document signer the registry never published (same IACA, another key): unknown.
    let rogue = SecretKey::generate(Algorithm::Es256).unwrap();
    let rogue_ds = document_signer_certificate(
        &AUTHORITY,
        &w.iaca,
        &w.iaca_key,
        &DocumentSigner {
            common_name: "rogue",
            uri: None,
            key: rogue.public_key(),
            not_before: now() - 60,
            days: 30,
        },
    )
    .unwrap();
    let unknown = presented(&rogue, &rogue_ds, &uri, 4, &transcript());
    let verdict = verifier.mdoc(&unknown, &transcript(), &policy, now());
    assert!(
        verdict
            .blocking_codes()
            .contains(&ReasonCode::IssuerUnknown),
        "{verdict:?}"
    );

    // Not a DeviceResponse.
    let verdict = verifier.mdoc(b"\xa0", &transcript(), &policy, now());
    assert!(
        verdict
            .blocking_codes()
            .contains(&ReasonCode::MalformedCredential)
    );
}

#[tokio::test]
async fn a_revoked_document_signer_certificate_or_a_withdrawn_issuer_is_refused() {
    let w = world().await;
    let uri = status_uri(&w.mois);
    let good = presented(&w.mois.key, &w.ds, &uri, 4, &transcript());
    let id = w
        .ledger
        .registry
        .state()
        .await
        .certificate(&w.ds)
        .unwrap()
        .id
        .clone();
    w.ledger
        .submit(w.ledger.root.sign(&Operation::CertificateRevoke {
            authority: w.ledger.root.did.clone(),
            certificate: id,
            reason: "key_compromise".into(),
            at: now(),
        }))
        .await;
    let verdict = judged(&w.ledger, &good).await;
    assert!(
        verdict
            .blocking_codes()
            .contains(&ReasonCode::KeyNotValidAtIssuance),
        "{verdict:?}"
    );

    let w = world().await;
    let good = presented(&w.mois.key, &w.ds, &uri, 4, &transcript());
    w.ledger.withdraw(&w.mois, &["mobile-id"]).await;
    let verdict = judged(&w.ledger, &good).await;
    assert!(
        verdict
            .blocking_codes()
            .contains(&ReasonCode::AccreditationWithdrawn),
        "{verdict:?}"
    );
}

/// `bytes` with the first `needle` found replaced by `with` (same length).
fn swapped(bytes: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the needle is in the bytes");
    let mut out = bytes.to_vec();
    out[at..at + needle.len()].copy_from_slice(with);
    out
}

#[tokio::test]
async fn every_mdoc_attack_is_refused_with_its_own_reason() {
    let w = world().await;
    let uri = status_uri(&w.mois);
    let good = presented(&w.mois.key, &w.ds, &uri, 4, &transcript());
    let refused = |verdict: dojang_core::Verdict, code: ReasonCode, attack: &str| {
        assert_eq!(
            verdict.decision,
            Decision::Rejected,
            "{attack}: {verdict:?}"
        );
        assert_eq!(verdict.blocking_codes(), [code], "{attack}: {verdict:?}");
    };

    // A disclosed value altered: `age_over_19` true → false.
    let altered = swapped(&good, b"\x6celementValue\xf5", b"\x6celementValue\xf4");
    refused(
        judged(&w.ledger, &altered).await,
        ReasonCode::DisclosureInvalid,
        "digest mismatch",
    );

    // An item the MSO does not list: the same item under another digest ID.
    let at = good.windows(9).position(|w| w == b"\x68digestID").unwrap();
    let mut foreign = good.clone();
    let last = at
        + 9
        + match foreign[at + 9] {
            0x1a => 4,
            0x19 => 2,
            0x18 => 1,
            _ => 0,
        };
    foreign[last] ^= 1;
    refused(
        judged(&w.ledger, &foreign).await,
        ReasonCode::DisclosureInvalid,
        "item not in the MSO",
    );

    // Presented by a device key other than the MSO's.
    let device = SecretKey::generate(Algorithm::Es256).unwrap();
    let thief = SecretKey::generate(Algorithm::Es256).unwrap();
    let issued = issued(&w.mois.key, &w.ds, &uri, 4, &device);
    let stolen = present(&issued, &[(DOC_TYPE, "family_name")], &transcript(), &thief).unwrap();
    refused(
        judged(&w.ledger, &stolen).await,
        ReasonCode::HolderBindingInvalid,
        "wrong device key",
    );

    // The SessionTranscript of another verifier.
    let elsewhere = session_transcript_openid4vp(
        "redirect_uri:https://evil.example/response",
        "nonce-1",
        None,
        "https://evil.example/response",
    );
    let replayed = presented(&w.mois.key, &w.ds, &uri, 4, &elsewhere);
    refused(
        judged(&w.ledger, &replayed).await,
        ReasonCode::HolderBindingInvalid,
        "transcript for another verifier",
    );

    // A chain to a root the bundle does not hold.
    let Pki { ds: untrusted, .. } = mdoc::pki(w.mois.key.public_key(), now());
    let rooted_elsewhere = presented(&w.mois.key, &untrusted, &uri, 4, &transcript());
    refused(
        judged(&w.ledger, &rooted_elsewhere).await,
        ReasonCode::IssuerUnknown,
        "untrusted root",
    );

    // A document signer whose certificate had expired when it signed.
    let expired = document_signer_certificate(
        &AUTHORITY,
        &w.iaca,
        &w.iaca_key,
        &DocumentSigner {
            common_name: "expired",
            uri: None,
            key: w.mois.key.public_key(),
            not_before: now() - 40 * 86_400,
            days: 30,
        },
    )
    .unwrap();
    let late = presented(&w.mois.key, &expired, &uri, 4, &transcript());
    refused(
        judged(&w.ledger, &late).await,
        ReasonCode::KeyNotValidAtIssuance,
        "expired document signer",
    );

    // Revoked.
    w.ledger
        .publish(&w.mois, 2, &[(7, TokenStatus::Invalid)])
        .await;
    let revoked = presented(&w.mois.key, &w.ds, &uri, 7, &transcript());
    refused(
        judged(&w.ledger, &revoked).await,
        ReasonCode::Revoked,
        "revoked",
    );

    // A document type its issuer is not accredited for: Seoul, certified, issues mobile IDs.
    let seoul = w
        .ledger
        .issuer(
            Algorithm::Es256,
            "서울특별시 / Seoul Metropolitan Government",
            &["citizen-card"],
        )
        .await;
    let seoul_ds = document_signer_certificate(
        &AUTHORITY,
        &w.iaca,
        &w.iaca_key,
        &DocumentSigner {
            common_name: "seoul",
            uri: Some(seoul.did.as_str()),
            key: seoul.key.public_key(),
            not_before: now() - 60,
            days: 30,
        },
    )
    .unwrap();
    w.ledger
        .submit(w.ledger.root.sign(&Operation::CertificatePublish {
            authority: w.ledger.root.did.clone(),
            subject: Some(seoul.did.clone()),
            certificate: b64::encode(&seoul_ds),
            at: now(),
        }))
        .await;
    let unaccredited = presented(&seoul.key, &seoul_ds, &status_uri(&seoul), 4, &transcript());
    refused(
        judged(&w.ledger, &unaccredited).await,
        ReasonCode::IssuerNotAccreditedForType,
        "unaccredited doctype",
    );

    // Truncated at every length: refused, never a panic.
    for len in (0..good.len()).step_by(7) {
        let verdict = judged(&w.ledger, &good[..len]).await;
        assert_eq!(verdict.decision, Decision::Rejected, "{len}");
    }
}
