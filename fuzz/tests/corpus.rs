//! Writes the seed corpora in `fuzz/corpus/<target>/` with dojang's own issue and present
//! functions. Run it when a format or the fixed world changes:
//!
//! ```text
//! cargo test -p dojang-fuzz --test corpus -- --ignored
//! ```
//!
//! It overwrites the files it names and leaves every other file alone (minimized findings live
//! beside the seeds). ES256 signatures and salts are random, so those seeds change bytes on
//! every run while staying valid; everything else is reproduced exactly.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use dojang_core::compact::{self, ChallengeRequest};
use dojang_core::did::Did;
use dojang_core::jwk::Jwk;
use dojang_core::key::Signer;
use dojang_core::oid4vci::{
    self, CredentialOffer, CredentialRequest, Grants, PreAuthorizedCodeGrant, ProofKey, Proofs,
    TxCode,
};
use dojang_core::oid4vp::{AuthorizationRequest, AuthorizationResponse, DcqlQuery};
use dojang_core::status::bitstring::{
    BitstringStatusList, BitstringStatusListEntry, StatusPurpose,
};
use dojang_core::status::token::{TokenStatus, TokenStatusList};
use dojang_core::{b64, multikey, qr};
use dojang_fuzz::TARGETS;
use dojang_fuzz::craft::{self, Cbor, SEPARATOR};
use dojang_fuzz::world::{
    AUDIENCE, Actor, CREDENTIAL_ISSUER, ISSUED_AT, NONCE, NOW, ORIGIN, QR_NONCE, World, world,
};
use dojang_ledger::bundle::{Since, TrustBundle};
use dojang_ledger::checkpoint::Checkpoint;
use dojang_ledger::entry::{Leaf, Operation};
use serde_json::{Value, json};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    assert!(
        TARGETS.iter().any(|(t, _)| *t == target),
        "no target {target}"
    );
    let dir = corpus_dir().join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// The public W3C Data Integrity vectors, if present.
fn vectors_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DOJANG_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors"))
        });
    dir.join("di-eddsa").is_dir().then_some(dir)
}

#[test]
#[ignore = "writes fuzz/corpus; run by hand when a format or the fixed world changes"]
fn write_seed_corpora() {
    let world = world();
    compact_seeds(world);
    cose_seeds(world);
    sd_jwt_seeds(world);
    jose_seeds(world);
    status_seeds(world);
    openid_seeds(world);
    note_seeds(world);
    bundle_seeds(world);
    ledger_seeds(world);
    image_seeds(world);
    verifier_seeds(world);
    mdoc_seeds();
    // Every seed must go through its harness.
    for (target, harness) in TARGETS {
        for entry in std::fs::read_dir(corpus_dir().join(target)).unwrap() {
            harness(&std::fs::read(entry.unwrap().path()).unwrap());
        }
    }
}

/// mdoc seeds: the public ISO 18013-5 Annex D and OpenID4VP structures, as they are.
fn mdoc_seeds() {
    let Some(vectors) = vectors_dir() else {
        return;
    };
    let dir = corpus_dir().join("mdoc");
    std::fs::create_dir_all(&dir).unwrap();
    for file in [
        "annex-d/device_response.cbor",
        "annex-d/issuer_signed.cbor",
        "annex-d/mso.cbor",
        "annex-d/issuer_auth.cbor",
        "annex-d/ds_cert.der",
        "oid4vp/animo_paradym_device_response.cbor",
    ] {
        let bytes = std::fs::read(vectors.join("mdoc").join(file)).unwrap();
        std::fs::write(dir.join(file.replace('/', "-")), bytes).unwrap();
    }
}

/// A citizen card from the ES256 issuer to the ES256 holder, and a qualification from the
/// rotated Ed25519 issuer to the Ed25519 holder (index 7: revoked).
fn credentials(world: &World) -> [(Vec<u8>, &dyn Signer); 3] {
    let card = world.draft(&world.issuer, "citizen-card", &world.holder, 3);
    let qualification = world.draft(&world.issuer_ed, "qualification", &world.holder_ed, 4);
    let revoked = world.draft(&world.issuer, "mobile-id", &world.holder, 7);
    [
        (
            world.compact_credential(&world.issuer, &card),
            &world.holder,
        ),
        (
            world.compact_credential(&world.issuer_ed, &qualification),
            &world.holder_ed,
        ),
        (
            world.compact_credential(&world.issuer, &revoked),
            &world.holder,
        ),
    ]
}

