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
    // A counter that checks only some types carries only their status lists: checking citizen
    // cards it sees the revocation; checking mobile IDs only, it cannot say this card's status
    // and does not pass it as valid.
    let pin = p("bundle.anchor.json");
    for (types, code) in [
        ("citizen-card", "revoked"),
        ("mobile-id,job-badge", "status_unavailable"),
    ] {
        let only = p("only.jwt");
        let exported = ok(&[
            "registry", "bundle", "--url", &registry, "--out", &only, "--anchor", &pin, "--types",
            types,
        ]);
        assert!(
            exported.contains(&format!("(for {} only)", types.replace(',', ", "))),
            "{exported}"
        );
        let rejected = dojang(&[
            "verify",
            qr_text.trim(),
            "--bundle",
            &only,
            "--anchor",
            &pin,
            "--json",
        ]);
        assert_eq!(rejected.status.code(), Some(1), "{types}");
        let verdict: serde_json::Value = serde_json::from_slice(&rejected.stdout).unwrap();
        assert_eq!(verdict["reasons"][0]["code"], code, "{types}: {verdict}");
    }
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

/// A registry with its root, and the Seoul office set up through the CLI and accredited for
/// citizen cards. Returns the registry process, its URL and the office's common arguments.
fn seoul_office(
    dir: &std::path::Path,
    database_url: Option<&str>,
) -> (common::Server, String, Vec<String>) {
    let p = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let (server, registry) = spawn(&[
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
    let mut common = vec![
        "--data-dir".to_owned(),
        p("issuer"),
        "--registry".to_owned(),
        registry.clone(),
    ];
    if let Some(url) = database_url {
        common.extend(["--database-url".to_owned(), url.to_owned()]);
    }
    let args = |extra: &[&str]| -> Vec<String> {
        extra
            .iter()
            .map(|s| (*s).to_owned())
            .chain(common.iter().cloned())
            .collect()
    };
    let init = args(&["issuer", "init", "--slug", "seoul", "--name", "Seoul"]);
    let did = ok(&init.iter().map(String::as_str).collect::<Vec<_>>());
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
        "Seoul",
        "--types",
        "citizen-card",
    ]);
    (server, registry, common)
}

/// `args` followed by the office's common arguments.
fn with(args: &[&str], common: &[String]) -> Vec<String> {
    args.iter()
        .map(|s| (*s).to_owned())
        .chain(common.iter().cloned())
        .collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The offers files in `dir`, by name.
fn offers_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("offers-citizen-card-") && n.ends_with(".csv"))
        .collect();
    names.sort();
    names
}

/// An offers file as (line, offer id, tx code, uri, outcome, note) rows.
fn offers_rows(path: &std::path::Path) -> Vec<[String; 6]> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "line",
            "offer_id",
            "tx_code",
            "credential_offer_uri",
            "expires_at",
            "outcome",
            "note"
        ]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            [0, 1, 2, 3, 5, 6].map(|i| r[i].to_owned())
        })
        .collect()
}

