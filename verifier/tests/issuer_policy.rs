//! The verifier's issuer policy, the same for every format: issuers outside the registry named
//! by a key DID (`did:key`, `did:jwk`) are signature-checked, then rejected by default
//! (`accredited`) or accepted as *not accredited* (`also-key-dids`) — never as accredited.
//!
//! The credentials come from an independent library where one can make them: SpruceID's `ssi`
//! signs the SD-JWT VCs (a `did:jwk` issuer, with its own key binding) and the Data Integrity
//! credentials (eddsa-rdfc-2022 and ecdsa-rdfc-2019 with the W3C vectors' key pairs, the
//! issuer being the key's `did:key`). `ssi` cannot make dojang's compact QR format, so that one
//! comes from our own core.
//!
//! The W3C vectors folder is `$DOJANG_VECTORS_DIR` or `../../shared/vectors`; without it the
//! Data Integrity cases say they skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use common::{Ledger, now};
use dojang_core::compact::{self, Binding, HeldCompact};
use dojang_core::did::{self, Did};
use dojang_core::jwk::Jwk;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::sd_jwt::ExpectedKeyBinding;
use dojang_core::sd_jwt::vc;
use dojang_core::status::StatusListReference;
use dojang_core::verdict::{ReasonCode, ReasonKind, Verdict};
use dojang_schemas::{Catalog, Issuance};
use dojang_verifier::{IssuerPolicy, Policy, Trust, Verifier};
use serde_json::{Value, json};
use ssi::claims::jws::{JwsPayload, JwsSigner};
use ssi::claims::sd_jwt::{
    DisclosureDescription, JsonPointerBuf, KbJwtPayload, SdAlg, SdJwtBuf, SdJwtPayload,
};

const AUDIENCE: &str = "https://counter.example";
const NONCE: &str = "n-42";

fn policy(issuers: IssuerPolicy) -> Policy<'static> {
    Policy {
        key_binding: Some(ExpectedKeyBinding {
            audience: AUDIENCE,
            nonce: NONCE,
            max_age: 300,
        }),
        issuers,
        ..Policy::default()
    }
}

fn verifier(trust: &Trust) -> Verifier<'_> {
    Verifier {
        trust,
        catalog: Catalog::builtin(),
    }
}

fn reason(verdict: &Verdict, code: ReasonCode) -> &dojang_core::verdict::Reason {
    verdict
        .reasons
        .iter()
        .find(|r| r.code == code)
        .unwrap_or_else(|| panic!("no {code} in {verdict:#?}"))
}

/// Accepted, and said to be from an issuer the registry does not accredit.
fn assert_accepted_not_accredited(verdict: &Verdict, issuer: &str) {
    assert!(verdict.is_accepted(), "{verdict:#?}");
    let not_accredited = reason(verdict, ReasonCode::IssuerNotInRegistry);
    assert_eq!(not_accredited.kind, ReasonKind::Unchecked);
    assert!(!not_accredited.blocking);
    assert!(not_accredited.detail.contains("no one accredited it"));
    let info = verdict.issuer.as_ref().unwrap();
    assert_eq!(info.id, issuer);
    assert_eq!(info.name, None, "never shown with an accredited name");
}

// ---------------------------------------------------------------------------------------------
// SD-JWT VC made by ssi, from a did:jwk issuer.

/// `ssi`'s SD-JWT payload, signed with the SD-JWT VC media type in `typ`.
struct VcPayload(SdJwtPayload);

impl JwsPayload for VcPayload {
    fn typ(&self) -> Option<&str> {
        Some(vc::TYP)
    }

    fn payload_bytes(&self) -> Cow<'_, [u8]> {
        self.0.payload_bytes()
    }
}

fn ssi_jwk(key: &SecretKey, kid: Option<String>) -> ssi::JWK {
    let mut jwk: ssi::JWK = serde_json::to_value(Jwk::from_secret_key(key))
        .and_then(serde_json::from_value)
        .unwrap();
    jwk.key_id = kid;
    jwk
}

