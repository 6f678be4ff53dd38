//! Issue → present → verify, and every way a presentation can be wrong.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value as Json, json};

use super::cbor::{self, Item, Value};
use super::token::{self, Sign1, Signed};
use super::*;
use crate::key::{Algorithm, PublicKey, SecretKey, Signer};
use crate::sd_jwt::vc::SdJwtVcDraft;
use crate::sd_jwt::{ClaimPath, IssuerKeyError, IssuerKeyResolver};
use crate::status::StatusListReference;

const NOW: i64 = 1_790_000_000;
const ISSUER: &str = "did:dojang:7bWqkjC8tuWZ8xPnP7qyfb";

struct Keys {
    issuer: SecretKey,
    holder: SecretKey,
}

impl Keys {
    fn new(alg: Algorithm) -> Self {
        Keys {
            issuer: SecretKey::generate(alg).unwrap(),
            holder: SecretKey::generate(alg).unwrap(),
        }
    }
}

/// Resolves only `ISSUER#key-1`, to the issuer's key.
struct Resolver<'a>(&'a PublicKey);

impl IssuerKeyResolver for Resolver<'_> {
    fn issuer_key(
        &self,
        issuer: Option<&str>,
        kid: Option<&str>,
        _: Option<i64>,
    ) -> Result<PublicKey, IssuerKeyError> {
        match (issuer, kid) {
            (Some(ISSUER), Some("#key-1")) => Ok(self.0.clone()),
            (Some(ISSUER), kid) => Err(IssuerKeyError::KeyNotValidAtIssuance {
                issuer: ISSUER.into(),
                kid: kid.map(str::to_owned),
            }),
            (issuer, _) => Err(IssuerKeyError::UnknownIssuer {
                issuer: issuer.unwrap_or_default().into(),
            }),
        }
    }
}

fn citizen_claims() -> Map<String, Json> {
    json!({
        "name": "김민지 Kim Minji",
        "birthdate": "1994-03-15",
        "address": {"street_address": "396 World Cup buk-ro", "locality": "Seoul", "postal_code": "03925", "country": "KR"},
        "card_number": "SC-2026-000123",
        "age_over_19": true,
        "age_over_65": false,
        "issuing_office": "Mapo-gu"
    })
    .as_object()
    .unwrap()
    .clone()
}

fn draft(keys: &Keys) -> SdJwtVcDraft {
    let claims = citizen_claims();
    SdJwtVcDraft {
        vct: "urn:dojang:vct:citizen-card:1".into(),
        issuer: ISSUER.into(),
        issued_at: NOW - 86_400,
        valid_from: Some(NOW - 86_400),
        valid_until: Some(NOW + 365 * 86_400),
        holder_key: Some(keys.holder.public_key().clone()),
        status: Some(StatusListReference {
            idx: 70_001,
            uri: "https://registry.seoul.go.kr/status-lists/seoul-1a2b3c4d".into(),
        }),
        disclosable: claims
            .keys()
            .filter(|k| *k != "issuing_office")
            .map(|k| ClaimPath::claim(k))
            .collect(),
        claims,
    }
}

fn issued(keys: &Keys) -> HeldCompact {
    let bytes = issue(&draft(keys), &keys.issuer, &format!("{ISSUER}#key-1")).unwrap();
    HeldCompact::parse(&bytes).unwrap()
}

fn present_now(held: &HeldCompact, keys: &Keys, names: &[&str]) -> Vec<u8> {
    let binding = Binding {
        at: NOW,
        challenge: None,
    };
    held.present(names, &binding, &keys.holder).unwrap()
}

fn check<'a>(presentation: &'a [u8], keys: &Keys) -> Result<VerifiedCompact<'a>, CompactError> {
    verify(
        presentation,
        &Resolver(keys.issuer.public_key()),
        &VerifyOptions::at(NOW),
    )
}

