//! Encrypted backups: everything in the wallet, sealed under a passphrase of the citizen's
//! choosing, to restore on another device.

use dojang_core::seal::{KdfParams, PassphraseSealed};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::keys::KeyRecord;
use crate::store::{HistoryEntry, StoredCredential, now};
use crate::{Wallet, WalletError};

/// The `format` of a backup file.
const FORMAT: &str = "dojang-wallet-backup/1";
const PURPOSE: &str = "dojang-wallet-backup";
/// Largest backup file read.
const MAX_BACKUP_LEN: usize = 64 << 20;

#[derive(Serialize, Deserialize)]
struct BackupFile {
    format: String,
    created_at: i64,
    #[serde(flatten)]
    sealed: PassphraseSealed,
}

#[derive(Serialize, Deserialize)]
struct Contents {
    keys: Vec<(String, KeyRecord)>,
    credentials: Vec<StoredCredential>,
    history: Vec<HistoryEntry>,
}

impl Wallet {
    /// A backup file of every key (sealed here; keys in a [`crate::KeyVault`] stay there),
    /// credential and history entry, sealed under `passphrase`.
    pub async fn export_backup(
        &self,
        passphrase: &[u8],
        params: KdfParams,
    ) -> Result<Vec<u8>, WalletError> {
        let contents = Contents {
            keys: self.key_records().await?,
            credentials: self.credentials().await?,
            history: self.history(None).await?,
        };
        let plain =
            Zeroizing::new(
                serde_json::to_vec(&contents).map_err(|e| WalletError::Backup {
                    reason: e.to_string(),
                })?,
            );
        let file = BackupFile {
            format: FORMAT.into(),
            created_at: now(),
            sealed: PassphraseSealed::seal(&plain, passphrase, PURPOSE, params)?,
        };
        serde_json::to_vec_pretty(&file).map_err(|e| WalletError::Backup {
            reason: e.to_string(),
        })
    }

    /// Restores a backup into this wallet: what is already here stays, what is new is added, all
    /// in one transaction. Returns how many credentials were added.
    pub async fn import_backup(
        &self,
        bytes: &[u8],
        passphrase: &[u8],
    ) -> Result<usize, WalletError> {
        if bytes.len() > MAX_BACKUP_LEN {
            return Err(WalletError::Backup {
                reason: format!("the file is larger than {MAX_BACKUP_LEN} bytes"),
            });
        }
        let file: BackupFile = serde_json::from_slice(bytes).map_err(|_| WalletError::Backup {
            reason: "not a dojang wallet backup".into(),
        })?;
        if file.format != FORMAT {
            return Err(WalletError::Backup {
                reason: format!("backup format `{}` is not supported", file.format),
            });
        }
        let plain = file
            .sealed
            .open(passphrase, PURPOSE)
            .map_err(|_| WalletError::Backup {
                reason: "wrong passphrase, or the file was altered".into(),
            })?;
        let contents: Contents =
            serde_json::from_slice(&plain).map_err(|e| WalletError::Backup {
                reason: e.to_string(),
            })?;
        self.merge(&contents.keys, &contents.credentials, &contents.history)
            .await
    }
}
