//! The encrypted store on real files: secrets, damage, deletion, backup, key vaults, QR
//! presentations, and a SIGKILL in the middle of writing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use dojang_core::compact::{self, ChallengeRequest, VerifyOptions};
use dojang_core::key::{Algorithm, PublicKey, SecretKey, Signer};
use dojang_core::seal::KdfParams;
use dojang_core::status::StatusListReference;
use dojang_core::{Did, b64};
use dojang_schemas::{Catalog, Issuance};
use dojang_wallet::{
    HolderKeyRef, KeyVault, PresentationMode, StoredCredential, Wallet, WalletError,
};

const FAST: KdfParams = KdfParams::INSECURE_FOR_TESTS;

/// A compact citizen card issued by `issuer` to `holder`, as the wallet stores it.
fn credential(
    id: &str,
    issuer: &SecretKey,
    holder: &PublicKey,
    key: HolderKeyRef,
) -> StoredCredential {
    let ty = Catalog::builtin().get("citizen-card").unwrap();
    let draft = ty
        .draft(
            ty.example().clone(),
            Issuance {
                issuer: Did::key(issuer.public_key()).to_string(),
                issued_at: now(),
                valid_until: None,
                holder_key: Some(holder.clone()),
                status: Some(StatusListReference {
                    idx: 4,
                    uri: "https://registry.example/status-lists/seoul-1".into(),
                }),
            },
        )
        .unwrap();
    let kid = format!(
        "{}#{}",
        draft.issuer,
        draft.issuer.trim_start_matches("did:key:")
    );
    StoredCredential {
        id: id.into(),
        issuer: draft.issuer.clone(),
        issuer_name: Some("Seoul Metropolitan Government".into()),
        credential_issuer: "https://issuer.example/issuers/seoul".into(),
        vct: draft.vct.clone(),
        name: Some("Seoul Citizen Card".into()),
        key,
        sd_jwt: Some(draft.sign(issuer, &kid).unwrap()),
        compact: Some(b64::encode(compact::issue(&draft, issuer, &kid).unwrap())),
        mdoc: None,
        received_at: now(),
        status: None,
    }
}

async fn holder_public(wallet: &Wallet, key: &HolderKeyRef) -> PublicKey {
    wallet.signer(key).await.unwrap().public_key().clone()
}

/// A wallet at `path` holding one credential.
async fn wallet_with_card(path: &Path, secret: &[u8]) -> (Wallet, StoredCredential, SecretKey) {
    let wallet = Wallet::create(path, secret, FAST).await.unwrap();
    let key = wallet.new_key(Algorithm::Es256).await.unwrap();
    let issuer = SecretKey::generate(Algorithm::Es256).unwrap();
    let card = credential("card-1", &issuer, &holder_public(&wallet, &key).await, key);
    wallet.put(&card).await.unwrap();
    (wallet, card, issuer)
}

#[tokio::test]
async fn the_right_secret_opens_and_a_wrong_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.db");
    let (wallet, card, _) = wallet_with_card(&path, b"correct horse").await;
    assert_eq!(wallet.credential("card-1").await.unwrap(), card);
    drop(wallet);

    assert!(matches!(
        Wallet::open(&path, b"wrong horse").await,
        Err(WalletError::WrongSecret)
    ));
    assert!(matches!(
        Wallet::create(&path, b"other", FAST).await,
        Err(WalletError::AlreadyExists { .. })
    ));
    let wallet = Wallet::open(&path, b"correct horse").await.unwrap();
    assert_eq!(
        wallet.credential("card-1").await.unwrap(),
        card,
        "still there, unchanged"
    );
    let list = wallet.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "Seoul Citizen Card");
    assert_eq!(list[0].formats, ["dc+sd-jwt", "dojang-qr"]);
    let (claims, disclosable) = card.claims().unwrap();
    assert_eq!(claims["name"], "김민지 Kim Minji");
    assert_eq!(disclosable.len(), 8);

    // Nothing readable in the file: no claim, no key.
    drop(wallet);
    let raw = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(
        !text.contains("Kim Minji") && !text.contains("SC-2026"),
        "claims in the clear"
    );
    assert!(matches!(
        Wallet::open(&dir.path().join("none.db"), b"x").await,
        Err(WalletError::NotFound { .. })
    ));
}