fn compact_seeds(world: &World) {
    let [card, qualification, revoked] = credentials(world);
    let window = world.qr_presentation(&card.0, card.1, false);
    let challenge = world.qr_presentation(&qualification.0, qualification.1, true);
    let revoked = world.qr_presentation(&revoked.0, revoked.1, false);
    let request = ChallengeRequest {
        audience: AUDIENCE.to_owned(),
        nonce: QR_NONCE.to_vec(),
    };
    write("qr_text", "window-es256.txt", compact::to_qr_text(&window));
    write(
        "qr_text",
        "challenge-eddsa.txt",
        compact::to_qr_text(&challenge),
    );
    write("qr_text", "revoked.txt", compact::to_qr_text(&revoked));
    write("qr_text", "challenge-request.txt", request.to_qr_text());
    write("qr_text", "future-version.txt", "DJ2:6BFOXN*TS0BI$ZDFRH");

    write("cbor", "credential-es256.cbor", &card.0);
    write("cbor", "credential-eddsa.cbor", &qualification.0);
    write("cbor", "presentation-window.cbor", &window);
    write("cbor", "presentation-challenge.cbor", &challenge);
    let body = request.to_qr_text();
    let map = base45::decode(body.trim_start_matches(compact::CHALLENGE_PREFIX)).unwrap();
    write("cbor", "challenge-map.cbor", map);
}

/// A disclosure `[salt, value, name]`.
fn disclosure(salt: u8, name: &str, value: impl FnOnce(&mut Cbor)) -> Vec<u8> {
    let mut out = Cbor::new();
    out.array(3).bytes(&[salt; 16]);
    value(&mut out);
    out.text(name);
    out.finish()
}

fn cose_seeds(world: &World) {
    let name = disclosure(1, "name", |c| {
        c.text("김민지 Kim Minji");
    });
    let age = disclosure(2, "age_over_19", |c| {
        c.bool(true);
    });
    let address = disclosure(3, "address", |c| {
        c.map(2)
            .text("locality")
            .text("Seoul")
            .text("country")
            .text("KR");
    });
    let mut extra_claim = Cbor::new();
    extra_claim
        .raw(&[1])
        .text("card_number")
        .text("SC-2026-000123");
    let extra_claim = extra_claim.finish();
    let seed = |flags: u8, parts: &[&[u8]]| {
        let mut out = vec![flags];
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(SEPARATOR);
            }
            out.extend_from_slice(part);
        }
        out
    };
    let all: Vec<&[u8]> = vec![&extra_claim, b"", b"", &name, &age, &address];
    write("cose_sign1", "window.bin", seed(0, &all));
    // issuer_ed, Ed25519 holder, challenge, the ledger's keys.
    write("cose_sign1", "challenge-trust.bin", seed(0b10_0111, &all));
    // Extra protected parameters and binding claims.
    let mut protected_extra = Cbor::new();
    protected_extra.raw(&[1]).int(15).map(1).int(1).text(ORIGIN);
    let protected_extra = protected_extra.finish();
    let mut binding_extra = Cbor::new();
    binding_extra.raw(&[1]).int(4).int(NOW + 60);
    let binding_extra = binding_extra.finish();
    write(
        "cose_sign1",
        "extras.bin",
        seed(0, &[&extra_claim, &protected_extra, &binding_extra, &name]),
    );
    // The claims and the protected header written out whole.
    let holder = world.holder.public_key();
    let mut claims = Cbor::new();
    claims
        .map(5)
        .int(1)
        .text(world.issuer.did.as_str())
        .int(6)
        .int(ISSUED_AT);
    claims.int(4).int(NOW + 86_400).int(8).map(1).int(1);
    craft::cose_key(&mut claims, holder);
    claims.int(11).text("urn:dojang:vct:citizen-card:1");
    let mut protected = Cbor::new();
    protected
        .map(3)
        .int(1)
        .int(-7)
        .int(4)
        .bytes(b"key-1")
        .int(16)
        .int(293);
    write(
        "cose_sign1",
        "raw.bin",
        seed(0b1_1000, &[&claims.finish(), &protected.finish(), b""]),
    );
}

