//! The encrypted store: one SQLite file.
//!
//! The wallet talks to SQLite directly (`SqlitePool`), not through the `Any` driver the
//! services use for SQLite-or-PostgreSQL: a phone has only SQLite, and this way the queries
//! are checked at build time (`sqlx::query!`) against the schema in `holder-wallet/migrations/`.
//!
//! The checked queries build from the committed `holder-wallet/.sqlx/` data, never from a live
//! database (`holder-wallet/.env` sets `SQLX_OFFLINE=true`, so a `DATABASE_URL` meant for the
//! services is not used). After changing a query or adding a migration, regenerate that data
//! from `holder-wallet/`:
//!
//! ```sh
//! cargo install sqlx-cli --version 0.9.0 --no-default-features --features sqlite
//! export DATABASE_URL=sqlite://$(mktemp -d)/prepare.db
//! cargo sqlx database setup   # creates the file and applies ./migrations
//! cargo sqlx prepare          # rewrites ./.sqlx; commit it
//! ```
//!
//! `cargo sqlx prepare --check` (same `DATABASE_URL`) says whether the committed data is current;
//! a query without data fails the build anyway.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use dojang_core::clock::unix_now as now;
use dojang_core::compact::{self, Binding, ChallengeRequest, HeldCompact};
use dojang_core::key::{Algorithm, SecretKey, Signer};
use dojang_core::seal::{KdfParams, KeyDerivation, SealKey, Sealed};
use dojang_core::{b64, did};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use zeroize::Zeroizing;

use crate::WalletError;
use crate::keys::{HolderKeyRef, KeyRecord, KeyVault};

/// What the check value decrypts to.
const CHECK: &[u8] = b"dojang wallet v1";

/// The wallet's schema. `3001_wallet.sql` is a byte-for-byte copy of the file the shared
/// `dojang-migrations` crate used to apply (`sqlite/wallet/`), so its version and checksum in
/// an existing wallet's `_sqlx_migrations` match and those wallets open unchanged (pinned by
/// the test below). Never edit an applied migration: add a new one.
static MIGRATOR: Migrator = sqlx::migrate!();

/// A credential as the wallet keeps it: every format received, the key it is bound to, and
/// the last status seen.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredCredential {
    /// The wallet's id for it.
    pub id: String,
    /// The issuer's DID.
    pub issuer: String,
    /// The issuer's display name, from its metadata.
    pub issuer_name: Option<String>,
    /// The OpenID4VCI credential issuer URL it came from.
    pub credential_issuer: String,
    /// The credential type.
    pub vct: String,
    /// The type's display name, from the issuer's metadata.
    pub name: Option<String>,
    /// The holder key it is bound to.
    pub key: HolderKeyRef,
    /// The SD-JWT VC, for online presentations.
    pub sd_jwt: Option<String>,
    /// The compact credential (base64url), for QR presentations.
    pub compact: Option<String>,
    /// The ISO 18013-5 mdoc (its IssuerSigned, base64url), for `mso_mdoc` presentations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mdoc: Option<String>,
    /// When it was received.
    pub received_at: i64,
    /// The last status list snapshot fetched for it.
    pub status: Option<StatusSnapshot>,
}

/// A status list as last fetched: the signed token itself, so it can be shown to a verifier
/// that has no fresher one, and what it said about this credential.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatusSnapshot {
    /// The status list token (a signed JWT).
    pub token: String,
    /// When it was fetched.
    pub fetched_at: i64,
    /// The credential's status in it: `valid`, `revoked`, `suspended`.
    pub status: String,
}

/// One line of `list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CredentialSummary {
    /// The wallet's id.
    pub id: String,
    /// Display name (or the type).
    pub name: String,
    /// Issuer display name (or DID).
    pub issuer: String,
    /// Formats held: `dc+sd-jwt`, `dojang-qr`.
    pub formats: Vec<&'static str>,
    /// When it was received.
    pub received_at: i64,
    /// Last known status, and when it was seen.
    pub status: Option<(String, i64)>,
}

