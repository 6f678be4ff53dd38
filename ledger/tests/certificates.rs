//! Certificates on the ledger: the root authority publishes its issuing-authority root (IACA)
//! and document signers' certificates for accredited issuers' keys; verifiers take the roots
//! from the state. Every rule, accepted and refused with its reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dojang_core::b64;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_ledger::entry::{EntryError, Operation};
use dojang_mdoc::{DocumentSigner, document_signer_certificate, iaca_certificate};
use dojang_testkit::ledger::{Actor, FIXTURE_TIME, TestLog, grant};
use dojang_testkit::mdoc::AUTHORITY;

fn publish(root: &Actor, subject: Option<&Actor>, der: &[u8]) -> String {
    root.sign(&Operation::CertificatePublish {
        authority: root.did.clone(),
        subject: subject.map(|s| s.did.clone()),
        certificate: b64::encode(der),
        at: FIXTURE_TIME,
    })
}

fn refused(result: Result<impl std::fmt::Debug, EntryError>) -> &'static str {
    match result {
        Err(EntryError::Certificate { reason }) => reason,
        other => panic!("expected a certificate refusal, got {other:?}"),
    }
}

#[test]
fn the_root_publishes_an_iaca_and_document_signers_for_accredited_keys() {
    let root = Actor::new(Algorithm::EdDsa);
    let mois = Actor::new(Algorithm::Es256);
    let stranger = Actor::new(Algorithm::Es256);
    let mut log = TestLog::new(&root, "registry.dojang.example/log");
    log.append(mois.create()).unwrap();
    log.append(stranger.create()).unwrap();
    log.append(grant(&root, &mois, "MOIS", &["mobile-id"], false))
        .unwrap();

    let iaca_key = SecretKey::generate(Algorithm::Es256).unwrap();
    let iaca = iaca_certificate(&AUTHORITY, &iaca_key, FIXTURE_TIME - 86_400, 3650).unwrap();
    let signer_for = |key: &SecretKey| {
        document_signer_certificate(
            &AUTHORITY,
            &iaca,
            &iaca_key,
            &DocumentSigner {
                common_name: "document signer",
                uri: None,
                key: key.public_key(),
                not_before: FIXTURE_TIME,
                days: 365,
            },
        )
        .unwrap()
    };
    let ds = signer_for(&mois.key);

    // A document signer's certificate before its root is published: refused.
    assert_eq!(
        refused(log.append(publish(&root, Some(&mois), &ds))),
        "not issued by a published, unrevoked root"
    );
    // Only the root authority publishes.
    assert_eq!(
        refused(log.append(publish(&mois, None, &iaca))),
        "only the root authority publishes certificates"
    );
    log.append(publish(&root, None, &iaca)).unwrap();
    assert_eq!(
        refused(log.append(publish(&root, None, &iaca))),
        "already published"
    );
    assert_eq!(
        log.state.iaca_roots().collect::<Vec<_>>(),
        vec![iaca.clone()]
    );

    // A root names no subject; a document signer's names its issuer.
    assert_eq!(
        refused(log.append(publish(&root, None, &ds))),
        "a root names no subject; a document signer's names its issuer"
    );
    // The certificate's key must be the subject's, and the subject accredited.
    assert_eq!(
        refused(log.append(publish(&root, Some(&mois), &signer_for(&stranger.key)))),
        "the certificate's key is not one of the subject's"
    );
    assert_eq!(
        refused(log.append(publish(&root, Some(&stranger), &signer_for(&stranger.key)))),
        "the subject is not accredited"
    );
    log.append(publish(&root, Some(&mois), &ds)).unwrap();
    let record = log.state.certificate(&ds).unwrap();
    assert_eq!(record.subject.as_ref(), Some(&mois.did));
    assert!(!record.is_root && record.revoked.is_none());

    // A self-signed root that is not the one published does not make document signers.
    let rogue_key = SecretKey::generate(Algorithm::Es256).unwrap();
    let rogue = iaca_certificate(&AUTHORITY, &rogue_key, FIXTURE_TIME, 10).unwrap();
    let rogue_ds = document_signer_certificate(
        &AUTHORITY,
        &rogue,
        &rogue_key,
        &DocumentSigner {
            common_name: "x",
            uri: None,
            key: mois.key.public_key(),
            not_before: FIXTURE_TIME,
            days: 10,
        },
    )
    .unwrap();
    assert_eq!(
        refused(log.append(publish(&root, Some(&mois), &rogue_ds))),
        "not issued by a published, unrevoked root"
    );
    assert_eq!(
        refused(log.append(publish(&root, None, b"not a certificate"))),
        "not an X.509 certificate"
    );

    // Revoked: the root leaves the trusted set; a second revocation is refused.
    let id = log.state.certificate(&iaca).unwrap().id.clone();
    let revoke = |by: &Actor, reason: &str| {
        by.sign(&Operation::CertificateRevoke {
            authority: by.did.clone(),
            certificate: id.clone(),
            reason: reason.into(),
            at: FIXTURE_TIME,
        })
    };
    assert_eq!(
        refused(log.append(revoke(&mois, "key_compromise"))),
        "only the root authority revokes certificates"
    );
    log.append(revoke(&root, "key_compromise")).unwrap();
    assert_eq!(log.state.iaca_roots().count(), 0);
    assert_eq!(
        refused(log.append(revoke(&root, "again"))),
        "already revoked"
    );
    // Whatever was refused changed nothing: two certificates, in log order.
    assert_eq!(log.state.certificates().len(), 2);
}
