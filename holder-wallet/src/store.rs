//! The encrypted store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) use dojang_core::clock::unix_now as now;
use dojang_core::compact::{self, Binding, ChallengeRequest, HeldCompact};
use dojang_core::key::{Algorithm, SecretKey, Signer};
use dojang_core::seal::{KdfParams, KeyDerivation, SealKey, Sealed};
use dojang_core::{b64, did};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};
use zeroize::Zeroizing;

use crate::WalletError;
use crate::keys::{HolderKeyRef, KeyRecord, KeyVault};

/// What the check value decrypts to.
const CHECK: &[u8] = b"dojang wallet v1";

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
    pool: AnyPool,
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
        let pool = connect(path).await?;
        let derivation = KeyDerivation::new(params)?;
        let key = SealKey::derive(secret, &derivation)?;
        let check = key.seal(CHECK, "dojang-wallet/check")?;
        sqlx::query(
            "INSERT INTO wallet_meta (id, kdf, check_value, created_at) VALUES (1, $1, $2, $3)",
        )
        .bind(json(&derivation)?)
        .bind(json(&check)?)
        .bind(now())
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
        let pool = connect(path).await?;
        let row = sqlx::query("SELECT kdf, check_value FROM wallet_meta WHERE id = 1")
            .fetch_optional(&pool)
            .await
            .map_err(corrupt)?
            .ok_or_else(|| WalletError::Corrupt {
                reason: "the file has no wallet header".into(),
            })?;
        let derivation: KeyDerivation = parse(&row.try_get::<String, _>("kdf")?)?;
        let check: Sealed = parse(&row.try_get::<String, _>("check_value")?)?;
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
        let record = KeyRecord::new(&secret);
        sqlx::query("INSERT INTO wallet_keys (id, sealed, created_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(self.seal("keys", &id, &record)?)
            .bind(now())
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
                let row = sqlx::query("SELECT sealed FROM wallet_keys WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| WalletError::Corrupt {
                        reason: format!("holder key {id} is missing"),
                    })?;
                let record: KeyRecord =
                    self.unseal("keys", id, &row.try_get::<String, _>("sealed")?)?;
                Ok(Box::new(record.secret_key()?))
            }
            HolderKeyRef::Vault { handle, .. } => match &self.vault {
                Some(vault) => vault.signer(handle),
                None => Err(WalletError::Protocol(format!(
                    "holder key {handle} lives in a key vault this wallet was not opened with"
                ))),
            },
        }
    }

    // ---- credentials

    /// Stores (or replaces) a credential.
    pub async fn put(&self, credential: &StoredCredential) -> Result<(), WalletError> {
        sqlx::query(
            "INSERT INTO wallet_credentials (id, sealed, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed",
        )
        .bind(&credential.id)
        .bind(self.seal("credentials", &credential.id, credential)?)
        .bind(credential.received_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A stored credential.
    pub async fn credential(&self, id: &str) -> Result<StoredCredential, WalletError> {
        let row = sqlx::query("SELECT sealed FROM wallet_credentials WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| WalletError::UnknownCredential { id: id.to_owned() })?;
        self.unseal("credentials", id, &row.try_get::<String, _>("sealed")?)
    }

    /// Every stored credential, oldest first.
    pub async fn credentials(&self) -> Result<Vec<StoredCredential>, WalletError> {
        let rows =
            sqlx::query("SELECT id, sealed FROM wallet_credentials ORDER BY received_at, id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                self.unseal(
                    "credentials",
                    &r.try_get::<String, _>("id")?,
                    &r.try_get::<String, _>("sealed")?,
                )
            })
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
        sqlx::query("DELETE FROM wallet_credentials WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM wallet_history WHERE credential_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let (HolderKeyRef::Stored { id: key_id, .. }, false) = (&credential.key, shared_key) {
            sqlx::query("DELETE FROM wallet_keys WHERE id = $1")
                .bind(key_id)
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
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        sqlx::query(
            "INSERT INTO wallet_history (id, credential_id, sealed, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&entry.id)
        .bind(&entry.credential_id)
        .bind(self.seal("history", &entry.id, entry)?)
        .bind(entry.at)
        .execute(executor)
        .await?;
        Ok(())
    }

    /// What was shown, newest first; of one credential or of all.
    pub async fn history(
        &self,
        credential_id: Option<&str>,
    ) -> Result<Vec<HistoryEntry>, WalletError> {
        let rows = sqlx::query(
            "SELECT id, sealed FROM wallet_history WHERE $1 IS NULL OR credential_id = $1 ORDER BY at DESC, id",
        )
        .bind(credential_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                self.unseal(
                    "history",
                    &r.try_get::<String, _>("id")?,
                    &r.try_get::<String, _>("sealed")?,
                )
            })
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
        let mut tx = self.pool.begin().await?;
        for table in ["keys", "credentials", "history"] {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, sealed FROM wallet_{table}"
            )))
            .fetch_all(&mut *tx)
            .await?;
            for row in rows {
                let id: String = row.try_get("id")?;
                let sealed: Sealed = parse(&row.try_get::<String, _>("sealed")?)?;
                let plain = self.key.open(&sealed, &purpose(table, &id))?;
                let resealed = json(&new_key.seal(&plain, &purpose(table, &id))?)?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE wallet_{table} SET sealed = $1 WHERE id = $2"
                )))
                .bind(resealed)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            }
        }
        let check = new_key.seal(CHECK, "dojang-wallet/check")?;
        sqlx::query("UPDATE wallet_meta SET kdf = $1, check_value = $2 WHERE id = 1")
            .bind(json(&derivation)?)
            .bind(json(&check)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.key = new_key;
        Ok(())
    }

    // ---- for the backup

    pub(crate) async fn key_records(&self) -> Result<Vec<(String, KeyRecord)>, WalletError> {
        let rows = sqlx::query("SELECT id, sealed FROM wallet_keys ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let record = self.unseal("keys", &id, &r.try_get::<String, _>("sealed")?)?;
                Ok((id, record))
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
            sqlx::query("INSERT INTO wallet_keys (id, sealed, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
                .bind(id)
                .bind(self.seal("keys", id, record)?)
                .bind(now())
                .execute(&mut *tx)
                .await?;
        }
        let mut added = 0;
        for credential in credentials {
            added += sqlx::query(
                "INSERT INTO wallet_credentials (id, sealed, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&credential.id)
            .bind(self.seal("credentials", &credential.id, credential)?)
            .bind(credential.received_at)
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

async fn connect(path: &Path) -> Result<AnyPool, WalletError> {
    let url = format!("sqlite://{}", path.display());
    let (pool, _) = dojang_migrations::open(&url, dojang_migrations::Service::Wallet)
        .await
        .map_err(|e| WalletError::Corrupt {
            reason: e.to_string(),
        })?;
    Ok(pool)
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
