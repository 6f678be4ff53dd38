//! Interoperability with SpruceID's `ssi` 0.16, both ways: `ssi` accepts the SD-JWT VCs and
//! key-bound presentations dojang makes, and dojang accepts the ones `ssi` makes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::borrow::Cow;

use dojang_core::did::{self, Did};
use dojang_core::jwk::Jwk;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::sd_jwt::vc::{self, SdJwtVcDraft};
use dojang_core::sd_jwt::{
    self, ClaimPath, HeldSdJwt, KeyBindingInput, OfflineDids, SdJwtError, VerifyOptions,
};
use serde_json::{Value, json};
use ssi::claims::VerificationParameters;
use ssi::claims::jws::JwsPayload;
use ssi::claims::jws::JwsSigner;
use ssi::claims::sd_jwt::DisclosureDescription;
use ssi::claims::sd_jwt::{JsonPointerBuf, KbJwtPayload, SdAlg, SdJwt, SdJwtBuf, SdJwtPayload};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The same key as an `ssi` JWK, with `kid` set so `ssi`'s signer puts it in the header.
fn ssi_jwk(key: &SecretKey, kid: Option<String>) -> ssi::JWK {
    let mut jwk: ssi::JWK = serde_json::to_value(Jwk::from_secret_key(key))
        .and_then(serde_json::from_value)
        .unwrap();
    jwk.key_id = kid;
    jwk
}

fn ssi_public(key: &SecretKey) -> ssi::JWK {
    serde_json::to_value(Jwk::from_public_key(key.public_key()))
        .and_then(serde_json::from_value)
        .unwrap()
}

#[tokio::test]
async fn ssi_verifies_dojang_sd_jwt_vc_with_key_binding() {
    for alg in Algorithm::ALL {
        let issuer = SecretKey::generate(alg).unwrap();
        let holder = SecretKey::generate(alg).unwrap();
        let did = Did::jwk(issuer.public_key());
        let draft = SdJwtVcDraft {
            vct: "urn:dojang:vct:qualification:1".into(),
            issuer: did.to_string(),
            issued_at: now() - 60,
            valid_from: None,
            valid_until: Some(now() + 3600),
            holder_key: Some(holder.public_key().clone()),
            status: None,
            claims: json!({
                "holder_name": "Lee Jiho",
                "qualification_name": "Engineer Information Processing",
                "grade": "Engineer",
                "certificate_number": "HRDK-2026-0001"
            })
            .as_object()
            .cloned()
            .unwrap(),
            disclosable: [
                "/holder_name",
                "/qualification_name",
                "/grade",
                "/certificate_number",
            ]
            .into_iter()
            .map(ClaimPath::parse)
            .collect(),
        };
        let credential = draft.sign(&issuer, &did::key_id(&did).unwrap()).unwrap();
        let presentation = HeldSdJwt::parse(&credential)
            .unwrap()
            .present(
                &[
                    ClaimPath::parse("qualification_name"),
                    ClaimPath::parse("grade"),
                ],
                Some(KeyBindingInput {
                    signer: &holder,
                    audience: "https://employer.example",
                    nonce: "nonce-123",
                    issued_at: now(),
                }),
            )
            .unwrap();

        let sd_jwt = SdJwt::new(presentation.as_str()).unwrap();
        let params = VerificationParameters::from_resolver(ssi_public(&issuer));
        let (revealed, verification) = sd_jwt.decode_reveal_verify_any(&params).await.unwrap();
        verification.unwrap_or_else(|e| panic!("{alg}: ssi rejected dojang's SD-JWT VC: {e}"));
        let claims = &revealed.claims().private;
        assert_eq!(
            claims.get("qualification_name"),
            Some(&json!("Engineer Information Processing"))
        );
        assert_eq!(claims.get("grade"), Some(&json!("Engineer")));
        assert_eq!(
            claims.get("holder_name"),
            None,
            "{alg}: undisclosed claim leaked"
        );
        assert_eq!(
            claims.get("vct"),
            Some(&json!("urn:dojang:vct:qualification:1"))
        );

        let kb = sd_jwt.decode_kb().unwrap().expect("key binding present");
        let kb_claims = &kb.signing_bytes.payload;
        assert_eq!(kb_claims.aud, "https://employer.example");
        assert_eq!(kb_claims.nonce.0, "nonce-123");
        assert!(
            kb_claims.sd_hash.verify(revealed.sd_alg, sd_jwt),
            "{alg}: sd_hash"
        );
        kb.verify(&VerificationParameters::from_resolver(ssi_public(&holder)))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{alg}: ssi rejected dojang's KB-JWT: {e}"));

        // ssi must also refuse what dojang refuses: a tampered disclosure.
        let pieces: Vec<&str> = presentation.split('~').collect();
        let tampered_disclosure =
            dojang_core::b64::encode(json!(["salt", "grade", "Master"]).to_string());
        let tampered = format!("{}~{}~{tampered_disclosure}~", pieces[0], pieces[1]);
        let tampered_jwt = SdJwt::new(tampered.as_str()).unwrap();
        assert!(
            tampered_jwt
                .decode_reveal_verify_any(&params)
                .await
                .is_err(),
            "{alg}: ssi accepted an injected disclosure"
        );
    }
}

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