#[test]
fn a_batch_rerun_after_a_rejected_row_keeps_the_first_runs_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (_registry, _, common) = seoul_office(dir.path(), None);
    let rows_dir = dir.path().join("rows");
    std::fs::create_dir(&rows_dir).unwrap();
    let rows = rows_dir.join("citizens.csv");
    let header = "name,birthdate,address.locality,address.region,card_number,_subject\n";
    let good = "Kim Minji,1994-03-15,Seoul,Mapo-gu,SC-2026-000001,SC-2026-000001\n\
                Lee Jiho,1990-07-02,Seoul,Jung-gu,SC-2026-000002,SC-2026-000002\n";
    std::fs::write(
        &rows,
        format!(
            "{header}{good}Park Seoyeon,not-a-date,Seoul,Jongno-gu,SC-2026-000003,SC-2026-000003\n"
        ),
    )
    .unwrap();
    let batch = with(
        &[
            "issuer",
            "batch",
            "--issuer",
            "seoul",
            "--type",
            "citizen-card",
            "--file",
            rows.to_str().unwrap(),
        ],
        &common,
    );

    // Run 1: one bad row, exit 1; the offers go to a new file beside the rows.
    let first = dojang(&strs(&batch));
    assert_eq!(first.status.code(), Some(1), "{first:?}");
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.starts_with("2 offered, 0 already offered earlier, 1 rejected"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&first.stderr).contains("line 4: rejected"));
    let files = offers_files(&rows_dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("-1.csv"), "{files:?}");
    let run1_path = rows_dir.join(&files[0]);
    let run1_bytes = std::fs::read(&run1_path).unwrap();
    let run1 = offers_rows(&run1_path);
    assert_eq!(run1.len(), 3);
    for (row, line) in run1[..2].iter().zip(["2", "3"]) {
        assert_eq!(row[0], line);
        assert_eq!(row[4], "offered");
        assert_eq!(row[2].len(), 6, "a six-digit transaction code");
        assert!(row[3].starts_with("openid-credential-offer://"));
    }
    assert_eq!(run1[2][0], "4");
    assert_eq!(run1[2][4], "rejected");
    assert!(run1[2][5].contains("/birthdate"), "{:?}", run1[2]);

    // Run 2 after fixing the row: only that row is offered, into a second file; the first
    // file is left exactly as it was, and the earlier rows point to it.
    std::fs::write(
        &rows,
        format!(
            "{header}{good}Park Seoyeon,1988-01-20,Seoul,Jongno-gu,SC-2026-000003,SC-2026-000003\n"
        ),
    )
    .unwrap();
    let second = ok(&strs(&batch));
    assert!(
        second.starts_with("1 offered, 2 already offered earlier, 0 rejected"),
        "{second}"
    );
    let files = offers_files(&rows_dir);
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(
        std::fs::read(&run1_path).unwrap(),
        run1_bytes,
        "run 1's file is intact"
    );
    let run2 = offers_rows(&rows_dir.join(&files[1]));
    assert_eq!(run2.len(), 3);
    for (earlier, again) in run1[..2].iter().zip(&run2[..2]) {
        assert_eq!(again[0], earlier[0]);
        assert_eq!(again[1], earlier[1], "the same offer, not a new one");
        assert_eq!(again[4], "offered_earlier");
        assert!(again[2].is_empty() && again[3].is_empty());
        assert!(
            again[5].contains(&files[0]),
            "names run 1's file: {}",
            again[5]
        );
        assert!(again[5].contains("now open"), "{}", again[5]);
    }
    assert_eq!(run2[2][0], "4");
    assert_eq!(run2[2][4], "offered");
    assert_eq!(run2[2][2].len(), 6);
    assert!(!run1.iter().any(|r| r[1] == run2[2][1]));

    // Naming the first file as `--out` is refused before anything is offered.
    let mut onto_run1 = batch.clone();
    onto_run1.extend(["--out".to_owned(), run1_path.to_str().unwrap().to_owned()]);
    let refused = dojang(&strs(&onto_run1));
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(std::fs::read(&run1_path).unwrap(), run1_bytes);
    assert_eq!(offers_files(&rows_dir).len(), 2);

    // A third run offers nothing; each row says which file holds its codes.
    let third = ok(&strs(&batch));
    assert!(
        third.starts_with("0 offered, 3 already offered earlier"),
        "{third}"
    );
    let files = offers_files(&rows_dir);
    let run3 = offers_rows(&rows_dir.join(&files[2]));
    assert!(run3[0][5].contains(&files[0]) && run3[2][5].contains(&files[1]));

    // The CSV format is documented in the subcommand's help.
    let help = ok(&["issuer", "batch", "--help"]);
    for expected in [
        "_subject",
        "_subject_name",
        "_subject_birth_date",
        "_idempotency_key",
        "card_number*",
        "offers-<type>-<YYYY-MM-DD>-<n>.csv",
    ] {
        assert!(help.contains(expected), "{expected} not in:\n{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_finds_a_credential_and_revokes_it_by_offer_id() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (_registry, _, common) = seoul_office(dir.path(), None);
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    std::fs::write(
        p("citizens.csv"),
        "name,birthdate,address.locality,address.region,card_number,_subject,_subject_name,_subject_birth_date\n\
         Kim Minji,1994-03-15,Seoul,Mapo-gu,SC-2026-000001,SC-2026-000001,,\n\
         Lee Jiho,1990-07-02,Seoul,Jung-gu,SC-2026-000002,,Lee Jiho,1990-07-02\n\
         Park Seoyeon,1988-01-20,Seoul,Jongno-gu,SC-2026-000003,SC-2026-000003,,\n",
    )
    .unwrap();
    ok(&strs(&with(
        &[
            "issuer",
            "batch",
            "--issuer",
            "seoul",
            "--type",
            "citizen-card",
            "--file",
            &p("citizens.csv"),
            "--out",
            &p("offers.csv"),
            "--public-url",
            &public,
        ],
        &common,
    )));
    let offers = offers_rows(std::path::Path::new(&p("offers.csv")));
    let (kim_offer, lee_offer, park_offer) = (&offers[0][1], &offers[1][1], &offers[2][1]);

    let listen = format!("127.0.0.1:{port}");
    let (_issuer, _) = spawn(&strs(&with(
        &[
            "issuer",
            "serve",
            "--listen",
            &listen,
            "--public-url",
            &public,
        ],
        &common,
    )));
    let wallet_file = p("wallet.db");
    let secret = [("DOJANG_WALLET_SECRET", "citizen secret")];
    let wallet = |args: &[&str]| {
        ok_with(
            &[&["wallet", "--wallet", wallet_file.as_str()][..], args].concat(),
            &secret,
        )
    };
    wallet(&["init"]);
    for row in &offers[..2] {
        wallet(&["receive", &row[3], "--tx-code", &row[2]]);
    }

    let list = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut all = vec!["issuer", "list", "--issuer", "seoul", "--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&ok(&strs(&with(&all, &common)))).unwrap()
    };
    let offer_ids = |found: &[serde_json::Value]| -> Vec<String> {
        found
            .iter()
            .map(|c| c["offer_id"].as_str().unwrap().to_owned())
            .collect()
    };

    // Everything issued, newest first, each with the offer it came from.
    let all = list(&[]);
    assert_eq!(all.len(), 2, "{all:?}");
    let mut ids = offer_ids(&all);
    ids.sort();
    let mut expected = vec![kim_offer.clone(), lee_offer.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let kim = list(&["--offer", kim_offer]);
    assert_eq!(offer_ids(&kim), [kim_offer.as_str()]);
    let kim_id = kim[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(kim[0]["type"], "citizen-card");
    assert_eq!(kim[0]["status"], "valid");

    // A citizen by card number, typed as a clerk might; by name and birth date.
    assert_eq!(
        offer_ids(&list(&["--card-number", " sc 2026-000001 "])),
        [kim_offer.as_str()]
    );
    assert_eq!(
        offer_ids(&list(&["--name", "LEE  JIHO", "--birth-date", "19900702"])),
        [lee_offer.as_str()]
    );
    assert!(list(&["--name", "Lee Jiho", "--birth-date", "1990-07-03"]).is_empty());
    assert!(
        list(&["--card-number", "SC-2026-000003"]).is_empty(),
        "offered, not yet issued"
    );

    // By type and issuance day (KST).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let kst_day = |at: i64| {
        // Days to a civil date (Howard Hinnant), for the test's own reckoning.
        let z = (at + 9 * 3600).div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!("{y:04}-{m:02}-{d:02}")
    };
    let today = kst_day(now);
    let yesterday = kst_day(now - 86_400);
    assert_eq!(
        list(&["--type", "citizen-card", "--issued-on", &today]).len(),
        2
    );
    assert!(list(&["--type", "qualification"]).is_empty());
    assert!(list(&["--issued-on", &yesterday]).is_empty());
    assert_eq!(
        list(&["--issued-from", &yesterday, "--issued-to", &today]).len(),
        2
    );
    assert!(list(&["--issued-to", &yesterday]).is_empty());

    // The table a clerk reads.
    let table = ok(&strs(&with(
        &["issuer", "list", "--issuer", "seoul"],
        &common,
    )));
    assert!(table.starts_with("CREDENTIAL"), "{table}");
    assert!(
        table.contains(&kim_id) && table.contains(kim_offer.as_str()),
        "{table}"
    );
    assert!(table.contains("2 credential(s)"), "{table}");
    let limited = ok(&strs(&with(
        &["issuer", "list", "--issuer", "seoul", "--limit", "1"],
        &common,
    )));
    assert!(limited.contains("showing the newest 1"), "{limited}");
    let none = ok(&strs(&with(
        &["issuer", "list", "--issuer", "seoul", "--status", "revoked"],
        &common,
    )));
    assert!(none.starts_with("no credentials match"), "{none}");

    // Revoke by the offer id the clerk was given; suspend and lift by offer id too.
    let revoked = ok(&strs(&with(
        &[
            "issuer", "revoke", "--issuer", "seoul", "--offer", kim_offer, "--reason", "lost",
        ],
        &common,
    )));
    assert!(
        revoked.contains(&format!("{kim_id} is now Revoked")),
        "{revoked}"
    );
    assert_eq!(
        offer_ids(&list(&["--status", "revoked"])),
        [kim_offer.as_str()]
    );
    assert_eq!(
        offer_ids(&list(&["--status", "valid"])),
        [lee_offer.as_str()]
    );
    let suspended = ok(&strs(&with(
        &[
            "issuer",
            "suspend",
            "--issuer",
            "seoul",
            "--offer",
            lee_offer,
            "--reason",
            "investigation",
        ],
        &common,
    )));
    assert!(suspended.contains("is now Suspended"), "{suspended}");
    let lifted = ok(&strs(&with(
        &[
            "issuer",
            "unsuspend",
            "--issuer",
            "seoul",
            "--offer",
            lee_offer,
            "--reason",
            "resolved",
        ],
        &common,
    )));
    assert!(lifted.contains("is now Valid"), "{lifted}");

    // An offer not redeemed yet has nothing to revoke; another office's list does not exist here.
    let open = dojang(&strs(&with(
        &[
            "issuer", "revoke", "--issuer", "seoul", "--offer", park_offer, "--reason", "lost",
        ],
        &common,
    )));
    assert_eq!(open.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&open.stderr);
    assert!(
        stderr.contains("is open: no credential was issued"),
        "{stderr}"
    );
    let elsewhere = dojang(&strs(&with(
        &["issuer", "list", "--issuer", "mois"],
        &common,
    )));
    assert_eq!(elsewhere.status.code(), Some(2));

    // The wallet sees the revocation.
    let refreshed = wallet(&["refresh"]);
    assert!(refreshed.contains("revoked"), "{refreshed}");

    // The office's database holds no card number or name in clear.
    for entry in std::fs::read_dir(p("issuer")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for needle in ["SC-2026-000001", "SC2026000001", "Lee Jiho", "leejiho"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} in the issuer's files"
            );
        }
    }
}

