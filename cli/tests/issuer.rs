//! The issuer as a ministry runs it: registry and issuer processes set up through the CLI, a
//! batch of offers, a citizen's `dojang wallet` receiving one, presenting it as a QR code and
//! backing up, and a revocation from the CLI that the wallet then sees.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{dojang, dojang_with, free_port, ok, ok_with, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ministry_issues_in_batch_and_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (_registry, registry) = spawn(&[
        "registry",
        "serve",
        "--data-dir",
        &p("registry"),
        "--listen",
        "127.0.0.1:0",
    ]);
    ok(&["key", "generate", "--alg", "EdDSA", "--out", &p("root.jwk")]);
    ok(&[
        "registry",
        "genesis",
        "--url",
        &registry,
        "--key",
        &p("root.jwk"),
    ]);

    let issuer_dir = p("issuer");
    let common = [
        "--data-dir",
        issuer_dir.as_str(),
        "--registry",
        registry.as_str(),
    ];
    let did = ok(&[
        &[
            "issuer",
            "init",
            "--slug",
            "seoul",
            "--name",
            "Seoul Metropolitan Government",
        ][..],
        &common,
    ]
    .concat());
    ok(&[
        "registry",
        "accredit",
        "--url",
        &registry,
        "--key",
        &p("root.jwk"),
        "--subject",
        did.trim(),
        "--name",
        "Seoul Metropolitan Government",
        "--types",
        "citizen-card",
    ]);
    let token = ok(&[
        &[
            "issuer",
            "operator",
            "--issuer",
            "seoul",
            "--name",
            "counter 3",
            "--types",
            "citizen-card",
        ][..],
        &common,
    ]
    .concat());
    let token = token.trim().to_owned();

    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    std::fs::write(
        p("rows.csv"),
        "name,birthdate,address.locality,address.region,card_number,age_over_19\n\
         Kim Minji,1994-03-15,Seoul,Mapo-gu,SC-2026-000001,true\n\
         Lee Jiho,1990-07-02,Seoul,Jung-gu,SC-2026-000002,false\n",
    )
    .unwrap();
    let summary = ok(&[
        &[
            "issuer",
            "batch",
            "--issuer",
            "seoul",
            "--type",
            "citizen-card",
            "--file",
            &p("rows.csv"),
            "--out",
            &p("offers.csv"),
            "--public-url",
            &public,
        ][..],
        &common,
    ]
    .concat());
    assert!(
        summary.starts_with("2 offered, 0 already offered earlier, 0 rejected"),
        "{summary}"
    );
    let again = ok(&[
        &[
            "issuer",
            "batch",
            "--issuer",
            "seoul",
            "--type",
            "citizen-card",
            "--file",
            &p("rows.csv"),
            "--out",
            &p("offers2.csv"),
            "--public-url",
            &public,
        ][..],
        &common,
    ]
    .concat());
    assert!(
        again.starts_with("0 offered, 2 already offered earlier"),
        "{again}"
    );

    let mut reader = csv::Reader::from_path(p("offers.csv")).unwrap();
    let first = reader.records().next().unwrap().unwrap();
    let (tx_code, uri) = (first[2].to_owned(), first[3].to_owned());

    let listen = format!("127.0.0.1:{port}");
    let (_issuer, _) = spawn(
        &[
            &[
                "issuer",
                "serve",
                "--listen",
                &listen,
                "--public-url",
                &public,
            ][..],
            &common,
        ]
        .concat(),
    );

    // The citizen's wallet receives it (both formats), shows it, and presents a QR code.
    let wallet_file = p("wallet.db");
    let secret = [("DOJANG_WALLET_SECRET", "citizen secret")];
    let wallet = |args: &[&str]| {
        ok_with(
            &[&["wallet", "--wallet", wallet_file.as_str()][..], args].concat(),
            &secret,
        )
    };
    wallet(&["init"]);
    let id = wallet(&["receive", &uri, "--tx-code", &tx_code])
        .trim()
        .to_owned();
    let shown: serde_json::Value = serde_json::from_str(&wallet(&["show", &id, "--json"])).unwrap();
    assert_eq!(shown["claims"]["name"], "Kim Minji");
    assert_eq!(
        shown["summary"]["formats"],
        serde_json::json!(["dc+sd-jwt", "dojang-qr"])
    );
    assert_eq!(shown["summary"]["status"][0], "valid");
    let qr_text = wallet(&[
        "present",
        &id,
        "--disclose",
        "name,age_over_19",
        "--png",
        &p("qr.png"),
        "--text",
    ]);
    let png = std::fs::read(p("qr.png")).unwrap();
    assert_eq!(dojang_wallet::qr::read_image(&png).unwrap(), qr_text.trim());
    assert!(qr_text.starts_with("DJ1:"));

    // A counter fetches the trust bundle once, then verifies the photo of the QR offline.
    let bundle = p("bundle.jwt");
    ok(&["registry", "bundle", "--url", &registry, "--out", &bundle]);
    let verdict = ok(&["verify", &p("qr.png"), "--bundle", &bundle]);
    assert!(verdict.starts_with("ACCEPTED  citizen-card"), "{verdict}");
    assert!(
        verdict.contains("Seoul Metropolitan Government"),
        "{verdict}"
    );
    assert!(verdict.contains("claim    name: Kim Minji"), "{verdict}");

    let refused = dojang_with(
        &["wallet", "--wallet", &wallet_file, "list"],
        &[("DOJANG_WALLET_SECRET", "guess")],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("wrong secret"));

    // A backup restores into a new wallet on another device.
    let backup_secret = ("DOJANG_BACKUP_SECRET", "backup words");
    ok_with(
        &[
            "wallet",
            "--wallet",
            &wallet_file,
            "backup",
            "--out",
            &p("wallet.backup"),
        ],
        &[secret[0], backup_secret],
    );
    let tablet = p("tablet.db");
    let tablet_env = [("DOJANG_WALLET_SECRET", "tablet"), backup_secret];
    ok_with(&["wallet", "--wallet", &tablet, "init"], &tablet_env);
    ok_with(
        &[
            "wallet",
            "--wallet",
            &tablet,
            "restore",
            &p("wallet.backup"),
        ],
        &tablet_env,
    );
    assert!(ok_with(&["wallet", "--wallet", &tablet, "list"], &tablet_env).contains(&id));

    // The operator finds it and revokes it from the command line.
    let listed: serde_json::Value = reqwest::Client::new()
        .get(format!("{public}/issuers/seoul/credentials"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issued_id = listed[0]["id"].as_str().unwrap().to_owned();
    let revoked = ok(&[
        &[
            "issuer",
            "revoke",
            "--issuer",
            "seoul",
            "--credential",
            &issued_id,
            "--reason",
            "lost",
        ][..],
        &common,
    ]
    .concat());
    assert!(revoked.contains("is now Revoked"), "{revoked}");

    let refreshed = wallet(&["refresh"]);
    assert_eq!(refreshed.trim(), format!("{id}  revoked"));

    // With a fresh bundle the counter sees the revocation.
    let qr_text = wallet(&["present", &id, "--disclose", "name", "--text"]);
    ok(&["registry", "bundle", "--url", &registry, "--out", &bundle]);
    let rejected = dojang(&["verify", qr_text.trim(), "--bundle", &bundle, "--json"]);
    assert_eq!(rejected.status.code(), Some(1));
    let verdict: serde_json::Value = serde_json::from_slice(&rejected.stdout).unwrap();
    assert_eq!(verdict["decision"], "rejected");
    assert_eq!(verdict["reasons"][0]["code"], "revoked");
    let no_anchor = dojang(&[
        "verify",
        qr_text.trim(),
        "--bundle",
        &bundle,
        "--anchor",
        &p("missing.json"),
    ]);
    assert_eq!(no_anchor.status.code(), Some(2));

    // The employer page's service, trusting the registry's bundle, says the same.
    let (_verifier, page) = spawn(&[
        "verifier",
        "serve",
        "--registry",
        &registry,
        "--anchor",
        &format!(
            "{}",
            std::path::Path::new(&bundle)
                .with_extension("anchor.json")
                .display()
        ),
        "--listen",
        "127.0.0.1:0",
    ]);
    let http = reqwest::Client::new();
    let html = http.get(&page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("verify a credential"));
    let verdict: serde_json::Value = http
        .post(format!("{page}/api/verify"))
        .body(qr_text.trim().to_owned())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["reasons"][0]["code"], "revoked", "{verdict}");
    assert!(String::from_utf8_lossy(&no_anchor.stderr).contains("the trust anchor: reading"));
}