/// An issued SD-JWT as an `sd_jwt` harness template: payload and disclosures decoded, each
/// digest replaced by its `$n` marker, and a key binding template.
fn template(issued: &str) -> String {
    let mut parts: Vec<&str> = issued.trim_end_matches('~').split('~').collect();
    let jwt = parts.remove(0);
    let payload = jwt.split('.').nth(1).unwrap();
    let mut payload = String::from_utf8(b64::decode(payload).unwrap()).unwrap();
    let mut disclosures: Vec<String> = parts
        .iter()
        .map(|d| String::from_utf8(b64::decode(d).unwrap()).unwrap())
        .collect();
    for (i, encoded) in parts.iter().enumerate() {
        let digest = craft::sd_digest(encoded);
        let marker = format!("${i}");
        payload = payload.replace(&digest, &marker);
        for disclosure in &mut disclosures {
            *disclosure = disclosure.replace(&digest, &marker);
        }
    }
    let kb = json!({"iat": NOW, "aud": AUDIENCE, "nonce": NONCE, "sd_hash": "$h"});
    let mut out = payload;
    for disclosure in disclosures {
        out.push('~');
        out.push_str(&disclosure);
    }
    out.push('~');
    out.push_str(&kb.to_string());
    out
}

fn sd_jwt_seeds(world: &World) {
    let card = world.draft(&world.issuer, "citizen-card", &world.holder, 3);
    write(
        "sd_jwt",
        "citizen-card.txt",
        template(&world.sd_jwt_vc(&world.issuer, &card)),
    );
    let badge = world.draft(&world.issuer, "job-badge", &world.holder, 5);
    write(
        "sd_jwt",
        "job-badge.txt",
        template(&world.sd_jwt_vc(&world.issuer, &badge)),
    );
    // Nested and array-element disclosures; no key binding.
    let jwk = Jwk::from_public_key(world.holder.public_key());
    let payload = json!({
        "iss": world.issuer.did.as_str(), "iat": ISSUED_AT, "exp": NOW + 86_400,
        "vct": "urn:dojang:vct:citizen-card:1", "cnf": {"jwk": jwk},
        "_sd_alg": "sha-256", "_sd": ["$0"],
        "nationalities": [{"...": "$2"}, "KR"],
    });
    let nested = [
        payload.to_string(),
        r#"["salt0","address",{"_sd":["$1"],"country":"KR"}]"#.to_owned(),
        r#"["salt1","locality","Seoul"]"#.to_owned(),
        r#"["salt2","JP"]"#.to_owned(),
        String::new(),
    ];
    write("sd_jwt", "nested.txt", nested.join("~"));
}

fn jose_seeds(world: &World) {
    let issuer = &world.issuer;
    write("jose", "status-token.jws", issuer.status_token(&[]));
    write(
        "jose",
        "entry.jws",
        issuer.sign(&Operation::DidCreate {
            document: issuer.document.clone(),
        }),
    );
    let ec = Jwk::from_public_key(world.holder.public_key());
    let okp = Jwk::from_public_key(world.holder_ed.public_key());
    write("jose", "jwk-ec.json", serde_json::to_string(&ec).unwrap());
    write("jose", "jwk-okp.json", serde_json::to_string(&okp).unwrap());
    let private = Jwk::from_secret_key(&world.holder);
    write(
        "jose",
        "jwk-ec-private.json",
        serde_json::to_string(&private).unwrap(),
    );
    for (name, key) in [
        ("p256", world.holder.public_key()),
        ("ed25519", world.holder_ed.public_key()),
    ] {
        write(
            "jose",
            &format!("did-key-{name}.txt"),
            Did::key(key).as_str(),
        );
        write(
            "jose",
            &format!("did-jwk-{name}.txt"),
            Did::jwk(key).as_str(),
        );
        write(
            "jose",
            &format!("multikey-{name}.txt"),
            multikey::encode(key),
        );
    }
    let did = Did::key(world.holder_ed.public_key());
    let url = dojang_core::did::key_id(&did).unwrap();
    write("jose", "did-url.txt", &url);
    write(
        "jose",
        "did-dojang-document.json",
        serde_json::to_string(&world.rotated_document()).unwrap(),
    );
    let header = json!({"typ": "kb+jwt", "kid": url, "jwk": okp, "x5u": null, "b64": true});
    write(
        "jose",
        "header-and-payload.txt",
        format!("{header}\n{{\"nonce\":\"{NONCE}\"}}"),
    );
    write(
        "jose",
        "header-crit.txt",
        "{\"alg\":\"ES256\",\"crit\":[\"b64\"]}\n{}",
    );
}