/// A job badge as an SD-JWT VC made entirely by `ssi` — concealment, disclosures, the
/// issuer's signature as `did:jwk`, the holder's key binding — with `extra` claims added.
async fn ssi_sd_jwt_vc(issuer: &SecretKey, holder: &SecretKey, extra: Value) -> String {
    let did = Did::jwk(issuer.public_key());
    let mut claims = json!({
        "iss": did.to_string(),
        "iat": now() - 60,
        "exp": now() + 3600,
        "vct": "urn:dojang:vct:job-badge:1",
        "cnf": {"jwk": Jwk::from_public_key(holder.public_key())},
        "achievement": {"name": "Forklift Operation", "criteria": {"narrative": "40 hours"}},
        "recipient": "Park Seoyeon",
    });
    claims
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let pointers: Vec<JsonPointerBuf> = ["/achievement", "/recipient"]
        .into_iter()
        .map(|p| JsonPointerBuf::new(p.to_owned()).unwrap())
        .collect();
    let (payload, disclosures) = SdJwtPayload::conceal(&claims, SdAlg::Sha256, &pointers).unwrap();
    let signer = ssi_jwk(issuer, did::key_id(&did));
    let jws = JwsSigner::sign(&signer, VcPayload(payload)).await.unwrap();
    let mut text = format!("{}~", jws.as_str());
    for d in &disclosures {
        if let DisclosureDescription::ObjectEntry { key, .. } = &d.desc
            && key == "achievement"
        {
            text.push_str(d.encoded.as_str());
            text.push('~');
        }
    }
    let mut sd_jwt = SdJwtBuf::new(text.into_bytes()).unwrap();
    let kb = KbJwtPayload::new(AUDIENCE.into(), NONCE.into(), SdAlg::Sha256, &sd_jwt)
        .sign(ssi_jwk(holder, None))
        .await
        .unwrap();
    sd_jwt.set_kb(&kb);
    sd_jwt.into_string()
}

/// One character of the issuer's signature changed.
fn tampered_signature(presentation: &str) -> String {
    let (jwt, rest) = presentation.split_once('~').unwrap();
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    let mut signature = signature.to_owned();
    let first = if signature.starts_with('A') { "B" } else { "A" };
    signature.replace_range(0..1, first);
    format!("{signed}.{signature}~{rest}")
}

#[tokio::test]
async fn sd_jwt_vcs_from_a_did_jwk_issuer_follow_the_policy() {
    let ledger = Ledger::new().await;
    let trust = ledger.trust().await;
    let verifier = verifier(&trust);
    for alg in Algorithm::ALL {
        let issuer = SecretKey::generate(alg).unwrap();
        let holder = SecretKey::generate(alg).unwrap();
        let did = Did::jwk(issuer.public_key()).to_string();
        let presentation = ssi_sd_jwt_vc(&issuer, &holder, json!({})).await;

        // Accredited only (the default): the signature checks out, the issuer does not.
        let verdict = verifier.sd_jwt_vc(&presentation, &policy(IssuerPolicy::Accredited), now());
        assert_eq!(
            verdict.blocking_codes(),
            [ReasonCode::IssuerNotInRegistry],
            "{alg}: {verdict:#?}"
        );
        assert!(verdict.disclosed_claims.is_empty());
        assert!(
            reason(&verdict, ReasonCode::IssuerNotInRegistry)
                .detail
                .contains("accepts only issuers the registry accredits")
        );

        // Also key DIDs: accepted, as not accredited, with what was disclosed.
        let verdict = verifier.sd_jwt_vc(&presentation, &policy(IssuerPolicy::AlsoKeyDids), now());
        assert_accepted_not_accredited(&verdict, &did);
        assert_eq!(verdict.credential_type.as_deref(), Some("job-badge"));
        assert_eq!(
            verdict.disclosed_claims["achievement"]["name"],
            "Forklift Operation"
        );
        assert!(verdict.disclosed_claims.get("recipient").is_none());

        // The signature is checked under both policies (before: `issuer_unknown`, unchecked).
        let forged = tampered_signature(&presentation);
        for issuers in IssuerPolicy::ALL {
            let verdict = verifier.sd_jwt_vc(&forged, &policy(issuers), now());
            assert_eq!(
                verdict.blocking_codes(),
                [ReasonCode::SignatureInvalid],
                "{alg} {issuers}"
            );
        }
        // And the holder's binding: another nonce is refused whatever the policy.
        let other_nonce = Policy {
            key_binding: Some(ExpectedKeyBinding {
                audience: AUDIENCE,
                nonce: "n-43",
                max_age: 300,
            }),
            issuers: IssuerPolicy::AlsoKeyDids,
            ..Policy::default()
        };
        let verdict = verifier.sd_jwt_vc(&presentation, &other_nonce, now());
        assert_eq!(verdict.blocking_codes(), [ReasonCode::ChallengeMismatch]);
    }
}