/// An SD-JWT VC made entirely by `ssi`: concealment, disclosures, signature, key binding.
async fn ssi_issued(issuer: &SecretKey, holder: &SecretKey, disclose: &[&str]) -> String {
    let did = Did::jwk(issuer.public_key());
    let claims = json!({
        "iss": did.to_string(),
        "iat": now() - 60,
        "exp": now() + 3600,
        "vct": "urn:dojang:vct:job-badge:1",
        "cnf": {"jwk": Jwk::from_public_key(holder.public_key())},
        "achievement": {"name": "Forklift Operation", "criteria": {"narrative": "40 hours"}},
        "recipient": "Park Seoyeon",
        "awarded": "2026-10-01",
    });
    let pointers: Vec<JsonPointerBuf> = ["/achievement", "/recipient", "/awarded"]
        .into_iter()
        .map(|p| JsonPointerBuf::new(p.to_owned()).unwrap())
        .collect();
    let (payload, disclosures) = SdJwtPayload::conceal(&claims, SdAlg::Sha256, &pointers).unwrap();
    let signer = ssi_jwk(issuer, did::key_id(&did));
    let jws = JwsSigner::sign(&signer, VcPayload(payload)).await.unwrap();
    let mut text = format!("{}~", jws.as_str());
    for d in &disclosures {
        let chosen = match &d.desc {
            DisclosureDescription::ObjectEntry { key, .. } => disclose.contains(&key.as_str()),
            DisclosureDescription::ArrayItem(_) => false,
        };
        if chosen {
            text.push_str(d.encoded.as_str());
            text.push('~');
        }
    }
    let mut sd_jwt = SdJwtBuf::new(text.into_bytes()).unwrap();
    let kb = KbJwtPayload::new(
        "https://counter.example".into(),
        "n-42".into(),
        SdAlg::Sha256,
        &sd_jwt,
    )
    .sign(ssi_jwk(holder, None))
    .await
    .unwrap();
    sd_jwt.set_kb(&kb);
    sd_jwt.into_string()
}

#[tokio::test]
async fn dojang_verifies_ssi_sd_jwt_vc_with_key_binding() {
    for alg in Algorithm::ALL {
        let issuer = SecretKey::generate(alg).unwrap();
        let holder = SecretKey::generate(alg).unwrap();
        let presentation = ssi_issued(&issuer, &holder, &["achievement", "awarded"]).await;
        let options =
            VerifyOptions::at(now()).require_key_binding("https://counter.example", "n-42");
        let verified = vc::verify(&presentation, &OfflineDids, &options)
            .unwrap_or_else(|e| panic!("{alg}: dojang rejected ssi's SD-JWT VC: {e}"));
        assert_eq!(verified.vct, "urn:dojang:vct:job-badge:1");
        assert_eq!(verified.issuer, Did::jwk(issuer.public_key()).to_string());
        assert_eq!(
            Value::Object(verified.claims),
            json!({
                "achievement": {"name": "Forklift Operation", "criteria": {"narrative": "40 hours"}},
                "awarded": "2026-10-01",
            })
        );
        assert_eq!(verified.holder_key.as_ref(), Some(holder.public_key()));
        assert_eq!(verified.key_binding.unwrap().nonce, "n-42");

        // The wrong nonce is still refused on ssi-made presentations.
        let strict =
            VerifyOptions::at(now()).require_key_binding("https://counter.example", "n-43");
        assert!(matches!(
            vc::verify(&presentation, &OfflineDids, &strict),
            Err(SdJwtError::KeyBinding(
                sd_jwt::KeyBindingError::NonceMismatch
            ))
        ));
    }
}

#[tokio::test]
async fn dojang_verifies_plain_ssi_sd_jwt() {
    // ssi's own conceal_and_sign, untouched (no `typ`): the general SD-JWT verifier takes it.
    let issuer = SecretKey::generate(Algorithm::Es256).unwrap();
    let claims = ssi::claims::JWTClaims::builder()
        .iss("https://issuer.example")
        .iat(now() - 10)
        .exp(now() + 100)
        .with_private_claims(
            json!({"given_name": "Minji", "nationalities": ["KR", "US"]})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
    let pointers: Vec<JsonPointerBuf> = ["/given_name", "/nationalities/1"]
        .into_iter()
        .map(|p| JsonPointerBuf::new(p.to_owned()).unwrap())
        .collect();
    let signer = ssi_jwk(&issuer, None);
    let issued = SdJwtBuf::conceal_and_sign(&claims, SdAlg::Sha256, &pointers, &signer)
        .await
        .unwrap()
        .into_string();
    let verified = sd_jwt::verify(&issued, issuer.public_key(), &VerifyOptions::at(now())).unwrap();
    assert_eq!(verified.claims["given_name"], "Minji");
    assert_eq!(verified.claims["nationalities"], json!(["KR", "US"]));
    // And the holder side reads ssi's disclosure layout.
    let held = HeldSdJwt::parse(&issued).unwrap();
    let presented = held
        .present(&[ClaimPath::parse("/nationalities/1")], None)
        .unwrap();
    let verified =
        sd_jwt::verify(&presented, issuer.public_key(), &VerifyOptions::at(now())).unwrap();
    assert_eq!(verified.claims.get("given_name"), None);
    assert_eq!(verified.claims["nationalities"], json!(["KR", "US"]));
}
