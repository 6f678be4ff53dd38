//! `dojang credential validate` on every VCDM 2.0 rule's valid and invalid document
//! (`core/tests/data/vcdm2/<rule>/`): exit 0 and 1, the broken rule named; 2 for what is not
//! JSON or cannot be read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/vcdm2")
}

/// Every rule folder, sorted.
fn rule_dirs() -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<(String, PathBuf)> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            (format!("vcdm2.{name}"), path)
        })
        .collect();
    dirs.sort();
    dirs
}

fn validate(file: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["credential", "validate", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = common::dojang(&args);
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn each_rule_valid_is_0_and_invalid_is_1_naming_the_rule() {
    let dirs = rule_dirs();
    assert!(dirs.len() >= 35, "{} rule folders", dirs.len());
    for (rule, dir) in dirs {
        let (code, out) = validate(&dir.join("valid.json"), &[]);
        assert_eq!(code, Some(0), "{rule} valid.json: {out}");
        assert!(out.starts_with("VALID"), "{rule}: {out}");

        let (code, out) = validate(&dir.join("invalid.json"), &[]);
        assert_eq!(code, Some(1), "{rule} invalid.json: {out}");
        let first = out.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("INVALID") && first.contains(&format!(" {rule} ")),
            "{rule}: {out}"
        );
        // Both messages, English and Korean.
        assert!(
            out.contains("\n  en  ") && out.contains("\n  ko  "),
            "{out}"
        );
    }
}

#[test]
fn json_output_names_rule_pointer_and_messages() {
    let dir = data_dir().join("credential-subject-non-empty");
    let (code, out) = validate(&dir.join("invalid.json"), &["--json"]);
    assert_eq!(code, Some(1), "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["rule"], "vcdm2.credential-subject-non-empty");
    assert_eq!(report["pointer"], "/credentialSubject/1");
    assert_eq!(report["section"], "4.8");
    assert!(
        report["message"]["ko"]
            .as_str()
            .unwrap()
            .contains("credentialSubject")
    );

    let (code, out) = validate(&dir.join("valid.json"), &["--json"]);
    assert_eq!(code, Some(0), "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["kind"], "VerifiableCredential");
}

#[test]
fn unreadable_or_not_json_is_2() {
    let scratch = tempfile::tempdir().unwrap();
    let garbage = scratch.path().join("garbage.json");
    std::fs::write(&garbage, "{\"@context\": [").unwrap();
    let (code, out) = validate(&garbage, &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("not JSON"), "{out}");

    let (code, out) = validate(&scratch.path().join("missing.json"), &[]);
    assert_eq!(code, Some(2), "{out}");

    // JSON, but not an object: a document that breaks a rule, not an unreadable one.
    let array = scratch.path().join("array.json");
    std::fs::write(&array, "[]").unwrap();
    let (code, out) = validate(&array, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("vcdm2.document-object"), "{out}");
}

#[test]
fn standard_input_with_a_dash() {
    let document = std::fs::read(data_dir().join("holder-url/valid.json")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dojang"))
        .args(["credential", "validate", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&document).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("VALID  VerifiablePresentation")
    );
}
