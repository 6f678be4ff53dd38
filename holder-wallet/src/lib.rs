//! `dojang-wallet`: the holder's library a mobile wallet embeds, and `dojang wallet` uses.
//!
//! - [`Wallet`]: the encrypted store. One SQLite file; every key, credential and history entry is
//!   sealed (XChaCha20-Poly1305) under a key derived with Argon2id from the app's secret, and
//!   bound to its table and row, so rows cannot be swapped. A wrong secret and a damaged file
//!   are different, clear errors; every change is one SQLite transaction, so an interrupted
//!   write loses nothing that was stored before.
//! - Holder keys: ES256 or EdDSA, one per credential by default (two credentials cannot be
//!   linked by their keys), identified as `did:jwk`. A [`KeyVault`] can hold them instead — a
//!   phone's secure element — with the wallet keeping only a handle.
//! - [`receive`]: an OpenID4VCI client for the pre-authorized code flow (offer as URI or QR
//!   image, transaction code, key proof), storing every format on offer: the SD-JWT VC and the
//!   compact QR credential.
//! - [`Wallet::present_qr`]: the offline QR presentation (`docs/qr-profile.md`) of the claims
//!   the citizen chose, in time-window or challenge mode, as base45 text, PNG, SVG or terminal
//!   art ([`qr`], from `dojang-core`).
//! - [`openid4vp`]: answering a verifier's OpenID4VP request (DCQL) with an SD-JWT VC
//!   presentation and key binding.
//! - [`Wallet::export_backup`] / [`Wallet::import_backup`]: an encrypted backup file for
//!   another device, under its own passphrase.
//!
//! The library depends on `dojang-core` and no dojang server: it speaks the open protocols to
//! any issuer and verifier.
#![forbid(unsafe_code)]

mod backup;
mod keys;
pub mod openid4vp;
pub mod receive;
mod store;

pub use dojang_core::qr;
pub use keys::{HolderKeyRef, KeyVault};
pub use store::{
    CredentialSummary, HistoryEntry, PresentationMode, StatusSnapshot, StoredCredential, Wallet,
};

use dojang_core::seal::SealError;

/// Why a wallet operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// The secret does not open this wallet. Nothing was changed.
    #[error("wrong secret: this wallet cannot be opened with it (nothing was changed)")]
    WrongSecret,
    /// There is no wallet at the path.
    #[error("no wallet at {path}: create one first (`dojang wallet init`)")]
    NotFound {
        /// The path.
        path: String,
    },
    /// A wallet already exists at the path.
    #[error("a wallet already exists at {path}")]
    AlreadyExists {
        /// The path.
        path: String,
    },
    /// The file is not a wallet, or it is damaged.
    #[error("the wallet file is damaged or not a wallet: {reason}")]
    Corrupt {
        /// What is wrong.
        reason: String,
    },
    /// No credential (or key) with this id.
    #[error("no credential `{id}` in this wallet")]
    UnknownCredential {
        /// The id.
        id: String,
    },
    /// The credential has no form the operation needs (e.g. no compact credential for a QR).
    #[error("credential `{id}` has no {format} form")]
    MissingFormat {
        /// The credential.
        id: String,
        /// The format wanted.
        format: &'static str,
    },
    /// A backup file could not be read.
    #[error("backup: {reason}")]
    Backup {
        /// What is wrong.
        reason: String,
    },
    /// The issuer or verifier refused, or answered something unusable.
    #[error("{0}")]
    Protocol(String),
    /// A credential operation failed.
    #[error(transparent)]
    Credential(#[from] dojang_core::compact::CompactError),
    /// An SD-JWT operation failed.
    #[error(transparent)]
    SdJwt(#[from] dojang_core::sd_jwt::SdJwtError),
    /// A key operation failed.
    #[error(transparent)]
    Key(#[from] dojang_core::key::KeyError),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] dojang_core::key::SignError),
    /// HTTP failed.
    #[error("network: {0}")]
    Http(#[from] reqwest::Error),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A QR code could not be drawn or read.
    #[error(transparent)]
    Qr(#[from] dojang_core::qr::QrError),
}

impl From<SealError> for WalletError {
    fn from(e: SealError) -> Self {
        match e {
            SealError::WrongKeyOrCorrupted => WalletError::Corrupt {
                reason: "a record does not decrypt: it was altered".into(),
            },
            other => WalletError::Corrupt {
                reason: other.to_string(),
            },
        }
    }
}