#[tokio::test]
async fn a_key_did_issuers_status_list_is_reported_not_checked() {
    let ledger = Ledger::new().await;
    let trust = ledger.trust().await;
    let issuer = SecretKey::generate(Algorithm::Es256).unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let status =
        json!({"status": {"status_list": {"idx": 7, "uri": "https://badges.example/lists/1"}}});
    let presentation = ssi_sd_jwt_vc(&issuer, &holder, status).await;

    let verdict =
        verifier(&trust).sd_jwt_vc(&presentation, &policy(IssuerPolicy::AlsoKeyDids), now());
    assert_accepted_not_accredited(&verdict, &Did::jwk(issuer.public_key()).to_string());
    let status = reason(&verdict, ReasonCode::StatusNotChecked);
    assert!(!status.blocking && status.kind == ReasonKind::Unchecked);
    assert!(status.detail.contains("cannot be checked offline"));

    let verdict =
        verifier(&trust).sd_jwt_vc(&presentation, &policy(IssuerPolicy::Accredited), now());
    assert_eq!(
        verdict.blocking_codes(),
        [
            ReasonCode::IssuerNotInRegistry,
            ReasonCode::StatusNotChecked
        ]
    );
}

#[tokio::test]
async fn an_issuer_neither_in_the_bundle_nor_a_key_did_is_unknown_under_both_policies() {
    let ledger = Ledger::new().await;
    let trust = ledger.trust().await;
    let issuer = SecretKey::generate(Algorithm::Es256).unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let ty = Catalog::builtin().get("job-badge").unwrap();
    let credential = ty
        .draft(
            ty.example().clone(),
            Issuance {
                issuer: "did:web:badges.example".into(),
                issued_at: now(),
                valid_until: None,
                holder_key: Some(holder.public_key().clone()),
                status: None,
            },
        )
        .unwrap()
        .sign(&issuer, "did:web:badges.example#key-1")
        .unwrap();
    for issuers in IssuerPolicy::ALL {
        let verdict = verifier(&trust).sd_jwt_vc(
            &credential,
            &Policy {
                issuers,
                ..Policy::default()
            },
            now(),
        );
        assert_eq!(
            verdict.blocking_codes(),
            [ReasonCode::IssuerUnknown],
            "{issuers}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The compact QR format: ssi cannot make it, so our own core signs as a did:jwk issuer.

#[tokio::test]
async fn qr_credentials_from_a_key_did_issuer_follow_the_same_policy() {
    let ledger = Ledger::new().await;
    let trust = ledger.trust().await;
    let issuer = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let did = Did::jwk(issuer.public_key());
    let ty = Catalog::builtin().get("job-badge").unwrap();
    let draft = ty
        .draft(
            ty.example().clone(),
            Issuance {
                issuer: did.to_string(),
                issued_at: now(),
                valid_until: None,
                holder_key: Some(holder.public_key().clone()),
                status: Some(StatusListReference {
                    idx: 2,
                    uri: "https://badges.example/lists/1".into(),
                }),
            },
        )
        .unwrap();
    let held =
        HeldCompact::parse(&compact::issue(&draft, &issuer, &did::key_id(&did).unwrap()).unwrap())
            .unwrap();
    let shown = held
        .present(
            &held.disclosable(),
            &Binding {
                at: now(),
                challenge: None,
            },
            &holder,
        )
        .unwrap();
    let text = compact::to_qr_text(&shown);

    let verdict = verifier(&trust).verify(text.as_bytes(), &Policy::default(), now());
    assert_eq!(
        verdict.blocking_codes(),
        [
            ReasonCode::IssuerNotInRegistry,
            ReasonCode::StatusNotChecked
        ],
        "{verdict:#?}"
    );
    let also = Policy {
        issuers: IssuerPolicy::AlsoKeyDids,
        ..Policy::default()
    };
    let verdict = verifier(&trust).verify(text.as_bytes(), &also, now());
    assert_accepted_not_accredited(&verdict, did.as_str());
    assert!(verdict.has(ReasonCode::StatusNotChecked));

    // Signed by another key than the one the DID names: a forgery, whatever the policy.
    let impostor = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let forged = HeldCompact::parse(
        &compact::issue(&draft, &impostor, &did::key_id(&did).unwrap()).unwrap(),
    )
    .unwrap();
    let shown = forged
        .present(
            &forged.disclosable(),
            &Binding {
                at: now(),
                challenge: None,
            },
            &holder,
        )
        .unwrap();
    let verdict = verifier(&trust).verify(compact::to_qr_text(&shown).as_bytes(), &also, now());
    assert_eq!(verdict.blocking_codes(), [ReasonCode::SignatureInvalid]);
}

// ---------------------------------------------------------------------------------------------
// Data Integrity, signed by ssi with the W3C vectors' key pairs.

fn vectors_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DOJANG_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors"))
        });
    if dir.join("di-eddsa").is_dir() && dir.join("di-ecdsa").is_dir() {
        Some(dir)
    } else {
        println!("skipped: vectors not found at {}", dir.display());
        None
    }
}

