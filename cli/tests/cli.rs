//! The `dojang` binary end to end: keys, DIDs, issue → present → verify, and errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn dojang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dojang"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = dojang(args);
    assert!(
        out.status.success(),
        "dojang {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

#[test]
fn keys_are_private_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let key = path(dir.path(), "issuer.jwk");
    let out = dojang(&["key", "generate", "--alg", "ES256", "--out", &key]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("did:key:zDn"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let before = std::fs::read_to_string(&key).unwrap();
    let again = dojang(&["key", "generate", "--alg", "EdDSA", "--out", &key]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        before,
        "existing key was changed"
    );

    let did = ok(&["did", "show", "--key", &key, "--short"]);
    assert!(did.starts_with("did:key:zDn"));
    let document: serde_json::Value =
        serde_json::from_str(&ok(&["did", "show", did.trim()])).unwrap();
    assert_eq!(document["id"], did.trim());
    let jwk_did = ok(&["did", "show", "--key", &key, "--method", "jwk", "--short"]);
    assert!(jwk_did.starts_with("did:jwk:"));
}

#[test]
fn issue_present_verify_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, holder) = (
        path(dir.path(), "issuer.jwk"),
        path(dir.path(), "holder.jwk"),
    );
    ok(&["key", "generate", "--alg", "ES256", "--out", &issuer]);
    ok(&["key", "generate", "--alg", "EdDSA", "--out", &holder]);
    let claims = path(dir.path(), "claims.json");
    std::fs::write(
        &claims,
        ok(&["credential", "example", "--type", "citizen-card"]),
    )
    .unwrap();
    let credential = path(dir.path(), "card.sdjwt");
    ok(&[
        "credential",
        "issue",
        "--type",
        "citizen-card",
        "--claims",
        &claims,
        "--key",
        &issuer,
        "--holder",
        &holder,
        "--status-uri",
        "https://registry.example/status/1",
        "--status-index",
        "77",
        "--out",
        &credential,
    ]);
    let listed = ok(&["credential", "present", &credential, "--list"]);
    assert!(listed.lines().any(|l| l == "/age_over_19"), "{listed}");

    let presentation = path(dir.path(), "presentation.txt");
    std::fs::write(
        &presentation,
        ok(&[
            "credential",
            "present",
            &credential,
            "--disclose",
            "name,age_over_19",
            "--holder-key",
            &holder,
            "--audience",
            "https://counter.example",
            "--nonce",
            "n1",
        ]),
    )
    .unwrap();
    let report = ok(&[
        "credential",
        "verify",
        &presentation,
        "--audience",
        "https://counter.example",
        "--nonce",
        "n1",
    ]);
    assert!(report.starts_with("ACCEPTED  citizen-card"), "{report}");
    assert!(report.contains("age_over_19: true"));
    assert!(
        !report.contains("birthdate"),
        "undisclosed claim shown: {report}"
    );
    assert!(report.contains("accreditation_not_checked"));
    assert!(report.contains("status_not_checked"));

    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "credential",
        "verify",
        &presentation,
        "--audience",
        "https://counter.example",
        "--nonce",
        "n1",
        "--json",
    ]))
    .unwrap();
    assert_eq!(json["decision"], "accepted");
    assert_eq!(json["disclosed_claims"]["name"], "김민지 Kim Minji");

    // Another nonce: rejected as a challenge mismatch, exit code 1.
    let wrong = dojang(&[
        "credential",
        "verify",
        &presentation,
        "--audience",
        "https://counter.example",
        "--nonce",
        "n2",
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stdout).contains("challenge_mismatch"));

    // Without a trust bundle, a verifier that requires trust checks must reject.
    let strict = dojang(&[
        "credential",
        "verify",
        &presentation,
        "--require-trust",
        "--json",
        "--audience",
        "https://counter.example",
        "--nonce",
        "n1",
    ]);
    assert_eq!(strict.status.code(), Some(1));

    // A tampered signature.
    let mut text = std::fs::read_to_string(&presentation).unwrap();
    let dot = text.find('~').unwrap() - 5;
    text.replace_range(
        dot..dot + 1,
        if &text[dot..dot + 1] == "A" { "B" } else { "A" },
    );
    std::fs::write(&presentation, text).unwrap();
    let tampered = dojang(&["credential", "verify", &presentation, "--json"]);
    assert_eq!(tampered.status.code(), Some(1));
    let verdict: serde_json::Value = serde_json::from_slice(&tampered.stdout).unwrap();
    assert_eq!(verdict["decision"], "rejected");
    assert_eq!(verdict["reasons"][0]["code"], "signature_invalid");
}

#[test]
fn invalid_claims_are_refused_with_the_failing_path() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = path(dir.path(), "issuer.jwk");
    ok(&["key", "generate", "--alg", "EdDSA", "--out", &issuer]);
    let claims = path(dir.path(), "claims.json");
    std::fs::write(&claims, r#"{"name":"x","birthdate":"1990-13-45","address":{"locality":"Seoul","region":"Jung-gu"},"card_number":"SC-2026-000001"}"#).unwrap();
    let out = dojang(&[
        "credential",
        "issue",
        "--type",
        "citizen-card",
        "--claims",
        &claims,
        "--key",
        &issuer,
        "--holder-did",
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/birthdate"), "{stderr}");
    let unknown = dojang(&[
        "credential",
        "issue",
        "--type",
        "passport",
        "--claims",
        &claims,
        "--key",
        &issuer,
    ]);
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("unknown credential type `passport`")
    );
}

#[test]
fn garbage_input_is_a_verdict_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let input = path(dir.path(), "garbage");
    std::fs::write(&input, "not a credential at all").unwrap();
    let out = dojang(&["credential", "verify", &input, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["reasons"][0]["code"], "malformed_credential");
}

#[test]
fn bench_prints_name_value_unit_lines() {
    let out = ok(&["bench", "--quick", "--filter", "status_check"]);
    let line = out
        .lines()
        .find(|l| l.starts_with("status_check_cached: "))
        .expect("status line");
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parts.len(), 3, "{line}");
    assert!(parts[1].parse::<f64>().unwrap() > 0.0);
    assert_eq!(parts[2], "ns");
}

/// `dojang … | head`: a reader that stops early closes the pipe; dojang stops quietly (the
/// status a shell gives a process ended by SIGPIPE), never with a panic.
#[test]
fn a_closed_pipe_stops_output_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_dojang"))
        .args(["credential", "example", "--type", "citizen-card"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
        .wait_with_output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}
