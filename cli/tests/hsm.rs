//! The whole platform with every signing key on one HSM token (SoftHSM2): `dojang up --keys`
//! makes the root authority's, IACA, registry, witness and issuer keys there — none sealed in
//! the data directory — and a credential is issued and verified in all three formats; `dojang
//! issuer rotate-key` moves an issuer to a new key on the token while the platform runs, which
//! switches to it and certifies it, and credentials from before and after both verify. On
//! SQLite and PostgreSQL. A data directory keeps its token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Up, dojang_with, spawn};
use dojang_core::b64;
use dojang_core::key::Signer as _;
use dojang_pkcs11::Pkcs11Signer;
use dojang_wallet::{Wallet, receive};
use serde_json::Value;

/// Every key `dojang up --keys` keeps on the token.
const LABELS: [&str; 9] = [
    "dojang-root-authority",
    "dojang-iaca",
    "dojang-log",
    "dojang-bundle",
    "dojang-witness",
    "dojang-issuer-mois",
    "dojang-issuer-seoul",
    "dojang-issuer-hrdk",
    "dojang-issuer-keis",
];

/// A citizen's new wallet holding a mobile ID issued now, in every format, and the `kid` its
/// SD-JWT VC names.
async fn citizen_with_mobile_id(up: &Up, dir: &std::path::Path, name: &str) -> (Wallet, String) {
    let offer = up.mobile_id_offer().await;
    let parsed = receive::offer_from_text(&up.http, offer["uri"].as_str().unwrap())
        .await
        .unwrap();
    let (wallet, held) = up
        .receive(&dir.join(format!("{name}.db")), &offer, &parsed)
        .await;
    assert!(held.sd_jwt.is_some() && held.compact.is_some() && held.mdoc.is_some());
    let sd_jwt = held.sd_jwt.unwrap();
    let header = sd_jwt.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&b64::decode(header).unwrap()).unwrap();
    (wallet, header["kid"].as_str().unwrap().to_owned())
}

/// Polls `check` for up to 30 seconds.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..60 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("{what} did not happen within 30 s");
}

#[tokio::test]
async fn every_key_of_the_platform_on_one_token_issuance_verification_and_rotation() {
    let Some(hsm) = dojang_testkit::hsm::softhsm() else {
        return;
    };
    for postgres in [false, true] {
        let db = match postgres {
            true => match common::postgres_database("hsm_up").await {
                Some(db) => Some(db),
                None => continue,
            },
            false => None,
        };
        let token = hsm.token("platform");
        let keys = hsm.token_uri(&token).to_string();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let data_dir = data.to_str().unwrap();
        let mut args = vec!["up", "--data-dir", data_dir, "--listen", "127.0.0.1:0"];
        if let Some(db) = &db {
            args.extend(["--database-url", db.url.as_str()]);
        }
        let keys_args = [args.clone(), vec!["--keys", keys.as_str()]].concat();
        let (server, base) = spawn(&keys_args);
        let up = Up {
            http: reqwest::Client::new(),
            token: std::fs::read_to_string(data.join("demo-token"))
                .unwrap()
                .trim()
                .to_owned(),
            base: base.clone(),
        };

        // Every key was made on the token and stays there; none is sealed in the data
        // directory, which records the token (never a PIN).
        for label in LABELS {
            hsm.key_stays_on_token(&token, label)
                .unwrap_or_else(|e| panic!("{label}: {e}"));
        }
        for sealed in [
            "root-authority.sealed.json",
            "iaca.sealed.json",
            "witness.key",
        ] {
            assert!(!data.join(sealed).exists(), "{sealed}");
        }
        let recorded = std::fs::read_to_string(data.join("keys.pkcs11")).unwrap();
        assert_eq!(recorded.trim(), keys);
        assert!(!recorded.contains(dojang_testkit::hsm::USER_PIN));
        // The registry is the token's: its issuers' DIDs come from the keys there.
        let issuers = up.get("/registry/issuers").await;
        let mois = Pkcs11Signer::open(&hsm.uri(&token, "dojang-issuer-mois")).unwrap();
        let did = dojang_ledger::did::dojang_did(mois.public_key()).to_string();
        assert!(
            issuers.as_array().unwrap().iter().any(|i| i["did"] == did),
            "{issuers}"
        );

        // Issued in every format (the mdoc under a certificate the token's IACA key signed)
        // and verified over OpenID4VP.
        let (before, kid) = citizen_with_mobile_id(&up, dir.path(), "before").await;
        assert_eq!(kid, format!("{did}#key-1"));
        for format in ["dc+sd-jwt", "mso_mdoc"] {
            let verdict = up.present(&before, format).await;
            assert_eq!(verdict["decision"], "accepted", "{format}: {verdict}");
        }

        // The ministry rotates to a new key on the token while the platform runs.
        let new_key = hsm.uri(&token, "dojang-issuer-mois-2").to_string();
        let registry = format!("{base}/registry");
        let printed = common::ok_with(
            &[
                "issuer",
                "rotate-key",
                "--data-dir",
                data_dir,
                "--registry",
                &registry,
                "--slug",
                "mois",
                "--key",
                &new_key,
            ]
            .into_iter()
            .chain(db.iter().flat_map(|db| ["--database-url", db.url.as_str()]))
            .collect::<Vec<_>>(),
            &[("DOJANG_PASSPHRASE", "test")],
        );
        assert_eq!(printed.trim(), format!("{did}#key-2"));
        hsm.key_stays_on_token(&token, "dojang-issuer-mois-2")
            .unwrap();
        let rotated = Pkcs11Signer::open(&hsm.uri(&token, "dojang-issuer-mois-2")).unwrap();
        eventually("the platform switching to the new key", async || {
            up.get("/.well-known/jwt-vc-issuer/issuers/mois").await["jwks"]["keys"][0]["kid"]
                == format!("{did}#key-2")
        })
        .await;
        eventually("the root authority certifying the new key", async || {
            let certificates = up.get("/registry/certificates").await;
            certificates.as_array().unwrap().iter().any(|c| {
                c["subject"] == did
                    && dojang_mdoc::Certificate::from_der(
                        &b64::decode(c["der"].as_str().unwrap()).unwrap(),
                    )
                    .unwrap()
                    .public_key
                        == rotated.public_key().as_bytes()
            })
        })
        .await;
        // The issuer looks a key its cached certificates lack up again once they are 5 s old.
        tokio::time::sleep(std::time::Duration::from_millis(5_500)).await;
        let (after, kid) = citizen_with_mobile_id(&up, dir.path(), "after").await;
        assert_eq!(kid, format!("{did}#key-2"));
        // The verifier page takes the registry's news (the new certificate) as an employer
        // would press "Refresh bundle".
        up.post("/verifier/api/trust/refresh", Value::Null).await;
        for wallet in [&before, &after] {
            for format in ["dc+sd-jwt", "mso_mdoc"] {
                let verdict = up.present(wallet, format).await;
                assert_eq!(verdict["decision"], "accepted", "{format}: {verdict}");
            }
        }
        drop(server);

        // Started again without --keys: the token it recorded. With another token: refused.
        let (server, base) = spawn(&args);
        let again = reqwest::get(format!("{base}/registry/issuers"))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(again, issuers, "the same root authority and issuers");
        drop(server);
        let other = hsm.token_uri(&hsm.token("other")).to_string();
        let refused = dojang_with(
            &[args.clone(), vec!["--keys", other.as_str()]].concat(),
            &[("DOJANG_PASSPHRASE", "test")],
        );
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("a platform keeps its keys"), "{stderr}");
        assert!(!stderr.contains(dojang_testkit::hsm::USER_PIN), "{stderr}");
    }
}

