//! The attack corpus: every way a presentation or a trust bundle can be wrong, each rejected
//! with its own reason code — and never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Actor, Ledger, issue, issue_with, now, present};
use dojang_core::compact::{self, Binding, ChallengeRequest, forge};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::sd_jwt::{ClaimPath, ExpectedKeyBinding, HeldSdJwt, KeyBindingInput};
use dojang_core::status::token::TokenStatus;
use dojang_core::verdict::{Decision, ReasonCode, ReasonKind, Verdict};
use dojang_ledger::bundle::{BundleError, TrustBundle};
use dojang_schemas::Catalog;
use dojang_verifier::{Policy, Trust, Verifier};

/// A ledger with Seoul (ES256, citizen cards and job badges) and the Ministry of the Interior
/// (EdDSA, mobile IDs) accredited; Seoul's list has index 7 revoked and 8 suspended.
struct World {
    ledger: Ledger,
    seoul: Actor,
    mois: Actor,
    holder: SecretKey,
}

async fn world() -> World {
    let ledger = Ledger::new().await;
    let seoul = ledger
        .issuer(
            Algorithm::Es256,
            "Seoul Metropolitan Government",
            &["citizen-card", "job-badge"],
        )
        .await;
    ledger
        .publish(
            &seoul,
            2,
            &[(7, TokenStatus::Invalid), (8, TokenStatus::Suspended)],
        )
        .await;
    let mois = ledger
        .issuer(
            Algorithm::EdDsa,
            "Ministry of the Interior and Safety",
            &["mobile-id"],
        )
        .await;
    World {
        ledger,
        seoul,
        mois,
        holder: SecretKey::generate(Algorithm::Es256).unwrap(),
    }
}

fn verify(trust: &Trust, presentation: &[u8], policy: &Policy<'_>, at: i64) -> Verdict {
    let verifier = Verifier {
        trust,
        catalog: Catalog::builtin(),
    };
    verifier.qr(presentation, policy, at)
}

/// Rejected for `code` alone, as an invalid (not unchecked) finding.
#[track_caller]
fn assert_rejected(verdict: &Verdict, code: ReasonCode) {
    assert_eq!(verdict.decision, Decision::Rejected, "{verdict:#?}");
    assert_eq!(verdict.blocking_codes(), vec![code], "{verdict:#?}");
    let reason = verdict.reasons.iter().find(|r| r.code == code).unwrap();
    assert_eq!(reason.kind, ReasonKind::Invalid);
    assert!(verdict.freshness.is_some(), "freshness is always reported");
}

#[tokio::test]
async fn honest_presentations_are_accepted_with_issuer_claims_and_freshness() {
    let w = world().await;
    let trust = w.ledger.trust().await;
    let t = now();

    let card = issue(&w.seoul, "citizen-card", &w.holder, 1234);
    let verdict = verify(&trust, &present(&card, &w.holder, t), &Policy::default(), t);
    assert_eq!(verdict.decision, Decision::Accepted, "{verdict:#?}");
    assert!(verdict.reasons.is_empty(), "{verdict:#?}");
    assert_eq!(verdict.credential_type.as_deref(), Some("citizen-card"));
    let issuer = verdict.issuer.as_ref().unwrap();
    assert_eq!(issuer.id, w.seoul.did.as_str());
    assert_eq!(
        issuer.name.as_deref(),
        Some("Seoul Metropolitan Government")
    );
    assert_eq!(verdict.disclosed_claims["card_number"], "SC-2026-000123");
    let freshness = verdict.freshness.unwrap();
    assert_eq!(freshness.checkpoint_size, trust.size());
    assert!(freshness.bundle_age_secs <= 60, "{freshness:?}");

    // EdDSA issuer and holder; only some claims shown.
    let holder = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let id = issue(&w.mois, "mobile-id", &holder, 5);
    let shown = id
        .present(
            &["given_name"],
            &Binding {
                at: t,
                challenge: None,
            },
            &holder,
        )
        .unwrap();
    let verdict = verify(&trust, &shown, &Policy::default(), t);
    assert!(verdict.is_accepted(), "{verdict:#?}");
    assert!(verdict.disclosed_claims.contains_key("given_name"));
    assert!(!verdict.disclosed_claims.contains_key("family_name"));

    // The same presentation as QR text and as a PNG photo of the QR.
    let text = compact::to_qr_text(&shown);
    let verifier = Verifier {
        trust: &trust,
        catalog: Catalog::builtin(),
    };
    assert!(
        verifier
            .verify(text.as_bytes(), &Policy::default(), t)
            .is_accepted()
    );
    let png = dojang_core::qr::to_png(&text).unwrap();
    let verdict = verifier.verify(&png, &Policy::default(), t);
    assert!(verdict.is_accepted(), "{verdict:#?}");
}