/// How a credential was shown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum PresentationMode {
    /// A QR code in time-window mode (any verifier who scans it within the window).
    QrTimeWindow,
    /// A QR code answering a verifier's challenge.
    QrChallenge {
        /// The verifier.
        audience: String,
    },
    /// An OpenID4VP response.
    OpenId4Vp {
        /// The verifier.
        client_id: String,
    },
}

/// A presentation the wallet made: the citizen's own record of what was shown to whom.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HistoryEntry {
    /// Entry id.
    pub id: String,
    /// The credential shown.
    pub credential_id: String,
    /// When.
    pub at: i64,
    /// How, and to whom.
    pub presentation: PresentationMode,
    /// The claims disclosed.
    pub disclosed: Vec<String>,
}

/// An open wallet.
pub struct Wallet {
    pool: SqlitePool,
    key: SealKey,
    path: PathBuf,
    vault: Option<Arc<dyn KeyVault>>,
}

impl Wallet {
    /// Creates a wallet file at `path`, its contents sealed under `secret`.
    pub async fn create(
        path: &Path,
        secret: &[u8],
        params: KdfParams,
    ) -> Result<Self, WalletError> {
        if path.exists() {
            return Err(WalletError::AlreadyExists {
                path: path.display().to_string(),
            });
        }
        let pool = connect(path, true).await?;
        let derivation = KeyDerivation::new(params)?;
        let key = SealKey::derive(secret, &derivation)?;
        let check = key.seal(CHECK, "dojang-wallet/check")?;
        let (kdf, check, created_at) = (json(&derivation)?, json(&check)?, now());
        sqlx::query!(
            "INSERT INTO wallet_meta (id, kdf, check_value, created_at) VALUES (1, $1, $2, $3)",
            kdf,
            check,
            created_at,
        )
        .execute(&pool)
        .await?;
        Ok(Wallet {
            pool,
            key,
            path: path.to_owned(),
            vault: None,
        })
    }

    /// Opens the wallet at `path` with `secret`. A wrong secret is [`WalletError::WrongSecret`]
    /// and changes nothing; a damaged file is [`WalletError::Corrupt`].
    pub async fn open(path: &Path, secret: &[u8]) -> Result<Self, WalletError> {
        if !path.exists() {
            return Err(WalletError::NotFound {
                path: path.display().to_string(),
            });
        }
        let pool = connect(path, false).await?;
        let row = sqlx::query!("SELECT kdf, check_value FROM wallet_meta WHERE id = 1")
            .fetch_optional(&pool)
            .await
            .map_err(corrupt)?
            .ok_or_else(|| WalletError::Corrupt {
                reason: "the file has no wallet header".into(),
            })?;
        let derivation: KeyDerivation = parse(&row.kdf)?;
        let check: Sealed = parse(&row.check_value)?;
        let key = SealKey::derive(secret, &derivation)?;
        match key.open(&check, "dojang-wallet/check") {
            Ok(plain) if plain.as_slice() == CHECK => {}
            _ => return Err(WalletError::WrongSecret),
        }
        Ok(Wallet {
            pool,
            key,
            path: path.to_owned(),
            vault: None,
        })
    }

    /// Keeps new holder keys in `vault` (a secure element) instead of the wallet file.
    pub fn with_vault(mut self, vault: Arc<dyn KeyVault>) -> Self {
        self.vault = Some(vault);
        self
    }

    /// The wallet file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    // ---- sealing

    fn seal<T: Serialize>(&self, table: &str, id: &str, value: &T) -> Result<String, WalletError> {
        let plain =
            Zeroizing::new(serde_json::to_vec(value).map_err(|e| WalletError::Corrupt {
                reason: e.to_string(),
            })?);
        json(&self.key.seal(&plain, &purpose(table, id))?)
    }

    fn unseal<T: DeserializeOwned>(
        &self,
        table: &str,
        id: &str,
        sealed: &str,
    ) -> Result<T, WalletError> {
        let plain = self.key.open(&parse(sealed)?, &purpose(table, id))?;
        serde_json::from_slice(&plain).map_err(|e| WalletError::Corrupt {
            reason: format!("{table} {id}: {e}"),
        })
    }

