//! The employer page in headless Chromium (playwright-core): a valid job badge shows accepted
//! in green, a revoked one rejected in red with the reason in words; the issuer policy in force
//! is shown, and a badge from a key-DID issuer outside the registry is shown as not accredited.
//!
//! Needs `node`, `/usr/bin/chromium` and `npm ci` in `verifier/tests/browser` (`.ci/run` sets
//! them up); without them the test says it skipped — except under `CI`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{Ledger, issue, now, present};
use dojang_core::compact;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::status::token::TokenStatus;
use dojang_verifier::http::app;
use dojang_verifier::service::{VerifierConfig, VerifierService};

/// Where the scripts live, and the Chromium to drive; `None` (skipped) when not installed.
fn browser() -> Option<(std::path::PathBuf, String)> {
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready =
        script_dir.join("node_modules/playwright-core").is_dir() && Path::new(&chromium).exists();
    if !ready {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: install chromium and run `npm ci` in {}",
            script_dir.display()
        );
        println!("skipped: headless Chromium or playwright-core not installed");
        return None;
    }
    Some((script_dir, chromium))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_a_valid_badge_accepted_and_a_revoked_one_revoked() {
    let Some((script_dir, chromium)) = browser() else {
        return;
    };

    let ledger = Ledger::new().await;
    let seoul = ledger
        .issuer(
            Algorithm::Es256,
            "Korea Employment Information Service",
            &["job-badge"],
        )
        .await;
    ledger
        .publish(&seoul, 2, &[(7, TokenStatus::Invalid)])
        .await;
    let service = VerifierService::new(
        VerifierConfig {
            public_url: "http://127.0.0.1".into(),
            audience: "employer.example".into(),
            registry_url: None,
            max_bundle_age: Some(86_400),
            min_witnesses: 0,
        },
        ledger.trust().await,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app(service)).await });

    let dir = tempfile::tempdir().unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let mut images = Vec::new();
    for (name, idx) in [("valid.png", 3), ("revoked.png", 7)] {
        let badge = issue(&seoul, "job-badge", &holder, idx);
        // Made a little ahead, so a slow browser start still finds it inside its window.
        let text = compact::to_qr_text(&present(&badge, &holder, now() + 20));
        let path = dir.path().join(name);
        std::fs::write(&path, dojang_core::qr::to_png(&text).unwrap()).unwrap();
        images.push(path.to_str().unwrap().to_owned());
    }

    // The server runs on the runtime's workers; the browser is driven from a blocking thread.
    let script = script_dir.join("verify_page.mjs");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .arg(&url)
            .args(&images)
            .env("CHROMIUM", &chromium)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines[0]["freshness"]
            .as_str()
            .unwrap()
            .contains("1 accredited issuer"),
        "{stdout}"
    );

    let valid = &lines[1];
    assert_eq!(valid["decision"], "accepted", "{stdout}");
    assert_eq!(valid["colour"], "rgb(30, 125, 58)", "green");
    let text = valid["text"].as_str().unwrap();
    assert!(text.contains("ACCEPTED"), "{text}");
    assert!(
        text.contains("Korea Employment Information Service"),
        "{text}"
    );
    assert!(
        text.contains("Forklift Operation"),
        "the disclosed claims: {text}"
    );
    assert!(
        text.contains("Judged with a trust bundle"),
        "freshness: {text}"
    );

    let revoked = &lines[2];
    assert_eq!(revoked["decision"], "rejected", "{stdout}");
    assert_eq!(revoked["colour"], "rgb(179, 38, 30)", "red");
    let text = revoked["text"].as_str().unwrap();
    assert!(text.contains("REJECTED"), "{text}");
    assert!(text.contains("revoked"), "the reason in words: {text}");

    assert!(
        lines[3]["challenge"]
            .as_str()
            .unwrap()
            .contains("Challenge mode"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_its_issuer_policy_and_a_key_did_issuer_as_not_accredited() {
    let Some((script_dir, chromium)) = browser() else {
        return;
    };
    let ledger = Ledger::new().await;
    let trust = ledger.trust().await;
    let config = VerifierConfig {
        public_url: "http://127.0.0.1".into(),
        audience: "employer.example".into(),
        registry_url: None,
        max_bundle_age: Some(86_400),
        min_witnesses: 0,
    };

    // A job badge from another system: an SD-JWT VC whose issuer is a did:jwk.
    let issuer = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let did = dojang_core::did::Did::jwk(issuer.public_key());
    let ty = dojang_schemas::Catalog::builtin().get("job-badge").unwrap();
    let badge = ty
        .draft(
            ty.example().clone(),
            dojang_schemas::Issuance {
                issuer: did.to_string(),
                issued_at: now(),
                valid_until: None,
                holder_key: Some(holder.public_key().clone()),
                status: None,
            },
        )
        .unwrap()
        .sign(&issuer, &dojang_core::did::key_id(&did).unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("badge.sdjwt");
    std::fs::write(&file, &badge).unwrap();
    let file = file.to_str().unwrap().to_owned();

    let mut seen = Vec::new();
    for policy in dojang_verifier::IssuerPolicy::ALL {
        let service =
            VerifierService::new(config.clone(), trust.clone()).with_issuer_policy(policy);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app(service)).await });
        let (script, chromium, file) = (
            script_dir.join("issuer_policy.mjs"),
            chromium.clone(),
            file.clone(),
        );
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("node")
                .arg(script)
                .arg(&url)
                .arg(&file)
                .env("CHROMIUM", &chromium)
                .output()
        })
        .await
        .unwrap()
        .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let lines: Vec<serde_json::Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        seen.push((policy, lines));
    }

    let (_, accredited) = &seen[0];
    let policy = accredited[0]["policy"].as_str().unwrap();
    assert!(
        policy.contains("only issuers accredited in the registry"),
        "{policy}"
    );
    assert_eq!(accredited[1]["decision"], "rejected");
    assert!(
        accredited[1]["text"]
            .as_str()
            .unwrap()
            .contains("not accredited in the registry"),
        "{}",
        accredited[1]
    );

    let (_, open) = &seen[1];
    let policy = open[0]["policy"].as_str().unwrap();
    assert!(
        policy.contains("also did:key and did:jwk issuers"),
        "{policy}"
    );
    assert!(policy.contains("받는 발급자"), "{policy}");
    let shown = &open[1];
    assert_eq!(shown["decision"], "accepted", "{shown}");
    assert_eq!(shown["notAccredited"], true, "{shown}");
    let summary = shown["summary"].as_str().unwrap();
    assert!(summary.contains(did.as_str()), "{summary}");
    assert!(
        summary.contains("not accredited in the registry"),
        "{summary}"
    );
    assert!(summary.contains("인정되지 않음"), "{summary}");
    let text = shown["text"].as_str().unwrap();
    assert!(text.contains("Forklift Operation"), "{text}");
}