#[tokio::test]
async fn forged_issuer_signature_is_rejected() {
    let w = world().await;
    let trust = w.ledger.trust().await;
    let forger = SecretKey::generate(Algorithm::Es256).unwrap();
    let card = issue_with(
        &w.seoul,
        &forger,
        "key-1",
        "citizen-card",
        &w.holder,
        1,
        |_| {},
    );
    let t = now();
    let verdict = verify(&trust, &present(&card, &w.holder, t), &Policy::default(), t);
    assert_rejected(&verdict, ReasonCode::SignatureInvalid);
}

#[tokio::test]
async fn unaccredited_and_withdrawn_issuers_are_rejected() {
    let w = world().await;
    let busan = w.ledger.issuer(Algorithm::Es256, "", &[]).await;
    let daegu = w
        .ledger
        .issuer(Algorithm::Es256, "Daegu", &["citizen-card"])
        .await;
    w.ledger.withdraw(&daegu, &["citizen-card"]).await;
    let trust = w.ledger.trust().await;
    let t = now();

    // Registered but never accredited: the bundle does not carry strangers' DIDs (anyone may
    // register one), so its key is not known to the verifier at all.
    let card = issue(&busan, "citizen-card", &w.holder, 1);
    let verdict = verify(&trust, &present(&card, &w.holder, t), &Policy::default(), t);
    assert_rejected(&verdict, ReasonCode::IssuerUnknown);

    // Accredited, but for other types.
    let id = issue(&w.seoul, "mobile-id", &w.holder, 1);
    let verdict = verify(&trust, &present(&id, &w.holder, t), &Policy::default(), t);
    assert_rejected(&verdict, ReasonCode::IssuerNotAccreditedForType);

    let card = issue(&daegu, "citizen-card", &w.holder, 1);
    let verdict = verify(&trust, &present(&card, &w.holder, t), &Policy::default(), t);
    assert_rejected(&verdict, ReasonCode::AccreditationWithdrawn);
}

#[tokio::test]
async fn a_key_rotated_out_before_issuance_is_rejected_but_earlier_credentials_stand() {
    let w = world().await;
    let earlier = issue(&w.seoul, "citizen-card", &w.holder, 1);
    // The rotation lands in a later second than the earlier credential's `iat`.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let key2 = w.ledger.rotate(&w.seoul).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let trust = w.ledger.trust().await;
    let t = now();

    let verdict = verify(
        &trust,
        &present(&earlier, &w.holder, t),
        &Policy::default(),
        t,
    );
    assert!(verdict.is_accepted(), "{verdict:#?}");

    let stale_key = issue(&w.seoul, "citizen-card", &w.holder, 2);
    let verdict = verify(
        &trust,
        &present(&stale_key, &w.holder, t),
        &Policy::default(),
        t,
    );
    assert_rejected(&verdict, ReasonCode::KeyNotValidAtIssuance);

    let current = issue_with(
        &w.seoul,
        &key2,
        "key-2",
        "citizen-card",
        &w.holder,
        3,
        |_| {},
    );
    let verdict = verify(
        &trust,
        &present(&current, &w.holder, t),
        &Policy::default(),
        t,
    );
    assert!(verdict.is_accepted(), "{verdict:#?}");
}

#[tokio::test]
async fn tampered_and_injected_disclosures_are_rejected() {
    let w = world().await;
    let trust = w.ledger.trust().await;
    let t = now();
    let card = issue(&w.seoul, "citizen-card", &w.holder, 1);

    // One byte of a disclosed value changed (the holder's signature is then wrong too, but the
    // issuer's digests are checked first).
    let mut tampered = present(&card, &w.holder, t);
    let at = find(&tampered, b"SC-2026-000123").unwrap();
    tampered[at + 3] = b'9';
    let verdict = verify(&trust, &tampered, &Policy::default(), t);
    assert_rejected(&verdict, ReasonCode::DisclosureInvalid);

    // A claim this credential does not disclose, taken from another citizen's card and
    // presented by the holder with a valid binding.
    let minor = issue(
        &w.seoul,
        "citizen-card",
        &SecretKey::generate(Algorithm::Es256).unwrap(),
        2,
    );
    let borrowed = forge::disclosure(&minor, "age_over_65").unwrap();
    let mut shown = vec![forge::disclosure(&card, "name").unwrap()];
    shown.push(borrowed);
    let injected = forge::presentation(
        &card,
        shown,
        &Binding {
            at: t,
            challenge: None,
        },
        &w.holder,
    )
    .unwrap();
    let verdict = verify(&trust, &injected, &Policy::default(), t);
    assert_rejected(&verdict, ReasonCode::DisclosureInvalid);
}