/// The same search and revocation by offer id with the office's database on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_finds_and_revokes_on_postgres() {
    let Some(database) = common::postgres_database("clerk").await else {
        return;
    };
    let database_url = database.url.clone();

    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (_registry, _, common) = seoul_office(dir.path(), Some(&database_url));
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    std::fs::write(
        p("citizens.csv"),
        "name,birthdate,address.locality,address.region,card_number,_subject,_subject_name,_subject_birth_date\n\
         Kim Minji,1994-03-15,Seoul,Mapo-gu,SC-2026-000001,SC-2026-000001,,\n\
         Lee Jiho,1990-07-02,Seoul,Jung-gu,SC-2026-000002,,Lee Jiho,1990-07-02\n",
    )
    .unwrap();
    let batch = with(
        &[
            "issuer",
            "batch",
            "--issuer",
            "seoul",
            "--type",
            "citizen-card",
            "--file",
            &p("citizens.csv"),
            "--public-url",
            &public,
        ],
        &common,
    );
    ok(&strs(&batch));
    assert!(ok(&strs(&batch)).starts_with("0 offered, 2 already offered earlier"));
    let files = offers_files(dir.path());
    let offers = offers_rows(&dir.path().join(&files[0]));
    let (kim_offer, lee_offer) = (&offers[0][1], &offers[1][1]);

    let listen = format!("127.0.0.1:{port}");
    let (issuer_server, _) = spawn(&strs(&with(
        &[
            "issuer",
            "serve",
            "--listen",
            &listen,
            "--public-url",
            &public,
        ],
        &common,
    )));
    let wallet_file = p("wallet.db");
    let secret = [("DOJANG_WALLET_SECRET", "citizen secret")];
    ok_with(&["wallet", "--wallet", &wallet_file, "init"], &secret);
    for row in &offers {
        ok_with(
            &[
                "wallet",
                "--wallet",
                &wallet_file,
                "receive",
                &row[3],
                "--tx-code",
                &row[2],
            ],
            &secret,
        );
    }

    let list = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["issuer", "list", "--issuer", "seoul", "--json"];
        all.extend_from_slice(args);
        let found: Vec<serde_json::Value> =
            serde_json::from_str(&ok(&strs(&with(&all, &common)))).unwrap();
        found
            .iter()
            .map(|c| c["offer_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(list(&[]).len(), 2);
    assert_eq!(
        list(&["--card-number", "sc2026000001"]),
        [kim_offer.as_str()]
    );
    assert_eq!(
        list(&[
            "--name",
            "lee jiho",
            "--birth-date",
            "1990.7.2",
            "--status",
            "valid"
        ]),
        [lee_offer.as_str()]
    );
    assert_eq!(
        list(&[
            "--offer",
            lee_offer,
            "--type",
            "citizen-card",
            "--issued-from",
            "2000-01-01"
        ]),
        [lee_offer.as_str()]
    );
    assert!(list(&["--issued-to", "2000-01-01"]).is_empty());
    let revoked = ok(&strs(&with(
        &[
            "issuer", "revoke", "--issuer", "seoul", "--offer", kim_offer, "--reason", "stolen",
        ],
        &common,
    )));
    assert!(revoked.contains("is now Revoked"), "{revoked}");
    assert_eq!(list(&["--status", "revoked"]), [kim_offer.as_str()]);

    drop(issuer_server);
}