#[test]
fn a_presentation_shows_exactly_the_chosen_claims() {
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let keys = Keys::new(alg);
        let held = issued(&keys);
        assert_eq!(
            held.claims(),
            &citizen_claims(),
            "the holder sees every claim"
        );
        assert_eq!(held.disclosable().len(), 6);
        assert_eq!(held.issuer(), ISSUER);
        assert_eq!(held.status().unwrap().idx, 70_001);

        let chosen = ["name", "birthdate", "age_over_19", "card_number"];
        let presentation = present_now(&held, &keys, &chosen);
        let verified = check(&presentation, &keys).unwrap();
        let mut shown: Vec<&str> = verified.claims.keys().map(String::as_str).collect();
        shown.sort_unstable();
        assert_eq!(
            shown,
            [
                "age_over_19",
                "birthdate",
                "card_number",
                "issuing_office",
                "name"
            ],
            "the chosen claims and the always-visible one, nothing else"
        );
        assert_eq!(verified.claims["name"], "김민지 Kim Minji");
        assert_eq!(verified.issuer, ISSUER);
        assert_eq!(verified.kid, "key-1");
        assert_eq!(verified.vct, "urn:dojang:vct:citizen-card:1");
        assert_eq!(verified.status, held.status().cloned());
        assert_eq!(&verified.holder_key, keys.holder.public_key());
        assert_eq!(verified.presented_at, NOW);

        let presentation = present_now(&held, &keys, &[]);
        let nothing = check(&presentation, &keys).unwrap();
        assert_eq!(nothing.claims.len(), 1);
        assert!(nothing.disclosed.is_empty());
    }
}

#[test]
fn qr_text_round_trips_and_refuses_strangers() {
    let keys = Keys::new(Algorithm::Es256);
    let presentation = present_now(&issued(&keys), &keys, &["name"]);
    let text = to_qr_text(&presentation);
    assert!(text.starts_with("DJ1:"));
    assert!(
        text.bytes()
            .all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b))
    );
    assert_eq!(from_qr_text(&format!("{text}\n")).unwrap(), presentation);

    assert!(matches!(
        from_qr_text("HC1:6BFOXN"),
        Err(CompactError::UnknownPrefix)
    ));
    assert!(matches!(from_qr_text(""), Err(CompactError::UnknownPrefix)));
    assert!(matches!(
        from_qr_text(&text.replacen("DJ1:", "DJ2:", 1)),
        Err(CompactError::UnsupportedVersion { prefix }) if prefix == "DJ2:"
    ));
    assert!(
        matches!(from_qr_text("DJ1:GGW"), Err(CompactError::Base45)),
        "256 overflows"
    );
    assert!(matches!(from_qr_text("DJ1:a"), Err(CompactError::Base45)));
    let huge = format!("DJ1:{}", "0".repeat(4000));
    assert!(matches!(
        from_qr_text(&huge),
        Err(CompactError::TooLarge { .. })
    ));
}

#[test]
fn tampering_with_the_issuer_part_is_caught() {
    let keys = Keys::new(Algorithm::Es256);
    let held = issued(&keys);
    let good = present_now(&held, &keys, &["name", "birthdate"]);

    // The issuer's signature is checked before anything in the payload is believed, and the
    // holder's signature covers the whole credential: flipping one payload byte breaks one.
    let mut tampered = held.sign1.payload.to_vec();
    let at = tampered.len() - 3;
    tampered[at] ^= 1;
    let forged = repackage(&held, &keys, |c| c.payload = tampered.clone(), &["name"]);
    assert!(matches!(
        check(&forged, &keys),
        Err(CompactError::SignatureInvalid)
    ));

    // Another issuer key signing the same claims.
    let other = SecretKey::generate(Algorithm::Es256).unwrap();
    let forged = repackage(
        &held,
        &keys,
        |c| {
            c.signature = other
                .sign(&Sign1::to_be_signed(&c.protected_bytes, &c.payload))
                .unwrap()
        },
        &["name"],
    );
    assert!(matches!(
        check(&forged, &keys),
        Err(CompactError::SignatureInvalid)
    ));

    // A key the resolver says was not valid at issuance, and an unknown issuer.
    let other_kid = reissue(&keys, |protected, _| {
        protected.retain(|(k, _)| *k != Value::int(token::KID));
        protected.push((Value::int(token::KID), Value::Bytes(b"key-0")));
    });
    let error = check(&other_kid, &keys).unwrap_err();
    assert!(matches!(
        error,
        CompactError::IssuerKey(IssuerKeyError::KeyNotValidAtIssuance { .. })
    ));
    assert_eq!(
        crate::ReasonCode::from(&error),
        crate::ReasonCode::KeyNotValidAtIssuance
    );
    let stranger = reissue(&keys, |_, claims| {
        claims.retain(|(k, _)| *k != Value::int(token::ISS));
        claims.push((
            Value::int(token::ISS),
            Value::Text("did:dojang:someoneElse"),
        ));
    });
    assert_eq!(
        crate::ReasonCode::from(&check(&stranger, &keys).unwrap_err()),
        crate::ReasonCode::IssuerUnknown
    );

    // Refused algorithms are refused before any key is looked up.
    let hmac = reissue(&keys, |protected, _| {
        protected.retain(|(k, _)| *k != Value::int(token::ALG));
        protected.push((Value::int(token::ALG), Value::int(5))); // HMAC 256/256
    });
    assert!(matches!(
        check(&hmac, &keys),
        Err(CompactError::UnsupportedAlgorithm { alg: Some(5) })
    ));
    let ed_header = reissue(&keys, |protected, _| {
        protected.retain(|(k, _)| *k != Value::int(token::ALG));
        protected.push((Value::int(token::ALG), Value::int(-8)));
    });
    assert!(matches!(
        check(&ed_header, &keys),
        Err(CompactError::AlgorithmMismatch { .. })
    ));

    // Claims outside the profile, even when properly signed.
    let with_sub = reissue(&keys, |_, claims| {
        claims.push((Value::int(2), Value::Text("subject")));
    });
    assert!(matches!(
        check(&with_sub, &keys),
        Err(CompactError::InvalidClaim { .. })
    ));
    assert!(matches!(
        HeldCompact::parse(&without_cnf_credential(&keys)),
        Err(CompactError::MissingClaim { claim: "cnf" })
    ));
    assert!(
        check(&good, &keys).is_ok(),
        "the untouched presentation still verifies"
    );
}

