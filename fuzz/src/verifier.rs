//! What a verifier is shown: photos of QR codes, and anything at all through the whole
//! offline verifier.

use std::cell::RefCell;
use std::sync::Once;

use dojang_core::compact::Challenge;
use dojang_core::qr;
use dojang_core::sd_jwt::ExpectedKeyBinding;
use dojang_core::verdict::Verdict;
use dojang_verifier::{LedgerKeys, Policy, Presented, Verifier, di, verify_sd_jwt_vc};

use crate::world::{AUDIENCE, NONCE, NOW, QR_NONCE, world};

/// QR images (PNG, JPEG) through `core::qr::read_image`, whose work is bounded for uploads
/// from strangers. A code it reads, drawn again by `core::qr::to_png`, must read back to the
/// same text.
pub fn qr_image(data: &[u8]) {
    let Ok(text) = qr::read_image(data) else {
        return;
    };
    if let Ok(png) = qr::to_png(&text) {
        match qr::read_image(&png) {
            Ok(again) => assert_eq!(again, text, "a QR code drawn again reads differently"),
            Err(e) => panic!("a QR code drawn from text read in a photo does not read: {e}"),
        }
    }
}

/// The whole offline verifier: `Verifier::verify` (which runs `Presented::detect`) on any
/// input, against the world's trust, with the default policy; text presentations again with
/// a strict one (key binding and QR challenge required, a witness required), and SD-JWT VCs
/// also with `verify_sd_jwt_vc` over the ledger's keys without a bundle.
///
/// Invariants: every verdict is made at [`NOW`] and, with a bundle, says how fresh it is; an
/// accepted verdict names issuer and type and has no blocking reason; a rejected one has a
/// blocking reason and carries no claims.
///
/// Data Integrity credentials reach `ssi`, which panics on some inputs; `verifier::di` contains
/// those panics with `catch_unwind`. Under libFuzzer, run this harness through
/// [`with_contained_panics`], or libFuzzer's panic hook aborts on the contained ones too.
pub fn verifier(data: &[u8]) {
    let world = world();
    let verifier = Verifier {
        trust: &world.trust,
        catalog: world.catalog,
    };
    check(&verifier.verify(data, &Policy::default(), NOW), true);
    if data.starts_with(b"\x89PNG") || data.starts_with(&[0xff, 0xd8, 0xff]) {
        // An image was read above; reading it again says nothing new.
        return;
    }
    let strict = Policy {
        key_binding: Some(ExpectedKeyBinding {
            audience: AUDIENCE,
            nonce: NONCE,
            max_age: 300,
        }),
        challenge: Some(Challenge {
            audience: AUDIENCE,
            nonce: QR_NONCE,
        }),
        min_witnesses: 1,
        ..Policy::default()
    };
    match Presented::detect(data) {
        Ok(Presented::QrPayload(bytes)) => check(&verifier.qr(&bytes, &strict, NOW), true),
        Ok(Presented::SdJwt(text)) => {
            check(&verifier.sd_jwt_vc(&text, &strict, NOW), true);
            let keys = LedgerKeys(world.trust.state());
            check(
                &verify_sd_jwt_vc(&text, &keys, world.catalog, &strict, NOW),
                false,
            );
        }
        Ok(Presented::DataIntegrity(text)) => {
            let _ = di::looks_like_data_integrity(&text);
        }
        Err(_) => {}
    }
}

fn check(verdict: &Verdict, with_bundle: bool) {
    assert_eq!(verdict.verified_at, NOW);
    if with_bundle {
        assert!(verdict.freshness.is_some(), "a verdict without freshness");
    }
    if verdict.is_accepted() {
        assert!(verdict.blocking_codes().is_empty());
        assert!(
            verdict.issuer.is_some(),
            "an accepted verdict names no issuer"
        );
        assert!(
            verdict.credential_type.is_some(),
            "an accepted verdict names no type"
        );
    } else {
        assert!(
            !verdict.blocking_codes().is_empty(),
            "rejected for no reason"
        );
        assert!(
            verdict.disclosed_claims.is_empty(),
            "a rejected verdict carries claims"
        );
    }
}

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `harness` on `data` so that panics the code under test catches stay caught: the panic
/// hook only remembers the message, and a panic that escapes `harness` is printed and aborts
/// the process (which libFuzzer reports as a crash).
///
/// libFuzzer's own hook aborts on every panic, caught or not, so a target reaching
/// `verifier::di` without this would report the panics in `ssi` that dojang already contains.
pub fn with_contained_panics(harness: fn(&[u8]), data: &[u8]) {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            LAST_PANIC.with(|last| *last.borrow_mut() = Some(info.to_string()));
        }));
    });
    if std::panic::catch_unwind(|| harness(data)).is_err() {
        let message = LAST_PANIC.with(|last| last.borrow_mut().take());
        eprintln!(
            "panic escaped the harness: {}",
            message.as_deref().unwrap_or("(no message)")
        );
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use dojang_core::verdict::ReasonCode;

    use super::*;

    #[test]
    fn verifier_seeds_are_judged() {
        let world = world();
        let verifier = Verifier {
            trust: &world.trust,
            catalog: world.catalog,
        };
        for (name, seed) in crate::seeds("verifier") {
            let verdict = verifier.verify(&seed, &Policy::default(), NOW);
            let accepted = !name.contains("revoked") && !name.starts_with("di-");
            assert_eq!(verdict.is_accepted(), accepted, "{name}: {verdict:?}");
            if name.contains("revoked") {
                assert!(verdict.has(ReasonCode::Revoked), "{name}: {verdict:?}");
            }
        }
    }

    #[test]
    fn image_seeds_read() {
        for (name, seed) in crate::seeds("qr_image") {
            assert!(qr::read_image(&seed).is_ok(), "{name}");
        }
    }
}