#[tokio::test]
async fn damaged_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Not a database at all.
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    let error = Wallet::open(&garbage, b"secret").await.err().unwrap();
    assert!(
        error.to_string().contains("not an SQLite database"),
        "{error}"
    );

    // A real wallet cut in half.
    let path = dir.path().join("wallet.db");
    let (wallet, _, _) = wallet_with_card(&path, b"secret").await;
    drop(wallet);
    let bytes = std::fs::read(&path).unwrap();
    let truncated = dir.path().join("truncated.db");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let error = Wallet::open(&truncated, b"secret").await.err().unwrap();
    assert!(matches!(error, WalletError::Corrupt { .. }), "{error}");

    // One sealed record altered, or moved to another row: that record is refused, clearly.
    use sqlx::Connection as _;
    let url = format!("sqlite://{}", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (sealed,): (String,) =
        sqlx::query_as("SELECT sealed FROM wallet_credentials WHERE id = 'card-1'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO wallet_credentials (id, sealed, received_at) VALUES ('card-2', $1, 0)",
    )
    .bind(&sealed)
    .execute(&mut conn)
    .await
    .unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&sealed).unwrap();
    let ciphertext = value["ciphertext"].as_str().unwrap().to_owned();
    let flipped = format!(
        "{}{}",
        if ciphertext.starts_with('A') {
            "B"
        } else {
            "A"
        },
        &ciphertext[1..]
    );
    value["ciphertext"] = flipped.into();
    sqlx::query("UPDATE wallet_credentials SET sealed = $1 WHERE id = 'card-1'")
        .bind(value.to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let wallet = Wallet::open(&path, b"secret").await.unwrap();
    assert!(matches!(
        wallet.credential("card-1").await,
        Err(WalletError::Corrupt { .. })
    ));
    assert!(
        matches!(
            wallet.credential("card-2").await,
            Err(WalletError::Corrupt { .. })
        ),
        "a record copied to another row does not open there"
    );
}

#[tokio::test]
async fn a_new_secret_reencrypts_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.db");
    let (mut wallet, card, _) = wallet_with_card(&path, b"old secret").await;
    wallet
        .present_qr("card-1", &["name"], None, now())
        .await
        .unwrap();
    let before: Vec<String> = sealed_values(&path).await;
    wallet.change_secret(b"new secret", FAST).await.unwrap();
    assert_eq!(
        wallet.credential("card-1").await.unwrap(),
        card,
        "still readable"
    );
    drop(wallet);
    let after = sealed_values(&path).await;
    assert_eq!(before.len(), after.len());
    assert!(
        before.iter().all(|b| !after.contains(b)),
        "every record re-encrypted"
    );
    assert!(matches!(
        Wallet::open(&path, b"old secret").await,
        Err(WalletError::WrongSecret)
    ));
    let wallet = Wallet::open(&path, b"new secret").await.unwrap();
    assert_eq!(wallet.credential("card-1").await.unwrap(), card);
    assert_eq!(wallet.history(Some("card-1")).await.unwrap().len(), 1);
    wallet
        .present_qr("card-1", &["age_over_19"], None, now())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_backup_restores_on_another_device() {
    let dir = tempfile::tempdir().unwrap();
    let (phone, card, issuer) = wallet_with_card(&dir.path().join("phone.db"), b"phone").await;
    phone
        .present_qr("card-1", &["name"], None, now())
        .await
        .unwrap();
    let backup = phone
        .export_backup(b"backup passphrase", FAST)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&backup).contains("Kim Minji"));

    let tablet = Wallet::create(&dir.path().join("tablet.db"), b"tablet", FAST)
        .await
        .unwrap();
    let error = tablet.import_backup(&backup, b"guess").await.unwrap_err();
    assert!(matches!(error, WalletError::Backup { .. }), "{error}");
    assert!(
        tablet.list().await.unwrap().is_empty(),
        "a refused backup adds nothing"
    );
    assert!(matches!(
        tablet.import_backup(b"{\"not\": \"a backup\"}", b"x").await,
        Err(WalletError::Backup { .. })
    ));

    assert_eq!(
        tablet
            .import_backup(&backup, b"backup passphrase")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tablet
            .import_backup(&backup, b"backup passphrase")
            .await
            .unwrap(),
        0,
        "idempotent"
    );
    assert_eq!(tablet.credential("card-1").await.unwrap(), card);
    assert_eq!(tablet.history(None).await.unwrap().len(), 1);
    // The holder key came along: the tablet presents, and the issuer's key verifies it.
    let presentation = tablet
        .present_qr("card-1", &["name"], None, now())
        .await
        .unwrap();
    let verified = compact::verify(
        &presentation,
        issuer.public_key(),
        &VerifyOptions::at(now()),
    )
    .unwrap();
    assert_eq!(verified.claims["name"], "김민지 Kim Minji");
}

