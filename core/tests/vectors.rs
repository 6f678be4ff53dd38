//! Known-answer tests from the standards' public vectors (`../shared/vectors`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use dojang_core::did::{self, Did, DidError, Relationship};
use dojang_core::jwk::Jwk;
use dojang_core::jws::{JwsError, JwsHeader, JwsPart};
use dojang_core::key::{Algorithm, KeyError, SecretKey};
use dojang_core::sd_jwt::{
    self, ClaimPath, HeldSdJwt, IssueOptions, KeyBindingInput, SdJwtError, VerifyOptions,
};
use dojang_core::status::token::{EncodedList, TokenStatusList};
use serde_json::{Map, Value, json};
use serde_yaml::Value as Yaml;

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

// ---------------------------------------------------------------- did:key

#[test]
fn did_key_ed25519_vectors_derive_the_same_dids_and_keys() {
    let Some(dir) = common::vectors_dir("did_key_ed25519") else {
        return;
    };
    let vectors = read_json(&dir.join("did-key/test-vectors/ed25519-x25519.json"));
    let mut checked = 0;
    for (did_text, vector) in vectors.as_object().unwrap() {
        let pair = &vector["verificationKeyPair"];
        let key = match pair.get("privateKeyJwk") {
            Some(private) => {
                let jwk: Jwk = serde_json::from_value(private.clone()).unwrap();
                let public: Jwk = serde_json::from_value(pair["publicKeyJwk"].clone()).unwrap();
                assert_eq!(
                    &public.to_public_key().unwrap(),
                    jwk.to_secret_key().unwrap().public_key()
                );
                jwk.to_secret_key().unwrap()
            }
            None => {
                let key =
                    SecretKey::from_bytes(Algorithm::EdDsa, &hex(vector["seed"].as_str().unwrap()))
                        .unwrap();
                let expected = bs58::decode(pair["publicKeyBase58"].as_str().unwrap())
                    .into_vec()
                    .unwrap();
                assert_eq!(key.public_key().as_bytes(), expected.as_slice());
                key
            }
        };
        let did = Did::key(key.public_key());
        assert_eq!(did.as_str(), did_text);
        // Resolving the DID gives back the same key, under the vector's key id.
        let document = did::resolve_offline(&Did::parse(did_text).unwrap()).unwrap();
        let id = pair["id"].as_str().unwrap();
        let kid = if id.starts_with('#') {
            format!("{did_text}{id}")
        } else {
            id.to_owned()
        };
        assert_eq!(
            &document
                .key_for(Relationship::AssertionMethod, Some(&kid))
                .unwrap(),
            key.public_key()
        );
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn did_key_nist_vectors_derive_the_same_dids_and_keys() {
    let Some(dir) = common::vectors_dir("did_key_nist") else {
        return;
    };
    let vectors = read_json(&dir.join("did-key/test-vectors/nist-curves.json"));
    let (mut p256, mut unsupported) = (0, 0);
    for (did_text, vector) in vectors.as_object().unwrap() {
        let parsed = Did::parse(did_text).unwrap();
        let method = &vector["verificationMethod"];
        if !did_text.starts_with("did:key:zDn") {
            // P-384 and P-521: well-formed, but not a key type dojang accepts.
            assert!(matches!(
                did::resolve_offline(&parsed),
                Err(DidError::Key(KeyError::UnsupportedMulticodec {
                    code: 0x1201 | 0x1202
                }))
            ));
            unsupported += 1;
            continue;
        }
        let public = match (method.get("privateKeyJwk"), method.get("publicKeyBase58")) {
            (Some(private), _) => {
                let jwk: Jwk = serde_json::from_value(private.clone()).unwrap();
                let key = jwk.to_secret_key().unwrap();
                let public_jwk: Jwk =
                    serde_json::from_value(method["publicKeyJwk"].clone()).unwrap();
                assert_eq!(Jwk::from_public_key(key.public_key()), public_jwk);
                key.public_key().clone()
            }
            (None, Some(base58)) => {
                let bytes = bs58::decode(base58.as_str().unwrap()).into_vec().unwrap();
                dojang_core::PublicKey::p256_from_sec1(&bytes).unwrap()
            }
            _ => panic!("vector {did_text} has no key"),
        };
        assert_eq!(Did::key(&public).as_str(), did_text);
        let document = did::resolve_offline(&parsed).unwrap();
        assert_eq!(
            document
                .key_for(Relationship::AssertionMethod, None)
                .unwrap(),
            public
        );
        p256 += 1;
    }
    assert_eq!((p256, unsupported), (3, 4));
}

fn hex(text: &str) -> Vec<u8> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

// ---------------------------------------------------------------- SD-JWT

/// A test case's claims as JSON, plus the paths its `!sd` tags mark as disclosable.
fn untag(yaml: &Yaml, path: &mut Vec<String>, disclosable: &mut Vec<ClaimPath>) -> Value {
    match yaml {
        Yaml::Tagged(tagged) => {
            assert_eq!(tagged.tag.to_string(), "!sd");
            disclosable.push(to_path(path));
            untag(&tagged.value, path, disclosable)
        }
        Yaml::Mapping(mapping) => {
            let mut object = Map::new();
            for (key, value) in mapping {
                let (name, tagged) = match key {
                    Yaml::Tagged(t) => (scalar_key(&t.value), true),
                    other => (scalar_key(other), false),
                };
                path.push(name.clone());
                if tagged {
                    disclosable.push(to_path(path));
                }
                object.insert(name, untag(value, path, disclosable));
                path.pop();
            }
            Value::Object(object)
        }
        Yaml::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    path.push(i.to_string());
                    let value = untag(item, path, disclosable);
                    path.pop();
                    value
                })
                .collect(),
        ),
        scalar => serde_json::to_value(scalar).unwrap(),
    }
}

