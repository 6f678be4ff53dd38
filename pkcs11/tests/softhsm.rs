//! The PKCS#11 signer against SoftHSM2 (Debian `softhsm2`, installed by `.ci/services`): keys
//! made on a token sign for dojang and never leave it; a token whose sessions were lost serves
//! again; every refusal is typed. Without SoftHSM2 the test says it skipped — except under `CI`,
//! where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use dojang_core::key::{Algorithm, Signer, Verifier as _};
use dojang_pkcs11::{Pkcs11Error, Pkcs11Signer};
use dojang_testkit::hsm::softhsm;

fn signs_and_verifies(signer: &Pkcs11Signer) {
    let message = b"status list version 7";
    let signature = signer.sign(message).unwrap();
    signer.public_key().verify(message, &signature).unwrap();
    assert!(
        signer
            .public_key()
            .verify(b"another message", &signature)
            .is_err()
    );
}

#[test]
fn keys_made_on_the_token_sign_for_dojang_and_never_leave_it() {
    let Some(hsm) = softhsm() else { return };
    let token = hsm.token("issuers");
    for (alg, object) in [(Algorithm::Es256, "seoul-1"), (Algorithm::EdDsa, "busan-1")] {
        let uri = hsm.uri(&token, object);
        let made = Pkcs11Signer::generate(&uri, alg).unwrap();
        assert_eq!(made.algorithm(), alg);
        signs_and_verifies(&made);
        // Opened again (another process, a restart): the same public key, read from the token.
        let opened = Pkcs11Signer::open(&uri).unwrap();
        assert_eq!(opened.public_key(), made.public_key());
        signs_and_verifies(&opened);
        if alg == Algorithm::Es256 {
            assert_eq!(opened.sign(b"x").unwrap().len(), 64, "r‖s, not DER");
        }

        // The private key is sensitive and was never extractable; its value cannot be read.
        hsm.key_stays_on_token(&token, object).unwrap();

        // A second key under the same label is refused.
        assert!(matches!(
            Pkcs11Signer::generate(&uri, alg),
            Err(Pkcs11Error::Exists(_))
        ));
    }
}

#[test]
fn a_token_that_lost_its_sessions_serves_again_and_refusals_are_typed() {
    let Some(hsm) = softhsm() else { return };
    let token = hsm.token("registry");
    let uri = hsm.uri(&token, "log-key");
    // A wrong PIN (checked before anyone logs in: PKCS#11 logins are per process and token).
    let wrong_pin = hsm.pin_file.with_file_name("wrong-pin");
    std::fs::write(&wrong_pin, "0000").unwrap();
    let mut wrong = uri.clone();
    wrong.pin_source = Some(wrong_pin);
    let error = Pkcs11Signer::generate(&wrong, Algorithm::Es256).unwrap_err();
    assert!(matches!(error, Pkcs11Error::Token(_)), "{error}");
    assert!(!error.to_string().contains("0000"), "{error}");
    let signer = Pkcs11Signer::generate(&uri, Algorithm::Es256).unwrap();
    signs_and_verifies(&signer);
    // Everyone is logged out of the token (as after a re-plug): the pooled session can no
    // longer use the key; the signer logs in on a fresh session and signs.
    hsm.session(&token).logout().unwrap();
    signs_and_verifies(&signer);

    // No such token, no such key, no PIN, no module: each its own error.
    assert!(matches!(
        Pkcs11Signer::open(&hsm.uri("elsewhere", "log-key")),
        Err(Pkcs11Error::TokenAbsent(label)) if label == "elsewhere"
    ));
    assert!(matches!(
        Pkcs11Signer::open(&hsm.uri(&token, "nope")),
        Err(Pkcs11Error::NoKey(_))
    ));
    let mut no_pin = uri.clone();
    no_pin.pin_source = None;
    if std::env::var_os("DOJANG_PKCS11_PIN").is_none()
        && std::env::var_os("DOJANG_PKCS11_PIN_FILE").is_none()
    {
        assert!(matches!(
            Pkcs11Signer::open(&no_pin),
            Err(Pkcs11Error::NoPin)
        ));
    }
    let mut missing_file = uri.clone();
    missing_file.pin_source = Some(Path::new("/nonexistent/pin").to_owned());
    assert!(matches!(
        Pkcs11Signer::open(&missing_file),
        Err(Pkcs11Error::PinFile { .. })
    ));
    let mut no_module = uri;
    no_module.module_path = Some("/nonexistent/libpkcs11.so".into());
    assert!(matches!(
        Pkcs11Signer::open(&no_module),
        Err(Pkcs11Error::Module { .. })
    ));
}

/// SoftHSM2 rescans its token directory on every slot list; two threads listing while tokens
/// are made once aborted the whole test process (`SlotManager::insertToken`). Many at once here:
/// every signer opens and signs.
#[test]
fn tokens_made_while_others_list_slots_do_not_race() {
    let Some(hsm) = softhsm() else { return };
    std::thread::scope(|scope| {
        for worker in 0..4 {
            scope.spawn(move || {
                for round in 0..3 {
                    let token = hsm.token(&format!("race-{worker}-{round}"));
                    let uri = hsm.uri(&token, "key");
                    let made = Pkcs11Signer::generate(&uri, Algorithm::Es256).unwrap();
                    signs_and_verifies(&made);
                    signs_and_verifies(&Pkcs11Signer::open(&uri).unwrap());
                    assert!(dojang_pkcs11::slots(&hsm.context, true).unwrap().len() > 1);
                }
            });
        }
    });
}