#[tokio::test]
async fn deleting_removes_the_credential_its_key_and_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.db");
    let (wallet, card, _) = wallet_with_card(&path, b"s").await;
    wallet
        .present_qr("card-1", &["name"], None, now())
        .await
        .unwrap();
    assert!(wallet.delete("card-1").await.unwrap());
    assert!(!wallet.delete("card-1").await.unwrap(), "already gone");
    assert!(matches!(
        wallet.credential("card-1").await,
        Err(WalletError::UnknownCredential { .. })
    ));
    assert!(wallet.history(None).await.unwrap().is_empty());
    assert!(
        wallet.signer(&card.key).await.is_err(),
        "its key is gone too"
    );
}

#[tokio::test]
async fn qr_presentations_bind_the_chosen_claims_and_the_challenge() {
    let dir = tempfile::tempdir().unwrap();
    let (wallet, _, issuer) = wallet_with_card(&dir.path().join("w.db"), b"s").await;
    let at = now();
    let shown = wallet
        .present_qr(
            "card-1",
            &["name", "age_over_19", "portrait_sha256", "card_number"],
            None,
            at,
        )
        .await
        .unwrap();
    let verified = compact::verify(&shown, issuer.public_key(), &VerifyOptions::at(at)).unwrap();
    let mut names: Vec<&str> = verified.claims.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["age_over_19", "card_number", "name", "portrait_sha256"]
    );

    // Challenge mode, from the verifier's QR text.
    let request = ChallengeRequest::new("counter-17.mapo.seoul.go.kr").unwrap();
    let scanned = ChallengeRequest::from_qr_text(&request.to_qr_text()).unwrap();
    let answer = wallet
        .present_qr("card-1", &["age_over_19"], Some(&scanned), at + 1)
        .await
        .unwrap();
    let options = VerifyOptions {
        challenge: Some(request.challenge()),
        ..VerifyOptions::at(at)
    };
    assert!(compact::verify(&answer, issuer.public_key(), &options).is_ok());

    // The PNG the wallet draws reads back (rqrr) to exactly the payload.
    let text = compact::to_qr_text(&answer);
    let png = dojang_wallet::qr::to_png(&text).unwrap();
    let read = dojang_wallet::qr::read_image(&png).unwrap();
    assert_eq!(read, text);
    assert_eq!(compact::from_qr_text(&read).unwrap(), answer);
    assert!(
        dojang_wallet::qr::to_svg(&text)
            .unwrap()
            .starts_with("<?xml")
    );
    assert!(
        dojang_wallet::qr::to_terminal(&text)
            .unwrap()
            .lines()
            .count()
            > 20
    );
    assert!(dojang_wallet::qr::read_image(b"not an image").is_err());

    let history = wallet.history(Some("card-1")).await.unwrap();
    let modes: Vec<PresentationMode> = history.iter().map(|h| h.presentation.clone()).collect();
    assert_eq!(
        modes,
        [
            PresentationMode::QrChallenge {
                audience: "counter-17.mapo.seoul.go.kr".into()
            },
            PresentationMode::QrTimeWindow
        ],
        "newest first"
    );
    assert_eq!(history[0].disclosed, ["age_over_19"]);
    assert!(matches!(
        wallet
            .present_qr("card-1", &["nonexistent"], None, at)
            .await,
        Err(WalletError::Credential(
            compact::CompactError::NotDisclosable { .. }
        ))
    ));
}

/// A key vault standing in for a secure element: keys never enter the wallet file.
#[derive(Default)]
struct Enclave {
    keys: Mutex<HashMap<String, Arc<SecretKey>>>,
    signatures: Arc<Mutex<usize>>,
}

struct EnclaveSigner {
    key: Arc<SecretKey>,
    signatures: Arc<Mutex<usize>>,
}

impl Signer for EnclaveSigner {
    fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, dojang_core::key::SignError> {
        *self.signatures.lock().unwrap() += 1;
        self.key.sign(message)
    }
}

