//! `dojang up` in headless Chromium (playwright-core): a citizen card issued from the console,
//! received and shown by the wallet page, accepted by the verifier page; then revoked, and after
//! the bundle refresh the same presentation rejected as revoked.
//!
//! Needs `node`, `/usr/bin/chromium` and `npm ci` in `verifier/tests/browser` (`.ci/run` sets
//! them up); without them it says it skipped — except under `CI`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::spawn;

#[test]
fn a_citizen_card_is_issued_received_shown_accepted_then_revoked() {
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../verifier/tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !(script_dir.join("node_modules/playwright-core").is_dir() && Path::new(&chromium).exists())
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: install chromium and run `npm ci` in {}",
            script_dir.display()
        );
        println!("skipped: headless Chromium or playwright-core not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_server, base) = spawn(&[
        "up",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    let token = std::fs::read_to_string(data.join("demo-token")).unwrap();

    let output = std::process::Command::new("node")
        .arg(script_dir.join("platform.mjs"))
        .arg(&base)
        .arg(token.trim())
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let steps: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("no step {name}: {stdout}"))
    };
    assert!(
        step("offered")["uri"]
            .as_str()
            .unwrap()
            .starts_with("openid-credential-offer://")
    );
    assert!(
        step("received")["title"]
            .as_str()
            .unwrap()
            .contains("Seoul Metropolitan Government"),
        "{stdout}"
    );
    let verified = step("verified");
    assert_eq!(verified["decision"], "accepted", "{stdout}");
    let text = verified["text"].as_str().unwrap();
    assert!(
        text.contains("Kim Minji") && text.contains("age_over_19"),
        "{text}"
    );
    assert!(
        !text.contains("birthdate"),
        "only the ticked claims: {text}"
    );

    let again = step("verified-again");
    assert_eq!(again["decision"], "rejected", "{stdout}");
    assert!(
        again["text"].as_str().unwrap().contains("revoked"),
        "{stdout}"
    );
}