#[test]
fn tampered_injected_and_repeated_disclosures_are_caught() {
    let keys = Keys::new(Algorithm::Es256);
    let held = issued(&keys);
    let name = held.disclosures.iter().find(|d| d.name == "name").unwrap();

    // A changed value under the same salt: its digest is not the issuer's.
    let mut changed = Disclosure::new(&[7; SALT_LEN], "name", &json!("Someone Else"));
    changed.bytes = {
        let mut value = cbor::decode(&name.bytes).unwrap();
        if let Value::Array(items) = &mut value {
            items[1] = Value::Text("Someone Else");
        }
        value.encode()
    };
    let with = |disclosures: Vec<Vec<u8>>| {
        let binding = Binding {
            at: NOW,
            challenge: None,
        };
        held.bind(disclosures, &binding, &keys.holder).unwrap()
    };
    assert!(matches!(
        check(&with(vec![changed.bytes]), &keys),
        Err(CompactError::Disclosure { .. })
    ));

    // A claim from another credential (same names, another issuance) injected.
    let other = issued(&keys);
    let foreign = other
        .disclosures
        .iter()
        .find(|d| d.name == "age_over_65")
        .unwrap();
    let error = check(&with(vec![foreign.bytes.clone()]), &keys).unwrap_err();
    assert!(matches!(error, CompactError::Disclosure { .. }), "{error}");
    assert_eq!(
        crate::ReasonCode::from(&error),
        crate::ReasonCode::DisclosureInvalid
    );

    // The same disclosure twice.
    assert!(matches!(
        check(&with(vec![name.bytes.clone(), name.bytes.clone()]), &keys),
        Err(CompactError::Disclosure { .. })
    ));

    // A claim not disclosed but injected as a visible one: the issuer's signature breaks.
    let injected = repackage(
        &held,
        &keys,
        |c| {
            let mut claims = cbor::decode(&c.payload).unwrap();
            if let Value::Map(entries) = &mut claims {
                entries.push((Value::Text("age_over_65"), Value::Bool(true)));
            }
            c.payload = claims.encode();
        },
        &[],
    );
    assert!(matches!(
        check(&injected, &keys),
        Err(CompactError::SignatureInvalid)
    ));

    // A disclosure whose name shadows a visible claim, signed by a careless issuer.
    let mut shadowing = draft(&keys);
    shadowing
        .claims
        .insert("issuing_office".into(), json!("Mapo-gu"));
    let shadow = Disclosure::new(&[1; SALT_LEN], "issuing_office", &json!("Gangnam-gu"));
    let bytes = issue(&shadowing, &keys.issuer, "key-1").unwrap();
    let (mut credential, _) = parts(&bytes);
    let payload = credential.payload.clone();
    let mut claims = cbor::decode(&payload).unwrap();
    let shadow_digest = shadow.digest();
    if let Value::Map(entries) = &mut claims {
        for (k, v) in entries.iter_mut() {
            if let (Value::Simple(token::REDACTED_CLAIM_KEYS), Value::Array(digests)) = (k, v) {
                digests.push(Value::Bytes(&shadow_digest));
            }
        }
    }
    credential.payload = claims.encode();
    credential.signature = keys
        .issuer
        .sign(&Sign1::to_be_signed(
            &credential.protected_bytes,
            &credential.payload,
        ))
        .unwrap();
    let unprotected = Value::Map(vec![(
        Value::int(token::SD_CLAIMS),
        Value::Array(vec![Value::Bytes(&shadow.bytes)]),
    )]);
    let error = HeldCompact::parse(&credential.to_value(unprotected).encode())
        .err()
        .unwrap();
    assert!(error.to_string().contains("collides"), "{error}");
}