fn status_seeds(world: &World) {
    let issuer = &world.issuer;
    let mut list = TokenStatusList::new(2, dojang_core::status::MIN_ENTRIES).unwrap();
    list.set(1021, TokenStatus::Invalid).unwrap();
    list.set(2042, TokenStatus::Suspended).unwrap();
    let seed = |selector: u8, bytes: &[u8]| [&[selector][..], bytes].concat();
    write(
        "status_list",
        "ietf-json.bin",
        seed(1, serde_json::to_string(&list.encode()).unwrap().as_bytes()),
    );
    write("status_list", "ietf-cbor.bin", seed(1, &list.to_cbor()));
    write("status_list", "ietf-zlib.bin", seed(1, &list.compress()));
    let mut bitstring = BitstringStatusList::new(dojang_core::status::MIN_ENTRIES).unwrap();
    bitstring.set(42, 1).unwrap();
    write(
        "status_list",
        "w3c-encoded-list.bin",
        seed(0, bitstring.encode().as_bytes()),
    );
    let entry = BitstringStatusListEntry::new(StatusPurpose::Revocation, 42, &issuer.status_uri());
    write(
        "status_list",
        "w3c-entry.bin",
        seed(0, serde_json::to_string(&entry).unwrap().as_bytes()),
    );
    // Token claims: selector 1 reads index 1021 (revoked), 2 reads 2042 (suspended).
    let mut claims =
        issuer.status_claims(&[(1021, TokenStatus::Invalid), (2042, TokenStatus::Suspended)]);
    write(
        "status_list",
        "token-claims.bin",
        seed(1, &serde_json::to_vec(&claims).unwrap()),
    );
    claims.exp = Some(NOW + 3600);
    write(
        "status_list",
        "token-claims-exp.bin",
        seed(2, &serde_json::to_vec(&claims).unwrap()),
    );
}

