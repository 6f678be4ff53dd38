//! Verdicts for SD-JWT VC presentations without a trust bundle.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dojang_core::did::{self, Did};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::sd_jwt::{ClaimPath, ExpectedKeyBinding, HeldSdJwt, KeyBindingInput, OfflineDids};
use dojang_core::status::StatusListReference;
use dojang_core::verdict::{Decision, ReasonCode, ReasonKind};
use dojang_schemas::{Catalog, Issuance};
use dojang_verifier::{Policy, verify_sd_jwt_vc};

const NOW: i64 = 1_800_000_000;

fn presentation(nonce: &str) -> String {
    let issuer = SecretKey::generate(Algorithm::Es256).unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let did = Did::key(issuer.public_key());
    let ty = Catalog::builtin().get("mobile-id").unwrap();
    let credential = ty
        .draft(
            ty.example().clone(),
            Issuance {
                issuer: did.to_string(),
                issued_at: NOW - 100,
                valid_until: None,
                holder_key: Some(holder.public_key().clone()),
                status: Some(StatusListReference {
                    idx: 9,
                    uri: "https://r.example/s/1".into(),
                }),
            },
        )
        .unwrap()
        .sign(&issuer, &did::key_id(&did).unwrap())
        .unwrap();
    HeldSdJwt::parse(&credential)
        .unwrap()
        .present(
            &[ClaimPath::parse("age_over_19")],
            Some(KeyBindingInput {
                signer: &holder,
                audience: "aud",
                nonce,
                issued_at: NOW,
            }),
        )
        .unwrap()
}

fn policy(require_trust_checks: bool) -> Policy<'static> {
    Policy {
        key_binding: Some(ExpectedKeyBinding {
            audience: "aud",
            nonce: "n",
            max_age: 300,
        }),
        require_trust_checks,
        leeway: 60,
        ..Policy::default()
    }
}

#[test]
fn unchecked_trust_is_reported_and_blocks_only_when_required() {
    let p = presentation("n");
    let lenient = verify_sd_jwt_vc(&p, &OfflineDids, Catalog::builtin(), &policy(false), NOW);
    assert_eq!(lenient.decision, Decision::Accepted);
    assert_eq!(lenient.credential_type.as_deref(), Some("mobile-id"));
    assert_eq!(lenient.disclosed_claims["age_over_19"], true);
    assert_eq!(
        lenient.disclosed_claims["issuing_authority"],
        "Ministry of the Interior and Safety"
    );
    assert!(lenient.disclosed_claims.get("family_name").is_none());
    let codes: Vec<(ReasonCode, ReasonKind, bool)> = lenient
        .reasons
        .iter()
        .map(|r| (r.code, r.kind, r.blocking))
        .collect();
    assert_eq!(
        codes,
        [
            (
                ReasonCode::AccreditationNotChecked,
                ReasonKind::Unchecked,
                false
            ),
            (ReasonCode::StatusNotChecked, ReasonKind::Unchecked, false)
        ]
    );

    let strict = verify_sd_jwt_vc(&p, &OfflineDids, Catalog::builtin(), &policy(true), NOW);
    assert_eq!(strict.decision, Decision::Rejected);
    assert_eq!(
        strict.blocking_codes(),
        [
            ReasonCode::AccreditationNotChecked,
            ReasonCode::StatusNotChecked
        ]
    );
    assert!(strict.disclosed_claims.is_empty());
}

#[test]
fn failures_carry_their_reason_code() {
    let p = presentation("other");
    let verdict = verify_sd_jwt_vc(&p, &OfflineDids, Catalog::builtin(), &policy(false), NOW);
    assert_eq!(verdict.blocking_codes(), [ReasonCode::ChallengeMismatch]);
    assert!(verdict.credential_type.is_none() && verdict.disclosed_claims.is_empty());

    let late = verify_sd_jwt_vc(
        &presentation("n"),
        &OfflineDids,
        Catalog::builtin(),
        &policy(false),
        NOW + 3654 * 86_400,
    );
    assert_eq!(late.blocking_codes(), [ReasonCode::Expired]);
}