#[test]
fn the_holder_binding_is_checked() {
    let keys = Keys::new(Algorithm::Es256);
    let held = issued(&keys);

    // Signed by a key other than `cnf`: the wallet refuses, and a forger's is caught.
    let thief = SecretKey::generate(Algorithm::Es256).unwrap();
    let binding = Binding {
        at: NOW,
        challenge: None,
    };
    assert!(matches!(
        held.present(&["name"], &binding, &thief),
        Err(CompactError::NotTheHolder)
    ));
    let forged = forge_binding(&held, &thief, NOW);
    let error = check(&forged, &keys).unwrap_err();
    assert!(matches!(error, CompactError::HolderSignatureInvalid));
    assert_eq!(
        crate::ReasonCode::from(&error),
        crate::ReasonCode::HolderBindingInvalid
    );

    // Replayed outside its window, or dated in the future.
    let old = held
        .present(
            &["name"],
            &Binding {
                at: NOW - 91,
                challenge: None,
            },
            &keys.holder,
        )
        .unwrap();
    let error = check(&old, &keys).unwrap_err();
    assert!(matches!(error, CompactError::BindingExpired { at, .. } if at == NOW - 91));
    assert_eq!(
        crate::ReasonCode::from(&error),
        crate::ReasonCode::BindingExpired
    );
    let recent = held
        .present(
            &["name"],
            &Binding {
                at: NOW - 89,
                challenge: None,
            },
            &keys.holder,
        )
        .unwrap();
    assert!(check(&recent, &keys).is_ok(), "inside window + leeway");
    let future = held
        .present(
            &["name"],
            &Binding {
                at: NOW + 31,
                challenge: None,
            },
            &keys.holder,
        )
        .unwrap();
    assert!(matches!(
        check(&future, &keys),
        Err(CompactError::BindingExpired { .. })
    ));

    // Challenge mode: the nonce and the audience must be this verifier's.
    let challenge = Challenge {
        audience: "counter-17.mapo.seoul.go.kr",
        nonce: b"0123456789abcdef",
    };
    let answered = held
        .present(
            &["name"],
            &Binding {
                at: NOW,
                challenge: Some(challenge),
            },
            &keys.holder,
        )
        .unwrap();
    let options = |challenge| VerifyOptions {
        challenge: Some(challenge),
        ..VerifyOptions::at(NOW)
    };
    let resolver = Resolver(keys.issuer.public_key());
    assert!(verify(&answered, &resolver, &options(challenge)).is_ok());
    let other_nonce = Challenge {
        nonce: b"fedcba9876543210",
        ..challenge
    };
    assert!(matches!(
        verify(&answered, &resolver, &options(other_nonce)),
        Err(CompactError::ChallengeMismatch)
    ));
    let other_verifier = Challenge {
        audience: "counter-18.mapo.seoul.go.kr",
        ..challenge
    };
    assert!(matches!(
        verify(&answered, &resolver, &options(other_verifier)),
        Err(CompactError::AudienceMismatch)
    ));
    let unanswered = present_now(&held, &keys, &["name"]);
    assert!(matches!(
        verify(&unanswered, &resolver, &options(challenge)),
        Err(CompactError::ChallengeMismatch)
    ));

    // Asking for a claim the credential cannot disclose.
    assert!(matches!(
        held.present(&["issuing_office"], &binding, &keys.holder),
        Err(CompactError::NotDisclosable { name }) if name == "issuing_office"
    ));
}

