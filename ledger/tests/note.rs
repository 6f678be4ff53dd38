//! C2SP signed-note, checkpoint and cosignature formats, against the Go reference vectors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_ledger::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint, cosign};
use dojang_ledger::note::{
    Note, NoteError, NoteSigner, NoteVerifier, TYPE_COSIGNATURE, TYPE_ED25519,
};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/signed-note-go.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `PRIVATE+KEY+<name>+<id>+<base64(0x01 ‖ seed)>` → a signer.
fn signer_from_skey(skey: &str) -> NoteSigner {
    let parts: Vec<&str> = skey.splitn(5, '+').collect();
    let decoded = STANDARD.decode(parts[4]).unwrap();
    assert_eq!(decoded[0], TYPE_ED25519);
    let signer = NoteSigner::new(
        parts[2],
        TYPE_ED25519,
        SecretKey::from_bytes(Algorithm::EdDsa, &decoded[1..]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        format!("{:08x}", u32::from_be_bytes(signer.verifier().id())),
        parts[3]
    );
    signer
}

#[test]
fn go_reference_signature_is_reproduced_and_verified() {
    let v = vectors();
    let text = v["text"].as_str().unwrap();
    let signer = signer_from_skey(v["skey"].as_str().unwrap());
    // Ed25519 is deterministic: signing the text reproduces the reference line exactly.
    assert_eq!(
        signer.sign(text).unwrap().to_string(),
        v["signatures"][0].as_str().unwrap()
    );
    assert_eq!(
        signer.verifier().to_string(),
        v["vkeys"][0].as_str().unwrap()
    );

    let signed = format!(
        "{text}\n{}{}",
        v["signatures"][0].as_str().unwrap(),
        v["signatures"][1].as_str().unwrap()
    );
    let note = Note::parse(&signed).unwrap();
    assert_eq!(note.text(), text);
    assert_eq!(note.to_string(), signed);
    for vkey in v["vkeys"].as_array().unwrap() {
        let verifier = NoteVerifier::parse(vkey.as_str().unwrap()).unwrap();
        assert_eq!(verifier.to_string(), vkey.as_str().unwrap());
        note.verify(&verifier).unwrap();
    }
    // A flipped byte in the text breaks both.
    let tampered = Note::parse(&signed.replacen("cryptography", "cryptographY", 1)).unwrap();
    let peter = NoteVerifier::parse(v["vkeys"][0].as_str().unwrap()).unwrap();
    assert_eq!(
        tampered.verify(&peter),
        Err(NoteError::InvalidSignature {
            name: "PeterNeumann".into()
        })
    );
}

#[test]
fn malformed_notes_are_refused() {
    let v = vectors();
    let text = v["text"].as_str().unwrap();
    let line = v["signatures"][0].as_str().unwrap();
    let malformed = |s: &str| matches!(Note::parse(s), Err(NoteError::Malformed { .. }));
    assert!(malformed(text), "text alone");
    assert!(malformed(&format!("{text}\n")), "no signatures");
    assert!(
        malformed(&format!("{text}\n{}", line.trim_end())),
        "no final newline"
    );
    assert!(
        malformed(&format!("\x01{text}\n{line}")),
        "control character"
    );
    assert!(
        malformed(&format!("{text}\n— Peter Neumann AAAAAAAA\n")),
        "space in key name"
    );
    assert!(
        malformed(&format!("{text}\n{line}not a signature\n")),
        "trailing garbage"
    );
    assert!(
        malformed(&format!("{text}\n— PeterNeumann AAAA\n")),
        "signature too short"
    );
    assert!(
        malformed(&format!("{text}\n{}", line.repeat(101))),
        "too many signatures"
    );
    let bad_key = |k: &str| matches!(NoteVerifier::parse(k), Err(NoteError::MalformedKey { .. }));
    assert!(
        bad_key("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        "wrong id"
    );
    assert!(
        bad_key("PeterNeumann+c74f20a3+Alpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        "wrong type"
    );
    assert!(bad_key("PeterNeumann+c74f20a3"), "no key");
}

fn log_signer() -> NoteSigner {
    NoteSigner::new(
        "registry.example/log",
        TYPE_ED25519,
        SecretKey::generate(Algorithm::EdDsa).unwrap(),
    )
    .unwrap()
}

#[test]
fn checkpoints_sign_parse_and_check_origin() {
    let log = log_signer();
    let checkpoint = Checkpoint {
        origin: "registry.example/log".into(),
        size: 20852163,
        root: [7; 32],
    };
    let signed = SignedCheckpoint::sign(checkpoint.clone(), &log).unwrap();
    let text = signed.to_text();
    assert!(text.starts_with("registry.example/log\n20852163\nBwcH"));
    let back = SignedCheckpoint::verify(&text, "registry.example/log", log.verifier()).unwrap();
    assert_eq!(back.checkpoint, checkpoint);
    assert!(matches!(
        SignedCheckpoint::verify(&text, "other.example/log", log.verifier()),
        Err(CheckpointError::WrongOrigin { .. })
    ));
    let impostor = log_signer();
    assert!(matches!(
        SignedCheckpoint::verify(&text, "registry.example/log", impostor.verifier()),
        Err(CheckpointError::Note(
            NoteError::MissingSignature { .. } | NoteError::InvalidSignature { .. }
        ))
    ));
    let malformed = |t: &str| {
        matches!(
            Checkpoint::parse_text(t),
            Err(CheckpointError::Malformed { .. })
        )
    };
    assert!(malformed(
        "o\n007\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n"
    ));
    assert!(malformed(
        "o\n-1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n"
    ));
    assert!(malformed("o\n1\nBwcH\n"));
    assert!(malformed(
        "\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n"
    ));
    assert!(malformed(
        "o\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n"
    ));
    let with_extension =
        Checkpoint::parse_text("o\n0\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\next\n")
            .unwrap();
    assert_eq!(with_extension.size, 0);
}

#[test]
fn cosignatures_bind_witness_time_and_checkpoint() {
    let log = log_signer();
    let witness = |name: &str| {
        NoteSigner::new(
            name,
            TYPE_COSIGNATURE,
            SecretKey::generate(Algorithm::EdDsa).unwrap(),
        )
        .unwrap()
    };
    let (w1, w2, w3) = (
        witness("mois.example/w1"),
        witness("kisa.example/w2"),
        witness("nia.example/w3"),
    );
    let mut signed = SignedCheckpoint::sign(
        Checkpoint {
            origin: "registry.example/log".into(),
            size: 10,
            root: [1; 32],
        },
        &log,
    )
    .unwrap();
    let text = signed.note.text().to_owned();
    signed.add_cosignature(cosign(&w1, &text, 1_679_315_147).unwrap());
    signed.add_cosignature(cosign(&w2, &text, 1_679_315_150).unwrap());
    let round = SignedCheckpoint::verify(&signed.to_text(), "registry.example/log", log.verifier())
        .unwrap();
    assert_eq!(round.cosigned_at(w1.verifier()).unwrap(), 1_679_315_147);
    let all = [
        w1.verifier().clone(),
        w2.verifier().clone(),
        w3.verifier().clone(),
    ];
    assert_eq!(round.require_witnesses(&all, 2).unwrap(), 2);
    assert_eq!(
        round.require_witnesses(&all, 3),
        Err(CheckpointError::NotEnoughWitnesses {
            required: 3,
            found: 2
        })
    );
    // A cosignature over another checkpoint does not count.
    let mut other = SignedCheckpoint::sign(
        Checkpoint {
            origin: "registry.example/log".into(),
            size: 11,
            root: [2; 32],
        },
        &log,
    )
    .unwrap();
    let stolen = round.note.signature_by(w1.verifier()).unwrap().clone();
    other.add_cosignature(stolen);
    assert!(matches!(
        other.cosigned_at(w1.verifier()),
        Err(NoteError::InvalidSignature { .. })
    ));
    // A plain-signature key cannot cosign.
    assert!(cosign(&log, &text, 1).is_err());
    // Cosignature payload: key ID ‖ 8-byte big-endian time ‖ 64-byte signature.
    let line = round.note.signature_by(w2.verifier()).unwrap();
    assert_eq!(line.payload.len(), 76);
    assert_eq!(
        u64::from_be_bytes(line.payload[4..12].try_into().unwrap()),
        1_679_315_150
    );
}