#[tokio::test]
async fn holder_binding_attacks_are_rejected() {
    let w = world().await;
    let trust = w.ledger.trust().await;
    let t = now();
    let card = issue(&w.seoul, "citizen-card", &w.holder, 1);

    // Someone who copied the credential signs the binding with their own key.
    let thief = SecretKey::generate(Algorithm::Es256).unwrap();
    let all = card.disclosable();
    let disclosures = all
        .iter()
        .map(|name| forge::disclosure(&card, name).unwrap())
        .collect();
    let stolen = forge::presentation(
        &card,
        disclosures,
        &Binding {
            at: t,
            challenge: None,
        },
        &thief,
    )
    .unwrap();
    let verdict = verify(&trust, &stolen, &Policy::default(), t);
    assert_rejected(&verdict, ReasonCode::HolderBindingInvalid);

    // A photographed QR replayed after its window.
    let old = present(&card, &w.holder, t - 600);
    let verdict = verify(&trust, &old, &Policy::default(), t);
    assert_rejected(&verdict, ReasonCode::BindingExpired);

    // Challenge mode: the answer to another verifier's challenge, or to none.
    let mine = ChallengeRequest::new("counter-7@mapo.go.kr").unwrap();
    let theirs = ChallengeRequest::new("counter-7@mapo.go.kr").unwrap();
    let policy = Policy {
        challenge: Some(mine.challenge()),
        ..Policy::default()
    };
    let answer = |request: &ChallengeRequest| {
        card.present(
            &["name"],
            &Binding {
                at: t,
                challenge: Some(request.challenge()),
            },
            &w.holder,
        )
        .unwrap()
    };
    assert!(verify(&trust, &answer(&mine), &policy, t).is_accepted());
    assert_rejected(
        &verify(&trust, &answer(&theirs), &policy, t),
        ReasonCode::ChallengeMismatch,
    );
    assert_rejected(
        &verify(&trust, &present(&card, &w.holder, t), &policy, t),
        ReasonCode::ChallengeMismatch,
    );
    let elsewhere = ChallengeRequest {
        audience: "kiosk@evil.example".into(),
        nonce: mine.nonce.clone(),
    };
    assert_rejected(
        &verify(&trust, &answer(&elsewhere), &policy, t),
        ReasonCode::AudienceMismatch,
    );
}

#[tokio::test]
async fn validity_period_and_status_are_enforced() {
    let w = world().await;
    let trust = w.ledger.trust().await;
    let t = now();
    let check = |idx: u64, edit: &dyn Fn(&mut dojang_core::sd_jwt::vc::SdJwtVcDraft)| {
        let held = issue_with(
            &w.seoul,
            &w.seoul.key,
            "key-1",
            "citizen-card",
            &w.holder,
            idx,
            edit,
        );
        verify(&trust, &present(&held, &w.holder, t), &Policy::default(), t)
    };
    assert_rejected(
        &check(1, &|d| d.valid_until = Some(t - 3600)),
        ReasonCode::Expired,
    );
    assert_rejected(
        &check(1, &|d| d.valid_from = Some(t + 3600)),
        ReasonCode::NotYetValid,
    );
    assert_rejected(&check(7, &|_| {}), ReasonCode::Revoked);
    assert_rejected(&check(8, &|_| {}), ReasonCode::Suspended);
    assert!(check(9, &|_| {}).is_accepted());

    // A status list the bundle does not carry: could not check, which blocks by default.
    let verdict = check(1, &|d| {
        if let Some(status) = &mut d.status {
            status.uri = "https://elsewhere.example/lists/1".into();
        }
    });
    assert_eq!(
        verdict.blocking_codes(),
        vec![ReasonCode::StatusUnavailable]
    );
    assert_eq!(verdict.reasons[0].kind, ReasonKind::Unchecked);
}

