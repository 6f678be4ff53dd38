//! `dojang registry` as an operator uses it: a real server process, entries signed by the CLI,
//! a bundle exported and verified, proofs checked offline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Server, dojang, ok};

/// Starts `dojang registry serve` on a free port; returns its base URL.
fn serve(data_dir: &str) -> (Server, String) {
    common::spawn(&[
        "registry",
        "serve",
        "--data-dir",
        data_dir,
        "--listen",
        "127.0.0.1:0",
    ])
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

/// A registry's trust anchor as it serves it (`/trust-anchor`).
fn served_anchor(url: &str) -> serde_json::Value {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::get(format!("{url}/trust-anchor"))
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

/// Runs `dojang verifier serve` in `dir`, where it keeps its pin, and stops it once it listens:
/// whether it listened, its exit code if it stopped by itself, and what it wrote to stderr.
fn start_verifier(dir: &Path, args: &[&str]) -> (bool, Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dojang"))
        .args(["verifier", "serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(dir)
        .env("DOJANG_PASSPHRASE", "test")
        .env_remove("DOJANG_ANCHOR")
        .env_remove("DOJANG_BUNDLE")
        .env_remove("DOJANG_REGISTRY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let first = BufReader::new(child.stdout.take().unwrap()).lines().next();
    let listened = first.is_some_and(|line| line.unwrap().contains("listening on"));
    let code = match child.try_wait().unwrap() {
        Some(status) => status.code(),
        None if listened => {
            child.kill().unwrap();
            child.wait().unwrap();
            None
        }
        None => child.wait().unwrap().code(),
    };
    (listened, code, errors.join().unwrap())
}

/// Finding 6: a substitute registry (another database, so other keys) cannot replace the pinned
/// anchor by being fetched from — `registry bundle` and `verifier serve --registry` refuse it,
/// naming both keys, and write nothing; only `--repin` replaces the pin, saying what changes.
#[test]
fn a_substitute_registry_is_refused_until_repinned() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (_a, url_a) = serve(&p("a"));
    let (_b, url_b) = serve(&p("b"));
    ok(&["key", "generate", "--alg", "EdDSA", "--out", &p("root.jwk")]);
    for url in [&url_a, &url_b] {
        ok(&["registry", "genesis", "--url", url, "--key", &p("root.jwk")]);
    }
    let (anchor_a, anchor_b) = (served_anchor(&url_a), served_anchor(&url_b));
    let key = |anchor: &serde_json::Value, field: &str| anchor[field].as_str().unwrap().to_owned();
    let (log_a, bundle_key_a) = (key(&anchor_a, "log_key"), key(&anchor_a, "bundle_key"));
    let (log_b, bundle_key_b) = (key(&anchor_b, "log_key"), key(&anchor_b, "bundle_key"));
    assert_ne!(log_a, log_b);
    assert_ne!(bundle_key_a, bundle_key_b);

    let (bundle, pin) = (p("bundle.jwt"), p("bundle.anchor.json"));
    let fetch = |url: &str, extra: &[&str]| {
        let mut args = vec!["registry", "bundle", "--url", url, "--out", &bundle];
        args.extend_from_slice(extra);
        dojang(&args)
    };
    let first = fetch(&url_a, &[]);
    assert!(first.status.success());
    let said = String::from_utf8_lossy(&first.stderr);
    assert!(
        said.contains("trust on first use")
            && said.contains(&format!("log key: {log_a}"))
            && said.contains(&format!("bundle key: {bundle_key_a}")),
        "{said}"
    );
    let pinned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&pin).unwrap()).unwrap();
    assert_eq!(pinned, anchor_a);
    // The same registry again: compared, accepted, the pin untouched.
    let pin_bytes = std::fs::read(&pin).unwrap();
    let again = fetch(&url_a, &[]);
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stderr).contains("trust on first use"));
    assert_eq!(std::fs::read(&pin).unwrap(), pin_bytes);
    let bundle_bytes = std::fs::read(&bundle).unwrap();

    // The attack: the same command pointed at a substitute registry.
    let refused = fetch(&url_b, &[]);
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("고정된 신뢰 앵커와 다릅니다")
            && said.contains("the registry's anchor differs from the one pinned")
            && said.contains(&format!("log key: pinned {log_a}, offered {log_b}"))
            && said.contains(&format!(
                "bundle key: pinned {bundle_key_a}, offered {bundle_key_b}"
            ))
            && said.contains("--repin"),
        "{said}"
    );
    assert_eq!(
        std::fs::read(&pin).unwrap(),
        pin_bytes,
        "the pin is unchanged"
    );
    assert_eq!(
        std::fs::read(&bundle).unwrap(),
        bundle_bytes,
        "the bundle is unchanged"
    );
    // A pin named with --anchor is held to the same rule, and must exist.
    let named = dojang(&[
        "registry",
        "bundle",
        "--url",
        &url_b,
        "--out",
        &p("other.jwt"),
        "--anchor",
        &pin,
    ]);
    assert_eq!(named.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&named.stderr).contains(&format!("offered {log_b}")));
    assert!(!Path::new(&p("other.jwt")).exists());
    let missing = dojang(&[
        "registry",
        "bundle",
        "--url",
        &url_a,
        "--out",
        &p("other.jwt"),
        "--anchor",
        &p("missing.json"),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        !Path::new(&p("missing.json")).exists(),
        "no trust on first use"
    );

    // `verifier serve --registry` pins in its working directory, and refuses a substitute.
    let counter = dir.path().join("counter");
    std::fs::create_dir(&counter).unwrap();
    let counter_pin = counter.join("dojang-anchor.json");
    let (listened, _, said) = start_verifier(&counter, &["--registry", &url_a]);
    assert!(listened, "{said}");
    assert!(said.contains("trust on first use"), "{said}");
    let counter_bytes = std::fs::read(&counter_pin).unwrap();
    let (listened, _, said) = start_verifier(&counter, &["--registry", &url_a]);
    assert!(listened, "{said}");
    assert!(!said.contains("trust on first use"), "{said}");
    let (listened, code, said) = start_verifier(&counter, &["--registry", &url_b]);
    assert!(!listened, "a substitute registry must not be served from");
    assert_eq!(code, Some(2));
    assert!(
        said.contains("고정된 신뢰 앵커와 다릅니다")
            && said.contains(&format!("log key: pinned {log_a}, offered {log_b}"))
            && said.contains(&format!(
                "bundle key: pinned {bundle_key_a}, offered {bundle_key_b}"
            )),
        "{said}"
    );
    assert_eq!(std::fs::read(&counter_pin).unwrap(), counter_bytes);
    let (listened, _, said) = start_verifier(&counter, &["--registry", &url_b, "--repin"]);
    assert!(listened, "{said}");
    assert!(
        said.contains(&format!("log key: {log_a} → {log_b}")),
        "{said}"
    );
    let repinned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&counter_pin).unwrap()).unwrap();
    assert_eq!(repinned, anchor_b);

    // An explicit --repin replaces the bundle's pin, saying what changes.
    let repinned = fetch(&url_b, &["--repin"]);
    assert!(repinned.status.success());
    let said = String::from_utf8_lossy(&repinned.stderr);
    assert!(
        said.contains("repinned the trust anchor")
            && said.contains(&format!("log key: {log_a} → {log_b}"))
            && said.contains(&format!("bundle key: {bundle_key_a} → {bundle_key_b}")),
        "{said}"
    );
    let pinned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&pin).unwrap()).unwrap();
    assert_eq!(pinned, anchor_b);
    assert_ne!(std::fs::read(&bundle).unwrap(), bundle_bytes);
    // From now on registry B is the pinned one, and A is refused.
    assert!(fetch(&url_b, &[]).status.success());
    assert_eq!(fetch(&url_a, &[]).status.code(), Some(2));
}