fn read_json(dir: &Path, rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(rel)).unwrap()).unwrap()
}

fn base58_decode(s: &str) -> Vec<u8> {
    const BASE58BTC: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut bytes: Vec<u8> = Vec::new();
    for c in s.chars() {
        let mut carry = BASE58BTC.find(c).expect("base58btc character") as u32;
        for b in bytes.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.chars().take_while(|&c| c == '1').count();
    [vec![0; zeros], bytes].concat()
}

/// The vectors' key pair for `suite`: its did:key and the secret as an `ssi` JWK.
fn vector_key(dir: &Path, suite: &ssi::claims::data_integrity::AnySuite) -> (String, ssi::JWK) {
    use ssi::claims::data_integrity::AnySuite;
    let (file, secret) = match suite {
        AnySuite::EdDsaRdfc2022 => ("di-eddsa/TestVectors/keyPair.json", "privateKeyMultibase"),
        _ => (
            "di-ecdsa/TestVectors/p256KeyPair.json",
            "secretKeyMultibase",
        ),
    };
    let keys = read_json(dir, file);
    let secret = base58_decode(&keys[secret].as_str().unwrap()[1..]);
    let jwk =
        ssi::JWK::from_multicodec(ssi::multicodec::MultiEncoded::new(&secret).unwrap()).unwrap();
    let public = keys["publicKeyMultibase"].as_str().unwrap();
    (format!("did:key:{public}"), jwk)
}

/// The W3C unsigned vector, issued by the key's own did:key (plus `extra`), signed by `ssi`.
fn ssi_data_integrity(
    dir: &Path,
    suite: ssi::claims::data_integrity::AnySuite,
    extra: Value,
) -> (String, String) {
    use ssi::claims::data_integrity::{CryptographicSuite, DataIntegrityDocument, ProofOptions};
    use ssi::dids::{DIDKey, VerificationMethodDIDResolver};
    use ssi::verification_methods::{AnyMethod, SingleSecretSigner};

    let (did, jwk) = vector_key(dir, &suite);
    let mut unsigned = read_json(dir, "di-eddsa/TestVectors/unsigned.json");
    unsigned["issuer"] = json!(did);
    unsigned
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let fragment = did.strip_prefix("did:key:").unwrap();
    let vm = ssi::json_ld::IriBuf::new(format!("{did}#{fragment}")).unwrap();
    let mut options = ProofOptions::from_method(vm.into());
    options.created = Some("2023-02-24T23:36:38Z".parse().unwrap());
    let document: DataIntegrityDocument = serde_json::from_value(unsigned).unwrap();
    let resolver = VerificationMethodDIDResolver::<DIDKey, AnyMethod>::new(DIDKey);
    let signed = futures::executor::block_on(suite.sign(
        document,
        &resolver,
        SingleSecretSigner::new(jwk).into_local(),
        options,
    ))
    .unwrap();
    (did, serde_json::to_string(&signed).unwrap())
}

#[tokio::test]
async fn data_integrity_credentials_from_a_did_key_issuer_follow_the_same_policy() {
    use ssi::claims::data_integrity::AnySuite;
    let Some(dir) = vectors_dir() else { return };
    let ledger = Ledger::new().await;
    let trust = ledger.trust().await;
    let at = now();
    let accredited = Policy::default();
    let also = Policy {
        issuers: IssuerPolicy::AlsoKeyDids,
        ..Policy::default()
    };
    for suite in [AnySuite::EdDsaRdfc2022, AnySuite::EcdsaRdfc2019] {
        let (did, text) = ssi_data_integrity(&dir, suite, json!({}));
        let verdict = verifier(&trust).verify(text.as_bytes(), &accredited, at);
        assert_eq!(
            verdict.blocking_codes(),
            [ReasonCode::IssuerNotInRegistry],
            "{verdict:#?}"
        );
        let verdict = verifier(&trust).verify(text.as_bytes(), &also, at);
        assert_accepted_not_accredited(&verdict, &did);
        assert_eq!(verdict.credential_type.as_deref(), Some("AlumniCredential"));
        assert_eq!(
            verdict.disclosed_claims["alumniOf"],
            "The School of Examples"
        );

        // Altered after signing: the proof fails under both policies.
        let tampered = text.replace("The School of Examples", "The School of Forgeries");
        for policy in [&accredited, &also] {
            let verdict = verifier(&trust).verify(tampered.as_bytes(), policy, at);
            assert_eq!(verdict.blocking_codes(), [ReasonCode::SignatureInvalid]);
        }
    }

    // A W3C status entry cannot be looked up offline: said, not silently skipped.
    let status = json!({"credentialStatus": {
        "id": "https://vc.example/status/3#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://vc.example/status/3"
    }});
    let (did, text) = ssi_data_integrity(&dir, AnySuite::EdDsaRdfc2022, status);
    let verdict = verifier(&trust).verify(text.as_bytes(), &also, at);
    assert_accepted_not_accredited(&verdict, &did);
    assert!(!reason(&verdict, ReasonCode::StatusNotChecked).blocking);

    // The W3C "employ" vector names one did:key as issuer and signs with another: a signature
    // by someone else is no key DID's credential, whatever the policy.
    let employ = std::fs::read_to_string(
        dir.join("di-eddsa/TestVectors/eddsa-rdfc-2022/employ/signedDataInt.json"),
    )
    .unwrap();
    for policy in [&accredited, &also] {
        let verdict = verifier(&trust).verify(employ.as_bytes(), policy, at);
        assert_eq!(verdict.blocking_codes(), [ReasonCode::SignatureInvalid]);
    }
}

// ---------------------------------------------------------------------------------------------
// The service: the policy in force is shown, and the verdict says "not accredited" in words.

#[cfg(feature = "server")]
#[tokio::test]
async fn the_service_applies_and_shows_its_issuer_policy() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use common::call;
    use dojang_verifier::service::{VerifierConfig, VerifierService};

    let ledger = Ledger::new().await;
    let config = VerifierConfig {
        public_url: "https://counter.example".into(),
        audience: "counter-1.example".into(),
        registry_url: None,
        max_bundle_age: Some(86_400),
        min_witnesses: 0,
    };
    let issuer = SecretKey::generate(Algorithm::Es256).unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let presentation = ssi_sd_jwt_vc(&issuer, &holder, json!({})).await;
    let upload = || {
        Request::post("/api/verify")
            .body(Body::from(presentation.clone()))
            .unwrap()
    };
    let trust = || Request::get("/api/trust").body(Body::empty()).unwrap();

    let default = VerifierService::new(config.clone(), ledger.trust().await);
    let (_, shown) = call(&default, trust()).await;
    assert_eq!(shown["issuer_policy"], "accredited");
    assert!(
        shown["issuer_policy_in_words"]
            .as_str()
            .unwrap()
            .contains("only issuers accredited in the registry")
    );
    let (_, verdict) = call(&default, upload()).await;
    assert_eq!(verdict["decision"], "rejected");
    assert_eq!(verdict["reasons"][0]["code"], "issuer_not_in_registry");

    let open = VerifierService::new(config, ledger.trust().await)
        .with_issuer_policy(IssuerPolicy::AlsoKeyDids);
    let (_, shown) = call(&open, trust()).await;
    assert_eq!(shown["issuer_policy"], "also-key-dids");
    let words = shown["issuer_policy_in_words"].as_str().unwrap();
    assert!(words.contains("did:key") && words.contains("shown as not accredited"));
    let (status, verdict) = call(&open, upload()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdict["decision"], "accepted", "{verdict}");
    assert_eq!(verdict["reasons"][0]["code"], "issuer_not_in_registry");
    assert_eq!(verdict["reasons"][0]["blocking"], false);
    let in_words = verdict["reasons_in_words"][0].as_str().unwrap();
    assert!(
        in_words.contains("not accredited in the registry"),
        "{in_words}"
    );
    assert!(in_words.contains("인정하지 않았습니다"), "{in_words}");
    assert!(verdict["issuer"].get("name").is_none());
}

#[test]
fn policy_names_are_stable() {
    for policy in IssuerPolicy::ALL {
        assert_eq!(policy.as_str().parse::<IssuerPolicy>(), Ok(policy));
    }
    assert_eq!(IssuerPolicy::default(), IssuerPolicy::Accredited);
    assert!("any".parse::<IssuerPolicy>().is_err());
}