impl KeyVault for Enclave {
    fn create(&self, alg: Algorithm) -> Result<HolderKeyRef, WalletError> {
        let key = SecretKey::generate(alg)?;
        let handle = format!("enclave-{}", self.keys.lock().unwrap().len());
        let did = Did::jwk(key.public_key()).to_string();
        self.keys
            .lock()
            .unwrap()
            .insert(handle.clone(), Arc::new(key));
        Ok(HolderKeyRef::Vault { handle, did })
    }
    fn signer(&self, handle: &str, _did: &str) -> Result<Box<dyn Signer>, WalletError> {
        let key = self
            .keys
            .lock()
            .unwrap()
            .get(handle)
            .cloned()
            .ok_or_else(|| WalletError::Protocol(format!("no key {handle} in the enclave")))?;
        Ok(Box::new(EnclaveSigner {
            key,
            signatures: self.signatures.clone(),
        }))
    }
}

#[tokio::test]
async fn a_key_vault_holds_the_holder_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let enclave = Arc::new(Enclave::default());
    let signatures = enclave.signatures.clone();
    let wallet = Wallet::create(&path, b"s", FAST)
        .await
        .unwrap()
        .with_vault(enclave);
    let key = wallet.new_key(Algorithm::EdDsa).await.unwrap();
    assert!(matches!(&key, HolderKeyRef::Vault { handle, .. } if handle == "enclave-0"));
    assert!(key.did().starts_with("did:jwk:"));
    let issuer = SecretKey::generate(Algorithm::Es256).unwrap();
    let card = credential("card-1", &issuer, &holder_public(&wallet, &key).await, key);
    wallet.put(&card).await.unwrap();
    let shown = wallet
        .present_qr("card-1", &["name"], None, now())
        .await
        .unwrap();
    assert!(compact::verify(&shown, issuer.public_key(), &VerifyOptions::at(now())).is_ok());
    assert_eq!(
        *signatures.lock().unwrap(),
        1,
        "the enclave signed the presentation"
    );
    let count: i64 = {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM wallet_keys")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(count, 0, "no key material in the wallet file");

    // Reopened without the vault, the wallet says where the key is.
    drop(wallet);
    let bare = Wallet::open(&path, b"s").await.unwrap();
    assert!(matches!(
        bare.present_qr("card-1", &["name"], None, now()).await,
        Err(WalletError::Protocol(message)) if message.contains("key vault")
    ));
}

const CHILD_ENV: &str = "DOJANG_WALLET_CRASH_CHILD";

/// The child: stores credentials and changes the secret, printing each acknowledgement.
#[tokio::test]
async fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let issuer = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let mut wallet = Wallet::create(Path::new(&path), b"secret-0", FAST)
        .await
        .unwrap();
    println!("created");
    let mut generation = 0;
    for n in 0.. {
        let key = wallet.new_key(Algorithm::EdDsa).await.unwrap();
        let id = format!("card-{n}");
        let card = credential(&id, &issuer, &holder_public(&wallet, &key).await, key);
        wallet.put(&card).await.unwrap();
        println!("stored {id}");
        if n % 5 == 4 {
            generation += 1;
            wallet
                .change_secret(format!("secret-{generation}").as_bytes(), FAST)
                .await
                .unwrap();
            println!("secret {generation}");
        }
    }
}

#[tokio::test]
async fn a_sigkill_mid_write_loses_nothing_stored() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stored = Vec::new();
    let mut generation = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("stored ") {
            stored.push(id.to_owned());
        } else if let Some(g) = line.strip_prefix("secret ") {
            generation = g.parse().unwrap();
        }
        if stored.len() >= 24 {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructors, no flushing
    child.wait().unwrap();
    assert!(stored.len() >= 24);

    // The secret in force is the last acknowledged one, or the next if its change committed
    // just before the kill.
    let wallet = match Wallet::open(&path, format!("secret-{generation}").as_bytes()).await {
        Ok(wallet) => wallet,
        Err(WalletError::WrongSecret) => {
            Wallet::open(&path, format!("secret-{}", generation + 1).as_bytes())
                .await
                .unwrap()
        }
        Err(e) => panic!("{e}"),
    };
    for id in &stored {
        let card = wallet.credential(id).await.unwrap();
        wallet.signer(&card.key).await.unwrap();
    }
}

async fn sealed_values(path: &Path) -> Vec<String> {
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mut all = Vec::new();
    for table in ["wallet_keys", "wallet_credentials", "wallet_history"] {
        let rows: Vec<(String,)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT sealed FROM {table}")))
                .fetch_all(&mut conn)
                .await
                .unwrap();
        all.extend(rows.into_iter().map(|(s,)| s));
    }
    all
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