fn openid_seeds(world: &World) {
    let offer = CredentialOffer {
        credential_issuer: CREDENTIAL_ISSUER.to_owned(),
        credential_configuration_ids: vec!["citizen-card".into(), "citizen-card-qr".into()],
        grants: Grants {
            pre_authorized_code: PreAuthorizedCodeGrant {
                pre_authorized_code: "abc-123".into(),
                tx_code: Some(TxCode {
                    input_mode: Some("numeric".into()),
                    length: Some(6),
                    description: Some("문자로 받은 번호".into()),
                }),
            },
        },
    };
    write("openid", "offer.txt", offer.to_uri());
    write(
        "openid",
        "offer-by-reference.txt",
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.dojang.example%2Foffers%2F1",
    );
    let query: DcqlQuery = serde_json::from_value(json!({
        "credentials": [{
            "id": "card", "format": "dc+sd-jwt",
            "meta": {"vct_values": ["urn:dojang:vct:citizen-card:1"]},
            "claims": [{"path": ["name"]}, {"path": ["address", "locality"]}, {"path": ["nationalities", 0]}]
        }]
    }))
    .unwrap();
    let request = AuthorizationRequest::new(
        &format!("{AUDIENCE}/answers"),
        NONCE,
        Some("state-1"),
        query,
    );
    write("openid", "request.txt", request.to_uri());
    let proof = |key: ProofKey<'_>, signer: &dyn Signer| {
        oid4vci::sign_proof(signer, key, CREDENTIAL_ISSUER, "c-nonce-1", NOW).unwrap()
    };
    let kid = dojang_core::did::key_id(&Did::key(world.holder_ed.public_key())).unwrap();
    let request = CredentialRequest {
        credential_configuration_id: Some("citizen-card".into()),
        proofs: Some(Proofs {
            jwt: vec![
                proof(ProofKey::Jwk, &world.holder),
                proof(ProofKey::Kid(&kid), &world.holder_ed),
            ],
        }),
        proof: None,
    };
    write(
        "openid",
        "credential-request.json",
        serde_json::to_string(&request).unwrap(),
    );
    write(
        "openid",
        "legacy-proof.json",
        json!({"proof": {"proof_type": "jwt", "jwt": proof(ProofKey::Jwk, &world.holder)}})
            .to_string(),
    );
    // Key proof claims, for the proofs the harness signs (three lengths: jwk, did:key, did:jwk).
    for (i, pad) in ["", " ", "  "].iter().enumerate() {
        let claims = format!(
            "{{\"aud\":\"{CREDENTIAL_ISSUER}\",\"iat\":{NOW},\"nonce\":\"c-nonce-1\"}}{pad}"
        );
        write("openid", &format!("proof-claims-{i}.json"), claims);
    }
    let answer = AuthorizationResponse {
        vp_token: [("card".to_owned(), vec!["eyJ...~".to_owned()])].into(),
        state: Some("state-1".into()),
    };
    write(
        "openid",
        "answer.json",
        serde_json::to_string(&answer).unwrap(),
    );
}

fn note_seeds(world: &World) {
    let checkpoint = world
        .checkpoint_text(
            ORIGIN,
            world.tree.size(),
            world.tree.root_at(world.tree.size()),
        )
        .unwrap();
    write("note_checkpoint", "checkpoint.txt", &checkpoint);
    let text = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: 12,
        root: world.tree.root_at(4),
    }
    .to_text();
    write(
        "note_checkpoint",
        "checkpoint-text.txt",
        format!("{text}extension line\n"),
    );
    write(
        "note_checkpoint",
        "log-key.txt",
        world.log.verifier().to_string(),
    );
    write(
        "note_checkpoint",
        "witness-key.txt",
        world.witness.verifier().to_string(),
    );
    let line = checkpoint.lines().last().unwrap();
    write("note_checkpoint", "signature-line.txt", line);
    let go: Value =
        serde_json::from_str(include_str!("../../ledger/tests/data/signed-note-go.json")).unwrap();
    let mut note = format!("{}\n", go["text"].as_str().unwrap());
    for signature in go["signatures"].as_array().unwrap() {
        note.push_str(signature.as_str().unwrap());
    }
    write("note_checkpoint", "go-sumdb-note.txt", note);
}

/// The bundle document inside a bundle JWS.
fn document(bundle: &str) -> TrustBundle {
    let payload = bundle.split('.').nth(1).unwrap();
    TrustBundle::from_payload(&b64::decode(payload).unwrap()).unwrap()
}

/// Signed entries that extend the world's log: a new list version, a withdrawal, an audit.
fn extension(world: &World) -> Vec<Leaf> {
    let issuer = &world.issuer;
    let entries = [
        issuer.sign(&Operation::StatusPublish {
            issuer: issuer.did.clone(),
            list_id: issuer.list_id(),
            version: 2,
            token: issuer.status_token(&[(3, TokenStatus::Suspended)]),
            cwt: None,
        }),
        world.root.sign(&Operation::Withdraw {
            grantor: world.root.did.clone(),
            subject: world.issuer_ed.did.clone(),
            types: vec!["job-badge".into()],
            reason: "audit-failed".into(),
            at: NOW - 600,
        }),
        issuer.sign(&Operation::Audit {
            issuer: issuer.did.clone(),
            period_start: NOW - 86_400,
            period_end: NOW,
            counts: [("issued:citizen-card".to_owned(), 12)].into(),
        }),
    ];
    let base = world.tree.size();
    (base..)
        .zip(entries)
        .map(|(index, entry)| Leaf {
            timestamp_ms: World::leaf_time(index),
            entry,
        })
        .collect()
}

