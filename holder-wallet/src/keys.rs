//! Holder keys: sealed in the wallet, or held by a [`KeyVault`].

use dojang_core::b64;
use dojang_core::key::{Algorithm, SecretKey, Signer};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::WalletError;

/// Where a credential's holder key is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HolderKeyRef {
    /// Sealed in the wallet file.
    Stored {
        /// Row id.
        id: String,
        /// The key as a `did:jwk`.
        did: String,
    },
    /// Held by a key vault (a secure element); the wallet knows only the handle.
    Vault {
        /// The vault's handle.
        handle: String,
        /// The key as a `did:jwk`.
        did: String,
    },
}

impl HolderKeyRef {
    /// The key's `did:jwk`.
    pub fn did(&self) -> &str {
        match self {
            HolderKeyRef::Stored { did, .. } | HolderKeyRef::Vault { did, .. } => did,
        }
    }
}

/// Keys held outside the wallet file — a phone's secure element, an HSM. The private key never
/// leaves it; the wallet asks it for a [`Signer`] when a proof or presentation needs one.
pub trait KeyVault: Send + Sync {
    /// Creates a key of `alg` and returns its reference ([`HolderKeyRef::Vault`]).
    fn create(&self, alg: Algorithm) -> Result<HolderKeyRef, WalletError>;
    /// The signer for the key `handle`, recorded at creation as `did` (its `did:jwk`, so a
    /// vault that hands out only signatures need not be asked for the public key again).
    fn signer(&self, handle: &str, did: &str) -> Result<Box<dyn Signer>, WalletError>;
}

/// A stored key's sealed contents.
#[derive(Serialize, Deserialize)]
pub(crate) struct KeyRecord {
    alg: Algorithm,
    /// base64url secret scalar / seed.
    secret: Zeroizing<String>,
}

impl KeyRecord {
    pub(crate) fn new(key: &SecretKey) -> Self {
        KeyRecord {
            alg: key.algorithm(),
            secret: Zeroizing::new(b64::encode(key.secret_bytes().as_ref())),
        }
    }

    pub(crate) fn secret_key(&self) -> Result<SecretKey, WalletError> {
        let bytes =
            Zeroizing::new(b64::decode(&self.secret).map_err(|_| WalletError::Corrupt {
                reason: "a holder key is not base64url".into(),
            })?);
        Ok(SecretKey::from_bytes(self.alg, &bytes)?)
    }
}