#[test]
fn a_challenge_qr_round_trips_and_binds_the_answer() {
    let request = ChallengeRequest::new("counter-17.mapo.seoul.go.kr").unwrap();
    let text = request.to_qr_text();
    assert!(text.starts_with(CHALLENGE_PREFIX));
    let scanned = ChallengeRequest::from_qr_text(&text).unwrap();
    assert_eq!(scanned, request);
    assert_ne!(
        ChallengeRequest::new("x").unwrap().nonce,
        request.nonce,
        "fresh nonces"
    );

    let keys = Keys::new(Algorithm::EdDsa);
    let held = issued(&keys);
    let binding = Binding {
        at: NOW,
        challenge: Some(scanned.challenge()),
    };
    let answer = held.present(&["name"], &binding, &keys.holder).unwrap();
    let options = VerifyOptions {
        challenge: Some(request.challenge()),
        ..VerifyOptions::at(NOW)
    };
    assert!(verify(&answer, &Resolver(keys.issuer.public_key()), &options).is_ok());

    for bad in [
        "",
        "DJ1:ABC",
        "DJC1:%%%",
        "DJC1:",
        &format!("DJC1:{}", "A".repeat(600)),
    ] {
        assert!(ChallengeRequest::from_qr_text(bad).is_err(), "{bad:.20}");
    }
    let short_nonce = ChallengeRequest {
        audience: "a".into(),
        nonce: vec![1; 4],
    };
    assert!(ChallengeRequest::from_qr_text(&short_nonce.to_qr_text()).is_err());
}

#[test]
fn validity_period_is_checked() {
    let keys = Keys::new(Algorithm::EdDsa);
    let mut expired = draft(&keys);
    expired.valid_until = Some(NOW - 31);
    let held = HeldCompact::parse(&issue(&expired, &keys.issuer, "key-1").unwrap()).unwrap();
    let error = check(&present_now(&held, &keys, &[]), &keys).unwrap_err();
    assert!(matches!(error, CompactError::Expired { exp } if exp == NOW - 31));
    assert_eq!(crate::ReasonCode::from(&error), crate::ReasonCode::Expired);

    let mut early = draft(&keys);
    early.valid_from = Some(NOW + 3600);
    let held = HeldCompact::parse(&issue(&early, &keys.issuer, "key-1").unwrap()).unwrap();
    let error = check(&present_now(&held, &keys, &[]), &keys).unwrap_err();
    assert!(matches!(error, CompactError::NotYetValid { .. }));
    assert_eq!(
        crate::ReasonCode::from(&error),
        crate::ReasonCode::NotYetValid
    );
}

#[test]
fn garbage_truncation_and_wrong_types_never_panic() {
    let keys = Keys::new(Algorithm::Es256);
    let held = issued(&keys);
    let good = present_now(&held, &keys, &["name", "address"]);
    for len in 0..good.len() {
        let error = check(&good[..len], &keys).unwrap_err();
        assert_eq!(
            crate::ReasonCode::from(&error),
            crate::ReasonCode::MalformedQr,
            "at {len}"
        );
    }
    // Every single-byte change is refused, none panics.
    for at in 0..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x20;
        assert!(check(&bad, &keys).is_err(), "flip at {at} accepted");
    }
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for len in [1, 7, 64, 700, 2000] {
        let noise: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert!(check(&noise, &keys).is_err());
        assert!(HeldCompact::parse(&noise).is_err());
    }
    // A credential is not a presentation, nor the reverse.
    let credential = issue(&draft(&keys), &keys.issuer, "key-1").unwrap();
    assert!(matches!(
        check(&credential, &keys),
        Err(CompactError::UnexpectedType {
            expected: "compact presentation",
            found: Some(293)
        })
    ));
    assert!(matches!(
        HeldCompact::parse(&good),
        Err(CompactError::UnexpectedType { .. })
    ));
    let oversized = vec![0u8; MAX_PRESENTATION_LEN + 1];
    assert!(matches!(
        check(&oversized, &keys),
        Err(CompactError::TooLarge { .. })
    ));
}

#[test]
fn drafts_the_profile_cannot_express_are_refused() {
    let keys = Keys::new(Algorithm::Es256);
    let mut unbound = draft(&keys);
    unbound.holder_key = None;
    assert!(matches!(
        issue(&unbound, &keys.issuer, "key-1"),
        Err(CompactError::Unissuable { .. })
    ));
    let mut nested = draft(&keys);
    nested
        .disclosable
        .push(ClaimPath::parse("/address/locality"));
    assert!(matches!(
        issue(&nested, &keys.issuer, "key-1"),
        Err(CompactError::Unissuable { .. })
    ));
    let mut registered = draft(&keys);
    registered
        .claims
        .insert("iss".into(), json!("did:example:evil"));
    assert!(matches!(
        issue(&registered, &keys.issuer, "key-1"),
        Err(CompactError::Unissuable { .. })
    ));
}

