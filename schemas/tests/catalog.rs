//! The built-in credential types, schema validation with failing paths, and catalog checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dojang_core::Lang;
use dojang_core::did::{self, Did};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::sd_jwt::vc;
use dojang_core::sd_jwt::{HeldSdJwt, OfflineDids, VerifyOptions};
use dojang_schemas::{Catalog, CredentialType, Issuance, SchemaError, TypeFiles, ValueKind};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000;

fn claims(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

fn violations(result: Result<(), SchemaError>) -> Vec<(String, String)> {
    match result {
        Err(SchemaError::Invalid { violations, .. }) => violations
            .into_iter()
            .map(|v| (v.path, v.message))
            .collect(),
        other => panic!("expected schema violations, got {other:?}"),
    }
}

#[test]
fn the_four_types_are_built_in() {
    let ids: Vec<&str> = Catalog::builtin().iter().map(CredentialType::id).collect();
    assert_eq!(
        ids,
        ["citizen-card", "job-badge", "mobile-id", "qualification"]
    );
    let badge = Catalog::builtin()
        .by_vct("urn:dojang:vct:job-badge:1")
        .unwrap();
    assert_eq!(badge.descriptor().vcdm_type, "OpenBadgeCredential");
    assert_eq!(badge.descriptor().issuers[0].slug, "keis");
    assert_eq!(
        Catalog::builtin().get("passport").unwrap_err(),
        SchemaError::UnknownType {
            id: "passport".into()
        }
    );
}

#[test]
fn every_type_issues_presents_and_verifies_its_example() {
    let issuer = SecretKey::generate(Algorithm::Es256).unwrap();
    let holder = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let did = Did::key(issuer.public_key());
    for ty in Catalog::builtin().iter() {
        let draft = ty
            .draft(
                ty.example().clone(),
                Issuance {
                    issuer: did.to_string(),
                    issued_at: NOW,
                    valid_until: None,
                    holder_key: Some(holder.public_key().clone()),
                    status: None,
                },
            )
            .unwrap();
        let credential = draft.sign(&issuer, &did::key_id(&did).unwrap()).unwrap();
        // Present nothing optional: only the always-disclosed claims remain.
        let presented = HeldSdJwt::parse(&credential)
            .unwrap()
            .present(&[], None)
            .unwrap();
        let verified = vc::verify(&presented, &OfflineDids, &VerifyOptions::at(NOW + 10)).unwrap();
        assert_eq!(verified.vct, ty.descriptor().vct);
        let visible: std::collections::BTreeSet<&str> =
            verified.claims.keys().map(String::as_str).collect();
        let always = ty
            .descriptor()
            .always_disclosed
            .iter()
            .map(|p| p.trim_start_matches('/'))
            .collect();
        assert_eq!(visible, always, "{}", ty.id());
        // Every disclosable claim is in the holder's view.
        let held = HeldSdJwt::parse(&credential).unwrap();
        assert_eq!(
            held.disclosable_paths().len(),
            ty.disclosable().len(),
            "{}",
            ty.id()
        );
        let expected_exp = ty
            .descriptor()
            .default_validity_days
            .map(|d| NOW + i64::from(d) * 86_400);
        assert_eq!(verified.valid_until, expected_exp, "{}", ty.id());
    }
}

#[test]
fn invalid_claims_are_rejected_with_their_paths() {
    let card = Catalog::builtin().get("citizen-card").unwrap();
    let mut bad = card.example().clone();
    bad["card_number"] = json!("12345");
    bad["birthdate"] = json!("15/03/1994");
    bad["address"]["postal_code"] = json!("ABCDE");
    bad.remove("name");
    bad.insert("favourite_colour".into(), json!("blue"));
    let found = violations(card.validate(&bad));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    for expected in [
        "/card_number",
        "/birthdate",
        "/address/postal_code",
        "/name",
        "",
    ] {
        assert!(
            paths.contains(&expected),
            "missing {expected:?} in {found:?}"
        );
    }
    assert!(
        found
            .iter()
            .any(|(p, m)| p == "/name" && m.contains("required")),
        "a missing claim is reported where it belongs: {found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(p, m)| p.is_empty() && m.contains("favourite_colour")),
        "{found:?}"
    );

    let badge = Catalog::builtin().get("job-badge").unwrap();
    let mut bad = badge.example().clone();
    bad["achievement"]["type"] = json!(["Badge"]);
    bad["identifier"][0]["hashed"] = json!("no");
    let paths: Vec<String> = violations(badge.validate(&bad))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert!(paths.contains(&"/achievement/type".to_owned()), "{paths:?}");
    assert!(
        paths.contains(&"/identifier/0/hashed".to_owned()),
        "{paths:?}"
    );

    let qualification = Catalog::builtin().get("qualification").unwrap();
    let mut bad = qualification.example().clone();
    bad["grade"] = json!("Grandmaster");
    assert_eq!(violations(qualification.validate(&bad))[0].0, "/grade");
}

#[test]
fn holder_binding_is_required_where_the_type_says_so() {
    let id = Catalog::builtin().get("mobile-id").unwrap();
    let err = id
        .draft(
            id.example().clone(),
            Issuance {
                issuer: "did:example:mois".into(),
                issued_at: NOW,
                valid_until: None,
                holder_key: None,
                status: None,
            },
        )
        .unwrap_err();
    assert!(matches!(err, SchemaError::Invalid { violations, .. } if violations[0].path == "/cnf"));
}

const SCHEMA: &str =
    r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}"#;
