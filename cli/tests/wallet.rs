//! `dojang wallet` against a running platform: statuses are current when shown and presented,
//! and a backup restores on a new device.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{dojang_with, spawn};

#[tokio::test]
async fn a_revoked_card_is_listed_as_revoked_and_presented_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let (_server, base) = spawn(&["up", "--data-dir", data, "--listen", "127.0.0.1:0"]);
    let token = std::fs::read_to_string(dir.path().join("data").join("demo-token")).unwrap();
    let token = token.trim();
    let http = reqwest::Client::new();
    let offer: serde_json::Value = http
        .post(format!("{base}/console/api/offers"))
        .bearer_auth(token)
        .json(&serde_json::json!({"type": "citizen-card"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let wallet = dir.path().join("phone.db");
    let wallet = wallet.to_str().unwrap().to_owned();
    let env = [
        ("DOJANG_WALLET_SECRET", "citizen secret"),
        ("DOJANG_BACKUP_SECRET", "backup secret"),
    ];
    // The CLI blocks: run it off the async threads the test's requests need.
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            dojang_with(&args, &env)
        })
    };
    let args = |list: &[&str]| -> Vec<String> {
        ["wallet", "--wallet", &wallet]
            .iter()
            .chain(list)
            .map(|s| s.to_string())
            .collect()
    };
    assert!(run(args(&["init"])).await.unwrap().status.success());
    let received = run(args(&[
        "receive",
        offer["uri"].as_str().unwrap(),
        "--tx-code",
        offer["tx_code"].as_str().unwrap(),
    ]))
    .await
    .unwrap();
    assert!(
        received.status.success(),
        "{}",
        String::from_utf8_lossy(&received.stderr)
    );
    let id = String::from_utf8(received.stdout)
        .unwrap()
        .trim()
        .to_owned();
    let listed = String::from_utf8(run(args(&["list"])).await.unwrap().stdout).unwrap();
    assert!(listed.contains("valid"), "{listed}");

    // The office revokes it.
    let issued: serde_json::Value = http
        .get(format!("{base}/console/api/credentials"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let credential = &issued[0];
    let revoked = http
        .post(format!(
            "{base}/console/api/credentials/{}/{}/revoke",
            credential["issuer"].as_str().unwrap(),
            credential["id"].as_str().unwrap()
        ))
        .bearer_auth(token)
        .json(&serde_json::json!({"reason": "lost"}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200, "{}", revoked.text().await.unwrap());

    // Listing asks the issuer's list first: revoked, not the stale "valid".
    let listed = String::from_utf8(run(args(&["list"])).await.unwrap().stdout).unwrap();
    assert!(listed.contains("revoked"), "{listed}");
    let presented = run(args(&["present", &id, "--disclose", "name", "--text"]))
        .await
        .unwrap();
    assert!(presented.status.success());
    let warning = String::from_utf8_lossy(&presented.stderr);
    assert!(
        warning.contains("warning: its issuer has marked this credential revoked"),
        "{warning}"
    );
    // Offline, the last known status stands.
    let offline =
        String::from_utf8(run(args(&["--offline", "list"])).await.unwrap().stdout).unwrap();
    assert!(offline.contains("revoked"), "{offline}");

    // A backup restores onto a new device without `init` first; a wrong backup secret leaves
    // no wallet behind.
    let backup = dir.path().join("backup.json");
    let backup = backup.to_str().unwrap().to_owned();
    assert!(
        run(args(&["backup", "--out", &backup]))
            .await
            .unwrap()
            .status
            .success()
    );
    let new_phone = dir.path().join("new-phone.db");
    let new_phone = new_phone.to_str().unwrap().to_owned();
    let wrong = tokio::task::spawn_blocking({
        let (new_phone, backup) = (new_phone.clone(), backup.clone());
        move || {
            dojang_with(
                &["wallet", "--wallet", &new_phone, "restore", &backup],
                &[
                    ("DOJANG_WALLET_SECRET", "citizen secret"),
                    ("DOJANG_BACKUP_SECRET", "not the backup secret"),
                ],
            )
        }
    })
    .await
    .unwrap();
    assert!(!wrong.status.success());
    assert!(!std::path::Path::new(&new_phone).exists());
    let restored = run(vec![
        "wallet".into(),
        "--wallet".into(),
        new_phone.clone(),
        "restore".into(),
        backup,
    ])
    .await
    .unwrap();
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let listed = run(vec![
        "wallet".into(),
        "--wallet".into(),
        new_phone,
        "--offline".into(),
        "list".into(),
    ])
    .await
    .unwrap();
    assert!(String::from_utf8(listed.stdout).unwrap().contains(&id));
}
