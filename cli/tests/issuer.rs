//! The issuer as a ministry runs it: registry and issuer processes set up through the CLI, a
//! batch of offers, a citizen's wallet redeeming one over HTTP, a revocation from the CLI that
//! the registry then publishes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{free_port, ok, spawn};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::oid4vci::{self, CredentialOffer, ProofKey};
use dojang_core::status::token::{TokenStatus, TokenStatusList};

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

    // The citizen's wallet: token, nonce, proof, credential.
    let offer = CredentialOffer::from_uri(&uri).unwrap();
    let http = reqwest::Client::new();
    let base = &offer.credential_issuer;
    let token_response: oid4vci::TokenResponse = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", oid4vci::PRE_AUTHORIZED_GRANT),
            (
                "pre-authorized_code",
                &offer.grants.pre_authorized_code.pre_authorized_code,
            ),
            ("tx_code", &tx_code),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nonce: oid4vci::NonceResponse = http
        .post(format!("{base}/nonce"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let holder = SecretKey::generate(Algorithm::Es256).unwrap();
    let proof =
        oid4vci::sign_proof(&holder, ProofKey::Jwk, base, &nonce.c_nonce, common_now()).unwrap();
    let answer = http
        .post(format!("{base}/credential"))
        .bearer_auth(&token_response.access_token)
        .json(&serde_json::json!({"credential_configuration_id": "citizen-card", "proofs": {"jwt": [proof]}}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response: oid4vci::CredentialResponse =
        serde_json::from_str(&answer).unwrap_or_else(|_| panic!("{answer}"));
    let held = dojang_core::sd_jwt::HeldSdJwt::parse(&response.credentials[0].credential).unwrap();
    assert_eq!(held.claims()["name"], "Kim Minji");
    let status_uri = held.claims()["status"]["status_list"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let index = held.claims()["status"]["status_list"]["idx"]
        .as_u64()
        .unwrap() as usize;

    // The operator finds it and revokes it from the command line.
    let listed: serde_json::Value = http
        .get(format!("{public}/issuers/seoul/credentials"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let revoked = ok(&[
        &[
            "issuer",
            "revoke",
            "--issuer",
            "seoul",
            "--credential",
            &id,
            "--reason",
            "lost",
        ][..],
        &common,
    ]
    .concat());
    assert!(revoked.contains("is now Revoked"), "{revoked}");

    let token_text = http
        .get(&status_uri)
        .header("accept", "application/statuslist+jwt")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let jws = dojang_core::jws::Jws::parse(&token_text).unwrap();
    let claims: dojang_core::status::token::StatusListTokenClaims = jws.payload_json().unwrap();
    assert_eq!(
        TokenStatusList::decode(&claims.status_list)
            .unwrap()
            .status(index)
            .unwrap(),
        TokenStatus::Invalid
    );
}

fn common_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