const DESCRIPTOR: &str = r#"{"id":"t","name":"T","description":"d","vct":"urn:t","vcdm_type":"T",
    "issuers":[],"always_disclosed":["/a"],"selectively_disclosable":["/b"],
    "default_validity_days":null,"holder_binding":"optional"}"#;

fn load(descriptor: &str, schema: &str, example: &str) -> Result<CredentialType, SchemaError> {
    let metadata = metadata_for(schema);
    let files = TypeFiles {
        descriptor,
        schema,
        example,
        metadata: &metadata,
    };
    CredentialType::from_json("t", files)
}

/// Type Metadata labelling every top-level claim of `schema` (its name in both languages).
fn metadata_for(schema: &str) -> String {
    let schema: serde_json::Value = serde_json::from_str(schema).unwrap_or_default();
    let claims: Vec<serde_json::Value> = schema["properties"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.keys())
        .map(|name| {
            serde_json::json!({"path": [name], "display": [
                {"lang": "ko", "label": name}, {"lang": "en", "label": name}]})
        })
        .collect();
    serde_json::json!({
        "vct": "urn:t", "name": "T", "description": "d",
        "display": [{"lang": "ko", "name": "T", "description": "d"},
                    {"lang": "en", "name": "T", "description": "d"}],
        "claims": claims,
    })
    .to_string()
}

fn misconfigured(result: Result<CredentialType, SchemaError>) -> String {
    match result {
        Err(SchemaError::Misconfigured { reason, .. }) => reason,
        other => panic!("expected Misconfigured, got {other:?}"),
    }
}

