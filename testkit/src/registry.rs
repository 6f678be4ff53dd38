//! A registry for other services' tests: on a fresh SQLite file, keys sealed with the cheap
//! test KDF.

use std::path::Path;

use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::seal::{KdfParams, PassphraseSealed};
use dojang_ledger::note::{NoteSigner, TYPE_ED25519};
use dojang_registry::service::{Registry, RegistryConfig};

/// The passphrase a test registry's keys are sealed under.
pub const PASSPHRASE: &str = "test passphrase";

/// The configuration of a test registry of the log `origin` on `database_url`.
pub fn config(database_url: &str, origin: &str) -> RegistryConfig {
    RegistryConfig {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        ..RegistryConfig::new(database_url, origin, PASSPHRASE)
    }
}

/// A registry of the log `origin` on a new SQLite file `registry.db` in `dir`.
#[allow(clippy::unwrap_used)]
pub async fn open(dir: &Path, origin: &str) -> Registry {
    let url = format!("sqlite://{}", dir.join("registry.db").display());
    Registry::open(config(&url, origin)).await.unwrap()
}

/// A test registry's log signer, unsealed from its SQLite database at `database_url` with
/// [`PASSPHRASE`]: what an attacker holding the registry's key could sign (forks, forged
/// checkpoints).
#[allow(clippy::unwrap_used)]
pub async fn log_signer(database_url: &str, origin: &str) -> NoteSigner {
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(database_url).await.unwrap();
    let (sealed,): (String,) =
        sqlx::query_as("SELECT sealed FROM registry_keys WHERE name = 'log'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let sealed: PassphraseSealed = serde_json::from_str(&sealed).unwrap();
    let secret = sealed
        .open(PASSPHRASE.as_bytes(), "dojang-registry-log-key")
        .unwrap();
    let key = SecretKey::from_bytes(Algorithm::EdDsa, &secret).unwrap();
    NoteSigner::new(origin, TYPE_ED25519, key).unwrap()
}