fn bundle_seeds(world: &World) {
    let seed = |mode: u8, bytes: &[u8]| [&[mode][..], bytes].concat();
    write(
        "trust_bundle",
        "bundle.bin",
        seed(0, world.bundle.as_bytes()),
    );
    let full = document(&world.bundle);
    write("trust_bundle", "document.bin", seed(1, &full.to_payload()));
    let empty_delta = TrustBundle {
        entries: Vec::new(),
        since: Some(Since {
            size: world.tree.size(),
            proof: Vec::new(),
            full: false,
        }),
        ..full.clone()
    };
    write(
        "trust_bundle",
        "empty-delta.bin",
        seed(1, &empty_delta.to_payload()),
    );
    let entries = extension(world)
        .iter()
        .map(|leaf| dojang_ledger::bundle::BundleEntry {
            index: 0,
            leaf: leaf.encode(),
            proof: Vec::new(),
        })
        .collect();
    let extended = TrustBundle {
        entries,
        since: None,
        ..full.clone()
    };
    write(
        "trust_bundle",
        "extend.bin",
        seed(2, &extended.to_payload()),
    );
    let extended = TrustBundle {
        since: Some(Since {
            size: 0,
            proof: Vec::new(),
            full: true,
        }),
        ..extended
    };
    write(
        "trust_bundle",
        "extend-full-delta.bin",
        seed(2, &extended.to_payload()),
    );
}

/// The operation inside an entry JWS, as a ledger record's JSON.
fn operation(entry: &str) -> Value {
    let payload = entry.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64::decode(payload).unwrap()).unwrap()
}

fn ledger_seeds(world: &World) {
    let actors: [&Actor; 4] = [
        &world.root,
        &world.issuer,
        &world.issuer_ed,
        &world.stranger,
    ];
    let actor_of = |op: &Value| {
        let did = ["document", "did", "grantor", "issuer"]
            .iter()
            .find_map(|field| {
                let value = &op[field];
                value["id"].as_str().or(value.as_str())
            })
            .unwrap();
        actors.iter().position(|a| a.did.as_str() == did).unwrap()
    };
    let mut records = Vec::new();
    for leaf in world.leaves.iter().chain(&extension(world)) {
        let mut op = operation(&leaf.entry);
        if let Some(token) = op["token"].as_str() {
            // The token's claims: the harness signs them as the actor's status list token.
            op["token"] =
                serde_json::from_slice(&b64::decode(token.split('.').nth(1).unwrap()).unwrap())
                    .unwrap();
        }
        if op["op"] == "did.update" {
            op["prev"] = json!("$2");
        }
        records.push(format!("{} {op}", actor_of(&op)));
    }
    // A delegated grant by the first issuer (its grant is delegable), then a stranger's
    // deactivation (its create is leaf 3).
    records.push(format!(
        "1 {}",
        json!({"op": "accreditation.grant", "grantor": world.issuer.did, "subject": world.stranger.did,
               "name": "Gangnam-gu Office", "types": ["citizen-card"], "delegable": false, "at": NOW})
    ));
    records.push(format!(
        "3 {}",
        json!({"op": "did.deactivate", "did": world.stranger.did, "prev": "$3"})
    ));
    write("ledger", "world.txt", records.join("\n"));
    let raw: Vec<String> = world
        .leaves
        .iter()
        .map(|leaf| format!("r {}", leaf.entry))
        .collect();
    write("ledger", "raw-entries.txt", raw.join("\n"));
    let rotated = format!(
        "0 {}\n2 {}\n2 {}\n2#key-2 {}",
        operation(&world.leaves[0].entry),
        operation(&world.leaves[2].entry),
        json!({"op": "did.update", "prev": "$1", "document": world.rotated_document()}),
        json!({"op": "audit", "issuer": world.issuer_ed.did, "period_start": 0, "period_end": 1, "counts": {}}),
    );
    write("ledger", "rotation.txt", rotated);
    let leaf = Leaf {
        timestamp_ms: World::leaf_time(0),
        entry: world.leaves[0].entry.clone(),
    };
    write("ledger", "leaf.bin", leaf.encode());
}

