//! The VCDM 2.0 rules, one valid and one invalid document per rule (`data/vcdm2/<rule>/`):
//! each valid one keeps every rule, each invalid one breaks exactly its rule, first. The rules
//! that need JSON-LD are `dojang_verifier::di`'s to check; here their invalid documents must
//! keep every structural rule (the verifier's tests and the CLI's run them in full). And what
//! dojang itself makes — the VCDM view of an SD-JWT VC, presentations of enveloped SD-JWT VCs,
//! Bitstring Status List entries — keeps the rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use dojang_core::credential::{
    Credential, DocumentKind, Presentation, Rule, Violation, validate_document,
};
use dojang_core::did::{self, Did};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::sd_jwt::vc::{self, SdJwtVcDraft};
use dojang_core::sd_jwt::{ClaimPath, OfflineDids, VerifyOptions};
use dojang_core::status::StatusListReference;
use dojang_core::status::bitstring::{BitstringStatusListEntry, StatusPurpose};
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vcdm2")
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `(rule, folder)` pair under `data/vcdm2`.
fn pairs() -> Vec<(Rule, PathBuf)> {
    let mut pairs: Vec<(Rule, PathBuf)> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let rule = Rule::from_id(&format!("vcdm2.{name}"))
                .unwrap_or_else(|| panic!("data/vcdm2/{name} names no rule"));
            (rule, path)
        })
        .collect();
    pairs.sort_by_key(|(rule, _)| rule.id());
    pairs
}

#[test]
fn every_rule_has_a_valid_and_an_invalid_document() {
    let covered: Vec<Rule> = pairs().into_iter().map(|(rule, _)| rule).collect();
    for rule in Rule::ALL {
        assert!(
            covered.contains(&rule),
            "no data/vcdm2/{} pair",
            rule.id().trim_start_matches("vcdm2.")
        );
    }
}

#[test]
fn each_valid_document_keeps_every_structural_rule() {
    for (rule, dir) in pairs() {
        let document = read(&dir.join("valid.json"));
        let kind = validate_document(&document)
            .unwrap_or_else(|v| panic!("{}: valid.json breaks {v}", rule.id()));
        // The typed parsers agree, and what they parse serializes back as it came.
        match kind {
            DocumentKind::Credential => {
                let credential = Credential::from_json(&document).unwrap();
                credential.validate().unwrap();
                assert_eq!(serde_json::to_value(&credential).unwrap(), document);
            }
            DocumentKind::Presentation => {
                let presentation = Presentation::from_json(&document).unwrap();
                presentation.validate().unwrap();
                assert_eq!(serde_json::to_value(&presentation).unwrap(), document);
            }
            _ => {}
        }
    }
}

#[test]
fn each_invalid_document_breaks_its_rule() {
    let mut checked = 0;
    for (rule, dir) in pairs() {
        let document = read(&dir.join("invalid.json"));
        let result = validate_document(&document);
        if rule.needs_json_ld() {
            // Structurally sound: only JSON-LD processing finds what is wrong.
            assert!(result.is_ok(), "{}: {result:?}", rule.id());
            continue;
        }
        let violation = result.expect_err(rule.id());
        assert_eq!(violation.rule, rule, "{}: broke {violation}", rule.id());
        // The pointer leads to something in the document (or is the document itself).
        assert!(
            violation.pointer.is_empty()
                || document.pointer(&violation.pointer).is_some()
                || document
                    .pointer(parent(&violation.pointer))
                    .is_some_and(Value::is_object),
            "{}: {violation}",
            rule.id()
        );
        checked += 1;
    }
    assert!(checked >= Rule::ALL.len() - 3);
}

/// The pointer without its last token (a missing property's object).
fn parent(pointer: &str) -> &str {
    pointer.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// The typed parsers report the same rule as `validate_document`.
#[test]
fn typed_parsers_name_the_same_rule() {
    for (rule, dir) in pairs() {
        if rule.needs_json_ld() {
            continue;
        }
        let document = read(&dir.join("invalid.json"));
        let types = document["type"].to_string();
        let found = if types.contains("Enveloped") {
            continue;
        } else if types.contains("\"VerifiablePresentation\"") {
            Presentation::from_json(&document).unwrap_err().rule()
        } else {
            Credential::from_json(&document).unwrap_err().rule()
        };
        assert_eq!(found, Some(rule), "{}", rule.id());
    }
}

#[test]
fn documents_name_their_kind() {
    let envelope = Presentation::envelope_sd_jwt("eyJhbGciOiJFUzI1NiJ9.e30.c2ln~");
    assert_eq!(
        validate_document(&envelope),
        Ok(DocumentKind::EnvelopedCredential)
    );
    let mut bare = envelope.clone();
    bare["type"] = json!("VerifiableCredential");
    assert_eq!(
        validate_document(&bare).map_err(|v| v.rule),
        Err(Rule::IssuerPresent)
    );
    assert_eq!(
        validate_document(&json!("a string")),
        Err(Violation::new(Rule::DocumentObject, ""))
    );
}

/// What dojang issues and presents keeps the rules.
#[test]
fn dojangs_own_credentials_keep_the_rules() {
    let issuer = SecretKey::generate(Algorithm::Es256).unwrap();
    let holder = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let did = Did::key(issuer.public_key());
    let draft = SdJwtVcDraft {
        vct: "urn:dojang:vct:citizen-card:1".into(),
        issuer: did.to_string(),
        issued_at: NOW - 3600,
        valid_from: Some(NOW - 3600),
        valid_until: Some(NOW + 86_400),
        holder_key: Some(holder.public_key().clone()),
        status: Some(StatusListReference {
            idx: 4242,
            uri: "https://registry.example/status/seoul/1".into(),
        }),
        claims: json!({"name": "김민지", "birthdate": "1994-03-15", "age_over_19": true})
            .as_object()
            .cloned()
            .unwrap(),
        disclosable: ["/name", "/birthdate"]
            .into_iter()
            .map(ClaimPath::parse)
            .collect(),
    };
    let sd_jwt = draft.sign(&issuer, &did::key_id(&did).unwrap()).unwrap();
    let verified = vc::verify(&sd_jwt, &OfflineDids, &VerifyOptions::at(NOW)).unwrap();

    let mut credential = Credential::from_sd_jwt_vc(&verified, "CitizenCard");
    credential.validate().unwrap();
    let entry = BitstringStatusListEntry::new(
        StatusPurpose::Revocation,
        4242,
        "https://registry.example/status/seoul/1",
    );
    credential.credential_status = Some(dojang_core::credential::OneOrMany::One(
        serde_json::to_value(entry).unwrap(),
    ));
    credential.validate().unwrap();
    let json = serde_json::to_value(&credential).unwrap();
    assert_eq!(validate_document(&json), Ok(DocumentKind::Credential));
    assert_eq!(Credential::from_json(&json).unwrap(), credential);

    let presentation = Presentation::new(
        Some(Did::key(holder.public_key()).to_string()),
        vec![Presentation::envelope_sd_jwt(sd_jwt.trim())],
    );
    presentation.validate().unwrap();
    assert_eq!(
        validate_document(&serde_json::to_value(&presentation).unwrap()),
        Ok(DocumentKind::Presentation)
    );
}