#[test]
fn broken_type_folders_are_refused_with_a_reason() {
    load(DESCRIPTOR, SCHEMA, r#"{"a":"x","b":1}"#).unwrap();
    assert!(
        misconfigured(load(DESCRIPTOR, SCHEMA, r#"{"a":1}"#)).contains("example.json is invalid")
    );
    assert!(
        misconfigured(load(
            &DESCRIPTOR.replace("\"id\":\"t\"", "\"id\":\"u\""),
            SCHEMA,
            "{}"
        ))
        .contains("folder name")
    );
    assert!(
        misconfigured(load(&DESCRIPTOR.replace("[\"/b\"]", "[]"), SCHEMA, "{}"))
            .contains("neither")
    );
    assert!(
        misconfigured(load(
            &DESCRIPTOR.replace("[\"/b\"]", "[\"/a\",\"/b\"]"),
            SCHEMA,
            "{}"
        ))
        .contains("both")
    );
    assert!(
        misconfigured(load(
            &DESCRIPTOR.replace("[\"/b\"]", "[\"/b\",\"/c\"]"),
            SCHEMA,
            "{}"
        ))
        .contains("does not define")
    );
    let reserved = SCHEMA.replace("\"b\"", "\"iss\"");
    assert!(
        misconfigured(load(&DESCRIPTOR.replace("/b", "/iss"), &reserved, "{}"))
            .contains("reserved")
    );
    assert!(
        misconfigured(load(DESCRIPTOR, r#"{"type":"no-such-type"}"#, "{}"))
            .contains("does not compile")
    );
    assert!(misconfigured(load("{", SCHEMA, "{}")).contains("descriptor.json"));
    assert!(
        misconfigured(load(
            &DESCRIPTOR.replace("\"name\":\"T\",", "\"name\":\"T\",\"extra\":1,"),
            SCHEMA,
            "{}"
        ))
        .contains("descriptor.json")
    );
}

#[test]
fn a_folder_on_disk_adds_a_type_without_code() {
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("library-card");
    std::fs::create_dir(&card).unwrap();
    std::fs::write(
        card.join("descriptor.json"),
        DESCRIPTOR.replace("\"id\":\"t\"", "\"id\":\"library-card\""),
    )
    .unwrap();
    std::fs::write(card.join("schema.json"), SCHEMA).unwrap();
    std::fs::write(card.join("example.json"), r#"{"a":"Mapo library","b":7}"#).unwrap();
    std::fs::write(card.join("metadata.json"), metadata_for(SCHEMA)).unwrap();
    let catalog = Catalog::from_dir(dir.path()).unwrap();
    let ty = catalog.get("library-card").unwrap();
    assert_eq!(ty.descriptor().vct, "urn:t");

    let twin = dir.path().join("library-card-2");
    std::fs::create_dir(&twin).unwrap();
    for file in ["schema.json", "example.json", "metadata.json"] {
        std::fs::copy(card.join(file), twin.join(file)).unwrap();
    }
    std::fs::write(
        twin.join("descriptor.json"),
        DESCRIPTOR.replace("\"id\":\"t\"", "\"id\":\"library-card-2\""),
    )
    .unwrap();
    assert!(matches!(
        Catalog::from_dir(dir.path()),
        Err(SchemaError::Misconfigured { reason, .. }) if reason.contains("share this vct")
    ));
}

#[test]
fn the_holder_key_lands_in_cnf() {
    let ty = Catalog::builtin().get("qualification").unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let issuer = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let did = Did::jwk(issuer.public_key());
    let draft = ty
        .draft(
            claims(json!({
                "holder_name": "Lee Jiho", "birthdate": "1990-07-02",
                "qualification_name": "Craftsman Welding", "grade": "Craftsman",
                "certificate_number": "24101020333A", "acquired_on": "2024-09-01",
                "issuing_body": "HRD Korea"
            })),
            Issuance {
                issuer: did.to_string(),
                issued_at: NOW,
                valid_until: Some(NOW + 100),
                holder_key: Some(holder.public_key().clone()),
                status: None,
            },
        )
        .unwrap();
    let sd_jwt = draft.sign(&issuer, &did::key_id(&did).unwrap()).unwrap();
    let verified = vc::verify(&sd_jwt, &OfflineDids, &VerifyOptions::at(NOW)).unwrap();
    assert_eq!(verified.holder_key.as_ref(), Some(holder.public_key()));
    assert_eq!(verified.valid_until, Some(NOW + 100));
    assert_eq!(verified.claims["grade"], "Craftsman");
}

#[test]
fn optional_claims_may_be_left_out() {
    let card = Catalog::builtin().get("citizen-card").unwrap();
    let issuer = SecretKey::generate(Algorithm::Es256).unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let did = Did::key(issuer.public_key());
    let mut claims = card.example().clone();
    for optional in ["portrait_sha256", "age_over_14", "age_over_65"] {
        claims.remove(optional);
    }
    let draft = card
        .draft(
            claims,
            Issuance {
                issuer: did.to_string(),
                issued_at: NOW,
                valid_until: None,
                holder_key: Some(holder.public_key().clone()),
                status: None,
            },
        )
        .unwrap();
    assert_eq!(draft.disclosable.len(), card.disclosable().len() - 3);
    let credential = draft.sign(&issuer, &did::key_id(&did).unwrap()).unwrap();
    assert_eq!(
        HeldSdJwt::parse(&credential)
            .unwrap()
            .disclosable_paths()
            .len(),
        card.disclosable().len() - 3
    );
}

#[test]
fn every_builtin_claim_has_korean_and_english_labels() {
    for ty in Catalog::builtin().iter() {
        assert_ne!(ty.name_in(Lang::Ko), ty.name_in(Lang::En), "{}", ty.id());
        for lang in Lang::ALL {
            for row in ty.rows(ty.example(), lang) {
                let unlabelled = row.label.split(" › ").any(|step| {
                    step.chars().all(|c| c.is_ascii_digit()) || row.path.contains(&step.to_owned())
                });
                assert!(!unlabelled, "{} {lang}: {row:?}", ty.id());
            }
        }
    }
    let card = Catalog::builtin().get("citizen-card").unwrap();
    assert_eq!(card.name_in(Lang::Ko), "서울시민카드");
    assert_eq!(card.label("/name", Lang::Ko), "성명");
    assert_eq!(card.label("/birthdate", Lang::En), "Date of birth");
    let birthdate = card
        .rows(card.example(), Lang::Ko)
        .into_iter()
        .find(|r| r.path == ["birthdate"])
        .unwrap();
    assert_eq!(birthdate.kind, ValueKind::Date);
}

#[test]
fn metadata_for_another_type_or_without_a_language_is_refused() {
    let other = metadata_for(SCHEMA).replace("urn:t", "urn:other");
    let files = TypeFiles {
        descriptor: DESCRIPTOR,
        schema: SCHEMA,
        example: r#"{"a":"x","b":1}"#,
        metadata: &other,
    };
    assert!(misconfigured(CredentialType::from_json("t", files)).contains("vct `urn:other`"));
    let english_only = metadata_for(SCHEMA).replace(r#""lang":"ko""#, r#""lang":"fr""#);
    let files = TypeFiles {
        metadata: &english_only,
        ..files
    };
    assert!(misconfigured(CredentialType::from_json("t", files)).contains("`ko` and `en`"));
}