/// Rebuilds the presentation of `names` after `change` to the issuer's part, re-signed by the
/// holder so only the issuer-side check can catch it.
fn repackage(
    held: &HeldCompact,
    keys: &Keys,
    change: impl FnOnce(&mut Signed),
    names: &[&str],
) -> Vec<u8> {
    let presentation = present_now(held, keys, names);
    let (mut binding, _) = parts(&presentation);
    let header_bytes = binding.protected_bytes.clone();
    let Value::Map(mut header) = cbor::decode(&header_bytes).unwrap() else {
        unreachable!()
    };
    let i = header
        .iter()
        .position(|(k, _)| *k == Value::int(token::KCWT))
        .unwrap();
    let kcwt = header[i].1.encode();
    let (mut credential, unprotected) = parts(&kcwt);
    change(&mut credential);
    header[i].1 = credential.to_value(unprotected);
    binding.protected_bytes = Value::Map(header).encode();
    binding.signature = keys
        .holder
        .sign(&Sign1::to_be_signed(
            &binding.protected_bytes,
            &binding.payload,
        ))
        .unwrap();
    binding.to_value(Value::Map(vec![])).encode()
}

/// A COSE_Sign1's signed parts, to change, and its unprotected header.
fn parts(bytes: &[u8]) -> (Signed, Value<'_>) {
    let signed = Sign1::read(cbor::read(bytes).unwrap(), "test")
        .unwrap()
        .to_signed();
    let Value::Array(mut elements) = cbor::decode(bytes).unwrap() else {
        unreachable!()
    };
    (signed, elements.swap_remove(1))
}

/// Issues with `change` applied to the protected header and the claims, properly signed by the
/// issuer key, and presents it.
fn reissue(
    keys: &Keys,
    change: impl FnOnce(&mut Vec<(Value, Value)>, &mut Vec<(Value, Value)>),
) -> Vec<u8> {
    let held = issued(keys);
    repackage(
        &held,
        keys,
        |c| {
            let (Value::Map(mut protected), Value::Map(mut claims)) = (
                cbor::decode(&c.protected_bytes).unwrap(),
                cbor::decode(&c.payload).unwrap(),
            ) else {
                unreachable!()
            };
            change(&mut protected, &mut claims);
            c.protected_bytes = Value::Map(protected).encode();
            c.payload = Value::Map(claims).encode();
            c.signature = keys
                .issuer
                .sign(&Sign1::to_be_signed(&c.protected_bytes, &c.payload))
                .unwrap();
        },
        &[],
    )
}

fn without_cnf_credential(keys: &Keys) -> Vec<u8> {
    let bytes = issue(&draft(keys), &keys.issuer, "key-1").unwrap();
    let (mut credential, unprotected) = parts(&bytes);
    let Value::Map(mut claims) = cbor::decode(&credential.payload).unwrap() else {
        unreachable!()
    };
    claims.retain(|(k, _)| *k != Value::int(token::CNF));
    credential.payload = Value::Map(claims).encode();
    credential.to_value(unprotected).encode()
}

/// A presentation of `held` signed by `thief`, built by hand (the wallet refuses to).
fn forge_binding(held: &HeldCompact, thief: &SecretKey, at: i64) -> Vec<u8> {
    let protected = Value::Map(vec![
        (Value::int(token::ALG), Value::int(-7)),
        (Value::int(token::TYP), Value::int(TYP_PRESENTATION)),
        (
            Value::int(token::KCWT),
            held.sign1.to_value(Value::Map(vec![])),
        ),
    ])
    .encode();
    let payload = Value::Map(vec![(Value::int(token::IAT), Value::int(at))]).encode();
    let signature = thief
        .sign(&Sign1::to_be_signed(&protected, &payload))
        .unwrap();
    Signed {
        protected_bytes: protected,
        payload,
        signature,
    }
    .to_value(Value::Map(vec![]))
    .encode()
}

use token::Disclosure;

