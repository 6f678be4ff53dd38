//! The README's walkthroughs, run as written: each `sh` block under a heading is one script,
//! with `dojang` standing for the built binary and a line that starts a server run in the
//! background until its port answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

/// The first ```sh block after `heading` in README.md.
fn block(heading: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split_once(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no `{heading}`"))
        .1;
    let code = section.split_once("```sh\n").unwrap().1;
    code.split_once("```").unwrap().0.to_owned()
}

/// Runs `block` in a fresh directory with bash; returns its stdout and the directory.
fn run(block: &str) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut script = String::from("set -euo pipefail\ndojang() { \"$DOJANG_BIN\" \"$@\"; }\n");
    for line in block.lines() {
        if line.starts_with("alias dojang=") {
            continue; // the README's shorthand for `cargo run`; here the built binary
        }
        if line.starts_with("dojang registry serve") {
            script += "\"$DOJANG_BIN\" registry serve >/dev/null 2>&1 &\nSERVER=$!\ntrap 'kill $SERVER' EXIT\n";
            script += "until (exec 3<>/dev/tcp/127.0.0.1/8070) 2>/dev/null; do sleep 0.1; done\n";
            continue;
        }
        script += line;
        script += "\n";
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("DOJANG_BIN", env!("CARGO_BIN_EXE_dojang"))
        .env_remove("DOJANG_PASSPHRASE")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{script}\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (stdout, dir)
}

#[test]
fn the_try_it_walkthrough_runs_as_written() {
    let (out, _dir) = run(&block("## Try it"));
    assert!(out.contains("ACCEPTED"), "{out}");
}

#[test]
fn the_registry_walkthrough_runs_as_written() {
    let (_, dir) = run(&block("## Run the registry"));
    let bundle = std::fs::read_to_string(dir.path().join("bundle.jwt")).unwrap();
    assert_eq!(bundle.split('.').count(), 3, "a compact JWS");
    assert!(dir.path().join("bundle.anchor.json").exists(), "the pin");
}