/// The services run apart, each given its key on the token by flag: the registry's log and
/// bundle keys, the root authority's (genesis, accreditation), the issuer's, the witness's.
#[test]
fn separate_services_take_their_keys_on_the_token_by_flag() {
    let Some(hsm) = dojang_testkit::hsm::softhsm() else {
        return;
    };
    let token = hsm.token("services");
    let key = |label: &str| hsm.uri(&token, label).to_string();
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (_registry, registry) = spawn(&[
        "registry",
        "serve",
        "--data-dir",
        &p("registry"),
        "--listen",
        "127.0.0.1:0",
        "--log-key",
        &key("log"),
        "--bundle-key",
        &key("bundle"),
    ]);
    let root = common::ok(&[
        "registry",
        "genesis",
        "--url",
        &registry,
        "--key",
        &key("root"),
    ]);
    let root_key = Pkcs11Signer::open(&hsm.uri(&token, "root")).unwrap();
    assert_eq!(
        root.trim(),
        dojang_ledger::did::dojang_did(root_key.public_key()).as_str()
    );
    let env = [("DOJANG_PASSPHRASE", "test")];
    let did = common::ok_with(
        &[
            "issuer",
            "init",
            "--data-dir",
            &p("issuer"),
            "--registry",
            &registry,
            "--slug",
            "seoul",
            "--name",
            "Seoul",
            "--key",
            &key("seoul"),
        ],
        &env,
    );
    common::ok(&[
        "registry",
        "accredit",
        "--url",
        &registry,
        "--key",
        &key("root"),
        "--subject",
        did.trim(),
        "--name",
        "Seoul",
        "--types",
        "citizen-card",
    ]);
    let exported = common::ok(&[
        "registry",
        "bundle",
        "--url",
        &registry,
        "--out",
        &p("bundle.jwt"),
    ]);
    assert!(exported.contains("1 accredited issuer"), "{exported}");
    for label in ["log", "bundle", "root", "seoul"] {
        hsm.key_stays_on_token(&token, label)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
    }

    // A witness whose cosigning key is on the token announces that key.
    let anchor: Value =
        serde_json::from_str(&std::fs::read_to_string(p("bundle.anchor.json")).unwrap()).unwrap();
    let mut witness = std::process::Command::new(env!("CARGO_BIN_EXE_dojang"))
        .args([
            "registry",
            "witness",
            "--data-dir",
            &p("witness"),
            "--listen",
            "127.0.0.1:0",
            "--name",
            "witness.example",
            "--log",
            anchor["log_key"].as_str().unwrap(),
            "--key",
            &key("witness"),
        ])
        .env("DOJANG_PASSPHRASE", "test")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    let mut out = std::io::BufReader::new(witness.stdout.take().unwrap());
    for _ in 0..2 {
        std::io::BufRead::read_line(&mut out, &mut banner).unwrap();
    }
    let _ = witness.kill();
    let _ = witness.wait();
    let witness_key = Pkcs11Signer::open(&hsm.uri(&token, "witness")).unwrap();
    let expected = dojang_ledger::note::NoteVerifier::new(
        "witness.example",
        dojang_ledger::note::TYPE_COSIGNATURE,
        witness_key.public_key().clone(),
    )
    .unwrap();
    assert!(banner.contains(&expected.to_string()), "{banner}");
    assert!(!dir.path().join("witness").join("witness.key").exists());
}