#[test]
fn holder_keys_are_written_uncompressed_and_read_either_way() {
    let key = SecretKey::generate(Algorithm::Es256).unwrap();
    let public = key.public_key();
    let (x, y) = public.as_bytes()[1..].split_at(32);
    let encoded = token::cose_key(public).encode();
    let written = cbor::read(&encoded).unwrap();
    assert_eq!(
        written.get(&Value::int(-2)).and_then(Item::as_bytes),
        Some(x)
    );
    assert_eq!(
        written.get(&Value::int(-3)).and_then(Item::as_bytes),
        Some(y),
        "y itself, not its sign"
    );
    assert_eq!(token::from_cose_key(written).unwrap(), *public);
    let from_cose_key = |value: &Value| token::from_cose_key(cbor::read(&value.encode()).unwrap());
    fn ec2<'a>(x: &'a [u8], y: Value<'a>) -> Value<'a> {
        Value::Map(vec![
            (Value::int(1), Value::int(2)),
            (Value::int(-1), Value::int(1)),
            (Value::int(-2), Value::Bytes(x)),
            (Value::int(-3), y),
        ])
    }
    // Compressed, as credentials issued before carry it, and as other wallets may write it.
    let odd = y[31] & 1 == 1;
    assert_eq!(from_cose_key(&ec2(x, Value::Bool(odd))).unwrap(), *public);
    // The wrong sign names another point: never the holder's key.
    assert_ne!(from_cose_key(&ec2(x, Value::Bool(!odd))).unwrap(), *public);
    // A y that is not on the curve with that x, and coordinates of the wrong length.
    let mut off_curve = y.to_vec();
    off_curve[31] ^= 1;
    for wrong in [
        ec2(x, Value::Bytes(&off_curve)),
        ec2(x, Value::Bytes(&y[1..])),
        ec2(&x[1..], Value::Bytes(y)),
        ec2(&x[1..], Value::Bool(odd)),
    ] {
        assert!(
            matches!(
                from_cose_key(&wrong),
                Err(CompactError::InvalidClaim { .. } | CompactError::HolderKey(_))
            ),
            "{wrong:?}"
        );
    }
}

#[test]
fn disclosures_the_issuer_signed_are_still_read_strictly() {
    // Each as if the issuer had signed its digest: only the reading can refuse it.
    let salt = [7u8; SALT_LEN];
    let good = Disclosure::new(&salt, "name", &json!({"a": 1})).bytes;
    let encode = |items: Vec<Value>| Value::Array(items).encode();
    let with_value = |value: &[u8]| {
        let mut bytes = vec![0x83];
        Value::Bytes(&salt).encode_into(&mut bytes);
        bytes.extend_from_slice(value);
        Value::Text("name").encode_into(&mut bytes);
        bytes
    };
    let cases: [(&str, Vec<u8>, &str); 8] = [
        (
            "trailing bytes",
            [good.clone(), vec![0]].concat(),
            "1 bytes after the item",
        ),
        (
            "a duplicate key in the value",
            with_value(&[0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02]),
            "duplicate map key",
        ),
        (
            "a tag in the value",
            with_value(&[0xc1, 0x01]),
            "tags are not accepted",
        ),
        (
            "a name that is not UTF-8",
            [&good[..good.len() - 5], &[0x64, b'n', 0xc3, 0x28, b'e']].concat(),
            "text is not UTF-8",
        ),
        (
            "two elements",
            encode(vec![Value::Bytes(&salt), Value::Text("name")]),
            "expected [salt, value, name]",
        ),
        (
            "a salt that is text",
            encode(vec![Value::Text("salt"), Value::Null, Value::Text("name")]),
            "expected [salt, value, name]",
        ),
        (
            "a short salt",
            encode(vec![
                Value::Bytes(&salt[1..]),
                Value::Null,
                Value::Text("name"),
            ]),
            "the salt is not 16 bytes",
        ),
        (
            "a byte string as the value",
            with_value(&[0x41, 0x00]),
            "a byte string or simple value in a claim",
        ),
    ];
    let digest = |bytes: &[u8]| {
        Disclosure {
            bytes: bytes.to_vec(),
            name: String::new(),
        }
        .digest()
    };
    let mut claims = Map::new();
    token::reveal(&mut claims, &[digest(&good)], &[&good]).unwrap();
    assert_eq!(claims["name"], json!({"a": 1}));
    for (why, bytes, reason) in cases {
        let error = token::reveal(&mut Map::new(), &[digest(&bytes)], &[&bytes]).unwrap_err();
        assert!(
            matches!(&error, CompactError::Disclosure { reason: r } if r == reason),
            "{why}: {error}"
        );
    }
}