#[tokio::test]
async fn a_stale_bundle_or_too_few_witnesses_reject() {
    let w = world().await;
    let trust = w.ledger.trust().await;
    let card = issue(&w.seoul, "citizen-card", &w.holder, 1);

    // Two days later the credential and binding are fine, the bundle is not.
    let later = now() + 2 * 86_400;
    let verdict = verify(
        &trust,
        &present(&card, &w.holder, later),
        &Policy::default(),
        later,
    );
    assert_rejected(&verdict, ReasonCode::BundleTooOld);
    assert!(verdict.freshness.unwrap().bundle_age_secs >= 2 * 86_400);
    let lenient = Policy {
        max_bundle_age: Some(3 * 86_400),
        ..Policy::default()
    };
    let verdict = verify(&trust, &present(&card, &w.holder, later), &lenient, later);
    assert!(verdict.is_accepted(), "{verdict:#?}");

    let t = now();
    let strict = Policy {
        min_witnesses: 1,
        ..Policy::default()
    };
    let verdict = verify(&trust, &present(&card, &w.holder, t), &strict, t);
    assert_rejected(&verdict, ReasonCode::WitnessesInsufficient);
}

#[tokio::test]
async fn deltas_bring_revocations_and_forged_or_forked_bundles_are_refused() {
    let w = world().await;
    let anchor = w.ledger.registry.trust_anchor();
    let mut trust = w.ledger.trust().await;
    let base = trust.size();
    let card = issue(&w.seoul, "citizen-card", &w.holder, 42);
    let t = now();
    assert!(verify(&trust, &present(&card, &w.holder, t), &Policy::default(), t).is_accepted());

    // Seoul revokes index 42; the verifier applies the delta.
    w.ledger
        .publish(
            &w.seoul,
            3,
            &[(7, TokenStatus::Invalid), (42, TokenStatus::Invalid)],
        )
        .await;
    let delta = w.ledger.registry.bundle(Some(base)).await.unwrap();
    trust.update(&delta).unwrap();
    assert_eq!(trust.size(), base + 1);
    let t = now();
    let verdict = verify(&trust, &present(&card, &w.holder, t), &Policy::default(), t);
    assert_rejected(&verdict, ReasonCode::Revoked);

    // A bundle whose checkpoint was altered, re-signed with the (stolen) bundle key: the log's
    // signature on the checkpoint does not hold.
    let full = w.ledger.registry.bundle(None).await.unwrap();
    let mut document = bundle_document(&full);
    document.checkpoint = document.checkpoint.replacen('\n', "\n1", 1);
    let forged = document.sign(w.ledger.registry.bundle_key()).unwrap();
    assert!(matches!(
        Trust::load(&forged, anchor.clone()),
        Err(BundleError::Checkpoint(_))
    ));

    // An entry changed: its inclusion proof fails.
    let mut document = bundle_document(&full);
    let last = document.entries.len() - 1;
    document.entries[last].leaf = document.entries[0].leaf.clone();
    let forged = document.sign(w.ledger.registry.bundle_key()).unwrap();
    assert!(matches!(
        Trust::load(&forged, anchor.clone()),
        Err(BundleError::Proof { .. })
    ));

    // Signed by anyone else.
    let stranger = SecretKey::generate(Algorithm::EdDsa).unwrap();
    assert!(matches!(
        Trust::load(
            &bundle_document(&full).sign(&stranger).unwrap(),
            anchor.clone()
        ),
        Err(BundleError::Signature(_))
    ));

    // A fork: the operator signs, with the real log key, a checkpoint of a rewritten history.
    // The held state is kept and still answers.
    w.ledger.publish(&w.seoul, 4, &[]).await;
    let honest = w.ledger.registry.bundle(Some(trust.size())).await.unwrap();
    let mut document = bundle_document(&honest);
    let signer = dojang_testkit::registry::log_signer(&w.ledger.url, common::ORIGIN).await;
    let mut checkpoint = dojang_ledger::checkpoint::SignedCheckpoint::verify(
        &document.checkpoint,
        common::ORIGIN,
        w.ledger.registry.log_key(),
    )
    .unwrap()
    .checkpoint;
    checkpoint.root[0] ^= 0xff;
    document.checkpoint = dojang_ledger::checkpoint::SignedCheckpoint::sign(checkpoint, &signer)
        .unwrap()
        .to_text();
    let fork = document.sign(w.ledger.registry.bundle_key()).unwrap();
    let size = trust.size();
    assert_eq!(trust.update(&fork).unwrap_err(), BundleError::Fork);
    assert_eq!(trust.size(), size);
    let t = now();
    let verdict = verify(&trust, &present(&card, &w.holder, t), &Policy::default(), t);
    assert_rejected(&verdict, ReasonCode::Revoked);
}