fn qr_png(world: &World) -> Vec<u8> {
    let [card, ..] = credentials(world);
    let presentation = world.qr_presentation(&card.0, card.1, false);
    qr::to_png(&compact::to_qr_text(&presentation)).unwrap()
}

fn image_seeds(world: &World) {
    let request = ChallengeRequest {
        audience: AUDIENCE.to_owned(),
        nonce: QR_NONCE.to_vec(),
    };
    let small = qr::to_png(&request.to_qr_text()).unwrap();
    write("qr_image", "challenge.png", &small);
    write("qr_image", "presentation.png", qr_png(world));
    let image = image::load_from_memory(&small).unwrap();
    let mut jpeg = Vec::new();
    image
        .to_luma8()
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    write("qr_image", "challenge.jpg", jpeg);
}

fn verifier_seeds(world: &World) {
    let [card, qualification, revoked] = credentials(world);
    let window = world.qr_presentation(&card.0, card.1, false);
    let challenge = world.qr_presentation(&qualification.0, qualification.1, true);
    let revoked = world.qr_presentation(&revoked.0, revoked.1, false);
    write("verifier", "qr-window.txt", compact::to_qr_text(&window));
    write(
        "verifier",
        "qr-challenge.txt",
        compact::to_qr_text(&challenge),
    );
    write("verifier", "qr-revoked.txt", compact::to_qr_text(&revoked));
    let draft = world.draft(&world.issuer, "citizen-card", &world.holder, 3);
    let issued = world.sd_jwt_vc(&world.issuer, &draft);
    write(
        "verifier",
        "sd-jwt-vc.txt",
        world.sd_jwt_presentation(&issued, &world.holder),
    );
    let draft = world.draft(&world.issuer_ed, "job-badge", &world.holder_ed, 7);
    let issued = world.sd_jwt_vc(&world.issuer_ed, &draft);
    write(
        "verifier",
        "sd-jwt-vc-revoked.txt",
        world.sd_jwt_presentation(&issued, &world.holder_ed),
    );
    write("verifier", "qr-photo.png", qr_png(world));
    let Some(vectors) = vectors_dir() else {
        println!("no Data Integrity vectors: their seeds are left as they are");
        return;
    };
    let read = |path: &str| std::fs::read_to_string(vectors.join(path)).unwrap();
    let eddsa = read("di-eddsa/TestVectors/eddsa-rdfc-2022/signedDataInt.json");
    write("verifier", "di-eddsa-rdfc-2022.json", &eddsa);
    write(
        "verifier",
        "di-ecdsa-rdfc-2019-p256.json",
        read("di-ecdsa/TestVectors/ecdsa-rdfc-2019-p256/employ/signedECDSAP256.json"),
    );
    // Two inputs on which ssi's dependencies panic; `verifier::di` contains both.
    let short_year = eddsa.replace("2023-02-24T23:36:38Z", "2-02-24T23:36:38");
    assert_ne!(short_year, eddsa);
    write("verifier", "di-panic-xsd-date.json", short_year);
    let bad_issuer = eddsa.replace(
        "https://vc.example/issuers/5678",
        "https://vc.example/issuers/%FF",
    );
    assert_ne!(bad_issuer, eddsa);
    write(
        "verifier",
        "di-panic-percent-encoded-issuer.json",
        bad_issuer,
    );
}

#[test]
fn corpus_dirs_match_the_targets() {
    for (target, _) in TARGETS {
        let dir = corpus_dir().join(target);
        assert!(
            dir.is_dir() && std::fs::read_dir(&dir).unwrap().next().is_some(),
            "no seeds for {target}: run `cargo test -p dojang-fuzz --test corpus -- --ignored`"
        );
    }
}