#[test]
fn a_claims_set_is_walked_as_strictly_as_it_was_checked() {
    // Read in one walk, the claims set still refuses what checking it whole refused, each with
    // its error (the issuer's signature is not the point here: these go to the reader directly).
    let keys = Keys::new(Algorithm::EdDsa);
    let payload = issued(&keys).sign1.payload.to_vec();
    assert!(token::Claims::parse(&payload).is_ok());
    let Value::Map(claims) = cbor::decode(&payload).unwrap() else {
        unreachable!()
    };
    let find = |key: &Value| claims.iter().find(|(k, _)| k == key).unwrap().1.clone();
    let with = |key: Value, value: Value| {
        let mut changed = claims.clone();
        changed.push((key, value));
        Value::Map(changed).encode()
    };
    let (iss, redacted) = (
        find(&Value::int(token::ISS)),
        find(&Value::Simple(token::REDACTED_CLAIM_KEYS)),
    );
    // The issuer's DID again, its key written in two bytes (`18 01`) where one would do.
    let mut longer = with(Value::Text("x"), Value::Null);
    let text_x = [0x61, b'x', 0xf6];
    let at = longer.len() - text_x.len();
    longer.splice(at.., [0x18, 0x01]);
    Value::Text("did:x:y").encode_into(&mut longer);
    let malformed = |reason: &str| format!("malformed claims: {reason}");
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "an integer key twice",
            with(Value::int(token::ISS), iss.clone()),
            malformed("duplicate map key"),
        ),
        (
            "an integer key twice, written longer",
            longer,
            malformed("duplicate map key"),
        ),
        (
            "a text key twice",
            [with(Value::Text("issuing_office"), Value::Text("Jung-gu"))].concat(),
            malformed("duplicate map key"),
        ),
        (
            "the redacted digests twice",
            with(Value::Simple(token::REDACTED_CLAIM_KEYS), redacted.clone()),
            malformed("duplicate map key"),
        ),
        (
            "a duplicate inside cnf",
            with(
                Value::int(token::CNF),
                Value::Map(vec![
                    (Value::int(1), Value::Null),
                    (Value::int(1), Value::Null),
                ]),
            ),
            malformed("duplicate map key"),
        ),
        (
            "trailing bytes",
            [payload.clone(), vec![0]].concat(),
            malformed("1 bytes after the item"),
        ),
        (
            "a tag in a value",
            {
                let mut bytes = with(Value::Text("t"), Value::Null);
                bytes.pop();
                bytes.extend_from_slice(&[0xc1, 0x00]);
                bytes
            },
            malformed("tags are not accepted"),
        ),
        (
            "an issuer that is not UTF-8",
            {
                let mut bytes = payload.clone();
                let Value::Text(did) = iss else {
                    unreachable!()
                };
                let at = bytes
                    .windows(did.len())
                    .position(|w| w == did.as_bytes())
                    .unwrap();
                bytes[at] = 0xff;
                bytes
            },
            malformed("text is not UTF-8"),
        ),
    ];
    for (why, bytes, expected) in cases {
        let error = token::Claims::parse(&bytes).err().unwrap();
        assert_eq!(error.to_string(), expected, "{why}");
    }
    // A key that is no claim, and a time that is not an integer: their own errors.
    let replaced = |label: i64, value: Value| {
        let mut changed = claims.clone();
        changed
            .iter_mut()
            .filter(|(k, _)| *k == Value::int(label))
            .for_each(|(_, v)| *v = value.clone());
        token::Claims::parse(&Value::Map(changed).encode()).err()
    };
    assert!(matches!(
        replaced(token::IAT, Value::Text("yesterday")),
        Some(CompactError::InvalidClaim { claim, reason }) if claim == "iat" && reason == "not an integer time"
    ));
    assert!(matches!(
        replaced(token::ISS, Value::int(7)),
        Some(CompactError::InvalidClaim { claim, reason }) if claim == "iss" && reason == "not text"
    ));
    assert!(matches!(
        token::Claims::parse(&with(Value::Text("t"), Value::Bytes(b"x"))),
        Err(CompactError::InvalidClaim { claim, reason })
            if claim == "t" && reason == "a byte string or simple value in a claim"
    ));
    assert!(matches!(
        token::Claims::parse(&with(Value::Bytes(b"k"), Value::Null)),
        Err(CompactError::InvalidClaim { reason, .. }) if reason == "not a claim key of this profile"
    ));
}