#[tokio::test]
async fn malformed_input_gets_its_reason_and_never_panics() {
    let w = world().await;
    let trust = w.ledger.trust().await;
    let verifier = Verifier {
        trust: &trust,
        catalog: Catalog::builtin(),
    };
    let t = now();
    let card = issue(&w.seoul, "citizen-card", &w.holder, 1);
    let presentation = present(&card, &w.holder, t);
    let text = compact::to_qr_text(&presentation);
    let policy = Policy::default();
    let input = |bytes: &[u8]| verifier.verify(bytes, &policy, t);

    // Truncated, as text and as bytes.
    assert_rejected(
        &input(&text.as_bytes()[..text.len() / 2]),
        ReasonCode::MalformedQr,
    );
    assert_rejected(
        &verifier.qr(&presentation[..presentation.len() - 1], &policy, t),
        ReasonCode::MalformedQr,
    );
    // Oversized.
    let huge = format!("DJ1:{}", "A".repeat(10_000));
    assert_rejected(&input(huge.as_bytes()), ReasonCode::TooLarge);
    assert_rejected(
        &verifier.qr(&vec![0u8; 4096], &policy, t),
        ReasonCode::TooLarge,
    );
    // Garbage.
    assert_rejected(&input(b"DJ1:%%%%%"), ReasonCode::MalformedQr);
    assert_rejected(
        &input(&[0xde, 0xad, 0xbe, 0xef]),
        ReasonCode::UnsupportedFormat,
    );
    assert_rejected(&input(b"hello, world"), ReasonCode::UnsupportedFormat);
    assert_rejected(
        &input(b"\x89PNG\r\n\x1a\nnot really"),
        ReasonCode::MalformedQr,
    );
    // Unknown prefix and version.
    assert_rejected(
        &input(text.replacen("DJ1:", "HC1:", 1).as_bytes()),
        ReasonCode::UnsupportedFormat,
    );
    assert_rejected(
        &input(text.replacen("DJ1:", "DJ2:", 1).as_bytes()),
        ReasonCode::UnsupportedFormat,
    );

    // Every one-byte change of the presentation is refused.
    for i in 0..presentation.len() {
        for flip in [0x01u8, 0x80] {
            let mut mutated = presentation.clone();
            mutated[i] ^= flip;
            let verdict = verifier.qr(&mutated, &policy, t);
            assert_eq!(
                verdict.decision,
                Decision::Rejected,
                "byte {i} ^ {flip:#x} accepted"
            );
        }
    }
}

#[tokio::test]
async fn sd_jwt_vc_presentations_are_judged_by_the_same_bundle() {
    let w = world().await;
    let trust = w.ledger.trust().await;
    let verifier = Verifier {
        trust: &trust,
        catalog: Catalog::builtin(),
    };
    let t = now();
    let present = |idx: u64| {
        let credential = common::draft(&w.seoul, "citizen-card", &w.holder, idx)
            .sign(
                &w.seoul.key,
                &w.seoul.did.with_fragment("key-1").to_string(),
            )
            .unwrap();
        HeldSdJwt::parse(&credential)
            .unwrap()
            .present(
                &[ClaimPath::parse("age_over_19")],
                Some(KeyBindingInput {
                    signer: &w.holder,
                    audience: "https://employer.example",
                    nonce: "n-123",
                    issued_at: t,
                }),
            )
            .unwrap()
    };
    let policy = Policy {
        key_binding: Some(ExpectedKeyBinding {
            audience: "https://employer.example",
            nonce: "n-123",
            max_age: 300,
        }),
        ..Policy::default()
    };
    let verdict = verifier.verify(present(3).as_bytes(), &policy, t);
    assert!(verdict.is_accepted(), "{verdict:#?}");
    assert_eq!(
        verdict.issuer.unwrap().name.as_deref(),
        Some("Seoul Metropolitan Government")
    );
    assert_eq!(verdict.disclosed_claims["age_over_19"], true);
    assert_rejected(
        &verifier.sd_jwt_vc(&present(7), &policy, t),
        ReasonCode::Revoked,
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn bundle_document(jws: &str) -> TrustBundle {
    let payload = jws.split('.').nth(1).unwrap();
    TrustBundle::from_payload(&dojang_core::b64::decode(payload).unwrap()).unwrap()
}
