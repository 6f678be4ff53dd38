//! A registry for other services' tests: on a fresh SQLite file, keys sealed with the cheap
//! test KDF.

use std::path::Path;

use dojang_core::seal::KdfParams;
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