fn scalar_key(key: &Yaml) -> String {
    match key {
        Yaml::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap().trim().to_owned(),
    }
}

fn to_path(tokens: &[String]) -> ClaimPath {
    let pointer: String = tokens
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect();
    ClaimPath::parse(&pointer)
}

/// `holder_disclosed_claims` → the paths to disclose (`true` discloses a claim and all below it).
fn selections(yaml: &Yaml, path: &mut Vec<String>, out: &mut Vec<ClaimPath>) {
    match yaml {
        Yaml::Bool(true) => out.push(to_path(path)),
        Yaml::Mapping(mapping) => {
            for (key, value) in mapping {
                path.push(scalar_key(key));
                selections(value, path, out);
                path.pop();
            }
        }
        Yaml::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                selections(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

struct Settings {
    issuer: SecretKey,
    holder: SecretKey,
    issuer_id: String,
    verifier_id: String,
    nonce: String,
    iat: i64,
    exp: i64,
}

fn settings(dir: &Path) -> Settings {
    let yaml: Yaml =
        serde_yaml::from_str(&fs::read_to_string(dir.join("settings.yml")).unwrap()).unwrap();
    let key = |v: &Yaml| {
        let jwk: Jwk = serde_json::from_value(serde_json::to_value(v).unwrap()).unwrap();
        jwk.to_secret_key().unwrap()
    };
    Settings {
        issuer: key(&yaml["key_settings"]["issuer_keys"][0]),
        holder: key(&yaml["key_settings"]["holder_key"]),
        issuer_id: yaml["identifiers"]["issuer"].as_str().unwrap().to_owned(),
        verifier_id: yaml["identifiers"]["verifier"].as_str().unwrap().to_owned(),
        nonce: yaml["key_binding_nonce"].as_str().unwrap().to_owned(),
        iat: yaml["iat"].as_i64().unwrap(),
        exp: yaml["exp"].as_i64().unwrap(),
    }
}

/// Issues a test case's claims, presents the holder's selection and verifies it.
fn run_case(
    s: &Settings,
    case: &Yaml,
    header: JwsHeader,
) -> Result<Map<String, Value>, SdJwtError> {
    let mut disclosable = Vec::new();
    let Value::Object(mut claims) = untag(&case["user_claims"], &mut Vec::new(), &mut disclosable)
    else {
        panic!("user_claims is not a mapping")
    };
    let key_binding = case["key_binding"].as_bool().unwrap_or(false);
    claims.insert("iss".into(), json!(s.issuer_id));
    claims.insert("iat".into(), json!(s.iat));
    claims.insert("exp".into(), json!(s.exp));
    if key_binding {
        claims.insert(
            "cnf".into(),
            json!({"jwk": Jwk::from_public_key(s.holder.public_key())}),
        );
    }
    let issued = sd_jwt::issue(
        claims,
        &disclosable,
        IssueOptions { header, decoys: 0 },
        &s.issuer,
    )?;

    let mut disclose = Vec::new();
    selections(
        &case["holder_disclosed_claims"],
        &mut Vec::new(),
        &mut disclose,
    );
    let kb = key_binding.then(|| KeyBindingInput {
        signer: &s.holder,
        audience: &s.verifier_id,
        nonce: &s.nonce,
        issued_at: s.iat + 10,
    });
    let presentation = HeldSdJwt::parse(&issued)?.present(&disclose, kb)?;

    let mut options = VerifyOptions::at(s.iat + 20);
    if key_binding {
        options = options.require_key_binding(&s.verifier_id, &s.nonce);
    }
    let mut verified = sd_jwt::verify(&presentation, s.issuer.public_key(), &options)?;
    for registered in ["iss", "iat", "exp", "cnf"] {
        verified.claims.remove(registered);
    }
    Ok(verified.claims)
}

#[test]
fn sd_jwt_test_cases_disclose_exactly_the_expected_claims() {
    let Some(dir) = common::vectors_dir("sd_jwt_test_cases") else {
        return;
    };
    let dir = dir.join("sd-jwt/tests/testcases");
    let s = settings(&dir);
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("specification.yml").exists())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(
        names.len() >= 17,
        "expected the full sd-jwt-python suite, found {names:?}"
    );
    for name in names {
        let case: Yaml = serde_yaml::from_str(
            &fs::read_to_string(dir.join(&name).join("specification.yml")).unwrap(),
        )
        .unwrap();
        let expected: Value = serde_json::to_value(&case["expect_verified_user_claims"]).unwrap();
        let mut header = JwsHeader::new(Some("example+sd-jwt"), None);
        if let Yaml::Mapping(extra) = &case["extra_header_parameters"] {
            // header_mod sets `kid: 42`. RFC 7515 requires a string `kid`; dojang refuses the
            // number as a malformed header, and carries the same parameter as a string.
            for (k, v) in extra {
                header
                    .extra
                    .insert(scalar_key(k), serde_json::to_value(v).unwrap());
            }
            assert!(
                matches!(
                    run_case(&s, &case, header.clone()),
                    Err(SdJwtError::Jws(JwsError::Malformed {
                        part: JwsPart::Header
                    }))
                ),
                "{name}: a numeric kid must be refused"
            );
            let kid = header.extra.remove("kid").map(|v| v.to_string());
            header.kid = kid;
        }
        // JSON-serialized cases (json_serialization_*) are run in compact form: dojang only
        // speaks compact SD-JWT; the claims a verifier sees are the same.
        let claims = run_case(&s, &case, header).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(Value::Object(claims), expected, "{name}");
    }
}

// ---------------------------------------------------------------- Token Status List

fn example(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join("token-status-list/examples").join(name)).unwrap()
}

/// The `{"bits": n, "lst": "…"}` object of an example, with the draft's line folding undone.
fn json_example(text: &str) -> EncodedList {
    let json = &text[text.find('{').unwrap()..=text.rfind('}').unwrap()];
    let unfolded: String = json.split('\n').map(str::trim).collect();
    serde_json::from_str(&unfolded).unwrap()
}

fn cbor_example(text: &str) -> Vec<u8> {
    let hex_part = text.rsplit("encoded:").next().unwrap();
    hex(hex_part)
}

#[test]
fn token_status_list_examples_decode_to_their_statuses_and_re_encode() {
    let Some(dir) = common::vectors_dir("token_status_list") else {
        return;
    };
    let expected = read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/token-status-list-expected.json"),
    );
    for case in expected["cases"].as_array().unwrap() {
        let bits = case["bits"].as_u64().unwrap() as u32;
        let statuses: BTreeMap<usize, u8> = case["statuses"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.as_u64().unwrap() as u8))
            .collect();
        let entries = case["entries"].as_u64().unwrap() as usize;
        let json_name = case["json"].as_str().unwrap();
        let json_text = example(&dir, json_name);
        let encoded = json_example(&json_text);
        assert_eq!(encoded.bits, bits, "{json_name}");
        let from_json = TokenStatusList::decode(&encoded).unwrap();
        let from_cbor = TokenStatusList::from_cbor(&cbor_example(&example(
            &dir,
            case["cbor"].as_str().unwrap(),
        )))
        .unwrap();
        assert_eq!(from_json, from_cbor, "{json_name}: JSON and CBOR disagree");
        assert!(
            from_json.len() >= entries,
            "{json_name}: {} entries",
            from_json.len()
        );
        for index in 0..entries {
            let want = statuses.get(&index).copied().unwrap_or(0);
            assert_eq!(
                from_json.status(index).unwrap().value(),
                want,
                "{json_name}[{index}]"
            );
        }
        if let Some(bytes) = json_text.split("byte_array = [").nth(1) {
            let listed: Vec<u8> = bytes[..bytes.find(']').unwrap()]
                .split(',')
                .map(|b| u8::from_str_radix(b.trim().trim_start_matches("0x"), 16).unwrap())
                .collect();
            assert_eq!(from_json.as_bytes(), listed.as_slice(), "{json_name}");
        }
        // Re-encoding: the list rebuilt from the statuses alone encodes to the example's exact
        // bytes (ZLIB at level 9, as the draft's examples were made), in JSON and in CBOR.
        let mut rebuilt =
            TokenStatusList::from_bytes(bits, vec![0; from_json.as_bytes().len()]).unwrap();
        for (&index, &value) in &statuses {
            rebuilt
                .set(
                    index,
                    dojang_core::status::token::TokenStatus::from_value(value),
                )
                .unwrap();
        }
        assert_eq!(
            rebuilt.as_bytes(),
            from_json.as_bytes(),
            "{json_name}: rebuilt list differs"
        );
        assert_eq!(
            rebuilt.encode(),
            encoded,
            "{json_name}: JSON re-encoding differs"
        );
        assert_eq!(
            rebuilt.to_cbor(),
            cbor_example(&example(&dir, case["cbor"].as_str().unwrap())),
            "{json_name}: CBOR re-encoding differs"
        );
    }
}

#[test]
fn token_status_list_jwt_example_decodes() {
    let Some(dir) = common::vectors_dir("token_status_list_jwt") else {
        return;
    };
    let raw: String = example(&dir, "status_list_jwt_raw.md")
        .split_whitespace()
        .collect();
    let jws = dojang_core::jws::Jws::parse(&raw).unwrap();
    jws.expect_type(dojang_core::status::token::JWT_TYP, &[])
        .unwrap();
    assert_eq!(jws.header().kid.as_deref(), Some("12"));
    let claims: dojang_core::status::token::StatusListTokenClaims = jws.payload_json().unwrap();
    assert_eq!(claims.sub, "https://example.com/statuslists/1");
    assert_eq!(claims.ttl, Some(43200));
    let list = TokenStatusList::decode(&claims.status_list).unwrap();
    assert_eq!(list.as_bytes(), [0xb9, 0xa3]);
    // The example is signed by the draft authors' key, which is not published with it: a key
    // of ours must not verify it.
    let ours = SecretKey::generate(Algorithm::Es256).unwrap();
    assert_eq!(
        jws.verify(ours.public_key()),
        Err(JwsError::SignatureInvalid)
    );
}