/// Two registry processes on one PostgreSQL database, written to concurrently, keep one log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_registry_processes_on_one_postgres_do_not_fork() {
    use dojang_core::key::{Algorithm, SecretKey};
    use dojang_ledger::entry::{Entry, Operation};
    use dojang_ledger::merkle::MemoryTree;
    let Some(database) = common::postgres_database("procs").await else {
        return;
    };
    let database_url = database.url.clone();

    let dir = tempfile::tempdir().unwrap();
    let start = |data: &str, passphrase: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dojang"));
        command.args([
            "registry",
            "serve",
            "--data-dir",
            data,
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &database_url,
        ]);
        match passphrase {
            Some(passphrase) => command.env("DOJANG_PASSPHRASE", passphrase),
            None => command.env_remove("DOJANG_PASSPHRASE"),
        };
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let first = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .next()
            .unwrap()
            .unwrap();
        let url = first
            .split("listening on ")
            .nth(1)
            .unwrap()
            .trim()
            .to_owned();
        (Server(child), url)
    };
    // The first process generates the passphrase in a data directory that does not exist yet
    // (with PostgreSQL nothing else creates it); the second is given the same passphrase.
    let data_a = dir.path().join("a").join("not-yet");
    let (_a, url_a) = start(data_a.to_str().unwrap(), None);
    let passphrase = std::fs::read_to_string(data_a.join("passphrase")).unwrap();
    let (_b, url_b) = start(
        dir.path().join("b").to_str().unwrap(),
        Some(passphrase.trim()),
    );

    let client = reqwest::Client::new();
    let root = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let (document, kid) = dojang_registry_document(&root);
    let post = |url: String, entry: String| {
        let client = client.clone();
        async move {
            let response = client
                .post(format!("{url}/entries"))
                .body(entry)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
            let body: serde_json::Value = response.json().await.unwrap();
            body["index"].as_u64().unwrap()
        }
    };
    post(
        url_a.clone(),
        Entry::sign(
            &Operation::Genesis {
                origin: "registry.dojang.local/log".into(),
                document: document.clone(),
            },
            &root,
            &kid,
        )
        .unwrap(),
    )
    .await;
    let tasks: Vec<_> = (0..200u64)
        .map(|n| {
            let entry = Entry::sign(
                &Operation::Audit {
                    issuer: document.id.clone(),
                    period_start: n as i64,
                    period_end: n as i64,
                    counts: Default::default(),
                },
                &root,
                &kid,
            )
            .unwrap();
            tokio::spawn(post(
                if n % 2 == 0 {
                    url_a.clone()
                } else {
                    url_b.clone()
                },
                entry,
            ))
        })
        .collect();
    let mut indices = Vec::new();
    for task in tasks {
        indices.push(task.await.unwrap());
    }
    indices.sort();
    assert_eq!(
        indices,
        (1..201).collect::<Vec<_>>(),
        "each index handed out once, across both processes"
    );

    let mut tree = MemoryTree::new();
    for index in 0..201 {
        let entry: serde_json::Value = client
            .get(format!("{url_a}/entries/{index}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let leaf = dojang_ledger::entry::Leaf {
            timestamp_ms: entry["timestamp_ms"].as_u64().unwrap(),
            entry: entry["entry"].as_str().unwrap().to_owned(),
        };
        tree.push(&leaf.encode());
    }
    let expected = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        tree.root_at(201),
    );
    for url in [&url_a, &url_b] {
        let checkpoint = client
            .get(format!("{url}/checkpoint"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let lines: Vec<&str> = checkpoint.lines().collect();
        assert_eq!(
            (lines[1], lines[2]),
            ("201", expected.as_str()),
            "{url} serves the one tree"
        );
    }
    drop((_a, _b));
}

fn dojang_registry_document(
    key: &dojang_core::key::SecretKey,
) -> (dojang_core::DidDocument, dojang_core::DidUrl) {
    use dojang_core::did::Relationship;
    dojang_ledger::did::first_key_document(
        key.public_key(),
        &[
            Relationship::AssertionMethod,
            Relationship::CapabilityInvocation,
        ],
    )
}