    // ---- keys

    /// A new holder key: in the vault if there is one, else generated and sealed here.
    pub async fn new_key(&self, alg: Algorithm) -> Result<HolderKeyRef, WalletError> {
        if let Some(vault) = &self.vault {
            return vault.create(alg);
        }
        let secret = SecretKey::generate(alg)?;
        let id = uuid::Uuid::new_v4().to_string();
        let sealed = self.seal("keys", &id, &KeyRecord::new(&secret))?;
        let created_at = now();
        sqlx::query!(
            "INSERT INTO wallet_keys (id, sealed, created_at) VALUES ($1, $2, $3)",
            id,
            sealed,
            created_at,
        )
        .execute(&self.pool)
        .await?;
        Ok(HolderKeyRef::Stored {
            id,
            did: did::Did::jwk(secret.public_key()).to_string(),
        })
    }

    /// The signer for a holder key.
    pub async fn signer(&self, key: &HolderKeyRef) -> Result<Box<dyn Signer>, WalletError> {
        match key {
            HolderKeyRef::Stored { id, .. } => {
                let sealed =
                    sqlx::query_scalar!("SELECT sealed FROM wallet_keys WHERE id = $1", id)
                        .fetch_optional(&self.pool)
                        .await?
                        .ok_or_else(|| WalletError::Corrupt {
                            reason: format!("holder key {id} is missing"),
                        })?;
                let record: KeyRecord = self.unseal("keys", id, &sealed)?;
                Ok(Box::new(record.secret_key()?))
            }
            HolderKeyRef::Vault { handle, did } => match &self.vault {
                Some(vault) => vault.signer(handle, did),
                None => Err(WalletError::Protocol(format!(
                    "holder key {handle} lives in a key vault this wallet was not opened with"
                ))),
            },
        }
    }

    // ---- credentials

