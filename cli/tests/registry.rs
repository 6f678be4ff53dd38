//! `dojang registry` as an operator uses it: a real server process, entries signed by the CLI,
//! a bundle exported and verified, proofs checked offline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};

fn dojang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dojang"))
        .args(args)
        .env("DOJANG_PASSPHRASE", "test")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = dojang(args);
    assert!(
        out.status.success(),
        "dojang {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `dojang registry serve` on a free port; returns its base URL.
fn serve(data_dir: &str) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dojang"))
        .args([
            "registry",
            "serve",
            "--data-dir",
            data_dir,
            "--listen",
            "127.0.0.1:0",
        ])
        .env("DOJANG_PASSPHRASE", "test")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split("listening on ")
        .nth(1)
        .expect("listening line")
        .trim()
        .to_owned();
    (Server(child), url)
}

fn get(url: &str) -> String {
    let out = Command::new("curl").args(["-sf", url]).output().unwrap();
    assert!(out.status.success(), "GET {url}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn operator_workflow_against_a_real_server() {
    if Command::new("curl").arg("--version").output().is_err() {
        println!("skipped: curl is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (_server, url) = serve(&p("data"));

    ok(&["key", "generate", "--alg", "EdDSA", "--out", &p("root.jwk")]);
    ok(&[
        "key",
        "generate",
        "--alg",
        "ES256",
        "--out",
        &p("seoul.jwk"),
    ]);
    let root = ok(&[
        "registry",
        "genesis",
        "--url",
        &url,
        "--key",
        &p("root.jwk"),
    ]);
    assert!(root.starts_with("did:dojang:"));
    let seoul = ok(&[
        "registry",
        "create-did",
        "--url",
        &url,
        "--key",
        &p("seoul.jwk"),
    ]);
    ok(&[
        "registry",
        "accredit",
        "--url",
        &url,
        "--key",
        &p("root.jwk"),
        "--subject",
        seoul.trim(),
        "--name",
        "Seoul Metropolitan Government",
        "--types",
        "citizen-card",
    ]);
    // Seoul cannot accredit itself.
    let refused = dojang(&[
        "registry",
        "accredit",
        "--url",
        &url,
        "--key",
        &p("seoul.jwk"),
        "--subject",
        seoul.trim(),
        "--name",
        "x",
        "--types",
        "mobile-id",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("403"));

    let exported = ok(&[
        "registry",
        "bundle",
        "--url",
        &url,
        "--out",
        &p("bundle.jwt"),
    ]);
    assert!(
        exported.contains("checkpoint size 3") && exported.contains("1 accredited issuer"),
        "{exported}"
    );
    let anchor = p("bundle.anchor.json");
    // Re-exporting against the pinned anchor works too.
    ok(&[
        "registry",
        "bundle",
        "--url",
        &url,
        "--out",
        &p("bundle2.jwt"),
        "--anchor",
        &anchor,
    ]);

    std::fs::write(p("old.txt"), get(&format!("{url}/checkpoint"))).unwrap();
    ok(&[
        "key",
        "generate",
        "--alg",
        "EdDSA",
        "--out",
        &p("busan.jwk"),
    ]);
    ok(&[
        "registry",
        "create-did",
        "--url",
        &url,
        "--key",
        &p("busan.jwk"),
    ]);
    std::fs::write(p("new.txt"), get(&format!("{url}/checkpoint"))).unwrap();
    std::fs::write(
        p("consistency.json"),
        get(&format!("{url}/proofs/consistency?first=3&second=4")),
    )
    .unwrap();
    let extends = ok(&[
        "registry",
        "verify-consistency",
        "--anchor",
        &anchor,
        "--old",
        &p("old.txt"),
        "--new",
        &p("new.txt"),
        "--proof",
        &p("consistency.json"),
    ]);
    assert!(
        extends.starts_with("OK: the log of size 4 extends the log of size 3"),
        "{extends}"
    );
    let mut proof: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("consistency.json")).unwrap()).unwrap();
    proof["proof"][0] = serde_json::json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    std::fs::write(p("forged.json"), proof.to_string()).unwrap();
    let forked = dojang(&[
        "registry",
        "verify-consistency",
        "--anchor",
        &anchor,
        "--old",
        &p("old.txt"),
        "--new",
        &p("new.txt"),
        "--proof",
        &p("forged.json"),
    ]);
    assert_eq!(forked.status.code(), Some(1));
    std::fs::write(
        p("inclusion.json"),
        get(&format!("{url}/proofs/inclusion?index=2&size=3")),
    )
    .unwrap();
    let entry: serde_json::Value = serde_json::from_str(&get(&format!("{url}/entries/2"))).unwrap();
    let leaf_hash = entry["leaf_hash"].as_str().unwrap();
    let verdict = ok(&[
        "registry",
        "verify-inclusion",
        "--anchor",
        &anchor,
        "--checkpoint",
        &p("old.txt"),
        "--proof",
        &p("inclusion.json"),
        "--leaf-hash",
        leaf_hash,
    ]);
    assert!(verdict.starts_with("OK: leaf 2"), "{verdict}");
    let wrong = dojang(&[
        "registry",
        "verify-inclusion",
        "--anchor",
        &anchor,
        "--checkpoint",
        &p("old.txt"),
        "--proof",
        &p("inclusion.json"),
        "--leaf-hash",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ]);
    assert_eq!(wrong.status.code(), Some(1));
}