    /// Stores (or replaces) a credential.
    pub async fn put(&self, credential: &StoredCredential) -> Result<(), WalletError> {
        let sealed = self.seal("credentials", &credential.id, credential)?;
        sqlx::query!(
            "INSERT INTO wallet_credentials (id, sealed, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed",
            credential.id,
            sealed,
            credential.received_at,
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A stored credential.
    pub async fn credential(&self, id: &str) -> Result<StoredCredential, WalletError> {
        let sealed = sqlx::query_scalar!("SELECT sealed FROM wallet_credentials WHERE id = $1", id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| WalletError::UnknownCredential { id: id.to_owned() })?;
        self.unseal("credentials", id, &sealed)
    }

    /// Every stored credential, oldest first.
    pub async fn credentials(&self) -> Result<Vec<StoredCredential>, WalletError> {
        let rows = sqlx::query_as!(
            SealedRow,
            r#"SELECT id AS "id!", sealed FROM wallet_credentials ORDER BY received_at, id"#
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| self.unseal("credentials", &r.id, &r.sealed))
            .collect()
    }

    /// One line per credential.
    pub async fn list(&self) -> Result<Vec<CredentialSummary>, WalletError> {
        Ok(self
            .credentials()
            .await?
            .into_iter()
            .map(|c| c.summary())
            .collect())
    }

    /// Deletes a credential, its history and its own holder key, in one transaction; `false`
    /// if there was none.
    pub async fn delete(&self, id: &str) -> Result<bool, WalletError> {
        let credential = match self.credential(id).await {
            Ok(credential) => credential,
            Err(WalletError::UnknownCredential { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        let shared_key = self
            .credentials()
            .await?
            .iter()
            .any(|c| c.id != id && c.key == credential.key);
        let mut tx = self.pool.begin().await?;
        sqlx::query!("DELETE FROM wallet_credentials WHERE id = $1", id)
            .execute(&mut *tx)
            .await?;
        sqlx::query!("DELETE FROM wallet_history WHERE credential_id = $1", id)
            .execute(&mut *tx)
            .await?;
        if let (HolderKeyRef::Stored { id: key_id, .. }, false) = (&credential.key, shared_key) {
            sqlx::query!("DELETE FROM wallet_keys WHERE id = $1", key_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    // ---- presentations

    /// The offline QR presentation of `id` disclosing `disclose`: bound to `now` (time-window
    /// mode) or answering `challenge`. Returns the presentation's bytes (see
    /// [`compact::to_qr_text`] and [`crate::qr`]) and records it in the history.
    pub async fn present_qr(
        &self,
        id: &str,
        disclose: &[&str],
        challenge: Option<&ChallengeRequest>,
        now: i64,
    ) -> Result<Vec<u8>, WalletError> {
        let credential = self.credential(id).await?;
        let compact = credential
            .compact
            .as_deref()
            .ok_or_else(|| WalletError::MissingFormat {
                id: id.to_owned(),
                format: compact::FORMAT,
            })?;
        let bytes = b64::decode(compact).map_err(|_| WalletError::Corrupt {
            reason: format!("credential {id}: compact form is not base64url"),
        })?;
        let held = HeldCompact::parse(&bytes)?;
        let signer = self.signer(&credential.key).await?;
        let binding = Binding {
            at: now,
            challenge: challenge.map(ChallengeRequest::challenge),
        };
        let presentation = held.present(disclose, &binding, signer.as_ref())?;
        let mode = match challenge {
            Some(c) => PresentationMode::QrChallenge {
                audience: c.audience.clone(),
            },
            None => PresentationMode::QrTimeWindow,
        };
        self.record(
            id,
            mode,
            disclose.iter().map(|s| (*s).to_owned()).collect(),
            now,
        )
        .await?;
        Ok(presentation)
    }

    // ---- history

    pub(crate) async fn record(
        &self,
        credential_id: &str,
        presentation: PresentationMode,
        disclosed: Vec<String>,
        at: i64,
    ) -> Result<(), WalletError> {
        let entry = HistoryEntry {
            id: uuid::Uuid::new_v4().to_string(),
            credential_id: credential_id.to_owned(),
            at,
            presentation,
            disclosed,
        };
        self.put_history(&entry, &self.pool).await
    }

    async fn put_history<'e, E>(&self, entry: &HistoryEntry, executor: E) -> Result<(), WalletError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
    {
        let sealed = self.seal("history", &entry.id, entry)?;
        sqlx::query!(
            "INSERT INTO wallet_history (id, credential_id, sealed, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO NOTHING",
            entry.id,
            entry.credential_id,
            sealed,
            entry.at,
        )
        .execute(executor)
        .await?;
        Ok(())
    }

    /// What was shown, newest first; of one credential or of all.
    pub async fn history(
        &self,
        credential_id: Option<&str>,
    ) -> Result<Vec<HistoryEntry>, WalletError> {
        let rows = sqlx::query_as!(
            SealedRow,
            r#"SELECT id AS "id!", sealed FROM wallet_history
               WHERE $1 IS NULL OR credential_id = $1 ORDER BY at DESC, id"#,
            credential_id,
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| self.unseal("history", &r.id, &r.sealed))
            .collect()
    }

    // ---- the secret

    /// Re-encrypts everything under a key derived from `new_secret`, in one transaction: if it
    /// is interrupted, the wallet opens with the old secret, as before.
    pub async fn change_secret(
        &mut self,
        new_secret: &[u8],
        params: KdfParams,
    ) -> Result<(), WalletError> {
        let derivation = KeyDerivation::new(params)?;
        let new_key = SealKey::derive(new_secret, &derivation)?;
        let reseal = |table: &str, row: &SealedRow| -> Result<String, WalletError> {
            let plain = self
                .key
                .open(&parse(&row.sealed)?, &purpose(table, &row.id))?;
            json(&new_key.seal(&plain, &purpose(table, &row.id))?)
        };
        // One pair of queries per table, spelled out so that each is checked at build time.
        let mut tx = self.pool.begin().await?;
        let keys = sqlx::query_as!(SealedRow, r#"SELECT id AS "id!", sealed FROM wallet_keys"#)
            .fetch_all(&mut *tx)
            .await?;
        for row in &keys {
            let sealed = reseal("keys", row)?;
            sqlx::query!(
                "UPDATE wallet_keys SET sealed = $1 WHERE id = $2",
                sealed,
                row.id
            )
            .execute(&mut *tx)
            .await?;
        }
        let credentials = sqlx::query_as!(
            SealedRow,
            r#"SELECT id AS "id!", sealed FROM wallet_credentials"#
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in &credentials {
            let sealed = reseal("credentials", row)?;
            sqlx::query!(
                "UPDATE wallet_credentials SET sealed = $1 WHERE id = $2",
                sealed,
                row.id
            )
            .execute(&mut *tx)
            .await?;
        }
        let history = sqlx::query_as!(
            SealedRow,
            r#"SELECT id AS "id!", sealed FROM wallet_history"#
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in &history {
            let sealed = reseal("history", row)?;
            sqlx::query!(
                "UPDATE wallet_history SET sealed = $1 WHERE id = $2",
                sealed,
                row.id
            )
            .execute(&mut *tx)
            .await?;
        }
        let (kdf, check) = (
            json(&derivation)?,
            json(&new_key.seal(CHECK, "dojang-wallet/check")?)?,
        );
        sqlx::query!(
            "UPDATE wallet_meta SET kdf = $1, check_value = $2 WHERE id = 1",
            kdf,
            check
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.key = new_key;
        Ok(())
    }

    // ---- for the backup

    pub(crate) async fn key_records(&self) -> Result<Vec<(String, KeyRecord)>, WalletError> {
        let rows = sqlx::query_as!(
            SealedRow,
            r#"SELECT id AS "id!", sealed FROM wallet_keys ORDER BY id"#
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let record = self.unseal("keys", &r.id, &r.sealed)?;
                Ok((r.id, record))
            })
            .collect()
    }

    /// Adds what is not here yet, all in one transaction; returns how many credentials were new.
    pub(crate) async fn merge(
        &self,
        keys: &[(String, KeyRecord)],
        credentials: &[StoredCredential],
        history: &[HistoryEntry],
    ) -> Result<usize, WalletError> {
        let mut tx = self.pool.begin().await?;
        for (id, record) in keys {
            let (sealed, created_at) = (self.seal("keys", id, record)?, now());
            sqlx::query!(
                "INSERT INTO wallet_keys (id, sealed, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
                id,
                sealed,
                created_at,
            )
            .execute(&mut *tx)
            .await?;
        }
        let mut added = 0;
        for credential in credentials {
            let sealed = self.seal("credentials", &credential.id, credential)?;
            added += sqlx::query!(
                "INSERT INTO wallet_credentials (id, sealed, received_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
                credential.id,
                sealed,
                credential.received_at,
            )
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
        }
        for entry in history {
            self.put_history(entry, &mut *tx).await?;
        }
        tx.commit().await?;
        Ok(added)
    }
}

impl StoredCredential {
    /// Its line in `list`.
    pub fn summary(&self) -> CredentialSummary {
        let mut formats = Vec::new();
        if self.sd_jwt.is_some() {
            formats.push(dojang_core::sd_jwt::vc::TYP);
        }
        if self.compact.is_some() {
            formats.push(compact::FORMAT);
        }
        if self.mdoc.is_some() {
            formats.push(dojang_core::oid4vp::MSO_MDOC);
        }
        CredentialSummary {
            id: self.id.clone(),
            name: self.name.clone().unwrap_or_else(|| self.vct.clone()),
            issuer: self
                .issuer_name
                .clone()
                .unwrap_or_else(|| self.issuer.clone()),
            formats,
            received_at: self.received_at,
            status: self
                .status
                .as_ref()
                .map(|s| (s.status.clone(), s.fetched_at)),
        }
    }

    /// When it expires (Unix seconds), if it does: from the compact form, else the SD-JWT VC's
    /// `exp`.
    pub fn valid_until(&self) -> Option<i64> {
        if let Some(compact) = &self.compact {
            let bytes = b64::decode(compact).ok()?;
            return HeldCompact::parse(&bytes).ok()?.valid_until();
        }
        let held = dojang_core::sd_jwt::HeldSdJwt::parse(self.sd_jwt.as_deref()?).ok()?;
        held.claims().get("exp").and_then(serde_json::Value::as_i64)
    }

    /// Every claim, and which ones the holder may keep back, from the compact form (or the
    /// SD-JWT VC): what `show` previews.
    pub fn claims(
        &self,
    ) -> Result<(serde_json::Map<String, serde_json::Value>, Vec<String>), WalletError> {
        if let Some(compact) = &self.compact {
            let bytes = b64::decode(compact).map_err(|_| WalletError::Corrupt {
                reason: format!("credential {}: compact form is not base64url", self.id),
            })?;
            let held = HeldCompact::parse(&bytes)?;
            let disclosable = held.disclosable().into_iter().map(str::to_owned).collect();
            return Ok((held.claims().clone(), disclosable));
        }
        let sd_jwt = self
            .sd_jwt
            .as_deref()
            .ok_or_else(|| WalletError::MissingFormat {
                id: self.id.clone(),
                format: dojang_core::sd_jwt::vc::TYP,
            })?;
        let held = dojang_core::sd_jwt::HeldSdJwt::parse(sd_jwt)?;
        let disclosable = held
            .disclosable_paths()
            .iter()
            .map(|p| p.to_string())
            .collect();
        Ok((held.claims().clone(), disclosable))
    }
}

/// A sealed row: its id, and the sealed value bound to it.
struct SealedRow {
    id: String,
    sealed: String,
}

/// Opens (or, with `create`, creates) the wallet file and brings its schema up to date.
///
/// WAL mode with `synchronous = FULL`: an acknowledged write survives a crash of the app or
/// the phone. Any failure here means the file is not a usable wallet.
async fn connect(path: &Path, create: bool) -> Result<SqlitePool, WalletError> {
    refuse_foreign_file(path)?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(corrupt)?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| WalletError::Corrupt {
            reason: e.to_string(),
        })?;
    Ok(pool)
}

/// Refuses an existing, non-empty file that does not start with SQLite's header, before
/// SQLite (and the pool, which would retry for its whole acquire timeout) sees it.
fn refuse_foreign_file(path: &Path) -> Result<(), WalletError> {
    use std::io::Read as _;
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(()); // missing: SQLite creates it, or says it is missing
    };
    let mut header = [0u8; 16];
    match file.read(&mut header) {
        Ok(0) => Ok(()),
        Ok(16) if &header == b"SQLite format 3\0" => Ok(()),
        _ => Err(WalletError::Corrupt {
            reason: format!("{} is not an SQLite database", path.display()),
        }),
    }
}

fn corrupt(e: sqlx::Error) -> WalletError {
    WalletError::Corrupt {
        reason: e.to_string(),
    }
}

fn purpose(table: &str, id: &str) -> String {
    format!("dojang-wallet/{table}/{id}")
}

fn json<T: Serialize>(value: &T) -> Result<String, WalletError> {
    serde_json::to_string(value).map_err(|e| WalletError::Corrupt {
        reason: e.to_string(),
    })
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, WalletError> {
    serde_json::from_str(text).map_err(|e| WalletError::Corrupt {
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::MIGRATOR;

    /// Wallets created before the wallet had its own migrations folder recorded this version
    /// and checksum (SHA-384 of the SQL); a different pair would refuse to open them.
    #[test]
    fn the_schema_is_the_one_existing_wallets_have() {
        let applied: Vec<(i64, String)> = MIGRATOR
            .iter()
            .map(|m| {
                let hex = m.checksum.iter().map(|b| format!("{b:02x}")).collect();
                (m.version, hex)
            })
            .collect();
        assert_eq!(
            applied,
            [(
                3001,
                "064e26024158545aa63f2ade443989425c031ec3c6cf7bf139a27adb1230a3be\
                 1d246739eb03b423f9520b93af2fbe3e"
                    .to_owned()
            )]
        );
    }
}
